#!/usr/bin/env python3
"""How fast can SQLite itself write what a 100,000-contact CSV import writes?

Issue 4 asks for >= 50,000 rows/s (100,000 contacts in 2 s) on SQLite. This script takes
Meridian out of the picture: it creates Meridian's real schema (`meridian init`), then
writes the same rows the import writes -- 20,000 companies, 100,000 contacts (encrypted
email and phone tokens of the same length, 64-hex blind indexes, ordered v7-like ids, the
same timestamps and custom-field text) and 100,000 `contact.created` outbox events with
the same payload -- from Python's C binding with `executemany`, in one transaction, with
the server's settings (WAL, synchronous=NORMAL, foreign keys, 128 MiB page cache, no
checkpoint inside the commit). No parsing, validation, encryption, duplicate check or HTTP:
what it prints is a floor for the write alone on this machine.

    python3 bench/crm_import_floor.py --bin target/release/meridian [--rows 100000] [--runs 3]
"""
import argparse
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import meridian_binary  # noqa: E402

NOW = "2026-12-04T23:47:48.480373526+00:00"


def schema(binary, work):
    """Meridian's own DDL for the tables an import writes, from a freshly migrated file."""
    url = f"sqlite://{work}/schema.db"
    env = dict(os.environ, MERIDIAN_KEY_FILE=f"{work}/keys.toml", MERIDIAN_ADMIN_PASSWORD="floor password long enough")
    subprocess.run(f"{binary} keys generate > {work}/keys.toml", shell=True, check=True)
    subprocess.run([binary, "init", "--database-url", url, "--org-name", "Floor", "--admin-email", "a@floor.test"],
                   env=env, check=True, capture_output=True)
    src = sqlite3.connect(f"{work}/schema.db")
    tables = ("companies", "contacts", "outbox_events")
    ddl = [r[0] for r in src.execute(
        "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND tbl_name IN (?, ?, ?) "
        "ORDER BY type DESC, name", tables)]
    src.close()
    return ddl


def oid(n):
    return n.to_bytes(16, "big")


def token(nbytes, i):
    # "enc:v1:<key id>:" + base64url(nonce + ciphertext + tag), as kernel::pii writes it.
    return "enc:v1:8a23ff0f:" + base64.urlsafe_b64encode(hashlib.sha512(str(i).encode()).digest()[:nbytes]).decode().rstrip("=")


def rows(n, companies):
    org, owner = oid(1), oid(2)
    company_ids = [oid(10**9 + i) for i in range(companies)]
    company_rows = [(org, c, f"Company {i}", f"company {i}", owner, NOW, NOW) for i, c in enumerate(company_ids)]
    contact_rows, event_rows = [], []
    for i in range(n):
        cid = oid(10**6 + i)
        first, last = "Peter", f"Khan{i % 97}"
        email = f"peter.khan.c{i}@example.com"
        contact_rows.append((org, cid, company_ids[i % companies], first, last, f"{first} {last}".lower(),
                             token(12 + 16 + len(email), i), hashlib.sha256(email.encode()).hexdigest(),
                             token(12 + 16 + 15, -i), hashlib.sha256(f"p{i}".encode()).hexdigest(),
                             "Manager", owner, NOW, NOW, "{}"))
        data = json.dumps({
            "company_id": {"after": "01a24375-107d-70b9-8e68-8531d9c973ae", "before": None},
            "email": {"after": "(set)", "before": None}, "first_name": {"after": first, "before": None},
            "last_name": {"after": last, "before": None},
            "owner_id": {"after": "01a24374-f36a-7682-a24a-a3ea555557e8", "before": None},
            "phone": {"after": "(set)", "before": None}}, separators=(",", ":"))
        event_rows.append((oid(10**12 + i), org, "contact.created", "contact", cid,
                           "user:01a24374-f36a-7682-a24a-a3ea555557e8", NOW, data))
    return company_rows, contact_rows, event_rows


def run(ddl, work, companies, contacts, events):
    path = f"{work}/floor.db"
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    c = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "wal_autocheckpoint=0",
                   f"cache_size=-{128 * 1024}"):
        c.execute(f"PRAGMA {pragma}")
    for statement in ddl:
        c.execute(statement)
    t0 = time.perf_counter()
    c.execute("BEGIN IMMEDIATE")
    c.executemany("INSERT INTO companies (org_id, id, name, name_key, owner_id, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", companies)
    t1 = time.perf_counter()
    c.executemany("INSERT INTO contacts (org_id, id, company_id, first_name, last_name, name_key, email_enc, "
                  "email_index, phone_enc, phone_index, title, owner_id, created_at, updated_at, custom_fields) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", contacts)
    t2 = time.perf_counter()
    c.executemany("INSERT INTO outbox_events (id, org_id, event_type, record_type, record_id, actor, "
                  "occurred_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", events)
    t3 = time.perf_counter()
    c.execute("COMMIT")
    t4 = time.perf_counter()
    wal = os.path.getsize(path + "-wal") / 1e6
    c.close()
    return t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0, wal


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--companies", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    binary = str(meridian_binary(args.bin))
    with tempfile.TemporaryDirectory(prefix="meridian-floor-") as work:
        ddl = schema(binary, work)
        data = rows(args.rows, args.companies)
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}; SQLite {sqlite3.sqlite_version}; {args.rows:,} contacts + "
              f"{args.companies:,} companies + {args.rows:,} events, one transaction", flush=True)
        totals = []
        for i in range(args.runs):
            comp, cont, ev, commit, total, wal = run(ddl, work, *data)
            totals.append(total)
            print(f"run {i + 1}: companies {comp:.2f} s, contacts {cont:.2f} s, events {ev:.2f} s, commit {commit:.2f} s"
                  f" = {total:.2f} s ({args.rows / total:,.0f} contacts/s); WAL {wal:.0f} MB", flush=True)
        best = min(totals)
        print(f"SQLite alone, best of {args.runs}: {best:.2f} s = {args.rows / best:,.0f} contacts/s "
              f"(50,000 rows/s means {args.rows / 50_000:.2f} s for the whole import)")


if __name__ == "__main__":
    main()
