//! Sales analytics over the imported facts (issue 7, part 3a): distribution gaps
//! ([`gaps`]), market trends ([`trends`]), market totals and share erosion ([`share`]), and
//! alert events ([`alerts`]).
//!
//! Every request reads the rollups the import maintains (`sales_daily_rollup` for gaps,
//! `sales_outlet_daily_rollup` for the outlets a gap recommendation names,
//! `sales_monthly_rollup` for trends and share), never the 10-million-row fact table
//! (see [`gaps`]). Dimension ids are mapped to names in Rust from the small
//! dimension tables, so the aggregate queries need no joins. Design and figures:
//! docs/sales/analytics.md.

pub mod alerts;
pub mod gaps;
pub mod share;
pub mod trends;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use kernel::{Db, on_pool};
use uuid::Uuid;

use crate::facts::{date_of_day, month_number, month_start};
use crate::model::SalesError;

/// Query parameters as the client sent them.
pub type Params = BTreeMap<String, String>;

/// A geography row of the facts: region, province, precision area.
#[derive(Debug, Clone)]
pub(crate) struct Area {
    pub region: String,
    pub province: String,
    pub precision_area: String,
}

/// A SKU of the facts with its pack type.
#[derive(Debug, Clone)]
pub(crate) struct Sku {
    pub sku: String,
    pub pack_type: String,
}

/// The organisation's fact dimensions, by id (hundreds of rows: read whole).
pub(crate) struct Dimensions {
    pub areas: HashMap<i64, Area>,
    pub skus: HashMap<i64, Sku>,
}

impl Dimensions {
    /// Reads the organisation's areas and SKUs.
    pub async fn load(db: &Db, org: Uuid) -> Result<Self, SalesError> {
        let areas: Vec<(i64, String, String, String)> = on_pool!(db, |p| {
            sqlx::query_as(
            "SELECT id, region, province, precision_area FROM sales_fact_areas WHERE org_id = $1"
        )
        .bind(org)
        .fetch_all(p)
        .await
        })?;
        let skus: Vec<(i64, String, String)> = on_pool!(db, |p| sqlx::query_as(
            "SELECT id, sku, pack_type FROM sales_fact_skus WHERE org_id = $1"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        Ok(Self {
            areas: areas
                .into_iter()
                .map(|(id, region, province, precision_area)| {
                    (
                        id,
                        Area {
                            region,
                            province,
                            precision_area,
                        },
                    )
                })
                .collect(),
            skus: skus
                .into_iter()
                .map(|(id, sku, pack_type)| (id, Sku { sku, pack_type }))
                .collect(),
        })
    }
}

/// `AND column IN (1, 2, 3)` from ids we read ourselves (integers, so safe to inline;
/// inlining keeps both backends free to seek the index per value). An empty set matches
/// nothing.
pub(crate) fn id_list_clause(column: &str, ids: &[i64]) -> String {
    if ids.is_empty() {
        return " AND 1 = 0".to_owned();
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!(" AND {column} IN ({})", list.join(", "))
}

/// A trimmed, non-empty query parameter.
pub(crate) fn text_param(params: &Params, name: &str) -> Option<String> {
    params
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `YYYY-MM-DD` query parameter; a 422 naming it when unreadable.
pub(crate) fn date_param(params: &Params, name: &str) -> Result<Option<NaiveDate>, SalesError> {
    match text_param(params, name) {
        None => Ok(None),
        Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| SalesError::field(name, "must be a date YYYY-MM-DD")),
    }
}

/// A `YYYY-MM` query parameter as a month number; a 422 naming it when unreadable.
pub(crate) fn month_param(params: &Params, name: &str) -> Result<Option<i32>, SalesError> {
    match text_param(params, name) {
        None => Ok(None),
        Some(text) => parse_month(&text)
            .map(Some)
            .ok_or_else(|| SalesError::field(name, "must be a month YYYY-MM")),
    }
}

/// `YYYY-MM` as a month number (`year * 12 + month - 1`).
pub(crate) fn parse_month(text: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").ok()?;
    if text.trim().len() != 7 {
        return None;
    }
    Some(month_number(date))
}

/// A month number as `YYYY-MM`.
pub(crate) fn month_label(month: i32) -> String {
    let start = month_start(month);
    format!("{:04}-{:02}", start.year(), start.month())
}

/// A day number as `YYYY-MM-DD`.
pub(crate) fn day_label(day: i32) -> String {
    date_of_day(day).format("%Y-%m-%d").to_string()
}

/// `(now - base) / base` as a fraction; `None` when there is no base to grow from.
pub(crate) fn growth(now: i64, base: i64) -> Option<f64> {
    if base == 0 {
        return None;
    }
    // Amounts are scaled integers far below 2^53 in practice; the ratio is a display value.
    Some(round6((now - base) as f64 / base as f64))
}

/// Six decimal places: enough for a fraction shown as a percentage with 4 places.
pub(crate) fn round6(x: f64) -> f64 {
    (x * 1_000_000.0).round() / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_round_trip_and_refuse_garbage() {
        let m = parse_month("2026-03").expect("month");
        assert_eq!(m, 2026 * 12 + 2);
        assert_eq!(month_label(m), "2026-03");
        assert_eq!(month_label(m - 3), "2025-12");
        assert!(parse_month("2026-13").is_none());
        assert!(parse_month("2026-3-1").is_none());
        assert!(parse_month("march").is_none());
    }

    #[test]
    fn growth_is_null_without_a_base() {
        assert_eq!(growth(150, 100), Some(0.5));
        assert_eq!(growth(50, 100), Some(-0.5));
        assert_eq!(growth(10, 0), None);
    }

    #[test]
    fn empty_id_lists_match_nothing() {
        assert_eq!(id_list_clause("area_id", &[]), " AND 1 = 0");
        assert_eq!(id_list_clause("area_id", &[3, 5]), " AND area_id IN (3, 5)");
    }
}
