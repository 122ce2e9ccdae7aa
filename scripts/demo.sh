#!/usr/bin/env bash
# demo.sh: what `make demo` runs once the binary is built.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
echo "== opsgraph check graphs/demo.lua"
"$BIN/opsgraph" check graphs/demo.lua
echo
echo "== opsgraph graph graphs/demo.lua --format mermaid"
"$BIN/opsgraph" graph graphs/demo.lua --format mermaid
echo
echo "== opsgraph run graphs/demo.lua --stream"
"$BIN/opsgraph" run graphs/demo.lua --input '{"count": 0}' --stream 2>/dev/null
echo
echo "== opsgraph run graphs/demo.lua --output json"
"$BIN/opsgraph" run graphs/demo.lua --input '{"count": 0}' --output json 2>/dev/null
