#!/usr/bin/env bash
# tests/cli/collector_files.sh: ctx.files (engine/lua/lapi_files.c), the
# narrow file access the context collector reads local logs, OTLP trace
# exports and deploy lists with, through the real binary.
#
# Covered: read_lines inside config files_allow (lines, size, resolved path,
# CRLF, a last line without "\n", invalid UTF-8 and NUL as U+FFFD);
# max_lines from the start and from the end; max_bytes from the start (a cut
# last line dropped) and from the end (a cut first line dropped); an empty
# file; list (sorted, regular files only, no links, no dot entries); the
# failures as nil, message, kind: outside files_allow, ".." and a symbolic
# link leaving the allowed directory, no files_allow at all, a missing file,
# a directory, a FIFO (no blocking), list on a file; argument errors that
# raise (types, unknown option, out-of-range numbers, NUL in the path,
# read-only namespace); and the journal: after og.interrupt and resume the
# node re-runs and sees the file as it was the first time, and a re-run that
# reads another path fails naming both.
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/collector_files.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-files.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/db

og() {
	timeout 60 "$OPSGRAPH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); last="opsgraph $*"
}

# --- the files -----------------------------------------------------------------
A=$tmp/allowed
mkdir -p "$A/sub" "$tmp/secret"
printf 'one\ntwo\r\nthree\nfour\nfive' >"$A/app.log"		# no final newline
printf 'ok \xff\xfe bad\nnul\000byte\nutf8 \xc3\xa9\n' >"$A/bin.log"
: >"$A/empty.log"
printf 'top secret\n' >"$tmp/secret/key.txt"
ln -s "$tmp/secret/key.txt" "$A/link.txt"
ln -s "$tmp/secret" "$A/secretdir"
mkfifo "$A/fifo"
printf 'x\n' >"$A/sub/inner.log"
printf 'b\n' >"$A/b.txt"
printf 'a\n' >"$A/.hidden"
python3 -c 'import sys; sys.stdout.write("".join("line %04d\n" % i for i in range(1, 1001)))' >"$A/big.log"
printf '{"files_allow": ["%s"]}' "$A" >"$tmp/cfg.json"
printf '{"files_allow": []}' >"$tmp/cfg_none.json"
printf '{"services": {}}' >"$tmp/cfg_nokey.json"

cat >"$tmp/calls.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "files_calls", state = { dir = og.last(), tmp = og.last(), r = og.merge() } }
local function fail3(v, err, kind) return { isnil = v == nil, err = err, kind = kind } end
g:node("calls", function(s, ctx)
  local r, d = {}, s.dir
  r.app = ctx.files.read_lines(d .. "/app.log")
  r.bin = ctx.files.read_lines(d .. "/bin.log")
  r.empty = ctx.files.read_lines(d .. "/empty.log")
  r.first3 = ctx.files.read_lines(d .. "/big.log", { max_lines = 3 })
  r.last3 = ctx.files.read_lines(d .. "/big.log", { max_lines = 3, from_end = true })
  r.head_bytes = ctx.files.read_lines(d .. "/big.log", { max_bytes = 25 })     -- 2 whole lines + 5 bytes
  r.tail_bytes = ctx.files.read_lines(d .. "/big.log", { max_bytes = 25, from_end = true })
  r.dotdot = ctx.files.read_lines(d .. "/sub/../app.log", { max_lines = 1 })
  r.list = ctx.files.list(d)
  r.outside = fail3(ctx.files.read_lines(s.tmp .. "/secret/key.txt"))
  r.escape = fail3(ctx.files.read_lines(d .. "/../secret/key.txt"))
  r.link = fail3(ctx.files.read_lines(d .. "/link.txt"))
  r.linkdir = fail3(ctx.files.list(d .. "/secretdir"))
  r.missing = fail3(ctx.files.read_lines(d .. "/nope.log"))
  r.dir = fail3(ctx.files.read_lines(d .. "/sub"))
  r.fifo = fail3(ctx.files.read_lines(d .. "/fifo"))
  r.listfile = fail3(ctx.files.list(d .. "/app.log"))
  return { r = r }
end)
g:edge(og.START, "calls")
return g
EOF
og run "$tmp/calls.lua" --db :memory: --config "$tmp/cfg.json" --input "{\"dir\": \"$A\", \"tmp\": \"$tmp\"}" --output json
expect_rc 0
printf '%s' "$out" >"$tmp/calls.json"
A="$A" TMP="$tmp" python3 - "$tmp/calls.json" >"$tmp/checks" 2>&1 <<'EOF'
import json, os, sys
A, tmp = os.path.realpath(os.environ["A"]), os.environ["TMP"]
try:
    r = json.load(open(sys.argv[1]))["state"]["r"]
except Exception as e:
    print("FAIL no state: %s" % e); sys.exit()
def lines(n): return ["line %04d" % i for i in n]
checks = [
  ("app: lines, CRLF, last line without newline", r["app"]["lines"] == ["one", "two", "three", "four", "five"]),
  ("app: size and resolved path", r["app"]["size"] == 24 and r["app"]["path"] == A + "/app.log" and r["app"]["truncated"] is False),
  ("bin: invalid UTF-8 and NUL become U+FFFD", r["bin"]["lines"] == ["ok \ufffd\ufffd bad", "nul\ufffdbyte", "utf8 \u00e9"]),
  ("empty file", r["empty"]["lines"] == [] and r["empty"]["size"] == 0 and r["empty"]["truncated"] is False),
  ("max_lines from the start", r["first3"]["lines"] == lines([1, 2, 3]) and r["first3"]["truncated"] is True),
  ("max_lines from the end", r["last3"]["lines"] == lines([998, 999, 1000]) and r["last3"]["truncated"] is True),
  ("max_bytes from the start drops the cut last line", r["head_bytes"]["lines"] == lines([1, 2]) and r["head_bytes"]["truncated"] is True),
  ("max_bytes from the end drops the cut first line", r["tail_bytes"]["lines"] == lines([999, 1000]) and r["tail_bytes"]["truncated"] is True),
  ("size is the whole file's", r["head_bytes"]["size"] == 10000),
  (".. inside the allowed directory is fine", r["dotdot"]["lines"] == ["one"] and r["dotdot"]["path"] == A + "/app.log"),
  ("list: sorted regular files, no links, dirs, FIFOs or dot entries", r["list"] == [".hidden", "app.log", "b.txt", "big.log", "bin.log", "empty.log"]),
  ("outside: not_allowed", r["outside"]["isnil"] and r["outside"]["kind"] == "not_allowed"),
  ("outside: message says what and how", "is outside the directories of config files_allow" in r["outside"]["err"]
     and "add its directory to files_allow in the config file" in r["outside"]["err"] and "secret/key.txt" in r["outside"]["err"]),
  ("..: cannot leave the directory", r["escape"]["kind"] == "not_allowed"),
  ("symlink to outside: not_allowed", r["link"]["kind"] == "not_allowed" and "resolved to" in r["link"]["err"]),
  ("symlinked dir to outside: not_allowed", r["linkdir"]["kind"] == "not_allowed"),
  ("missing: not_found", r["missing"]["isnil"] and r["missing"]["kind"] == "not_found" and "nope.log" in r["missing"]["err"]),
  ("directory: not_a_file", r["dir"]["kind"] == "not_a_file" and "list it with ctx.files.list" in r["dir"]["err"]),
  ("fifo: not_a_file, no blocking", r["fifo"]["kind"] == "not_a_file" and "not a regular file" in r["fifo"]["err"]),
  ("list on a file: not_a_file", r["listfile"]["kind"] == "not_a_file" and "read it with ctx.files.read_lines" in r["listfile"]["err"]),
]
for name, good in checks:
    print(("ok " if good else "FAIL ") + name + ("" if good else ": " + json.dumps(r)[:3000]))
EOF
while read -r verdict name; do
	if [ "$verdict" = ok ]; then ok; else bad "calls: $name"; fi
done <"$tmp/checks"
[ -s "$tmp/checks" ] || bad "calls: no checks ran: $out $err"

# --- no allowed directories: a clear failure, not a crash -----------------------
cat >"$tmp/none.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "files_none", state = { dir = og.last(), r = og.last() } }
g:node("call", function(s, ctx)
  local v, err, kind = ctx.files.read_lines(s.dir .. "/app.log")
  return { r = { isnil = v == nil, err = err, kind = kind } }
end)
g:edge(og.START, "call")
return g
EOF
for c in cfg_none cfg_nokey; do
	og run "$tmp/none.lua" --db :memory: --config "$tmp/$c.json" --input "{\"dir\": \"$A\"}" --output json
	expect_rc 0
	expect_in '"kind":"not_allowed"' "$out" "$c: kind"
	expect_in 'no directories are allowed; list the directories nodes may read in the config file, e.g. \"files_allow\"' "$out" "$c: message"
done

# --- argument errors raise -----------------------------------------------------
cat >"$tmp/argerr.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "files_argerr", state = { dir = og.last(), case = og.last() } }
local cases = {
  nopath = function(s, ctx) return ctx.files.read_lines(42) end,
  empty = function(s, ctx) return ctx.files.read_lines("") end,
  nul = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log\0x") end,
  opts = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log", 5) end,
  unknown = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log", { max_line = 5 }) end,
  zero = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log", { max_bytes = 0 }) end,
  huge = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log", { max_lines = 2000000 }) end,
  fromend = function(s, ctx) return ctx.files.read_lines(s.dir .. "/app.log", { from_end = "yes" }) end,
  listarg = function(s, ctx) return ctx.files.list() end,
  readonly = function(s, ctx) ctx.files.read_lines = nil end,
}
g:node("call", function(s, ctx) cases[s.case](s, ctx); return {} end)
g:edge(og.START, "call")
return g
EOF
argerr() {	# case, expected message part
	og run "$tmp/argerr.lua" --db :memory: --config "$tmp/cfg.json" --input "{\"dir\": \"$A\", \"case\": \"$1\"}"
	expect_rc 1
	expect_in "$2" "$err" "error of case $1"
}
argerr nopath "ctx.files.read_lines: the first argument must be the file's path (got number)"
argerr empty "ctx.files.read_lines: the path is empty or holds a NUL byte"
argerr nul "ctx.files.read_lines: the path is empty or holds a NUL byte"
argerr opts "ctx.files.read_lines: options must be a table {max_bytes, max_lines, from_end} (got number)"
argerr unknown "ctx.files.read_lines: unknown option 'max_line' (known: max_bytes, max_lines, from_end)"
argerr zero "ctx.files.read_lines: max_bytes must be an integer from 1 to 67108864 (got 0)"
argerr huge "ctx.files.read_lines: max_lines must be an integer from 1 to 1000000 (got 2000000)"
argerr fromend "ctx.files.read_lines: from_end must be a boolean (got string)"
argerr listarg "ctx.files.list: the argument must be a directory's path (got nil)"
argerr readonly "ctx namespaces are read-only"

# --- the journal: a re-run sees the file as it was -------------------------------
cat >"$tmp/journal.lua" <<'EOF'
local og = require("opsgraph")
local g = og.graph{ name = "files_journal", state = { path = og.last(), out = og.last() } }
g:node("call", function(s, ctx)
  local r = ctx.files.read_lines(s.path)
  local _, err, kind = ctx.files.read_lines(s.path .. ".missing")
  local answer = og.interrupt({ n = #r.lines })
  return { out = { lines = r.lines, err = err, kind = kind, answer = answer } }
end)
g:edge(og.START, "call")
return g
EOF
printf 'before 1\nbefore 2\n' >"$A/j.log"
og run "$tmp/journal.lua" --db "$DB" --config "$tmp/cfg.json" --thread j1 --input "{\"path\": \"$A/j.log\"}" --output json
expect_rc 0
expect_in '"status":"interrupted"' "$out" "first run"
printf 'after\n' >"$A/j.log"
printf 'now here\n' >"$A/j.log.missing"
og resume j1 --db "$DB" --config "$tmp/cfg.json" --value '"go"' --output json
expect_rc 0
expect_in '"status":"done"' "$out" "resume"
expect_in '"lines":["before 1","before 2"]' "$out" "the re-run's lines (journaled)"
expect_in '"kind":"not_found"' "$out" "the re-run's failure (journaled)"
expect_in '"answer":"go"' "$out" "the resume value"

og run "$tmp/journal.lua" --db "$DB" --config "$tmp/cfg.json" --thread j2 --input "{\"path\": \"$A/j.log\"}" --output json
expect_rc 0
og resume j2 --db "$DB" --config "$tmp/cfg.json" --command "{\"resume\": \"x\", \"update\": {\"path\": \"$A/b.txt\"}}"
[ "$rc" -ne 0 ] && ok || bad "a re-run reading another path succeeded: $out"
expect_in "node 'call' re-ran differently: this ctx.files.read_lines call read" "$err" "the differing re-run"
expect_in "j.log', now it reads '$A/b.txt'" "$err" "both paths named"

finish
