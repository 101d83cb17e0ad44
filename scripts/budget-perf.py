#!/usr/bin/env python3
"""What a hostile member can add to the server's disk outside intervals (issue 27), measured
on a real server through the real API.

Issue 27 found that 500 corrections of one 60-s interval were all accepted (the database
grew from 6.8 to 16 MB in 1.3 s), 300 device reports with fresh ids were all kept, and empty
years of timesheets left thousands of kept lines behind. This signs in as a member and, as
fast as one client can, tries:

- 500 corrections of one interval (removals, moves and trims in turn);
- 2,000 manual entries of a minute each;
- 300 device reports, each with a fresh device id;
- the timesheets of the 144 months of 2001-2012, and of the year 1500;

and reports what was accepted, what was refused and why (status codes), how long it took,
and how much the database file grew (its size with the write-ahead log, after a checkpoint).
Kept timesheet lines are counted too (the hourly job keeps the last five weeks' at start).

Usage: scripts/budget-perf.py SERVER_BINARY
(Python 3 standard library; the server's SQLite backend.) docs/PERFORMANCE.md has the figures.
"""

import argparse
import collections
import datetime
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

DEVICE = "01930000-0000-7000-8000-00000000d001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def db_bytes(db):
    """The database's size once its write-ahead log is folded in."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))


def rfc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="metron-budget-perf.")
    db = os.path.join(work, "server.sqlite")
    for email, name, admin in [("boss@acme.test", "Boss", True), ("ann@acme.test", "Ann", False)]:
        cmd = [args.binary, "--db", db, "user", "add", "--email", email, "--name", name,
               "--password", "a-password-1"]
        subprocess.run(cmd + (["--admin"] if admin else []), check=True,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([args.binary, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if call(base, "GET", "/api/v1/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.05)
    login = lambda email: json.loads(call(base, "POST", "/api/v1/login", body={
        "email": email, "password": "a-password-1"})[1])["token"]
    boss, ann = login("boss@acme.test"), login("ann@acme.test")
    call(base, "PUT", "/api/v1/timesheets/policy", boss, {
        "manual": "allowed", "moves": "allowed", "max_manual_secs": 28800,
        "edit_window_days": 30})
    tasks = [json.loads(call(base, "POST", "/api/v1/tasks", boss,
                             {"name": f"Task {k}", "project": "Q4"})[1])["id"] for k in range(3)]
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).replace(
        hour=8, minute=0, second=0, microsecond=0)
    iid = str(uuid.uuid4())
    call(base, "POST", "/api/v1/intervals", ann, {"intervals": [{
        "id": iid, "device_id": DEVICE, "task_id": tasks[0], "started_at": rfc(start),
        "ended_at": rfc(start + datetime.timedelta(seconds=60)), "utc_offset_minutes": 0,
        "end_reason": "boundary", "active": "1" * 60,
        "counts": {"keys": 1, "clicks": 0, "scrolls": 0, "moves": 0}, "windows": []}]})
    before = db_bytes(db)
    results = []

    def corrections():
        for k in range(500):
            change = [{"action": "remove"}, {"action": "move", "task_id": tasks[1 + k % 2]},
                      {"action": "trim", "until": rfc(start + datetime.timedelta(seconds=30))}][k % 3]
            yield call(base, "POST", "/api/v1/corrections", ann,
                       {"interval_id": iid, "change": change, "reason": "x" * 1000})[0]

    def entries():
        for k in range(2000):
            t = start - datetime.timedelta(days=20) + datetime.timedelta(minutes=2 * k)
            yield call(base, "POST", "/api/v1/manual-entries", ann, {
                "task_id": tasks[0], "started_at": rfc(t),
                "ended_at": rfc(t + datetime.timedelta(minutes=1)), "note": "y" * 1000})[0]

    def devices():
        for _ in range(300):
            yield call(base, "PUT", f"/api/v1/devices/{uuid.uuid4()}", ann, {
                "host_name": "h" * 255, "os_user": "u" * 255, "domain": "d" * 255,
                "os_name": "o" * 255, "os_version": "v" * 255, "time_zone": "Europe/Berlin",
                "utc_offset_minutes": 60, "app_version": "0.2.0"})[0]

    def timesheets():
        for year in range(2001, 2013):
            for month in range(1, 13):
                yield call(base, "GET", f"/api/v1/timesheets?period=month&date={year}-{month:02}-01",
                           ann)[0]
        yield call(base, "GET", "/api/v1/timesheets?period=month&date=1500-01-01", ann)[0]

    attempts = [("corrections of one interval", corrections()),
                ("manual entries", entries()),
                ("device reports, fresh ids", devices()),
                ("timesheets of 2001-2012 and 1500", timesheets())]
    for n, (label, gen) in enumerate(attempts):
        if n:
            # The rate is per minute: each attempt starts with a fresh allowance.
            time.sleep(61)
        t0 = time.monotonic()
        counts = collections.Counter(gen)
        results.append((label, sum(counts.values()), dict(sorted(counts.items())),
                        time.monotonic() - t0))
    after = db_bytes(db)
    kept_lines = sqlite3.connect(db).execute("SELECT COUNT(*) FROM timesheet_days").fetchone()[0]
    server.terminate()
    server.wait()
    print("| attempt | requests | answers (status: count) | seconds |")
    print("|---|---|---|---|")
    for label, n, counts, secs in results:
        answers = ", ".join(f"{k}: {v}" for k, v in counts.items())
        print(f"| {label} | {n} | {answers} | {secs:.1f} |")
    print(f"\ndatabase: {before / 1e6:.2f} MB before, {after / 1e6:.2f} MB after "
          f"(+{(after - before) / 1e3:.0f} kB); kept timesheet lines: {kept_lines}")


if __name__ == "__main__":
    sys.exit(main())
