-- proj/nodes/greet.lua: a node module under a fixture project's nodes/.
local M = {}
function M.hello(who) return "hello, " .. who end
return M
