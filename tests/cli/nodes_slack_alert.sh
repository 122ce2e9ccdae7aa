#!/usr/bin/env bash
# tests/cli/nodes_slack_alert.sh: the slack_alert node (nodes/slack_alert.lua)
# through the real binary.
#
#  1. every fixture in examples/alerts/*.json is run as {"trigger": <fixture>}
#     through the one-node graph tests/nodes/slack_alert_only.lua; the
#     alert it writes (or, for bad inputs, the exit status 1 and the error)
#     is checked by tests/nodes/check_alert.py against
#     tests/nodes/slack_alert_expect.json;
#  2. tests/nodes/slack_alert_test.lua runs the date library, the text
#     helpers and the parser on inline cases, on dates python computed, and
#     every fixture again through the node function inside one graph
#     (og.send fan-out); each of its checks counts here.
#
# Run by tests/run.sh with OPSGRAPH set; by hand from the project root:
#   bash tests/cli/nodes_slack_alert.sh
# Last line: "N passed, N failed"; exits non-zero when something failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
OPSGRAPH=${OPSGRAPH:-$PWD/bin/opsgraph}
T=tests/nodes
tmp=$(mktemp -d "${TMPDIR:-/tmp}/og-slack-alert.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT


if [ ! -x "$OPSGRAPH" ]; then
	echo "no binary at $OPSGRAPH (run make first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if ! command -v python3 >/dev/null; then
	echo "python3 is needed to build inputs and check JSON" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# ---- 1. every fixture through the one-node graph --------------------------

nfix=0
for f in examples/alerts/*.json; do
	[ -f "$f" ] || continue
	nfix=$((nfix + 1))
	python3 -c 'import json, sys; json.dump({"trigger": json.load(open(sys.argv[1]))}, open(sys.argv[2], "w"))' \
		"$f" "$tmp/in.json"
	timeout 30 "$OPSGRAPH" run $T/slack_alert_only.lua --db :memory: --output json \
		--input "@$tmp/in.json" >"$tmp/out.json" 2>"$tmp/err.txt"
	rc=$?
	python3 $T/check_alert.py $T/slack_alert_expect.json "$f" "$tmp/out.json" "$rc" "$tmp/err.txt" >"$tmp/res.txt" 2>&1
	if ! grep -qE '^(PASS|FAIL) ' "$tmp/res.txt"; then
		bad "$f: the checker printed nothing: $(cat "$tmp/res.txt")"
		continue
	fi
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) ok ;;
		FAIL\ *) bad "${line#FAIL }" ;;
		esac
	done <"$tmp/res.txt"
done
if [ "$nfix" -ge 14 ]; then ok; else bad "only $nfix fixtures in examples/alerts (want at least 14)"; fi

# every expectation has its fixture
missing=$(python3 -c '
import json, os, sys
exp = json.load(open(sys.argv[1]))
print(" ".join(n for n in exp if not os.path.exists(os.path.join("examples/alerts", n))))' $T/slack_alert_expect.json)
if [ -z "$missing" ]; then ok; else bad "expectations without a fixture: $missing"; fi

# ---- 2. the in-graph tests ---------------------------------------------------

python3 - "$T/slack_alert_expect.json" "$tmp/unit_in.json" <<'EOF'
import calendar, datetime, glob, json, os, random, sys
expect = json.load(open(sys.argv[1]))
cases = []
for f in sorted(glob.glob("examples/alerts/*.json")):
    n = os.path.basename(f)
    cases.append({"name": n, "trigger": json.load(open(f)), "expect": expect.get(n, {})})

rnd = random.Random(20261124)
dates = []
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
for i in range(400):
    t = rnd.randrange(-2208988800, 4102444800)          # 1900 .. 2100
    if i % 10 == 0:                                       # some leap days
        y = rnd.choice([1904, 1960, 2000, 2024, 2096])
        t = calendar.timegm((y, 2, 29, rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)))
    off = rnd.choice([0, 3600, -18000, 19800, 28800, -34200, 45900, 50400])
    u = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=t)
    l = u + datetime.timedelta(seconds=off)
    sign = "-" if off < 0 else "+"
    hh, mm = divmod(abs(off) // 60, 60)
    iso = u.strftime("%Y-%m-%dT%H:%M:%SZ")
    form = i % 8
    if form == 0:   text = u.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif form == 1: text = l.strftime("%Y-%m-%dT%H:%M:%S") + "%s%02d:%02d" % (sign, hh, mm)
    elif form == 2: text = u.strftime("%Y-%m-%d %H:%M:%S")
    elif form == 3: text = l.strftime("%Y/%m/%d %H:%M:%S") + " %s%02d%02d" % (sign, hh, mm)
    elif form == 4: text = str(t)
    elif form == 5: text = str(t * 1000) if t >= 10**9 else str(t)   # ms below 1e11 would read as seconds
    elif form == 6: text = "%s %d, %d %s" % (MON[u.month - 1], u.day, u.year, u.strftime("%H:%M:%S"))
    else:           text = l.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % rnd.randrange(1000) + "%s%02d:%02d" % (sign, hh, mm)
    dates.append({"text": text, "iso": iso})
for y in (1900, 2023, 2025, 2100):                      # not leap years
    dates.append({"text": "%d-02-29 12:00:00" % y, "bad": True})
for m, d in ((4, 31), (6, 31), (9, 31), (11, 31), (1, 32), (0, 10), (13, 1)):
    dates.append({"text": "2026-%02d-%02d" % (m, d), "bad": True})

days = []
for i in range(300):
    z = rnd.randrange(-800000, 800000)
    dt = datetime.date(1970, 1, 1) + datetime.timedelta(days=z) if -719162 <= z <= 2932896 else None
    if dt:
        days.append({"z": z, "y": dt.year, "m": dt.month, "d": dt.day})
json.dump({"cases": cases, "dates": dates, "days": days}, open(sys.argv[2], "w"))
EOF

timeout 60 "$OPSGRAPH" check $T/slack_alert_test.lua >"$tmp/check.txt" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok; else bad "opsgraph check $T/slack_alert_test.lua: exit $rc: $(cat "$tmp/check.txt")"; fi

timeout 120 "$OPSGRAPH" run $T/slack_alert_test.lua --db :memory: --output json \
	--input "@$tmp/unit_in.json" >"$tmp/unit_out.json" 2>"$tmp/unit_err.txt"
rc=$?
if [ "$rc" -eq 0 ]; then ok; else bad "slack_alert_test.lua: exit $rc: $(tail -c 800 "$tmp/unit_err.txt")"; fi
python3 - "$tmp/unit_out.json" >"$tmp/unit_res.txt" 2>&1 <<'EOF'
import json, sys
try:
    out = json.load(open(sys.argv[1]))
except Exception as e:
    print("ERROR no JSON output: %s" % e); sys.exit(0)
s = (out.get("state") or {}).get("summary")
if not isinstance(s, dict):
    print("ERROR no summary (status %r, error %r)" % (out.get("status"), out.get("error"))); sys.exit(0)
print("COUNT %d %d" % (s["passed"], s["failed"]))
for f in s.get("failures") or []:
    print("FAIL %s" % f)
EOF
if grep -q '^ERROR' "$tmp/unit_res.txt"; then
	bad "slack_alert_test.lua: $(cat "$tmp/unit_res.txt")"
else
	read -r _ p f <"$tmp/unit_res.txt"
	pass=$((pass + p))
	fail=$((fail + f))
	grep '^FAIL ' "$tmp/unit_res.txt" | sed 's/^FAIL /FAIL: slack_alert_test.lua: /' >&2
	if [ "$p" -ge 900 ]; then ok; else bad "slack_alert_test.lua ran only $p checks (want at least 900)"; fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
