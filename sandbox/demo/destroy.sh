#!/usr/bin/env bash
# sandbox/demo/destroy.sh: a destructive "remediation" for dry-run demos and
# tests/cli/dryrun_impact.sh. Run it only in a dry-run: for real it deletes
# and rewrites files under DIR, kills PID and connects to ADDR:PORT.
#
#   destroy.sh DIR PID ADDR PORT
#
# Effects, each through its own program so the impact trace shows the exec:
#   rm     DIR/data/victim1.txt DIR/data/victim2.txt
#   (bash) rewrites DIR/app.conf
#   mv     DIR/old.log -> DIR/old.log.1
#   chmod  600 DIR/secret.key
#   kill   -TERM PID
#   curl   http://ADDR:PORT/
# Exits 3 (like a tool that reports partial failure).
set -u
if [ $# -ne 4 ]; then
	echo "usage: destroy.sh DIR PID ADDR PORT" >&2
	exit 2
fi
dir=$1 pid=$2 addr=$3 port=$4
rm -f "$dir/data/victim1.txt" "$dir/data/victim2.txt"
printf 'listen 8080;\nworkers 64;\nrewritten by destroy.sh\n' >"$dir/app.conf"
mv "$dir/old.log" "$dir/old.log.1"
chmod 600 "$dir/secret.key"
/bin/kill -TERM "$pid" || echo "kill $pid failed"
curl -sS --max-time 2 "http://$addr:$port/" >/dev/null || echo "curl $addr:$port failed"
exit 3
