#!/usr/bin/env python3
"""Helpdesk inbox at scale (issue 5): one organisation with 200,000 tickets, on SQLite and
on PostgreSQL; `GET /api/v1/tickets` (the inbox list, 50 per page) p50/p99.

How the tickets are made. Creating 200,000 tickets over HTTP would take most of an hour
per database, so the script seeds in bulk, honestly:
1. Over the API (the real code paths): 6 support agents (users with the `Support Agent`
   role), 3 teams, and 20 template tickets, one per type x priority, each with a
   description whose sentiment and AI insights the service computes and stores.
2. Straight into the database: 200,000 tickets, each a copy of the template row of its
   type and priority (same policy, calendar, SLA targets, at-risk rule, sentiment and
   insight row, so every column the inbox reads is what the service stored) with its own
   id, number (`TKT-2026-nnnnnn`, the counter advanced to match), subject, creation time
   (spread over the last 90 days, newer tickets more likely open), status (Closed 45%,
   Resolved 25%, Open 12%, In Progress 12%, Waiting on Customer 6%), assignee (one of the
   agents or the admin, 10% of open ones unassigned), team, tags, first response,
   resolution and close times, and the SLA instants computed the way the service computes
   them for the default 24x7 calendar (due = start + target, risk = due - max(20% of the
   target, 60 min), a Waiting on Customer ticket's open pause leaves its resolution
   deadline open, `sla_due_at` = the earliest pending deadline or 9999-12-31). The
   script checks that the templates' stored instants obey that arithmetic before copying
   it. SQLite rows go in through Python's sqlite3 in one transaction (UUIDs as 16-byte
   blobs, instants as RFC 3339 text, as sqlx stores them); PostgreSQL rows through
   `COPY ... FROM STDIN`, then `VACUUM ANALYZE` (what autovacuum does after a bulk load
   anyway). SQLite gets no ANALYZE: the server does not run one. The bulk load runs with
   the server stopped, and writes the `ticket_sla_events` rows the SLA scan would have
   written by now (at risk / breached, per target), so the restarted server does not
   emit tens of thousands of old crossings during the measurement; its periodic scan
   runs as usual.
3. Load: `wrk -t2` at 64 and at 8 connections on each inbox view (default order by SLA
   urgency, mine, unassigned, at_risk, breached; `limit=50`) and one filtered list
   (`priority=High&team_id=...`), signed in as the admin (`mine` = the admin's tickets),
   plus the default view as a support agent (exercises the team-visibility filter); then
   one request at a time (p50/max of 30). The load average is printed with each backend.

Usage: python3 bench/helpdesk.py [--tickets 200000] [--seconds 5] [--only sqlite|postgres]
       [--bin PATH] [--explain]
Needs wrk and, for PostgreSQL, psql. Standard library only.
"""

import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import meridian_binary  # noqa: E402
from crm import Client, free_port, login  # noqa: E402

PG_ADMIN = os.environ.get("MERIDIAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "meridian_bench_helpdesk"
PASSWORD = "bench password that is long"
TYPES = ["Incident", "Bug", "Question", "Feature Request", "Maintenance"]
PRIORITIES = ["Critical", "High", "Medium", "Low"]
DESCRIPTIONS = [
    "The VPN drops every few minutes and we cannot work. This is urgent, please help!",
    "Invoice totals look wrong since the last update. Not happy about this.",
    "How do I export the monthly report to Excel? Thanks!",
    "It would be great to have a dark mode in the mobile app.",
    "The cooler in store 12 is making a loud noise and the temperature is rising.",
]
SUBJECTS = ["VPN keeps disconnecting", "Wrong invoice totals", "Export to Excel", "Dark mode request",
            "Cooler noise in store", "Password reset fails", "Printer offline", "Slow dashboard",
            "Email not syncing", "Refund not received", "Login loop", "Broken barcode scanner"]
TAGS = ["vpn", "billing", "reports", "mobile", "hardware", "email", "access", "urgent"]
STATUSES = [("Closed", 45), ("Resolved", 25), ("Open", 12), ("In Progress", 12), ("Waiting on Customer", 6)]
FAR = datetime(9999, 12, 31, tzinfo=timezone.utc)


def ts(dt):
    """An instant as sqlx writes it to SQLite (RFC 3339, fraction in 0/3/6 digits, +00:00)."""
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    us = dt.microsecond
    frac = "" if us == 0 else f".{us // 1000:03d}" if us % 1000 == 0 else f".{us:06d}"
    return f"{base}{frac}+00:00"


def parse_ts(text):
    text = text.replace(" ", "T")
    if text.endswith("+00"):
        text += ":00"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wrk(url, token, seconds, conns, script=None):
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(bad.group(1)) if bad else 0


def loadavg():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def generate(n, templates, users, teams, admin_id, now, seed=7):
    """Yields (ticket column dict, insight row or None) for n tickets."""
    rng = random.Random(seed)
    by_key = {(t["ticket_type"], t["priority"]): t for t in templates}
    status_pool = [s for s, w in STATUSES for _ in range(w)]
    assignees = users + [admin_id]
    for i in range(n):
        ty, pr = rng.choice(TYPES), rng.choices(PRIORITIES, weights=[5, 20, 50, 25])[0]
        tpl = by_key[(ty, pr)]
        status = rng.choice(status_pool)
        done = status in ("Resolved", "Closed")
        # Open work is recent; finished work spreads over 90 days.
        age = timedelta(seconds=rng.uniform(0, 90 * 86400 if done else 4 * 86400))
        created = (now - age).replace(microsecond=rng.randrange(0, 1000) * 1000)
        resp_t = timedelta(seconds=tpl["response_target_secs"])
        res_t = timedelta(seconds=tpl["resolution_target_secs"])

        def threshold(target):
            return max(target * tpl["at_risk_percent"] / 100, timedelta(minutes=tpl["at_risk_min_minutes"]))

        first_response = resolved = closed = None
        pauses, paused = "[]", False
        if status != "Open":
            first_response = min(created + resp_t * rng.uniform(0.05, 1.3), now)
        if done:
            resolved = min(created + res_t * rng.uniform(0.1, 1.4), now)
            resolved = max(resolved, first_response)
            if status == "Closed":
                closed = min(resolved + timedelta(hours=rng.uniform(1, 72)), now)
        response_due = created + resp_t
        response_risk = created + max(resp_t - threshold(resp_t), timedelta(0))
        resolution_due = created + res_t
        resolution_risk = created + max(res_t - threshold(res_t), timedelta(0))
        if status == "Waiting on Customer":
            start = first_response + (now - first_response) * rng.uniform(0, 1)
            pauses = json.dumps([{"start": start.isoformat().replace("+00:00", "Z"), "end": None}],
                                separators=(",", ":"))
            paused = True
            if resolution_due > start:
                resolution_due = None
            if resolution_risk > start:
                resolution_risk = None
        pending = []
        if first_response is None and resolved is None:
            pending.append(response_due)
        if resolved is None and resolution_due is not None:
            pending.append(resolution_due)
        sla_due = min(pending) if pending else FAR
        assignee = None
        if not (status == "Open" and rng.random() < 0.35):
            assignee = rng.choice(assignees)
        updated = max(x for x in [created, first_response, resolved, closed] if x is not None)
        tid = uuid.UUID(int=(int(created.timestamp() * 1000) << 80) | (0x7 << 76) | rng.getrandbits(76))
        row = dict(tpl)
        row.update(
            id=tid, number=f"TKT-2026-{i + 1:06d}", subject=f"{rng.choice(SUBJECTS)} #{i + 1}",
            status=status, assignee_id=assignee, team_id=rng.choice(teams + [None]),
            tags=json.dumps(rng.sample(TAGS, rng.randint(0, 2))), sla_pauses=pauses, sla_paused=paused,
            first_response_at=first_response, resolved_at=resolved, closed_at=closed,
            response_due_at=response_due, resolution_due_at=resolution_due, response_risk_at=response_risk,
            resolution_risk_at=resolution_risk, sla_due_at=sla_due, created_at=created, updated_at=updated,
            version=1 + (status != "Open") + done + (status == "Closed"),
        )
        yield row


class Backend:
    """Reads template rows and bulk-writes tickets, in each database's own way."""

    def __init__(self, db, work):
        self.db = db
        if db == "sqlite":
            self.path = f"{work}/bench.db"
            self.url = f"sqlite://{self.path}"
        else:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"], check=True)
            subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {PG_DB}"], check=True)
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB

    def psql(self, sql, stdin=None):
        return subprocess.run(["psql", self.url, "-qAt", "-c", sql], input=stdin, capture_output=True,
                              text=True, check=True).stdout

    def columns(self, table):
        if self.db == "sqlite":
            with sqlite3.connect(self.path) as c:
                return [r[1] for r in c.execute(f"PRAGMA table_info({table})")]
        return self.psql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
                         "ORDER BY ordinal_position").split()

    def rows(self, table, org):
        """All rows of table for org, as dicts of Python values."""
        cols = self.columns(table)
        if self.db == "sqlite":
            with sqlite3.connect(self.path) as c:
                raw = c.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE org_id = ?", (org.bytes,)).fetchall()
            out = []
            for r in raw:
                d = dict(zip(cols, r))
                for k, v in d.items():
                    if isinstance(v, bytes) and len(v) == 16:
                        d[k] = uuid.UUID(bytes=v)
                    elif isinstance(v, str) and k.endswith("_at") and v[:2] in ("20", "99"):
                        d[k] = parse_ts(v)
                out.append(d)
            return out
        text = self.psql(f"COPY (SELECT {', '.join(cols)} FROM {table} WHERE org_id = '{org}') TO STDOUT WITH CSV NULL '\\N'")
        out = []
        for r in csv.reader(io.StringIO(text)):
            d = {}
            for k, v in zip(cols, r):
                if v == "\\N":
                    v = None
                elif k.endswith("_at"):
                    v = parse_ts(v)
                elif k.endswith("_id") or k == "id":
                    v = uuid.UUID(v)
                elif k.endswith("_secs") or k in ("priority_rank", "at_risk_percent", "at_risk_min_minutes", "version",
                                                  "initial_priority_rank"):
                    v = int(v)
                elif k in ("sentiment_compound", "sentiment_trend"):
                    v = float(v)
                elif k in ("sla_paused", "priority_raised", "reopened"):
                    v = v == "t"
                d[k] = v
            out.append(d)
        return out

    def insert(self, table, cols, rows):
        if self.db == "sqlite":
            def conv(v):
                if isinstance(v, uuid.UUID):
                    return v.bytes
                if isinstance(v, datetime):
                    return ts(v)
                return v
            with sqlite3.connect(self.path, timeout=60) as c:
                c.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                              ([conv(r[k]) for k in cols] for r in rows))
            return
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["\\N" if r[k] is None else ("t" if r[k] is True else "f" if r[k] is False else
                        r[k].isoformat() if isinstance(r[k], datetime) else r[k]) for k in cols])
        subprocess.run(["psql", self.url, "-qc", f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH CSV NULL '\\N'"],
                       input=buf.getvalue(), text=True, check=True)

    def execute(self, sql, params=()):
        if self.db == "sqlite":
            with sqlite3.connect(self.path, timeout=60) as c:
                c.execute(sql, params)
        else:
            self.psql(sql)


def seed_api(c):
    """Agents, teams and the 20 template tickets, over the API."""
    agents = []
    for k in range(6):
        status, body = c.call("POST", "/api/v1/users", {"email": f"agent{k}@bench.test", "name": f"Agent {k}",
                                                         "password": PASSWORD, "role": "Support Agent"})
        assert status == 201, body
        agents.append(uuid.UUID(body["data"]["id"]))
    teams = []
    for k, name in enumerate(["Service Desk", "Field Maintenance", "Billing"]):
        status, body = c.call("POST", "/api/v1/teams", {"name": name, "member_ids": [str(a) for a in agents[k * 2:k * 2 + 2]]})
        assert status == 201, body
        teams.append(uuid.UUID(body["data"]["id"]))
    for i, ty in enumerate(TYPES):
        for pr in PRIORITIES:
            status, body = c.call("POST", "/api/v1/tickets", {"subject": f"Template {ty} {pr}", "description": DESCRIPTIONS[i],
                                                               "type": ty, "priority": pr, "tags": ["template"]})
            assert status == 201, body
    return agents, teams


def sla_events(row, now):
    """The `ticket_sla_events` rows the SLA scan would have written by now (so the server
    does not emit tens of thousands of old crossings in one burst during the measurement)."""
    if row["status"] in ("Resolved", "Closed"):
        return
    targets = [("resolution", row["resolution_due_at"], row["resolution_risk_at"])]
    if row["first_response_at"] is None:
        targets.append(("response", row["response_due_at"], row["response_risk_at"]))
    for target, due, risk in targets:
        if risk is not None and now >= risk:
            yield dict(org_id=row["org_id"], ticket_id=row["id"], target=target, kind="at_risk", occurred_at=risk)
        if due is not None and now > due:
            yield dict(org_id=row["org_id"], ticket_id=row["id"], target=target, kind="breached", occurred_at=due)


def seed_bulk(backend, org, admin_id, agents, teams, n, now):
    """The bulk copy of the templates (server stopped); returns (seconds, insight rows per template)."""
    templates = backend.rows("tickets", org)
    assert len(templates) == 20, len(templates)
    for t in templates:  # the 24x7 arithmetic the copy relies on
        target = timedelta(seconds=t["resolution_target_secs"])
        thr = max(target * t["at_risk_percent"] / 100, timedelta(minutes=t["at_risk_min_minutes"]))
        assert t["resolution_due_at"] - t["created_at"] == target, t
        assert t["resolution_due_at"] - t["resolution_risk_at"] == thr, t
        assert t["sla_due_at"] == t["response_due_at"], t
    insights = {r["ticket_id"]: r for r in backend.rows("ticket_insights", org)}
    cols = backend.columns("tickets")
    icols = backend.columns("ticket_insights")
    ecols = ["org_id", "ticket_id", "target", "kind", "occurred_at"]
    start = time.time()
    batch, ibatch, ebatch = [], [], []
    tpl_insight = {(t["ticket_type"], t["priority"]): insights.get(t["id"]) for t in templates}
    for row in generate(n, templates, agents, teams, admin_id, now):
        batch.append(row)
        src = tpl_insight[(row["ticket_type"], row["priority"])]
        if src is not None:
            ibatch.append(dict(src, ticket_id=row["id"], last_status=row["status"]))
        ebatch.extend(sla_events(row, now))
        if len(batch) == 50000:
            backend.insert("tickets", cols, batch)
            backend.insert("ticket_insights", icols, ibatch)
            backend.insert("ticket_sla_events", ecols, ebatch)
            batch, ibatch, ebatch = [], [], []
    if batch:
        backend.insert("tickets", cols, batch)
        backend.insert("ticket_insights", icols, ibatch)
        backend.insert("ticket_sla_events", ecols, ebatch)
    if backend.db == "sqlite":
        backend.execute("UPDATE ticket_counters SET last_number = ? WHERE org_id = ?", (n + 20, org.bytes))
    else:
        backend.execute(f"UPDATE ticket_counters SET last_number = {n + 20} WHERE org_id = '{org}'")
        backend.psql("VACUUM ANALYZE")
    return time.time() - start, len(insights)


def explain(backend, org, paths_sql):
    for name, sql in paths_sql:
        if backend.db == "sqlite":
            with sqlite3.connect(backend.path) as c:
                plan = [r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql)]
        else:
            plan = backend.psql("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql).splitlines()
        print(f"  EXPLAIN {name}:\n    " + "\n    ".join(plan))


def run_backend(db, args, binary, work):
    env = dict(os.environ, MERIDIAN_LOG="warn", MERIDIAN_RATE_LIMIT="100000000", MERIDIAN_RATE_LIMIT_BURST="100000000",
               MERIDIAN_ADMIN_PASSWORD=PASSWORD, MERIDIAN_REQUEST_TIMEOUT="600s", MERIDIAN_KEY_FILE=f"{work}/keys.toml")
    backend = Backend(db, work)
    subprocess.run([binary, "init", "--database-url", backend.url, "--org-name", "Bench", "--admin-email", "admin@bench.test"],
                   env=env, check=True, capture_output=True)
    def start_server():
        port = free_port()
        server = subprocess.Popen([binary, "serve", "--database-url", backend.url, "--addr", f"127.0.0.1:{port}"], env=env,
                                  stderr=open(f"{work}/{db}.log", "a"))
        for _ in range(400):
            try:
                if Client(port).call("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        return port, server

    port, server = start_server()
    try:
        token = login(port, "admin@bench.test")
        c = Client(port, token)
        status, me = c.call("GET", "/api/v1/auth/me")
        assert status == 200, me
        admin_id = uuid.UUID(me["data"]["user"]["id"])
        org = uuid.UUID(c.call("GET", "/api/v1/auth/check")[1]["data"]["org_id"])
        agents, teams = seed_api(c)
    finally:
        server.terminate()
        server.wait()
    now = datetime.now(timezone.utc)
    secs, n_ins = seed_bulk(backend, org, admin_id, agents, teams, args.tickets, now)
    print(f"{db}: seeded {args.tickets:,} tickets in {secs:.1f} s (server stopped; {n_ins} of 20 templates had an "
          f"insight row, copied); load average {loadavg()}", flush=True)
    port, server = start_server()
    try:
        token = login(port, "admin@bench.test")
        agent_token = login(port, "agent0@bench.test")
        base = f"http://127.0.0.1:{port}"
        lists = [
            ("default (SLA urgency)", "/api/v1/tickets?limit=50", token),
            ("mine", "/api/v1/tickets?view=mine&limit=50", token),
            ("unassigned", "/api/v1/tickets?view=unassigned&limit=50", token),
            ("at_risk", "/api/v1/tickets?view=at_risk&limit=50", token),
            ("breached", "/api/v1/tickets?view=breached&limit=50", token),
            ("filtered (priority=High, team)", f"/api/v1/tickets?priority=High&team_id={teams[0]}&limit=50", token),
            ("default, as a support agent", "/api/v1/tickets?limit=50", agent_token),
        ]
        for name, path, tok in lists:
            status, body = Client(port, tok).call("GET", path)
            assert status == 200, (path, status, body)
            print(f"{db}: {name}: {len(body['data'])} tickets on the first page", flush=True)
        wrk(base + "/health", token, 2, 64)  # warm-up
        results = {}
        for name, path, tok in lists:
            cl = Client(port, tok)
            times = []
            for _ in range(30):
                t0 = time.perf_counter()
                status, _ = cl.call("GET", path)
                times.append((time.perf_counter() - t0) * 1000)
                assert status == 200
            times.sort()
            row = {"one_at_a_time": (times[len(times) // 2], times[-1])}
            for conns in (64, 8):
                row[conns] = wrk(base + path, tok, args.seconds, conns)
            results[name] = row
            r64, r8 = row[64], row[8]
            print(f"{db}: {name}: c64 {r64[0]:,.0f} req/s p50 {r64[1]} p99 {r64[2]} (non-2xx {r64[3]}); "
                  f"c8 {r8[0]:,.0f} req/s p50 {r8[1]} p99 {r8[2]} (non-2xx {r8[3]}); one at a time p50 "
                  f"{row['one_at_a_time'][0]:.1f} ms max {row['one_at_a_time'][1]:.1f} ms; load average {loadavg()}",
                  flush=True)
        if args.explain:
            explain_queries(backend, org, admin_id, teams, now)
        return results
    finally:
        server.terminate()
        server.wait()
        if db == "postgres" and not args.keep:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"])


def explain_queries(backend, org, admin_id, teams, now):
    """The inbox statements as list_tickets builds them (columns trimmed), explained. On
    SQLite the open-work views name the partial index when it exists, as the service does."""
    if backend.db == "sqlite":
        o, me, team, t = f"x'{org.hex}'", f"x'{admin_id.hex}'", f"x'{teams[0].hex}'", f"'{ts(now)}'"
        with sqlite3.connect(backend.path) as c:
            has_open = c.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets_open_urgency'").fetchone()
    else:
        o, me, team, t = f"'{org}'", f"'{admin_id}'", f"'{teams[0]}'", f"'{now.isoformat()}'"
        has_open = False

    def head(open_view=False):
        hint = " INDEXED BY tickets_open_urgency" if open_view and has_open else ""
        return (f"SELECT t.id, p.name, ti.insight FROM tickets t{hint} JOIN sla_policies p ON p.org_id = t.org_id "
                "AND p.id = t.policy_id LEFT JOIN ticket_insights ti ON ti.org_id = t.org_id AND ti.ticket_id = t.id "
                f"WHERE t.org_id = {o}")
    tail = " ORDER BY t.sla_due_at, t.id LIMIT 51"
    open_ = " AND t.status NOT IN ('Resolved', 'Closed')"
    explain(backend, org, [
        ("default", head() + tail),
        ("mine", head() + f" AND t.assignee_id = {me}" + tail),
        ("unassigned", head() + " AND t.assignee_id IS NULL" + open_ + tail),
        ("at_risk", head(True) + open_ + f" AND ((t.first_response_at IS NULL AND t.response_risk_at <= {t} AND "
         f"t.response_due_at >= {t}) OR (t.resolution_risk_at <= {t} AND t.resolution_due_at >= {t}))" + tail),
        ("breached", head(True) + open_ + f" AND ((t.first_response_at IS NULL AND t.response_due_at < {t})"
         f" OR t.first_response_at > t.response_due_at OR t.resolution_due_at < {t})" + tail),
        ("filtered", head() + f" AND t.priority = 'High' AND t.team_id = {team}" + tail),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--tickets", type=int, default=200_000)
    ap.add_argument("--only", choices=["sqlite", "postgres"])
    ap.add_argument("--bin")
    ap.add_argument("--explain", action="store_true", help="print the query plans of the inbox statements")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")
    binary = str(meridian_binary(args.bin))
    work = tempfile.mkdtemp(prefix="meridian-helpdesk-bench-")
    try:
        subprocess.run(f"{binary} keys generate > {work}/keys.toml", shell=True, check=True)
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load average {loadavg()}; "
              f"{args.tickets:,} tickets; wrk -t2 -c64 and -c8, -d{args.seconds}s", flush=True)
        for db in ["sqlite", "postgres"]:
            if args.only and db != args.only:
                continue
            run_backend(db, args, binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
