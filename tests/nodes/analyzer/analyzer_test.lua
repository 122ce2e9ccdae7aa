-- tests/nodes/analyzer/analyzer_test.lua: runs the built-in analyzer
-- (nodes/lib/builtin_analyzer.lua) on one fixture of examples/contexts/ and
-- writes what it returned into the state, for tests/cli/nodes_analyzer.sh.
--
-- Run from the project root (the graph's directory is not named graphs/,
-- so require("nodes.lib...") resolves against the current directory):
--   bin/opsgraph run tests/nodes/analyzer/analyzer_test.lua --db :memory: \
--       --input @examples/contexts/db_pool_exhaustion.json --output json
--
-- `same` checks determinism inside one process: the analyzer runs a second
-- time on deep copies of its inputs whose keys were inserted in reverse
-- order (with extra keys added and removed, to change the hash layout), and
-- both answers are serialized with sorted keys and compared.
local og = require("opsgraph")
local analyzer = require("nodes.lib.builtin_analyzer")

local g = og.graph{ name = "analyzer_test", state = {
  alert = og.last(), context = og.last(), opts = og.last(), expect = og.last(),
  rca = og.last(), candidates = og.last(), signatures = og.last(), same = og.last(false),
} }

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  return ks
end

local function rev_copy(v)
  if type(v) ~= "table" then return v end
  local out, ks = {}, sorted_keys(v)
  for i = 1, 40 do out["~pad" .. i] = i end
  for i = #ks, 1, -1 do
    local k = ks[i]
    if type(k) == "string" then out[k] = rev_copy(v[k]) end
  end
  for i = 1, #v do out[i] = rev_copy(v[i]) end
  for i = 1, 40 do out["~pad" .. i] = nil end
  return out
end

local function canon(v)
  local t = type(v)
  if t == "table" then
    local parts = {}
    for _, k in ipairs(sorted_keys(v)) do parts[#parts + 1] = tostring(k) .. "=" .. canon(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return string.format("%q", v)
  elseif t == "number" then
    return string.format("%.17g", v)
  end
  return tostring(v)
end

g:node("analyze", function(s)
  local opts = s.opts or {}
  local rca, cands = analyzer.analyze(s.alert, s.context, opts)
  local rca2, cands2 = analyzer.analyze(rev_copy(s.alert), rev_copy(s.context), rev_copy(opts))
  return {
    rca = rca,
    candidates = og.array(cands),
    signatures = analyzer.signatures(),
    same = canon(rca) == canon(rca2) and canon(cands) == canon(cands2),
  }
end)
g:edge(og.START, "analyze")
return g
