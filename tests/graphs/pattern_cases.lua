-- pattern_cases.lua: conformance cases for string.find/match/gmatch/gsub
-- (lpattern.c) and string.rep (lstrrep.c).
-- Returns run(S): runs every case with the string library S and returns one
-- line per case, "name => results" (each value as type:value, errors as
-- false,string:message). test_lua.c runs it twice: in a node (graph
-- pattern_conf.lua, where S is the sandbox's budgeted library of lpattern.c)
-- and in a plain lua_State with Lua's own string library; the lines must be
-- equal. Cases call S.fn(...) the same way on both sides, so even the
-- "bad argument #n to 'fn'" messages compare equal.

local function all(S, s, p, init)
  local out = {}
  for a, b, c in S.gmatch(s, p, init) do
    out[#out + 1] = tostring(a) .. "/" .. tostring(b) .. "/" .. tostring(c)
  end
  return table.concat(out, " "), #out
end

local cases = {
  -- find: plain, init, plain flag
  { "find plain", function(S) return S.find("hello world", "wor") end },
  { "find plain miss", function(S) return S.find("hello world", "xyz") end },
  { "find empty pattern", function(S) return S.find("abc", "") end },
  { "find empty pattern at end", function(S) return S.find("abc", "", 4) end },
  { "find init past end+1", function(S) return S.find("abc", "", 5) end },
  { "find init positive", function(S) return S.find("abcabc", "b", 3) end },
  { "find init negative", function(S) return S.find("abcabc", "b", -2) end },
  { "find init negative clipped", function(S) return S.find("abcabc", "a", -100) end },
  { "find init zero", function(S) return S.find("abc", "a", 0) end },
  { "find plain flag with specials", function(S) return S.find("a+b(c)", "+b(", 1, true) end },
  { "find plain flag miss", function(S) return S.find("a.b", ".b.", 1, true) end },
  { "find specials without plain", function(S) return S.find("a+b", "a+b") end },
  { "find captures", function(S) return S.find("key = value", "(%w+)%s*=%s*(%w+)") end },
  { "find position captures", function(S) return S.find("hello", "()ll()") end },
  { "find number subject", function(S) return S.find(123456, 34) end },
  { "find embedded zero plain", function(S) return S.find("a\0b\0c", "\0c") end },
  { "find plain long needle", function(S) return S.find(string.rep("ab", 100) .. "abc", string.rep("ab", 40) .. "c", 1, true) end },

  -- match: classes
  { "match %a+", function(S) return S.match("  hello123 ", "%a+") end },
  { "match %d+", function(S) return S.match("abc 2024-01-15", "%d+") end },
  { "match %l %u", function(S) return S.match("abcDEFghi", "%l+(%u+)%l") end },
  { "match %s %S", function(S) return S.match("one \t\ntwo", "%S+(%s+)%S+") end },
  { "match %w %W", function(S) return S.match("foo_bar-baz", "(%w+)(%W+)") end },
  { "match %x", function(S) return S.match("color: #1fA9zz", "#(%x+)") end },
  { "match %p", function(S) return S.match("abc!?.def", "%p+") end },
  { "match %c", function(S) return S.match("a\1\2\3b", "%c+") end },
  { "match %g", function(S) return S.match("  visible  ", "%g+") end },
  { "match %z", function(S) return S.find("ab\0cd", "%z") end },
  { "match escaped magic", function(S) return S.match("price: $4.50 (tax)", "%$(%d+%.%d+) %((%a+)%)") end },
  { "match dot", function(S) return S.match("abc", "a.c") end },
  { "match high bytes", function(S) return S.match("caf\195\169 ok", "[\128-\255]+") end },

  -- sets
  { "set range", function(S) return S.match("xyz123abc", "[a-c]+") end },
  { "set negated", function(S) return S.match("abc123def", "[^%a]+") end },
  { "set with class", function(S) return S.match("id: ab_12-x!", "[%w_%-]+", 5) end },
  { "set close bracket first", function(S) return S.match("a]]b", "[]]+") end },
  { "set escaped bracket", function(S) return S.match("x[]y", "[%[%]]+") end },
  { "set trailing dash", function(S) return S.match("a-b-c", "[b-]+") end },
  { "set caret not first", function(S) return S.match("a^b", "[b^]+") end },

  -- quantifiers
  { "quant * greedy", function(S) return S.match("<a><b>", "<(.*)>") end },
  { "quant - lazy", function(S) return S.match("<a><b>", "<(.-)>") end },
  { "quant + none", function(S) return S.match("abc", "%d+") end },
  { "quant ? present", function(S) return S.match("color colour", "colou?r", 6) end },
  { "quant ? absent", function(S) return S.find("color", "colou?r") end },
  { "quant - empty", function(S) return S.match("abc", "a.-") end },
  { "trim idiom", function(S) return S.match("   padded text   ", "^%s*(.-)%s*$") end },

  -- anchors
  { "anchor ^ hit", function(S) return S.find("hello", "^hel") end },
  { "anchor ^ miss", function(S) return S.find("say hello", "^hel") end },
  { "anchor ^ with init", function(S) return S.find("xxhello", "^hel", 3) end },
  { "anchor $", function(S) return S.match("file.tar.gz", "%.(%w+)$") end },
  { "$ not at end is literal", function(S) return S.match("a$b", "a$b") end },
  { "^ not at start is literal", function(S) return S.match("a^b", "a^b") end },
  { "anchored empty", function(S) return S.find("", "^$") end },

  -- captures
  { "nested captures", function(S) return S.match("2024-01-15", "((%d+)-(%d+))-(%d+)") end },
  { "position capture only", function(S) return S.match("abc", "()") end },
  { "position capture end", function(S) return S.match("abc", "b()") end },
  { "back reference", function(S) return S.match("say \"hi\" or 'yo'", "([\"'])(.-)%1") end },
  { "back reference repeat", function(S) return S.find("abcabcabd", "(abc)%1") end },
  { "back reference to position", function(S) return S.match("aXa", "()X%1") end },
  { "32 captures", function(S) return S.find(string.rep("a", 32), string.rep("(a)", 32)) end },

  -- %b and %f
  { "balance", function(S) return S.match("f(a(b)c) d", "%b()") end },
  { "balance unclosed", function(S) return S.match("f(a(b c", "%b()") end },
  { "balance same delimiters", function(S) return S.match("x|a|b|", "%b||") end },
  { "frontier words", function(S) return S.gsub("THE (quick) fox", "%f[%a]%a+", "W") end },
  { "frontier end", function(S) return S.find("hello", "%f[%z]") end },
  { "frontier at start", function(S) return S.find("abc", "%f[%l]") end },
  { "frontier negated", function(S) return S.gsub("aa bb", "%f[^%s]", "|") end },

  -- gmatch
  { "gmatch words", function(S) return all(S, "one two  three", "%a+") end },
  { "gmatch pairs", function(S) return all(S, "a=1, b=22, c=333", "(%w+)=(%w+)") end },
  { "gmatch empty matches", function(S) return all(S, "abc", "x*") end },
  { "gmatch lastmatch", function(S) return all(S, "baaac", "a*") end },
  { "gmatch init", function(S) return all(S, "one two three", "%a+", 5) end },
  { "gmatch init negative", function(S) return all(S, "one two three", "%a+", -5) end },
  { "gmatch init past end", function(S) return all(S, "abc", ".-", 10) end },
  { "gmatch caret is literal", function(S) return all(S, "a^b^c", "^%a") end },
  { "gmatch position captures", function(S) return all(S, "banana", "()an") end },
  { "gmatch anchored $", function(S) return all(S, "abc", ".$") end },

  -- gsub: string replacement
  { "gsub string", function(S) return S.gsub("hello world", "o", "0") end },
  { "gsub %0", function(S) return S.gsub("hello world", "%w+", "<%0>") end },
  { "gsub %1 swap", function(S) return S.gsub("k=v, a=b", "(%w+)=(%w+)", "%2=%1") end },
  { "gsub %%", function(S) return S.gsub("50", "%d+", "%0%%") end },
  { "gsub position capture in repl", function(S) return S.gsub("abc", "()b", "[%1]") end },
  { "gsub max n", function(S) return S.gsub("a a a a", "a", "b", 2) end },
  { "gsub max n zero", function(S) return S.gsub("aaa", "a", "b", 0) end },
  { "gsub anchored", function(S) return S.gsub("aaa", "^a", "b") end },
  { "gsub empty pattern", function(S) return S.gsub("abc", "", "-") end },
  { "gsub x*", function(S) return S.gsub("abc", "x*", "-") end },
  { "gsub number repl", function(S) return S.gsub("a.b", "%.", 7) end },
  { "gsub no match returns subject", function(S) return S.gsub("abc", "z", "y") end },
  { "gsub repl with %1 and no captures", function(S) return S.gsub("abc", "b", "[%1]") end },
  -- gsub: table and function replacement
  { "gsub table", function(S) return S.gsub("$name is $age", "%$(%w+)", { name = "ann", age = 7 }) end },
  { "gsub table miss keeps text", function(S) return S.gsub("$a $b", "%$(%w+)", { a = "x" }) end },
  { "gsub table false", function(S) return S.gsub("$a", "%$(%w+)", { a = false }) end },
  { "gsub function", function(S) return S.gsub("1 2 3", "%d", function(d) return d * 2 end) end },
  { "gsub function nil", function(S) return S.gsub("a b", "%a", function(c) if c == "a" then return "A" end end) end },
  { "gsub function captures", function(S)
      return S.gsub("x=1,y=2", "(%w)=(%w)", function(k, v) return v .. k end) end },
  { "gsub function position capture", function(S)
      return S.gsub("abc", "()(%a)", function(p, c) return c .. p end) end },
  { "gsub function error propagates", function(S)
      return S.gsub("abc", "b", function() error("boom", 0) end) end },
  { "gsub function returns table", function(S) return S.gsub("abc", "b", function() return {} end) end },
  { "gsub table returns table", function(S) return S.gsub("abc", "b", { b = {} }) end },

  -- errors
  { "err ends with %", function(S) return S.find("abc", "a%") end },
  { "err missing ]", function(S) return S.find("abc", "[a") end },
  { "err missing ] after escape", function(S) return S.find("abc", "[a%") end },
  { "err %b args", function(S) return S.find("abc", "%b") end },
  { "err %b one arg", function(S) return S.find("abc", "a%b(") end },
  { "err %f without [", function(S) return S.find("abc", "%fa") end },
  { "err invalid capture index", function(S) return S.find("abc", "%1") end },
  { "err capture index unfinished", function(S) return S.find("abc", "(a%1)") end },
  { "err invalid pattern capture", function(S) return S.match("abc", "a)") end },
  { "err unfinished capture", function(S) return S.match("abc", "(a") end },
  { "err too many captures", function(S) return S.find(string.rep("a", 33), string.rep("(a)", 33)) end },
  { "err pattern too complex", function(S) return S.match(string.rep("a", 300), string.rep("a?", 300)) end },
  { "err gsub invalid %", function(S) return S.gsub("abc", "b", "%x") end },
  { "err gsub trailing %", function(S) return S.gsub("abc", "b", "x%") end },
  { "err gsub invalid capture index", function(S) return S.gsub("abc", "(b)", "%2") end },
  { "err gsub repl type", function(S) return S.gsub("abc", "b", true) end },
  { "err gsub repl missing", function(S) return S.gsub("abc", "b") end },
  { "err find subject nil", function(S) return S.find(nil, "a") end },
  { "err match pattern table", function(S) return S.match("a", {}) end },
  { "err find init not number", function(S) return S.find("a", "a", "x") end },
  { "err gmatch subject", function(S) return S.gmatch(nil, "a") end },
  { "err gsub max not integer", function(S) return S.gsub("a", "a", "b", 1.5) end },
  { "err in gmatch iteration", function(S) return all(S, "abc", "%") end },

  -- method calls go through the string metatable
  { "method find", function(S) return ("key=val"):find("=") end },
  { "method match", function(S) return ("2024-01-15"):match("(%d+)-(%d+)-(%d+)") end },
  { "method gsub", function(S) return ("a,b,,c"):gsub(",", ";") end },
  { "method gmatch", function(S)
      local t = {}
      for w in ("x y z"):gmatch("%a") do t[#t + 1] = w end
      return table.concat(t, "+")
    end },

  -- rep: built by doubling in the sandbox, one copy at a time in Lua
  { "rep one byte", function(S) return S.rep("x", 7) end },
  { "rep long", function(S) local r = S.rep("ab", 1000); return #r, r:sub(1, 5), r:sub(-3) end },
  { "rep all lengths", function(S)
      local t = {}
      for n = 0, 33 do t[#t + 1] = S.rep("abc", n, "-") end
      return table.concat(t, "|")
    end },
  { "rep sep", function(S) return S.rep("ab", 4, ", ") end },
  { "rep sep once", function(S) return S.rep("ab", 1, ", ") end },
  { "rep empty string", function(S) return S.rep("", 5) end },
  { "rep empty string sep", function(S) return S.rep("", 4, "/") end },
  { "rep zero", function(S) return S.rep("ab", 0, ",") end },
  { "rep negative", function(S) return S.rep("ab", -3) end },
  { "rep number as string", function(S) return S.rep(12, 3) end },
  { "rep float integral", function(S) return S.rep("a", 3.0) end },
  { "method rep", function(S) return ("ab"):rep(3, "+") end },
  { "err rep too large", function(S) return S.rep("x", 1 << 40) end },
  { "err rep too large sep", function(S) return S.rep("xy", 1 << 30, "z") end },
  { "err rep no string", function(S) return S.rep() end },
  { "err rep count missing", function(S) return S.rep("x") end },
  { "err rep count not integer", function(S) return S.rep("x", 1.5) end },
  { "err rep sep type", function(S) return S.rep("x", 2, {}) end },
}

local function ser(...)
  local t = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    t[i] = type(v) .. ":" .. tostring(v)
  end
  return table.concat(t, ",")
end

return function(S)
  local out = {}
  for i, c in ipairs(cases) do
    out[i] = c[1] .. " => " .. ser(pcall(c[2], S))
  end
  return out
end
