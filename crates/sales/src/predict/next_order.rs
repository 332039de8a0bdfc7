//! Next-order prediction for one store: the expected date from the store's own rhythm
//! (the median of its recent inter-order intervals) and the likely basket (how often each
//! product was in its recent orders, recent orders counting more).
//!
//! Why the median of recent intervals: order rhythms drift (a store moves from weekly
//! to fortnightly) and single gaps are noisy (a holiday, a double order), so the mean of
//! the whole history and the last interval are both poor; `meridian sales-eval` measures
//! all three on real data.

use std::collections::BTreeMap;

use super::{Purchase, median, occasions};

/// How the prediction looks at a history.
#[derive(Debug, Clone, PartialEq)]
pub struct NextOrderParams {
    /// How many of the latest intervals the typical interval is the median of.
    pub recent_intervals: usize,
    /// How many of the latest orders the basket is computed from.
    pub basket_orders: usize,
    /// Half-life of an order's weight in the basket, in orders (infinite: all equal).
    pub half_life_orders: f64,
    /// A product is in the predicted basket from this probability on.
    pub min_probability: f64,
    /// At most this many products in the predicted basket.
    pub max_basket: usize,
}

impl Default for NextOrderParams {
    fn default() -> Self {
        Self {
            recent_intervals: 6,
            basket_orders: 10,
            half_life_orders: 4.0,
            min_probability: 0.3,
            max_basket: 20,
        }
    }
}

/// How much to trust a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    /// At least 5 intervals, varying by at most half their mean.
    High,
    /// At least 2 intervals, varying by at most their mean.
    Medium,
    /// Anything less regular or shorter.
    Low,
}

impl Confidence {
    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// A product the store will probably order next.
#[derive(Debug, Clone, PartialEq)]
pub struct LikelyItem {
    /// Product key.
    pub sku: String,
    /// Median quantity of the product per order when it was ordered.
    pub expected_qty: f64,
    /// Weighted share of the recent orders that contained it, in [0, 1].
    pub probability: f64,
}

/// When a store will probably order next, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct NextOrder {
    /// Expected order day (`None` with fewer than two orders: no rhythm to read).
    pub expected_on: Option<i32>,
    /// Days past the expected day (0 when not yet due).
    pub overdue_days: i32,
    /// The typical interval between orders, in days.
    pub interval_days: Option<f64>,
    /// Distinct order days seen before today.
    pub orders_seen: usize,
    /// The latest order day.
    pub last_order: Option<i32>,
    /// How regular the rhythm is.
    pub confidence: Confidence,
    /// Products most likely in the next order, most likely first.
    pub basket: Vec<LikelyItem>,
}

/// Predicts the next order of a store from its purchases before `today`.
pub fn predict(history: &[Purchase], today: i32, params: &NextOrderParams) -> NextOrder {
    let days = occasions(history, today);
    let intervals: Vec<f64> = days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
    let recent = &intervals[intervals
        .len()
        .saturating_sub(params.recent_intervals.max(1))..];
    let interval = median(recent);
    let last_order = days.last().copied();
    let expected_on = match (last_order, interval) {
        // An interval is at least one day: orders are whole days apart.
        (Some(last), Some(i)) => Some(last + i.round().max(1.0) as i32),
        _ => None,
    };
    NextOrder {
        expected_on,
        overdue_days: expected_on.map_or(0, |e| (today - e).max(0)),
        interval_days: interval,
        orders_seen: days.len(),
        last_order,
        confidence: confidence(recent),
        basket: likely_basket(history, today, params)
            .into_iter()
            .filter(|i| i.probability >= params.min_probability)
            .take(params.max_basket)
            .collect(),
    }
}

/// Regularity of the intervals: the coefficient of variation and how many there are.
fn confidence(intervals: &[f64]) -> Confidence {
    let n = intervals.len();
    if n < 2 {
        return Confidence::Low;
    }
    let mean = intervals.iter().sum::<f64>() / n as f64;
    let var = intervals.iter().map(|i| (i - mean).powi(2)).sum::<f64>() / n as f64;
    let cv = if mean > 0.0 {
        var.sqrt() / mean
    } else {
        f64::INFINITY
    };
    if n >= 5 && cv <= 0.5 {
        Confidence::High
    } else if cv <= 1.0 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

/// Every product of the latest `params.basket_orders` orders before `today`, ranked by
/// the weighted share of those orders that contained it (the latest order weighs 1, one
/// `half_life_orders` earlier ½, ...); ties by SKU. Unfiltered: the evaluation ranks it.
pub fn likely_basket(
    history: &[Purchase],
    today: i32,
    params: &NextOrderParams,
) -> Vec<LikelyItem> {
    let days = occasions(history, today);
    let window = &days[days.len().saturating_sub(params.basket_orders.max(1))..];
    let Some(&first) = window.first() else {
        return Vec::new();
    };
    let newest = window.len() - 1;
    let weight_of = |day: i32| -> f64 {
        let age = newest - window.partition_point(|d| *d < day);
        if params.half_life_orders.is_finite() && params.half_life_orders > 0.0 {
            0.5f64.powf(age as f64 / params.half_life_orders)
        } else {
            1.0
        }
    };
    let total: f64 = window.iter().map(|d| weight_of(*d)).sum();
    // Per product: the quantity on each order day (several lines a day add up).
    let mut per_sku: BTreeMap<&str, BTreeMap<i32, f64>> = BTreeMap::new();
    for p in history.iter().filter(|p| p.day >= first && p.day < today) {
        *per_sku.entry(&p.sku).or_default().entry(p.day).or_default() += p.qty;
    }
    let mut items: Vec<LikelyItem> = per_sku
        .into_iter()
        .map(|(sku, by_day)| {
            let weight: f64 = by_day.keys().map(|d| weight_of(*d)).sum();
            let qtys: Vec<f64> = by_day.values().copied().collect();
            LikelyItem {
                sku: sku.to_owned(),
                expected_qty: median(&qtys).unwrap_or(0.0),
                probability: if total > 0.0 {
                    (weight / total).min(1.0)
                } else {
                    0.0
                },
            }
        })
        .collect();
    items.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then_with(|| a.sku.cmp(&b.sku))
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::tests::buy;

    #[test]
    fn regular_weekly_store_is_expected_a_week_after_its_last_order() {
        let h: Vec<Purchase> = (0..6)
            .flat_map(|k| {
                [
                    buy(100 + 7 * k, "COLA", 10.0),
                    buy(100 + 7 * k, "WATER", 4.0),
                ]
            })
            .chain([buy(114, "CHIPS", 2.0)])
            .collect();
        // Orders on 100, 107, ..., 135; today 138.
        let p = predict(&h, 138, &NextOrderParams::default());
        assert_eq!(p.orders_seen, 6);
        assert_eq!(p.last_order, Some(135));
        assert_eq!(p.interval_days, Some(7.0));
        assert_eq!(p.expected_on, Some(142));
        assert_eq!(p.overdue_days, 0);
        assert_eq!(p.confidence, Confidence::High);
        let skus: Vec<&str> = p.basket.iter().map(|i| i.sku.as_str()).collect();
        // CHIPS was in one old order: below the 0.3 threshold.
        assert_eq!(skus, vec!["COLA", "WATER"]);
        assert_eq!(p.basket[0].probability, 1.0);
        assert_eq!(p.basket[0].expected_qty, 10.0);
        assert_eq!(p.basket[1].expected_qty, 4.0);
    }

    #[test]
    fn overdue_days_count_from_the_expected_day() {
        let h = vec![buy(10, "A", 1.0), buy(20, "A", 1.0), buy(30, "A", 1.0)];
        let p = predict(&h, 47, &NextOrderParams::default());
        assert_eq!(p.expected_on, Some(40));
        assert_eq!(p.overdue_days, 7);
        assert_eq!(p.confidence, Confidence::Medium);
    }

    #[test]
    fn the_median_of_recent_intervals_ignores_one_long_gap_and_old_rhythm() {
        // Monthly long ago, then every 5 days with one 40-day holiday gap.
        let days = [0, 30, 60, 90, 95, 100, 140, 145, 150, 155];
        let h: Vec<Purchase> = days.iter().map(|d| buy(*d, "A", 1.0)).collect();
        let p = predict(&h, 156, &NextOrderParams::default());
        assert_eq!(p.interval_days, Some(5.0));
        assert_eq!(p.expected_on, Some(160));
    }

    #[test]
    fn purchases_on_or_after_today_are_not_seen() {
        let h = vec![buy(10, "A", 1.0), buy(20, "B", 1.0), buy(25, "C", 1.0)];
        let p = predict(&h, 20, &NextOrderParams::default());
        assert_eq!(p.orders_seen, 1);
        assert_eq!(p.expected_on, None);
        assert_eq!(p.confidence, Confidence::Low);
        assert_eq!(p.basket.len(), 1);
        assert_eq!(p.basket[0].sku, "A");
    }

    #[test]
    fn recent_orders_weigh_more_in_the_basket() {
        // A in the 4 old orders, B in the 4 recent ones: B ranks first.
        let h: Vec<Purchase> = (0..8)
            .map(|k| buy(k * 7, if k < 4 { "A" } else { "B" }, 1.0))
            .collect();
        let ranked = likely_basket(&h, 100, &NextOrderParams::default());
        assert_eq!(ranked[0].sku, "B");
        assert!(ranked[0].probability > 0.5 && ranked[1].probability < 0.5);
        // With equal weights both are in half of the orders.
        let flat = NextOrderParams {
            half_life_orders: f64::INFINITY,
            ..Default::default()
        };
        let ranked = likely_basket(&h, 100, &flat);
        assert_eq!(ranked[0].probability, 0.5);
        assert_eq!(ranked[1].probability, 0.5);
    }

    #[test]
    fn empty_history_predicts_nothing() {
        let p = predict(&[], 100, &NextOrderParams::default());
        assert_eq!(p.expected_on, None);
        assert_eq!(p.orders_seen, 0);
        assert!(p.basket.is_empty());
    }
}
