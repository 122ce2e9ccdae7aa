-- bad_channel.lua: a state entry that is not a channel (line 3).
local og = require("opsgraph")
local g = og.graph{ name = "bad_channel", state = { x = 5 } }
return g
