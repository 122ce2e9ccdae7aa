#!/usr/bin/env python3
"""tests/nodes/check_alert.py: checks one `opsgraph run --output json` of
tests/nodes/slack_alert_only.lua against tests/nodes/slack_alert_expect.json.

    python3 tests/nodes/check_alert.py EXPECT.json FIXTURE.json OUT.json RC ERR.txt

Prints one line per check, "PASS <fixture>: <what>" or "FAIL <fixture>: <what>: <why>".
Used by tests/cli/nodes_slack_alert.sh, which counts the lines.

Expectation keys (all optional):
  source service severity status name started_at ends_at summary expr value  equal
  no_expr / no_ends_at        the key must be absent
  summary_prefix / summary_contains
  window_from                 equal
  window_to                   equal, or "clamp": the alert is still firing, so
                              to = now (the timeline entry's time) kept within
                              [max(started_at + 15m, last_seen), started_at + 6h]
  last_seen                   the end of the source's own window, for "clamp"
  labels                      a subset of alert.labels
  error                       substrings of the run's error (a bad input: exit 1)
"""
import calendar
import json
import os
import re
import sys
import time

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def epoch(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    expect_path, fixture_path, out_path, rc, err_path = sys.argv[1:6]
    name = os.path.basename(fixture_path)
    rc = int(rc)
    results = []

    def check(what, ok, why=""):
        results.append(("PASS %s: %s" % (name, what)) if ok else ("FAIL %s: %s: %s" % (name, what, why)))

    expect_all = json.load(open(expect_path))
    if name not in expect_all:
        check("has an expectation", False, "add it to %s" % expect_path)
        print("\n".join(results))
        return
    exp = expect_all[name]
    fixture = json.load(open(fixture_path))
    err = open(err_path).read()
    try:
        out = json.load(open(out_path))
    except Exception as e:  # noqa: BLE001
        check("stdout is JSON", False, "%s; stderr: %s" % (e, err[-500:]))
        print("\n".join(results))
        return
    state = out.get("state") or {}

    if "error" in exp:
        check("exit status 1", rc == 1, "got %d" % rc)
        check("status error", out.get("status") == "error", "got %r" % out.get("status"))
        msg = out.get("error") or ""
        for sub in exp["error"]:
            check("error names %r" % sub[:60], sub in msg, "error was: %s" % msg.split("\nstack")[0])
        check("stderr says the run failed", "opsgraph: run failed:" in err and "slack_alert:" in err,
              "stderr: %s" % err[-300:])
        check("no alert written", "alert" not in state, "state has alert %r" % state.get("alert"))
        print("\n".join(results))
        return

    check("exit status 0", rc == 0, "got %d; stderr: %s" % (rc, err[-400:]))
    check("status done", out.get("status") == "done", "got %r (error %r)" % (out.get("status"), out.get("error")))
    alert = state.get("alert")
    if not isinstance(alert, dict):
        check("alert written", False, "state: %r" % state)
        print("\n".join(results))
        return

    for key in ("source", "service", "severity", "status", "name", "started_at", "ends_at", "summary",
                "expr", "value"):
        if key in exp:
            check("%s = %r" % (key, exp[key]), alert.get(key) == exp[key], "got %r" % alert.get(key))
    if exp.get("no_expr"):
        check("no expr", "expr" not in alert, "got %r" % alert.get("expr"))
    if exp.get("no_ends_at"):
        check("no ends_at", "ends_at" not in alert, "got %r" % alert.get("ends_at"))
    if "summary_prefix" in exp:
        check("summary starts %r" % exp["summary_prefix"][:40],
              str(alert.get("summary", "")).startswith(exp["summary_prefix"]), "got %r" % alert.get("summary"))
    if "summary_contains" in exp:
        check("summary has %r" % exp["summary_contains"],
              exp["summary_contains"] in str(alert.get("summary", "")), "got %r" % alert.get("summary"))

    for key in ("started_at", "ends_at"):
        if key in alert:
            check("%s is ISO-8601 UTC" % key, bool(ISO.match(str(alert[key]))), "got %r" % alert[key])
    win = alert.get("window") or {}
    check("window has from and to", ISO.match(str(win.get("from"))) is not None and
          ISO.match(str(win.get("to"))) is not None, "got %r" % win)
    if "window_from" in exp:
        check("window.from = %s" % exp["window_from"], win.get("from") == exp["window_from"], "got %r" % win.get("from"))

    timeline = state.get("timeline") or []
    check("one timeline entry", len(timeline) == 1, "got %r" % timeline)
    entry = timeline[0] if timeline else {}
    check("timeline entry is the parse", entry.get("node") == "slack_alert" and entry.get("event") == "alert parsed"
          and entry.get("detail") == alert.get("summary") and ISO.match(str(entry.get("at"))) is not None,
          "got %r" % entry)

    if "window_to" in exp:
        want = exp["window_to"]
        if want == "clamp" and ISO.match(str(entry.get("at"))) and "started_at" in alert:
            started = epoch(alert["started_at"])
            lo = max(started + 900, epoch(exp["last_seen"]) if "last_seen" in exp else started)
            hi = max(started + 6 * 3600, lo)
            want = iso(min(max(epoch(entry["at"]), lo), hi))
        check("window.to = %s" % want, win.get("to") == want, "got %r" % win.get("to"))

    labels = alert.get("labels")
    check("labels is an object of strings", isinstance(labels, dict) and
          all(isinstance(v, str) for v in labels.values()), "got %r" % labels)
    for k, v in (exp.get("labels") or {}).items():
        check("labels.%s = %r" % (k, v), isinstance(labels, dict) and labels.get(k) == v,
              "got %r" % (labels or {}).get(k))
    check("raw is the trigger", alert.get("raw") == fixture, "raw differs")
    check("severity is critical|warning|info", alert.get("severity") in ("critical", "warning", "info"),
          "got %r" % alert.get("severity"))
    print("\n".join(results))


if __name__ == "__main__":
    main()
