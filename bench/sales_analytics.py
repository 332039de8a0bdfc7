#!/usr/bin/env python3
"""Sales analytics at 10M rows (issue 7, part 4): distribution gaps and trends over ten
million sales facts, p50/p99 over HTTP against the release server, next to the same
logical SQL in DuckDB over the same raw rows, in the same script.

What happens, per database (SQLite file, PostgreSQL database):
1. `meridian migrate` + `meridian init` create an empty database with one organisation.
2. The facts are generated here (numpy, fixed seed: days x outlets x SKUs, every outlet
   records every SKU every day, zero sales with a probability that depends on the area and
   the pack type) and written with plain SQL straight into `sales_fact_*` and
   `sales_facts` (SQLite: executemany in one transaction; PostgreSQL: COPY through psql)
   — not through the import endpoint, which is the import's own benchmark. (Databases
   migrated before `20261205100200` had a secondary index on the facts: dropped during
   the load and rebuilt afterwards when present.)
3. The rollups are rebuilt with the same SQL as `sales::facts::rebuild_rollups` (copied
   below: the daily statements for the whole range, the monthly ones month by month).
4. `meridian serve` runs on the file/database; one connection (http.client) sends
   `--requests` requests of each query, one at a time, and p50/p99 are printed.
5. DuckDB (in process, default threads) loads the same raw rows (no rollups) and runs
   the seed's gap SQL and a month x region trend SQL `--requests` times each.

Also `--superstore`: checks the trend numbers (MoM/YoY by region) against pandas on the
real-ish Superstore panel (../shared/data/demand_superstore), through the same server.

Usage: python3 bench/sales_analytics.py [--outlets 700] [--skus 20] [--days 730]
       [--requests 200] [--only sqlite|postgres] [--bin PATH] [--predictions [--rep-stores 100]]
       [--superstore]
Needs: numpy, duckdb, pandas (pip), psql for PostgreSQL.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import meridian_binary, shared_data  # noqa: E402

PG_ADMIN = os.environ.get("MERIDIAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password that is long"
EPOCH = dt.date(1970, 1, 1)
LAST_DAY = (dt.date(2026, 11, 30) - EPOCH).days
REGIONS = ["Central", "Eastern", "Western", "Northern", "Southern"]
PACKS = ["330ml can", "500ml PET", "1.5L PET", "250ml glass", "2.25L PET"]
CHANNELS = ["grocery", "horeca", "modern_trade"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, content_type="application/json"):
        h = {"content-type": content_type}
        if self.token:
            h["authorization"] = f"Bearer {self.token}"
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def month_of_day(day):
    d = EPOCH + dt.timedelta(days=int(day))
    return d.year * 12 + d.month - 1


# ----------------------------------------------------------------------------- data

class Dataset:
    """Dimensions and facts, generated with a fixed seed (ids start at 1, as the
    databases' own sequences would give them to the first import)."""

    def __init__(self, outlets, skus, days):
        rng = np.random.default_rng(7)
        self.areas = []  # (id, region, province, precision_area)
        for r, region in enumerate(REGIONS):
            for p in range(3):
                for a in range(4):
                    self.areas.append((len(self.areas) + 1, region, f"{region} P{p + 1}", f"{region} P{p + 1} A{a + 1}"))
        self.outlets = []  # (id, code, name, channel, area_id)
        for i in range(outlets):
            area = self.areas[i % len(self.areas)][0]
            self.outlets.append((i + 1, f"OUT-{i + 1:05d}", f"Outlet {i + 1}", CHANNELS[i % 3], area))
        self.skus = [(i + 1, f"SKU-{i + 1:03d}", PACKS[i % len(PACKS)]) for i in range(skus)]
        self.first_day = LAST_DAY - days + 1
        self.days = days
        # Zero probability per (area, pack): most between 15% and 75%, so some areas are
        # gaps and some are not; each outlet shifts it a little.
        area_pack = rng.uniform(0.15, 0.75, size=(len(self.areas) + 1, len(PACKS)))
        outlet_shift = rng.uniform(-0.1, 0.1, size=outlets)
        outlet_area = np.array([o[4] for o in self.outlets])
        sku_pack = np.array([i % len(PACKS) for i in range(skus)])
        self.p_zero = np.clip(area_pack[outlet_area][:, sku_pack] + outlet_shift[:, None], 0.02, 0.98)  # outlets x skus
        self.price = rng.uniform(2.0, 40.0, size=skus).round(2)
        self.rng = rng

    @property
    def rows(self):
        return self.days * len(self.outlets) * len(self.skus)

    def day_chunks(self, per_chunk=30):
        """(day, outlet_id, sku_id, qty_scaled, value_scaled) arrays, in key order."""
        n_out, n_sku = len(self.outlets), len(self.skus)
        rng = np.random.default_rng(11)
        for start in range(0, self.days, per_chunk):
            nd = min(per_chunk, self.days - start)
            day = np.repeat(np.arange(self.first_day + start, self.first_day + start + nd), n_out * n_sku)
            outlet = np.tile(np.repeat(np.arange(1, n_out + 1), n_sku), nd)
            sku = np.tile(np.arange(1, n_sku + 1), n_out * nd)
            # Seasonality: a summer peak for cold drinks.
            month = ((day + 0) // 30) % 12
            season = 1.0 + 0.3 * np.sin((month - 3) / 12 * 2 * np.pi)
            zero = rng.random(day.size) < np.tile(self.p_zero.reshape(-1), nd)
            qty = np.where(zero, 0, np.maximum(1, rng.poisson(6 * season))).astype(np.int64)
            value = (qty * self.price[sku - 1] * 10_000).round().astype(np.int64)
            yield day, outlet, sku, qty * 10_000, value


# ----------------------------------------------------------------------------- loading

ROLLUP_OUTLET = (
    "INSERT INTO sales_outlet_daily_rollup (org_id, area_id, pack_type, day, outlet_id, records, zero_records, "
    "qty_scaled, value_scaled, purchases, purchase_value_scaled) "
    "SELECT f.org_id, o.area_id, s.pack_type, f.day, f.outlet_id, COUNT(*), "
    "SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), SUM(f.qty_scaled), SUM(f.value_scaled), "
    "SUM(CASE WHEN f.qty_scaled > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN f.qty_scaled > 0 THEN f.value_scaled ELSE 0 END) "
    "FROM sales_facts f JOIN sales_fact_outlets o ON o.id = f.outlet_id "
    "JOIN sales_fact_skus s ON s.id = f.sku_id WHERE f.org_id = {org} AND f.day BETWEEN {a} AND {b} "
    "GROUP BY f.org_id, o.area_id, s.pack_type, f.day, f.outlet_id")
ROLLUP_DAILY = (
    "INSERT INTO sales_daily_rollup (org_id, day, area_id, pack_type, records, zero_records, qty_scaled, value_scaled) "
    "SELECT org_id, day, area_id, pack_type, SUM(records), SUM(zero_records), SUM(qty_scaled), SUM(value_scaled) "
    "FROM sales_outlet_daily_rollup WHERE org_id = {org} AND day BETWEEN {a} AND {b} "
    "GROUP BY org_id, day, area_id, pack_type")
ROLLUP_PURCHASE_DAYS = (
    "INSERT INTO sales_outlet_purchase_days (org_id, outlet_id, day, purchases, purchase_value_scaled) "
    "SELECT org_id, outlet_id, day, SUM(purchases), SUM(purchase_value_scaled) FROM sales_outlet_daily_rollup "
    "WHERE org_id = {org} AND day BETWEEN {a} AND {b} AND purchases > 0 GROUP BY org_id, outlet_id, day")
ROLLUP_OUTLET_SKU_MONTHLY = (
    "INSERT INTO sales_outlet_sku_monthly (org_id, month, outlet_id, sku_id, records, zero_records, purchase_days, "
    "qty_scaled, value_scaled, first_purchase_day, last_purchase_day) "
    "SELECT f.org_id, {month}, f.outlet_id, f.sku_id, COUNT(*), SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN f.qty_scaled > 0 THEN 1 ELSE 0 END), SUM(f.qty_scaled), SUM(f.value_scaled), "
    "MIN(CASE WHEN f.qty_scaled > 0 THEN f.day END), MAX(CASE WHEN f.qty_scaled > 0 THEN f.day END) "
    "FROM sales_facts f WHERE f.org_id = {org} AND f.day BETWEEN {a} AND {b} GROUP BY f.org_id, f.outlet_id, f.sku_id")
ROLLUP_MONTHLY = (
    "INSERT INTO sales_monthly_rollup (org_id, month, area_id, sku_id, channel, records, zero_records, outlets, "
    "qty_scaled, value_scaled) SELECT r.org_id, r.month, o.area_id, r.sku_id, o.channel, SUM(r.records), "
    "SUM(r.zero_records), COUNT(*), SUM(r.qty_scaled), SUM(r.value_scaled) FROM sales_outlet_sku_monthly r "
    "JOIN sales_fact_outlets o ON o.id = r.outlet_id WHERE r.org_id = {org} AND r.month = {month} "
    "GROUP BY r.org_id, r.month, o.area_id, r.sku_id, o.channel")


def rebuild_rollups(run, org, first, last):
    """Runs the import's rollup statements through `run` (one SQL string each)."""
    run(ROLLUP_OUTLET.format(org=org, a=first, b=last))
    run(ROLLUP_DAILY.format(org=org, a=first, b=last))
    run(ROLLUP_PURCHASE_DAYS.format(org=org, a=first, b=last))
    for m, a, b in month_ranges(first, last):
        run(ROLLUP_OUTLET_SKU_MONTHLY.format(org=org, month=m, a=a, b=b))
        run(ROLLUP_MONTHLY.format(org=org, month=m))


def month_ranges(first_day, last_day):
    m0, m1 = month_of_day(first_day), month_of_day(last_day)
    for m in range(m0, m1 + 1):
        start = (dt.date(m // 12, m % 12 + 1, 1) - EPOCH).days
        nm = m + 1
        end = (dt.date(nm // 12, nm % 12 + 1, 1) - EPOCH).days - 1
        yield m, start, end


def load_sqlite(path, org, data):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    org_b = uuid.UUID(org).bytes
    imp = uuid.uuid4().bytes
    con.executemany("INSERT INTO sales_fact_areas (id, org_id, region, province, precision_area) VALUES (?, ?, ?, ?, ?)",
                    [(a[0], org_b, a[1], a[2], a[3]) for a in data.areas])
    con.executemany("INSERT INTO sales_fact_outlets (id, org_id, outlet_code, outlet_name, channel, area_id) VALUES (?, ?, ?, ?, ?, ?)",
                    [(o[0], org_b, o[1], o[2], o[3], o[4]) for o in data.outlets])
    con.executemany("INSERT INTO sales_fact_skus (id, org_id, sku, pack_type) VALUES (?, ?, ?, ?)",
                    [(s[0], org_b, s[1], s[2]) for s in data.skus])
    # Bulk load: drop the secondary index on the facts and build it once afterwards.
    by_outlet = con.execute("SELECT sql FROM sqlite_master WHERE name = 'sales_facts_by_outlet'").fetchone()
    if by_outlet:
        con.execute("DROP INDEX sales_facts_by_outlet")
    for day, outlet, sku, qty, value in data.day_chunks():
        con.executemany("INSERT INTO sales_facts (org_id, day, outlet_id, sku_id, qty_scaled, value_scaled, import_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        zip([org_b] * day.size, day.tolist(), outlet.tolist(), sku.tolist(), qty.tolist(),
                            value.tolist(), [imp] * day.size))
    con.commit()
    lit = "X'" + org_b.hex() + "'"
    last = data.first_day + data.days - 1
    t = time.time()
    if by_outlet:
        con.execute(by_outlet[0])
    rebuild_rollups(con.execute, lit, data.first_day, last)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return time.time() - t


def psql(url, sql, stdin=None):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], input=stdin, check=True,
                          capture_output=True, text=stdin is None or isinstance(stdin, str)).stdout


def load_postgres(url, org, data):
    imp = str(uuid.uuid4())
    rows = "\n".join(f"{a[0]}\t{org}\t{a[1]}\t{a[2]}\t{a[3]}" for a in data.areas) + "\n"
    psql(url, "COPY sales_fact_areas (id, org_id, region, province, precision_area) FROM STDIN", rows)
    rows = "\n".join(f"{o[0]}\t{org}\t{o[1]}\t{o[2]}\t{o[3]}\t{o[4]}" for o in data.outlets) + "\n"
    psql(url, "COPY sales_fact_outlets (id, org_id, outlet_code, outlet_name, channel, area_id) FROM STDIN", rows)
    rows = "\n".join(f"{s[0]}\t{org}\t{s[1]}\t{s[2]}" for s in data.skus) + "\n"
    psql(url, "COPY sales_fact_skus (id, org_id, sku, pack_type) FROM STDIN", rows)
    for table in ["sales_fact_areas", "sales_fact_outlets", "sales_fact_skus"]:
        psql(url, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    by_outlet = psql(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'sales_facts_by_outlet'").strip()
    if by_outlet:
        psql(url, "DROP INDEX sales_facts_by_outlet")
    copy = subprocess.Popen(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc",
                             "COPY sales_facts (org_id, day, outlet_id, sku_id, qty_scaled, value_scaled, import_id) FROM STDIN"],
                            stdin=subprocess.PIPE)
    prefix, suffix = f"{org}\t", f"\t{imp}\n"
    for day, outlet, sku, qty, value in data.day_chunks():
        lines = [f"{prefix}{d}\t{o}\t{s}\t{q}\t{v}{suffix}" for d, o, s, q, v in
                 zip(day.tolist(), outlet.tolist(), sku.tolist(), qty.tolist(), value.tolist())]
        copy.stdin.write("".join(lines).encode())
    copy.stdin.close()
    assert copy.wait() == 0
    last = data.first_day + data.days - 1
    t = time.time()
    lit = f"'{org}'::uuid"
    if by_outlet:
        psql(url, by_outlet)
    rebuild_rollups(lambda sql: psql(url, sql), lit, data.first_day, last)
    psql(url, "VACUUM ANALYZE")
    return time.time() - t


# ----------------------------------------------------------------------------- measuring

def percentiles(times):
    times = sorted(times)
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


def measure_http(client, path, n):
    status, body = client.call("GET", path)
    assert status == 200, (path, status, body)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = client.call("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        assert status == 200
    return percentiles(times), body


def duckdb_peer(data, n):
    import duckdb
    con = duckdb.connect()
    import pandas as pd
    con.register("areas_df", pd.DataFrame(data.areas, columns=["id", "region", "province", "precision_area"]))
    con.register("outlets_df", pd.DataFrame(data.outlets, columns=["id", "outlet_code", "outlet_name", "channel", "area_id"]))
    con.register("skus_df", pd.DataFrame(data.skus, columns=["id", "sku", "pack_type"]))
    con.execute("CREATE TABLE areas AS SELECT * FROM areas_df")
    con.execute("CREATE TABLE outlets AS SELECT * FROM outlets_df")
    con.execute("CREATE TABLE skus AS SELECT * FROM skus_df")
    # As an analyst would hold the spreadsheet: a real DATE column.
    con.execute("CREATE TABLE facts (sale_date DATE, outlet_id INTEGER, sku_id INTEGER, qty_scaled BIGINT, value_scaled BIGINT)")
    t = time.time()
    for day, outlet, sku, qty, value in data.day_chunks():
        chunk = pd.DataFrame({"day": day.astype(np.int32), "outlet_id": outlet.astype(np.int32),
                              "sku_id": sku.astype(np.int32), "qty_scaled": qty, "value_scaled": value})
        con.register("chunk", chunk)
        con.execute("INSERT INTO facts SELECT DATE '1970-01-01' + day, outlet_id, sku_id, qty_scaled, value_scaled FROM chunk")
        con.unregister("chunk")
    load = time.time() - t
    last = data.first_day + data.days - 1
    # The seed's gap SQL over raw facts: the 30 days ending at the last day.
    gap_sql = f"""
        SELECT a.region, a.province, a.precision_area, s.pack_type, COUNT(*) AS total_records,
               SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END) AS zero_records
        FROM facts f JOIN outlets o ON o.id = f.outlet_id JOIN areas a ON a.id = o.area_id
        JOIN skus s ON s.id = f.sku_id
        WHERE f.sale_date BETWEEN DATE '{EPOCH + dt.timedelta(days=last - 29)}' AND DATE '{EPOCH + dt.timedelta(days=last)}'
        GROUP BY a.region, a.province, a.precision_area, s.pack_type
        ORDER BY zero_records * 1.0 / total_records DESC"""
    # Trends by region: 12 months plus the 12 before them (for year on year), per month.
    first_month = month_of_day(last) - 23
    first_trend_day = (dt.date(first_month // 12, first_month % 12 + 1, 1) - EPOCH).days
    trend_sql = f"""
        SELECT date_trunc('month', f.sale_date) AS m, a.region, SUM(f.value_scaled) AS value
        FROM facts f JOIN outlets o ON o.id = f.outlet_id JOIN areas a ON a.id = o.area_id
        WHERE f.sale_date BETWEEN DATE '{EPOCH + dt.timedelta(days=first_trend_day)}' AND DATE '{EPOCH + dt.timedelta(days=last)}'
        GROUP BY m, a.region ORDER BY m, a.region"""
    out = {"load_s": load}
    for name, sql in [("gaps", gap_sql), ("trends", trend_sql)]:
        con.execute(sql).fetchall()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            rows = con.execute(sql).fetchall()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = percentiles(times)
        out[name + "_rows"] = rows
    return out


def run_backend(db, args, binary, work, data):
    env = dict(os.environ, MERIDIAN_LOG="warn", MERIDIAN_RATE_LIMIT="100000000", MERIDIAN_RATE_LIMIT_BURST="100000000",
               MERIDIAN_ADMIN_PASSWORD=PASSWORD, MERIDIAN_REQUEST_TIMEOUT="600s", MERIDIAN_KEY_FILE=f"{work}/keys.toml")
    if db == "sqlite":
        url = f"sqlite://{work}/bench.db"
    else:
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS meridian_bench_sales WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE meridian_bench_sales"], check=True)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/meridian_bench_sales"
    subprocess.run([binary, "migrate", "--database-url", url], env=env, check=True, capture_output=True)
    subprocess.run([binary, "init", "--database-url", url, "--org-name", "Bench", "--admin-email", "admin@bench.test"],
                   env=env, check=True, capture_output=True)
    if db == "sqlite":
        org = str(uuid.UUID(bytes=sqlite3.connect(f"{work}/bench.db").execute("SELECT id FROM orgs").fetchone()[0]))
    else:
        org = psql(url, "SELECT id FROM orgs").strip()
    t = time.time()
    rollup = load_sqlite(f"{work}/bench.db", org, data) if db == "sqlite" else load_postgres(url, org, data)
    print(f"{db}: loaded {data.rows:,} facts in {time.time() - t:,.0f} s (outlet index + rollups: {rollup:,.0f} s)", flush=True)
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--database-url", url, "--addr", f"127.0.0.1:{port}"], env=env,
                              stderr=open(f"{work}/{db}.log", "w"))
    try:
        for _ in range(400):
            try:
                if Client(port).call("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        status, tokens = Client(port).call("POST", "/api/v1/auth/login", {"email": "admin@bench.test", "password": PASSWORD})
        assert status == 200, tokens
        c = Client(port, tokens["access_token"])
        results = {}
        for name, path in [
            ("gaps (default 30 days, recommendations for the top 25)", "/api/v1/sales/distribution-gaps"),
            ("gaps heat map (region x pack type)", "/api/v1/sales/distribution-gaps/heatmap"),
            ("trends by region (12 months + YoY base)", "/api/v1/sales/trends?by=region"),
            ("trends by sku, qty", "/api/v1/sales/trends?by=sku&measure=qty"),
        ]:
            (p50, p99), body = measure_http(c, path, args.requests)
            results[name] = (p50, p99, body)
            print(f"{db}: {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.requests} requests, 1 connection)", flush=True)
        if args.predictions:
            measure_predictions(db, c, data, args)
        return results
    finally:
        server.terminate()
        server.wait()


def measure_predictions(db, c, data, args):
    """Every outlet becomes a store (a CRM company) with its outlet code linked, the first
    `--rep-stores` assigned to the bench user; then one store's next order and upsell, and
    the bench user's call list, each read over the full year of facts."""
    status, me = c.call("GET", "/api/v1/auth/me")
    assert status == 200, me
    user = me["data"]["user"]["id"]
    t = time.time()
    stores = []
    for i, (_, code, name, _, _) in enumerate(data.outlets):
        status, company = c.call("POST", "/api/v1/companies", {"name": name})
        assert status == 201, company
        body = {"company_id": company["data"]["id"]}
        if i < args.rep_stores:
            body["assigned_rep"] = user
        status, store = c.call("POST", "/api/v1/stores", body)
        assert status == 201, store
        status, linked = c.call("PUT", f"/api/v1/stores/{store['data']['id']}/outlets", {"outlet_codes": [code]})
        assert status == 200, linked
        stores.append(store["data"]["id"])
    print(f"{db}: {len(stores)} stores linked to their outlets in {time.time() - t:.0f} s "
          f"({args.rep_stores} assigned to the caller)", flush=True)
    n = max(5, args.requests // 10)
    for name, path in [
        ("next order (one store, a year of facts)", f"/api/v1/stores/{stores[0]}/next-order"),
        ("upsell (one store, every store's assortment)", f"/api/v1/stores/{stores[0]}/upsell"),
        (f"call list ({args.rep_stores} stores)", "/api/v1/sales/call-list"),
    ]:
        (p50, p99), body = measure_http(c, path, n)
        print(f"{db}: {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({n} requests, 1 connection)", flush=True)
        if "next order" in name:
            assert body["data"]["orders_seen"] > 0, body


def check_against_duckdb(results, peer):
    """The server's gap rows equal DuckDB's on the raw facts (same counts per key)."""
    body = results["gaps (default 30 days, recommendations for the top 25)"][2]["data"]
    ours = {(r["region"], r["province"], r["precision_area"], r["pack_type"]): (r["total_records"], r["zero_records"])
            for r in body["rows"]}
    theirs = {(r[0], r[1], r[2], r[3]): (int(r[4]), int(r[5])) for r in peer["gaps_rows"]}
    assert ours == theirs, "gap counts differ from DuckDB's"
    trend = results["trends by region (12 months + YoY base)"][2]["data"]
    by = {}
    for m, region, value in peer["trends_rows"]:
        by[(m.year * 12 + m.month - 1, region)] = int(value)
    months = trend["months"]
    for s in trend["series"]:
        for i, label in enumerate(months):
            y, mo = map(int, label.split("-"))
            m = y * 12 + mo - 1
            assert abs(float(s["values"][i]) * 10_000 - by.get((m, s["key"]), 0)) < 1, (s["key"], label)
    print("check: gap counts and trend values equal DuckDB's over the raw facts", flush=True)


# ----------------------------------------------------------------------------- superstore

def superstore_check(binary, work):
    """Trend MoM/YoY by region from the server on the Superstore order lines vs pandas."""
    import pandas as pd
    folder = shared_data("demand_superstore")
    if not folder.exists():  # a git worktree lives one level deeper than the checkout
        folder = Path(os.environ.get("MERIDIAN_SHARED_DATA", "/work/shared/data")) / "demand_superstore"
    df = pd.read_csv(folder / "superstore_orders.csv")
    df["date"] = pd.to_datetime(df["Order Date"])
    env = dict(os.environ, MERIDIAN_LOG="warn", MERIDIAN_ADMIN_PASSWORD=PASSWORD, MERIDIAN_KEY_FILE=f"{work}/keys.toml",
               MERIDIAN_RATE_LIMIT="100000000", MERIDIAN_RATE_LIMIT_BURST="100000000")
    url = f"sqlite://{work}/superstore.db"
    subprocess.run([binary, "migrate", "--database-url", url], env=env, check=True, capture_output=True)
    subprocess.run([binary, "init", "--database-url", url, "--org-name", "Superstore", "--admin-email", "admin@ss.test"],
                   env=env, check=True, capture_output=True)
    con = sqlite3.connect(f"{work}/superstore.db")
    org_b = con.execute("SELECT id FROM orgs").fetchone()[0]
    imp = uuid.uuid4().bytes
    # Region -> area, customer+region -> outlet, product -> SKU (pack type = sub-category);
    # one fact per (day, outlet, sku): order lines of the same key are summed.
    areas = {r: i + 1 for i, r in enumerate(sorted(df["Region"].unique()))}
    df["outlet"] = df["Customer ID"] + "|" + df["Region"]
    outlets = {o: i + 1 for i, o in enumerate(sorted(df["outlet"].unique()))}
    skus = df.groupby("Product ID")["Sub-Category"].first()
    sku_ids = {s: i + 1 for i, s in enumerate(sorted(skus.index))}
    con.executemany("INSERT INTO sales_fact_areas VALUES (?, ?, ?, ?, ?)", [(i, org_b, r, r, r) for r, i in areas.items()])
    con.executemany("INSERT INTO sales_fact_outlets (id, org_id, outlet_code, outlet_name, channel, area_id) VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, org_b, o, o, "retail", areas[o.split("|")[1]]) for o, i in outlets.items()])
    con.executemany("INSERT INTO sales_fact_skus (id, org_id, sku, pack_type) VALUES (?, ?, ?, ?)",
                    [(i, org_b, s, skus[s]) for s, i in sku_ids.items()])
    df["day"] = (df["date"] - pd.Timestamp("1970-01-01")).dt.days
    df["value_scaled"] = (df["Sales"] * 10_000).round().astype("int64")
    df["qty_scaled"] = df["Quantity"].astype("int64") * 10_000
    df["product"] = df["Product ID"]
    facts = df.groupby(["day", "outlet", "product"], as_index=False)[["qty_scaled", "value_scaled"]].sum()
    con.executemany("INSERT INTO sales_facts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(org_b, int(r.day), outlets[r.outlet], sku_ids[r.product], int(r.qty_scaled), int(r.value_scaled), imp)
                     for r in facts.itertuples(index=False)])
    first, last = int(facts["day"].min()), int(facts["day"].max())
    lit = "X'" + org_b.hex() + "'"
    rebuild_rollups(con.execute, lit, first, last)
    con.commit()
    con.close()
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--database-url", url, "--addr", f"127.0.0.1:{port}"], env=env,
                              stderr=open(f"{work}/superstore.log", "w"))
    try:
        for _ in range(400):
            try:
                if Client(port).call("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        status, tokens = Client(port).call("POST", "/api/v1/auth/login", {"email": "admin@ss.test", "password": PASSWORD})
        c = Client(port, tokens["access_token"])
        status, body = c.call("GET", "/api/v1/sales/trends?by=region&from=2020-01&to=2022-12")
        assert status == 200, body
        report = body["data"]
        status, pbody = c.call("GET", "/api/v1/sales/trends?by=pack_type&from=2022-01&to=2022-12")
        pack_report = pbody["data"]
    finally:
        server.terminate()
        server.wait()
    # pandas: the full Region x month grid (zeros filled), value per month, growth.
    df["month"] = df["date"].dt.year * 12 + df["date"].dt.month - 1
    worst = 0.0
    checked = 0
    for by, rep, col in [("Region", report, "Region"), ("Sub-Category", pack_report, "Sub-Category")]:
        months = [int(m[:4]) * 12 + int(m[5:]) - 1 for m in rep["months"]]
        grid = df.groupby([col, "month"])["Sales"].sum().unstack(fill_value=0.0)
        full = range(months[0] - 12, months[-1] + 1)
        grid = grid.reindex(columns=full, fill_value=0.0)
        for s in rep["series"]:
            row = grid.loc[s["key"]]
            for i, m in enumerate(months):
                value = row[m]
                assert abs(float(s["values"][i]) - value) < 0.01, (by, s["key"], m)
                for lag, name in [(1, "mom_growth"), (12, "yoy_growth")]:
                    base = row[m - lag]
                    expected = None if round(base * 10_000) == 0 else (value - base) / base
                    got = s[name][i]
                    if expected is None:
                        assert got is None, (by, s["key"], m, name, got)
                    else:
                        worst = max(worst, abs(got - expected))
                        checked += 1
    print(f"superstore: {checked} MoM/YoY growth figures (region x month 2020-2022, sub-category x month 2022) "
          f"equal pandas' within {worst:.2e} (values to the cent)", flush=True)
    assert worst < 1e-5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=700)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--bin")
    parser.add_argument("--predictions", action="store_true",
                        help="also link every outlet to a store and time next order, upsell and the call list")
    parser.add_argument("--rep-stores", type=int, default=100, help="stores on the caller's call list (--predictions)")
    parser.add_argument("--superstore", action="store_true", help="only the Superstore trend check")
    args = parser.parse_args()
    binary = str(meridian_binary(args.bin))
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="meridian-sales-bench-") as work:
        subprocess.run(f"{binary} keys generate > {work}/keys.toml", shell=True, check=True)
        if args.superstore:
            superstore_check(binary, work)
            return
        data = Dataset(args.outlets, args.skus, args.days)
        print(f"{data.rows:,} facts: {args.days} days x {args.outlets} outlets x {args.skus} SKUs, "
              f"{len(data.areas)} precision areas, {len(PACKS)} pack types", flush=True)
        peer = duckdb_peer(data, args.requests)
        print(f"duckdb {__import__('duckdb').__version__}: loaded in {peer['load_s']:.0f} s; "
              f"gaps p50 {peer['gaps'][0]:.1f} ms p99 {peer['gaps'][1]:.1f} ms; "
              f"trends p50 {peer['trends'][0]:.1f} ms p99 {peer['trends'][1]:.1f} ms", flush=True)
        for db in ["sqlite", "postgres"]:
            if args.only and args.only != db:
                continue
            results = run_backend(db, args, binary, work, data)
            check_against_duckdb(results, peer)
            for name, peer_name in [("gaps (default 30 days, recommendations for the top 25)", "gaps"),
                                    ("trends by region (12 months + YoY base)", "trends")]:
                p50, p99, _ = results[name]
                print(f"{db}: {peer_name}: meridian p50 {p50:.1f} ms / duckdb p50 {peer[peer_name][0]:.1f} ms "
                      f"= {p50 / peer[peer_name][0]:.2f}x; p99 {p99:.1f} / {peer[peer_name][1]:.1f} ms "
                      f"= {p99 / peer[peer_name][1]:.2f}x", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)


if __name__ == "__main__":
    main()
