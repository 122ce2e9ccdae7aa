#!/usr/bin/env python3
"""tests/tools/fake_otlp.py: a fake OpenTelemetry collector (OTLP/HTTP JSON)
for tests/cli/otlp_export.sh.

    python3 tests/tools/fake_otlp.py PORTFILE LOGFILE

Listens on 127.0.0.1 on a port the kernel picks and writes the port to
PORTFILE once it accepts connections. POST /v1/traces with Content-Type
application/json and a JSON body is answered 200 {"partialSuccess": {}} and
appended to LOGFILE as one JSON line {"path", "content_type", "headers"
(lower-cased names), "body"}; any other path or method gets 404, a body that
is not JSON 400 (both logged too, with "body": null). Exits by itself after
10 minutes.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logfile = sys.argv[1], sys.argv[2]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log(self, body):
        entry = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        with lock, open(logfile, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path != "/v1/traces":
            self.log(None)
            return self.reply(404, {"error": "no such path"})
        try:
            body = json.loads(raw)
        except ValueError:
            self.log(None)
            return self.reply(400, {"error": "not JSON"})
        self.log(body)
        self.reply(200, {"partialSuccess": {}})

    def do_GET(self):
        self.reply(404, {"error": "POST /v1/traces"})


# a listen backlog for bursts of clients (the default 5 drops SYNs, and a
# client retries ~1 s later: what looks like a timeout)
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
timer = threading.Timer(600, srv.shutdown)
timer.daemon = True
timer.start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
