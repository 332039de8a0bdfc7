//! Anomaly detection: robust z-scores on seasonal residuals, streaming EWMA/CUSUM,
//! isolation forest, level-shift changepoints, and a combined ranking in which every
//! point gets a severity in [0, 1] and a reason a person can read.

pub mod changepoint;
pub mod iforest;
pub mod stream;

use crate::season::seasonal_peaks;
use crate::util::{mad, mean, median, quantile_sorted};
use crate::{InsightError, check_finite};

pub use changepoint::{Changepoint, level_shifts};
pub use iforest::IsolationForest;
pub use stream::{Cusum, Ewma};

/// Which detector scores the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnomalyMethod {
    /// Robust seasonal residuals combined with level-shift detection.
    #[default]
    Auto,
    /// Robust (median/MAD) z-score of the seasonal residuals only.
    Mad,
    /// Streaming EWMA z-score (what a live feed would see, point by point).
    Ewma,
    /// Isolation forest on (value, change, seasonal residual).
    IForest,
}

/// Settings for [`detect`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalySpec {
    /// Detector.
    pub method: AnomalyMethod,
    /// Season length; detected when `None`.
    pub season_length: Option<usize>,
    /// Robust z beyond which a point is flagged (severity 0.5 sits exactly here).
    pub threshold: f64,
}

impl Default for AnomalySpec {
    fn default() -> Self {
        Self {
            method: AnomalyMethod::Auto,
            season_length: None,
            threshold: 4.0,
        }
    }
}

/// The verdict on one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointScore {
    /// Severity in [0, 1]; 0.5 at the flagging threshold.
    pub severity: f64,
    /// Whether the point is flagged.
    pub is_anomaly: bool,
    /// What the detector expected at this point.
    pub expected: f64,
    /// Why, in words ("value 4.2σ above the seasonal expectation").
    pub reason: String,
}

fn severity(z: f64, thr: f64) -> f64 {
    let a = z.abs();
    if a.is_finite() {
        (a / (a + thr)).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Rolling median of odd width `w`, centred; near the ends the window slides inward
/// instead of shrinking, so a seasonal series' trend is not bent at its edges.
fn rolling_median(y: &[f64], w: usize) -> Vec<f64> {
    let n = y.len();
    let half = w / 2;
    let mut buf = Vec::with_capacity(w);
    // Large windows are subsampled to at most 101 points: the median of a thinned
    // window is a fine trend estimate and keeps this O(n · 101).
    (0..n)
        .map(|t| {
            let w = w.min(n);
            let a = t.saturating_sub(half).min(n - w);
            let b = a + w;
            let stride = ((b - a) / 101).max(1);
            buf.clear();
            buf.extend(y[a..b].iter().step_by(stride).copied());
            median(&buf)
        })
        .collect()
}

/// Expected value of every point (trend + seasonal profile, both by medians) and the
/// robust z-score of its residual.
pub fn seasonal_residual_z(y: &[f64], m: usize) -> Result<(Vec<f64>, Vec<f64>), InsightError> {
    let r = residuals(y, m)?;
    Ok((r.expected, r.z))
}

/// Residual analysis of one series.
struct Residuals {
    /// Trend + seasonal expectation per point.
    expected: Vec<f64>,
    /// Robust z of each point's residual.
    z: Vec<f64>,
    /// Robust z of the residual averaged over `k` points around each point.
    z_sustained: Vec<f64>,
    /// Width of that average.
    k: usize,
    /// The series minus its seasonal profile.
    adjusted: Vec<f64>,
    /// Robust z of the seasonally adjusted value against the whole series.
    z_level: Vec<f64>,
    /// Median of the seasonally adjusted series.
    usual: f64,
    /// Residual scale (the σ of the reasons).
    scale: f64,
}

/// Spread of `v` around `centre` as a standard deviation: the MAD, but never less
/// than what the central 99% of the values imply. The MAD alone makes heavy-tailed
/// or discrete series (latencies, key timings) look full of 20σ points, which would
/// drown real anomalies of other series in a combined ranking.
fn robust_scale(v: &[f64], centre: f64) -> f64 {
    let n = v.len();
    let mad_sigma = 1.4826 * mad(v, centre);
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let tail_sigma =
        (quantile_sorted(&sorted, 0.995) - quantile_sorted(&sorted, 0.005)) / (2.0 * 2.576);
    let s = mad_sigma.max(tail_sigma);
    if s > 0.0 {
        s
    } else {
        1.2533 * v.iter().map(|r| (r - centre).abs()).sum::<f64>() / n.max(1) as f64
    }
}

fn to_z(v: &[f64]) -> (Vec<f64>, f64) {
    let med = median(v);
    let scale = robust_scale(v, med);
    let z = v
        .iter()
        .map(|r| {
            if scale > 0.0 {
                ((r - med) / scale).clamp(-1e3, 1e3)
            } else {
                0.0
            }
        })
        .collect();
    (z, scale)
}

fn residuals(y: &[f64], m: usize) -> Result<Residuals, InsightError> {
    check_finite(y)?;
    let n = y.len();
    let seasonal = m >= 2 && n >= 2 * m;
    let w = if seasonal {
        m | 1
    } else {
        (n / 50).clamp(5, 101) | 1
    };
    let trend = rolling_median(y, w);
    let mut expected = trend.clone();
    let mut adjusted = y.to_vec();
    if seasonal {
        let det: Vec<f64> = y.iter().zip(&trend).map(|(a, b)| a - b).collect();
        let mut by_phase: Vec<Vec<f64>> = vec![Vec::with_capacity(n / m + 1); m];
        for (t, d) in det.iter().enumerate() {
            by_phase[t % m].push(*d);
        }
        let prof: Vec<f64> = by_phase.iter().map(|v| median(v)).collect();
        let c = mean(&prof);
        for (t, (e, a)) in expected.iter_mut().zip(adjusted.iter_mut()).enumerate() {
            *e += prof[t % m] - c;
            *a -= prof[t % m] - c;
        }
    }
    let resid: Vec<f64> = y.iter().zip(&expected).map(|(a, b)| a - b).collect();
    let (z, scale) = to_z(&resid);
    // Sustained deviations (a failing machine cooling down over hours) are made of
    // points that are each only mildly unusual; their average over a short window
    // (1/24 of the season, an hour of a daily cycle; 5 points without a season) is not.
    let k = if seasonal { (m / 24).clamp(3, 25) } else { 5 }.min(n);
    let z_sustained = if n >= 3 * k && k >= 2 {
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0.0);
        for r in &resid {
            let last = prefix.last().copied().unwrap_or(0.0);
            prefix.push(last + r);
        }
        // trailing window: the average of the k points ending here, so the score rises
        // as the deviation persists instead of before it starts
        let avg: Vec<f64> = (0..n)
            .map(|t| {
                let a = (t + 1).saturating_sub(k);
                (prefix[t + 1] - prefix[a]) / (t + 1 - a) as f64
            })
            .collect();
        to_z(&avg).0
    } else {
        vec![0.0; n]
    };
    // Where the series stands against its own usual range, season removed: a machine
    // that has cooled to a temperature it never runs at is anomalous even once the
    // local trend has followed it down.
    let usual = median(&adjusted);
    let level_scale = robust_scale(&adjusted, usual);
    let z_level = adjusted
        .iter()
        .map(|a| {
            if level_scale > 0.0 {
                ((a - usual) / level_scale).clamp(-1e3, 1e3)
            } else {
                0.0
            }
        })
        .collect();
    Ok(Residuals {
        expected,
        z,
        z_sustained,
        k,
        adjusted,
        z_level,
        usual,
        scale,
    })
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e5 || (a > 0.0 && a < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.2}")
    }
}

fn z_reason(z: f64, expected: f64, what: &str) -> String {
    let dir = if z >= 0.0 { "above" } else { "below" };
    format!("value {:.1}σ {dir} {what} ({})", z.abs(), fmt_num(expected))
}

/// Season length for anomaly scoring.
///
/// Among the significant seasonal lags of `y` (see [`seasonal_peaks`]) observed for at
/// least four cycles, starts from the shortest strong one and moves to a longer one
/// only if its seasonal profile cuts the residual spread by 10% or more (a longer
/// profile always fits a little better, having more free values). This is how a
/// taxi series gets its weekly season rather than its daily one: weekends are not
/// anomalies. `candidates` restricts the lags, as for
/// [`crate::season::detect_season_length`].
pub fn choose_season(y: &[f64], candidates: Option<&[usize]>) -> Result<usize, InsightError> {
    check_finite(y)?;
    let n = y.len();
    let peaks: Vec<(usize, f64)> = seasonal_peaks(y, candidates)?
        .into_iter()
        .filter(|p| n >= 4 * p.0)
        .collect();
    let Some(best) = peaks.iter().map(|p| p.1).reduce(f64::max) else {
        return Ok(1);
    };
    let Some(first) = peaks.iter().find(|p| p.1 >= 0.9 * best).map(|p| p.0) else {
        return Ok(1);
    };
    // the few strongest longer lags are enough: each costs a full residual analysis
    let mut longer: Vec<(usize, f64)> = peaks.into_iter().filter(|p| p.0 > first).collect();
    longer.sort_by(|a, b| b.1.total_cmp(&a.1));
    longer.truncate(4);
    longer.sort_by_key(|p| p.0);
    let mut chosen = first;
    let mut spread = residuals(y, first)?.scale;
    for (m, _) in longer {
        let s = residuals(y, m)?.scale;
        if s < 0.9 * spread {
            chosen = m;
            spread = s;
        }
    }
    Ok(chosen)
}

/// Scores every point of `y` (equally spaced, oldest first).
pub fn detect(y: &[f64], spec: &AnomalySpec) -> Result<Vec<PointScore>, InsightError> {
    check_finite(y)?;
    // Differences of values beyond ±1e150 can overflow; no real measurement is there.
    if let Some(i) = y.iter().position(|v| v.abs() > 1e150) {
        return Err(InsightError::InvalidParameter {
            name: "y",
            reason: format!("value at position {i} is beyond ±1e150"),
        });
    }
    let thr = spec.threshold;
    if !(thr.is_finite() && thr > 0.0) {
        return Err(InsightError::InvalidParameter {
            name: "threshold",
            reason: "must be a positive number".into(),
        });
    }
    let n = y.len();
    let m = match spec.season_length {
        Some(0) => {
            return Err(InsightError::InvalidParameter {
                name: "season_length",
                reason: "must be at least 1".into(),
            });
        }
        Some(m) => m,
        None => {
            let cands: Vec<usize> = (2..=(n / 4).min(2016)).collect();
            choose_season(y, Some(&cands))?
        }
    };
    let what = if m >= 2 && n >= 2 * m {
        "the seasonal expectation"
    } else {
        "the local level"
    };
    match spec.method {
        AnomalyMethod::Mad | AnomalyMethod::Auto => {
            let r = residuals(y, m)?;
            let sustained = spec.method == AnomalyMethod::Auto;
            let mut out: Vec<PointScore> = (0..n)
                .map(|t| {
                    let (z, e) = (r.z[t], r.expected[t]);
                    let zs = r.z_sustained[t];
                    let zl = r.z_level[t];
                    // Severity is the strongest of the three views; the reason names
                    // the most specific view that is beyond the threshold on its own
                    // (the point itself, then its recent average, then its level).
                    let top = if sustained {
                        z.abs().max(zs.abs()).max(zl.abs())
                    } else {
                        z.abs()
                    };
                    let reason = if z.abs() >= thr || !sustained || top == z.abs() {
                        z_reason(z, e, what)
                    } else if zs.abs() >= thr || zs.abs() >= zl.abs() {
                        format!(
                            "last {} values average {:.1}σ {} {what}",
                            r.k,
                            zs.abs(),
                            if zs >= 0.0 { "above" } else { "below" }
                        )
                    } else {
                        format!(
                            "value {:.1}σ {} the series' usual level ({})",
                            zl.abs(),
                            if zl >= 0.0 { "above" } else { "below" },
                            fmt_num(r.usual)
                        )
                    };
                    PointScore {
                        severity: severity(top, thr),
                        is_anomaly: top >= thr,
                        expected: e,
                        reason,
                    }
                })
                .collect();
            if sustained {
                let min_len = if m >= 2 { m.max(10) } else { (n / 50).max(10) };
                for cp in level_shifts(&r.adjusted, min_len, thr)? {
                    // size in the same residual σ as the point scores, so that the
                    // two kinds of finding rank on one scale
                    let sigma = (cp.after - cp.before).abs() / r.scale.max(f64::MIN_POSITIVE);
                    let s = severity(sigma.min(1e3), thr);
                    let p = &mut out[cp.index];
                    if sigma >= thr || s > p.severity {
                        p.severity = p.severity.max(s);
                        p.is_anomaly = p.is_anomaly || sigma >= thr;
                        p.expected = cp.before;
                        p.reason = format!(
                            "level shift: mean moved from {} to {} ({:.1}σ)",
                            fmt_num(cp.before),
                            fmt_num(cp.after),
                            sigma
                        );
                    }
                }
            }
            if sustained {
                collapse_episodes(&mut out, r.k.max(m / 8).max(6));
            }
            Ok(out)
        }
        AnomalyMethod::Ewma => {
            let mut d = Ewma::new(0.05, 30.min(n as u64)).ok_or(InsightError::Numerical("EWMA"))?;
            let mut prev_mean = y[0];
            Ok(y.iter()
                .map(|&v| {
                    let z = d.update(v);
                    let e = prev_mean;
                    prev_mean += 0.05 * (v - prev_mean);
                    PointScore {
                        severity: severity(z, thr),
                        is_anomaly: z.abs() >= thr,
                        expected: e,
                        reason: z_reason(z, e, "the recent moving average"),
                    }
                })
                .collect())
        }
        AnomalyMethod::IForest => {
            let Residuals { expected, z, .. } = residuals(y, m)?;
            let sd = {
                let mu = mean(y);
                (y.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n as f64)
                    .sqrt()
                    .max(1e-12)
            };
            let pts: Vec<Vec<f64>> = (0..n)
                .map(|t| {
                    let d = if t > 0 { y[t] - y[t - 1] } else { 0.0 };
                    vec![y[t] / sd, d / sd, z[t]]
                })
                .collect();
            let forest = IsolationForest::fit(&pts, 100, 256, 42)?;
            pts.iter()
                .zip(&expected)
                .map(|(p, &e)| {
                    let s = forest.score(p)?;
                    Ok(PointScore {
                        severity: s,
                        is_anomaly: s >= 0.65,
                        expected: e,
                        reason: format!(
                            "isolation score {s:.2}: unusual value, change or seasonal residual"
                        ),
                    })
                })
                .collect()
        }
    }
}

/// Turns each anomalous stretch into one alert: its first point carries the
/// stretch's peak severity (alert early, at full strength), the rest is kept at half
/// severity, below the flag line, with a reason pointing at the start. Flagged points
/// closer than `gap` belong to one stretch. Without this a sustained anomaly yields
/// hundreds of alerts and buries the next one (alert fatigue, and in NAB terms a
/// false positive for every point that spills out of the labelled window).
fn collapse_episodes(out: &mut [PointScore], gap: usize) {
    let n = out.len();
    let mut t = 0;
    while t < n {
        if !out[t].is_anomaly {
            t += 1;
            continue;
        }
        let start = t;
        let mut end = t;
        let mut peak = t;
        let mut j = t + 1;
        while j < n && j <= end + gap {
            if out[j].is_anomaly {
                end = j;
                if out[j].severity > out[peak].severity {
                    peak = j;
                }
            }
            j += 1;
        }
        let len = end - start + 1;
        if len > 1 {
            let peak_sev = out[peak].severity;
            // a level shift inside the stretch explains it better than its peak point
            let explain = (start..=end)
                .find(|&i| out[i].reason.starts_with("level shift"))
                .unwrap_or(peak);
            let peak_reason = out[explain].reason.clone();
            for (i, p) in out.iter_mut().enumerate().take(end + 1).skip(start + 1) {
                p.severity *= 0.5;
                p.is_anomaly = false;
                p.reason = format!(
                    "within the anomalous stretch that starts {} points earlier",
                    i - start
                );
            }
            out[start].severity = peak_sev;
            out[start].reason =
                format!("start of an anomalous stretch of {len} points: {peak_reason}");
        }
        t = end + 1;
    }
}

/// Indices of `scores` from most to least severe (ties keep time order), the order in
/// which a person should look at them.
pub fn rank(scores: &[PointScore]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        scores[b]
            .severity
            .total_cmp(&scores[a].severity)
            .then(a.cmp(&b))
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn daily(n: usize) -> Vec<f64> {
        let mut rng = crate::util::SplitMix64::new(11);
        (0..n)
            .map(|t| {
                20.0 + 5.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin()
                    + 0.3 * rng.normal()
            })
            .collect()
    }

    #[test]
    fn spike_is_top_ranked_with_reason() {
        let mut y = daily(24 * 20);
        y[300] += 6.0;
        for method in [
            AnomalyMethod::Auto,
            AnomalyMethod::Mad,
            AnomalyMethod::IForest,
        ] {
            let s = detect(
                &y,
                &AnomalySpec {
                    method,
                    season_length: Some(24),
                    threshold: 4.0,
                },
            )
            .expect("ok");
            assert_eq!(
                rank(&s)[0],
                300,
                "{method:?} {:?} {:?}",
                s[rank(&s)[0]],
                s[300]
            );
            assert!(s[300].is_anomaly, "{method:?}");
        }
        let s = detect(&y, &AnomalySpec::default()).expect("ok");
        assert!(
            s[300].reason.contains("above the seasonal expectation"),
            "{}",
            s[300].reason
        );
    }

    #[test]
    fn ewma_flags_spike() {
        let mut y = vec![5.0; 200];
        for (i, v) in y.iter_mut().enumerate() {
            *v += (i % 5) as f64 * 0.1;
        }
        y[150] = 20.0;
        let s = detect(
            &y,
            &AnomalySpec {
                method: AnomalyMethod::Ewma,
                season_length: Some(1),
                threshold: 4.0,
            },
        )
        .expect("ok");
        assert!(s[150].is_anomaly);
        assert_eq!(s.iter().filter(|p| p.is_anomaly).count(), 1);
    }

    #[test]
    fn level_shift_is_explained() {
        let y: Vec<f64> = (0..300)
            .map(|i| if i < 200 { 10.0 } else { 30.0 } + ((i * 37) % 11) as f64 * 0.1)
            .collect();
        let s = detect(
            &y,
            &AnomalySpec {
                season_length: Some(1),
                ..AnomalySpec::default()
            },
        )
        .expect("ok");
        let cps = level_shifts(&y, 10, 4.0).expect("ok");
        assert!(
            s.iter().any(|p| p.reason.contains("level shift")),
            "no shift reason {cps:?} {:?}",
            &s[195..205]
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(detect(&[], &AnomalySpec::default()).is_err());
        assert!(detect(&[1.0, f64::INFINITY], &AnomalySpec::default()).is_err());
        assert!(
            detect(
                &[1.0, 2.0],
                &AnomalySpec {
                    threshold: 0.0,
                    ..AnomalySpec::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn weekly_season_beats_daily_when_weekends_differ() {
        // hourly data: a daily cycle, and weekends at half the level
        let mut rng = crate::util::SplitMix64::new(5);
        let y: Vec<f64> = (0..24 * 7 * 8)
            .map(|t| {
                let day = (t / 24) % 7;
                let base = if day >= 5 { 50.0 } else { 100.0 };
                base + 20.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + rng.normal()
            })
            .collect();
        assert_eq!(choose_season(&y, Some(&[24, 168])), Ok(168));
        // under the daily season every weekend looks anomalous; under the weekly one, not
        let flagged = |m: usize| {
            let spec = AnomalySpec {
                season_length: Some(m),
                ..AnomalySpec::default()
            };
            detect(&y, &spec)
                .expect("ok")
                .iter()
                .filter(|p| p.is_anomaly)
                .count()
        };
        assert!(flagged(168) <= 2, "{}", flagged(168));
        assert!(flagged(24) > 5 * flagged(168).max(1), "{}", flagged(24));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn forest_and_changepoints_stay_finite(
            pts in proptest::collection::vec(proptest::collection::vec(-1e6f64..1e6, 3), 2..200),
        ) {
            let f = IsolationForest::fit(&pts, 20, 64, 1).expect("valid points");
            for p in &pts {
                let s = f.score(p).expect("same dimension");
                prop_assert!((0.0..=1.0).contains(&s));
            }
            let col: Vec<f64> = pts.iter().map(|p| p[0]).collect();
            for cp in level_shifts(&col, 5, 3.0).expect("finite") {
                prop_assert!(cp.sigma.is_finite() && cp.before.is_finite() && cp.after.is_finite());
            }
        }

        #[test]
        fn severities_are_finite_and_bounded(
            y in proptest::collection::vec(prop_oneof![-1e9f64..1e9, -1e150f64..1e150], 1..300),
            method in prop_oneof![Just(AnomalyMethod::Auto), Just(AnomalyMethod::Mad), Just(AnomalyMethod::Ewma), Just(AnomalyMethod::IForest)],
        ) {
            let s = detect(&y, &AnomalySpec { method, ..AnomalySpec::default() }).expect("finite input is fine");
            prop_assert_eq!(s.len(), y.len());
            for p in s {
                prop_assert!(p.severity.is_finite() && (0.0..=1.0).contains(&p.severity));
                prop_assert!(p.expected.is_finite());
            }
        }

        #[test]
        fn streaming_scores_stay_finite(xs in proptest::collection::vec(
            prop_oneof![proptest::num::f64::ANY, Just(f64::MAX), Just(-f64::MAX), -1.0f64..1.0],
            1..200,
        )) {
            let mut e = Ewma::new(0.1, 5).expect("valid");
            let mut c = Cusum::new(0.1, 5, 0.5, 5.0).expect("valid");
            for x in xs {
                prop_assert!(e.update(x).is_finite());
                prop_assert!(c.update(x).is_finite());
            }
        }
    }
}
