"""Prints a deterministic 2-hour replay trace (one JSON line a second) for the comparison of
the Windows and Linux agents in .ci/windows.sh: typing and mouse work in three apps with
titles, URLs and a path with non-ASCII text, short pauses, a 6-minute absence (the idle
stop), a 20-minute sleep (a jump in t), and a restart after it."""
import json
import random

rng = random.Random(2026)
apps = [
    ("code.exe", "main.rs — Metron", None, r"C:\Program Files\Code\code.exe"),
    ("firefox.exe", "Отчёт за день", "https://metron.example/reports?day=2026-12-01", None),
    ("WINWORD.EXE", "Quarterly plan.docx", None, r"C:\Program Files\Office\WINWORD.EXE"),
]
t = 1_800_000_000
end = t + 2 * 3600
app = apps[0]
while t < end:
    if t == 1_800_000_000 + 2400:  # away for 6 minutes: the idle stop
        for _ in range(360):
            print(json.dumps({"t": t, "app": app[0], "title": app[1]}, ensure_ascii=False))
            t += 1
        continue
    if t == 1_800_000_000 + 4000:  # the computer sleeps for 20 minutes
        t += 1200
        continue
    if rng.random() < 0.02:
        app = rng.choice(apps)
    line = {"t": t, "app": app[0], "title": app[1]}
    if app[2]:
        line["url"] = app[2]
    if app[3]:
        line["path"] = app[3]
    if rng.random() < 0.85:
        line["keys"] = rng.randint(0, 6)
        line["moves"] = rng.randint(0, 30)
        line["clicks"] = rng.randint(0, 1)
    print(json.dumps(line, ensure_ascii=False))
    t += 1
