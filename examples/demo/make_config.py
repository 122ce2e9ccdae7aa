#!/usr/bin/env python3
"""examples/demo/make_config.py: the configuration of the demo incident
(scripts/demo.sh, tests/cli/incident_e2e.sh), made from
config/opsgraph.example.json for this machine's ports and paths.

    python3 examples/demo/make_config.py OBS_URL DEMO_DIR OUT.json [--ttl-s N --final-s N]

  OBS_URL   the fake observability server (examples' recorded Prometheus,
            Loki and Jaeger answers: tests/tools/fake_observability.py)
  DEMO_DIR  where the demo services keep their state: DEMO_DIR/<service>/
            (examples/demo-service/ctl.py --state-dir DEMO_DIR/<service>)

What it changes in the example config:
  * every source URL (Prometheus, Loki, Jaeger, Tempo) -> OBS_URL, so the
    collector reads the recorded Black Friday / slow SQL / OOM fixtures;
  * tool_overrides: restart_service, reduce_traffic, scale_replicas,
    clear_cache and check_health run examples/demo-service/ctl.py against
    the demo service of the alert's service (kubectl is not needed); a
    service with no demo instance fails the tool with ctl.py's message;
  * services.payment-service.verify asks the demo service's own
    Prometheus-compatible /api/v1/query whether its connection pool is back
    under 80 %, once a second for at most 20 s (the port comes from
    DEMO_DIR/payment-service/port, so start the service first);
  * services.<svc>.runbook: examples/demo/runbooks/<svc>.md when it exists;
  * decision: deadlines (default 15 min to escalate to #payments-oncall,
    30 min to take "manual"), shorter with --ttl-s/--final-s.
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    obs, demo_dir, out = argv[0].rstrip("/"), os.path.abspath(argv[1]), argv[2]
    opts = dict(zip(argv[3::2], argv[4::2]))
    with open(os.path.join(ROOT, "config", "opsgraph.example.json")) as f:
        text = f.read()
    for port in ("9090", "3100", "16686", "3200"):
        text = text.replace("http://127.0.0.1:" + port, obs)
    cfg = json.loads(text)
    ctl = os.path.join(ROOT, "examples", "demo-service", "ctl.py")
    state = os.path.join(demo_dir, "{service}")

    def ctl_cmd(*args):
        return ["python3", ctl, "--state-dir", state] + list(args)

    cfg["tool_overrides"] = {
        "restart_service": {"command": ctl_cmd("restart", "{service}"), "timeout_s": 30},
        "reduce_traffic": {"command": ctl_cmd("shed", "{service}", "{percent}"), "timeout_s": 15},
        "scale_replicas": {"command": ctl_cmd("scale", "{service}", "{replicas}"), "timeout_s": 15},
        "clear_cache": {"command": ctl_cmd("clear-cache", "{service}"), "timeout_s": 15},
        "check_health": {"command": ctl_cmd("health", "{service}"), "timeout_s": 15},
    }
    pay = cfg["services"]["payment-service"]
    port_file = os.path.join(demo_dir, "payment-service", "port")
    with open(port_file) as f:
        port = f.read().strip()
    pay["verify"] = {
        "query": 'hikaricp_connections_active{service="$service"} / hikaricp_connections_max{service="$service"}',
        "threshold": 0.8, "condition": "below", "window_s": 20, "interval_s": 1,
        "prometheus_url": "http://127.0.0.1:%s" % port,
    }
    for svc, s in cfg["services"].items():
        rb = os.path.join("examples", "demo", "runbooks", svc + ".md")
        if os.path.exists(os.path.join(ROOT, rb)):
            s["runbook"] = rb
    cfg["decision"] = {
        "ttl_s": float(opts.get("--ttl-s", 900)), "final_s": float(opts.get("--final-s", 1800)),
        "default": "manual", "escalation": {"target": "#payments-oncall"},
    }
    with open(out + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main(sys.argv[1:])
