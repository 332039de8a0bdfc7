//! Call priority: a 0–100 score per store saying how much a call today is worth, made
//! of four explained parts so the rep sees *why* a store is on top.
//!
//! | factor | points | from |
//! |---|---|---|
//! | `overdue` | up to 40 | days since the last order over the store's typical interval: 0 until 75% of the interval, 40 from 150% to 300%, linear between; beyond 300% the store has lapsed and the points fall linearly to 0 at 600% |
//! | `value` | up to 30 | the store's value in the last 90 days, as a percentile among the stores scored together |
//! | `decline` | up to 20 | the drop of the last 90 days' value against the 90 days before (a 50% drop = 10 points) |
//! | `open_issues` | up to 10 | open helpdesk tickets of the store's company, 5 points each |
//!
//! Why these weights: the visit's purpose is the order that is due (overdue dominates),
//! but among equally due stores the bigger ones matter more, and a store that is
//! slipping away or is unhappy is worth the call even before it is due.

use super::Purchase;

/// The window of "recent" value and of the decline comparison, in days.
pub const VALUE_WINDOW_DAYS: i32 = 90;

/// Maximum points per factor.
pub const OVERDUE_POINTS: f64 = 40.0;
/// From this many intervals without an order a store counts as lapsed: its overdue
/// points fall linearly to 0 at twice as many.
pub const LAPSED_FROM: f64 = 3.0;
/// Maximum points for the store's value.
pub const VALUE_POINTS: f64 = 30.0;
/// Maximum points for a declining store.
pub const DECLINE_POINTS: f64 = 20.0;
/// Maximum points for open issues.
pub const ISSUE_POINTS: f64 = 10.0;

/// What the score of one store is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSignals {
    /// Days since the last order (`None`: never ordered).
    pub days_since_last: Option<i32>,
    /// The store's typical interval between orders (`None`: unknown).
    pub interval_days: Option<f64>,
    /// Value bought in the last [`VALUE_WINDOW_DAYS`] days.
    pub recent_value: f64,
    /// Value bought in the [`VALUE_WINDOW_DAYS`] days before those.
    pub previous_value: f64,
    /// Open helpdesk tickets of the store's company.
    pub open_issues: u64,
}

impl StoreSignals {
    /// The purchase-based signals of a store at `today` (open issues 0: the caller adds them).
    pub fn from_history(history: &[Purchase], today: i32, interval_days: Option<f64>) -> Self {
        let last = history
            .iter()
            .filter(|p| p.day < today)
            .map(|p| p.day)
            .max();
        let sum = |from: i32, to: i32| -> f64 {
            history
                .iter()
                .filter(|p| p.day >= from && p.day < to)
                .map(|p| p.value)
                .sum()
        };
        Self {
            days_since_last: last.map(|d| today - d),
            interval_days,
            recent_value: sum(today - VALUE_WINDOW_DAYS, today),
            previous_value: sum(today - 2 * VALUE_WINDOW_DAYS, today - VALUE_WINDOW_DAYS),
            open_issues: 0,
        }
    }
}

/// Which factor a part of the score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// The expected order is due or past due.
    Overdue,
    /// The store buys a lot.
    Value,
    /// The store buys less than before.
    Decline,
    /// The store has open helpdesk tickets.
    OpenIssues,
}

impl Factor {
    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Overdue => "overdue",
            Factor::Value => "value",
            Factor::Decline => "decline",
            Factor::OpenIssues => "open_issues",
        }
    }
}

/// One part of a score, explained.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The factor.
    pub factor: Factor,
    /// Points it adds (rounded to 0.1).
    pub points: f64,
    /// Why, in words.
    pub detail: String,
}

/// A store's call priority.
#[derive(Debug, Clone, PartialEq)]
pub struct Priority {
    /// 0–100 (rounded to 0.1), the sum of the reasons' points.
    pub score: f64,
    /// Every factor, largest first (zero-point factors too, so the rep sees all four).
    pub reasons: Vec<Reason>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Scores stores together (the value factor is a percentile among them); the output is
/// in the input's order.
pub fn score(stores: &[StoreSignals]) -> Vec<Priority> {
    let values: Vec<f64> = stores.iter().map(|s| s.recent_value).collect();
    stores
        .iter()
        .map(|s| {
            let mut reasons = vec![
                overdue(s),
                value(s.recent_value, &values),
                decline(s),
                issues(s.open_issues),
            ];
            reasons.sort_by(|a, b| b.points.total_cmp(&a.points));
            Priority {
                score: round1(reasons.iter().map(|r| r.points).sum::<f64>()).min(100.0),
                reasons,
            }
        })
        .collect()
}

fn overdue(s: &StoreSignals) -> Reason {
    let (points, detail) = match (s.days_since_last, s.interval_days) {
        (Some(since), Some(interval)) if interval > 0.0 => {
            let ratio = f64::from(since) / interval;
            let points = if ratio <= LAPSED_FROM {
                OVERDUE_POINTS * ((ratio - 0.75) / 0.75).clamp(0.0, 1.0)
            } else {
                // Long past due: a store that stopped ordering (a win-back), not an order
                // waiting for today's call.
                OVERDUE_POINTS * ((2.0 * LAPSED_FROM - ratio) / LAPSED_FROM).clamp(0.0, 1.0)
            };
            let lapsed = if ratio > LAPSED_FROM {
                "; lapsed rather than due"
            } else {
                ""
            };
            (
                points,
                format!(
                    "{since} days since the last order; it usually orders every {interval:.0} days ({:.0}% of the interval){lapsed}",
                    ratio * 100.0
                ),
            )
        }
        (Some(since), _) => (
            0.0,
            format!("{since} days since the only order: no rhythm yet"),
        ),
        (None, _) => (0.0, "no order yet".to_owned()),
    };
    Reason {
        factor: Factor::Overdue,
        points: round1(points),
        detail,
    }
}

fn value(mine: f64, all: &[f64]) -> Reason {
    // `+ 0.0` turns a negative zero (a sum of refunds and nothing) into "0.00", not "-0.00".
    let mine = mine + 0.0;
    // Mid-rank percentile: ties share the rank, the smallest store is not always 0.
    let below = all.iter().filter(|v| **v < mine).count() as f64;
    let equal = all.iter().filter(|v| **v == mine).count() as f64;
    let pct = if all.is_empty() || mine <= 0.0 {
        0.0
    } else {
        (below + equal / 2.0) / all.len() as f64
    };
    Reason {
        factor: Factor::Value,
        points: round1(VALUE_POINTS * pct),
        detail: format!(
            "bought {mine:.2} in the last {VALUE_WINDOW_DAYS} days, more than {:.0}% of these stores",
            below / all.len().max(1) as f64 * 100.0
        ),
    }
}

fn decline(s: &StoreSignals) -> Reason {
    let (points, detail) = if s.previous_value > 0.0 {
        let drop = (1.0 - s.recent_value / s.previous_value).clamp(0.0, 1.0);
        (
            DECLINE_POINTS * drop,
            format!(
                "last {VALUE_WINDOW_DAYS} days {:.2} against {:.2} the {VALUE_WINDOW_DAYS} days before ({:+.0}%)",
                s.recent_value,
                s.previous_value,
                (s.recent_value / s.previous_value - 1.0) * 100.0
            ),
        )
    } else {
        (
            0.0,
            format!(
                "nothing bought in the {VALUE_WINDOW_DAYS} days before the last {VALUE_WINDOW_DAYS}"
            ),
        )
    };
    Reason {
        factor: Factor::Decline,
        points: round1(points),
        detail,
    }
}

fn issues(open: u64) -> Reason {
    Reason {
        factor: Factor::OpenIssues,
        points: round1((open as f64 * ISSUE_POINTS / 2.0).min(ISSUE_POINTS)),
        detail: format!("{open} open helpdesk ticket(s)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::tests::buy;

    fn signals(
        since: Option<i32>,
        interval: Option<f64>,
        recent: f64,
        previous: f64,
        open: u64,
    ) -> StoreSignals {
        StoreSignals {
            days_since_last: since,
            interval_days: interval,
            recent_value: recent,
            previous_value: previous,
            open_issues: open,
        }
    }

    fn points(p: &Priority, f: Factor) -> f64 {
        p.reasons
            .iter()
            .find(|r| r.factor == f)
            .map_or(-1.0, |r| r.points)
    }

    #[test]
    fn each_factor_scores_as_documented() {
        let scored = score(&[
            // Exactly 1.5 intervals since the last order: full overdue points.
            signals(Some(15), Some(10.0), 100.0, 100.0, 0),
            // At 75% of the interval: none; value halved: 10 decline points.
            signals(Some(6), Some(8.0), 50.0, 100.0, 1),
            // Biggest store, 3 open tickets (capped at 10 points), never ordered before.
            signals(Some(3), None, 400.0, 0.0, 3),
        ]);
        assert_eq!(points(&scored[0], Factor::Overdue), 40.0);
        assert_eq!(points(&scored[1], Factor::Overdue), 0.0);
        assert_eq!(points(&scored[1], Factor::Decline), 10.0);
        assert_eq!(points(&scored[0], Factor::Decline), 0.0);
        assert_eq!(points(&scored[1], Factor::OpenIssues), 5.0);
        assert_eq!(points(&scored[2], Factor::OpenIssues), 10.0);
        // Value percentiles (mid-rank) among the three: 1/2, 1/6, 5/6.
        assert_eq!(points(&scored[0], Factor::Value), 15.0);
        assert_eq!(points(&scored[1], Factor::Value), 5.0);
        assert_eq!(points(&scored[2], Factor::Value), 25.0);
        assert_eq!(scored[0].score, 55.0);
        assert_eq!(scored[1].score, 20.0);
        assert_eq!(scored[2].score, 35.0);
        // Reasons are largest first and all four are there.
        assert_eq!(scored[0].reasons[0].factor, Factor::Overdue);
        assert_eq!(scored[0].reasons.len(), 4);
    }

    #[test]
    fn overdue_points_grow_linearly_between_75_and_150_percent() {
        let s = score(&[signals(Some(9), Some(8.0), 0.0, 0.0, 0)]);
        // ratio 1.125: halfway → 20 points.
        assert_eq!(points(&s[0], Factor::Overdue), 20.0);
        assert_eq!(points(&s[0], Factor::Value), 0.0);
    }

    #[test]
    fn lapsed_stores_lose_overdue_points() {
        let s = score(&[
            signals(Some(30), Some(10.0), 0.0, 0.0, 0),
            signals(Some(45), Some(10.0), 0.0, 0.0, 0),
            signals(Some(60), Some(10.0), 0.0, 0.0, 0),
            signals(Some(90), Some(10.0), 0.0, 0.0, 0),
        ]);
        assert_eq!(points(&s[0], Factor::Overdue), 40.0);
        assert_eq!(points(&s[1], Factor::Overdue), 20.0);
        assert_eq!(points(&s[2], Factor::Overdue), 0.0);
        assert_eq!(points(&s[3], Factor::Overdue), 0.0);
        assert!(s[1].reasons.iter().any(|r| r.detail.contains("lapsed")));
    }

    #[test]
    fn signals_from_history_use_the_two_windows() {
        let h = vec![buy(10, "A", 1.0), buy(150, "A", 2.0), buy(195, "B", 3.0)];
        // today 200: recent = days 110..199, previous = days 20..109.
        let s = StoreSignals::from_history(&h, 200, Some(30.0));
        assert_eq!(s.days_since_last, Some(5));
        assert_eq!(s.recent_value, 50.0);
        assert_eq!(s.previous_value, 0.0);
        let s = StoreSignals::from_history(&h, 101, None);
        assert_eq!(s.recent_value, 0.0);
        assert_eq!(s.previous_value, 10.0);
        assert_eq!(s.days_since_last, Some(91));
    }
}
