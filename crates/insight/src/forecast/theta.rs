//! The Theta method (Assimakopoulos & Nikolopoulos 2000) in the SES-with-drift form of
//! Hyndman & Billah (2003), with the optimised-θ variant of Fiorucci et al. (2016).
//!
//! As statsforecast's AutoTheta: a 90% ACF test decides whether to deseasonalise by a
//! classical multiplicative decomposition first; the standard (θ = 2) and the
//! optimised model are both fitted and the one with the lower in-sample MSE is kept.

use super::{Forecast, Interval};
use crate::nm::minimize;
use crate::season::seasonal_indices;
use crate::util::{acf, linear_fit, mean, norm_ppf};
use crate::{InsightError, check_finite};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

struct ThetaFit {
    alpha: f64,
    theta: f64,
    level: f64,
    mse: f64,
}

/// One-step errors of the theta model on `x` (already deseasonalised).
fn theta_sse(x: &[f64], alpha: f64, theta: f64, l0: f64, b0: f64) -> (f64, f64) {
    let w = 1.0 - 1.0 / theta;
    let mut l = l0;
    let mut sse = 0.0;
    let mut decay = 1.0;
    for &v in x {
        decay *= 1.0 - alpha;
        let fitted = l + w * b0 * (1.0 - decay) / alpha;
        let e = v - fitted;
        sse += e * e;
        l = alpha * v + (1.0 - alpha) * l;
    }
    (sse, l)
}

fn fit(x: &[f64], optimise_theta: bool, b0: f64, scale: f64) -> ThetaFit {
    let l0_init = x[0];
    let decode = |p: &[f64]| {
        let alpha = 0.01 + 0.98 * sigmoid(p[0]);
        let l0 = l0_init + scale * p[1];
        let theta = if optimise_theta {
            1.0 + 9.0 * sigmoid(p[2])
        } else {
            2.0
        };
        (alpha, l0, theta)
    };
    let (x0, step): (Vec<f64>, Vec<f64>) = if optimise_theta {
        (vec![0.0, 0.0, -2.0], vec![1.0, 0.2, 1.0])
    } else {
        (vec![0.0, 0.0], vec![1.0, 0.2])
    };
    let (best, _) = minimize(
        |p| {
            let (a, l0, th) = decode(p);
            theta_sse(x, a, th, l0, b0).0
        },
        &x0,
        &step,
        300,
        1e-10,
    );
    let (alpha, l0, theta) = decode(&best);
    let (sse, level) = theta_sse(x, alpha, theta, l0, b0);
    ThetaFit {
        alpha,
        theta,
        level,
        mse: sse / x.len() as f64,
    }
}

/// Theta forecast with intervals at `levels` (percent).
pub(crate) fn auto_theta(
    y: &[f64],
    m: usize,
    h: usize,
    levels: &[f64],
) -> Result<Forecast, InsightError> {
    check_finite(y)?;
    let n = y.len();
    if n < 3 {
        return Err(InsightError::TooShort {
            method: "Theta",
            need: 3,
            got: n,
        });
    }
    // Seasonality test of statsforecast / forecast::thetaf: |r_m| above the 90% band.
    let positive = y.iter().all(|&v| v > 0.0);
    let mut idx: Option<Vec<f64>> = None;
    if m >= 2 && n >= 2 * m {
        let r = acf(y, m);
        let s: f64 = r[1..m].iter().map(|v| v * v).sum();
        let band = 1.645 * ((1.0 + 2.0 * s) / n as f64).sqrt();
        if r.len() > m && r[m].abs() > band {
            idx = seasonal_indices(y, m, positive).ok();
        }
    }
    let x: Vec<f64> = match &idx {
        Some(ix) if positive => y.iter().enumerate().map(|(t, v)| v / ix[t % m]).collect(),
        Some(ix) => y.iter().enumerate().map(|(t, v)| v - ix[t % m]).collect(),
        None => y.to_vec(),
    };
    let (_, b0) = linear_fit(&x);
    let scale = {
        let mu = mean(&x);
        let s = x.iter().map(|v| (v - mu).abs()).sum::<f64>() / n as f64;
        if s > 0.0 {
            s
        } else {
            mu.abs().max(1e-12) * 1e-3
        }
    };
    let stm = fit(&x, false, b0, scale);
    let otm = fit(&x, true, b0, scale);
    let best = if otm.mse < stm.mse * (1.0 - 1e-9) {
        otm
    } else {
        stm
    };
    let w = 1.0 - 1.0 / best.theta;
    let a = best.alpha;
    let decay_n = (1.0 - a).powi(n as i32);
    let k = if best.theta == 2.0 { 2.0 } else { 3.0 };
    let sigma2 = best.mse * n as f64 / (n as f64 - k).max(1.0);
    let mut mean_fc = Vec::with_capacity(h);
    let mut sd = Vec::with_capacity(h);
    for i in 1..=h {
        let hf = i as f64;
        mean_fc.push(best.level + w * b0 * (hf - 1.0 + 1.0 / a - decay_n / a));
        sd.push((sigma2 * (1.0 + (hf - 1.0) * a * a)).sqrt());
    }
    let reseason = |t: usize, v: f64| -> f64 {
        match &idx {
            Some(ix) if positive => v * ix[t % m],
            Some(ix) => v + ix[t % m],
            None => v,
        }
    };
    let intervals = levels
        .iter()
        .map(|&lv| {
            let z = norm_ppf(0.5 + lv / 200.0);
            Interval {
                level: lv,
                lower: (0..h)
                    .map(|i| reseason(n + i, mean_fc[i] - z * sd[i]))
                    .collect(),
                upper: (0..h)
                    .map(|i| reseason(n + i, mean_fc[i] + z * sd[i]))
                    .collect(),
            }
        })
        .collect();
    let mean_out = (0..h).map(|i| reseason(n + i, mean_fc[i])).collect();
    Ok(Forecast {
        model: "AutoTheta".into(),
        mean: mean_out,
        intervals,
    })
}
