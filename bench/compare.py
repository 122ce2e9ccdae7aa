#!/usr/bin/env python3
"""bench/compare.py: opsgraph vs the LangGraph.js peer, scenario by scenario.

    compare.py [--ours build/bench/results.jsonl] [--peer LIVE.jsonl]

The recorded peer figures, /work/shared/peer-bench/langgraphjs/
results-2026-11-24*.jsonl (medians of 5 reps; for S4 the full-size 10,000
thread line), are always shown; with --peer (a live run of bench/peer.sh on
this machine) its figures get their own columns. Ratios are "times better":
ours/peer for rates, peer/ours for times and sizes. The targets are those of
the brief, stated against the recorded figures; "met" is judged against the
recorded figures and, when there is a live run, against it too.
"""
import argparse
import glob
import json
import os
import sys

RECORDED = "/work/shared/peer-bench/langgraphjs/results-2026-11-24*.jsonl"


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(x) for x in f if x.strip().startswith("{")]
    return rows


def pick(rows, scenario, saver=None, durability=None, **kw):
    """Last matching row without an error; for S4 the one with the most threads."""
    hits = [r for r in rows if r.get("scenario") == scenario and "error" not in r
            and (saver is None or r.get("saver") == saver)
            and (durability is None or r.get("durability") == durability)
            and all(r.get(k) == v for k, v in kw.items())]
    if scenario == "S4":
        hits.sort(key=lambda r: r.get("threads", 0))
    return hits[-1] if hits else None


def get(r, *path):
    for k in path:
        if not isinstance(r, dict):
            return None
        r = r.get(k)
    return r


def fmt(x, unit=""):
    if x is None:
        return "—"
    a = abs(x)
    s = f"{x:,.0f}" if a >= 100 or x == 0 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 0.1 else f"{x:.3f}"
    return s + unit


def peer_bpc(p, key):
    """SQLite bytes per checkpoint: the db file after wal_checkpoint(TRUNCATE) / checkpoints."""
    st = get(p, key)
    if not st or not st.get("checkpoints"):
        return None
    return st.get("db_bytes_after_wal_checkpoint", st.get("total_bytes_on_disk", 0)) / st["checkpoints"]


def peer_bpt(p, key):
    """SQLite bytes per thread (the db file after wal_checkpoint / threads)."""
    st = get(p, key)
    if not st or not st.get("threads"):
        return None
    return st.get("db_bytes_after_wal_checkpoint", st.get("total_bytes_on_disk", 0)) / st["threads"]


def figures(ours):
    """(label, ours value, peer extractor, better, unit, target); target is
    ("x", n): ratio >= n, ("le", v) / ("lt", v): ours <= / < v, or None."""
    o_a, o_s, o_m = pick(ours, "S1", "lmdb", "async"), pick(ours, "S1", "lmdb", "sync"), pick(ours, "S1", "memory")
    o2, o2m, o2n = pick(ours, "S2", "lmdb"), pick(ours, "S2", "memory"), pick(ours, "S2", "none")
    o3, o4 = pick(ours, "S3", "lmdb"), pick(ours, "S4", "lmdb")
    sa = lambda p: pick(p, "S1", "sqlite", "async")
    ss = lambda p: pick(p, "S1", "sqlite", "sync")
    s4 = lambda p: pick(p, "S4", "sqlite")
    F = []
    F.append(("S1 runs/s: lmdb async / sqlite async", get(o_a, "runs_per_s"),
              lambda p: get(sa(p), "runs_per_s"), "higher", "", ("x", 100)))
    for key, label in (("start_to_interrupt_ms", "start→interrupt"), ("resume_to_end_ms", "resume→end")):
        for st in ("mean", "p50", "p99"):
            F.append((f"S1 async {label} {st} (ms)", get(o_a, key, st),
                      lambda p, key=key, st=st: get(sa(p), key, st), "lower", "", None))
    F.append(("S1 runs/s: lmdb async / sqlite sync (neither fsyncs per commit)", get(o_a, "runs_per_s"),
              lambda p: get(ss(p), "runs_per_s"), "higher", "", None))
    F.append(("S1 runs/s: lmdb sync (fsync per commit) / sqlite sync, 1 in flight", get(o_s, "runs_per_s"),
              lambda p: get(ss(p), "runs_per_s"), "higher", "", None))
    F.append(("S1 sync start→interrupt mean (ms)", get(o_s, "start_to_interrupt_ms", "mean"),
              lambda p: get(ss(p), "start_to_interrupt_ms", "mean"), "lower", "", None))
    F.append(("S1 sync resume→end mean (ms)", get(o_s, "resume_to_end_ms", "mean"),
              lambda p: get(ss(p), "resume_to_end_ms", "mean"), "lower", "", None))
    for c in (x for x in ours if x.get("scenario") == "S1c" and "error" not in x):
        P, D = c.get("os_threads"), c.get("durability", "sync")
        peer = ss if D == "sync" else sa
        F.append((f"S1 runs/s: lmdb {D}, {P} OS threads on one store / sqlite {D}", c.get("runs_per_s"),
                  lambda p, peer=peer: get(peer(p), "runs_per_s"), "higher", "",
                  ("x", 30) if P == 64 and D == "sync" else None))
    F.append(("S1 runs/s: memory store / MemorySaver async", get(o_m, "runs_per_s"),
              lambda p: get(pick(p, "S1", "memory", "async"), "runs_per_s"), "higher", "", None))
    F.append(("S1 peak RSS (MB), lmdb async / sqlite async", get(o_a, "peak_rss_mb"),
              lambda p: get(sa(p), "peak_rss_mb"), "lower", "", None))
    F.append(("S1 bytes/checkpoint on disk (lmdb stat bytes_used / sqlite file)",
              get(o_a, "bytes_per_checkpoint"), lambda p: peer_bpc(sa(p), "store_after_last_rep"), "lower", " B",
              ("x", 3)))
    F.append((f"S1 bytes/thread on disk ({get(o_a, 'checkpoints_per_thread')} checkpoints; the peer's 8)",
              get(o_a, "bytes_per_thread"), lambda p: peer_bpt(sa(p), "store_after_last_rep"), "lower", " B", None))
    F.append(("S1 bytes/checkpoint, data.mdb du", get(o_a, "bytes_per_checkpoint_du"),
              lambda p: peer_bpc(sa(p), "store_after_last_rep"), "lower", " B", None))
    F.append(("S2 µs/step, median thread: lmdb / sqlite", get(o2, "us_per_step", "median"),
              lambda p: get(pick(p, "S2", "sqlite"), "us_per_step", "median"), "lower", "", ("le", 5)))
    F.append(("S2 steps/s aggregate: lmdb / sqlite", get(o2, "steps_per_s"),
              lambda p: get(pick(p, "S2", "sqlite"), "steps_per_s"), "higher", "", None))
    F.append(("S2 µs/step: memory store / MemorySaver", get(o2m, "us_per_step", "median"),
              lambda p: get(pick(p, "S2", "memory"), "us_per_step", "median"), "lower", "", None))
    F.append(("S2 µs/step: no store (engine + Lua only)", get(o2n, "us_per_step", "median"),
              lambda p: None, "lower", "", None))
    F.append(("S2 bytes/checkpoint (lmdb)", get(o2, "bytes_per_checkpoint"), lambda p: None, "lower", " B", None))
    F.append((f"S3 history of {get(o3, 'history_entries')} entries (ms): listing", get(o3, "history_ms"),
              lambda p: get(pick(p, "S3", "sqlite"), "history_ms"), "lower", "", ("lt", 2)))
    F.append(("S3 history with values: listing + get of each (ms)", get(o3, "history_with_values_ms"),
              lambda p: get(pick(p, "S3", "sqlite"), "history_ms"), "lower", "", ("lt", 2)))
    F.append(("S3 get latest, median (ms)", get(o3, "get_state_ms"),
              lambda p: get(pick(p, "S3", "sqlite"), "get_state_ms"), "lower", "", None))
    F.append(("S3 get latest, p99 (ms)", get(o3, "get_state_ms_p99"),
              lambda p: get(pick(p, "S3", "sqlite"), "get_state_ms_p99"), "lower", "", None))
    F.append((f"S4 pause phase threads/s (ours N={get(o4, 'threads')})", get(o4, "pause_threads_per_s"),
              lambda p: get(s4(p), "pause_threads_per_s"), "higher", "", ("x", 50)))
    F.append(("S4 resume phase threads/s", get(o4, "resume_threads_per_s"),
              lambda p: get(s4(p), "resume_threads_per_s"), "higher", "", ("x", 50)))
    for ph in ("pause", "resume"):
        # phase times compare only at the same N (else see the rates above)
        F.append((f"S4 {ph} phase (s), same N only", get(o4, f"{ph}_phase_s"),
                  lambda p, ph=ph: get(s4(p), f"{ph}_phase_s"), "lower", "", None, "sameN"))
    F.append(("S4 peak RSS (MB)", get(o4, "peak_rss_mb"), lambda p: get(s4(p), "peak_rss_mb"), "lower", "",
              ("lt", 64)))
    F.append(("S4 RSS after the pause phase: anon / file-backed (MB)",
              None if o4 is None else f"{o4.get('rss_anon_after_pause_mb')} / {o4.get('rss_file_after_pause_mb')}",
              lambda p: None, "lower", "", None))
    F.append(("S4 retained bytes per paused thread", get(o4, "retained_bytes_per_paused_thread"),
              lambda p: get(s4(p), "retained_bytes_per_paused_thread"), "lower", " B", None))
    F.append(("S4 bytes/checkpoint on disk after pause", get(o4, "bytes_per_checkpoint_paused"),
              lambda p: peer_bpc(s4(p), "store_after_pause"), "lower", " B", None))
    F.append(("S4 bytes/checkpoint on disk after resume", get(o4, "bytes_per_checkpoint"),
              lambda p: peer_bpc(s4(p), "store_after_resume"), "lower", " B", ("x", 3)))
    F.append(("S4 bytes/thread on disk after resume",
              None if o4 is None else get(o4, "store_after_resume", "bytes_used") / o4["threads"],
              lambda p: peer_bpt(s4(p), "store_after_resume"), "lower", " B", None))
    return F, o4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default="build/bench/results.jsonl")
    ap.add_argument("--peer", default=None, help="live peer results (bench/peer.sh)")
    a = ap.parse_args()

    ours = load([a.ours])
    rec_files = sorted(glob.glob(RECORDED))
    sets = [("recorded", load(rec_files))]
    if a.peer:
        sets.append(("live", load([a.peer])))
    figs, o4 = figures(ours)

    hdr = ["figure", "ours"]
    for name, _ in sets:
        hdr += [f"peer {name}", f"× {name}"]
    hdr += ["target", "met" + (" (rec / live)" if a.peer else "")]
    table = []
    for f in figs:
        label, ov, pfn, better, unit, target = f[:6]
        same_n = len(f) > 6
        row = [label, ov if isinstance(ov, str) else fmt(ov, unit)]
        mets = []
        for _, prow in sets:
            pv = pfn(prow)
            v = ov
            pn = get(pick(prow, "S4", "sqlite"), "threads")
            if same_n and pn != get(o4, "threads"):
                v = None  # different N: no ratio
            ratio = None
            if isinstance(v, (int, float)) and isinstance(pv, (int, float)) and v > 0 and pv > 0:
                ratio = v / pv if better == "higher" else pv / v
            row += [fmt(pv, unit) + (f" (N={pn})" if same_n else ""), "—" if ratio is None else f"{ratio:,.1f}×"]
            if target and target[0] == "x":
                mets.append(None if ratio is None else ratio >= target[1])
        tstr, met = "", ""
        if target:
            kind, n = target
            if kind == "x":
                tstr = f"≥{n}×" if n != 3 else "≤ peer/3"
                met = " / ".join("—" if m is None else ("yes" if m else "**no**") for m in mets)
            else:
                tstr = ("≤" if kind == "le" else "<") + f"{n}{' µs' if 'µs' in label else ' ms' if '(ms)' in label else ' MB'}"
                ok = None if not isinstance(ov, (int, float)) else (ov <= n if kind == "le" else ov < n)
                met = "—" if ok is None else ("yes" if ok else "**no**")
        table.append(row + [tstr, met])

    print("## opsgraph vs LangGraph.js")
    print()
    om = pick(ours, "meta")
    if om:
        print(f"- ours: {om.get('date_utc')} rev {om.get('git_rev', '?')}, {om.get('lua')}, {om.get('lmdb')}, "
              f"{om.get('cpus')} CPU {om.get('cpu')}; config {json.dumps(om.get('config'), separators=(',', ':'))}")
    for name, prow in sets:
        pm = pick(prow, "meta")
        src = ", ".join(os.path.basename(p) for p in rec_files) if name == "recorded" else a.peer
        if pm:
            print(f"- peer {name} ({src}): {pm.get('date_utc')} node {pm.get('node')}, langgraph "
                  f"{get(pm, 'packages', '@langchain/langgraph')}, sqlite {pm.get('sqlite_version')}; config "
                  f"{json.dumps({k: v for k, v in (pm.get('config') or {}).items() if k.startswith(('reps', 's'))}, separators=(',', ':'))}")
        else:
            print(f"- peer {name} ({src}): no meta line")
    if not a.peer:
        print("- no live peer run: the ratios use the recorded peer medians (BENCH_PEER=1 runs the peer here)")
    if om and len(sets) > 1:
        pm = pick(sets[1][1], "meta") or {}
        oc, pc = om.get("config", {}), pm.get("config", {})
        diff = [k for k in ("reps", "s1N", "s2Threads", "s4N") if k in oc and k in pc and oc[k] != pc[k]]
        if diff:
            print(f"- note: ours and the live peer ran with different sizes ({', '.join(diff)}); rates still compare")
    print()
    w = [max(len(str(r[i])) for r in table + [hdr]) for i in range(len(hdr))]
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in table:
        print("| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |")
    print()
    print("× = times better (ours/peer for rates, peer/ours for times and sizes). peer sqlite = SqliteSaver, "
          "WAL + synchronous=NORMAL (no fsync per commit); ours sync = fsync per commit, async = no fsync, "
          "flushed every 100 ms. S1 runs one thread after another on one OS thread in both. S4: ours one OS "
          "thread sequential, the peer 50 async workers. S3 'listing' has no values; the peer's history "
          "yields full snapshots, so 'with values' is the like-for-like figure.")
    # the disk under the sync figures: S1c sync's runs/s follow it
    for c in (x for x in ours if x.get("scenario") == "S1c" and x.get("durability") == "sync" and "error" not in x):
        reps = c.get("per_rep_commits") or []
        probe = c.get("disk_probe_us") or {}
        if not reps:
            continue
        each = "; ".join(f"{r['commits']:.0f} commits of {r['writes_per_commit']:.1f} writes, "
                         f"{r['flush_us_per_commit']:.0f} µs flushing each" for r in reps)
        print(f"S1c sync, {c.get('os_threads')} OS threads, per rep: {each}. The disk: a 4 KiB write + fdatasync "
              f"took {probe.get('before', 0):.0f} µs before the reps and {probe.get('after', 0):.0f} µs after "
              f"(median of 50; the issue's figures assume about 150).")
    errs = [r for r in ours if "error" in r]
    for e in errs:
        print(f"ours FAILED: {json.dumps(e)}")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
