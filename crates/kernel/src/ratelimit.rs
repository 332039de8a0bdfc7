//! In-process rate limiting per key (API key, user, IP): a token bucket per key.
//!
//! Each key has a bucket of `capacity` tokens refilled at `refill_per_second`; a
//! request takes one token or is refused with the whole seconds to wait
//! ([`RetryAfter`], for the `Retry-After` header of a 429).
//!
//! The bucket is stored in its GCRA form (the "generic cell rate algorithm", the same
//! token bucket written as one time value): the *theoretical arrival time* `tat`, the
//! instant at which the bucket will be full again. Tokens available at `now` are
//! `capacity - (tat - now) / interval`. One `Instant` per key, integer arithmetic, no
//! float drift, and "the bucket is full" is simply `tat <= now`.
//!
//! Time is passed in (`now`), never read inside, so tests are deterministic.
//!
//! Concurrency: keys are spread over a fixed number of shards, each behind its own
//! mutex, so unrelated keys rarely contend. Looking up an existing key borrows the
//! `&str` and does not allocate.
//!
//! Memory: a full bucket carries no information (it is the same as a new bucket), so
//! it can be dropped without changing any decision. Each shard sweeps out full buckets
//! when it has doubled in size since its last sweep and at least once per refill period
//! (or 10 s, whichever is longer) so an idle spike shrinks again; the number of keys
//! held is therefore about twice the number of keys active within one refill period.
//! A hard cap ([`RateLimiter::with_max_keys`]) bounds even that: when a shard is full
//! of non-full buckets, a new key is let through untracked (failing open), because
//! refusing would let a flood of fresh keys lock out every new legitimate client.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Number of shards; a power of two well above the core count of the machines we run on.
const SHARDS: usize = 64;
/// Shards are not swept before they hold this many keys (sweeping tiny maps is waste).
const MIN_SWEEP_LEN: usize = 64;
/// Lower bound of the time between two periodic sweeps of one shard.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_secs(10);
/// Default hard cap on tracked keys, across all shards (~100 bytes each).
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// A refused request: how long to wait before the next one can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter {
    secs: u64,
}

impl RetryAfter {
    /// Whole seconds to wait, rounded up, at least 1 (the `Retry-After` value).
    pub fn secs(&self) -> u64 {
        self.secs
    }
}

/// Invalid rate limiter settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateLimitConfigError {
    /// The bucket must hold at least one token.
    #[error("rate limit capacity must be at least 1")]
    ZeroCapacity,
    /// The refill rate must be a positive, finite number of tokens per second, at most
    /// one per nanosecond.
    #[error("rate limit refill rate must be positive and finite, got {0}")]
    InvalidRate(f64),
}

/// Token-bucket rate limiter keyed by string. Share it behind an `Arc`.
#[derive(Debug)]
pub struct RateLimiter {
    /// Time to earn one token.
    interval: Duration,
    /// How far `tat` may run ahead of `now` and still admit a request:
    /// `interval * (capacity - 1)`, i.e. a full bucket admits `capacity` requests at once.
    tolerance: Duration,
    /// Time for an empty bucket to refill completely.
    full_refill: Duration,
    max_keys_per_shard: usize,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Debug)]
struct Shard {
    /// Key → theoretical arrival time (when the bucket is full again).
    buckets: HashMap<Box<str>, Instant>,
    /// Sweep when the map reaches this size.
    sweep_at_len: usize,
    /// Time of the last sweep; `None` until the first request.
    last_sweep: Option<Instant>,
}

impl RateLimiter {
    /// A limiter allowing bursts of `capacity` requests per key, refilled at
    /// `refill_per_second` tokens per second (e.g. `(10, 1.0)`: 10 at once, then one
    /// per second; `(5, 5.0 / 60.0)`: 5 per minute).
    pub fn new(capacity: u32, refill_per_second: f64) -> Result<Self, RateLimitConfigError> {
        if capacity == 0 {
            return Err(RateLimitConfigError::ZeroCapacity);
        }
        let invalid = RateLimitConfigError::InvalidRate(refill_per_second);
        if !(refill_per_second.is_finite() && refill_per_second > 0.0) {
            return Err(invalid);
        }
        let interval =
            Duration::try_from_secs_f64(1.0 / refill_per_second).map_err(|_| invalid.clone())?;
        if interval.is_zero() {
            return Err(invalid);
        }
        let tolerance = interval.checked_mul(capacity - 1).ok_or(invalid.clone())?;
        let full_refill = tolerance.checked_add(interval).ok_or(invalid)?;
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    buckets: HashMap::new(),
                    sweep_at_len: MIN_SWEEP_LEN,
                    last_sweep: None,
                })
            })
            .collect();
        Ok(Self {
            interval,
            tolerance,
            full_refill,
            max_keys_per_shard: DEFAULT_MAX_KEYS.div_ceil(SHARDS),
            hasher: RandomState::new(),
            shards,
        })
    }

    /// Changes the hard cap on tracked keys (default [`DEFAULT_MAX_KEYS`]); the cap is
    /// applied per shard, so the real limit is rounded up to a multiple of the shard
    /// count.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys_per_shard = max_keys.div_ceil(SHARDS).max(1);
        self
    }

    /// Takes one token from `key`'s bucket at time `now`, or says how long to wait.
    ///
    /// `now` should not go backwards for a key; if it does, the call is treated as
    /// happening at the key's last time (it can only be refused, never get extra tokens).
    pub fn check(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        let mut shard = self.shard(key);
        if let Some(tat) = shard.buckets.get_mut(key) {
            return self.take(tat, now);
        }
        // New key (or one swept out as full): behaves as a full bucket.
        shard.maybe_sweep(now, self.full_refill);
        if shard.buckets.len() >= self.max_keys_per_shard {
            shard.sweep(now);
            if shard.buckets.len() >= self.max_keys_per_shard {
                // Fail open rather than refuse unknown clients during a key flood.
                return Ok(());
            }
        }
        let mut tat = now;
        let result = self.take(&mut tat, now);
        shard.buckets.insert(key.into(), tat);
        result
    }

    /// Number of keys currently tracked (full buckets may still be counted until the
    /// next sweep). For metrics and tests.
    pub fn tracked_keys(&self) -> usize {
        self.shards.iter().map(|s| lock(s).buckets.len()).sum()
    }

    /// Drops every full bucket now, in every shard. Not needed for correctness; for a
    /// periodic maintenance task that wants memory back after a quiet period.
    pub fn sweep(&self, now: Instant) {
        for shard in self.shards.iter() {
            lock(shard).sweep(now);
        }
    }

    /// GCRA step on one bucket.
    fn take(&self, tat: &mut Instant, now: Instant) -> Result<(), RetryAfter> {
        let start = (*tat).max(now);
        let ahead = start.saturating_duration_since(now);
        if ahead > self.tolerance {
            let wait = ahead - self.tolerance;
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(RetryAfter { secs: secs.max(1) });
        }
        // `checked_add` can only fail near the end of `Instant`'s range; keeping the old
        // value then errs on the side of allowing, and cannot panic.
        *tat = start.checked_add(self.interval).unwrap_or(start);
        Ok(())
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        // SHARDS is a power of two, so the mask is a uniform pick; the hasher is keyed
        // per process, so clients cannot aim all their keys at one shard.
        let index = (self.hasher.hash_one(key) as usize) & (SHARDS - 1);
        lock(&self.shards[index])
    }
}

impl Shard {
    fn maybe_sweep(&mut self, now: Instant, full_refill: Duration) {
        let period = full_refill.max(MIN_SWEEP_INTERVAL);
        let last = *self.last_sweep.get_or_insert(now);
        let due_by_time = now.saturating_duration_since(last) >= period;
        if self.buckets.len() >= self.sweep_at_len || (due_by_time && !self.buckets.is_empty()) {
            self.sweep(now);
        }
    }

    fn sweep(&mut self, now: Instant) {
        // A bucket whose tat has passed is full: dropping it changes no decision.
        self.buckets.retain(|_, tat| *tat > now);
        if self.buckets.capacity() > 4 * self.buckets.len().max(MIN_SWEEP_LEN) {
            self.buckets.shrink_to(2 * self.buckets.len());
        }
        self.sweep_at_len = (2 * self.buckets.len()).max(MIN_SWEEP_LEN);
        self.last_sweep = Some(now);
    }
}

/// Locks a shard; a panic while holding the lock cannot leave a bucket half-updated
/// (every update is a single store), so a poisoned lock is safe to reuse.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn burst_then_refuse_then_refill() {
        let rl = RateLimiter::new(3, 1.0).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(rl.check("k", t0), Ok(()));
        }
        assert_eq!(rl.check("k", t0).unwrap_err().secs(), 1);
        // half a token later: still refused, wait rounds up to 1 s
        assert_eq!(rl.check("k", t0 + ms(500)).unwrap_err().secs(), 1);
        // one token earned
        assert_eq!(rl.check("k", t0 + secs(1)), Ok(()));
        assert!(rl.check("k", t0 + secs(1)).is_err());
        // long idle: back to a full burst, never more than capacity
        let later = t0 + secs(100);
        for _ in 0..3 {
            assert_eq!(rl.check("k", later), Ok(()));
        }
        assert!(rl.check("k", later).is_err());
    }

    #[test]
    fn keys_are_independent() {
        let rl = RateLimiter::new(1, 1.0).unwrap();
        let t0 = Instant::now();
        assert!(rl.check("user:1", t0).is_ok());
        assert!(rl.check("user:1", t0).is_err());
        assert!(rl.check("user:2", t0).is_ok());
        assert!(rl.check("ip:10.0.0.1", t0).is_ok());
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        // 5 per minute: one token every 12 s
        let rl = RateLimiter::new(5, 5.0 / 60.0).unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(rl.check("login", t0).is_ok());
        }
        assert_eq!(rl.check("login", t0).unwrap_err().secs(), 12);
        assert_eq!(rl.check("login", t0 + ms(1)).unwrap_err().secs(), 12);
        assert_eq!(rl.check("login", t0 + ms(11_001)).unwrap_err().secs(), 1);
        assert_eq!(rl.check("login", t0 + ms(11_999)).unwrap_err().secs(), 1);
        assert!(rl.check("login", t0 + secs(12)).is_ok());

        // fast refill: waits below a second still say 1
        let fast = RateLimiter::new(1, 100.0).unwrap();
        assert!(fast.check("k", t0).is_ok());
        assert_eq!(fast.check("k", t0).unwrap_err().secs(), 1);
        assert!(fast.check("k", t0 + ms(10)).is_ok());
    }

    #[test]
    fn refused_requests_do_not_consume() {
        let rl = RateLimiter::new(2, 1.0).unwrap();
        let t0 = Instant::now();
        assert!(rl.check("k", t0).is_ok());
        assert!(rl.check("k", t0).is_ok());
        // hammering while refused does not push the next allowed time further out
        for i in 0..100 {
            assert!(rl.check("k", t0 + ms(i)).is_err());
        }
        assert!(rl.check("k", t0 + secs(1)).is_ok());
    }

    #[test]
    fn steady_rate_is_sustained() {
        let rl = RateLimiter::new(1, 2.0).unwrap();
        let t0 = Instant::now();
        // exactly at the refill rate, every request passes
        for i in 0..1000 {
            assert!(rl.check("k", t0 + ms(500 * i)).is_ok(), "request {i}");
        }
        // faster than that, about half are refused
        let rl = RateLimiter::new(1, 2.0).unwrap();
        let passed = (0..1000)
            .filter(|i| rl.check("k", t0 + ms(250 * i)).is_ok())
            .count();
        assert_eq!(passed, 500);
    }

    #[test]
    fn time_going_backwards_grants_nothing() {
        let rl = RateLimiter::new(1, 1.0).unwrap();
        let t0 = Instant::now() + secs(10);
        assert!(rl.check("k", t0).is_ok());
        assert!(rl.check("k", t0 - secs(5)).is_err());
        assert!(rl.check("k", t0 + secs(1)).is_ok());
    }

    #[test]
    fn invalid_settings() {
        assert_eq!(
            RateLimiter::new(0, 1.0).unwrap_err(),
            RateLimitConfigError::ZeroCapacity
        );
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e12] {
            assert!(RateLimiter::new(1, rate).is_err(), "{rate}");
        }
        assert!(RateLimiter::new(u32::MAX, 1e-12).is_err());
        assert!(RateLimiter::new(u32::MAX, 1000.0).is_ok());
    }

    #[test]
    fn idle_full_buckets_are_evicted() {
        let rl = RateLimiter::new(2, 1.0).unwrap();
        let t0 = Instant::now();
        // 200k distinct keys, one request each, arriving 1000 per second: each bucket
        // is full again 1 s after its request, so only ~1000 keys are live at a time.
        let mut max_seen = 0;
        for i in 0..200_000u64 {
            let now = t0 + Duration::from_micros(i * 1000);
            assert!(rl.check(&format!("ip:{i}"), now).is_ok());
            if i % 1000 == 0 {
                max_seen = max_seen.max(rl.tracked_keys());
            }
        }
        // bound: 2x live keys per shard, or the per-shard sweep floor
        let bound = 2 * 1000 + SHARDS * (MIN_SWEEP_LEN + 1) + 1000;
        assert!(max_seen < bound, "map grew to {max_seen}");
        // a maintenance sweep after a quiet period empties it
        rl.sweep(t0 + secs(1000));
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[test]
    fn quiet_period_shrinks_via_periodic_sweep() {
        let rl = RateLimiter::new(1, 1.0).unwrap();
        let t0 = Instant::now();
        for i in 0..10_000 {
            let _ = rl.check(&format!("k{i}"), t0);
        }
        assert_eq!(rl.tracked_keys(), 10_000);
        // a minute later new keys arrive; each shard sweeps as soon as it is touched
        for i in 0..(SHARDS * 20) {
            let _ = rl.check(&format!("new{i}"), t0 + secs(60));
        }
        assert!(rl.tracked_keys() <= SHARDS * 20, "{}", rl.tracked_keys());
    }

    #[test]
    fn eviction_does_not_reset_a_limited_key() {
        let rl = RateLimiter::new(1, 0.1).unwrap(); // one per 10 s
        let t0 = Instant::now();
        assert!(rl.check("victim", t0).is_ok());
        // churn many other keys so every shard sweeps several times
        for i in 0..50_000 {
            let _ = rl.check(&format!("noise{i}"), t0 + ms(i / 10));
        }
        // still limited: its bucket was not full, so it was kept
        assert!(rl.check("victim", t0 + secs(5)).is_err());
        assert!(rl.check("victim", t0 + secs(10)).is_ok());
    }

    #[test]
    fn hard_cap_bounds_memory_and_fails_open() {
        let rl = RateLimiter::new(1, 0.001)
            .unwrap()
            .with_max_keys(SHARDS * 10);
        let t0 = Instant::now();
        // every bucket stays non-full (1000 s refill), so sweeping frees nothing
        for i in 0..10_000 {
            let _ = rl.check(&format!("flood{i}"), t0);
        }
        assert!(rl.tracked_keys() <= SHARDS * 10);
        // keys already tracked are still limited
        let tracked = (0..10_000)
            .map(|i| format!("flood{i}"))
            .find(|k| rl.check(k, t0).is_err());
        assert!(tracked.is_some());
    }

    #[test]
    fn concurrent_use_is_exact() {
        let rl = Arc::new(RateLimiter::new(1000, 1e-6).unwrap());
        let t0 = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rl = Arc::clone(&rl);
                std::thread::spawn(move || {
                    let mut ok = 0;
                    for i in 0..2000 {
                        if rl.check(&format!("key{}", i % 4), t0).is_ok() {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        // 4 keys x 1000 tokens, no refill in between: exactly 4000 admitted
        assert_eq!(total, 4000);
    }
}
