#!/usr/bin/env python3
"""CRM at scale (issue 4): one organisation with 100,000 contacts, 20,000 companies and
50,000 deals, on SQLite and on PostgreSQL.

Measures, against the release server:
- import throughput: a generated 100,000-row CSV (which also creates the 20,000 companies)
  and a 100,000-row XLSX (into a second organisation), rows/s end to end over HTTP;
- search (`GET /api/v1/search?q=`, rotating typo'd queries), a list page (50 contacts,
  filtered by name and sorted by creation, rotating filters), the board of the default
  pipeline, each p50/p99 with wrk at 1, 8 and 64 connections (`--connections`);
- single-record updates (`PATCH /api/v1/contacts/{id}`, each with its current version)
  req/s at 64 connections.

Usage: python3 bench/crm.py [--seconds 10] [--contacts 100000] [--companies 20000]
       [--deals 50000] [--only sqlite|postgres] [--bin PATH] [--connections 1,8,64]
Needs wrk (apt-get install wrk) and psql for PostgreSQL. Standard library only.
"""

import argparse
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import meridian_binary  # noqa: E402

PG_ADMIN = os.environ.get("MERIDIAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password that is long"
FIRST = ["John", "Maria", "Ahmed", "Li", "Fatima", "Carlos", "Anna", "Omar", "Sara", "Ivan",
         "Noura", "Peter", "Aisha", "Jon", "Elena", "Yusuf", "Grace", "Khalid", "Mona", "Tom"]
LAST = ["Smith", "Garcia", "Khan", "Chen", "Haddad", "Silva", "Novak", "Rahman", "Okafor",
        "Ivanova", "Saleh", "Brown", "Nasser", "Lopez", "Kim", "Farouk", "Meyer", "Costa"]
SEARCHES = ["jon smth", "maria garc", "ahmd khan", "fatma haddad", "company 1234", "elena",
            "garcia", "omar rahmn", "grace okafr", "khalid"]
LISTS = ["smi", "gar", "kha", "che", "had", "sil", "nov", "rah"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def contact_rows(n, companies, prefix):
    rng = random.Random(42)
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        yield [first, f"{last}{i % 97}", f"{first.lower()}.{last.lower()}.{prefix}{i}@example.com",
               f"+1 555 {i // 10000:03d} {i % 10000:04d}", rng.choice(["Buyer", "Owner", "Manager", ""]),
               f"Company {i % companies}"]


HEADER = ["First Name", "Last Name", "Email", "Phone", "Title", "Company"]


def write_csv(path, rows):
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)


def write_xlsx(path, rows):
    """A minimal XLSX (inline strings), so the script needs no spreadsheet library."""
    def esc(v):
        return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def col(c):
        return chr(ord("A") + c)

    sheet = io.StringIO()
    sheet.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    for r, row in enumerate([HEADER, *rows], start=1):
        sheet.write(f'<row r="{r}">')
        for c, v in enumerate(row):
            if v:
                sheet.write(f'<c r="{col(c)}{r}" t="inlineStr"><is><t>{esc(v)}</t></is></c>')
        sheet.write("</row>")
    sheet.write("</sheetData></worksheet>")
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet.getvalue(),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None, content_type="application/json", headers=None):
        h = {"content-type": content_type, **(headers or {})}
        if self.token:
            h["authorization"] = f"Bearer {self.token}"
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data and r.getheader("content-type", "").find("json") >= 0 else data)


def login(port, email):
    status, body = Client(port).call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body
    return body["access_token"]


def wrk(url, token, seconds, script=None, connections=64):
    threads = min(2, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(bad.group(1)) if bad else 0


def rotate_script(work, name, paths):
    p = Path(work) / f"{name}.lua"
    items = ", ".join(json.dumps(x) for x in paths)
    p.write_text(f"local paths = {{{items}}}\nlocal i = 0\n"
                 "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    return str(p)


def update_script(work, ids, token):
    """Each wrk thread PATCHes its own slice of contacts, sending each one's next version.
    (wrk.format with a headers table drops the -H headers, so the token goes in here.)"""
    p = Path(work) / "update.lua"
    ids_path = Path(work) / "ids.txt"
    ids_path.write_text("\n".join(ids))
    p.write_text(f"""
local ids = {{}}
for line in io.lines({json.dumps(str(ids_path))}) do ids[#ids + 1] = line end
local threads = 0
setup = function(thread) thread:set("offset", threads); threads = threads + 1 end
local i = 0
local version = {{}}
request = function()
  local n = math.floor(#ids / 2)
  local id = ids[(offset * n) + (i % n) + 1]
  i = i + 1
  local v = (version[id] or 1)
  version[id] = v + 1
  local body = '{{"title": "Buyer ' .. i .. '", "version": ' .. v .. '}}'
  return wrk.format('PATCH', '/api/v1/contacts/' .. id, {{['content-type'] = 'application/json', ['authorization'] = 'Bearer {token}'}}, body)
end
""")
    return str(p)


def seed_deals(port, token, n, stages, workers=8):
    """Creates deals over HTTP with several keep-alive connections; returns req/s."""
    done = [0]
    lock = threading.Lock()

    def work(k):
        c = Client(port, token)
        rng = random.Random(k)
        for i in range(k, n, workers):
            body = {"title": f"Deal {i} {rng.choice(['Coolers', 'Listing', 'Promo', 'Supply'])}",
                    "amount": f"{rng.randint(100, 500000)}.{rng.randint(0, 99):02d}",
                    "currency": rng.choice(["USD", "EUR", "SAR"]), "stage_id": rng.choice(stages)}
            status, resp = c.call("POST", "/api/v1/deals", body)
            assert status == 201, resp
            with lock:
                done[0] += 1

    start = time.time()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.time() - start)


def import_file(port, token, path, content_type):
    data = Path(path).read_bytes()
    start = time.time()
    status, body = Client(port, token).call("POST", "/api/v1/imports/contacts", data, content_type)
    elapsed = time.time() - start
    assert status == 200, body
    assert body["data"]["imported"] > 0 and body["data"]["invalid_rows"] == 0, body["data"]["errors"][:5]
    return body["data"]["imported"], elapsed


def run_backend(db, args, binary, work):
    # MERIDIAN_BENCH_LOG=meridian::import=debug shows the import's phases; the server's log
    # is kept as meridian-crm-bench-<db>.log in the system's temporary folder.
    env = dict(os.environ, MERIDIAN_LOG=os.environ.get("MERIDIAN_BENCH_LOG", "warn"), MERIDIAN_RATE_LIMIT="100000000", MERIDIAN_RATE_LIMIT_BURST="100000000",
               MERIDIAN_ADMIN_PASSWORD=PASSWORD, MERIDIAN_REQUEST_TIMEOUT="600s", MERIDIAN_KEY_FILE=f"{work}/keys.toml")
    if db == "sqlite":
        url = f"sqlite://{work}/bench.db"
    else:
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS meridian_bench_crm WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE meridian_bench_crm"], check=True)
        url = PG_ADMIN.rsplit("/", 1)[0] + "/meridian_bench_crm"
    for name, email in [("Bench", "admin@bench.test"), ("Bench XLSX", "admin@xlsx.test")]:
        subprocess.run([binary, "init", "--database-url", url, "--org-name", name, "--admin-email", email],
                       env=env, check=True, capture_output=True)
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
        token = login(port, "admin@bench.test")
        print(f"{db}: load average {os.getloadavg()[0]:.1f}", flush=True)
        results = {}
        n, secs = import_file(port, token, f"{work}/contacts.csv", "text/csv")
        results["import_csv"] = (n, secs)
        print(f"{db}: CSV import {n:,} rows (+{args.companies:,} companies) in {secs:.2f} s = {n / secs:,.0f} rows/s", flush=True)
        xtoken = login(port, "admin@xlsx.test")
        n, secs = import_file(port, xtoken, f"{work}/contacts.xlsx",
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        results["import_xlsx"] = (n, secs)
        print(f"{db}: XLSX import {n:,} rows in {secs:.2f} s = {n / secs:,.0f} rows/s", flush=True)
        if args.import_only:
            return results
        c = Client(port, token)
        status, pipelines = c.call("GET", "/api/v1/pipelines")
        pipeline = pipelines["data"][0]
        stages = [s["id"] for s in pipeline["stages"]]
        rate = seed_deals(port, token, args.deals, stages)
        print(f"{db}: created {args.deals:,} deals over HTTP at {rate:,.0f} deals/s (8 connections)", flush=True)
        base = f"http://127.0.0.1:{port}"
        wrk(base + "/health", token, 2)  # warm-up
        # The first search of an organisation builds its in-memory index from the database.
        start = time.time()
        status, _ = c.call("GET", "/api/v1/search?q=warm")
        assert status == 200
        print(f"{db}: first search (builds the organisation's search index): {(time.time() - start) * 1000:,.0f} ms", flush=True)
        # One request at a time: the server's own latency, without queueing.
        for name, paths in [("search", [f"/api/v1/search?q={q.replace(' ', '%20')}" for q in SEARCHES]),
                            ("list page", [f"/api/v1/contacts?limit=50&name[contains]={q}&sort=-created_at" for q in LISTS]),
                            ("board", [f"/api/v1/pipelines/{pipeline['id']}/board"])]:
            times = []
            for _ in range(5):
                for path in paths:
                    start = time.time()
                    status, _ = c.call("GET", path)
                    assert status == 200, (path, status)
                    times.append((time.time() - start) * 1000)
            times.sort()
            print(f"{db}: {name}, one request at a time ({len(times)}): p50 {times[len(times) // 2]:.1f} ms, "
                  f"max {times[-1]:.1f} ms", flush=True)
        search = rotate_script(work, "search", [f"/api/v1/search?q={q.replace(' ', '%20')}" for q in SEARCHES])
        lists = rotate_script(work, "list", [f"/api/v1/contacts?limit=50&name[contains]={q}&sort=-created_at" for q in LISTS])
        print(f"{db}: load average before the latency runs {os.getloadavg()[0]:.1f}", flush=True)
        # Latency targets are read at 1 and 8 connections (2 cores: at 64 the figure is the
        # queue, 64 / req/s); 64 is reported as well.
        for name, url, script in [
            ("search", base + "/", search),
            ("list page (50, filtered + sorted)", base + "/", lists),
            ("board", f"{base}/api/v1/pipelines/{pipeline['id']}/board", None),
        ]:
            for connections in args.connections:
                rps, p50, p99, bad = wrk(url, token, args.seconds, script, connections)
                results[f"{name} c{connections}"] = (rps, p50, p99, bad)
                print(f"{db}: {name}, {connections} connections: {rps:,.0f} req/s, p50 {p50}, p99 {p99}, "
                      f"non-2xx {bad}", flush=True)
        ids = []
        cursor = None
        while len(ids) < 40000:
            path = "/api/v1/contacts?limit=500&sort=created_at" + (f"&cursor={cursor}" if cursor else "")
            status, page = c.call("GET", path)
            ids += [x["id"] for x in page["data"]]
            cursor = page["meta"].get("next_cursor")
            if not cursor:
                break
        rps, p50, p99, bad = wrk(base + "/", token, args.seconds, update_script(work, ids, token))
        results["update"] = (rps, p50, p99, bad)
        print(f"{db}: contact update (PATCH with version): {rps:,.0f} req/s, p50 {p50}, p99 {p99}, non-2xx {bad}", flush=True)
        return results
    finally:
        server.terminate()
        server.wait()
        shutil.copy(f"{work}/{db}.log", Path(tempfile.gettempdir()) / f"meridian-crm-bench-{db}.log")
        if db == "postgres":
            subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS meridian_bench_crm WITH (FORCE)"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--companies", type=int, default=20_000)
    ap.add_argument("--deals", type=int, default=50_000)
    ap.add_argument("--only", choices=["sqlite", "postgres"])
    ap.add_argument("--bin")
    ap.add_argument("--import-only", action="store_true", help="measure the two imports, skip the rest")
    ap.add_argument("--connections", type=lambda v: [int(x) for x in v.split(",")], default=[1, 8, 64],
                    help="wrk connection counts for search, list and board (default 1,8,64)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")
    binary = str(meridian_binary(args.bin))
    work = tempfile.mkdtemp(prefix="meridian-crm-bench-")
    try:
        subprocess.run(f"{binary} keys generate > {work}/keys.toml", shell=True, check=True)
        write_csv(f"{work}/contacts.csv", contact_rows(args.contacts, args.companies, "c"))
        write_xlsx(f"{work}/contacts.xlsx", list(contact_rows(args.contacts, args.companies, "x")))
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}; {args.contacts:,} contacts, {args.companies:,} companies, {args.deals:,} deals; "
              f"wrk -d{args.seconds}s at {args.connections} connections (updates at 64)", flush=True)
        for db in ["sqlite", "postgres"]:
            if args.only and db != args.only:
                continue
            run_backend(db, args, binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
