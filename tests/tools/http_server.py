#!/usr/bin/env python3
"""tests/tools/http_server.py: a tiny HTTP server for the ctx.http CLI tests.

    python3 tests/tools/http_server.py PORTFILE LOGFILE

Listens on 127.0.0.1 and a port the kernel picks, writes the port to
PORTFILE once it accepts connections, and appends one line per request,
"METHOD /path?query", to LOGFILE (so a test can count requests). Runs until
it is killed, or for 10 minutes at most.

Paths:
  /json        200 application/json {"ok": true, "n": 1, "list": [1, 2]}
  /badjson     200 application/json, not JSON
  /text        200 text/plain "hello"
  /echo...     200 application/json: {method, path, headers (lower-cased), body}
  /status/N    status N, text body "status N"
  /slow        answers after 3 s
  /big         200 with 5000 bytes
  /bytes/N     200 with N bytes (at most 8 MiB)
  /binary      200 application/octet-stream, bytes 00 ff 61 00
  /barrier/G/K/MS  a barrier: answers 200 "released" once K requests of group G
               are open at the same time (then every later one of G too), or
               503 "barrier: N of K" after waiting MS ms (at most 10000) for it
  anything else (e.g. /once): 200 text/plain "once"
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logfile = sys.argv[1], sys.argv[2]
lock = threading.Lock()
barrier_cv = threading.Condition()
barrier_open = {}      # group -> requests of it open now
barrier_released = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the request log is our own
        pass

    def reply(self, status, body, ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Server", "test")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def barrier(self, group, k, ms):
        deadline = time.monotonic() + min(ms, 10000) / 1000.0
        with barrier_cv:
            barrier_open[group] = barrier_open.get(group, 0) + 1
            if barrier_open[group] >= k:
                barrier_released.add(group)
                barrier_cv.notify_all()
            while group not in barrier_released:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                barrier_cv.wait(left)
            seen = barrier_open[group]
            barrier_open[group] -= 1
            ok = group in barrier_released
        if ok:
            self.reply(200, "released")
        else:
            self.reply(503, "barrier: %d of %d" % (seen, k))

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock, open(logfile, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        p = self.path
        if p == "/json":
            self.reply(200, json.dumps({"ok": True, "n": 1, "list": [1, 2]}), "application/json")
        elif p == "/badjson":
            self.reply(200, "{not json", "application/json; charset=utf-8")
        elif p == "/text":
            self.reply(200, "hello")
        elif p.startswith("/echo"):
            out = {
                "method": self.command,
                "path": p,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            self.reply(200, json.dumps(out), "application/problem+json")
        elif p.startswith("/status/"):
            code = int(p.split("/")[2])
            self.reply(code, "status %d" % code)
        elif p == "/slow":
            time.sleep(3)
            self.reply(200, "late")
        elif p.startswith("/barrier/"):
            _, _, group, k, ms = p.split("?")[0].split("/")
            self.barrier(group, int(k), int(ms))
        elif p.startswith("/bytes/"):
            self.reply(200, "x" * min(int(p.split("/")[2].split("?")[0]), 8 << 20))
        elif p == "/big":
            self.reply(200, "x" * 5000)
        elif p == "/binary":
            self.reply(200, b"\x00\xffa\x00", "application/octet-stream")
        else:
            self.reply(200, "once")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


# a listen backlog for concurrent clients (ctx.http.get_many): the default 5
# drops SYNs of a burst, and the retried connects look like a slow server
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
threading.Timer(600, lambda: os._exit(0)).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
