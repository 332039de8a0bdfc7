//! Meridian's in-house analytics: forecasting, anomaly detection, sentiment and text
//! classification.
//!
//! Everything here is a pure function over plain slices: no I/O, no database, no
//! async, so that the server modules, the CLI and the MCP tools all call the same code
//! and the benchmarks in `bench/` measure exactly what users get.
//!
//! Contract kept by every public function: bad input (empty, too short, NaN or
//! infinite values, nonsense parameters) is an [`InsightError`], and no NaN or
//! infinity ever comes out.

#![warn(missing_docs)]

pub mod anomaly;
pub mod forecast;
mod nm;
pub mod season;
pub mod sentiment;
pub mod text_classifier;
mod util;

pub use forecast::{Forecast, ForecastSpec, Interval, ModelChoice, forecast};

/// Why an insight function refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InsightError {
    /// The series has no values at all.
    #[error("the series is empty")]
    Empty,
    /// A value is NaN or infinite; `index` is its 0-based position.
    #[error("value at position {index} is not a finite number")]
    NonFinite {
        /// 0-based position of the offending value.
        index: usize,
    },
    /// The series is shorter than the method needs.
    #[error("the series has {got} values but {method} needs at least {need}")]
    TooShort {
        /// Method that refused.
        method: &'static str,
        /// Minimum length it needs.
        need: usize,
        /// Length it got.
        got: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name as the caller knows it.
        name: &'static str,
        /// Human-readable explanation.
        reason: String,
    },
    /// A numerical procedure could not produce finite output (should be rare: the
    /// callers fall back to simpler models before surfacing this).
    #[error("{0} produced no finite result")]
    Numerical(&'static str),
}

/// Checks that `y` is non-empty and entirely finite.
pub(crate) fn check_finite(y: &[f64]) -> Result<(), InsightError> {
    if y.is_empty() {
        return Err(InsightError::Empty);
    }
    match y.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(InsightError::NonFinite { index }),
        None => Ok(()),
    }
}
