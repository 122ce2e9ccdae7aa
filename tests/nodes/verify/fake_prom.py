#!/usr/bin/env python3
"""tests/nodes/verify/fake_prom.py: a fake Prometheus instant-query API
(/api/v1/query) whose answers change from one request to the next, for
tests/cli/nodes_verify.sh (tests/tools/fake_observability.py serves only
fixed query_range answers).

    OG_FAKE_PROM_SCRIPT=script.json python3 fake_prom.py PORTFILE LOGFILE

Listens on 127.0.0.1 only, on a port the kernel picks; writes the port to
PORTFILE once it accepts connections; appends one line per request
("GET /path?query") to LOGFILE. Exits by itself after 5 minutes.

script.json: {"<substring of the query>": [step, step, ...]}. The first
entry whose key is in the query parameter answers; each request takes the
next step, the last one repeats. A step is:
  a number      one series with that value
  [a, b, ...]   one series per value
  null          an empty vector (no series)
  "error"       HTTP 500 with a Prometheus error body
The script file is re-read on every request, so a test may change it.
No matching entry: HTTP 400 {"status": "error", "error": "no script for query ..."}.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

portfile, logfile = sys.argv[1], sys.argv[2]
script_path = os.environ["OG_FAKE_PROM_SCRIPT"]
lock = threading.Lock()
served = {}


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
        if u.path != "/api/v1/query":
            return self.reply(404, {"status": "error", "error": "not found"})
        query = q.get("query", "")
        with open(script_path) as f:
            script = json.load(f)
        key = next((k for k in script if k in query), None)
        if key is None:
            return self.reply(400, {"status": "error", "errorType": "bad_data", "error": "no script for query %r" % query})
        with lock:
            n = served.get(key, 0)
            served[key] = n + 1
        steps = script[key]
        step = steps[min(n, len(steps) - 1)]
        if step == "error":
            return self.reply(500, {"status": "error", "errorType": "internal", "error": "fake failure"})
        values = [] if step is None else (step if isinstance(step, list) else [step])
        now = time.time()
        result = [{"metric": {"service": "payment-service", "i": str(i)}, "value": [now, str(v)]}
                  for i, v in enumerate(values)]
        self.reply(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


# a listen backlog for bursts of clients (the default 5 drops SYNs, and a
# client retries ~1 s later: what looks like a timeout)
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
threading.Timer(300, lambda: os._exit(0)).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
