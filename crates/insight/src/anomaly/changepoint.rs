//! Level-shift (mean change) detection by binary segmentation with a CUSUM statistic.

use crate::util::{mad, median};
use crate::{InsightError, check_finite};

/// A detected shift of the mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Changepoint {
    /// First index of the new level.
    pub index: usize,
    /// Mean of the segment before.
    pub before: f64,
    /// Mean of the segment after.
    pub after: f64,
    /// Size of the shift in robust standard deviations of the point-to-point noise.
    pub sigma: f64,
}

/// Finds level shifts of at least `min_sigma` noise standard deviations between
/// segments of at least `min_len` points. The noise scale is estimated from first
/// differences (MAD / √2), which is robust to the shifts themselves.
pub fn level_shifts(
    y: &[f64],
    min_len: usize,
    min_sigma: f64,
) -> Result<Vec<Changepoint>, InsightError> {
    check_finite(y)?;
    let min_len = min_len.max(2);
    if !(min_sigma.is_finite() && min_sigma > 0.0) {
        return Err(InsightError::InvalidParameter {
            name: "min_sigma",
            reason: "must be positive".into(),
        });
    }
    let n = y.len();
    if n < 2 * min_len {
        return Ok(Vec::new());
    }
    let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let noise = 1.4826 * mad(&diffs, median(&diffs)) / std::f64::consts::SQRT_2;
    if noise <= 0.0 {
        // Piecewise-constant data: any change is a shift; use the smallest non-zero step.
        let step = diffs
            .iter()
            .map(|d| d.abs())
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        if !step.is_finite() {
            return Ok(Vec::new());
        }
        return segment(y, min_len, min_sigma, step / min_sigma.max(1.0));
    }
    segment(y, min_len, min_sigma, noise)
}

fn segment(
    y: &[f64],
    min_len: usize,
    min_sigma: f64,
    noise: f64,
) -> Result<Vec<Changepoint>, InsightError> {
    let mut prefix = Vec::with_capacity(y.len() + 1);
    prefix.push(0.0);
    for v in y {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v);
    }
    let mean = |a: usize, b: usize| (prefix[b] - prefix[a]) / (b - a) as f64;
    let mut cuts = Vec::new();
    let mut stack = vec![(0usize, y.len())];
    while let Some((a, b)) = stack.pop() {
        if b - a < 2 * min_len {
            continue;
        }
        // best split by the weighted mean difference (the likelihood-ratio statistic)
        let mut best = (0usize, 0.0f64);
        for k in a + min_len..=b - min_len {
            let (n1, n2) = ((k - a) as f64, (b - k) as f64);
            let d = mean(a, k) - mean(k, b);
            let stat = d.abs() * (n1 * n2 / (n1 + n2)).sqrt();
            if stat > best.1 {
                best = (k, stat);
            }
        }
        let k = best.0;
        if k == 0 {
            continue;
        }
        let (before, after) = (mean(a, k), mean(k, b));
        let sigma = (after - before).abs() / noise;
        // need both a big enough shift and a statistic beyond chance (≈ 4σ after
        // the multiple-testing of all split points)
        let stat = best.1 / noise;
        let crit = (2.0 * ((b - a) as f64).ln()).sqrt() + 2.0;
        if sigma >= min_sigma && stat >= crit {
            cuts.push(Changepoint {
                index: k,
                before,
                after,
                sigma,
            });
            stack.push((a, k));
            stack.push((k, b));
        }
    }
    cuts.sort_by_key(|c| c.index);
    // Recompute the levels between neighbouring cuts so `before`/`after` describe
    // the final segmentation.
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(cuts.iter().map(|c| c.index))
        .chain(std::iter::once(y.len()))
        .collect();
    for (i, c) in cuts.iter_mut().enumerate() {
        c.before = mean(bounds[i], bounds[i + 1]);
        c.after = mean(bounds[i + 1], bounds[i + 2]);
        c.sigma = (c.after - c.before).abs() / noise;
    }
    cuts.retain(|c| c.sigma >= min_sigma);
    Ok(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_one_shift() {
        let y: Vec<f64> = (0..200)
            .map(|i| if i < 120 { 10.0 } else { 14.0 } + ((i * 37) % 11) as f64 * 0.1)
            .collect();
        let cps = level_shifts(&y, 10, 3.0).expect("ok");
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert!((cps[0].index as i64 - 120).abs() <= 2);
        assert!(cps[0].after > cps[0].before);
    }

    #[test]
    fn none_in_noise() {
        let mut rng = crate::util::SplitMix64::new(3);
        let y: Vec<f64> = (0..300).map(|_| rng.normal()).collect();
        assert!(level_shifts(&y, 10, 3.0).expect("ok").is_empty());
    }
}
