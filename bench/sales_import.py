#!/usr/bin/env python3
"""Sales-data import (issue 7, part 2): `meridian import sales` against pandas.

Generates a file in the seed's "Sheet6" layout (Date, Region, Province, Precision Area,
Outlet Code, Outlet Name, Channel, Pack Type, SKU, Sales Qty, Sales Value; one row per
outlet x SKU x day, about a third of them zero sales) as CSV and as XLSX, then for each
format and database measures, end to end (process start to exit, /usr/bin/time -v):

- meridian: `meridian import sales FILE --org ORG` (release build): read, validate every
  row, upsert dimensions, write the facts, rebuild the daily and monthly rollups, commit;
- pandas: `pandas.read_csv` / `pandas.read_excel` (openpyxl) + the same row checks
  (dates, numbers >= 0 with at most 4 decimals and below the maxima, required text,
  duplicates of outlet x SKU x date, known regions) + an insert of the rows into one flat
  table in one transaction (sqlite3 executemany / psycopg COPY) — less work than
  meridian's (no dimensions, no rollups), so the ratio is conservative.

Prints rows/s, wall time, peak RSS and the ratio per format and database.

Usage: python3 bench/sales_import.py [--rows 1000000] [--only sqlite|postgres]
       [--formats csv,xlsx] [--bin PATH] [--work DIR] [--skip-pandas]
Needs pandas, openpyxl and psycopg (the script installs them into bench/.venv when they
are missing) and a PostgreSQL at MERIDIAN_TEST_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres) for the PostgreSQL runs.
"""

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _common import meridian_binary  # noqa: E402

PG_ADMIN = os.environ.get("MERIDIAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password that is long"
HEADER = ["Date", "Region", "Province", "Precision Area", "Outlet Code", "Outlet Name", "Channel",
          "Pack Type", "SKU", "Sales Qty", "Sales Value"]
PEERS = ["pandas", "openpyxl", "psycopg[binary]"]


def ensure_peers():
    """Re-run inside bench/.venv (creating it) when pandas, openpyxl or psycopg is missing."""
    try:
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401
        import psycopg  # noqa: F401
        return
    except ImportError:
        pass
    venv = BENCH / ".venv"
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEERS], check=True)
        return
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *PEERS], check=True)
    os.execv(str(py), [str(py), *sys.argv])


# ----------------------------------------------------------------------------- data

def layout(rows):
    """Outlets, SKUs and days giving `rows` rows (outlets x SKUs x days)."""
    skus = 50
    days = 10
    outlets = max(1, rows // (skus * days))
    return outlets, skus, days


def generate_rows(rows, seed=7):
    """Yields rows in the seed's layout, as Python values (date, texts, qty, value)."""
    rnd = random.Random(seed)
    outlets, skus, days = layout(rows)
    regions = ["Greater Accra", "Ashanti", "Northern", "Volta", "Western"]
    channels = ["Retail", "Wholesale", "HoReCa"]
    packs = ["Can", "PET", "Glass", "Sachet"]
    outlet_info = []
    for o in range(outlets):
        region = regions[o % 5]
        province = f"{region} P{(o // 5) % 4 + 1}"
        area = f"{province} A{(o // 20) % 5 + 1}"
        outlet_info.append((region, province, area, f"OUT-{o:06d}", f"Outlet {o}", channels[o % 3]))
    sku_info = [(f"SKU-{s:03d}", packs[s % 4], 1.5 + (s % 7)) for s in range(skus)]
    start = dt.date(2026, 10, 1)
    n = 0
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for o in outlet_info:
            for sku, pack, price in sku_info:
                if n >= rows:
                    return
                qty = 0 if rnd.random() < 0.33 else rnd.randint(1, 40)
                yield (day, o[0], o[1], o[2], o[3], o[4], o[5], pack, sku, qty, round(qty * price, 2))
                n += 1


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for r in generate_rows(rows):
            f.write(f"{r[0].isoformat()},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]},{r[7]},{r[8]},{r[9]},{r[10]}\n")


def write_xlsx(path, rows):
    """A real workbook (shared strings, date cells with a date format) written as a
    stream: openpyxl or xlsxwriter would hold a million rows in memory."""
    strings = {}

    def sid(s):
        i = strings.get(s)
        if i is None:
            i = strings[s] = len(strings)
        return i

    def col(c):
        return "ABCDEFGHIJK"[c]

    epoch = dt.date(1899, 12, 30)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as w:
            w.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            cells = "".join(f'<c r="{col(c)}1" t="s"><v>{sid(h)}</v></c>' for c, h in enumerate(HEADER))
            w.write(f'<row r="1">{cells}</row>'.encode())
            buf = []
            for n, r in enumerate(generate_rows(rows), start=2):
                parts = [f'<row r="{n}"><c r="A{n}" s="1"><v>{(r[0] - epoch).days}</v></c>']
                for c in range(1, 9):
                    parts.append(f'<c r="{col(c)}{n}" t="s"><v>{sid(r[c])}</v></c>')
                parts.append(f'<c r="J{n}"><v>{r[9]}</v></c><c r="K{n}"><v>{r[10]}</v></c></row>')
                buf.append("".join(parts))
                if len(buf) >= 10000:
                    w.write("".join(buf).encode())
                    buf.clear()
            w.write("".join(buf).encode())
            w.write(b"</sheetData></worksheet>")
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                   '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   '<sheets><sheet name="Sheet6" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                   '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                   '</Relationships>')
        z.writestr("xl/styles.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
                   '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
                   '<borders count="1"><border/></borders>'
                   '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                   '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                   '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
                   '</styleSheet>')
        items = "".join(f"<si><t>{s}</t></si>" for s in strings)
        z.writestr("xl/sharedStrings.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
                   f'uniqueCount="{len(strings)}">{items}</sst>')


# ----------------------------------------------------------------------------- pandas

TEXT = ["Region", "Province", "Precision Area", "Outlet Code", "Outlet Name", "Channel", "Pack Type", "SKU"]


def pandas_import(path, db, url):
    """The peer: read, the same checks, insert in one transaction. Returns (rows, errors)."""
    import pandas as pd

    if path.endswith(".csv"):
        df = pd.read_csv(path, dtype={c: str for c in TEXT}, keep_default_na=False)
    else:
        df = pd.read_excel(path, sheet_name=0, engine="openpyxl", dtype={c: str for c in TEXT})
    errors = []
    today = pd.Timestamp(dt.date.today())

    def report(mask, column, reason):
        for i in df.index[mask]:
            errors.append((int(i) + 2, column, reason))

    dates = pd.to_datetime(df["Date"], format="%Y-%m-%d", errors="coerce") if path.endswith(".csv") \
        else pd.to_datetime(df["Date"], errors="coerce")
    report(dates.isna(), "Date", "is not a date")
    report(dates > today, "Date", "is in the future")
    report(dates < pd.Timestamp("1990-01-01"), "Date", "is before 1990")
    for column, top in [("Sales Qty", 10_000_000), ("Sales Value", 10_000_000_000)]:
        v = pd.to_numeric(df[column], errors="coerce")
        report(v.isna(), column, "is not a number")
        report(v < 0, column, "is negative")
        report(v > top, column, "is too large")
        scaled = v * 10_000
        report((scaled - scaled.round()).abs() > 1e-6, column, "has more than 4 decimals")
    for column in TEXT:
        s = df[column].fillna("").astype(str).str.strip()
        report(s == "", column, "is required")
        report(s.str.len() > 200, column, "is too long")
    report(df.duplicated(subset=["Date", "Outlet Code", "SKU"], keep="first"), "SKU", "duplicate")
    known_regions = {"Greater Accra", "Ashanti", "Northern", "Volta", "Western"}
    report(~df["Region"].isin(known_regions), "Region", "is not a known region")
    if errors:
        return len(df), len(errors)
    days = (dates - pd.Timestamp("1970-01-01")).dt.days.astype("int64")
    qty = (pd.to_numeric(df["Sales Qty"]) * 10_000).round().astype("int64")
    value = (pd.to_numeric(df["Sales Value"]) * 10_000).round().astype("int64")
    out = pd.DataFrame({"day": days, "region": df["Region"], "province": df["Province"],
                        "precision_area": df["Precision Area"], "outlet_code": df["Outlet Code"],
                        "outlet_name": df["Outlet Name"], "channel": df["Channel"], "pack_type": df["Pack Type"],
                        "sku": df["SKU"], "qty_scaled": qty, "value_scaled": value})
    records = list(out.itertuples(index=False, name=None))
    ddl = ("CREATE TABLE pandas_sales (day INTEGER, region TEXT, province TEXT, precision_area TEXT, "
           "outlet_code TEXT, outlet_name TEXT, channel TEXT, pack_type TEXT, sku TEXT, qty_scaled BIGINT, "
           "value_scaled BIGINT, PRIMARY KEY (day, outlet_code, sku))")
    if db == "sqlite":
        import sqlite3
        con = sqlite3.connect(url)
        con.execute("DROP TABLE IF EXISTS pandas_sales")
        con.execute(ddl)
        with con:
            con.executemany("INSERT INTO pandas_sales VALUES (?,?,?,?,?,?,?,?,?,?,?)", records)
        con.close()
    else:
        import psycopg
        with psycopg.connect(url) as con:
            con.execute("DROP TABLE IF EXISTS pandas_sales")
            con.execute(ddl)
            with con.cursor() as cur:
                with cur.copy("COPY pandas_sales FROM STDIN") as copy:
                    for r in records:
                        copy.write_row(r)
    return len(df), 0


# ----------------------------------------------------------------------------- runs

def timed(cmd, env=None):
    """Runs `cmd` under /usr/bin/time -v: (wall seconds, peak RSS MiB, stdout, returncode)."""
    started = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return wall, (int(rss.group(1)) / 1024 if rss else float("nan")), p.stdout, p.returncode, p.stderr


def fresh_database(db, work, name):
    if db == "sqlite":
        path = Path(work) / f"{name}.db"
        for suffix in ["", "-wal", "-shm"]:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite://{path}", str(path)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True,
                   capture_output=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    return url, url


def run_meridian(binary, db, path, work):
    env = dict(os.environ, MERIDIAN_LOG="warn", MERIDIAN_ADMIN_PASSWORD=PASSWORD,
               MERIDIAN_KEY_FILE=f"{work}/keys.toml")
    keys = Path(work) / "keys.toml"
    if not keys.exists():
        keys.write_text(subprocess.run([str(binary), "keys", "generate"], check=True, capture_output=True,
                                       text=True).stdout)
    url, _ = fresh_database(db, work, "meridian_bench_sales")
    init = subprocess.run([str(binary), "init", "--database-url", url, "--org-name", "Bench Sales",
                           "--admin-email", "admin@bench.test"], env=env, check=True, capture_output=True, text=True)
    org = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", init.stdout + init.stderr)
    if not org:
        sys.exit(f"cannot find the organisation id in: {init.stdout}{init.stderr}")
    wall, rss, out, rc, err = timed([str(binary), "import", "sales", str(path), "--org", org.group(0),
                                     "--database-url", url], env=env)
    if rc != 0:
        sys.exit(f"meridian import failed ({rc}): {out[-2000:]}{err[-2000:]}")
    summary = out.splitlines()[0] if out else ""
    if db == "postgres":
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS meridian_bench_sales WITH (FORCE)"],
                       capture_output=True)
    return wall, rss, summary


def run_pandas(db, path, work):
    _, target = fresh_database(db, work, "pandas_bench_sales")
    wall, rss, out, rc, err = timed([sys.executable, __file__, "--pandas-child", db, str(path), target])
    if rc != 0:
        sys.exit(f"pandas import failed ({rc}): {err[-2000:]}")
    if db == "postgres":
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS pandas_bench_sales WITH (FORCE)"],
                       capture_output=True)
    return wall, rss, out.strip()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--pandas-child":
        rows, errors = pandas_import(sys.argv[3], sys.argv[2], sys.argv[4])
        print(f"{rows} rows, {errors} errors")
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--bin")
    parser.add_argument("--work")
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    if not args.skip_pandas:
        ensure_peers()
    binary = meridian_binary(args.bin)
    work = Path(args.work or tempfile.mkdtemp(prefix="sales-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    formats = [f for f in args.formats.split(",") if f]
    files = {}
    for fmt in formats:
        path = work / f"sales_{args.rows}.{fmt}"
        if not path.exists():
            started = time.monotonic()
            (write_csv if fmt == "csv" else write_xlsx)(path, args.rows)
            print(f"generated {path} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
        files[fmt] = path
    load = os.getloadavg()
    print(f"# sales import, {args.rows:,} rows, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print("| format | database | meridian wall | meridian rows/s | meridian peak RSS | pandas wall | pandas rows/s "
          "| pandas peak RSS | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for db in [args.only] if args.only else ["sqlite", "postgres"]:
        for fmt in formats:
            wall, rss, summary = run_meridian(binary, db, files[fmt], work)
            print(f"meridian {fmt} {db}: {summary}", file=sys.stderr)
            if args.skip_pandas:
                p_wall, p_rss, ratio = float("nan"), float("nan"), float("nan")
            else:
                p_wall, p_rss, p_out = run_pandas(db, files[fmt], work)
                print(f"pandas {fmt} {db}: {p_out}", file=sys.stderr)
                ratio = p_wall / wall
            print(f"| {fmt.upper()} | {db} | {wall:.1f} s | {args.rows / wall:,.0f} | {rss:.0f} MiB "
                  f"| {p_wall:.1f} s | {args.rows / p_wall:,.0f} | {p_rss:.0f} MiB | {ratio:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
