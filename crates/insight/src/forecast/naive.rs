//! Seasonal naive forecasts: the benchmark every other model must beat.

use super::{Forecast, Interval};
use crate::util::norm_ppf;

/// Repeats the last season; intervals from the in-sample seasonal differences,
/// widening with the number of whole seasons ahead (Hyndman & Athanasopoulos, FPP3 §5.5).
pub(crate) fn seasonal_naive(y: &[f64], m: usize, h: usize, levels: &[f64]) -> Forecast {
    let n = y.len();
    let m = if m >= 1 && m < n { m } else { 1 };
    let mean: Vec<f64> = (0..h).map(|i| y[n - m + (i % m)]).collect();
    let diffs: Vec<f64> = (m..n).map(|t| y[t] - y[t - m]).collect();
    let sigma = if diffs.is_empty() {
        0.0
    } else {
        (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt()
    };
    let intervals = levels
        .iter()
        .map(|&lv| {
            let z = norm_ppf(0.5 + lv / 200.0);
            let w: Vec<f64> = (0..h)
                .map(|i| z * sigma * ((i / m + 1) as f64).sqrt())
                .collect();
            Interval {
                level: lv,
                lower: mean.iter().zip(&w).map(|(a, b)| a - b).collect(),
                upper: mean.iter().zip(&w).map(|(a, b)| a + b).collect(),
            }
        })
        .collect();
    Forecast {
        model: "SeasonalNaive".into(),
        mean,
        intervals,
    }
}
