//! Forecasting: seasonal naive, ETS (AutoETS), Theta (AutoTheta), Croston / SBA /
//! TSB, and an ensemble, each with prediction intervals.
//!
//! [`forecast`] is the one entry point the CLI and the server modules use.

pub mod croston;
pub mod ets;
mod naive;
mod theta;

use crate::season::detect_season_length;
use crate::{InsightError, check_finite};

pub use croston::IntermittentMethod;
pub use ets::{ErrorType, EtsFit, EtsSpec, SeasonType, TrendType, auto_ets, fit_ets};

/// A prediction interval at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Nominal coverage in percent (e.g. 95).
    pub level: f64,
    /// Lower bound per horizon step.
    pub lower: Vec<f64>,
    /// Upper bound per horizon step.
    pub upper: Vec<f64>,
}

/// One model's forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Model name (`SeasonalNaive`, `AutoETS`, `AutoTheta`, `CrostonOptimized`,
    /// `CrostonSBA`, `TSB`, `Ensemble`).
    pub model: String,
    /// Point forecast per horizon step.
    pub mean: Vec<f64>,
    /// Intervals in the order of the requested levels.
    pub intervals: Vec<Interval>,
}

/// Which models to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelChoice {
    /// Every applicable model plus the ensemble (one [`Forecast`] each).
    #[default]
    Auto,
    /// AutoETS only.
    Ets,
    /// AutoTheta only.
    Theta,
    /// Croston (optimised), SBA and TSB.
    Croston,
    /// The ensemble only.
    Ensemble,
    /// Seasonal naive only.
    Naive,
}

/// What to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastSpec {
    /// Number of steps ahead (≥ 1).
    pub horizon: usize,
    /// Season length; detected from the data when `None`.
    pub season_length: Option<usize>,
    /// Interval levels in percent, each in (0, 100).
    pub levels: Vec<f64>,
}

impl Default for ForecastSpec {
    fn default() -> Self {
        Self {
            horizon: 12,
            season_length: None,
            levels: vec![80.0, 95.0],
        }
    }
}

/// Replaces any non-finite number by the point forecast and keeps every interval
/// around its point, so no NaN or infinity can leave the crate even if a model
/// misbehaves on pathological input.
pub(crate) fn finite_or(f: &mut Forecast) {
    let last_finite = f
        .mean
        .iter()
        .rev()
        .find(|v| v.is_finite())
        .copied()
        .unwrap_or(0.0);
    for v in &mut f.mean {
        if !v.is_finite() {
            *v = last_finite;
        }
    }
    for iv in &mut f.intervals {
        for (i, lo) in iv.lower.iter_mut().enumerate() {
            if !lo.is_finite() || *lo > f.mean[i] {
                *lo = f.mean[i];
            }
        }
        for (i, hi) in iv.upper.iter_mut().enumerate() {
            if !hi.is_finite() || *hi < f.mean[i] {
                *hi = f.mean[i];
            }
        }
    }
}

fn is_finite(f: &Forecast) -> bool {
    f.mean.iter().all(|v| v.is_finite())
        && f.intervals
            .iter()
            .all(|iv| iv.lower.iter().chain(&iv.upper).all(|v| v.is_finite()))
}

/// True when a series looks like intermittent demand: at least 30% zeros and no
/// negative values.
pub fn is_intermittent(y: &[f64]) -> bool {
    let zeros = y.iter().filter(|v| **v == 0.0).count();
    !y.is_empty() && y.iter().all(|v| *v >= 0.0) && zeros * 10 >= y.len() * 3
}

/// Unweighted combination of forecasts: mean of the points, mean of the bounds
/// (quantile averaging, which keeps the ensemble's intervals no wider than the widest member).
fn combine(parts: &[Forecast]) -> Option<Forecast> {
    let first = parts.first()?;
    let k = parts.len() as f64;
    let h = first.mean.len();
    let avg = |get: &dyn Fn(&Forecast) -> &Vec<f64>| -> Vec<f64> {
        (0..h)
            .map(|i| parts.iter().map(|p| get(p)[i]).sum::<f64>() / k)
            .collect()
    };
    let mean = avg(&|p| &p.mean);
    let intervals = first
        .intervals
        .iter()
        .enumerate()
        .map(|(j, iv)| Interval {
            level: iv.level,
            lower: avg(&|p| &p.intervals[j].lower),
            upper: avg(&|p| &p.intervals[j].upper),
        })
        .collect();
    Some(Forecast {
        model: "Ensemble".into(),
        mean,
        intervals,
    })
}

/// Forecasts `y` (equally spaced, oldest first) `spec.horizon` steps ahead.
///
/// Models that cannot be fitted to this series (too short for ETS, say) are left
/// out; an error is returned only when no requested model could be produced. The
/// ensemble averages AutoETS and AutoTheta, or SBA and TSB for intermittent series.
pub fn forecast(
    y: &[f64],
    spec: &ForecastSpec,
    choice: ModelChoice,
) -> Result<Vec<Forecast>, InsightError> {
    check_finite(y)?;
    if spec.horizon == 0 {
        return Err(InsightError::InvalidParameter {
            name: "horizon",
            reason: "must be at least 1".into(),
        });
    }
    if spec.horizon > 100_000 {
        return Err(InsightError::InvalidParameter {
            name: "horizon",
            reason: "must be at most 100000".into(),
        });
    }
    if let Some(lv) = spec
        .levels
        .iter()
        .find(|l| !(l.is_finite() && **l > 0.0 && **l < 100.0))
    {
        return Err(InsightError::InvalidParameter {
            name: "level",
            reason: format!("{lv} is not strictly between 0 and 100"),
        });
    }
    if spec.season_length == Some(0) {
        return Err(InsightError::InvalidParameter {
            name: "season_length",
            reason: "must be at least 1".into(),
        });
    }
    // Work on y / max|y|: every model is then scale-equivariant up to rounding, and
    // the optimisers see numbers of order one whatever the unit of the data.
    let scale = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let scaled: Vec<f64> = y.iter().map(|v| v / scale).collect();
    let y = scaled.as_slice();
    let m = match spec.season_length {
        Some(m) => m,
        None => detect_season_length(y, None)?,
    };
    let h = spec.horizon;
    let lv = &spec.levels;
    let intermittent = is_intermittent(y);
    let want = |c: ModelChoice| choice == ModelChoice::Auto || choice == c;
    let need_ens = want(ModelChoice::Ensemble);

    let mut out: Vec<Forecast> = Vec::new();
    if want(ModelChoice::Naive) {
        out.push(naive::seasonal_naive(y, m, h, lv));
    }
    let ets = if want(ModelChoice::Ets) || (need_ens && !intermittent) {
        auto_ets(y, m).ok().map(|fit| {
            let mut f = fit.forecast(h, lv);
            f.model = "AutoETS".into();
            f
        })
    } else {
        None
    };
    let theta = if want(ModelChoice::Theta) || (need_ens && !intermittent) {
        theta::auto_theta(y, m, h, lv).ok()
    } else {
        None
    };
    let crostons: Vec<Forecast> = if want(ModelChoice::Croston) || (need_ens && intermittent) {
        [
            IntermittentMethod::CrostonOptimized,
            IntermittentMethod::Sba,
            IntermittentMethod::Tsb,
        ]
        .into_iter()
        .map(|meth| croston::intermittent(y, meth, h, lv))
        .collect()
    } else {
        Vec::new()
    };
    let ensemble = if need_ens {
        let members: Vec<Forecast> = if intermittent {
            crostons
                .iter()
                .filter(|f| f.model != "CrostonOptimized")
                .cloned()
                .collect()
        } else {
            ets.iter().chain(theta.iter()).cloned().collect()
        };
        combine(&members)
            .or_else(|| Some(naive::seasonal_naive(y, m, h, lv)))
            .map(|mut f| {
                f.model = "Ensemble".into();
                f
            })
    } else {
        None
    };
    if want(ModelChoice::Ets) {
        out.extend(ets);
    }
    if want(ModelChoice::Theta) {
        out.extend(theta);
    }
    if want(ModelChoice::Croston) {
        out.extend(crostons);
    }
    out.extend(ensemble);
    for f in &mut out {
        f.mean.iter_mut().for_each(|v| *v *= scale);
        for iv in &mut f.intervals {
            iv.lower
                .iter_mut()
                .chain(iv.upper.iter_mut())
                .for_each(|v| *v *= scale);
        }
        finite_or(f);
    }
    out.retain(is_finite);
    if out.is_empty() {
        return Err(InsightError::TooShort {
            method: "the requested model",
            need: 4,
            got: y.len(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(h: usize, m: Option<usize>) -> ForecastSpec {
        ForecastSpec {
            horizon: h,
            season_length: m,
            levels: vec![80.0, 95.0],
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            forecast(&[], &spec(3, None), ModelChoice::Auto),
            Err(InsightError::Empty)
        );
        assert!(matches!(
            forecast(&[1.0, f64::NAN], &spec(3, None), ModelChoice::Auto),
            Err(InsightError::NonFinite { index: 1 })
        ));
        assert!(forecast(&[1.0, 2.0], &spec(0, None), ModelChoice::Auto).is_err());
        let bad = ForecastSpec {
            levels: vec![100.0],
            ..spec(2, None)
        };
        assert!(forecast(&[1.0, 2.0, 3.0], &bad, ModelChoice::Auto).is_err());
    }

    #[test]
    fn auto_gives_every_model() {
        let y: Vec<f64> = (0..60)
            .map(|t| 100.0 + (t % 12) as f64 * 3.0 + t as f64)
            .collect();
        let out = forecast(&y, &spec(12, Some(12)), ModelChoice::Auto).expect("forecasts");
        let names: Vec<&str> = out.iter().map(|f| f.model.as_str()).collect();
        for want in [
            "SeasonalNaive",
            "AutoETS",
            "AutoTheta",
            "CrostonOptimized",
            "CrostonSBA",
            "TSB",
            "Ensemble",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        for f in &out {
            assert_eq!(f.mean.len(), 12);
            for iv in &f.intervals {
                assert!(iv.lower.iter().zip(&f.mean).all(|(l, m)| l <= m));
            }
        }
    }

    #[test]
    fn intermittent_ensemble_uses_croston_family() {
        let y: Vec<f64> = (0..50)
            .map(|t| if t % 4 == 0 { 3.0 } else { 0.0 })
            .collect();
        let out = forecast(&y, &spec(5, Some(1)), ModelChoice::Ensemble).expect("forecasts");
        assert_eq!(out.len(), 1);
        assert!((out[0].mean[0] - 0.75).abs() < 0.3, "{:?}", out[0].mean);
    }

    #[test]
    fn extreme_magnitudes_stay_finite() {
        let y: Vec<f64> = (0..40)
            .map(|t| 1e307 * (1.0 + 0.5 * (t % 4) as f64) + t as f64 * 1e305)
            .collect();
        for f in forecast(&y, &spec(12, Some(4)), ModelChoice::Auto).expect("forecasts") {
            assert!(is_finite(&f), "{}", f.model);
        }
        let tiny: Vec<f64> = y.iter().map(|v| v * 1e-310 * 1e-310).collect();
        assert!(tiny.iter().all(|v| *v > 0.0));
        for f in forecast(&tiny, &spec(12, Some(4)), ModelChoice::Auto).expect("forecasts") {
            assert!(is_finite(&f), "{}", f.model);
        }
    }

    #[test]
    fn very_short_series_still_forecast() {
        let out = forecast(&[5.0, 6.0], &spec(3, None), ModelChoice::Auto).expect("naive at least");
        assert!(!out.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn constant_series_gives_constant_and_zero_width(c in -1e6f64..1e6, n in 8usize..60, m in 1usize..5) {
            let y = vec![c; n];
            let out = forecast(&y, &spec(6, Some(m)), ModelChoice::Auto).expect("forecasts");
            let tol = 1e-6 * c.abs().max(1.0);
            for f in &out {
                for (i, v) in f.mean.iter().enumerate() {
                    prop_assert!((v - c).abs() <= tol, "{} mean {} vs {}", f.model, v, c);
                    for iv in &f.intervals {
                        prop_assert!((iv.upper[i] - iv.lower[i]).abs() <= tol, "{} width", f.model);
                    }
                }
            }
        }

        #[test]
        fn scaling_input_scales_output(
            y in proptest::collection::vec(1.0f64..1000.0, 10..50),
            k in prop_oneof![Just(0.001f64), Just(10.0), Just(1000.0)],
        ) {
            let s = spec(4, Some(4));
            let a = forecast(&y, &s, ModelChoice::Auto).expect("forecasts");
            let ys: Vec<f64> = y.iter().map(|v| v * k).collect();
            let b = forecast(&ys, &s, ModelChoice::Auto).expect("forecasts");
            prop_assert_eq!(a.len(), b.len());
            let top = y.iter().fold(0.0f64, |a, v| a.max(v.abs())) * k;
            for (fa, fb) in a.iter().zip(&b) {
                prop_assert_eq!(&fa.model, &fb.model);
                for (va, vb) in fa.mean.iter().zip(&fb.mean) {
                    prop_assert!((va * k - vb).abs() <= 1e-6 * top, "{} {} {}", fa.model, va * k, vb);
                }
            }
        }

        #[test]
        fn never_non_finite(y in proptest::collection::vec(-1e12f64..1e12, 1..80), h in 1usize..30, m in proptest::option::of(1usize..13)) {
            if let Ok(out) = forecast(&y, &spec(h, m), ModelChoice::Auto) {
                for f in out {
                    prop_assert!(is_finite(&f));
                }
            }
        }
    }
}
