#!/usr/bin/env python3
"""The event export's cost (issue 27), measured on a real server through the real API.

Loads a person's day of intervals through POST /api/v1/intervals (each interval a minute in
one window with a 1 KiB title, a 1.5 KiB URL and a 0.5 KiB path, and 420 events, the most
an interval of a minute may carry, so every event refers to long window strings), then, on a
freshly started server, runs two exports of that day at once while /api/v1/health is asked
every 20 ms, and reports:

- the answers' sizes and how long they took;
- /api/v1/health latency during the exports (p50, p99, max; every answer counted);
- the server's resident memory before the exports (VmRSS) and its peak during them (VmHWM,
  from /proc/PID/status, reset through /proc/PID/clear_refs once signed in), and the growth
  between them.

Usage: scripts/export-perf.py SERVER_BINARY [--stored-mb 4.2] [--days 1] [--format json|xes]
(--stored-mb a day, for each of --days consecutive days; the export asks for all of them.)
(Python 3 standard library and curl; Linux, for /proc.) docs/PERFORMANCE.md has the figures.
"""

import argparse
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

TASK_DEVICE = "01930000-0000-7000-8000-00000000d001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, timeout=600):
    data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def start(binary, db, port):
    server = subprocess.Popen(
        [binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            call(base, "GET", "/api/v1/health", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("the server did not start")


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def interval(task, start, n):
    """A minute in one window (unique strings per interval) with 420 events."""
    at = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    kinds = ["HardwareKeyboardEvent", "HardwareMouseClick", "HardwareMouseScroll",
             "InjectedKeyboardEvent", "InjectedMouseClick", "InjectedMouseScroll", "WindowUpdate"]
    return {
        "id": str(uuid.uuid4()),
        "device_id": TASK_DEVICE,
        "task_id": task,
        "started_at": at(start),
        "ended_at": at(start + datetime.timedelta(seconds=60)),
        "utc_offset_minutes": 60,
        "end_reason": "boundary",
        "active": "1" * 60,
        "counts": {"keys": 300, "clicks": 20, "scrolls": 10, "moves": 500},
        "windows": [{
            "offset": 0, "seconds": 60, "app": "chromium",
            "title": f"{n:06} " + "t" * 1017,
            "url": f"https://example.test/{n:06}/" + "u" * 1480,
            "path": "/usr/lib/chromium/" + "p" * 490,
        }],
        "events": [{"offset": s, "type": kinds[k]} for s in range(60) for k in range(7)],
    }


def load(base, token, task, day, stored_bytes):
    """Posts intervals from 01:00 UTC of `day` until `stored_bytes` are sent; returns the bytes."""
    sent, n, batch = 0, 0, []
    t = day + datetime.timedelta(hours=1)
    while sent < stored_bytes:
        i = interval(task, t, n)
        sent += len(json.dumps(i, separators=(",", ":")))
        batch.append(i)
        n += 1
        t += datetime.timedelta(seconds=60)
        if len(batch) == 100 or sent >= stored_bytes:
            status, body = call(base, "POST", "/api/v1/intervals", token, {"intervals": batch})
            results = json.loads(body)["results"]
            refused = [r for r in results if r["status"] != "accepted"]
            if refused:
                sys.exit(f"intervals refused: {refused[:3]}")
            batch = []
    return sent, n


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--stored-mb", type=float, default=4.2)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--format", default="json", choices=["json", "xes"])
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="metron-export-perf.")
    db = os.path.join(work, "server.sqlite")
    subprocess.run([args.binary, "--db", db, "user", "add", "--email", "ann@acme.test",
                    "--name", "Ann", "--password", "ann-password"],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server, base = start(args.binary, db, port)
    _, body = call(base, "POST", "/api/v1/login", body={"email": "ann@acme.test",
                                                       "password": "ann-password"})
    token = json.loads(body)["token"]
    _, body = call(base, "POST", "/api/v1/tasks", token, {"name": "Research", "project": "Q4"})
    task = json.loads(body)["id"]
    today = datetime.datetime.now(datetime.timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0)
    day = today - datetime.timedelta(days=2 + args.days)
    sent, count = 0, 0
    for n in range(args.days):
        bytes_, intervals = load(base, token, task, day + datetime.timedelta(days=n),
                                 int(args.stored_mb * 1e6))
        sent, count = sent + bytes_, count + intervals
    server.terminate()
    server.wait()

    # A fresh process, so its peak is the exports' and not the loading's.
    server, base = start(args.binary, db, port)
    _, body = call(base, "POST", "/api/v1/login", body={"email": "ann@acme.test",
                                                       "password": "ann-password"})
    token = json.loads(body)["token"]
    call(base, "GET", "/api/v1/health")
    # Signing in hashed a password (Argon2: a 19 MiB block); reset the peak so it is the
    # exports' ("5": the peak RSS, Linux 4.0+; root or the server's owner).
    with open(f"/proc/{server.pid}/clear_refs", "w") as f:
        f.write("5")
    rss_before = status_kib(server.pid, "VmRSS")
    frm = day.strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (day + datetime.timedelta(days=args.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"/api/v1/events?from={frm}&to={to}&format={args.format}"

    # The exports run in curl processes, so the probe below (the only Python thread) never
    # waits for the interpreter while an answer is read.
    exports = [
        subprocess.Popen(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
             "-H", f"authorization: Bearer {token}", base + path],
            stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    latencies = []
    while any(e.poll() is None for e in exports):
        t0 = time.monotonic()
        call(base, "GET", "/api/v1/health", timeout=60)
        latencies.append(time.monotonic() - t0)
        time.sleep(0.02)
    answers = []
    for e in exports:
        size, seconds = e.communicate()[0].split()
        answers.append((int(size), float(seconds)))
    peak = status_kib(server.pid, "VmHWM")
    server.terminate()
    server.wait()

    shutil.rmtree(work, ignore_errors=True)
    ms = [x * 1000 for x in latencies]
    print(json.dumps({
        "server": args.binary,
        "format": args.format,
        "days": args.days,
        "stored_bytes": sent,
        "intervals": count,
        "answers": [{"bytes": s, "seconds": round(t, 2)} for s, t in answers],
        "health_probes": len(ms),
        "health_ms": {"p50": round(percentile(ms, 0.5), 1), "p99": round(percentile(ms, 0.99), 1),
                      "max": round(max(ms), 1)},
        "rss_before_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "growth_mib": round((peak - rss_before) / 1024, 1),
    }, indent=1))


if __name__ == "__main__":
    main()
