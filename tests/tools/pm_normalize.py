#!/usr/bin/env python3
"""pm_normalize.py FORMAT THREAD < report > normalized: the parts of an
`opsgraph postmortem` report that change from run to run become
placeholders, so tests/golden/postmortem.{md,json} compare the rest exactly:
wall-clock times of this run (ISO-8601 of today; the recorded alert's own
2025 times stay), the thread id, interrupt/task ids, durations in ms and
the ages counted from the 2025 alert, pids in dry-run verdicts and the plan hash computed
over them. Anything else that changes fails the
golden comparison."""
import json
import re
import sys

fmt, thread = sys.argv[1], sys.argv[2]
text = sys.stdin.read()
RUN_TIME = re.compile(r"20(2[6-9]|[3-9]\d)-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z")


def norm_str(s):
    s = s.replace(thread, "<THREAD>")
    s = re.sub(r"\b\d+ ms\b", "<N> ms", s)
    s = re.sub(r"\bpid \d+", "pid <PID>", s)
    # the plan hash covers the dry-run reports, which hold pids
    s = re.sub(r"fnv1a64:[0-9a-f]{16}", "<HASH>", s)
    return RUN_TIME.sub("<NOW>", s)


# keys whose numbers are timings of this run
TIMING = {"duration_ms", "delay_s", "time_to_acknowledge_s", "latency_ms", "after_action_s",
          "time_to_acknowledge_from_received_s", "time_to_resolve_from_received_s"}


def walk(v, key=None):
    if isinstance(v, dict):
        return {k: walk(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x, key) for x in v]
    if isinstance(v, str):
        if key in ("interrupt_id", "id") and re.fullmatch(r"[0-9a-f]{16}", v):
            return "<ID>"
        return norm_str(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and key in TIMING:
        return "<N>"
    return v


if fmt == "json":
    print(json.dumps(walk(json.loads(text)), indent=1, sort_keys=True))
else:
    out = []
    for line in text.splitlines():
        line = norm_str(line)
        line = re.sub(r"\b\d+(\.\d+)? (days|s|min \d+ s|h \d+ min)\b(?= \|)", "<AGE>", line)
        # the last cell of the steps table is a duration in ms
        line = re.sub(r"^(\| \d+ \| -?\d+ \| .* \| )\d+ \|$", r"\1<N> |", line)
        # the LLM table's latency cell
        line = re.sub(r"^(\| <NOW> \|( [^|]+ \|){3} \d+ \| \d+ \| )\d+( \|)", r"\1<N>\3", line)
        out.append(line)
    print("\n".join(out))
