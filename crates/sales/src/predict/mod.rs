//! Sales predictions for the rep's "today's calls" (issue 7, part 3b): when a store will
//! probably order next and what, which products it could be offered, which stores are
//! most worth a call today, and forecasts of demand with their deviation from actuals.
//!
//! Reads top-down: the pure algorithms over a plain purchase history — [`next_order`],
//! [`upsell`], [`priority`], [`deviation`] — each unit-tested with an injected "today"
//! and evaluated offline on real data by `meridian sales-eval`; then [`service`], which
//! gathers a store's history from its sales orders and the imported sales facts of its
//! outlets and calls them. See docs/sales/predictions.md.

pub mod deviation;
pub mod next_order;
pub mod priority;
pub mod service;
pub mod upsell;

/// One purchase of one product on one day by one store: a sales-order line, or an
/// imported sales fact with a positive quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    /// Days since 1970-01-01.
    pub day: i32,
    /// Product key: the SKU, upper-cased (as `sales_products.sku_key`).
    pub sku: String,
    /// Quantity bought (> 0).
    pub qty: f64,
    /// Net value of the purchase.
    pub value: f64,
}

/// The days on which a store bought anything, ascending and distinct ("order occasions":
/// two orders on one day are one visit's worth of demand).
pub fn occasions(history: &[Purchase], before: i32) -> Vec<i32> {
    let mut days: Vec<i32> = history
        .iter()
        .filter(|p| p.day < before)
        .map(|p| p.day)
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// The median of `values` (`None` when empty); sorts a copy.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn buy(day: i32, sku: &str, qty: f64) -> Purchase {
        Purchase {
            day,
            sku: sku.into(),
            qty,
            value: qty * 10.0,
        }
    }

    #[test]
    fn occasions_are_distinct_days_before_today() {
        let h = vec![
            buy(5, "A", 1.0),
            buy(1, "B", 1.0),
            buy(5, "B", 2.0),
            buy(9, "A", 1.0),
        ];
        assert_eq!(occasions(&h, 9), vec![1, 5]);
        assert_eq!(occasions(&h, 10), vec![1, 5, 9]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
