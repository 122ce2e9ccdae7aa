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

    opsgraph state THREAD --output json            | python3 examples/demo/show.py similar
    opsgraph postmortem THREAD --format json        | python3 examples/demo/show.py postmortem

similar     the past incidents the run was shown (context.similar) and the
            planned action that fixed the same signature last time; exits 1
            when there is none (the demo must show it)
postmortem  the report's key lines: time to acknowledge and to resolve (from
            the alert's startsAt and from opsgraph's receipt), root cause,
            the chosen action with its dry-run verdict, the outcome; exits 1
            when one is missing
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


def similar(c):
    s = c.get("values") or {}
    past = (s.get("context") or {}).get("similar") or []
    print("  context.similar: %d past incident(s) like this one" % len(past))
    for p in past:
        print(wrap("- %s (score %s, %s): action \"%s\", outcome %s" % (
            p.get("thread_id"), p.get("score"), p.get("signature"), (p.get("action") or {}).get("title"),
            p.get("outcome")), "    "))
    said = [a for a in (s.get("plan") or {}).get("actions") or [] if "Last time" in (a.get("description") or "")]
    for a in said:
        print(wrap("action %s \"%s\": %s" % (a.get("id"), a.get("title"),
                                            a["description"][a["description"].index("Last time"):]), "  "))
    if not past or not said:
        sys.exit("demo: the run was shown no past incident that fixed this signature (context.similar %s)" % (
            "empty" if not past else "has no fix"))


def secs(v):
    # as the report writes them (engine/report/postmortem_util.c, pm_secs)
    if v is None:
        return "-"
    if abs(v) < 120:
        return "%.1f s" % v
    if abs(v) < 7200:
        return "%d min %02d s" % (int(v / 60), abs(v) % 60)
    if abs(v) < 172800:
        return "%d h %02d min" % (int(v / 3600), abs(v) / 60 % 60)
    return "%.1f days" % (v / 86400)


def postmortem(r):
    m, rc, res = r.get("metrics") or {}, r.get("root_cause") or {}, r.get("resolution") or {}
    ex = (r.get("executions") or [{}])[0]
    dr = next((a for a in (r.get("dry_runs") or {}).get("actions") or [] if a.get("id") == ex.get("action_id")), {})
    lines = [
        ("time to acknowledge", m.get("time_to_acknowledge_from_received_s"),
         "%s from opsgraph's receipt of the alert, by %s (%s from the alert's startsAt)" % (
             secs(m.get("time_to_acknowledge_from_received_s")), m.get("acknowledged_by"),
             secs(m.get("time_to_acknowledge_s")))),
        ("time to resolve", m.get("time_to_resolve_from_received_s"),
         "%s from opsgraph's receipt, seen by %s (%s from the alert's startsAt)" % (
             secs(m.get("time_to_resolve_from_received_s")), res.get("source"), secs(m.get("time_to_resolve_s")))),
        ("root cause", rc.get("root_cause"), "%s (%s, confidence %s)" % (
            rc.get("root_cause"), rc.get("signature"), rc.get("confidence"))),
        ("chosen action", ex.get("title"), "%s \"%s\": %s" % (ex.get("action_id"), ex.get("title"), ex.get("status"))),
        ("dry-run verdict", dr.get("verdict"), "%s (fidelity %s)" % (dr.get("verdict"), dr.get("fidelity"))),
        ("outcome", res.get("outcome"), res.get("outcome")),
    ]
    for name, v, text in lines:
        print(wrap("%-20s %s" % (name + ":", text), "  "))
    missing = [name for name, v, _ in lines if v is None]
    if missing:
        sys.exit("demo: the postmortem of %s has no %s" % (r.get("thread_id"), ", ".join(missing)))
    # the restart came after the answer, so did the recovery it caused
    if m["time_to_resolve_from_received_s"] < m["time_to_acknowledge_from_received_s"]:
        sys.exit("demo: the postmortem of %s has it resolved before it was acknowledged" % r.get("thread_id"))


def main():
    modes = {"question": question, "outcome": outcome, "timeline": timeline, "decision": decision,
             "similar": similar, "postmortem": postmortem}
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in modes or (len(sys.argv) == 3 and sys.argv[1] != "timeline"):
        sys.exit(__doc__)
    modes[sys.argv[1]](json.load(sys.stdin), *sys.argv[2:])


if __name__ == "__main__":
    main()
