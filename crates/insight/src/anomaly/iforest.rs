//! Isolation forest (Liu, Ting & Zhou 2008) for multivariate points.
//!
//! Written here: the crates on the registry either pull heavy dependencies or fix the
//! dimension at compile time; this is 150 lines with a seeded PRNG, so scores are
//! reproducible run to run.

use crate::InsightError;
use crate::util::SplitMix64;

#[derive(Debug, Clone)]
enum Node {
    Leaf {
        size: usize,
    },
    Split {
        dim: usize,
        at: f64,
        left: usize,
        right: usize,
    },
}

/// A fitted isolation forest.
#[derive(Debug, Clone)]
pub struct IsolationForest {
    trees: Vec<Vec<Node>>,
    dims: usize,
    c_psi: f64,
}

/// Average path length of an unsuccessful BST search among `n` points, c(n).
fn c(n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let n = n as f64;
    2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
}

impl IsolationForest {
    /// Fits `n_trees` trees on subsamples of `sample_size` points (256 and 100 are the
    /// paper's defaults). Every point must have the same, non-zero number of finite
    /// coordinates.
    pub fn fit(
        points: &[Vec<f64>],
        n_trees: usize,
        sample_size: usize,
        seed: u64,
    ) -> Result<Self, InsightError> {
        let first = points.first().ok_or(InsightError::Empty)?;
        let dims = first.len();
        if dims == 0 {
            return Err(InsightError::InvalidParameter {
                name: "points",
                reason: "points have no coordinates".into(),
            });
        }
        for (i, p) in points.iter().enumerate() {
            if p.len() != dims {
                return Err(InsightError::InvalidParameter {
                    name: "points",
                    reason: format!(
                        "point {i} has {} coordinates, the first has {dims}",
                        p.len()
                    ),
                });
            }
            if p.iter().any(|v| !v.is_finite()) {
                return Err(InsightError::NonFinite { index: i });
            }
        }
        if n_trees == 0 || sample_size < 2 {
            return Err(InsightError::InvalidParameter {
                name: "n_trees/sample_size",
                reason: "need at least one tree and a sample of at least 2".into(),
            });
        }
        let psi = sample_size.min(points.len());
        let max_depth = (psi.max(2) as f64).log2().ceil() as usize;
        let mut rng = SplitMix64::new(seed);
        let mut trees = Vec::with_capacity(n_trees);
        let mut idx: Vec<usize> = (0..points.len()).collect();
        for _ in 0..n_trees {
            // partial Fisher-Yates: the first psi entries are a sample without replacement
            for i in 0..psi {
                let j = i + rng.below(idx.len() - i);
                idx.swap(i, j);
            }
            let mut sample: Vec<usize> = idx[..psi].to_vec();
            let mut nodes = Vec::new();
            build(
                points,
                &mut sample,
                0,
                max_depth,
                dims,
                &mut rng,
                &mut nodes,
            );
            trees.push(nodes);
        }
        Ok(Self {
            trees,
            dims,
            c_psi: c(psi),
        })
    }

    /// Anomaly score in [0, 1]: near 1 isolates quickly (anomalous), ≤ 0.5 is normal.
    pub fn score(&self, p: &[f64]) -> Result<f64, InsightError> {
        if p.len() != self.dims {
            return Err(InsightError::InvalidParameter {
                name: "point",
                reason: format!(
                    "has {} coordinates, the forest was fitted on {}",
                    p.len(),
                    self.dims
                ),
            });
        }
        if p.iter().any(|v| !v.is_finite()) {
            return Err(InsightError::NonFinite { index: 0 });
        }
        let mut total = 0.0;
        for tree in &self.trees {
            let mut at = 0;
            let mut depth = 0.0;
            loop {
                match tree[at] {
                    Node::Leaf { size } => {
                        total += depth + c(size);
                        break;
                    }
                    Node::Split {
                        dim,
                        at: cut,
                        left,
                        right,
                    } => {
                        depth += 1.0;
                        at = if p[dim] < cut { left } else { right };
                    }
                }
            }
        }
        let mean = total / self.trees.len() as f64;
        if self.c_psi <= 0.0 {
            return Ok(0.5);
        }
        Ok(2f64.powf(-mean / self.c_psi).clamp(0.0, 1.0))
    }
}

fn build(
    points: &[Vec<f64>],
    sample: &mut [usize],
    depth: usize,
    max_depth: usize,
    dims: usize,
    rng: &mut SplitMix64,
    nodes: &mut Vec<Node>,
) -> usize {
    let me = nodes.len();
    nodes.push(Node::Leaf { size: sample.len() });
    if depth >= max_depth || sample.len() <= 1 {
        return me;
    }
    // pick a dimension that is not constant within this sample (a few tries)
    for _ in 0..dims.max(4) {
        let dim = rng.below(dims);
        let (lo, hi) = sample
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                (lo.min(points[i][dim]), hi.max(points[i][dim]))
            });
        if hi <= lo {
            continue;
        }
        let at = lo + rng.next_f64() * (hi - lo);
        let mut split = 0;
        for i in 0..sample.len() {
            if points[sample[i]][dim] < at {
                sample.swap(i, split);
                split += 1;
            }
        }
        if split == 0 || split == sample.len() {
            continue;
        }
        let (l, r) = sample.split_at_mut(split);
        let left = build(points, l, depth + 1, max_depth, dims, rng, nodes);
        let right = build(points, r, depth + 1, max_depth, dims, rng, nodes);
        nodes[me] = Node::Split {
            dim,
            at,
            left,
            right,
        };
        return me;
    }
    me
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlier_scores_higher() {
        let mut pts: Vec<Vec<f64>> = (0..500)
            .map(|i| vec![(i % 10) as f64 * 0.1, (i % 7) as f64 * 0.1])
            .collect();
        pts.push(vec![10.0, 10.0]);
        let f = IsolationForest::fit(&pts, 100, 256, 7).expect("fits");
        let out = f.score(&[10.0, 10.0]).expect("scores");
        let inl = f.score(&[0.5, 0.3]).expect("scores");
        assert!(out > 0.6 && out > inl + 0.15, "{out} {inl}");
        assert!(f.score(&[1.0]).is_err());
    }
}
