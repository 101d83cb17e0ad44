#!/usr/bin/env python3
"""Seeds a metron-server database for the load benchmark: N users (one per simulated device,
so their intervals never overlap each other), each with the bearer token "bench-token-<i>".

Usage: seed.py SERVER_BIN DB DEVICES   (DB: a SQLite path or a postgres:// URL)
Prints the id of the task every interval is booked on.

One user is made with the real CLI (argon2 hash, organization); the others copy its row with
the same hash, since hashing 10,000 passwords would take minutes and is not what is measured.
"""
import hashlib, json, subprocess, sys, time, uuid

server, db, devices = sys.argv[1], sys.argv[2], int(sys.argv[3])
run = lambda *a: subprocess.run([server, "--db", db, *a], check=True, capture_output=True, text=True).stdout
template = json.loads(run("user", "add", "--email", "template@bench.test", "--name", "T", "--password", "bench-password", "--org", "bench"))
task = json.loads(run("task", "add", "--name", "Load", "--org", "bench"))
# Tokens made now: a token lives 90 days (docs/SECURITY.md), and one made at 0 is long dead.
now = int(time.time())
rows = [(str(uuid.uuid4()), f"device{i}@bench.test", f"Device {i}", hashlib.sha256(f"bench-token-{i}".encode()).hexdigest())
        for i in range(devices)]

if db.startswith("postgres"):
    sql = [f"INSERT INTO users (id, org_id, email, name, password_hash, admin) SELECT '{u}', org_id, '{e}', '{n}', password_hash, false FROM users WHERE id = '{template['id']}';\n"
           f"INSERT INTO tokens (token_hash, user_id, created_at) VALUES ('{h}', '{u}', {now});" for u, e, n, h in rows]
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", db], input="BEGIN;\n" + "\n".join(sql) + "\nCOMMIT;\n", check=True, text=True)
else:
    import sqlite3
    con = sqlite3.connect(db)
    org, pw = con.execute("SELECT org_id, password_hash FROM users WHERE id = ?", (template["id"],)).fetchone()
    con.executemany("INSERT INTO users (id, org_id, email, name, password_hash, admin) VALUES (?, ?, ?, ?, ?, 0)", [(u, org, e, n, pw) for u, e, n, _ in rows])
    con.executemany("INSERT INTO tokens (token_hash, user_id, created_at) VALUES (?, ?, ?)", [(h, u, now) for u, _, _, h in rows])
    con.commit()
print(task["id"])
