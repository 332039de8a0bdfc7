//! Throughput of the insight crate, as the speed targets state them.
//!
//! `cargo run --release -p insight --example speed [-- path/to/forecasting_tourism/train.csv]`
//!
//! 1. ETS fits per minute on monthly series of length ≤ 200, on every core (threads
//!    from std, one slice of the series each): single-structure fits and full AutoETS
//!    selections (every admissible structure fitted, best AICc kept). Each rate is
//!    given per wall-clock minute and, on Linux, per minute of the threads' CPU time
//!    (what the cores would do unshared, when other work competes for them).
//! 2. Streaming detector points per second on one core (EWMA and CUSUM, O(1) state).
//!
//! Uses the tourism competition's monthly training series when the CSV is found
//! (default `../shared/data/forecasting_tourism/train.csv`), else synthetic ones.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use insight::anomaly::{Cusum, Ewma};
use insight::forecast::{ErrorType, EtsSpec, SeasonType, TrendType, auto_ets, fit_ets};

fn load_monthly(path: &str) -> Option<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut by_id: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let mut it = line.split(',');
        let (id, t, v) = (it.next()?, it.next()?, it.next()?);
        if id.starts_with('m') {
            by_id
                .entry(id.to_string())
                .or_default()
                .push((t.parse().ok()?, v.parse().ok()?));
        }
    }
    let out: Vec<Vec<f64>> = by_id
        .into_values()
        .map(|mut v| {
            v.sort_by_key(|p| p.0);
            v.into_iter().map(|p| p.1).collect::<Vec<f64>>()
        })
        .filter(|v| v.len() <= 200)
        .collect();
    (!out.is_empty()).then_some(out)
}

fn synthetic(n_series: usize) -> Vec<Vec<f64>> {
    (0..n_series)
        .map(|s| {
            (0..120 + s % 80)
                .map(|t| {
                    let season = 1.0 + 0.3 * ((t % 12) as f64 / 12.0 * std::f64::consts::TAU).sin();
                    let noise =
                        1.0 + 0.05 * (((t * 7919 + s * 104_729) % 1000) as f64 / 1000.0 - 0.5);
                    (100.0 + s as f64 + 0.5 * t as f64) * season * noise
                })
                .collect()
        })
        .collect()
}

/// CPU time of the calling thread in seconds (Linux; `None` elsewhere).
fn thread_cpu() -> Option<f64> {
    let t = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(t.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
}

/// Runs `work` over `series` on every core; returns (fits done, wall seconds, CPU
/// seconds summed over the threads, when the OS tells).
fn parallel<F: Fn(&[f64]) -> usize + Sync>(
    series: &[Vec<f64>],
    rounds: usize,
    work: F,
) -> (usize, f64, Option<f64>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let (total, cpu) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|c| {
                let work = &work;
                s.spawn(move || {
                    let cpu0 = thread_cpu();
                    let mut done = 0;
                    for _ in 0..rounds {
                        for y in series.iter().skip(c).step_by(cores) {
                            done += work(y);
                        }
                    }
                    (done, cpu0.zip(thread_cpu()).map(|(a, b)| b - a))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, None)))
            .fold((0, Some(0.0)), |(n, c), (d, t)| {
                (n + d, c.zip(t).map(|(a, b)| a + b))
            })
    });
    (total, start.elapsed().as_secs_f64(), cpu)
}

/// The rate line: per wall-clock minute, and per minute of CPU time on every core
/// (what the cores would do unshared; the machine may be busy with other work).
fn report(what: &str, n: usize, secs: f64, cpu: Option<f64>, unit: &str) {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    let unshared = cpu
        .filter(|c| *c > 0.0)
        .map(|c| {
            format!(
                "; {:.0}/min on {cores} unshared cores (CPU time {c:.2} s)",
                n as f64 / (c / cores) * 60.0
            )
        })
        .unwrap_or_default();
    println!(
        "{what}: {:.0}/min ({n} {unit} in {secs:.2} s wall{unshared})",
        n as f64 / secs * 60.0
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/forecasting_tourism/train.csv".into());
    let (series, source) = match load_monthly(&path) {
        Some(s) => (
            s,
            format!("tourism monthly series of length <= 200 from {path}"),
        ),
        None => (
            synthetic(300),
            "synthetic monthly series (tourism CSV not found)".into(),
        ),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{} {source}; {cores} cores", series.len());

    let spec = EtsSpec {
        error: ErrorType::Multiplicative,
        trend: TrendType::Damped,
        season: SeasonType::Multiplicative,
        period: 12,
    };
    let (n, secs, cpu) = parallel(&series, 100, |y| {
        usize::from(fit_ets(black_box(y), spec).is_ok())
    });
    report("ETS(M,Ad,M) single-structure fits", n, secs, cpu, "fits");
    let spec = EtsSpec {
        error: ErrorType::Additive,
        trend: TrendType::Additive,
        season: SeasonType::Additive,
        period: 12,
    };
    let (n, secs, cpu) = parallel(&series, 100, |y| {
        usize::from(fit_ets(black_box(y), spec).is_ok())
    });
    report("ETS(A,A,A) single-structure fits", n, secs, cpu, "fits");
    let (n, secs, cpu) = parallel(&series, 20, |y| {
        usize::from(auto_ets(black_box(y), 12).is_ok())
    });
    report(
        "AutoETS selections (up to 15 structures each)",
        n,
        secs,
        cpu,
        "series",
    );

    // Streaming: one core, one detector, 20 M points.
    let points: Vec<f64> = (0..20_000_000u64)
        .map(|i| ((i * 2_654_435_761) % 1000) as f64 * 0.01)
        .collect();
    let mut e = Ewma::new(0.05, 30).unwrap_or_else(|| unreachable!());
    let start = Instant::now();
    let mut acc = 0.0;
    for &x in &points {
        acc += e.update(black_box(x));
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(acc);
    println!(
        "EWMA streaming: {:.1} M points/s on one core",
        points.len() as f64 / secs / 1e6
    );
    let mut c = Cusum::new(0.05, 30, 0.5, 5.0).unwrap_or_else(|| unreachable!());
    let start = Instant::now();
    for &x in &points {
        acc += c.update(black_box(x));
    }
    let secs = start.elapsed().as_secs_f64();
    black_box(acc);
    println!(
        "CUSUM streaming: {:.1} M points/s on one core",
        points.len() as f64 / secs / 1e6
    );
}
