#!/usr/bin/env python3
"""Posts one synthetic person-month of tracked time to a metron-server, the way the desktop
agent would deliver it, for the storage measurement (storage.sh, docs/PERFORMANCE.md).

Usage: month.py URL TOKEN TASK_ID [MONTH]   (URL: http://host:port; MONTH: YYYY-MM, default
the month two months before this one, UTC: 2026-10 in December 2026)
Env: MONTH_BATCH (intervals a request, 100), MONTH_SEED (random seed, 30).

What it makes (the same every run of a month: fixed seed):
- 22 working days: the first 22 weekdays from the 1st of MONTH (2026-10 has exactly 22);
- 8 h a day at UTC+01:00: 09:00-13:00 and 13:45-17:45 local, one device;
- intervals cut where the agent cuts them: each one's end drawn uniformly in 45..75 s, the
  last of a block ending at the block's end ("stop"), about 481 a day;
- per-second activity (`active`): a two-state chain, about 88 % of the seconds active, idle
  gaps of a few seconds to a few minutes; key/click/scroll/move counts from the active
  seconds at per-app rates;
- five apps, switched every few minutes: an editor (a handful of files), a browser (a few
  pages, with URLs), a terminal, a chat app and a mail client, with realistic titles and the
  executable's path; `windows` has one segment per run of one window in the interval.

The server refuses intervals past its retention (400 days by default) or older than the
organization's edit window + 90 days, and in the future: MONTH must lie inside all that. The
default does, whenever it runs: its 22 weekdays are over before this month begins, and its
first day is at most 92 days back (a fixed month was refused a few weeks after it was
chosen).
Exits non-zero unless every interval is "accepted".
"""
import datetime as dt, json, os, random, sys, urllib.request, uuid

url, token, task = sys.argv[1], sys.argv[2], sys.argv[3]
def two_months_back():
    today = dt.datetime.now(dt.timezone.utc).date()
    index = today.year * 12 + today.month - 1 - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


month = sys.argv[4] if len(sys.argv) > 4 else two_months_back()
batch = int(os.environ.get("MONTH_BATCH", "100"))
rng = random.Random(int(os.environ.get("MONTH_SEED", "30")))
OFFSET = 60  # minutes east of UTC
BLOCKS = [(9 * 3600, 13 * 3600), (13 * 3600 + 45 * 60, 17 * 3600 + 45 * 60)]  # local seconds of day

SITES = [("Issue #30: ingest throughput and storage per person-month · metron/metron", "https://github.com/metron/metron/issues/30"),
         ("Pull request #412: batch the SQLite writer by metron-dev · metron/metron", "https://github.com/metron/metron/pull/412/files"),
         ("sqlx::query - Rust", "https://docs.rs/sqlx/latest/sqlx/macro.query.html"),
         ("The SQLite Query Optimizer Overview", "https://www.sqlite.org/optoverview.html"),
         ("PostgreSQL: Documentation: 16: 73.2. TOAST", "https://www.postgresql.org/docs/16/storage-toast.html"),
         ("Server overview - Dashboards - Grafana", "https://grafana.acme.example/d/srv/server-overview?orgId=1&refresh=30s")]
FILES = ["ingest.rs", "retention.rs", "sqlite.rs", "model.rs", "PERFORMANCE.md", "Cargo.toml"]
# app: (path, titles [(title, url)], mean seconds in the app, mean seconds on one title,
#       rates per active second: keys, clicks, scrolls, moves)
APPS = {
    "code": ("/usr/share/code/code", [(f"{f} - metron - Visual Studio Code", None) for f in FILES], 420, 150, (2.6, 0.15, 0.3, 3.0)),
    "firefox": ("/usr/lib/firefox/firefox", [(f"{t} — Mozilla Firefox", u) for t, u in SITES], 200, 70, (0.3, 0.4, 1.2, 9.0)),
    "gnome-terminal-server": ("/usr/libexec/gnome-terminal-server",
                              [("jane@dev: ~/src/metron", None), ("cargo test — jane@dev: ~/src/metron", None),
                               ("git log — jane@dev: ~/src/metron", None)], 150, 60, (2.0, 0.05, 0.4, 1.5)),
    "slack": ("/usr/lib/slack/slack", [("Slack | #backend | Acme", None), ("Slack | Sam Lee (DM) | Acme", None),
                                       ("Slack | #releases | Acme", None)], 90, 45, (2.8, 0.3, 0.5, 5.0)),
    "thunderbird": ("/usr/lib/thunderbird/thunderbird",
                    [("Inbox - jane@acme.example - Mozilla Thunderbird", None),
                     ("Re: Q4 planning - Mozilla Thunderbird", None),
                     ("Write: Re: server upgrade window - Thunderbird", None)], 120, 50, (1.6, 0.4, 0.6, 6.0)),
}
WEIGHTS = {"code": 5, "firefox": 4, "gnome-terminal-server": 3, "slack": 2, "thunderbird": 1}


def uuid7(ms):
    """A UUIDv7 (time-ordered, as the agent makes them) for `ms` with random bits from rng."""
    value = (ms & (1 << 48) - 1) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def days():
    year, mon = map(int, month.split("-"))
    day, out = dt.date(year, mon, 1), []
    while len(out) < 22:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def timeline(seconds):
    """Per second of a block: (app, title index, active)."""
    out, app, title, active = [], None, 0, True
    app_left = title_left = 0
    for _ in range(seconds):
        if app_left <= 0:
            app = rng.choices([a for a in APPS if a != app], [WEIGHTS[a] for a in APPS if a != app])[0]
            app_left = max(20, rng.expovariate(1 / APPS[app][2]))
            title, title_left = rng.randrange(len(APPS[app][1])), 0
        if title_left <= 0:
            title = rng.randrange(len(APPS[app][1]))
            title_left = max(10, rng.expovariate(1 / APPS[app][3]))
        active = rng.random() >= 0.02 if active else rng.random() < 0.15
        out.append((app, title, active))
        app_left -= 1
        title_left -= 1
    return out


def interval(device, start, secs, reason):
    """An interval of the seconds `secs` starting at unix time `start`."""
    active = "".join("1" if a else "0" for _, _, a in secs)
    windows, counts = [], dict(keys=0, clicks=0, scrolls=0, moves=0)
    for i, (app, title, a) in enumerate(secs):
        if windows and windows[-1][1:3] == [app, title]:
            windows[-1][0] += 1
        else:
            windows.append([1, app, title, i])
    segments = []
    for n, app, title, offset in windows:
        path, titles, _, _, rates = APPS[app]
        busy = active[offset:offset + n].count("1")
        for kind, rate in zip(counts, rates):
            counts[kind] += round(busy * rate * rng.uniform(0.5, 1.5))
        segments.append(dict(offset=offset, seconds=n, app=app, title=titles[title][0], url=titles[title][1], path=path))
    iso = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(id=uuid7(start * 1000), device_id=device, task_id=task, started_at=iso(start), ended_at=iso(start + len(secs)),
                utc_offset_minutes=OFFSET, end_reason=reason, active=active, counts=counts, windows=segments)


def month_intervals():
    device = uuid7(int(dt.datetime(*map(int, month.split("-")), 1, tzinfo=dt.timezone.utc).timestamp() * 1000))
    for day in days():
        midnight = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()) - OFFSET * 60
        for begin, end in BLOCKS:
            secs, at = timeline(end - begin), 0
            while at < len(secs):
                n = rng.randint(45, 75)
                reason = "boundary" if at + n < len(secs) else "stop"
                yield interval(device, midnight + begin + at, secs[at:at + n], reason)
                at += n


def post(items):
    body = json.dumps({"intervals": items}, separators=(",", ":")).encode()
    req = urllib.request.Request(f"{url}/api/v1/intervals", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)["results"], len(body)


accepted, other, sent, reasons = 0, 0, 0, {}
intervals = list(month_intervals())
for i in range(0, len(intervals), batch):
    results, size = post(intervals[i:i + batch])
    sent += size
    for r in results:
        if r["status"] == "accepted":
            accepted += 1
        else:
            other += 1
            key = f'{r["status"]}: {r.get("reason")}'
            reasons[key] = reasons.get(key, 0) + 1
print(f"days: 22 ({days()[0]} .. {days()[-1]}), intervals: {len(intervals)}, JSON posted: {sent} bytes")
print(f"accepted: {accepted}, other: {other}")
for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:10]:
    print(f"  {n} x {reason}", file=sys.stderr)
sys.exit(0 if accepted == len(intervals) and other == 0 else 1)
