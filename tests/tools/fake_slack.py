#!/usr/bin/env python3
"""tests/tools/fake_slack.py: a fake Slack Web API for the Slack tests
(tests/cli/serve_slack.sh).

    python3 tests/tools/fake_slack.py PORTFILE LOGFILE

Listens on 127.0.0.1 only, on a port the kernel picks; writes the port to
PORTFILE once it accepts connections; appends one JSON line per request to
LOGFILE: {"t", "path", "authorization", "content_type", "body", "ts"} (body =
the request as parsed JSON, or the raw text; ts = the one a chat.postMessage
was answered with), so a test can see what opsgraph sent and with which token. Exits by itself after 10 minutes.

  POST /api/chat.postMessage   {"ok": true, "channel", "ts": "<n>.000100", "message"}
                               channel "C_FAIL": {"ok": false, "error": "channel_not_found"}
  POST /api/chat.update        {"ok": true, "channel", "ts"}
  POST /api/chat.postEphemeral {"ok": true, "message_ts"}
  POST /response/...           200 "ok" (an interaction's response_url)
  Without "Authorization: Bearer ..." an /api/ method answers
  {"ok": false, "error": "not_authed"}, as Slack does.
anything else                  404
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counter = [1700000000]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        auth = self.headers.get("Authorization")
        with lock:
            counter[0] += 1
            ts = "%d.000100" % counter[0]
            with open(LOGFILE, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path, "authorization": auth,
                                    "content_type": self.headers.get("Content-Type"), "body": body,
                                    "ts": ts}) + "\n")
        b = body if isinstance(body, dict) else {}
        if self.path.startswith("/response/"):
            return self.answer(200, "ok", "text/plain")
        if not self.path.startswith("/api/"):
            return self.answer(404, {"ok": False, "error": "unknown_method"})
        if not (auth or "").startswith("Bearer ") or len(auth) <= 7:
            return self.answer(200, {"ok": False, "error": "not_authed"})
        method = self.path[len("/api/"):]
        if method == "chat.postMessage":
            if b.get("channel") == "C_FAIL":
                return self.answer(200, {"ok": False, "error": "channel_not_found"})
            return self.answer(200, {"ok": True, "channel": b.get("channel"), "ts": ts,
                                     "message": {"text": b.get("text"), "ts": ts}})
        if method == "chat.update":
            return self.answer(200, {"ok": True, "channel": b.get("channel"), "ts": b.get("ts")})
        if method == "chat.postEphemeral":
            return self.answer(200, {"ok": True, "message_ts": ts})
        return self.answer(404, {"ok": False, "error": "unknown_method"})


# a listen backlog for bursts of clients (the default 5 drops SYNs, and a
# client retries ~1 s later: what looks like a timeout)
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Timer(600, srv.shutdown).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
