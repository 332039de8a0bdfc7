//! Streaming detectors for live feeds: constant memory, one point at a time.

/// EWMA detector: exponentially weighted mean and variance; each new point is scored
/// against the state *before* it is absorbed, so a spike cannot mask itself.
#[derive(Debug, Clone)]
pub struct Ewma {
    alpha: f64,
    mean: f64,
    var: f64,
    seen: u64,
    warmup: u64,
}

impl Ewma {
    /// `alpha` in (0, 1] is the weight of the newest point (0.01–0.1 suits most
    /// sensors); the first `warmup` points only train the state and score 0.
    /// Returns `None` for an alpha outside (0, 1].
    pub fn new(alpha: f64, warmup: u64) -> Option<Self> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return None;
        }
        Some(Self {
            alpha,
            mean: 0.0,
            var: 0.0,
            seen: 0,
            warmup: warmup.max(1),
        })
    }

    /// Scores `x` (signed z-score against the running mean and deviation) and then
    /// absorbs it. Non-finite input scores 0 and is not absorbed, so one bad reading
    /// cannot poison the state.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        if !x.is_finite() {
            return 0.0;
        }
        if self.seen == 0 {
            self.mean = x;
            self.seen = 1;
            return 0.0;
        }
        let d = x - self.mean;
        let sd = self.var.sqrt();
        let z = if self.seen < self.warmup {
            0.0
        } else if sd > 1e-12 * (1.0 + self.mean.abs()) {
            d / sd
        } else if d.abs() > 1e-12 * (1.0 + self.mean.abs()) {
            // A change after a perfectly flat stretch: clearly anomalous, kept finite.
            d.signum() * 1e3
        } else {
            0.0
        };
        let mean = self.mean + self.alpha * d;
        let var = (1.0 - self.alpha) * (self.var + self.alpha * d * d);
        // Readings near f64::MAX can overflow the moments: such a point is scored as
        // far out and not absorbed, so the state stays finite for the next one.
        if !(d.is_finite() && mean.is_finite() && var.is_finite()) {
            return if x > self.mean { 1e3 } else { -1e3 };
        }
        self.mean = mean;
        self.var = var;
        self.seen += 1;
        if z.is_finite() {
            z.clamp(-1e3, 1e3)
        } else {
            0.0
        }
    }
}

/// Two-sided tabular CUSUM (Page 1954) for persistent shifts of the mean, on values
/// standardised by a slow EWMA baseline.
#[derive(Debug, Clone)]
pub struct Cusum {
    base: Ewma,
    k: f64,
    h: f64,
    pos: f64,
    neg: f64,
}

impl Cusum {
    /// `k` is the allowance (half the shift to detect, in σ; 0.5 is usual) and `h` the
    /// decision interval (4–5 is usual). The baseline adapts with weight `alpha`.
    pub fn new(alpha: f64, warmup: u64, k: f64, h: f64) -> Option<Self> {
        if !(k >= 0.0 && h > 0.0 && k.is_finite() && h.is_finite()) {
            return None;
        }
        Some(Self {
            base: Ewma::new(alpha, warmup)?,
            k,
            h,
            pos: 0.0,
            neg: 0.0,
        })
    }

    /// Absorbs `x`; returns the CUSUM statistic divided by `h` (≥ 1 means alarm) with
    /// the sign of the shift. The sums restart after an alarm.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let z = self.base.update(x).clamp(-10.0, 10.0);
        self.pos = (self.pos + z - self.k).max(0.0);
        self.neg = (self.neg - z - self.k).max(0.0);
        let out = if self.pos >= self.neg {
            self.pos / self.h
        } else {
            -self.neg / self.h
        };
        if out.abs() >= 1.0 {
            self.pos = 0.0;
            self.neg = 0.0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewma_flags_spike() {
        let mut d = Ewma::new(0.05, 20).expect("valid");
        let mut last = 0.0;
        for i in 0..200 {
            last = d.update(10.0 + (i % 3) as f64 * 0.1);
        }
        assert!(last.abs() < 3.0);
        assert!(d.update(50.0) > 10.0);
        assert!(Ewma::new(0.0, 1).is_none());
    }

    #[test]
    fn cusum_alarms_on_shift() {
        let mut c = Cusum::new(0.01, 50, 0.5, 5.0).expect("valid");
        for i in 0..300 {
            c.update(((i * 7919) % 13) as f64 / 13.0);
        }
        let alarmed = (0..50).any(|_| c.update(1.5).abs() >= 1.0);
        assert!(alarmed);
    }
}
