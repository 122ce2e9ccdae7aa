#!/usr/bin/env python3
"""tests/serve/client.py: what serve_api.sh cannot do with curl alone.

  client.py BASE race THREAD          two resumes of one interrupt at once;
                                      prints the two status codes, sorted, and
                                      the 409 body
  client.py BASE sse THREAD N [LAST [M]]
                                      reads N checkpoint events and M notes from
                                      the stream (Last-Event-ID LAST when not
                                      empty), at most 10 s; prints the ids with
                                      their status on one line, then "notes:"
                                      and the notes' kinds
  client.py BASE slack SECRET TS BODY [RETRY]
                                      a signed POST /slack/events; prints the
                                      status and body
  client.py BASE sign SECRET TS BODY  only the v0 signature
"""
import hashlib
import hmac
import http.client
import json
import sys
import threading
import urllib.parse


def conn(base, timeout=10):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def post(base, path, body, headers=None):
    c = conn(base)
    c.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, data


def race(base, thread):
    out = []
    barrier = threading.Barrier(2)

    def one(v):
        barrier.wait()
        out.append(post(base, "/api/threads/%s/resume" % thread,
                        json.dumps({"value": v, "by": "op-" + v, "note": "chosen " + v})))
    ts = [threading.Thread(target=one, args=(v,)) for v in ("yes", "no")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.sort()
    print(" ".join(str(s) for s, _ in out))
    for s, b in out:
        if s != 200:
            print(b)


def sse(base, thread, n, last=None, want_notes=0):
    c = conn(base)
    h = {"Accept": "text/event-stream"}
    if last:
        h["Last-Event-ID"] = last
    c.request("GET", "/api/threads/%s/stream" % thread, headers=h)
    r = c.getresponse()
    if r.status != 200:
        print("status %d %s" % (r.status, r.read().decode()))
        return
    ids, notes, ev = [], [], {}
    while len(ids) < n or len(notes) < want_notes:
        line = r.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line == "":
            if ev.get("event") == "checkpoint":
                ids.append("%s:%s" % (ev["id"], json.loads(ev["data"])["status"]))
            elif ev.get("event") == "note":
                notes.append(json.loads(ev["data"])["value"]["kind"])
            ev = {}
        elif not line.startswith(":") and ":" in line:
            k, v = line.split(":", 1)
            ev[k] = v[1:] if v.startswith(" ") else v
    print(" ".join(ids))
    print("notes: " + " ".join(notes))
    c.close()


def sign(secret, ts, body):
    mac = hmac.new(secret.encode(), ("v0:%s:" % ts).encode() + body.encode(), hashlib.sha256).hexdigest()
    return "v0=" + mac


def slack(base, secret, ts, body, retry=None):
    h = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
         "X-Slack-Signature": sign(secret, ts, body)}
    if retry:
        h["X-Slack-Retry-Num"] = retry
        h["X-Slack-Retry-Reason"] = "http_timeout"
    s, b = post(base, "/slack/events", body, h)
    print(s, b)


def main():
    base, cmd = sys.argv[1], sys.argv[2]
    a = sys.argv[3:]
    try:
        if cmd == "race":
            race(base, a[0])
        elif cmd == "sse":
            sse(base, a[0], int(a[1]), a[2] if len(a) > 2 and a[2] else None, int(a[3]) if len(a) > 3 else 0)
        elif cmd == "slack":
            slack(base, a[0], a[1], a[2], a[3] if len(a) > 3 else None)
        elif cmd == "sign":
            print(sign(a[0], a[1], a[2]))
    except Exception as e:  # the suite prints what went wrong
        print("error: %r" % (e,))


main()
