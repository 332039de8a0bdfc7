#!/usr/bin/env python3
"""Anomaly detection on NAB realKnownCause: Meridian vs IsolationForest and rolling z-score.

Usage (from the repository root):
    python3 bench/anomaly_eval.py [--meridian PATH]

Data: ../shared/data/anomaly_nab_realknowncause (6 files, NAB's combined windows).

Metrics, per detector over all files:
- NAB standard-profile score (TP weight 1, FP 0.11, FN 1), computed by the scorer
  below, written from NAB's published rules (nab/sweeper.py, NAB v1.1): each point is
  weighted by the scaled sigmoid of its position relative to the anomaly windows, only
  the earliest detection in a window counts, the first 15% of each file (at most 750
  rows) is probationary and ignored, one threshold on the anomaly score is chosen for
  all files to maximise the total, and the total is normalised to 100 * (raw - null) /
  (perfect - null) with the null (never/always alarm) and perfect (alarm at each window
  start) detectors scored by the same code.
- Using each detector's own flags (is_anomaly): window recall (windows with at least
  one flagged point), precision of flagged points (share inside windows) and F1; the
  probationary rows are left out here too.

Baselines: scikit-learn IsolationForest (defaults, random_state=0) on the value
(score = the paper's anomaly score, flag = predict() == -1) and a causal rolling
z-score over the previous 288 points (flag |z| > 3).
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, ensure_venv, meridian_binary, shared_data  # noqa: E402

COST = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}  # NAB "standard" profile
PROBATION = 0.15


def scaled_sigmoid(x):
    if x >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def sweep_points(n, windows_idx, scores, name):
    """Per-point (anomaly score, sweep score, window id or None), probation dropped."""
    max_tp = scaled_sigmoid(-1.0)
    probation = min(math.floor(PROBATION * n), PROBATION * 5000)
    out = []
    wins = list(windows_idx)
    cur = None
    prev_right = prev_width = None
    for i in range(n):
        if wins and i == wins[0][0]:
            cur = wins.pop(0)
        if cur is not None:
            width = cur[1] - cur[0] + 1
            pos = -(cur[1] - i + 1) / width
            sweep = scaled_sigmoid(pos) * COST["tpWeight"] / max_tp
            wname = f"{name}|{cur[0]}"
        else:
            pos = 3.0 if prev_right is None else abs(prev_right - i) / float(prev_width - 1)
            sweep = scaled_sigmoid(pos) * COST["fpWeight"]
            wname = None
        if i >= probation:
            out.append((scores[i], sweep, wname))
        if cur is not None and i == cur[1]:
            prev_right, prev_width = i, cur[1] - cur[0] + 1
            cur = None
    return out


def best_threshold(points, window_names):
    """NAB's threshold sweep: returns (best raw score, threshold)."""
    pts = sorted(points, key=lambda p: p[0], reverse=True)
    parts = {w: -COST["fnWeight"] for w in window_names}
    fp = 0.0
    best = (sum(parts.values()) + fp, 1.1)
    i = 0
    while i < len(pts):
        thr = pts[i][0]
        while i < len(pts) and pts[i][0] == thr:
            s, sweep, w = pts[i]
            if w is None:
                fp += sweep
            else:
                parts[w] = max(parts[w], sweep)
            i += 1
        total = sum(parts.values()) + fp
        if total > best[0]:
            best = (total, thr)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meridian", help="path of the meridian binary (default: build it)")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    from sklearn.ensemble import IsolationForest

    root = shared_data("anomaly_nab_realknowncause")
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    files = sorted(windows)
    frames = {}
    for f in files:
        d = pd.read_csv(root / "data" / f)
        d["timestamp"] = pd.to_datetime(d["timestamp"])
        frames[f] = d
    win_idx = {}
    for f in files:
        ts = frames[f]["timestamp"]
        idx = []
        for a, b in windows[f]:
            a, b = pd.Timestamp(a), pd.Timestamp(b)
            inside = np.flatnonzero((ts >= a).to_numpy() & (ts <= b).to_numpy())
            idx.append((int(inside[0]), int(inside[-1])))
        win_idx[f] = idx

    detectors = {}  # name -> {file: (scores, flags)}
    times = {}

    # ---- Meridian: one CLI process over all files (long format, one series per file)
    meridian = meridian_binary(args.meridian)
    tmp = Path(tempfile.mkdtemp(prefix="meridian-anomaly-eval-"))
    # Two NAB files repeat timestamps (13 instants, DST-like artefacts) and the CLI
    # rightly refuses duplicate timestamps, so Meridian gets the row number as `ds`
    # (NAB itself scores rows in file order). The season length is then detected
    # from the data alone, with no calendar hint.
    long = pd.concat([pd.DataFrame({"unique_id": f, "ds": np.arange(len(frames[f])),
                                    "y": frames[f]["value"]}) for f in files])
    inp = tmp / "nab_long.csv"
    long.to_csv(inp, index=False)
    for method in ["auto", "mad", "ewma", "iforest"]:
        out = tmp / f"meridian_{method}.csv"
        t0 = time.perf_counter()
        subprocess.run([str(meridian), "anomalies", "--input", str(inp), "--method", method, "--output", str(out)],
                       check=True)
        times[f"Meridian {method}"] = time.perf_counter() - t0
        res = pd.read_csv(out)
        det = {}
        for f in files:
            r = res[res.unique_id == f]
            det[f] = (r["score"].to_numpy(float), r["is_anomaly"].astype(str).str.lower().eq("true").to_numpy())
        detectors[f"Meridian {method}"] = det

    # ---- scikit-learn IsolationForest on the value
    t0 = time.perf_counter()
    det = {}
    for f in files:
        x = frames[f][["value"]].to_numpy(float)
        m = IsolationForest(random_state=0).fit(x)
        det[f] = (-m.score_samples(x), m.predict(x) == -1)
    times["sklearn IsolationForest"] = time.perf_counter() - t0
    detectors["sklearn IsolationForest"] = det

    # ---- causal rolling z-score over the previous 288 points
    t0 = time.perf_counter()
    det = {}
    for f in files:
        v = frames[f]["value"].astype(float)
        mu = v.shift(1).rolling(288, min_periods=30).mean()
        sd = v.shift(1).rolling(288, min_periods=30).std()
        z = ((v - mu) / sd.replace(0, np.nan)).abs().fillna(0.0).to_numpy()
        det[f] = (z / (z + 3.0), z > 3.0)
    times["rolling z-score (288)"] = time.perf_counter() - t0
    detectors["rolling z-score (288)"] = det

    # ---- null and perfect detectors for the normalisation
    def nab_raw(det):
        pts, names = [], []
        for f in files:
            n = len(frames[f])
            pts += sweep_points(n, win_idx[f], det[f][0], f)
            names += [f"{f}|{a}" for a, _ in win_idx[f]]
        return best_threshold(pts, names)

    null = nab_raw({f: (np.full(len(frames[f]), 0.5), None) for f in files})[0]
    perfect_scores = {}
    for f in files:
        s = np.zeros(len(frames[f]))
        for a, _ in win_idx[f]:
            s[a] = 1.0
        perfect_scores[f] = (s, None)
    perfect = nab_raw(perfect_scores)[0]

    lines = ["| detector | NAB standard score | window recall | precision of flagged points | F1 | flagged | wall time (s) |",
             "|---|---|---|---|---|---|---|"]
    results = {}
    n_windows = sum(len(v) for v in win_idx.values())
    for name, det in detectors.items():
        raw, thr = nab_raw(det)
        score = 100.0 * (raw - null) / (perfect - null)
        hit_w = tp = flagged = 0
        for f in files:
            n = len(frames[f])
            start = int(min(math.floor(PROBATION * n), PROBATION * 5000))
            flags = np.asarray(det[f][1], bool).copy()
            flags[:start] = False
            inside = np.zeros(n, bool)
            for a, b in win_idx[f]:
                inside[a:b + 1] = True
                hit_w += int(flags[a:b + 1].any())
            tp += int((flags & inside).sum())
            flagged += int(flags.sum())
        recall = hit_w / n_windows
        precision = tp / flagged if flagged else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        results[name] = {"nab": score, "raw": raw, "threshold": thr, "recall": recall, "precision": precision,
                         "f1": f1, "flagged": flagged, "seconds": times[name]}
        lines.append(f"| {name} | {score:.1f} | {recall:.2f} ({hit_w}/{n_windows}) | {precision:.3f} | {f1:.3f} | "
                     f"{flagged} | {times[name]:.2f} |")
    lines.append("")
    lines.append(f"NAB normalisation: null raw = {null:.3f}, perfect raw = {perfect:.3f}; "
                 f"{sum(len(frames[f]) for f in files):,} points in {len(files)} files, {n_windows} windows.")
    report = "\n".join(lines)
    print(report)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "anomaly_nab.md").write_text(report + "\n")
    (out / "anomaly_nab.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    ensure_venv()
    main()
