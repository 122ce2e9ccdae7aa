#!/usr/bin/env python3
"""tests/tools/fake_observability.py: a fake Prometheus + Loki + Jaeger HTTP
server for the context_collector tests, serving examples/fixtures/.

    python3 tests/tools/fake_observability.py PORTFILE LOGFILE [FIXTURE_DIR]

Listens on 127.0.0.1 only, on a port the kernel picks; writes the port to
PORTFILE once it accepts connections; appends one line per request
("GET /path?query") to LOGFILE. Exits by itself after 5 minutes.

Which file answers is decided by FIXTURE_DIR/index.json:
  prometheus  GET /api/v1/query_range: the first entry whose "match" is a
              substring of the query parameter and whose "start" (epoch
              seconds, optional) equals the start parameter. An entry may set
              "status" + "body" (an error answer) or "delay" (seconds).
              No entry: 200 with an empty matrix.
  loki        GET /loki/api/v1/query_range: the entry whose "start" equals the
              start parameter (nanoseconds, RFC 3339 or seconds accepted).
              No entry: 200 with no streams.
  jaeger      GET /api/traces: the entry whose "service" equals the service
              parameter; the spans outside [start, end] (microseconds) are
              dropped, and at most `limit` traces are returned.
  tempo       GET /api/search (tags=service.name=X or q=TraceQL naming "X";
              start/end seconds) and GET /api/traces/<id> (OTLP-JSON
              {"batches": [...]}), from the "tempo" entries (files
              {"service", "traces": {id: document}}).
  deploys     GET /deploys?service=X: the "deploys" entry's file.
Anything else: 404.
"""
import calendar
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

portfile, logfile = sys.argv[1], sys.argv[2]
fixdir = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "examples", "fixtures")
with open(os.path.join(fixdir, "index.json")) as f:
    INDEX = json.load(f)
lock = threading.Lock()


def load(rel):
    with open(os.path.join(fixdir, rel)) as f:
        return json.load(f)


def seconds(v):
    """a time parameter (seconds, ms, us, ns or RFC 3339) -> integer epoch seconds"""
    if v is None:
        return None
    try:
        n = float(v)
        while abs(n) >= 1e11:
            n /= 1000
        return int(n)
    except ValueError:
        return calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock, open(logfile, "a") as f:
            f.write("GET %s\n" % self.path)
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/api/v1/query_range":
            return self.prometheus(q)
        if u.path == "/loki/api/v1/query_range":
            return self.loki(q)
        if u.path == "/api/traces":
            return self.jaeger(q)
        if u.path == "/api/search":
            return self.tempo_search(q)
        if u.path.startswith("/api/traces/"):
            return self.tempo_trace(u.path[len("/api/traces/"):])
        if u.path == "/deploys":
            return self.deploys(q)
        self.reply(404, {"error": "no such path %s" % u.path})

    def prometheus(self, q):
        expr, start = q.get("query", ""), seconds(q.get("start"))
        for e in INDEX.get("prometheus", []):
            if e["match"] in expr and ("start" not in e or e["start"] == start):
                if e.get("delay"):
                    time.sleep(min(float(e["delay"]), 10))
                if "status" in e:
                    return self.reply(e["status"], e.get("body", {}))
                return self.reply(200, load(e["file"]))
        self.reply(200, {"status": "success", "data": {"resultType": "matrix", "result": []}})

    def loki(self, q):
        start = seconds(q.get("start"))
        for e in INDEX.get("loki", []):
            if e["start"] == start:
                body = load(e["file"])
                limit = int(q.get("limit", "100"))
                for s in body["data"]["result"]:       # the limit counts lines over all streams (approximation)
                    s["values"] = s["values"][:limit]
                return self.reply(200, body)
        self.reply(200, {"status": "success", "data": {"resultType": "streams", "result": []}})

    def jaeger(self, q):
        svc = q.get("service")
        start, end = int(q.get("start", "0")), int(q.get("end", str(2 ** 62)))
        limit = int(q.get("limit", "20"))
        for e in INDEX.get("jaeger", []):
            if e["service"] == svc:
                body = load(e["file"])
                data = [t for t in body["data"] if any(start <= s["startTime"] <= end for s in t["spans"])]
                body["data"] = data[:limit]
                return self.reply(200, body)
        self.reply(200, {"data": [], "total": 0, "limit": 0, "offset": 0, "errors": None})


    def tempo_search(self, q):
        """Tempo's search: the traces of the entry whose service is named by
        tags=service.name=X or a TraceQL q mentioning "X", whose first span
        starts in [start, end] (seconds), at most limit (newest first)"""
        start, end = int(q.get("start", "0")), int(q.get("end", str(2 ** 40)))
        limit = int(q.get("limit", "20"))
        want = q.get("tags", "").replace("service.name=", "") or q.get("q", "")
        for e in INDEX.get("tempo", []):
            if e["service"] == want or ('"%s"' % e["service"]) in want:
                found = []
                for tid, doc in load(e["file"])["traces"].items():
                    spans = [sp for b in doc["batches"] for sc in b["scopeSpans"] for sp in sc["spans"]]
                    t0 = min(int(sp["startTimeUnixNano"]) for sp in spans)
                    t1 = max(int(sp["endTimeUnixNano"]) for sp in spans)
                    if start <= t0 // 10 ** 9 <= end:
                        found.append({"traceID": tid, "rootServiceName": e["service"],
                                      "startTimeUnixNano": str(t0), "durationMs": (t1 - t0) // 10 ** 6})
                found.sort(key=lambda t: (-int(t["startTimeUnixNano"]), t["traceID"]))
                return self.reply(200, {"traces": found[:limit], "metrics": {"inspectedTraces": len(found)}})
        self.reply(200, {"traces": [], "metrics": {}})

    def tempo_trace(self, tid):
        """Tempo's trace by id: {"batches": [...]}; 404 like Tempo for an unknown id"""
        for e in INDEX.get("tempo", []):
            traces = load(e["file"])["traces"]
            if tid in traces:
                return self.reply(200, traces[tid])
        self.reply(404, {"error": "trace not found"})

    def deploys(self, q):
        """a deploy list (index "deploys": the entry whose service matches ?service=)"""
        for e in INDEX.get("deploys", []):
            if e["service"] == q.get("service"):
                return self.reply(200, load(e["file"]))
        self.reply(200, {"deploys": []})


# a listen backlog for concurrent clients (ctx.http.get_many): the default 5
# drops SYNs of a burst, and the retried connects look like a slow server
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
threading.Timer(300, lambda: os._exit(0)).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
