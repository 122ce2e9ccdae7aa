-- bad_mod.lua: a module that reaches for io at load time.
local f = io.open("/etc/passwd")
return {}
