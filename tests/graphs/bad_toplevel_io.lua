-- bad_toplevel_io.lua: the sandbox applies to the graph file itself (line 3).
local og = require("opsgraph")
local secret = io.open("/etc/passwd")
return og.graph{ name = "bad_toplevel_io", state = {} }
