#!/usr/bin/env bash
# layers.sh: the include rules of engine/README.md, checked. A module may
# include only the layers below it; Lua, LMDB and the CLI stay in their corners.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
check() {	# dir, forbidden regex, reason
	local hits
	hits=$(grep -nE "$2" engine/$1/*.[ch] 2>/dev/null)
	if [ -n "$hits" ]; then
		fail=$((fail + 1)); echo "layer violation in engine/$1 ($3):"; echo "$hits" | sed 's/^/    /'
	else
		pass=$((pass + 1))
	fi
}
check core  '#include "\.\./(graph|lua|store|cli|server)/|#include <(lua|lauxlib|lmdb|event)' "core includes nothing above it"
check graph '#include "\.\./(lua|store|cli)/|#include <(lua|lauxlib|lualib|lmdb)\.h>' "the runtime core knows no Lua or LMDB"
check lua   '#include "\.\./(store|cli)/|#include <lmdb\.h>' "the Lua host knows no store"
check net   '#include "\.\./(graph|lua|store|cli)/|#include <(lua|lauxlib|lualib|lmdb)\.h>' "net knows no Lua, graphs or stores"
check proc  '#include "\.\./(graph|net|lua|store|cli)/|#include <(lua|lauxlib|lualib|lmdb|curl/curl)\.h>' "proc knows only core/"
check sandbox '#include "\.\./(graph|net|lua|store|cli|proc)/|#include <(lua|lauxlib|lualib|lmdb|curl/curl)\.h>' "sandbox knows only core/"
check trace '#include "\.\./(graph|net|lua|store|cli|proc|sandbox)/|#include <(lua|lauxlib|lualib|lmdb|curl/curl|(cjson/)?cJSON)\.h>' "trace (eBPF loaders) knows only core/ and libbpf"
check dryrun '#include "\.\./(graph|net|lua|store|cli|proc|server)/|#include <(lua|lauxlib|lualib|lmdb|curl/curl|bpf/[a-z_]*)\.h>' "dry-runs know only core/, sandbox/, trace/ and cJSON"
check hostsig '#include "\.\./(graph|net|lua|store|cli|proc|sandbox)/|#include <(lua|lauxlib|lualib|lmdb|curl/curl)\.h>' "hostsig (the JSON of host signals) knows only core/, trace/ and cJSON"
check report '#include "\.\./(lua|cli|server)/|#include <(lua|lauxlib|lualib|lmdb|event2/[a-z_]*)\.h>' "reports read the store's API; no Lua, no LMDB, no HTTP"
check store '#include "\.\./(lua|cli|server)/|#include <(lua|lauxlib|lualib|event2/[a-z_]*)\.h>' "stores know no Lua and no HTTP"
# server/ sits beside cli/ at layer 3: it reuses the session (cli_run.h, cli.h)
# but runs no Lua and touches no LMDB itself (both through lua/ and store/)
check server '#include "\.\./cli/(cmd_|cli_config)|#include <(lua|lauxlib|lualib|lmdb)\.h>' "the server reaches Lua and LMDB only through the engine's modules"
for d in core graph lua net proc sandbox trace dryrun hostsig store report; do
	check $d '#include "\.\./server/|#include <event2/' "only cli/ and server/ see the HTTP server"
done
# banned calls (unbounded writes)
hits=$(grep -nE '\b(sprintf|strcpy|strcat|gets|atoi)\(' engine/*/*.c | grep -v snprintf)
if [ -n "$hits" ]; then fail=$((fail + 1)); echo "banned calls:"; echo "$hits"; else pass=$((pass + 1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
