#!/usr/bin/env python3
"""Forecast accuracy and speed on the tourism competition data: Meridian vs statsforecast.

Usage (from the repository root):
    python3 bench/forecast_eval.py [--meridian PATH] [--skip-parallel]

Data: ../shared/data/forecasting_tourism (official split: train.csv / test.csv,
horizons 24/8/4 and season lengths 12/4/1 from series.csv). Metrics per series, then
averaged: sMAPE (0-200 scale), MASE (scaled by the in-sample seasonal-naive MAE with
lag m, lag 1 for yearly, as in Athanasopoulos et al. 2011) and the share of test
points inside the 95% interval. Every model sees only the training part; nothing is
tuned on the test part.

Wall time is end to end and process start included on both sides: Meridian is the
`meridian forecast` process, statsforecast is a fresh Python process that imports the
library, reads the same CSV, fits, forecasts and writes a CSV (n_jobs=1 and n_jobs=-1).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, ensure_venv, meridian_binary, shared_data  # noqa: E402

FREQS = [("monthly", 24, 12), ("quarterly", 8, 4), ("yearly", 4, 1)]


def sf_worker(inp, out, h, m, n_jobs):
    """Runs in its own process so its wall time includes import and start-up."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta, CrostonOptimized, CrostonSBA, SeasonalNaive

    df = pd.read_csv(inp).rename(columns={"series_id": "unique_id", "t": "ds", "value": "y"})
    with_pi = StatsForecast(
        models=[AutoETS(season_length=m), AutoTheta(season_length=m), SeasonalNaive(season_length=m)],
        freq=1,
        n_jobs=n_jobs,
    )
    a = with_pi.forecast(df=df, h=h, level=[80, 95])
    # Croston models give intervals only with conformal calibration: points only.
    no_pi = StatsForecast(models=[CrostonOptimized(), CrostonSBA()], freq=1, n_jobs=n_jobs)
    b = no_pi.forecast(df=df, h=h)
    a = a.reset_index() if "unique_id" not in a.columns else a
    b = b.reset_index() if "unique_id" not in b.columns else b
    a.merge(b, on=["unique_id", "ds"]).to_csv(out, index=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meridian", help="path of the meridian binary (default: build it)")
    ap.add_argument("--skip-parallel", action="store_true", help="skip statsforecast n_jobs=-1")
    ap.add_argument("--meridian-only", action="store_true", help="skip statsforecast entirely (quick check)")
    ap.add_argument("--sf-worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sf_worker:
        inp, out, h, m, nj = args.sf_worker
        sf_worker(inp, out, int(h), int(m), int(nj))
        return

    import numpy as np
    import pandas as pd

    data = shared_data("forecasting_tourism")
    series = pd.read_csv(data / "series.csv")
    train = pd.read_csv(data / "train.csv")
    test = pd.read_csv(data / "test.csv")
    meridian = meridian_binary(args.meridian)
    tmp = Path(tempfile.mkdtemp(prefix="meridian-forecast-eval-"))

    def run(cmd, env=None):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - t0

    one_core = dict(os.environ, RAYON_NUM_THREADS="1")
    sides = {"meridian": {}, "meridian1": {}, "sf1": {}, "sfall": {}}
    times = {k: 0.0 for k in sides}
    for freq, h, m in FREQS:
        ids = set(series.loc[series.frequency == freq, "series_id"])
        inp = tmp / f"train_{freq}.csv"
        train[train.series_id.isin(ids)].to_csv(inp, index=False)
        out = tmp / f"meridian_{freq}.csv"
        cmd = [str(meridian), "forecast", "--input", str(inp), "--horizon", str(h), "--season-length", str(m),
               "--model", "auto", "--level", "80,95", "--output", str(out)]
        times["meridian"] += run(cmd)
        sides["meridian"][freq] = pd.read_csv(out)
        # the same on one core, for a like-for-like comparison with n_jobs=1
        times["meridian1"] += run(cmd, env=one_core)
        for key, nj in [("sf1", 1), ("sfall", -1)]:
            if (key == "sfall" and args.skip_parallel) or args.meridian_only:
                continue
            out = tmp / f"{key}_{freq}.csv"
            times[key] += run([sys.executable, __file__, "--sf-worker", str(inp), str(out), str(h), str(m), str(nj)])
            sides[key][freq] = pd.read_csv(out)
        print(f"{freq}: meridian {times['meridian']:.1f}s, statsforecast n_jobs=1 {times['sf1']:.1f}s "
              f"(cumulative)", file=sys.stderr)

    # ---- metrics -------------------------------------------------------------------
    rows = []
    for freq, h, m in FREQS:
        ids = series.loc[series.frequency == freq, "series_id"].tolist()
        tr = {k: g.value.to_numpy(float) for k, g in train[train.series_id.isin(ids)].groupby("series_id")}
        te = {k: g.sort_values("t").value.to_numpy(float) for k, g in test[test.series_id.isin(ids)].groupby("series_id")}
        scale = {}
        for k, y in tr.items():
            lag = m if len(y) > m else 1
            scale[k] = np.mean(np.abs(y[lag:] - y[:-lag]))

        def score(name, side, fc_by_id):
            sm, ms, cov, ncov = [], [], 0, 0
            for k in ids:
                f = fc_by_id.get(k)
                if f is None:
                    continue
                y = te[k]
                p = f["mean"][: len(y)]
                denom = np.abs(y) + np.abs(p)
                sm.append(np.mean(np.where(denom > 0, 200 * np.abs(y - p) / np.where(denom > 0, denom, 1), 0)))
                ms.append(np.mean(np.abs(y - p)) / scale[k] if scale[k] > 0 else np.nan)
                if f.get("lo") is not None:
                    cov += int(np.sum((y >= f["lo"][: len(y)]) & (y <= f["hi"][: len(y)])))
                    ncov += len(y)
            rows.append({"side": side, "model": name, "freq": freq, "n": len(sm),
                         "smape": float(np.mean(sm)), "mase": float(np.nanmean(ms)),
                         "cov95": (cov / ncov) if ncov else None, "cov_n": ncov,
                         "smape_sum": float(np.sum(sm)), "mase_sum": float(np.nansum(ms)), "cov_hit": cov})

        mer = sides["meridian"][freq]
        for model, g in mer.groupby("model"):
            fc = {k: {"mean": gg["mean"].to_numpy(float), "lo": gg["lo_95"].to_numpy(float),
                      "hi": gg["hi_95"].to_numpy(float)} for k, gg in g.sort_values("ds").groupby("unique_id")}
            score(model, "Meridian", fc)
        for key, label in [("sf1", "statsforecast")]:
            if args.meridian_only:
                continue
            sf = sides[key][freq].sort_values("ds")
            for model in ["AutoETS", "AutoTheta", "SeasonalNaive", "CrostonOptimized", "CrostonSBA"]:
                has_pi = f"{model}-lo-95" in sf.columns
                fc = {k: {"mean": g[model].to_numpy(float),
                          "lo": g[f"{model}-lo-95"].to_numpy(float) if has_pi else None,
                          "hi": g[f"{model}-hi-95"].to_numpy(float) if has_pi else None}
                      for k, g in sf.groupby("unique_id")}
                score(model, label, fc)

    df = pd.DataFrame(rows)
    overall = df.groupby(["side", "model"]).agg(
        n=("n", "sum"), smape_sum=("smape_sum", "sum"), mase_sum=("mase_sum", "sum"),
        cov_hit=("cov_hit", "sum"), cov_n=("cov_n", "sum")).reset_index()
    overall["smape"] = overall.smape_sum / overall.n
    overall["mase"] = overall.mase_sum / overall.n
    overall["cov95"] = np.where(overall.cov_n > 0, overall.cov_hit / overall.cov_n.clip(lower=1), np.nan)

    def cell(side, model, freq, col):
        r = df[(df.side == side) & (df.model == model) & (df.freq == freq)]
        return float(r[col].iloc[0]) if len(r) and r[col].iloc[0] is not None else float("nan")

    lines = ["| side | model | sMAPE M | sMAPE Q | sMAPE Y | sMAPE all | MASE M | MASE Q | MASE Y | MASE all | 95% cov. |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = overall.sort_values(["side", "mase"])
    for _, o in order.iterrows():
        vals = [cell(o.side, o.model, f, "smape") for f, _, _ in FREQS] + [o.smape]
        vals += [cell(o.side, o.model, f, "mase") for f, _, _ in FREQS] + [o.mase]
        cov = "n/a" if np.isnan(o.cov95) else f"{100 * o.cov95:.1f}%"
        lines.append(f"| {o.side} | {o.model} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {cov} |")
    n_series = len(series)
    if args.meridian_only:
        print("\n".join(lines) + f"\n\nMeridian wall time {times['meridian']:.2f} s (results not saved)")
        return
    lines += ["", "| side | wall time, all 1,311 series (s) | vs statsforecast n_jobs=1 |", "|---|---|---|",
              f"| Meridian `meridian forecast` (auto: 7 models) | {times['meridian']:.2f} | "
              f"{times['sf1'] / times['meridian']:.1f}× faster |",
              f"| Meridian, one core (RAYON_NUM_THREADS=1) | {times['meridian1']:.2f} | "
              f"{times['sf1'] / times['meridian1']:.1f}× faster |",
              f"| statsforecast n_jobs=1 (5 models) | {times['sf1']:.2f} | 1× |"]
    if not args.skip_parallel:
        lines.append(f"| statsforecast n_jobs=-1 ({os.cpu_count()} cores) | {times['sfall']:.2f} | "
                     f"{times['sf1'] / times['sfall']:.1f}× |")
    report = "\n".join(lines)
    print(report)
    res = BENCH / "results"
    res.mkdir(exist_ok=True)
    (res / "forecast_tourism.md").write_text(report + "\n")
    (res / "forecast_tourism.json").write_text(json.dumps(
        {"per_frequency": rows, "times_s": times, "series": n_series}, indent=1))


if __name__ == "__main__":
    ensure_venv()
    main()
