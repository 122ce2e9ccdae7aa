#!/usr/bin/env python3
"""tests/tools/fake_llm.py: a fake OpenAI-compatible chat server for the
ctx.llm tests (tests/cli/llm_chain.sh).

    python3 tests/tools/fake_llm.py PORTFILE LOGFILE

Listens on 127.0.0.1 only, on a port the kernel picks; writes the port to
PORTFILE once it accepts connections; appends one JSON line per request to
LOGFILE: {"t", "path", "model", "authorization", "body"} (body = the request as
parsed JSON, or the raw text), so a test can count requests, check that
response_format was sent and that no real host name, IP or key reached it.
Exits by itself after 10 minutes.

POST /v1/chat/completions answers according to the requested model name:
  ok               200, a valid rca answer (see answer())
  rate-limited     429 without Retry-After
  retry-after      429 with Retry-After: 1 on the first request for this
                   model, then like ok
  retry-after-long 429 with Retry-After: 30
  server-error     500
  hang             answers after 5 s (past a short timeout_ms)
  invalid-json     content that is not JSON, unless the request already
                   holds an assistant turn (the repair retry): then like ok
  schema-invalid   a JSON object missing "evidence" with confidence 7,
                   then (repair retry) like ok
  always-invalid   content that is never JSON
  no-content       200 with choices[0].message.content = null
  not-openai       200 with a JSON body that has no choices
  plan-ok          200, a plan answer: {actions: [scale_replicas to 6 replicas,
                   a "format_disk" tool the registry does not have]}
anything else      404
The ok answer names the first redacted jdbc: URL and the first IPv4 address
found in the user message, so the test sees them mapped back.
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logfile = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}


def answer(user):
    url = re.search(r"jdbc:[^\s\"\\,;]+", user)
    ip = re.search(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", user)
    return {
        "root_cause": "connection pool exhausted on %s" % (url.group(0) if url else "the database"),
        "evidence": ["pool at 98%% of max on %s" % (ip.group(0) if ip else "the primary"),
                     "timeouts acquiring connections"],
        "impact": "checkout requests fail",
        "confidence": 0.82,
        "candidates": [{
            "title": "Restart the service",
            "description": "frees the leaked connections",
            "risk": "low",
            "eta": 120,
            "tools": [{"name": "restart_service", "args": {"service": "payment-service"}}],
        }],
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj, headers=None):
        body = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def completion(self, content, model):
        self.reply(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        })

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        model = body.get("model") if isinstance(body, dict) else None
        with lock:
            with open(logfile, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path, "model": model,
                                    "authorization": self.headers.get("Authorization"),
                                    "body": body}) + "\n")
            seen[model] = seen.get(model, 0) + 1
            count = seen[model]
        if self.path != "/v1/chat/completions" or not isinstance(body, dict):
            return self.reply(404, {"error": {"message": "no such endpoint"}})
        msgs = body.get("messages") or []
        user = next((m.get("content", "") for m in msgs if m.get("role") == "user"), "")
        repair = any(m.get("role") == "assistant" for m in msgs)
        good = json.dumps(answer(user))
        if model == "ok":
            return self.completion(good, model)
        if model == "rate-limited":
            return self.reply(429, {"error": {"message": "rate limit exceeded"}})
        if model == "retry-after":
            if count == 1:
                return self.reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
            return self.completion(good, model)
        if model == "retry-after-long":
            return self.reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "30"})
        if model == "server-error":
            return self.reply(500, {"error": {"message": "internal error"}})
        if model == "hang":
            time.sleep(5)
            return self.completion(good, model)
        if model == "invalid-json":
            return self.completion(good if repair else "Sure! The root cause is {probably the pool", model)
        if model == "schema-invalid":
            return self.completion(good if repair else json.dumps({"root_cause": "pool", "impact": "x",
                                                                   "confidence": 7}), model)
        if model == "always-invalid":
            return self.completion("I think it is the database.", model)
        if model == "no-content":
            return self.reply(200, {"choices": [{"message": {"role": "assistant", "content": None}}]})
        if model == "plan-ok":
            return self.completion(json.dumps({"actions": [
                {"title": "Scale payment-service to 6 replicas", "description": "more pools", "risk": "medium",
                 "eta": 200, "tools": [{"name": "scale_replicas", "args": {"service": "payment-service", "replicas": 6}}]},
                {"title": "Format the disk", "description": "invented", "risk": "high", "eta": 10,
                 "tools": [{"name": "format_disk", "args": {}}]}]}), model)
        if model == "not-openai":
            return self.reply(200, {"hello": "world"})
        return self.reply(404, {"error": {"message": "model %r not found" % model}})


# a listen backlog for bursts of clients (the default 5 drops SYNs, and a
# client retries ~1 s later: what looks like a timeout)
ThreadingHTTPServer.request_queue_size = 64
srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
threading.Timer(600, lambda: threading.Thread(target=srv.shutdown).start()).start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
