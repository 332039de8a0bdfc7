#!/usr/bin/env python3
"""Sentiment: `meridian sentiment` against the reference, vaderSentiment 3.3.2.

Usage (from the repository root):
    python3 bench/sentiment_eval.py [--meridian PATH] [--data PATH] [--repeat 50]

Data: shared/data/sentiment_vader_tweets/tweets_GroundTruth.txt beside the checkout
or beside its folder of worktrees, or --data PATH (4,200 texts, TAB
separated id / mean human rating / text, CRLF, no quoting), converted to a CSV.

1. Agreement: every text is scored by the Python package and by `meridian sentiment`
   (one thread); per row the absolute differences of neg, neu, pos and compound. The
   script exits non-zero if any row differs by more than 1e-4.
2. Validity: Pearson correlation of compound with the mean human rating, both sides.
3. Speed on one core: the script pins itself, and so every process it starts, to CPU 0
   (`os.sched_setaffinity`, like `taskset -c 0`; `--cpu N` picks another), so Python
   and Meridian run on the same single core. Python, two ways: (a) the package's
   `polarity_scores` in a loop, in process (import, lexicon loading and file I/O
   excluded, which favours Python); (b) the same work as the CLI, in process: read the
   CSV with the `csv` module, score, write the output CSV (same columns), flush and
   fsync. Meridian,
   two ways: (a) the same in-process loop over `insight::sentiment` (the example
   `sentiment_speed`, R passes); (b) the CLI with --threads 1 on the corpus and on the
   corpus repeated R times: the difference of the two runs, divided by the extra
   texts, is the per-text cost with process start excluded, CSV reading, writing and
   the output's fsync included. Rates are given per wall second and per CPU second
   (user + system), since the machine is shared.

The venv with the peer lives in ~/.cache/meridian/sentiment-venv (created on first
use, vaderSentiment from PyPI). The binary is built with
`cargo build --release --bin meridian` into $CARGO_TARGET_DIR (default
~/.cache/meridian/target) unless --meridian is given; likewise the example with
`cargo build --release -p insight --example sentiment_speed` unless --example is given.
"""

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = Path.home() / ".cache" / "meridian"
VENV = CACHE / "sentiment-venv"
PEER = "vaderSentiment==3.3.2"
CORPUS = Path("shared") / "data" / "sentiment_vader_tweets" / "tweets_GroundTruth.txt"
TOLERANCE = 1e-4


def ensure_venv():
    """Re-run this script inside the venv, creating it on first use."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} and installing {PEER} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", PEER], check=True)
    os.execv(str(py), [str(py), *sys.argv])


def build(what):
    """`cargo build --release` of the meridian binary or of insight's speed example."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    if what == "meridian":
        args, path = ["--bin", "meridian"], target / "release" / "meridian"
    else:
        args, path = ["-p", "insight", "--example", "sentiment_speed"], target / "release" / "examples" / "sentiment_speed"
    print(f"building {what} (cargo build --release {' '.join(args)}, target {target}) ...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", *args], cwd=REPO, env=env, check=True)
    return path


def run_library(example, corpus, rounds):
    """insight::sentiment in process, one thread: (wall texts/s as printed, CPU texts/s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([str(example), str(corpus), str(rounds)], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # "N texts in S s: R texts/s on one core (...)"
    n, secs = int(out.split()[0]), float(out.split()[3])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return n / secs, n / cpu


def find_corpus(explicit):
    """--data, else shared/ beside the checkout (../shared), or beside the folder of
    worktrees (../../shared)."""
    if explicit:
        return Path(explicit)
    for base in (REPO.parent, REPO.parent.parent):
        if (base / CORPUS).exists():
            return base / CORPUS
    sys.exit(f"cannot find {CORPUS} in {REPO.parent} or {REPO.parent.parent}; pass --data PATH")


def load_corpus(path):
    # CRLF, no trailing newline, no quoting: split on the exact separators.
    raw = path.read_bytes().decode("utf-8")
    rows = []
    for line in raw.split("\r\n"):
        if not line:
            continue
        rid, mean, text = line.split("\t", 2)
        rows.append((rid, float(mean), text))
    return rows


def write_csv(path, rows, repeat=1):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "text"])
        for r in range(repeat):
            for rid, _, text in rows:
                w.writerow([rid if repeat == 1 else f"{r}-{rid}", text])


def run_meridian(binary, inp, out):
    """Runs the CLI on one core; returns (wall seconds, CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(binary), "sentiment", "--input", str(inp), "--id-column", "id", "--threads", "1", "--output", str(out)],
        env=dict(os.environ, RAYON_NUM_THREADS="1"),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"meridian sentiment failed ({proc.returncode}): {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def python_csv(analyzer, inp, out):
    """What `meridian sentiment` does, in Python: CSV in, scores, CSV out, fsync."""
    with open(inp, newline="", encoding="utf-8") as f, open(out, "w", newline="", encoding="utf-8") as g:
        r = csv.reader(f)
        header = next(r)
        ti, ii = header.index("text"), header.index("id")
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["id", "neg", "neu", "pos", "compound", "label"])
        for row in r:
            s = analyzer.polarity_scores(row[ti])
            c = s["compound"]
            w.writerow([row[ii], s["neg"], s["neu"], s["pos"], c,
                        "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"])
        g.flush()
        os.fsync(g.fileno())


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meridian", help="path of the meridian binary (default: build it)")
    ap.add_argument("--example", help="path of insight's sentiment_speed example (default: build it)")
    ap.add_argument("--data", help="path of tweets_GroundTruth.txt (default: found in shared/data)")
    ap.add_argument("--repeat", type=int, default=50, help="copies of the corpus in the large file (default 50)")
    ap.add_argument("--python-passes", type=int, default=3, help="timed passes of the Python package (default 3)")
    ap.add_argument("--cpu", type=int, default=0, help="the one CPU everything runs on (default 0)")
    args = ap.parse_args()
    ensure_venv()
    os.sched_setaffinity(0, {args.cpu})
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    binary = Path(args.meridian) if args.meridian else build("meridian")
    example = Path(args.example) if args.example else build("example")
    corpus = find_corpus(args.data)
    rows = load_corpus(corpus)
    n = len(rows)
    texts = [t for _, _, t in rows]
    human = [m for _, m, _ in rows]

    analyzer = SentimentIntensityAnalyzer()
    py_scores = [analyzer.polarity_scores(t) for t in texts]  # also warms up
    py_wall, py_cpu = [], []
    for _ in range(args.python_passes):
        w0, c0 = time.perf_counter(), time.process_time()
        for t in texts:
            analyzer.polarity_scores(t)
        py_wall.append(time.perf_counter() - w0)
        py_cpu.append(time.process_time() - c0)

    lib_runs = [run_library(example, corpus, args.repeat) for _ in range(3)]

    with tempfile.TemporaryDirectory(prefix="meridian-sentiment-") as tmp:
        tmp = Path(tmp)
        small, large = tmp / "tweets.csv", tmp / f"tweets_x{args.repeat}.csv"
        write_csv(small, rows)
        write_csv(large, rows, args.repeat)
        py_io_wall, py_io_cpu = [], []
        for _ in range(args.python_passes):
            w0, c0 = time.perf_counter(), time.process_time()
            python_csv(analyzer, small, tmp / "py_out.csv")
            py_io_wall.append(time.perf_counter() - w0)
            py_io_cpu.append(time.process_time() - c0)
        run_meridian(binary, small, tmp / "warm.csv")  # page cache, lexicon pages
        small_runs = [run_meridian(binary, small, tmp / "small.csv") for _ in range(3)]
        large_runs = [run_meridian(binary, large, tmp / "large.csv") for _ in range(3)]
        with open(tmp / "small.csv", newline="", encoding="utf-8") as f:
            ours = list(csv.DictReader(f))
        with open(tmp / "large.csv", newline="", encoding="utf-8") as f:
            large_rows = sum(1 for _ in f) - 1

    # 1. Agreement, row by row.
    if len(ours) != n or large_rows != n * args.repeat:
        sys.exit(f"row count mismatch: {len(ours)} / {large_rows} rows for {n} / {n * args.repeat} texts")
    fields = ["neg", "neu", "pos", "compound"]
    max_diff = {k: 0.0 for k in fields}
    over, worst = 0, None
    label_agree = 0
    for (rid, _, text), p, o in zip(rows, py_scores, ours):
        if o["id"] != rid:
            sys.exit(f"row order mismatch at id {rid}: got {o['id']}")
        diffs = {k: abs(float(o[k]) - p[k]) for k in fields}
        for k in fields:
            max_diff[k] = max(max_diff[k], diffs[k])
        if max(diffs.values()) > TOLERANCE:
            over += 1
            if worst is None:
                worst = (rid, text, p, o)
        c = p["compound"]
        py_label = "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"
        label_agree += py_label == o["label"]

    # 2. Validity against the human ratings.
    r_py = pearson([p["compound"] for p in py_scores], human)
    r_ours = pearson([float(o["compound"]) for o in ours], human)

    # 3. Speed, one core. Best of the runs: the machine is shared, interference only slows.
    py_rate_wall = n / min(py_wall)
    py_rate_cpu = n / min(py_cpu)
    py_io_rate_wall = n / min(py_io_wall)
    py_io_rate_cpu = n / min(py_io_cpu)
    extra = n * (args.repeat - 1)
    s_wall, s_cpu = min(r[0] for r in small_runs), min(r[1] for r in small_runs)
    l_wall, l_cpu = min(r[0] for r in large_runs), min(r[1] for r in large_runs)
    ours_rate_wall = extra / max(l_wall - s_wall, 1e-9)
    ours_rate_cpu = extra / max(l_cpu - s_cpu, 1e-9)
    e2e_rate = n * args.repeat / l_wall
    lib_wall, lib_cpu = max(r[0] for r in lib_runs), max(r[1] for r in lib_runs)

    result = {
        "texts": n,
        "max_abs_diff": max_diff,
        "rows_over_tolerance": over,
        "tolerance": TOLERANCE,
        "label_agreement": label_agree / n,
        "pearson_compound_vs_human": {"vaderSentiment": r_py, "meridian": r_ours},
        "python_texts_per_s": {"wall": py_rate_wall, "cpu": py_rate_cpu},
        "python_csv_texts_per_s": {"wall": py_io_rate_wall, "cpu": py_io_rate_cpu},
        "ratio_vs_python_csv": {"wall": ours_rate_wall / py_io_rate_wall, "cpu": ours_rate_cpu / py_io_rate_cpu},
        "cpu": args.cpu,
        "meridian_texts_per_s": {"wall": ours_rate_wall, "cpu": ours_rate_cpu, "end_to_end_large_file": e2e_rate},
        "ratio": {"wall": ours_rate_wall / py_rate_wall, "cpu": ours_rate_cpu / py_rate_cpu},
        "library_texts_per_s": {"wall": lib_wall, "cpu": lib_cpu},
        "library_ratio": {"wall": lib_wall / py_rate_wall, "cpu": lib_cpu / py_rate_cpu},
        "meridian_runs_s": {"small_wall": s_wall, "large_wall": l_wall, "small_cpu": s_cpu, "large_cpu": l_cpu},
        "repeat": args.repeat,
        "load_average": os.getloadavg(),
    }
    lines = [
        f"texts: {n} (VADER tweets, tweets_GroundTruth.txt)",
        "max |meridian - vaderSentiment|: "
        + ", ".join(f"{k} {max_diff[k]:.2g}" for k in fields),
        f"rows with any difference > {TOLERANCE:g}: {over}",
        f"label agreement: {label_agree}/{n}",
        f"Pearson r, compound vs human mean: vaderSentiment {r_py:.4f}, meridian {r_ours:.4f}",
        f"Python vaderSentiment, one core: {py_rate_wall:,.0f} texts/s wall, {py_rate_cpu:,.0f} texts/s CPU"
        f" (best of {args.python_passes} passes, in process)",
        f"meridian sentiment --threads 1: {ours_rate_wall:,.0f} texts/s wall, {ours_rate_cpu:,.0f} texts/s CPU"
        f" (corpus x{args.repeat} minus x1: process start excluded, CSV I/O included);"
        f" end to end on the x{args.repeat} file {e2e_rate:,.0f} texts/s ({l_wall:.3f} s)",
        f"Python vaderSentiment with CSV read + write + fsync (the CLI's work), one core: {py_io_rate_wall:,.0f} texts/s wall,"
        f" {py_io_rate_cpu:,.0f} texts/s CPU (best of {args.python_passes})",
        f"ratio, one core, CLI vs Python's scoring loop alone: {result['ratio']['wall']:.1f}x wall, {result['ratio']['cpu']:.1f}x CPU",
        f"ratio, one core, CLI vs Python doing the same CSV work: {result['ratio_vs_python_csv']['wall']:.1f}x wall,"
        f" {result['ratio_vs_python_csv']['cpu']:.1f}x CPU",
        f"insight::sentiment in process, one core (same method as Python's figure): {lib_wall:,.0f} texts/s wall,"
        f" {lib_cpu:,.0f} texts/s CPU (best of 3 x {args.repeat} passes) -> {lib_wall / py_rate_wall:.1f}x wall,"
        f" {lib_cpu / py_rate_cpu:.1f}x CPU",
        f"everything pinned to CPU {args.cpu}; load average during the run: {', '.join(f'{x:.2f}' for x in result['load_average'])}",
    ]
    print("\n".join(lines))
    res = BENCH / "results"
    res.mkdir(exist_ok=True)
    (res / "sentiment_vader.json").write_text(json.dumps(result, indent=2) + "\n")
    (res / "sentiment_vader.md").write_text("```\n" + "\n".join(lines) + "\n```\n")
    if over:
        rid, text, p, o = worst
        sys.exit(f"FAIL: {over} row(s) differ by more than {TOLERANCE:g}; first: id {rid} {text!r}: python {p}, meridian {o}")


if __name__ == "__main__":
    main()
