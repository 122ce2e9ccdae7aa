#!/usr/bin/env python3
"""examples/demo/show.py: prints an incident thread for a human (scripts/demo.sh).

    opsgraph run|resume ... --output json | python3 examples/demo/show.py question|outcome
    opsgraph state THREAD --output json   | python3 examples/demo/show.py timeline [NODE]|decision

question  the pending decision: alert, root cause with evidence, the actions
          (risk, eta, tools and args, the dry-run's verdict), plan hash, choices,
          deadlines
outcome   status, the decision, the execution's tool results, the verification
timeline  the thread's timeline, one line per entry (timeline NODE: only that node's)
decision  the decision record (with the runbook text for "manual")
"""
import json
import sys
import textwrap


def wrap(text, indent):
    return textwrap.fill(str(text), width=100, initial_indent=indent, subsequent_indent=indent + "  ")


def question(d):
    ints = d.get("interrupts") or []
    if d.get("status") != "interrupted" or not ints:
        print("thread %s: %s (no question pending) %s" % (d.get("thread_id"), d.get("status"), d.get("error") or ""))
        return
    it = ints[0]
    v = it["value"]
    if v.get("kind") != "decision":
        print("thread %s waits at %s: %s" % (d["thread_id"], it["node"], v.get("question")))
        print(wrap("options: %s; reason: %s" % (", ".join(v.get("options", [])), v.get("reason")), "  "))
        return
    rca = v.get("rca") or {}
    print("thread %s is waiting for a decision" % d["thread_id"])
    print("  alert:      %s (%s): %s" % (v.get("service"), v.get("severity"), v.get("summary")))
    print(wrap("root cause: %s" % rca.get("root_cause"), "  "))
    print("              confidence %.2f, analyzer %s" % (rca.get("confidence") or 0, rca.get("analyzer")))
    print("  evidence:")
    for e in rca.get("evidence") or []:
        print(wrap("- " + str(e), "    "))
    print("  actions:")
    for a in v.get("actions") or []:
        print("    %s. %s  [risk %s, eta %ss]" % (a["id"], a["title"], a["risk"], a["eta"]))
        for t in a.get("tools") or []:
            print("         %s %s" % (t["name"], json.dumps(t.get("args") or {}, sort_keys=True)))
        dr = a.get("dry_run") or {}
        if dr.get("verdict"):
            fid = dr.get("fidelity") or "none"
            print(wrap(dr["verdict"] if fid == "none" else "dry-run (%s): %s" % (fid, dr["verdict"]), "         "))
    print("  plan hash:  %s" % v.get("plan_hash"))
    print("  choices:    %s   (re-analyses %d of %d used)" % (
        ", ".join(v.get("choices") or []), v["re_analyses"]["done"], v["re_analyses"]["max"]))
    dl = v.get("deadlines")
    if dl:
        print("  deadlines:  escalate to %s at %s; take '%s' at %s" % (
            dl.get("escalation_target"), dl.get("escalate_at"), dl.get("default"), dl.get("final_at")))
    if v.get("rejected"):
        print("  refused:    %s" % v["rejected"]["reason"])


def outcome(d):
    s = d.get("state") or {}
    print("thread %s: %s%s" % (d.get("thread_id"), d.get("status"), (": " + d["error"]) if d.get("error") else ""))
    dec = s.get("decision") or {}
    if dec:
        print("  decision:     %s by %s at %s%s" % (dec.get("choice"), dec.get("by"), dec.get("at"),
                                                   (" (%s)" % dec["note"]) if dec.get("note") else ""))
    ex = s.get("execution")
    if ex:
        print(wrap("execution:    %s" % ex.get("summary"), "  "))
        for r in ex.get("results") or []:
            print("    %s %s -> %s, exit %s: %s" % (r.get("tool"), json.dumps(r.get("args"), sort_keys=True),
                                                  r.get("status"), r.get("exit_code"),
                                                  (r.get("stdout") or r.get("stderr") or "").strip()))
    ve = s.get("verification")
    if ve:
        print("  verification: %s (%s; last value %s after %s check(s))" % (
            ve.get("status"), ve.get("condition"), ve.get("last_value"), ve.get("checks")))
    if d.get("status") == "interrupted":
        question(d)


def timeline(c, node=None):
    s = c.get("values") or {}
    for e in s.get("timeline") or []:
        if node and e.get("node") != node:
            continue
        det = e.get("detail")
        if isinstance(det, dict):
            det = ", ".join("%s=%s" % (k, v) for k, v in sorted(det.items()))
        print(wrap("%s  %-19s %-20s %s" % (e.get("at", "")[:19], e.get("node"), e.get("event"), det or ""), "  "))


def decision(c):
    dec = (c.get("values") or {}).get("decision") or {}
    print("  handled by: %s" % dec.get("handler"))
    rb = dec.get("runbook")
    if rb:
        print("  runbook (%s):" % rb.get("source"))
        for line in rb.get("text", "").splitlines():
            print("    | " + line)
    elif dec.get("runbook_note"):
        print("  runbook: " + dec["runbook_note"])


def main():
    modes = {"question": question, "outcome": outcome, "timeline": timeline, "decision": decision}
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in modes or (len(sys.argv) == 3 and sys.argv[1] != "timeline"):
        sys.exit(__doc__)
    modes[sys.argv[1]](json.load(sys.stdin), *sys.argv[2:])


if __name__ == "__main__":
    main()
