//! Season-length detection and classical seasonal decomposition.

use crate::util::{acf, linear_fit};
use crate::{InsightError, check_finite};

/// Longest lag searched when no candidates are given.
pub const MAX_BLIND_LAG: usize = 2016;

/// Detects the dominant season length of `y` from its autocorrelation function.
///
/// `candidates` restricts the answer (e.g. 24 and 168 for hourly data, as the CLI
/// derives from the timestamps); with `None` every lag up to `n / 2` (at most
/// [`MAX_BLIND_LAG`]) is considered.
/// Returns 1 (no seasonality) when no lag is significant: a wrong season hurts a
/// forecast more than a missed one, so the test is conservative (ACF peak above
/// the 95% Bartlett band and above 0.3).
pub fn detect_season_length(
    y: &[f64],
    candidates: Option<&[usize]>,
) -> Result<usize, InsightError> {
    let peaks = seasonal_peaks(y, candidates)?;
    let best = peaks.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    // Harmonics (2m, 3m) correlate almost as well as m: take the shortest lag that
    // is close to the best one.
    Ok(peaks
        .into_iter()
        .find(|p| p.1 >= 0.9 * best)
        .map_or(1, |p| p.0))
}

/// Significant seasonal lags of `y`, shortest first, with their autocorrelation:
/// local ACF peaks (after removing a linear trend) above the 95% Bartlett band and
/// above 0.3, among `candidates` or every lag up to `n / 2` (at most [`MAX_BLIND_LAG`]).
pub fn seasonal_peaks(
    y: &[f64],
    candidates: Option<&[usize]>,
) -> Result<Vec<(usize, f64)>, InsightError> {
    check_finite(y)?;
    let n = y.len();
    if n < 8 {
        return Ok(Vec::new());
    }
    // Remove a linear trend first: a trend makes the ACF decay slowly and hides peaks.
    let (a, b) = linear_fit(y);
    let d: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| v - (a + b * i as f64))
        .collect();
    let max_lag = match candidates {
        Some(c) => c.iter().copied().filter(|&m| 2 * m <= n).max().unwrap_or(0),
        // The ACF costs O(n · max_lag): without a calendar hint, look at most 2,000
        // lags far (a week of 5-minute data), so a long series stays a fast answer.
        None => (n / 2).min(MAX_BLIND_LAG),
    };
    if max_lag < 2 {
        return Ok(Vec::new());
    }
    let r = acf(&d, max_lag + 1);
    // prefix sums of r² for the Bartlett band, so the scan stays O(max_lag)
    let mut sq = vec![0.0; r.len() + 1];
    for (k, v) in r.iter().enumerate() {
        sq[k + 1] = sq[k] + if k >= 1 { v * v } else { 0.0 };
    }
    let is_peak = |m: usize| -> bool {
        m >= 2 && m < r.len() && r[m] >= r[m - 1] && (m + 1 >= r.len() || r[m] >= r[m + 1])
    };
    let significant = |m: usize| -> bool {
        let band = 1.96 * ((1.0 + 2.0 * sq[m]) / n as f64).sqrt();
        r[m] > band && r[m] > 0.3
    };
    let mut lags: Vec<usize> = match candidates {
        Some(c) => c
            .iter()
            .copied()
            .filter(|&m| m >= 2 && 2 * m <= n)
            .collect(),
        None => (2..=max_lag).collect(),
    };
    lags.sort_unstable();
    lags.dedup();
    Ok(lags
        .into_iter()
        .filter(|&m| is_peak(m) && significant(m))
        .map(|m| (m, r[m]))
        .collect())
}

/// Seasonal indices from a classical (moving-average) decomposition of `y`.
///
/// Index `j` applies to every time `t` with `t % m == j`. Additive indices sum to 0,
/// multiplicative ones average 1. Needs at least two full seasons.
pub fn seasonal_indices(
    y: &[f64],
    m: usize,
    multiplicative: bool,
) -> Result<Vec<f64>, InsightError> {
    check_finite(y)?;
    let n = y.len();
    if m < 2 {
        return Err(InsightError::InvalidParameter {
            name: "season_length",
            reason: "must be at least 2 for a decomposition".into(),
        });
    }
    if n < 2 * m {
        return Err(InsightError::TooShort {
            method: "seasonal decomposition",
            need: 2 * m,
            got: n,
        });
    }
    if multiplicative && y.iter().any(|&v| v <= 0.0) {
        return Err(InsightError::InvalidParameter {
            name: "y",
            reason: "multiplicative seasonality needs positive values".into(),
        });
    }
    let trend = centred_ma(y, m);
    let mut sum = vec![0.0; m];
    let mut cnt = vec![0usize; m];
    for (t, tr) in trend.iter().enumerate() {
        if let Some(tr) = tr {
            let v = if multiplicative { y[t] / tr } else { y[t] - tr };
            if v.is_finite() {
                sum[t % m] += v;
                cnt[t % m] += 1;
            }
        }
    }
    let mut idx: Vec<f64> = sum
        .iter()
        .zip(&cnt)
        .map(|(s, &c)| {
            if c > 0 {
                s / c as f64
            } else if multiplicative {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let avg = idx.iter().sum::<f64>() / m as f64;
    if multiplicative {
        if avg > 0.0 {
            idx.iter_mut().for_each(|v| *v /= avg);
        }
    } else {
        idx.iter_mut().for_each(|v| *v -= avg);
    }
    if idx
        .iter()
        .any(|v| !v.is_finite() || (multiplicative && *v <= 0.0))
    {
        return Err(InsightError::Numerical("seasonal decomposition"));
    }
    Ok(idx)
}

/// Centred moving average of order m (2×m for even m), `None` at the ends.
pub(crate) fn centred_ma(y: &[f64], m: usize) -> Vec<Option<f64>> {
    let n = y.len();
    let mut out = vec![None; n];
    if m == 0 || n < m + 1 {
        return out;
    }
    let half = m / 2;
    for t in half..n.saturating_sub(half) {
        if m % 2 == 1 {
            let s: f64 = y[t - half..=t + half].iter().sum();
            out[t] = Some(s / m as f64);
        } else {
            if t + half >= n {
                continue;
            }
            let inner: f64 = y[t - half + 1..t + half].iter().sum();
            let s = inner + 0.5 * (y[t - half] + y[t + half]);
            out[t] = Some(s / m as f64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seasonal(n: usize, m: usize) -> Vec<f64> {
        (0..n)
            .map(|t| {
                100.0
                    + 0.5 * t as f64
                    + 10.0 * ((t % m) as f64 * std::f64::consts::TAU / m as f64).sin()
            })
            .collect()
    }

    #[test]
    fn detects_twelve() {
        assert_eq!(detect_season_length(&seasonal(120, 12), None), Ok(12));
        assert_eq!(
            detect_season_length(&seasonal(120, 12), Some(&[7, 12, 24])),
            Ok(12)
        );
    }

    #[test]
    fn no_season_in_a_line() {
        let y: Vec<f64> = (0..60).map(|t| t as f64).collect();
        assert_eq!(detect_season_length(&y, None), Ok(1));
    }

    #[test]
    fn indices_recover_pattern() {
        let y: Vec<f64> = (0..48)
            .map(|t| 50.0 + [1.0, -2.0, 3.0, -2.0][t % 4])
            .collect();
        let idx = seasonal_indices(&y, 4, false).expect("valid");
        assert!((idx[0] - 1.0).abs() < 1e-9 && (idx[2] - 3.0).abs() < 1e-9);
    }
}
