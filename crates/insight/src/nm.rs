//! Nelder-Mead simplex minimiser.
//!
//! Written here rather than taken from argmin: the ETS and Theta fits need only an
//! unconstrained derivative-free minimiser over ≤ 6 parameters, called hundreds of
//! thousands of times, so a 100-line allocation-light loop beats a generic framework
//! both in run time and in build time.

/// Minimises `f` from `x0`, with per-dimension initial simplex steps `step`.
/// Returns the best point and its value. Stops after `max_evals` evaluations or when
/// the simplex values agree within `tol` (relative).
pub(crate) fn minimize<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    step: &[f64],
    max_evals: usize,
    tol: f64,
) -> (Vec<f64>, f64) {
    let mut nm = NelderMead::new(x0, step, max_evals, tol);
    while let Some(x) = nm.ask() {
        let v = f(x);
        nm.tell(v);
    }
    nm.best()
}

#[derive(Clone, Copy)]
enum Stage {
    /// Evaluating vertex i of the initial simplex.
    Init(usize),
    Reflect,
    Expand,
    Contract,
    /// Re-evaluating vertex i after a shrink.
    Shrink(usize),
    Done,
}

/// The same minimiser as a state machine: `ask` for the next point to evaluate,
/// `tell` its value. Lets a caller advance several searches in lockstep and
/// evaluate their points together (the ETS filter is bound by the latency of its
/// recursion, so two independent evaluations interleaved cost little more than
/// one). The sequence of points is exactly that of [`minimize`].
pub(crate) struct NelderMead {
    d: usize,
    pts: Vec<Vec<f64>>,
    vals: Vec<f64>,
    order: Vec<usize>,
    centroid: Vec<f64>,
    xr: Vec<f64>,
    xe: Vec<f64>,
    xc: Vec<f64>,
    fr: f64,
    evals: usize,
    max_evals: usize,
    tol: f64,
    stage: Stage,
}

impl NelderMead {
    pub(crate) fn new(x0: &[f64], step: &[f64], max_evals: usize, tol: f64) -> Self {
        let d = x0.len();
        let pts: Vec<Vec<f64>> = (0..=d)
            .map(|i| {
                let mut p = x0.to_vec();
                if i > 0 {
                    p[i - 1] += step[i - 1];
                }
                p
            })
            .collect();
        NelderMead {
            d,
            pts,
            vals: vec![f64::MAX; d + 1],
            order: (0..=d).collect(),
            centroid: vec![0.0; d],
            xr: vec![0.0; d],
            xe: vec![0.0; d],
            xc: vec![0.0; d],
            fr: f64::MAX,
            evals: 0,
            max_evals,
            tol,
            stage: Stage::Init(0),
        }
    }

    /// The next point to evaluate, `None` once the search has ended.
    pub(crate) fn ask(&self) -> Option<&[f64]> {
        match self.stage {
            Stage::Init(i) | Stage::Shrink(i) => Some(&self.pts[i]),
            Stage::Reflect => Some(&self.xr),
            Stage::Expand => Some(&self.xe),
            Stage::Contract => Some(&self.xc),
            Stage::Done => None,
        }
    }

    /// Value at the point last returned by `ask` (non-finite counts as +∞).
    pub(crate) fn tell(&mut self, v: f64) {
        let v = if v.is_finite() { v } else { f64::MAX };
        self.evals += 1;
        let d = self.d;
        let (best, second, worst) = (self.order[0], self.order[d - 1], self.order[d]);
        match self.stage {
            Stage::Init(i) => {
                self.vals[i] = v;
                if i < d {
                    self.stage = Stage::Init(i + 1);
                } else {
                    self.iterate();
                }
            }
            Stage::Reflect => {
                self.fr = v;
                if v < self.vals[best] {
                    for j in 0..d {
                        self.xe[j] =
                            self.centroid[j] + 2.0 * (self.centroid[j] - self.pts[worst][j]);
                    }
                    self.stage = Stage::Expand;
                } else if v < self.vals[second] {
                    self.pts[worst].copy_from_slice(&self.xr);
                    self.vals[worst] = v;
                    self.iterate();
                } else {
                    // contraction, outside if the reflection helped a little, inside otherwise
                    let outside = v < self.vals[worst];
                    for j in 0..d {
                        self.xc[j] = if outside {
                            self.centroid[j] + 0.5 * (self.xr[j] - self.centroid[j])
                        } else {
                            self.centroid[j] + 0.5 * (self.pts[worst][j] - self.centroid[j])
                        };
                    }
                    self.stage = Stage::Contract;
                }
            }
            Stage::Expand => {
                if v < self.fr {
                    self.pts[worst].copy_from_slice(&self.xe);
                    self.vals[worst] = v;
                } else {
                    self.pts[worst].copy_from_slice(&self.xr);
                    self.vals[worst] = self.fr;
                }
                self.iterate();
            }
            Stage::Contract => {
                if v < self.vals[worst].min(self.fr) {
                    self.pts[worst].copy_from_slice(&self.xc);
                    self.vals[worst] = v;
                    self.iterate();
                } else {
                    // shrink towards the best point
                    let bp = self.pts[best].clone();
                    for (i, pt) in self.pts.iter_mut().enumerate() {
                        if i == best {
                            continue;
                        }
                        for (x, b) in pt.iter_mut().zip(&bp) {
                            *x = b + 0.5 * (*x - b);
                        }
                    }
                    self.stage = Stage::Shrink(usize::from(best == 0));
                }
            }
            Stage::Shrink(i) => {
                self.vals[i] = v;
                let mut next = i + 1;
                if next == best {
                    next += 1;
                }
                if next <= d {
                    self.stage = Stage::Shrink(next);
                } else {
                    self.iterate();
                }
            }
            Stage::Done => {}
        }
    }

    /// Top of an iteration: stop, or order the simplex and propose the reflection.
    fn iterate(&mut self) {
        if self.evals >= self.max_evals {
            self.stage = Stage::Done;
            return;
        }
        let d = self.d;
        let vals = &self.vals;
        self.order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let (best, worst) = (self.order[0], self.order[d]);
        let spread = (vals[worst] - vals[best]).abs();
        if spread <= self.tol * (vals[best].abs() + self.tol) {
            self.stage = Stage::Done;
            return;
        }
        self.centroid.iter_mut().for_each(|c| *c = 0.0);
        for &i in &self.order[..d] {
            for (c, p) in self.centroid.iter_mut().zip(&self.pts[i]) {
                *c += p / d as f64;
            }
        }
        for j in 0..d {
            self.xr[j] = self.centroid[j] + (self.centroid[j] - self.pts[worst][j]);
        }
        self.stage = Stage::Reflect;
    }

    /// The best point and its value.
    pub(crate) fn best(&self) -> (Vec<f64>, f64) {
        let mut bi = 0;
        for i in 1..=self.d {
            if self.vals[i] < self.vals[bi] {
                bi = i;
            }
        }
        (self.pts[bi].clone(), self.vals[bi])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_rosenbrock_minimum() {
        let (x, v) = super::minimize(
            |p| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2),
            &[-1.0, 1.0],
            &[0.5, 0.5],
            5000,
            1e-14,
        );
        assert!(v < 1e-6, "{v}");
        assert!((x[0] - 1.0).abs() < 1e-2);
    }
}
