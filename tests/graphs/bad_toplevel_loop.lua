-- bad_toplevel_loop.lua: an endless loop while the graph file loads.
local og = require("opsgraph")
while true do end
