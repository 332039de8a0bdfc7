//! Intermittent-demand methods: Croston (1972), its bias-corrected SBA variant
//! (Syntetos & Boylan 2005) and TSB (Teunter, Syntetos & Babai 2011).

use super::{Forecast, Interval};
use crate::util::norm_ppf;

/// Which intermittent-demand method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntermittentMethod {
    /// Croston with smoothing parameters optimised in [0.1, 0.3] (as statsforecast's
    /// CrostonOptimized).
    CrostonOptimized,
    /// Syntetos-Boylan approximation: Croston × (1 − α/2), α = 0.1.
    Sba,
    /// Teunter-Syntetos-Babai: demand probability smoothed every period.
    Tsb,
}

/// SES over `x` with weight `a`, first value as the initial level; returns
/// (final level, in-sample MSE of one-step forecasts).
fn ses(x: &[f64], a: f64) -> (f64, f64) {
    let mut l = x[0];
    let mut sse = 0.0;
    for &v in &x[1..] {
        sse += (v - l) * (v - l);
        l += a * (v - l);
    }
    (
        l,
        if x.len() > 1 {
            sse / (x.len() - 1) as f64
        } else {
            0.0
        },
    )
}

fn best_alpha(x: &[f64]) -> f64 {
    // A 21-point grid is exact enough on [0.1, 0.3] and costs nothing.
    (0..=20)
        .map(|i| 0.1 + 0.01 * i as f64)
        .min_by(|a, b| ses(x, *a).1.total_cmp(&ses(x, *b).1))
        .unwrap_or(0.1)
}

/// One-step in-sample forecasts of Croston-type methods, used for interval widths.
fn croston_path(y: &[f64], ad: f64, ap: f64, factor: f64) -> Vec<f64> {
    let mut fitted = Vec::with_capacity(y.len());
    let mut z: Option<f64> = None;
    let mut p: Option<f64> = None;
    let mut gap = 0.0;
    for &v in y {
        gap += 1.0;
        fitted.push(match (z, p) {
            (Some(z), Some(p)) if p > 0.0 => factor * z / p,
            _ => f64::NAN,
        });
        if v != 0.0 {
            z = Some(z.map_or(v, |z| z + ad * (v - z)));
            p = Some(p.map_or(gap, |p| p + ap * (gap - p)));
            gap = 0.0;
        }
    }
    fitted
}

/// Forecast of an intermittent series; a flat line with normal intervals from the
/// in-sample one-step errors, clipped at zero when the data are non-negative.
pub(crate) fn intermittent(
    y: &[f64],
    method: IntermittentMethod,
    h: usize,
    levels: &[f64],
) -> Forecast {
    let nonzero: Vec<f64> = y.iter().copied().filter(|v| *v != 0.0).collect();
    let (name, point, fitted) = if nonzero.is_empty() {
        let name = match method {
            IntermittentMethod::CrostonOptimized => "CrostonOptimized",
            IntermittentMethod::Sba => "CrostonSBA",
            IntermittentMethod::Tsb => "TSB",
        };
        (name, 0.0, vec![0.0; y.len()])
    } else {
        let mut gaps = Vec::with_capacity(nonzero.len());
        let mut last = -1i64;
        for (i, v) in y.iter().enumerate() {
            if *v != 0.0 {
                gaps.push((i as i64 - last) as f64);
                last = i as i64;
            }
        }
        match method {
            IntermittentMethod::CrostonOptimized => {
                let ad = best_alpha(&nonzero);
                let ap = best_alpha(&gaps);
                let (z, _) = ses(&nonzero, ad);
                let (p, _) = ses(&gaps, ap);
                ("CrostonOptimized", z / p, croston_path(y, ad, ap, 1.0))
            }
            IntermittentMethod::Sba => {
                let a = 0.1;
                let (z, _) = ses(&nonzero, a);
                let (p, _) = ses(&gaps, a);
                // The correction removes the bias of z/p that comes from varying
                // intervals; with no zero at all every interval is 1, there is no bias,
                // and correcting would pull a steady series 5% low.
                let factor = if nonzero.len() < y.len() {
                    1.0 - a / 2.0
                } else {
                    1.0
                };
                ("CrostonSBA", factor * z / p, croston_path(y, a, a, factor))
            }
            IntermittentMethod::Tsb => {
                let (ad, ap) = (0.1, 0.1);
                let first = y.iter().position(|v| *v != 0.0).unwrap_or(0);
                let mut prob = 1.0 / (first + 1) as f64;
                let mut size = nonzero[0];
                let mut fitted = Vec::with_capacity(y.len());
                for &v in y {
                    fitted.push(prob * size);
                    if v != 0.0 {
                        prob += ap * (1.0 - prob);
                        size += ad * (v - size);
                    } else {
                        prob -= ap * prob;
                    }
                }
                ("TSB", prob * size, fitted)
            }
        }
    };
    let errs: Vec<f64> = y
        .iter()
        .zip(&fitted)
        .filter(|(_, f)| f.is_finite())
        .map(|(v, f)| v - f)
        .collect();
    let sigma = if errs.is_empty() {
        0.0
    } else {
        (errs.iter().map(|e| e * e).sum::<f64>() / errs.len() as f64).sqrt()
    };
    let nonneg = y.iter().all(|v| *v >= 0.0);
    let mean = vec![point; h];
    let intervals = levels
        .iter()
        .map(|&lv| {
            let z = norm_ppf(0.5 + lv / 200.0);
            let lo = point - z * sigma;
            Interval {
                level: lv,
                lower: vec![if nonneg { lo.max(0.0).min(point) } else { lo }; h],
                upper: vec![point + z * sigma; h],
            }
        })
        .collect();
    Forecast {
        model: name.into(),
        mean,
        intervals,
    }
}
