-- nodes/lib/past_incidents.lua: what finished incidents say about this one.
--
-- context_collector asks the engine for the past incidents most like this
-- one and keeps them in context.similar (M.similar); root_cause_analyzer
-- then lets them reorder its candidates and adds the lesson to the rca's
-- evidence (M.apply), for the built-in analyzer's answer and the LLM's alike.
--
--   local past = require("nodes.lib.past_incidents")
--   context.similar, note = past.similar(state, ctx)   -- at most 3, best first
--   rca, candidates = past.apply(rca, candidates, context.similar)
--
-- The ranking is the engine's (ctx.incidents.similar, engine/report/similar.h):
-- BM25 over each finished incident's root cause and alert text, plus boosts
-- for the same service, analyzer signature, alert name and other equal
-- labels. An entry of context.similar is
--   {thread_id, score, service, signature, root_cause, ended_at,
--    action{choice, id?, title?, tools[]?}, outcome, fixed}
-- where outcome is "recovered" (fixed = true: verify_recovery saw the signal
-- recover after the action), "rolled_back", "not_recovered", "action_failed",
-- "manual" or "resolved" (engine/report/incident_index.h).
--
-- apply: for past incidents of the same signature (the rca's, or the
-- built-in analyzer's under an LLM answer),
--   * an action that fixed it: the candidate running the same tools goes
--     first, its description says "Last time ... fixed", and the evidence
--     gets "past incident T (date): action "X" fixed the same signature";
--   * an action that did not: that candidate goes last, and the evidence
--     says so.
-- rca.past lists the past incidents used: {thread_id, action, outcome, fixed}.
local array = function(t) return t end
do
  local ok, og = pcall(require, "opsgraph")	-- plain Lua (tests) has no opsgraph module
  if ok and type(og) == "table" and type(og.array) == "function" then array = og.array end
end

local M = {}
M.LIMIT = 3

local function str(v) return type(v) == "string" and v ~= "" and v or nil end

-- the query: this alert's service, labels and words, and on a re-analysis
-- the previous root cause, signature and the operator's hint
function M.query(state)
  local alert = type(state.alert) == "table" and state.alert or {}
  local rca = type(state.rca) == "table" and state.rca or {}
  local words = {}
  for _, w in ipairs({ alert.summary, alert.description, alert.name, rca.root_cause, state.operator_hint }) do
    if str(w) then words[#words + 1] = w end
  end
  local labels = {}
  for k, v in pairs(type(alert.labels) == "table" and alert.labels or {}) do
    if type(v) == "string" then labels[k] = v end
  end
  return { service = str(alert.service), labels = labels, text = table.concat(words, " "),
           signature = str(rca.signature) ~= "none" and str(rca.signature) or nil, limit = M.LIMIT }
end

local function cut(s, n)
  if type(s) ~= "string" or #s <= n then return s end
  return s:sub(1, n - 3) .. "..."
end

-- context.similar (compact: the token budget) and a note when the engine
-- could not answer
function M.similar(state, ctx)
  if type(ctx.incidents) ~= "table" then return array{}, nil end
  local ok, r, err = pcall(ctx.incidents.similar, M.query(state))
  if not ok or type(r) ~= "table" then
    return array{}, ("similar incidents: %s; continuing without them"):format(tostring(ok and err or r))
  end
  local out = {}
  for _, e in ipairs(r) do
    local a = type(e.action) == "table" and e.action or {}
    out[#out + 1] = { thread_id = e.thread_id, score = e.score, service = e.service, signature = e.signature,
                      root_cause = cut(e.root_cause, 200), ended_at = e.ended_at, outcome = e.outcome,
                      fixed = e.fixed == true,
                      action = { choice = a.choice, id = a.id, title = a.title, tools = a.tools } }
  end
  return array(out), nil
end

local function tool_names(list, field)
  local names = {}
  for _, t in ipairs(type(list) == "table" and list or {}) do
    local n = field and type(t) == "table" and t[field] or t
    if type(n) == "string" then names[#names + 1] = n end
  end
  table.sort(names)
  return table.concat(names, ",")
end

local function day(iso) return type(iso) == "string" and iso:sub(1, 10) or "?" end

function M.apply(rca, cands, similar)
  if type(similar) ~= "table" or type(rca) ~= "table" then return rca, cands end
  local sig = str(rca.signature) or (type(rca.builtin) == "table" and str(rca.builtin.signature)) or nil
  if not sig or sig == "none" then return rca, cands end
  cands = type(cands) == "table" and cands or {}
  local evidence = type(rca.evidence) == "table" and rca.evidence or {}
  local used, first, last = {}, {}, {}
  for _, p in ipairs(similar) do
    local a = type(p.action) == "table" and p.action or {}
    local want = tool_names(a.tools)
    if p.signature == sig and str(a.title) and want ~= "" then
      local line = ("past incident %s (%s): action \"%s\" %s"):format(tostring(p.thread_id), day(p.ended_at),
        a.title, p.fixed and "fixed the same signature (verified recovered)"
        or ("did not fix the same signature (" .. tostring(p.outcome) .. ")"))
      evidence[#evidence + 1] = line
      used[#used + 1] = { thread_id = p.thread_id, action = a.title, outcome = p.outcome, fixed = p.fixed == true }
      for i, c in ipairs(cands) do
        if type(c) == "table" and tool_names(c.tools, "name") == want then
          if p.fixed and not first[i] and not last[i] then
            first[i] = true
            c.description = (c.description or "") .. (" Last time (incident %s, %s) this action fixed the same %s "
              .. "signature."):format(tostring(p.thread_id), day(p.ended_at), sig)
          elseif not p.fixed and not first[i] then
            last[i] = true
            c.description = (c.description or "") .. (" In incident %s (%s) it did not fix the same signature (%s)."):
              format(tostring(p.thread_id), day(p.ended_at), tostring(p.outcome))
          end
        end
      end
    end
  end
  if #used == 0 then return rca, cands end
  -- a fix that worked first, a fix that did not last; the rest keep their order
  local out = {}
  for i, c in ipairs(cands) do if first[i] then out[#out + 1] = c end end
  for i, c in ipairs(cands) do if not first[i] and not last[i] then out[#out + 1] = c end end
  for i, c in ipairs(cands) do if last[i] then out[#out + 1] = c end end
  rca.evidence = array(evidence)
  rca.past = array(used)
  return rca, out
end

return M
