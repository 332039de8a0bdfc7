//! Exponential smoothing state-space models (ETS) with automatic selection by AICc.
//!
//! Follows Hyndman, Koehler, Ord & Snyder (2008) and the `forecast::ets` /
//! statsforecast `AutoETS` recipe: errors A/M, trend N/A/Ad, season N/A/M, the
//! "usual" parameter region, AICc selection, and the same state updates for both
//! error types (the error type changes only the likelihood and the intervals).
//!
//! Written here because augurs-ets (0.10) does not implement seasonal models.
//! Difference from `forecast::ets`, made for speed: the initial seasonal states come
//! from a classical decomposition of the first seasons and are not re-optimised
//! (they still count as parameters in the AICc); level, trend and smoothing
//! parameters are optimised by Nelder-Mead on the likelihood.

use super::{Forecast, Interval, finite_or};
use crate::nm::NelderMead;
use crate::season::seasonal_indices;
use crate::util::{SplitMix64, linear_fit, mean, norm_ppf, quantile_sorted};
use crate::{InsightError, check_finite};

/// Error component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Additive errors.
    Additive,
    /// Multiplicative (relative) errors.
    Multiplicative,
}

/// Trend component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendType {
    /// No trend.
    None,
    /// Additive (linear) trend.
    Additive,
    /// Additive damped trend.
    Damped,
}

/// Seasonal component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeasonType {
    /// No seasonality.
    None,
    /// Additive seasonality.
    Additive,
    /// Multiplicative seasonality.
    Multiplicative,
}

/// One ETS model structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtsSpec {
    /// Error type.
    pub error: ErrorType,
    /// Trend type.
    pub trend: TrendType,
    /// Season type.
    pub season: SeasonType,
    /// Season length (1 when `season` is `None`).
    pub period: usize,
}

impl EtsSpec {
    /// Short name in the usual notation, e.g. `ETS(M,Ad,M)`.
    pub fn name(&self) -> String {
        let e = match self.error {
            ErrorType::Additive => "A",
            ErrorType::Multiplicative => "M",
        };
        let t = match self.trend {
            TrendType::None => "N",
            TrendType::Additive => "A",
            TrendType::Damped => "Ad",
        };
        let s = match self.season {
            SeasonType::None => "N",
            SeasonType::Additive => "A",
            SeasonType::Multiplicative => "M",
        };
        format!("ETS({e},{t},{s})")
    }
}

/// A fitted ETS model: parameters, final states and fit statistics.
#[derive(Debug, Clone)]
pub struct EtsFit {
    /// Model structure.
    pub spec: EtsSpec,
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing (state-space β, ≤ α).
    pub beta: f64,
    /// Season smoothing (≤ 1 − α).
    pub gamma: f64,
    /// Damping (1 when undamped).
    pub phi: f64,
    level: f64,
    slope: f64,
    /// Ring buffer: factor for time t is `seas[t % m]`.
    seas: Vec<f64>,
    n: usize,
    /// Innovation variance (relative for multiplicative errors).
    pub sigma2: f64,
    /// Corrected Akaike information criterion.
    pub aicc: f64,
}

#[derive(Clone, Copy)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    l0: f64,
    b0: f64,
    /// β/α, precomputed: the trend update needs it every step.
    beta_over_alpha: f64,
}

const LO: f64 = 1e-4;
const HI: f64 = 0.9999;
const PHI_LO: f64 = 0.8;
const PHI_HI: f64 = 0.98;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// One-step point forecast from the states, for time `t`.
#[inline]
fn one_step(spec: &EtsSpec, p: &Params, l: f64, b: f64, s: f64) -> (f64, f64) {
    let q = match spec.trend {
        TrendType::None => l,
        TrendType::Additive => l + b,
        TrendType::Damped => l + p.phi * b,
    };
    let f = match spec.season {
        SeasonType::None => q,
        SeasonType::Additive => q + s,
        SeasonType::Multiplicative => q * s,
    };
    (q, f)
}

/// State update after observing `y` at a step whose seasonal factor was `s`.
/// Returns (new level, new slope, new seasonal factor).
#[inline]
fn update(spec: &EtsSpec, p: &Params, l: f64, b: f64, s: f64, q: f64, y: f64) -> (f64, f64, f64) {
    let deseason = match spec.season {
        SeasonType::None => y,
        SeasonType::Additive => y - s,
        SeasonType::Multiplicative => y / s,
    };
    let nl = q + p.alpha * (deseason - q);
    let phib = match spec.trend {
        TrendType::None => 0.0,
        TrendType::Additive => b,
        TrendType::Damped => p.phi * b,
    };
    let nb = match spec.trend {
        TrendType::None => 0.0,
        _ => phib + p.beta_over_alpha * (nl - l - phib),
    };
    let ns = match spec.season {
        SeasonType::None => s,
        SeasonType::Additive => s + p.gamma * (y - q - s),
        SeasonType::Multiplicative => s + p.gamma * (y / q - s),
    };
    (nl, nb, ns)
}

/// Result of one pass of the filter.
struct Run {
    /// −2 log-likelihood up to a constant.
    lik: f64,
    /// Sum of squared (relative, for multiplicative errors) one-step errors.
    sse: f64,
    level: f64,
    slope: f64,
}

/// Signature of the specialised filters (see [`filter`]).
type FilterFn = fn(&Params, &[f64], &mut [f64], &mut [f64]) -> Option<Run>;

/// Runs the filter from the states in `p` and the seasonal states in `seas` (one per
/// phase; `[0.0]` without season), leaving the final seasonal states in `seas`.
/// `None` when a forecast or level reaches zero where it divides. `inv` is scratch of
/// the length of `seas` (the reciprocals of a multiplicative season's states).
///
/// Specialised at compile time on the structure (multiplicative error `ME`, trend
/// `TR`, season `SE`: 0 none, 1 additive, 2 multiplicative) because this loop is
/// where AutoETS spends nearly all its time: no branch on the structure per step and
/// the season walked in whole cycles (no index wrapping). The loop is bound by the
/// latency of the state recursion, not by arithmetic, so it is written on the
/// one-step forecast q = l + φb instead of the level: with d the seasonally adjusted
/// observation and c = α + φβ,
///   q' = (1 − c)·q + (c·d + φ²·b),   b' = φ·b + β·(d − q),   l' = q + α·(d − q),
/// which is the same model (l' + φb' = q'), but the chain from q to q' is one
/// multiply and one add; the divisions of the multiplicative parts feed only the
/// errors and the seasonal states, off that chain. (A multiplicative season keeps its
/// states' reciprocals, each computed a whole cycle before it is needed: otherwise
/// the compiler packs y/s with y/q into one vector division, and y/q waits for q.)
#[inline(always)]
fn filter<const ME: bool, const TR: bool, const SE: u8>(
    p: &Params,
    y: &[f64],
    seas: &mut [f64],
    inv: &mut [f64],
) -> Option<Run> {
    let (alpha, gamma) = (p.alpha, p.gamma);
    if SE == 2 {
        for (i, s) in inv.iter_mut().zip(seas.iter()) {
            *i = 1.0 / *s;
        }
    }
    let (phi, beta) = if TR { (p.phi, p.beta) } else { (0.0, 0.0) };
    let c = alpha + phi * beta;
    let one_c = 1.0 - c;
    let phi2 = phi * phi;
    let mut b = if TR { p.b0 } else { 0.0 };
    let mut q = p.l0 + phi * b;
    let mut l = p.l0;
    let mut sse = 0.0;
    let mut logf = 0.0;
    // Σ ln|f| as the ln of a running product, taken only when the product leaves
    // [1e-140, 1e140] (checked every ≤ 16 steps; each |f| ≥ 1e-10, so no underflow in
    // between) and at the end: a logarithm per step was a third of the fit time.
    let mut prod = 1.0f64;
    let cycle = if SE == 0 { 16 } else { seas.len() };
    for ys in y.chunks(cycle) {
        let ss: &mut [f64] = if SE == 0 {
            &mut []
        } else {
            &mut seas[..ys.len()]
        };
        let is: &mut [f64] = if SE == 2 {
            &mut inv[..ys.len()]
        } else {
            &mut []
        };
        for (k, yb) in ys.chunks(16).enumerate() {
            for (j, &yt) in yb.iter().enumerate() {
                let d;
                let e;
                if SE == 0 {
                    d = yt;
                    e = if ME {
                        if q.abs() < 1e-10 {
                            return None;
                        }
                        prod *= q.abs();
                        (yt - q) / q
                    } else {
                        yt - q
                    };
                } else {
                    let s = &mut ss[16 * k + j];
                    if SE == 1 {
                        d = yt - *s;
                        let ad = d - q;
                        e = if ME {
                            let f = q + *s;
                            if f.abs() < 1e-10 {
                                return None;
                            }
                            prod *= f.abs();
                            ad / f
                        } else {
                            ad
                        };
                        *s += gamma * ad;
                    } else {
                        let f = q * *s;
                        if q.abs() < 1e-10 || (ME && f.abs() < 1e-10) {
                            return None;
                        }
                        let inv_s = &mut is[16 * k + j];
                        d = yt * *inv_s;
                        let yq = yt / q;
                        e = if ME {
                            prod *= f.abs();
                            yq * *inv_s - 1.0
                        } else {
                            yt - f
                        };
                        *s += gamma * (yq - *s);
                        *inv_s = 1.0 / *s;
                    }
                }
                sse += e * e;
                let dq = d - q;
                l = q + alpha * dq;
                if TR {
                    let nq = one_c * q + (c * d + phi2 * b);
                    b = phi * b + beta * dq;
                    q = nq;
                } else {
                    q = one_c * q + c * d;
                }
            }
            if ME && !(1e-140..=1e140).contains(&prod) {
                logf += prod.ln();
                prod = 1.0;
            }
        }
    }
    if ME {
        logf += prod.ln();
    }
    let n = y.len() as f64;
    let lik = n * (sse.max(1e-300)).ln() + 2.0 * logf;
    if !lik.is_finite() || !l.is_finite() || !b.is_finite() {
        return None;
    }
    Some(Run {
        lik,
        sse,
        level: l,
        slope: b,
    })
}

/// The filter specialised for `spec`.
fn filter_for(spec: &EtsSpec) -> FilterFn {
    let me = spec.error == ErrorType::Multiplicative;
    let tr = spec.trend != TrendType::None;
    match (me, tr, spec.season) {
        (false, false, SeasonType::None) => filter::<false, false, 0>,
        (false, false, SeasonType::Additive) => filter::<false, false, 1>,
        (false, false, SeasonType::Multiplicative) => filter::<false, false, 2>,
        (false, true, SeasonType::None) => filter::<false, true, 0>,
        (false, true, SeasonType::Additive) => filter::<false, true, 1>,
        (false, true, SeasonType::Multiplicative) => filter::<false, true, 2>,
        (true, false, SeasonType::None) => filter::<true, false, 0>,
        (true, false, SeasonType::Additive) => filter::<true, false, 1>,
        (true, false, SeasonType::Multiplicative) => filter::<true, false, 2>,
        (true, true, SeasonType::None) => filter::<true, true, 0>,
        (true, true, SeasonType::Additive) => filter::<true, true, 1>,
        (true, true, SeasonType::Multiplicative) => filter::<true, true, 2>,
    }
}

struct Layout {
    has_trend: bool,
    has_season: bool,
    damped: bool,
}

impl Layout {
    fn decode(&self, x: &[f64], l0: f64, b0: f64, scale: f64) -> Params {
        let mut i = 0;
        let alpha = LO + (HI - LO) * sigmoid(x[i]);
        i += 1;
        let beta = if self.has_trend {
            i += 1;
            LO + (alpha - LO).max(0.0) * sigmoid(x[i - 1])
        } else {
            0.0
        };
        let gamma = if self.has_season {
            i += 1;
            LO + (1.0 - alpha - LO).max(0.0) * sigmoid(x[i - 1])
        } else {
            0.0
        };
        let phi = if self.damped {
            i += 1;
            PHI_LO + (PHI_HI - PHI_LO) * sigmoid(x[i - 1])
        } else {
            1.0
        };
        let l = l0 + scale * x[i];
        i += 1;
        let b = if self.has_trend {
            b0 + 0.1 * scale * x[i]
        } else {
            0.0
        };
        Params {
            alpha,
            beta,
            gamma,
            phi,
            l0: l,
            b0: b,
            beta_over_alpha: beta / alpha,
        }
    }
}

/// One structure's fitting problem: everything the optimisation needs.
struct Problem<'a> {
    y: &'a [f64],
    spec: EtsSpec,
    n_par: usize,
    layout: Layout,
    l0: f64,
    b0: f64,
    scale: f64,
    seas_init: Vec<f64>,
    x0: Vec<f64>,
    step: Vec<f64>,
    run: FilterFn,
}

/// Fits one ETS model of structure `spec` to `y`.
pub fn fit_ets(y: &[f64], spec: EtsSpec) -> Result<EtsFit, InsightError> {
    let pb = Problem::new(y, spec)?;
    let mut nm = pb.optimiser();
    let mut scratch = pb.scratch();
    while let Some(x) = nm.ask() {
        let v = pb.lik(x, &mut scratch);
        nm.tell(v);
    }
    pb.finish(nm.best())
}

/// Seasonal states and their reciprocals, working copies for one filter pass.
type Scratch = (Vec<f64>, Vec<f64>);

impl<'a> Problem<'a> {
    fn new(y: &'a [f64], spec: EtsSpec) -> Result<Self, InsightError> {
        check_finite(y)?;
        let n = y.len();
        let has_season = spec.season != SeasonType::None;
        let m = if has_season { spec.period } else { 1 };
        if has_season && m < 2 {
            return Err(InsightError::InvalidParameter {
                name: "season_length",
                reason: "a seasonal model needs a season length of at least 2".into(),
            });
        }
        let mult =
            spec.error == ErrorType::Multiplicative || spec.season == SeasonType::Multiplicative;
        if mult && y.iter().any(|&v| v <= 0.0) {
            return Err(InsightError::InvalidParameter {
                name: "y",
                reason: "multiplicative components need strictly positive data".into(),
            });
        }
        let has_trend = spec.trend != TrendType::None;
        let damped = spec.trend == TrendType::Damped;
        let n_smooth = 1 + usize::from(has_trend) + usize::from(has_season) + usize::from(damped);
        let n_states = 1 + usize::from(has_trend) + if has_season { m - 1 } else { 0 };
        let n_par = n_smooth + n_states + 1;
        let min_n = if has_season {
            (2 * m).max(n_par + 2)
        } else {
            n_par + 2
        };
        if n < min_n.max(3) {
            return Err(InsightError::TooShort {
                method: "ETS",
                need: min_n.max(3),
                got: n,
            });
        }

        // Heuristic initial states as forecast::ets' initstate: decomposition of the first
        // seasons, then a line through the first seasonally adjusted values.
        let seas0: Vec<f64> = if has_season {
            let head = &y[..n.min(3 * m).max(2 * m)];
            seasonal_indices(head, m, spec.season == SeasonType::Multiplicative)?
        } else {
            vec![0.0]
        };
        let maxn = n.min(10.max(2 * m));
        let sa: Vec<f64> = (0..maxn)
            .map(|t| match spec.season {
                SeasonType::None => y[t],
                SeasonType::Additive => y[t] - seas0[t % m],
                SeasonType::Multiplicative => y[t] / seas0[t % m],
            })
            .collect();
        let (l0, b0) = if has_trend {
            let (a, b) = linear_fit(&sa);
            (a, b)
        } else {
            (mean(&sa), 0.0)
        };
        let scale = {
            // (the mean once, not once per value: this was 15% of an AutoETS run)
            let my = mean(y);
            let s = y.iter().map(|v| (v - my).abs()).sum::<f64>() / n as f64;
            if s > 0.0 {
                s
            } else {
                my.abs().max(1e-12) * 1e-3
            }
        };
        let layout = Layout {
            has_trend,
            has_season,
            damped,
        };
        let mut x0 = vec![logit((0.2 - LO) / (HI - LO))];
        let mut step = vec![1.0];
        if has_trend {
            x0.push(logit(0.1));
            step.push(1.0);
        }
        if has_season {
            x0.push(logit(0.05));
            step.push(1.0);
        }
        if damped {
            x0.push(logit((0.97 - PHI_LO) / (PHI_HI - PHI_LO)));
            step.push(1.0);
        }
        x0.push(0.0);
        step.push(0.2);
        if has_trend {
            x0.push(0.0);
            step.push(0.2);
        }
        let seas_init = if has_season { seas0 } else { vec![0.0] };
        Ok(Problem {
            y,
            spec,
            n_par,
            layout,
            l0,
            b0,
            scale,
            seas_init,
            x0,
            step,
            run: filter_for(&spec),
        })
    }

    fn params(&self, x: &[f64]) -> Params {
        self.layout.decode(x, self.l0, self.b0, self.scale)
    }

    fn scratch(&self) -> Scratch {
        (self.seas_init.clone(), self.seas_init.clone())
    }

    /// −2 log L at optimiser coordinates `x` (`f64::MAX` where the filter fails).
    fn lik(&self, x: &[f64], (buf, inv): &mut Scratch) -> f64 {
        buf.copy_from_slice(&self.seas_init);
        match (self.run)(&self.params(x), self.y, buf, inv) {
            Some(r) => r.lik,
            None => f64::MAX,
        }
    }

    fn optimiser(&self) -> NelderMead {
        // Relative tolerance 1e-5 on −2 log L: 1e-6 cost 1.5x the evaluations and moved
        // the summed AICc of the tourism selections by < 0.04 per series.
        NelderMead::new(&self.x0, &self.step, 120 * self.x0.len() + 100, 1e-5)
    }

    /// The fit at the optimum `(xb, fb)`: final states, σ², AICc.
    fn finish(&self, (xb, fb): (Vec<f64>, f64)) -> Result<EtsFit, InsightError> {
        let (y, spec, n_par) = (self.y, self.spec, self.n_par);
        let n = y.len();
        if fb >= f64::MAX {
            return Err(InsightError::Numerical("ETS fit"));
        }
        let p = self.params(&xb);
        // Re-run the filter once to get the final states.
        let mut seas = self.seas_init.clone();
        let mut inv = self.seas_init.clone();
        let Some(Run {
            lik,
            sse,
            level: l,
            slope: b,
        }) = (self.run)(&p, y, &mut seas, &mut inv)
        else {
            return Err(InsightError::Numerical("ETS fit"));
        };
        let nf = n as f64;
        let k = n_par as f64;
        let aic = lik + 2.0 * k;
        let aicc = if nf - k - 1.0 > 0.0 {
            aic + 2.0 * k * (k + 1.0) / (nf - k - 1.0)
        } else {
            f64::INFINITY
        };
        let dof = if n > n_par { (n - n_par) as f64 } else { nf };
        let sigma2 = sse / dof;
        if !(l.is_finite()
            && b.is_finite()
            && sigma2.is_finite()
            && seas.iter().all(|v| v.is_finite()))
        {
            return Err(InsightError::Numerical("ETS fit"));
        }
        Ok(EtsFit {
            spec,
            alpha: p.alpha,
            beta: p.beta,
            gamma: p.gamma,
            phi: p.phi,
            level: l,
            slope: b,
            seas,
            n,
            sigma2,
            aicc: if aicc.is_finite() { aicc } else { f64::MAX },
        })
    }
}

impl EtsFit {
    fn params(&self) -> Params {
        Params {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
            l0: 0.0,
            b0: 0.0,
            beta_over_alpha: self.beta / self.alpha,
        }
    }

    /// Point forecasts for `h` steps (the conditional mean for linear models, the
    /// point forecast of the state equations otherwise, as `forecast::ets`).
    pub fn point(&self, h: usize) -> Vec<f64> {
        let m = self.seas.len();
        let mut out = Vec::with_capacity(h);
        let mut damp_sum = 0.0;
        let mut phi_pow = 1.0;
        for i in 1..=h {
            let trend = match self.spec.trend {
                TrendType::None => 0.0,
                TrendType::Additive => i as f64 * self.slope,
                TrendType::Damped => {
                    phi_pow *= self.phi;
                    damp_sum += phi_pow;
                    damp_sum * self.slope
                }
            };
            let q = self.level + trend;
            let s = self.seas[(self.n + i - 1) % m];
            out.push(match self.spec.season {
                SeasonType::None => q,
                SeasonType::Additive => q + s,
                SeasonType::Multiplicative => q * s,
            });
        }
        out
    }

    /// Forecast with intervals at `levels` (percent, e.g. 80 and 95).
    ///
    /// Linear models (additive error, no multiplicative season) use the exact
    /// class-1 variance formula; the others use 1,000 simulated paths from a fixed
    /// seed, so the same input always gives the same intervals.
    pub fn forecast(&self, h: usize, levels: &[f64]) -> Forecast {
        let mean = self.point(h);
        let linear = self.spec.error == ErrorType::Additive
            && self.spec.season != SeasonType::Multiplicative;
        let intervals = if linear {
            let mut var = Vec::with_capacity(h);
            let mut acc = 0.0;
            let mut damp_sum = 0.0;
            let mut phi_pow = 1.0;
            for j in 0..h {
                var.push(self.sigma2 * (1.0 + acc));
                // c_{j+1} for the next horizon's variance
                let jj = j + 1;
                let mut c = self.alpha;
                match self.spec.trend {
                    TrendType::None => {}
                    TrendType::Additive => c += self.beta * jj as f64,
                    TrendType::Damped => {
                        phi_pow *= self.phi;
                        damp_sum += phi_pow;
                        c += self.beta * damp_sum;
                    }
                }
                if self.spec.season == SeasonType::Additive && jj % self.seas.len() == 0 {
                    c += self.gamma;
                }
                acc += c * c;
            }
            levels
                .iter()
                .map(|&lv| {
                    let z = norm_ppf(0.5 + lv / 200.0);
                    Interval {
                        level: lv,
                        lower: mean
                            .iter()
                            .zip(&var)
                            .map(|(m, v)| m - z * v.max(0.0).sqrt())
                            .collect(),
                        upper: mean
                            .iter()
                            .zip(&var)
                            .map(|(m, v)| m + z * v.max(0.0).sqrt())
                            .collect(),
                    }
                })
                .collect()
        } else {
            self.simulate(h, levels, &mean)
        };
        let mut f = Forecast {
            model: "ETS".into(),
            mean,
            intervals,
        };
        finite_or(&mut f);
        f
    }

    fn simulate(&self, h: usize, levels: &[f64], mean: &[f64]) -> Vec<Interval> {
        const PATHS: usize = 1000;
        let p = self.params();
        let sigma = self.sigma2.max(0.0).sqrt();
        let m = self.seas.len();
        let mut rng = SplitMix64::new(0x05EE_DE75);
        let mut sims = vec![vec![0.0; PATHS]; h];
        let mut seas = self.seas.clone();
        for path in 0..PATHS {
            seas.copy_from_slice(&self.seas);
            let (mut l, mut b) = (self.level, self.slope);
            for (i, row) in sims.iter_mut().enumerate() {
                let si = (self.n + i) % m;
                let s = seas[si];
                let (q, f) = one_step(&self.spec, &p, l, b, s);
                let e = sigma * rng.normal();
                let y = match self.spec.error {
                    ErrorType::Additive => f + e,
                    ErrorType::Multiplicative => f * (1.0 + e),
                };
                row[path] = y;
                if self.spec.season == SeasonType::Multiplicative && q.abs() < 1e-10 {
                    continue;
                }
                let (nl, nb, ns) = update(&self.spec, &p, l, b, s, q, y);
                l = nl;
                b = nb;
                seas[si] = ns;
            }
        }
        for row in &mut sims {
            row.sort_by(f64::total_cmp);
        }
        levels
            .iter()
            .map(|&lv| {
                let a = (1.0 - lv / 100.0) / 2.0;
                // The simulated quantiles are centred on the point forecast so that a
                // zero-variance model gives zero-width intervals exactly.
                let lower = sims
                    .iter()
                    .zip(mean)
                    .map(|(r, mu)| mu.min(quantile_sorted(r, a)))
                    .collect();
                let upper = sims
                    .iter()
                    .zip(mean)
                    .map(|(r, mu)| mu.max(quantile_sorted(r, 1.0 - a)))
                    .collect();
                Interval {
                    level: lv,
                    lower,
                    upper,
                }
            })
            .collect()
    }
}

/// Two filters in one pass: additive errors with parameters `pa` and multiplicative
/// errors with `pm`, same trend and (non-multiplicative) season, each lane doing
/// exactly the arithmetic of [`filter`]. Each lane's recursion is a chain of
/// dependent operations that leaves the processor mostly idle; interleaving two
/// independent chains costs little more than one. Returns the two −2 log L
/// (`f64::MAX` where [`filter`] would give `None`).
#[inline(always)]
fn filter_pair<const TR: bool, const SE: u8>(
    pa: &Params,
    pm: &Params,
    y: &[f64],
    (sa, _): &mut Scratch,
    (sm, _): &mut Scratch,
) -> (f64, f64) {
    let n = y.len() as f64;
    let (alpha_a, gamma_a) = (pa.alpha, pa.gamma);
    let (phi_a, beta_a) = if TR { (pa.phi, pa.beta) } else { (0.0, 0.0) };
    let c_a = alpha_a + phi_a * beta_a;
    let one_c_a = 1.0 - c_a;
    let phi2_a = phi_a * phi_a;
    let mut b_a = if TR { pa.b0 } else { 0.0 };
    let mut q_a = pa.l0 + phi_a * b_a;
    let mut l_a = pa.l0;
    let mut sse_a = 0.0;

    let (alpha_m, gamma_m) = (pm.alpha, pm.gamma);
    let (phi_m, beta_m) = if TR { (pm.phi, pm.beta) } else { (0.0, 0.0) };
    let c_m = alpha_m + phi_m * beta_m;
    let one_c_m = 1.0 - c_m;
    let phi2_m = phi_m * phi_m;
    let mut b_m = if TR { pm.b0 } else { 0.0 };
    let mut q_m = pm.l0 + phi_m * b_m;
    let mut l_m = pm.l0;
    let mut sse_m = 0.0;
    let mut logf = 0.0;
    let mut prod = 1.0f64;
    let mut ok_m = true;

    let cycle = if SE == 0 { 16 } else { sa.len() };
    for ys in y.chunks(cycle) {
        let (ssa, ssm): (&mut [f64], &mut [f64]) = if SE == 0 {
            (&mut [], &mut [])
        } else {
            (&mut sa[..ys.len()], &mut sm[..ys.len()])
        };
        for (k, yb) in ys.chunks(16).enumerate() {
            for (j, &yt) in yb.iter().enumerate() {
                // additive-error lane
                let d;
                let e;
                if SE == 0 {
                    d = yt;
                    e = yt - q_a;
                } else {
                    let s = &mut ssa[16 * k + j];
                    d = yt - *s;
                    let ad = d - q_a;
                    e = ad;
                    *s += gamma_a * ad;
                }
                sse_a += e * e;
                let dq = d - q_a;
                l_a = q_a + alpha_a * dq;
                if TR {
                    let nq = one_c_a * q_a + (c_a * d + phi2_a * b_a);
                    b_a = phi_a * b_a + beta_a * dq;
                    q_a = nq;
                } else {
                    q_a = one_c_a * q_a + c_a * d;
                }

                // multiplicative-error lane
                let d;
                let e;
                if SE == 0 {
                    d = yt;
                    if q_m.abs() < 1e-10 {
                        ok_m = false;
                    }
                    prod *= q_m.abs();
                    e = (yt - q_m) / q_m;
                } else {
                    let s = &mut ssm[16 * k + j];
                    d = yt - *s;
                    let ad = d - q_m;
                    let f = q_m + *s;
                    if f.abs() < 1e-10 {
                        ok_m = false;
                    }
                    prod *= f.abs();
                    e = ad / f;
                    *s += gamma_m * ad;
                }
                sse_m += e * e;
                let dq = d - q_m;
                l_m = q_m + alpha_m * dq;
                if TR {
                    let nq = one_c_m * q_m + (c_m * d + phi2_m * b_m);
                    b_m = phi_m * b_m + beta_m * dq;
                    q_m = nq;
                } else {
                    q_m = one_c_m * q_m + c_m * d;
                }
            }
            if !(1e-140..=1e140).contains(&prod) {
                logf += prod.ln();
                prod = 1.0;
            }
        }
    }
    logf += prod.ln();
    let lik_a = n * (sse_a.max(1e-300)).ln() + 2.0 * 0.0;
    let lik_m = n * (sse_m.max(1e-300)).ln() + 2.0 * logf;
    let fine = |lik: f64, l: f64, b: f64| lik.is_finite() && l.is_finite() && b.is_finite();
    (
        if fine(lik_a, l_a, b_a) {
            lik_a
        } else {
            f64::MAX
        },
        if ok_m && fine(lik_m, l_m, b_m) {
            lik_m
        } else {
            f64::MAX
        },
    )
}

/// Signature of the paired filters (see [`filter_pair`]).
type PairFn = fn(&Params, &Params, &[f64], &mut Scratch, &mut Scratch) -> (f64, f64);

/// As [`filter_pair`] for ETS(M,A,M) and ETS(M,Ad,M): two multiplicative-error,
/// multiplicative-season lanes, each doing exactly the arithmetic of [`filter`].
fn filter_pair_mm(
    pa: &Params,
    pb: &Params,
    y: &[f64],
    (sa, ia): &mut Scratch,
    (sb, ib): &mut Scratch,
) -> (f64, f64) {
    struct L {
        alpha: f64,
        gamma: f64,
        phi: f64,
        beta: f64,
        c: f64,
        one_c: f64,
        phi2: f64,
        q: f64,
        b: f64,
        l: f64,
        sse: f64,
        logf: f64,
        prod: f64,
        ok: bool,
    }
    let start = |p: &Params| {
        let c = p.alpha + p.phi * p.beta;
        L {
            alpha: p.alpha,
            gamma: p.gamma,
            phi: p.phi,
            beta: p.beta,
            c,
            one_c: 1.0 - c,
            phi2: p.phi * p.phi,
            q: p.l0 + p.phi * p.b0,
            b: p.b0,
            l: p.l0,
            sse: 0.0,
            logf: 0.0,
            prod: 1.0,
            ok: true,
        }
    };
    #[inline(always)]
    fn step(z: &mut L, yt: f64, s: &mut f64, inv: &mut f64) {
        let q = z.q;
        let f = q * *s;
        if q.abs() < 1e-10 || f.abs() < 1e-10 {
            z.ok = false;
        }
        let d = yt * *inv;
        let yq = yt / q;
        z.prod *= f.abs();
        let e = yq * *inv - 1.0;
        *s += z.gamma * (yq - *s);
        *inv = 1.0 / *s;
        z.sse += e * e;
        let dq = d - q;
        z.l = q + z.alpha * dq;
        let nq = z.one_c * q + (z.c * d + z.phi2 * z.b);
        z.b = z.phi * z.b + z.beta * dq;
        z.q = nq;
    }
    let (mut la, mut lb) = (start(pa), start(pb));
    for (i, s) in ia.iter_mut().zip(sa.iter()) {
        *i = 1.0 / *s;
    }
    for (i, s) in ib.iter_mut().zip(sb.iter()) {
        *i = 1.0 / *s;
    }
    let m = sa.len();
    for ys in y.chunks(m) {
        let (sa, ia, sb, ib) = (
            &mut sa[..ys.len()],
            &mut ia[..ys.len()],
            &mut sb[..ys.len()],
            &mut ib[..ys.len()],
        );
        for (k, yb) in ys.chunks(16).enumerate() {
            for (j, &yt) in yb.iter().enumerate() {
                let t = 16 * k + j;
                step(&mut la, yt, &mut sa[t], &mut ia[t]);
                step(&mut lb, yt, &mut sb[t], &mut ib[t]);
            }
            for z in [&mut la, &mut lb] {
                if !(1e-140..=1e140).contains(&z.prod) {
                    z.logf += z.prod.ln();
                    z.prod = 1.0;
                }
            }
        }
    }
    let n = y.len() as f64;
    let lik = |z: L| {
        let logf = z.logf + z.prod.ln();
        let lik = n * (z.sse.max(1e-300)).ln() + 2.0 * logf;
        if z.ok && lik.is_finite() && z.l.is_finite() && z.b.is_finite() {
            lik
        } else {
            f64::MAX
        }
    };
    (lik(la), lik(lb))
}

/// Fits two structures together: two Nelder-Mead searches in lockstep, their trial
/// points evaluated in one paired pass (`pair`) while both run. Each search takes
/// exactly the path it takes alone, so the fits are those of two calls of
/// [`fit_ets`].
fn fit_two(
    y: &[f64],
    a: EtsSpec,
    b: EtsSpec,
    pair: PairFn,
) -> (Result<EtsFit, InsightError>, Result<EtsFit, InsightError>) {
    let (pa, pm) = match (Problem::new(y, a), Problem::new(y, b)) {
        (Ok(a), Ok(m)) => (a, m),
        (a, m) => {
            let solo = |pb: Result<Problem, InsightError>| {
                pb.and_then(|pb| {
                    let mut nm = pb.optimiser();
                    let mut scratch = pb.scratch();
                    while let Some(x) = nm.ask() {
                        let v = pb.lik(x, &mut scratch);
                        nm.tell(v);
                    }
                    pb.finish(nm.best())
                })
            };
            return (solo(a), solo(m));
        }
    };
    let (mut na, mut nm) = (pa.optimiser(), pm.optimiser());
    let (mut sc_a, mut sc_m) = (pa.scratch(), pm.scratch());
    loop {
        let xa = na.ask().map(|x| pa.params(x));
        let xm = nm.ask().map(|x| pm.params(x));
        match (xa, xm) {
            (Some(p_a), Some(p_m)) => {
                sc_a.0.copy_from_slice(&pa.seas_init);
                sc_m.0.copy_from_slice(&pm.seas_init);
                let (va, vm) = pair(&p_a, &p_m, y, &mut sc_a, &mut sc_m);
                na.tell(va);
                nm.tell(vm);
            }
            (Some(_), None) => {
                let v = na.ask().map_or(f64::MAX, |x| pa.lik(x, &mut sc_a));
                na.tell(v);
            }
            (None, Some(_)) => {
                let v = nm.ask().map_or(f64::MAX, |x| pm.lik(x, &mut sc_m));
                nm.tell(v);
            }
            (None, None) => break,
        }
    }
    (pa.finish(na.best()), pm.finish(nm.best()))
}

/// Candidate structures as statsforecast's AutoETS "ZZZ" with the default
/// restrictions: no multiplicative trend, no additive error with multiplicative
/// season, multiplicative parts only for positive data, seasonal parts only when at
/// least two seasons are observed.
fn candidates(y: &[f64], m: usize) -> Vec<EtsSpec> {
    let positive = y.iter().all(|&v| v > 0.0);
    let seasonal = m >= 2 && y.len() >= 2 * m;
    let mut out = Vec::new();
    for error in [ErrorType::Additive, ErrorType::Multiplicative] {
        if error == ErrorType::Multiplicative && !positive {
            continue;
        }
        for trend in [TrendType::None, TrendType::Additive, TrendType::Damped] {
            for season in [
                SeasonType::None,
                SeasonType::Additive,
                SeasonType::Multiplicative,
            ] {
                if season != SeasonType::None && !seasonal {
                    continue;
                }
                if season == SeasonType::Multiplicative
                    && (!positive || error == ErrorType::Additive)
                {
                    continue;
                }
                out.push(EtsSpec {
                    error,
                    trend,
                    season,
                    period: if season == SeasonType::None { 1 } else { m },
                });
            }
        }
    }
    out
}

/// Fits every admissible ETS structure and returns the one with the lowest AICc.
pub fn auto_ets(y: &[f64], m: usize) -> Result<EtsFit, InsightError> {
    check_finite(y)?;
    let mut best: Option<EtsFit> = None;
    let mut last_err = InsightError::TooShort {
        method: "ETS",
        need: 4,
        got: y.len(),
    };
    // Additive- and multiplicative-error versions of a structure share their state
    // equations, so they are fitted as a pair (see `fit_two`); the results are
    // the same as fitting each alone, and are compared in candidate order.
    let cands = candidates(y, m);
    let mut fits: Vec<Option<Result<EtsFit, InsightError>>> = cands.iter().map(|_| None).collect();
    for (i, spec) in cands.iter().enumerate() {
        if fits[i].is_some() {
            continue;
        }
        let partner = (spec.error == ErrorType::Additive
            && spec.season != SeasonType::Multiplicative)
            .then(|| {
                cands.iter().position(|c| {
                    c.error == ErrorType::Multiplicative
                        && c.trend == spec.trend
                        && c.season == spec.season
                })
            })
            .flatten();
        if let Some(j) = partner {
            let pair: PairFn = match (spec.trend != TrendType::None, spec.season) {
                (false, SeasonType::None) => filter_pair::<false, 0>,
                (true, SeasonType::None) => filter_pair::<true, 0>,
                (false, _) => filter_pair::<false, 1>,
                (true, _) => filter_pair::<true, 1>,
            };
            let (a, b) = fit_two(y, *spec, cands[j], pair);
            fits[i] = Some(a);
            fits[j] = Some(b);
        }
    }
    // ETS(M,A,M) with ETS(M,Ad,M); the rest alone.
    let mm = |t: TrendType| {
        cands.iter().position(|c| {
            c.error == ErrorType::Multiplicative
                && c.trend == t
                && c.season == SeasonType::Multiplicative
        })
    };
    if let (Some(i), Some(j)) = (mm(TrendType::Additive), mm(TrendType::Damped)) {
        let (a, b) = fit_two(y, cands[i], cands[j], filter_pair_mm);
        fits[i] = Some(a);
        fits[j] = Some(b);
    }
    for (fit, spec) in fits.iter_mut().zip(&cands) {
        if fit.is_none() {
            *fit = Some(fit_ets(y, *spec));
        }
    }
    for fit in fits.into_iter().flatten() {
        match fit {
            Ok(fit) => {
                if best.as_ref().is_none_or(|b| fit.aicc < b.aicc) {
                    best = Some(fit);
                }
            }
            Err(e) => last_err = e,
        }
    }
    best.ok_or(last_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn air() -> Vec<f64> {
        vec![
            112., 118., 132., 129., 121., 135., 148., 148., 136., 119., 104., 118., 115., 126.,
            141., 135., 125., 149., 170., 170., 158., 133., 114., 140., 145., 150., 178., 163.,
            172., 178., 199., 199., 184., 162., 146., 166., 171., 180., 193., 181., 183., 218.,
            230., 242., 209., 191., 172., 194., 196., 196., 236., 235., 229., 243., 264., 272.,
            237., 211., 180., 201., 204., 188., 235., 227., 234., 264., 302., 293., 259., 229.,
            203., 229., 242., 233., 267., 269., 270., 315., 364., 347., 312., 274., 237., 278.,
            284., 277., 317., 313., 318., 374., 413., 405., 355., 306., 271., 306., 315., 301.,
            356., 348., 355., 422., 465., 467., 404., 347., 305., 336., 340., 318., 362., 348.,
            363., 435., 491., 505., 404., 359., 310., 337., 360., 342., 406., 396., 420., 472.,
            548., 559., 463., 407., 362., 405., 417., 391., 419., 461., 472., 535., 622., 606.,
            508., 461., 390., 432.,
        ]
    }

    #[test]
    fn air_passengers_selects_multiplicative_season() {
        let y = air();
        let fit = auto_ets(&y[..120], 12).expect("fits");
        assert_eq!(
            fit.spec.season,
            SeasonType::Multiplicative,
            "{}",
            fit.spec.name()
        );
        let f = fit.forecast(24, &[95.0]);
        let actual = &y[120..];
        let mape: f64 = f
            .mean
            .iter()
            .zip(actual)
            .map(|(p, a)| ((p - a) / a).abs())
            .sum::<f64>()
            / 24.0;
        assert!(mape < 0.08, "MAPE {mape}");
        let covered = f.intervals[0]
            .lower
            .iter()
            .zip(&f.intervals[0].upper)
            .zip(actual)
            .filter(|((lo, hi), a)| *lo <= *a && *a <= *hi)
            .count();
        assert!(covered >= 18, "covered {covered}");
    }

    #[test]
    fn paired_fits_equal_single_fits() {
        // AutoETS fits structures two at a time; each must be exactly the fit alone.
        let y = air();
        let mut with_zero = y[..60].to_vec();
        with_zero[7] = 0.0; // only additive errors
        for (y, m) in [(&y[..120], 12), (&with_zero[..], 12), (&y[..30], 1)] {
            let cands = candidates(y, m);
            let alone: Vec<EtsFit> = cands.iter().filter_map(|s| fit_ets(y, *s).ok()).collect();
            let mut best = &alone[0];
            for f in &alone {
                if f.aicc < best.aicc {
                    best = f;
                }
            }
            let auto = auto_ets(y, m).expect("fits");
            assert_eq!(auto.spec, best.spec);
            assert_eq!(auto.aicc.to_bits(), best.aicc.to_bits());
            assert_eq!(auto.alpha.to_bits(), best.alpha.to_bits());
            // the A/M pair directly (not for the series with a zero: no M errors)
            let mnn = cands.iter().copied().find(|c| {
                c.error == ErrorType::Multiplicative
                    && c.trend == TrendType::None
                    && c.season == SeasonType::None
            });
            if let Some(mnn) = mnn {
                let (a, b) = fit_two(y, cands[0], mnn, filter_pair::<false, 0>);
                for paired in [a, b] {
                    let paired = paired.expect("fits");
                    let alone = fit_ets(y, paired.spec).expect("fits");
                    assert_eq!(paired.aicc.to_bits(), alone.aicc.to_bits());
                }
            }
        }
        // the M,A,M / M,Ad,M pair
        let y = &air()[..120];
        let spec = |trend| EtsSpec {
            error: ErrorType::Multiplicative,
            trend,
            season: SeasonType::Multiplicative,
            period: 12,
        };
        let (a, b) = fit_two(
            y,
            spec(TrendType::Additive),
            spec(TrendType::Damped),
            filter_pair_mm,
        );
        for (paired, s) in [(a, spec(TrendType::Additive)), (b, spec(TrendType::Damped))] {
            let paired = paired.expect("fits");
            let alone = fit_ets(y, s).expect("fits");
            assert_eq!(paired.aicc.to_bits(), alone.aicc.to_bits());
            assert_eq!(paired.point(12), alone.point(12));
        }
    }

    #[test]
    fn simple_exponential_smoothing_tracks_level() {
        let y: Vec<f64> = (0..40)
            .map(|t| 10.0 + if t % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let fit = fit_ets(
            &y,
            EtsSpec {
                error: ErrorType::Additive,
                trend: TrendType::None,
                season: SeasonType::None,
                period: 1,
            },
        )
        .expect("fits");
        let f = fit.point(3);
        assert!(f.iter().all(|v| (v - 10.0).abs() < 0.6));
    }
}
