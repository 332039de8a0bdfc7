//! Anomaly detection: robust z-scores on seasonal residuals, streaming EWMA/CUSUM,
//! isolation forest, level-shift changepoints, and a combined ranking in which every
//! point gets a severity in [0, 1] and a reason a person can read.

pub mod changepoint;
pub mod iforest;
pub mod stream;

use crate::season::detect_season_length;
use crate::util::{mad, mean, median};
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
    let (expected, z, _) = residuals(y, m)?;
    Ok((expected, z))
}

/// Expected values, robust z-scores and the seasonally adjusted series.
type Residuals = (Vec<f64>, Vec<f64>, Vec<f64>);

/// As [`seasonal_residual_z`], plus the seasonally adjusted series.
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
    let med = median(&resid);
    let mut scale = 1.4826 * mad(&resid, med);
    if scale <= 0.0 {
        // More than half the residuals are equal: fall back to the mean absolute deviation.
        scale = 1.2533 * resid.iter().map(|r| (r - med).abs()).sum::<f64>() / n as f64;
    }
    let z = resid
        .iter()
        .map(|r| {
            let d = r - med;
            if scale > 0.0 {
                (d / scale).clamp(-1e3, 1e3)
            } else {
                0.0
            }
        })
        .collect();
    Ok((expected, z, adjusted))
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

/// Scores every point of `y` (equally spaced, oldest first).
pub fn detect(y: &[f64], spec: &AnomalySpec) -> Result<Vec<PointScore>, InsightError> {
    check_finite(y)?;
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
            let cands: Vec<usize> = (2..=(n / 3).min(1500)).collect();
            detect_season_length(y, Some(&cands))?
        }
    };
    let what = if m >= 2 && n >= 2 * m {
        "the seasonal expectation"
    } else {
        "the local level"
    };
    match spec.method {
        AnomalyMethod::Mad | AnomalyMethod::Auto => {
            let (expected, z, adjusted) = residuals(y, m)?;
            let mut out: Vec<PointScore> = z
                .iter()
                .zip(&expected)
                .map(|(&z, &e)| {
                    let s = severity(z, thr);
                    PointScore {
                        severity: s,
                        is_anomaly: z.abs() >= thr,
                        expected: e,
                        reason: z_reason(z, e, what),
                    }
                })
                .collect();
            if spec.method == AnomalyMethod::Auto {
                let min_len = if m >= 2 { m.max(10) } else { (n / 50).max(10) };
                for cp in level_shifts(&adjusted, min_len, thr)? {
                    let s = severity(cp.sigma, thr);
                    let p = &mut out[cp.index];
                    if s > p.severity {
                        p.severity = s;
                        p.is_anomaly = true;
                        p.expected = cp.before;
                        p.reason = format!(
                            "level shift: mean moved from {} to {} ({:.1}σ)",
                            fmt_num(cp.before),
                            fmt_num(cp.after),
                            cp.sigma
                        );
                    }
                }
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
            let (expected, z) = seasonal_residual_z(y, m)?;
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
        assert!(
            s.iter().any(|p| p.reason.starts_with("level shift")),
            "no shift reason"
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn severities_are_finite_and_bounded(
            y in proptest::collection::vec(-1e9f64..1e9, 1..300),
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
        fn streaming_scores_stay_finite(xs in proptest::collection::vec(proptest::num::f64::ANY, 1..200)) {
            let mut e = Ewma::new(0.1, 5).expect("valid");
            let mut c = Cusum::new(0.1, 5, 0.5, 5.0).expect("valid");
            for x in xs {
                prop_assert!(e.update(x).is_finite());
                prop_assert!(c.update(x).is_finite());
            }
        }
    }
}
