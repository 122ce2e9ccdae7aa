-- config.lua: nodes read ctx.config; they cannot change it.
local og = require("opsgraph")
local g = og.graph{ name = "config", state = { out = og.append() } }
g:node("read", function(s, ctx)
  local svc = ctx.config.services and ctx.config.services["payment-service"]
  local ok, err = pcall(function() ctx.config.services["payment-service"].prometheus = "x" end)
  local n = 0
  for _ in pairs(ctx.config.services or {}) do n = n + 1 end
  return { out = { svc and svc.prometheus or "none", tostring(ok), tostring(err):match("read%-only") or tostring(err), tostring(n),
                   tostring(#(ctx.config.list or {})) } }
end)
g:edge(og.START, "read")
return g
