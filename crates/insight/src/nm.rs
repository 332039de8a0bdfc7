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
    let d = x0.len();
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    let mut vals: Vec<f64> = Vec::with_capacity(d + 1);
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::MAX }
    };
    pts.push(x0.to_vec());
    vals.push(eval(x0, &mut evals));
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step[i];
        vals.push(eval(&p, &mut evals));
        pts.push(p);
    }
    let mut order: Vec<usize> = (0..=d).collect();
    let mut centroid = vec![0.0; d];
    let mut xr = vec![0.0; d];
    let mut xe = vec![0.0; d];
    let mut xc = vec![0.0; d];
    while evals < max_evals {
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let best = order[0];
        let worst = order[d];
        let second = order[d - 1];
        let spread = (vals[worst] - vals[best]).abs();
        if spread <= tol * (vals[best].abs() + tol) {
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &i in &order[..d] {
            for (c, p) in centroid.iter_mut().zip(&pts[i]) {
                *c += p / d as f64;
            }
        }
        for j in 0..d {
            xr[j] = centroid[j] + (centroid[j] - pts[worst][j]);
        }
        let fr = eval(&xr, &mut evals);
        if fr < vals[best] {
            for j in 0..d {
                xe[j] = centroid[j] + 2.0 * (centroid[j] - pts[worst][j]);
            }
            let fe = eval(&xe, &mut evals);
            if fe < fr {
                pts[worst].copy_from_slice(&xe);
                vals[worst] = fe;
            } else {
                pts[worst].copy_from_slice(&xr);
                vals[worst] = fr;
            }
        } else if fr < vals[second] {
            pts[worst].copy_from_slice(&xr);
            vals[worst] = fr;
        } else {
            // contraction, outside if the reflection helped a little, inside otherwise
            let outside = fr < vals[worst];
            for j in 0..d {
                xc[j] = if outside {
                    centroid[j] + 0.5 * (xr[j] - centroid[j])
                } else {
                    centroid[j] + 0.5 * (pts[worst][j] - centroid[j])
                };
            }
            let fc = eval(&xc, &mut evals);
            if fc < vals[worst].min(fr) {
                pts[worst].copy_from_slice(&xc);
                vals[worst] = fc;
            } else {
                // shrink towards the best point
                let bp = pts[best].clone();
                for i in 0..=d {
                    if i == best {
                        continue;
                    }
                    for j in 0..d {
                        pts[i][j] = bp[j] + 0.5 * (pts[i][j] - bp[j]);
                    }
                    vals[i] = eval(&pts[i], &mut evals);
                }
            }
        }
    }
    let mut bi = 0;
    for i in 1..=d {
        if vals[i] < vals[bi] {
            bi = i;
        }
    }
    (pts[bi].clone(), vals[bi])
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
