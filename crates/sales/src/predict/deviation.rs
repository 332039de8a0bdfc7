//! Monthly demand forecasts with intervals (through `insight::forecast`) and the
//! forecast-vs-actual check behind the `sales.forecast_deviation` alert.
//!
//! Alert rule (docs/sales/predictions.md): the latest complete month's actual is compared
//! with the one-month-ahead forecast made without it. Outside the 95% interval it is
//! `HIGH`; when the actual is more than twice as far from the forecast as the 95% bound
//! on its side, `CRITICAL`; outside the 80% interval only, `INFO` (reported, not raised:
//! one month in five lands there by construction, which would be alert fatigue).

use insight::{ForecastSpec, ModelChoice};

/// A forecast of the months after a series, with 80% and 95% intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyForecast {
    /// The model kept (`Ensemble` when available).
    pub model: String,
    /// Point forecast per month ahead.
    pub mean: Vec<f64>,
    /// 80% interval, lower bounds.
    pub lower_80: Vec<f64>,
    /// 80% interval, upper bounds.
    pub upper_80: Vec<f64>,
    /// 95% interval, lower bounds.
    pub lower_95: Vec<f64>,
    /// 95% interval, upper bounds.
    pub upper_95: Vec<f64>,
}

/// The fewest months a forecast is made from (fewer: no forecast).
pub const MIN_HISTORY_MONTHS: usize = 4;

/// The season length used for monthly data: 12 when two years show it, else none.
pub fn monthly_season(y: &[f64]) -> usize {
    if y.len() >= 24 {
        insight::season::detect_season_length(y, Some(&[12])).unwrap_or(1)
    } else {
        1
    }
}

/// Forecasts a monthly series `horizon` months ahead with `insight::forecast`
/// (`ModelChoice::Auto`, keeping the ensemble of ETS and Theta — or of SBA and TSB for
/// intermittent series). Demand is never negative, so for a non-negative history every
/// number is clipped at 0. `None` when the history is shorter than
/// [`MIN_HISTORY_MONTHS`] or no model fits.
pub fn forecast_monthly(y: &[f64], horizon: usize) -> Option<MonthlyForecast> {
    forecast_with(y, horizon, ModelChoice::Auto)
}

/// [`forecast_monthly`] with another model choice (`Naive`: the seasonal naive baseline).
pub fn forecast_with(y: &[f64], horizon: usize, choice: ModelChoice) -> Option<MonthlyForecast> {
    if y.len() < MIN_HISTORY_MONTHS || horizon == 0 {
        return None;
    }
    let spec = ForecastSpec {
        horizon,
        season_length: Some(monthly_season(y)),
        levels: vec![80.0, 95.0],
    };
    let all = insight::forecast(y, &spec, choice).ok()?;
    let preferred = ["Ensemble", "AutoETS", "AutoTheta", "SeasonalNaive"];
    let chosen = preferred
        .iter()
        .find_map(|name| all.iter().find(|f| f.model == *name))
        .or(all.first())?;
    let floor = if y.iter().all(|v| *v >= 0.0) {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let clip = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.max(floor)).collect() };
    let level = |l: f64| chosen.intervals.iter().find(|i| (i.level - l).abs() < 1e-9);
    let (i80, i95) = (level(80.0)?, level(95.0)?);
    Some(MonthlyForecast {
        model: chosen.model.clone(),
        mean: clip(&chosen.mean),
        lower_80: clip(&i80.lower),
        upper_80: clip(&i80.upper),
        lower_95: clip(&i95.lower),
        upper_95: clip(&i95.upper),
    })
}

/// How serious a deviation of an actual from its forecast is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Outside the 95% interval, more than twice as far from the forecast as its bound.
    Critical,
    /// Outside the 95% interval.
    High,
    /// Outside the 80% interval only.
    Info,
}

impl Severity {
    /// Wire form (the event's `priority`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Info => "INFO",
        }
    }

    /// Whether it is raised as a `sales.forecast_deviation` event.
    pub fn is_raised(self) -> bool {
        matches!(self, Severity::Critical | Severity::High)
    }
}

/// One month's actual against the forecast made without it.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// Index of the month in the series.
    pub index: usize,
    /// What happened.
    pub actual: f64,
    /// One month ahead forecast from the months before.
    pub forecast: f64,
    /// 95% interval of that forecast.
    pub lower_95: f64,
    /// 95% interval of that forecast.
    pub upper_95: f64,
    /// actual − forecast.
    pub deviation: f64,
    /// How serious (`None`: inside the 80% interval).
    pub severity: Option<Severity>,
}

/// The severity of `actual` against a forecast `mean` and its intervals.
pub fn classify(
    actual: f64,
    mean: f64,
    (lo80, hi80): (f64, f64),
    (lo95, hi95): (f64, f64),
) -> Option<Severity> {
    let beyond = |bound: f64| {
        let width = (bound - mean).abs();
        if (actual - mean).abs() > 2.0 * width {
            Severity::Critical
        } else {
            Severity::High
        }
    };
    if actual > hi95 {
        Some(beyond(hi95))
    } else if actual < lo95 {
        Some(beyond(lo95))
    } else if actual > hi80 || actual < lo80 {
        Some(Severity::Info)
    } else {
        None
    }
}

/// One-month-ahead backtests of the last `months` points of `y` (each forecast from the
/// points before it), oldest first; points with too short a history are skipped.
pub fn backtest(y: &[f64], months: usize) -> Vec<Backtest> {
    let start = y.len().saturating_sub(months).max(MIN_HISTORY_MONTHS);
    (start..y.len())
        .filter_map(|t| {
            let f = forecast_monthly(&y[..t], 1)?;
            let actual = y[t];
            Some(Backtest {
                index: t,
                actual,
                forecast: f.mean[0],
                lower_95: f.lower_95[0],
                upper_95: f.upper_95[0],
                deviation: actual - f.mean[0],
                severity: classify(
                    actual,
                    f.mean[0],
                    (f.lower_80[0], f.upper_80[0]),
                    (f.lower_95[0], f.upper_95[0]),
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_the_interval_bounds() {
        let i80 = (80.0, 120.0);
        let i95 = (70.0, 130.0);
        assert_eq!(classify(100.0, 100.0, i80, i95), None);
        assert_eq!(classify(125.0, 100.0, i80, i95), Some(Severity::Info));
        assert_eq!(classify(75.0, 100.0, i80, i95), Some(Severity::Info));
        assert_eq!(classify(131.0, 100.0, i80, i95), Some(Severity::High));
        // 2 × (130 − 100) = 60 from the forecast: CRITICAL beyond that.
        assert_eq!(classify(160.0, 100.0, i80, i95), Some(Severity::High));
        assert_eq!(classify(161.0, 100.0, i80, i95), Some(Severity::Critical));
        assert_eq!(classify(39.0, 100.0, i80, i95), Some(Severity::Critical));
        assert_eq!(classify(69.0, 100.0, i80, i95), Some(Severity::High));
        assert!(Severity::High.is_raised() && !Severity::Info.is_raised());
    }

    fn seasonal(months: usize) -> Vec<f64> {
        (0..months)
            .map(|t| {
                100.0
                    + 10.0 * ((t % 12) as f64)
                    + (t as f64) * 0.5
                    + if t % 3 == 0 { 3.0 } else { -1.5 }
            })
            .collect()
    }

    #[test]
    fn forecast_intervals_nest_around_the_mean() {
        let y = seasonal(36);
        let f = forecast_monthly(&y, 3).expect("a forecast");
        assert_eq!(f.mean.len(), 3);
        for i in 0..3 {
            assert!(f.lower_95[i] <= f.lower_80[i] && f.lower_80[i] <= f.mean[i]);
            assert!(f.mean[i] <= f.upper_80[i] && f.upper_80[i] <= f.upper_95[i]);
        }
        // The seasonal shape is followed: month 36 is a January-like low, 37 higher.
        assert!(f.mean[1] > f.mean[0]);
        assert!(forecast_monthly(&y[..3], 3).is_none());
    }

    #[test]
    fn a_spike_in_the_last_month_is_flagged_and_normal_months_are_not() {
        let mut y = seasonal(36);
        let normal = backtest(&y, 1);
        assert_eq!(normal.len(), 1);
        assert!(
            !normal[0].severity.is_some_and(Severity::is_raised),
            "{normal:?}"
        );
        y[35] *= 3.0;
        let spike = backtest(&y, 1);
        assert_eq!(spike[0].index, 35);
        assert_eq!(spike[0].severity, Some(Severity::Critical));
        assert!(spike[0].deviation > 0.0);
    }

    #[test]
    fn negative_forecasts_of_demand_are_clipped() {
        let y = [50.0, 20.0, 5.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let f = forecast_monthly(&y, 2).expect("a forecast");
        assert!(f.lower_95.iter().chain(&f.mean).all(|v| *v >= 0.0));
    }
}
