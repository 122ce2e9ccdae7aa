#!/usr/bin/env python3
"""bench/sse_fanout.py BASE THREAD N: N concurrent Server-Sent Events
subscribers to one thread of `opsgraph serve`, then one change to it.

Opens N connections to GET /api/threads/THREAD/stream (asyncio, one socket
each), waits until every one has its replay of the thread's checkpoints,
then resumes the thread's interrupt with POST .../resume {"value": "yes"}
and times how long the new checkpoint events take to reach each
subscriber. Prints: connected and replayed counts, the time to open them
all, and the fan-out latency (p50, p99, max, all N) of the first event
after the resume. Exit 1 when a subscriber was refused or missed the event
within 30 s. Needs ulimit -n above N (bench/serve.sh raises it).
"""
import asyncio
import json
import sys
import time
import urllib.parse
import urllib.request


async def subscriber(host, port, path, st, i, ready, go):
    try:
        r, w = await asyncio.open_connection(host, port)
    except OSError as e:
        st["refused"].append(str(e))
        ready.set_result(False) if not ready.done() else None
        return
    w.write(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n" % (path, host, port)).encode())
    await w.drain()
    status = await r.readline()
    if b" 200 " not in status:
        st["refused"].append(status.decode(errors="replace").strip())
        w.close()
        return
    replayed = False
    try:
        while True:
            line = await r.readline()
            if not line:
                break
            if line.startswith(b"event: checkpoint"):
                if go["t0"] is not None:
                    st["lat"][i] = time.monotonic() - go["t0"]
                    break
                if not replayed:
                    replayed = True
                    st["replayed"] += 1
                    if st["replayed"] == st["n"]:
                        st["all_replayed"].set()
    finally:
        w.close()


async def main(base, thread, n):
    u = urllib.parse.urlparse(base)
    path = "/api/threads/%s/stream" % thread
    st = {"refused": [], "replayed": 0, "n": n, "lat": [None] * n, "all_replayed": asyncio.Event()}
    go = {"t0": None}
    t = time.monotonic()
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(subscriber(u.hostname, u.port, path, st, i, asyncio.get_running_loop().create_future(), go)))
        if i % 100 == 99:
            await asyncio.sleep(0)  # let accepts keep up with the backlog
    try:
        await asyncio.wait_for(st["all_replayed"].wait(), 30)
    except asyncio.TimeoutError:
        pass
    setup = time.monotonic() - t
    print("sse: %d subscribers: %d replayed the thread in %.2f s, %d refused%s" % (
        n, st["replayed"], setup, len(st["refused"]), (" (" + st["refused"][0] + ")") if st["refused"] else ""))
    if st["replayed"] != n:
        for x in tasks:
            x.cancel()
        return 1
    req = urllib.request.Request(base + "/api/threads/%s/resume" % thread, data=json.dumps({"value": "yes", "by": "bench"}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    go["t0"] = time.monotonic()
    loop = asyncio.get_running_loop()
    code = await loop.run_in_executor(None, lambda: urllib.request.urlopen(req, timeout=10).status)
    done, pending = await asyncio.wait(tasks, timeout=30)
    for x in pending:
        x.cancel()
    lat = sorted(x for x in st["lat"] if x is not None)
    if not lat:
        print("sse: resume answered %d, but no subscriber saw a new checkpoint" % code)
        return 1
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print("sse: resume %d; the new checkpoint reached %d/%d subscribers: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
        code, len(lat), n, pct(0.5), pct(0.99), lat[-1] * 1000))
    return 0 if len(lat) == n else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
