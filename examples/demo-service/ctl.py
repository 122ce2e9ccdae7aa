#!/usr/bin/env python3
"""examples/demo-service/ctl.py: controls the demo service (service.py). The
demo's tool overrides point the incident tools here (make demo,
tests/cli/incident_e2e.sh): restart_service -> restart, reduce_traffic ->
shed, scale_replicas -> scale, clear_cache -> clear-cache, check_health ->
health.

    ctl.py --state-dir DIR start [--fault pool_leak] [--service NAME] [--lifetime S]
    ctl.py --state-dir DIR restart SERVICE      SIGTERM, then the same command line without --fault
    ctl.py --state-dir DIR health SERVICE       exit 0 healthy, 1 degraded
    ctl.py --state-dir DIR shed SERVICE PERCENT
    ctl.py --state-dir DIR scale SERVICE REPLICAS
    ctl.py --state-dir DIR clear-cache SERVICE
    ctl.py --state-dir DIR load SERVICE N       N requests to /pay (demo traffic)
    ctl.py --state-dir DIR stop

Every command names the service it acts on and fails (exit 2) when the
demo service in DIR is another one, as kubectl would for an unknown
deployment. Output is one line saying what changed. Waits are bounded.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def die(code, msg):
    print("ctl.py: " + msg, file=sys.stderr)
    sys.exit(code)


def usage():
    die(2, __doc__.split("\n\n")[1].strip())


def read(state_dir, name):
    try:
        with open(os.path.join(state_dir, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def call(port, method, path, timeout=5):
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), method=method,
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
    except (OSError, urllib.error.URLError) as e:
        die(1, "the demo service on 127.0.0.1:%s does not answer %s %s: %s" % (port, method, path, e))


def pool(port):
    try:
        req = urllib.request.urlopen("http://127.0.0.1:%s/health" % port, timeout=2)
        body = json.loads(req.read())
    except urllib.error.HTTPError as e:
        body = json.loads(e.read() or b"null")
    except (OSError, ValueError):
        return "unknown"
    return "%d/100" % round(body["pool_used"] * 100) if isinstance(body, dict) and "pool_used" in body else "unknown"


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie child of ours counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def spawn(state_dir, port, service, lifetime, fault):
    """start service.py detached (own session, output to DIR/service.log), wait for its port"""
    try:
        os.unlink(os.path.join(state_dir, "port"))
    except OSError:
        pass
    cmd = [sys.executable, os.path.join(HERE, "service.py"), "--state-dir", state_dir, "--port", str(port),
           "--service", service, "--lifetime", str(lifetime)]
    if fault:
        cmd += ["--fault", fault]
    with open(os.path.join(state_dir, "service.log"), "a") as log:
        # a new session: the tool runner kills its own process group when a
        # tool ends, and must not take the service with it
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    for _ in range(100):
        if read(state_dir, "port"):
            return p.pid
        if p.poll() is not None:
            die(1, "the service exited at start (code %s); see %s" % (p.returncode,
                                                                     os.path.join(state_dir, "service.log")))
        time.sleep(0.1)
    die(1, "the service did not start within 10 s; see %s" % os.path.join(state_dir, "service.log"))


def main(argv):
    if len(argv) < 3 or argv[0] != "--state-dir":
        usage()
    state_dir, cmd, rest = os.path.abspath(argv[1]), argv[2], argv[3:]
    if cmd == "start":
        opts = {"--fault": None, "--service": "payment-service", "--lifetime": "1800", "--port": "0"}
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                usage()
            opts[rest[0]] = rest[1]
            rest = rest[2:]
        os.makedirs(state_dir, exist_ok=True)
        pid = spawn(state_dir, int(opts["--port"]), opts["--service"], float(opts["--lifetime"]), opts["--fault"])
        port = read(state_dir, "port")
        print("started %s (pid %d) on http://127.0.0.1:%s, fault: %s, pool %s" % (
            opts["--service"], pid, port, opts["--fault"] or "none", pool(port)))
        return 0
    info = read(state_dir, "args.json")
    port = read(state_dir, "port")
    if not info or not port:
        die(1, "no demo service in %s (start it: ctl.py --state-dir %s start --fault pool_leak)" % (state_dir, state_dir))
    info = json.loads(info)
    if cmd == "stop":
        pid = int(read(state_dir, "pid") or 0)
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
        print("stopped %s (pid %d)" % (info["service"], pid))
        return 0
    if not rest:
        usage()
    if rest[0] != info["service"]:
        die(2, "no service %r here: the demo service is %r" % (rest[0], info["service"]))
    svc = rest[0]
    if cmd == "restart":
        before = pool(port)
        old = int(read(state_dir, "pid") or 0)
        if old and alive(old):
            os.kill(old, signal.SIGTERM)
            for _ in range(50):
                if not alive(old):
                    break
                time.sleep(0.1)
            else:
                die(1, "pid %d did not stop within 5 s after SIGTERM" % old)
        pid = spawn(state_dir, int(info["port"]), svc, info["lifetime"], None)
        print("restarted %s: pid %d -> %d, connection pool %s -> %s" % (svc, old, pid, before, pool(port)))
        return 0
    if cmd == "health":
        status, body = call(port, "GET", "/health")
        print("%s: %s, connection pool %s" % (svc, body.get("status"), pool(port)))
        return 0 if status == 200 else 1
    if cmd in ("shed", "scale"):
        if len(rest) != 2 or not rest[1].isdigit():
            usage()
        path = "/admin/shed?percent=%s" % rest[1] if cmd == "shed" else "/admin/scale?replicas=%s" % rest[1]
        status, body = call(port, "POST", path)
        if status != 200:
            die(1, "%s %s: %s" % (cmd, svc, body.get("error")))
        print("%s: %s" % (svc, "shedding %s%% of requests" % rest[1] if cmd == "shed" else "%s replicas" % rest[1]))
        return 0
    if cmd == "clear-cache":
        status, body = call(port, "POST", "/admin/clear_cache")
        print("%s: cache cleared (%s flushes so far)" % (svc, body.get("cache_clears")))
        return 0 if status == 200 else 1
    if cmd == "load":
        if len(rest) != 2 or not rest[1].isdigit():
            usage()
        codes = {}
        for _ in range(int(rest[1])):
            status, _ = call(port, "GET", "/pay")
            codes[status] = codes.get(status, 0) + 1
        print("%s: %s, connection pool %s" % (svc, ", ".join("%d x HTTP %d" % (n, c) for c, n in sorted(codes.items())),
                                             pool(port)))
        return 0
    usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
