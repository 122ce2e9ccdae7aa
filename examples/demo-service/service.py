#!/usr/bin/env python3
"""examples/demo-service/service.py: a small local "payment-service" whose
faults the incident graph's tools can really fix (make demo,
tests/cli/incident_e2e.sh). Python 3 standard library only.

    python3 service.py --state-dir DIR [--port N] [--fault pool_leak] [--service NAME]

Listens on 127.0.0.1 only (a port the kernel picks unless --port), and
writes DIR/port, DIR/pid and DIR/args.json (how it was started, so ctl.py
can restart it the same way, without the fault). Exits by itself after
--lifetime seconds (default 1800), so a forgotten demo does not linger.

The fault: --fault pool_leak starts it with 98 of its 100 database
connections held by leaked sessions, and every request to /pay leaks one
more (up to the maximum; then /pay answers 503). The leak lives in the
process's memory, so a restart (ctl.py restart: SIGTERM, then the same
command line without --fault) really clears it, as it would for a
connection leak in a real service.

Paths:
  GET  /metrics        Prometheus text format: hikaricp_connections_active,
                       hikaricp_connections_max, http_requests_total{code},
                       demo_traffic_shed_ratio, demo_replicas, demo_cache_clears_total,
                       demo_start_time_seconds
  GET  /api/v1/query   Prometheus's instant-query API over the metrics above,
                       so verify_recovery can ask it without a Prometheus
                       server: a query is a metric selector
                       (name{label="v",...}) or two of them divided
                       ("A / B", matched on their labels). Anything else is
                       answered with Prometheus's bad_data error; nothing is
                       made up.
  GET  /health         200 {"status": "ok"} or 503 {"status": "degraded", ...}
  GET|POST /pay        one request of the service (leaks a connection under the fault)
  POST /admin/shed?percent=N      drop N % of /pay at the door (reduce_traffic)
  POST /admin/scale?replicas=N    record N replicas (scale_replicas: the pool per
                                  replica stays; the total capacity grows)
  POST /admin/clear_cache         count a cache flush (clear_cache)
  POST /admin/stop                exit (ctl.py stop)
"""
import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--state-dir", required=True)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--fault", choices=["pool_leak"], default=None)
ap.add_argument("--service", default="payment-service")
ap.add_argument("--lifetime", type=float, default=1800)
args = ap.parse_args()

POOL_MAX = 100
lock = threading.Lock()
state = {
    "active": 98 if args.fault == "pool_leak" else 6,   # a healthy pool idles at a few connections
    "replicas": 1,
    "shed": 0.0,
    "cache_clears": 0,
    "pay_n": 0,
    "requests": {"200": 0, "503": 0},
    "started": time.time(),
}


def metrics():
    """[(name, labels, value)] of the service's own metrics"""
    svc = {"service": args.service}
    with lock:
        out = [
            ("hikaricp_connections_active", dict(svc, pool="HikariPool-payments"), state["active"]),
            ("hikaricp_connections_max", dict(svc, pool="HikariPool-payments"), POOL_MAX),
            ("demo_traffic_shed_ratio", svc, state["shed"]),
            ("demo_replicas", svc, state["replicas"]),
            ("demo_cache_clears_total", svc, state["cache_clears"]),
            ("demo_start_time_seconds", svc, state["started"]),
        ]
        for code, n in sorted(state["requests"].items()):
            out.append(("http_requests_total", dict(svc, code=code), n))
    return out


def text_format():
    lines = []
    for name, labels, value in metrics():
        lab = ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()))
        lines.append("%s{%s} %s" % (name, lab, repr(float(value))))
    return "\n".join(lines) + "\n"


SELECTOR = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{([^}]*)\})?\s*$')
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*(?:,|$)')


def select(expr):
    """a metric selector -> [(labels, value)], or raise ValueError"""
    m = SELECTOR.match(expr)
    if not m:
        raise ValueError("not a metric selector: %r" % expr.strip())
    name, body = m.group(1), m.group(2) or ""
    want, pos = {}, 0
    while pos < len(body.strip()):
        mm = MATCHER.match(body, pos)
        if not mm:
            raise ValueError("only label=\"value\" matchers are supported: %r" % body)
        want[mm.group(1)] = mm.group(2)
        pos = mm.end()
    return [(labels, float(v)) for n, labels, v in metrics()
            if n == name and all(labels.get(k) == v for k, v in want.items())]


def instant_query(q):
    parts = q.split(" / ")
    if len(parts) == 1:
        return select(parts[0])
    if len(parts) != 2:
        raise ValueError("at most one division: A / B")
    num, den = select(parts[0]), select(parts[1])
    out = []
    for labels, v in num:
        for l2, d in den:
            if l2 == labels and d != 0:
                out.append((labels, v / d))
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def pay(self):
        with lock:
            n, pct = state["pay_n"], round(state["shed"] * 100)
            state["pay_n"] = n + 1
            if (n + 1) * pct // 100 != n * pct // 100:   # pct of every 100 requests, spread out, dropped at the door
                state["requests"]["503"] += 1
                return self.reply(503, {"error": "shed at the gateway"})
            if args.fault == "pool_leak" and state["active"] < POOL_MAX:
                state["active"] += 1                   # the leak: this session never returns its connection
            ok = state["active"] < POOL_MAX
            state["requests"]["200" if ok else "503"] += 1
        if ok:
            return self.reply(200, {"status": "paid"})
        return self.reply(503, {"error": "connection pool exhausted (%d of %d in use)" % (POOL_MAX, POOL_MAX)})

    def route(self, method):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if method == "GET" and u.path == "/metrics":
            return self.reply(200, text_format(), "text/plain; version=0.0.4")
        if method == "GET" and u.path == "/api/v1/query":
            try:
                res = instant_query(q.get("query", ""))
            except ValueError as e:
                return self.reply(400, {"status": "error", "errorType": "bad_data",
                                        "error": "demo service: %s (it evaluates a metric selector or A / B)" % e})
            now = time.time()
            return self.reply(200, {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": labels, "value": [now, repr(v)]} for labels, v in res]}})
        if method == "GET" and u.path == "/health":
            with lock:
                used = state["active"] / POOL_MAX
            if used > 0.9:
                return self.reply(503, {"status": "degraded", "pool_used": used})
            return self.reply(200, {"status": "ok", "pool_used": used})
        if u.path == "/pay":
            return self.pay()
        if method == "POST" and u.path == "/admin/shed":
            pct = int(q.get("percent", "0"))
            if not 0 <= pct <= 99:
                return self.reply(400, {"error": "percent must be 0..99"})
            with lock:
                state["shed"] = pct / 100
            return self.reply(200, {"shed_percent": pct})
        if method == "POST" and u.path == "/admin/scale":
            n = int(q.get("replicas", "1"))
            if not 1 <= n <= 50:
                return self.reply(400, {"error": "replicas must be 1..50"})
            with lock:
                state["replicas"] = n
            return self.reply(200, {"replicas": n})
        if method == "POST" and u.path == "/admin/clear_cache":
            with lock:
                state["cache_clears"] += 1
            return self.reply(200, {"cache_clears": state["cache_clears"]})
        if method == "POST" and u.path == "/admin/stop":
            self.reply(200, {"stopping": True})
            threading.Thread(target=lambda: (time.sleep(0.05), os._exit(0))).start()
            return None
        return self.reply(404, {"error": "no such path %s %s" % (method, u.path)})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.route("POST")


os.makedirs(args.state_dir, exist_ok=True)
srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
srv.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
threading.Timer(args.lifetime, lambda: os._exit(0)).start()


def write(name, text):
    path = os.path.join(args.state_dir, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


write("args.json", json.dumps({"port": srv.server_address[1], "service": args.service,
                               "lifetime": args.lifetime, "fault": args.fault}))
write("pid", str(os.getpid()))
write("port", str(srv.server_address[1]))   # last: ctl.py and the scripts wait for it
print("demo %s on http://127.0.0.1:%d (fault: %s)" % (args.service, srv.server_address[1], args.fault),
      file=sys.stderr, flush=True)
srv.serve_forever()
