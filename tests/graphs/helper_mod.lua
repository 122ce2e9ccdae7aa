-- helper_mod.lua: a module next to the graph files, loaded with
-- require("helper_mod") from the graph's own directory.
local M = {}

function M.shout(s) return string.upper(s) .. "!" end

return M
