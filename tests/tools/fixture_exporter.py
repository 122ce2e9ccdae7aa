#!/usr/bin/env python3
"""tests/tools/fixture_exporter.py: a Prometheus exporter whose metrics change
over time in a known way, for tests/cli/collector_prometheus.sh (a real
Prometheus scrapes it).

    python3 tests/tools/fixture_exporter.py PORTFILE SWITCH_FILE

Listens on 127.0.0.1 on a port the kernel picks and writes it to PORTFILE once
it accepts connections. GET /metrics (text format 0.0.4) serves, for the
service "shop-api":

  shop_error_ratio                           0.01, then 0.25 once SWITCH_FILE exists
                                             (the incident: the test creates it when
                                             Prometheus has scraped the calm values)
  shop_queue_depth                           3, then 7 after the switch
  shop_requests_total (counter)              grows by exactly 100 per second of
                                             wall time (computed from the clock, so
                                             rate() over any range is 100)
  kube_deployment_status_observed_generation 41, then 42 after the switch (a deploy)

Exits by itself after 5 minutes.
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, switch_file = sys.argv[1], sys.argv[2]
T0 = time.time()


def metrics():
    now = time.time()
    after = os.path.exists(switch_file)
    svc = 'service="shop-api"'
    lines = [
        "# HELP shop_error_ratio share of failed requests",
        "# TYPE shop_error_ratio gauge",
        "shop_error_ratio{%s} %s" % (svc, "0.25" if after else "0.01"),
        "# HELP shop_queue_depth jobs waiting",
        "# TYPE shop_queue_depth gauge",
        "shop_queue_depth{%s} %d" % (svc, 7 if after else 3),
        "# HELP shop_requests_total requests served",
        "# TYPE shop_requests_total counter",
        "shop_requests_total{%s} %.3f" % (svc, (now - T0) * 100),
        "# HELP kube_deployment_status_observed_generation the generation observed by the deployment controller",
        "# TYPE kube_deployment_status_observed_generation gauge",
        'kube_deployment_status_observed_generation{deployment="shop-api",namespace="shop"} %d' % (42 if after else 41),
    ]
    return ("\n".join(lines) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.split("?")[0] != "/metrics":
            body, status, ctype = b"not found\n", 404, "text/plain"
        else:
            body, status, ctype = metrics(), 200, "text/plain; version=0.0.4"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


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
