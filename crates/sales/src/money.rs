//! Exact money, line and order totals, and the order state machine. Pure: no I/O.
//!
//! **Money representation.** Amounts are `rust_decimal::Decimal` in Rust and in JSON
//! (exact decimal strings), stored as a scaled integer with 4 decimal places
//! (`*_scaled BIGINT`) beside an ISO 4217 currency — the CRM's convention, since sqlx has
//! no decimal type for SQLite. Quantities and percentages are stored the same way. Inputs
//! with more than 4 decimal places are refused (never silently rounded). A line's
//! discount and tax are rounded once, half away from zero, to the currency's minor unit
//! (2 places unless listed in [`minor_units`]); order totals are sums of rounded lines,
//! so an invoice always adds up line by line.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Decimal places every stored amount, quantity and percentage has.
pub const SCALE: u32 = 4;

/// A stored scaled integer back to its exact value, shown with at least 2 places.
pub fn from_scaled(scaled: i64) -> Decimal {
    let mut d = Decimal::new(scaled, SCALE).normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d
}

/// A quantity or percentage back from storage (no forced decimals).
pub fn plain_from_scaled(scaled: i64) -> Decimal {
    Decimal::new(scaled, SCALE).normalize()
}

/// The scaled integer of `value`; `Err` says why it cannot be stored.
pub fn to_scaled(value: Decimal) -> Result<i64, String> {
    if value.normalize().scale() > SCALE {
        return Err(format!("at most {SCALE} decimal places"));
    }
    value
        .checked_mul(Decimal::from(10_i64.pow(SCALE)))
        .and_then(|scaled| scaled.to_i64())
        .ok_or_else(|| "is too large".to_owned())
}

/// Decimal places of a currency's minor unit (ISO 4217).
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        _ => 2,
    }
}

/// An upper-case ISO 4217 code; `Err` says why not.
pub fn check_currency(currency: &str) -> Result<String, String> {
    let c = currency.trim().to_ascii_uppercase();
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err("must be an ISO 4217 code such as USD, EUR, SAR".to_owned())
    }
}

/// What a line is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    /// Quantity (> 0).
    pub quantity: Decimal,
    /// Unit price (≥ 0).
    pub unit_price: Decimal,
    /// Discount percentage (0–100).
    pub discount_pct: Decimal,
    /// Tax percentage (0–100), on the discounted amount.
    pub tax_pct: Decimal,
}

/// A line's amounts, each rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineAmounts {
    /// quantity × unit price.
    pub gross: Decimal,
    /// The discount taken off `gross`.
    pub discount: Decimal,
    /// gross − discount.
    pub net: Decimal,
    /// Tax on `net`.
    pub tax: Decimal,
    /// net + tax.
    pub total: Decimal,
}

/// An order's amounts: sums of its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderAmounts {
    /// Sum of line gross amounts.
    pub subtotal: Decimal,
    /// Sum of line discounts.
    pub discount: Decimal,
    /// Sum of line taxes.
    pub tax: Decimal,
    /// subtotal − discount + tax.
    pub total: Decimal,
}

fn round(value: Decimal, currency: &str) -> Decimal {
    value.round_dp_with_strategy(
        minor_units(currency),
        RoundingStrategy::MidpointAwayFromZero,
    )
}

/// A line's amounts in `currency`; `None` on overflow.
pub fn line_amounts(line: LineInput, currency: &str) -> Option<LineAmounts> {
    let hundred = Decimal::ONE_HUNDRED;
    let gross = round(line.quantity.checked_mul(line.unit_price)?, currency);
    let discount = round(gross.checked_mul(line.discount_pct)? / hundred, currency);
    let net = gross - discount;
    let tax = round(net.checked_mul(line.tax_pct)? / hundred, currency);
    Some(LineAmounts {
        gross,
        discount,
        net,
        tax,
        total: net.checked_add(tax)?,
    })
}

/// The order's amounts from its lines' amounts; `None` on overflow.
pub fn order_amounts(lines: &[LineAmounts]) -> Option<OrderAmounts> {
    let mut out = OrderAmounts::default();
    for l in lines {
        out.subtotal = out.subtotal.checked_add(l.gross)?;
        out.discount = out.discount.checked_add(l.discount)?;
        out.tax = out.tax.checked_add(l.tax)?;
        out.total = out.total.checked_add(l.total)?;
    }
    Some(out)
}

/// Where a sales order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Being entered; lines may change.
    Draft,
    /// Accepted: counts against the store's credit limit.
    Confirmed,
    /// Goods delivered; ready to invoice.
    Delivered,
    /// An invoice was issued for it (only through `POST /sales-orders/{id}/invoice`).
    Invoiced,
    /// Cancelled (from Draft or Confirmed).
    Cancelled,
}

impl OrderStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Invoiced => "invoiced",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => OrderStatus::Draft,
            "confirmed" => OrderStatus::Confirmed,
            "delivered" => OrderStatus::Delivered,
            "invoiced" => OrderStatus::Invoiced,
            "cancelled" => OrderStatus::Cancelled,
            _ => return None,
        })
    }

    /// Whether an order may go from `self` to `next`. Draft → Confirmed → Delivered →
    /// Invoiced; Draft or Confirmed → Cancelled. Nothing leaves Invoiced or Cancelled.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Draft, Confirmed)
                | (Draft, Cancelled)
                | (Confirmed, Delivered)
                | (Confirmed, Cancelled)
                | (Delivered, Invoiced)
        )
    }

    /// Whether the order counts against the store's credit (confirmed, not yet invoiced).
    pub fn is_open_commitment(self) -> bool {
        matches!(self, OrderStatus::Confirmed | OrderStatus::Delivered)
    }
}

/// An invoice's payment status, derived from its balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Nothing paid or credited.
    Open,
    /// Part of the total is settled.
    PartiallyPaid,
    /// Settled in full (payments and credit notes).
    Paid,
}

impl InvoiceStatus {
    /// From the total and what is settled (paid + credited).
    pub fn of(total: Decimal, settled: Decimal) -> Self {
        if settled >= total {
            InvoiceStatus::Paid
        } else if settled.is_zero() {
            InvoiceStatus::Open
        } else {
            InvoiceStatus::PartiallyPaid
        }
    }

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Paid => "paid",
        }
    }

    /// From the stored form (unknown → open).
    pub fn parse(s: &str) -> Self {
        match s {
            "partially_paid" => InvoiceStatus::PartiallyPaid,
            "paid" => InvoiceStatus::Paid,
            _ => InvoiceStatus::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn line_totals_are_exact_and_rounded_per_line() {
        let line = LineInput {
            quantity: d("3"),
            unit_price: d("19.99"),
            discount_pct: d("10"),
            tax_pct: d("15"),
        };
        let a = line_amounts(line, "SAR").expect("amounts");
        assert_eq!(a.gross, d("59.97"));
        // 5.997 rounds half away from zero to 6.00.
        assert_eq!(a.discount, d("6.00"));
        assert_eq!(a.net, d("53.97"));
        // 8.0955 → 8.10
        assert_eq!(a.tax, d("8.10"));
        assert_eq!(a.total, d("62.07"));
        // Three-decimal currencies keep their third place.
        let kwd = line_amounts(
            LineInput {
                quantity: d("1.5"),
                unit_price: d("0.333"),
                discount_pct: Decimal::ZERO,
                tax_pct: d("5"),
            },
            "KWD",
        )
        .expect("amounts");
        assert_eq!(kwd.gross, d("0.500"));
        assert_eq!(kwd.tax, d("0.025"));
    }

    #[test]
    fn order_totals_sum_lines_without_float_drift() {
        let line = line_amounts(
            LineInput {
                quantity: d("1"),
                unit_price: d("0.10"),
                discount_pct: Decimal::ZERO,
                tax_pct: Decimal::ZERO,
            },
            "USD",
        )
        .expect("amounts");
        let lines = vec![line; 3];
        let total = order_amounts(&lines).expect("sum");
        assert_eq!(total.total, d("0.30"));
        assert_eq!(total.subtotal - total.discount + total.tax, total.total);
    }

    #[test]
    fn scaled_round_trip_and_refusals() {
        assert_eq!(to_scaled(d("12.3456")), Ok(123_456));
        assert_eq!(from_scaled(123_456), d("12.3456"));
        assert_eq!(from_scaled(1_000_000).to_string(), "100.00");
        assert!(to_scaled(d("0.00001")).is_err());
        assert!(to_scaled(Decimal::MAX).is_err());
        assert_eq!(check_currency(" sar"), Ok("SAR".to_owned()));
        assert!(check_currency("dollars").is_err());
    }

    #[test]
    fn order_state_machine() {
        use OrderStatus::*;
        let all = [Draft, Confirmed, Delivered, Invoiced, Cancelled];
        let allowed: Vec<(OrderStatus, OrderStatus)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Draft, Confirmed),
                (Draft, Cancelled),
                (Confirmed, Delivered),
                (Confirmed, Cancelled),
                (Delivered, Invoiced),
            ]
        );
        for s in all {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert!(Confirmed.is_open_commitment() && Delivered.is_open_commitment());
        assert!(!Draft.is_open_commitment() && !Invoiced.is_open_commitment());
    }

    #[test]
    fn invoice_status_from_balance() {
        assert_eq!(InvoiceStatus::of(d("10"), d("0")), InvoiceStatus::Open);
        assert_eq!(
            InvoiceStatus::of(d("10"), d("4")),
            InvoiceStatus::PartiallyPaid
        );
        assert_eq!(InvoiceStatus::of(d("10"), d("10")), InvoiceStatus::Paid);
    }
}
