//! Market totals and market share.
//!
//! Market totals (`month, region, pack_type, market_value[, market_qty]`) come as CSV or
//! JSON; every bad row is reported by row and column and nothing is written unless all
//! rows are good; the same (month, region, pack type) again replaces the row.
//!
//! Share = our value ÷ market value, per key (region or pack type) and month, over the
//! (region, pack type) cells that have a market total — our sales of a pack type the
//! panel does not cover would otherwise inflate the share. A key is **eroding** when its
//! share in the last month of the range is at least 2 percentage points below its share
//! three months before (compared exactly on the scaled integers).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kernel::{Db, FieldError, SharedClock, TenantContext, on_pool, on_tx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Dimensions, Params, month_label, month_param, parse_month, text_param};
use crate::model::SalesError;
use crate::money::{plain_from_scaled, to_scaled};

/// Rows one upload may carry.
pub const MAX_ROWS: usize = 50_000;
/// Months over which erosion is measured.
pub const EROSION_MONTHS: i32 = 3;
/// Share drop (percentage points) that counts as erosion.
pub const EROSION_POINTS: i64 = 2;
/// Share drop (percentage points) that makes an erosion alert CRITICAL.
pub const CRITICAL_EROSION_POINTS: i64 = 5;

/// One validated market total.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTotal {
    /// Month number.
    pub month: i32,
    /// Region.
    pub region: String,
    /// Pack type.
    pub pack_type: String,
    /// Market value, scaled.
    pub market_value_scaled: i64,
    /// Market quantity, scaled.
    pub market_qty_scaled: Option<i64>,
}

/// What `POST /api/v1/sales/market-totals` did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarketTotalsImported {
    /// Rows received.
    pub rows: usize,
    /// New keys.
    pub inserted: usize,
    /// Keys that existed and were replaced.
    pub replaced: usize,
    /// First month (`YYYY-MM`).
    pub from: Option<String>,
    /// Last month (`YYYY-MM`).
    pub to: Option<String>,
}

/// A market-totals upload as received.
pub enum MarketTotalsBody<'a> {
    /// CSV text with a header row.
    Csv(&'a str),
    /// JSON `{rows: [...]}`.
    Json(&'a serde_json::Value),
}

fn json_cell(row: &serde_json::Value, name: &str) -> Option<String> {
    match row.get(name)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        other => Some(other.to_string()),
    }
}

/// Validates one row's cells; errors name `rows[{label}].{column}`.
fn check_row(
    label: usize,
    cell: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<MarketTotal> {
    let before = errors.len();
    let mut bad = |column: &str, message: &str| {
        errors.push(FieldError::new(format!("rows[{label}].{column}"), message));
    };
    let month = match cell("month") {
        None => {
            bad("month", "is required (YYYY-MM)");
            0
        }
        Some(m) => parse_month(&m).unwrap_or_else(|| {
            bad("month", "must be a month YYYY-MM");
            0
        }),
    };
    let mut text = |column: &str| match cell(column) {
        None => {
            bad(column, "is required");
            String::new()
        }
        Some(v) if v.chars().count() > 200 => {
            bad(column, "must be at most 200 characters");
            String::new()
        }
        Some(v) => v,
    };
    let region = text("region");
    let pack_type = text("pack_type");
    let mut amount = |column: &str, required: bool| -> Option<i64> {
        let Some(raw) = cell(column) else {
            if required {
                bad(column, "is required");
            }
            return None;
        };
        match raw.parse::<Decimal>() {
            Ok(v) if v.is_sign_negative() => {
                bad(column, "must not be negative");
                None
            }
            Ok(v) => match to_scaled(v) {
                Ok(scaled) => Some(scaled),
                Err(message) => {
                    bad(column, &message);
                    None
                }
            },
            Err(_) => {
                bad(column, "must be a decimal number");
                None
            }
        }
    };
    let market_value = amount("market_value", true);
    let market_qty = amount("market_qty", false);
    if errors.len() > before {
        return None;
    }
    Some(MarketTotal {
        month,
        region,
        pack_type,
        market_value_scaled: market_value.unwrap_or(0),
        market_qty_scaled: market_qty,
    })
}

/// Every row validated; all errors at once (CSV rows are numbered as in the spreadsheet,
/// the header being row 1; JSON rows by their index in `rows`).
pub fn parse_market_totals(body: MarketTotalsBody<'_>) -> Result<Vec<MarketTotal>, SalesError> {
    let mut errors = Vec::new();
    let mut totals = Vec::new();
    match body {
        MarketTotalsBody::Csv(text) => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers: Vec<String> = match reader.headers() {
                Ok(h) => h.iter().map(|h| h.trim().to_lowercase()).collect(),
                Err(_) => return Err(SalesError::field("body", "unreadable CSV header")),
            };
            for needed in ["month", "region", "pack_type", "market_value"] {
                if !headers.iter().any(|h| h == needed) {
                    errors.push(FieldError::new(
                        format!("columns.{needed}"),
                        "missing column (expected month, region, pack_type, market_value[, market_qty])",
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(SalesError::Validation(errors));
            }
            for (i, record) in reader.records().enumerate() {
                let line = i + 2;
                if i >= MAX_ROWS {
                    return Err(SalesError::field(
                        "rows",
                        format!("at most {MAX_ROWS} rows per upload"),
                    ));
                }
                let Ok(record) = record else {
                    errors.push(FieldError::new(
                        format!("rows[{line}]"),
                        "unreadable CSV row",
                    ));
                    continue;
                };
                let cell = |name: &str| {
                    let at = headers.iter().position(|h| h == name)?;
                    record.get(at).map(str::to_owned).filter(|v| !v.is_empty())
                };
                if let Some(row) = check_row(line, &cell, &mut errors) {
                    totals.push(row);
                }
            }
        }
        MarketTotalsBody::Json(value) => {
            let Some(rows) = value.get("rows").and_then(|r| r.as_array()) else {
                return Err(SalesError::field("rows", "must be an array of rows"));
            };
            if rows.len() > MAX_ROWS {
                return Err(SalesError::field(
                    "rows",
                    format!("at most {MAX_ROWS} rows per upload"),
                ));
            }
            for (i, row) in rows.iter().enumerate() {
                if !row.is_object() {
                    errors.push(FieldError::new(format!("rows[{i}]"), "must be an object"));
                    continue;
                }
                let cell = |name: &str| json_cell(row, name);
                if let Some(total) = check_row(i, &cell, &mut errors) {
                    totals.push(total);
                }
            }
        }
    }
    if totals.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("rows", "no rows"));
    }
    let mut seen = BTreeSet::new();
    for total in &totals {
        if !seen.insert((total.month, total.region.clone(), total.pack_type.clone())) {
            errors.push(FieldError::new(
                "rows",
                format!(
                    "{} / {} / {} appears twice",
                    month_label(total.month),
                    total.region,
                    total.pack_type
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(totals)
    } else {
        Err(SalesError::Validation(errors))
    }
}

/// Validates and stores market totals for a caller with `sales:import`, all or nothing,
/// with an audit row and a `sales.market_totals_imported` event.
pub async fn import_market_totals(
    db: &Db,
    clock: &SharedClock,
    ctx: &TenantContext,
    body: MarketTotalsBody<'_>,
) -> Result<MarketTotalsImported, SalesError> {
    ctx.authorize("sales:import")?;
    let totals = parse_market_totals(body)?;
    let org = ctx.org_id();
    let first = totals.iter().map(|t| t.month).min().unwrap_or(0);
    let last = totals.iter().map(|t| t.month).max().unwrap_or(0);
    let mut tx = db.begin().await?;
    let existing: Vec<(i32, String, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT month, region, pack_type FROM sales_market_totals WHERE org_id = $1 AND month >= $2 AND month <= $3"
    )
    .bind(org)
    .bind(first)
    .bind(last)
    .fetch_all(c)
    .await
    })?;
    let existing: BTreeSet<(i32, String, String)> = existing.into_iter().collect();
    let replaced = totals
        .iter()
        .filter(|t| existing.contains(&(t.month, t.region.clone(), t.pack_type.clone())))
        .count();
    let now = clock.now();
    // 7 parameters a row: 500 rows stay under both backends' parameter limits.
    for chunk in totals.chunks(500) {
        let sql = format!(
            "INSERT INTO sales_market_totals (org_id, month, region, pack_type, market_value_scaled, market_qty_scaled, updated_at) \
             VALUES {} ON CONFLICT (org_id, month, region, pack_type) DO UPDATE SET \
             market_value_scaled = excluded.market_value_scaled, market_qty_scaled = excluded.market_qty_scaled, \
             updated_at = excluded.updated_at",
            kernel::db::values_placeholders(tx.backend(), chunk.len(), 7)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for t in chunk {
                query = query
                    .bind(org)
                    .bind(t.month)
                    .bind(&t.region)
                    .bind(&t.pack_type)
                    .bind(t.market_value_scaled)
                    .bind(t.market_qty_scaled)
                    .bind(now);
            }
            query.execute(c).await.map(|_| ())
        })?;
    }
    let report = MarketTotalsImported {
        rows: totals.len(),
        inserted: totals.len() - replaced,
        replaced,
        from: Some(month_label(first)),
        to: Some(month_label(last)),
    };
    let details = serde_json::to_value(&report).unwrap_or_default();
    let upload = Uuid::now_v7();
    crate::service::record_action(
        &mut tx,
        clock,
        ctx,
        "sales.market_totals_imported",
        "sales_market_totals",
        upload,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// One key's share over the months.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShareSeries {
    /// The region or pack type.
    pub key: String,
    /// Our sales value per month, over the cells with a market total.
    #[schema(value_type = Vec<String>)]
    pub our_value: Vec<Decimal>,
    /// Market value per month (`null`: no market total that month).
    #[schema(value_type = Vec<Option<String>>)]
    pub market_value: Vec<Option<Decimal>>,
    /// `our_value / market_value` (fraction); `null` without a market value.
    pub share: Vec<Option<f64>>,
    /// Last share − first share in the range (fraction points, e.g. −0.03 = 3 points
    /// lost); `null` unless both exist.
    pub change: Option<f64>,
    /// Last share − share 3 months before it; `null` unless both exist.
    pub change_3m: Option<f64>,
    /// `change_3m` ≤ −0.02 (exactly).
    pub eroding: bool,
}

/// `GET /api/v1/sales/market-share`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShareReport {
    /// `region` or `pack_type`.
    pub by: String,
    /// `YYYY-MM`, oldest first.
    pub months: Vec<String>,
    /// One series per key with a market total, by key.
    pub series: Vec<ShareSeries>,
}

/// Our value and the market's for one key and month.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    ours: i64,
    market: i64,
    has_market: bool,
}

fn share_of(c: &Cell) -> Option<f64> {
    (c.has_market && c.market > 0).then(|| super::round6(c.ours as f64 / c.market as f64))
}

/// Share drop from `before` to `after` of at least `points` percentage points, exactly:
/// `after.ours/after.market − before.ours/before.market ≤ −points/100`.
pub fn dropped_by(before: (i64, i64), after: (i64, i64), points: i64) -> bool {
    let (bo, bm) = (i128::from(before.0), i128::from(before.1));
    let (ao, am) = (i128::from(after.0), i128::from(after.1));
    if bm <= 0 || am <= 0 {
        return false;
    }
    100 * (ao * bm - bo * am) <= -i128::from(points) * am * bm
}

/// What a share request asks for.
#[derive(Debug, Clone)]
pub struct ShareQuery {
    /// `true`: by pack type; `false`: by region.
    pub by_pack_type: bool,
    /// First month; default `to` − 11.
    pub from: Option<i32>,
    /// Last month; default the latest month with market totals.
    pub to: Option<i32>,
}

impl ShareQuery {
    /// From query parameters; 422 naming the parameter when one is unreadable.
    pub fn from_params(params: &Params) -> Result<Self, SalesError> {
        let by_pack_type = match text_param(params, "by").as_deref() {
            None | Some("region") => false,
            Some("pack_type") => true,
            Some(_) => return Err(SalesError::field("by", "must be region or pack_type")),
        };
        Ok(Self {
            by_pack_type,
            from: month_param(params, "from")?,
            to: month_param(params, "to")?,
        })
    }
}

/// Market share without the permission check (the alert scan uses it).
pub async fn compute_share(
    db: &Db,
    org: Uuid,
    q: &ShareQuery,
    this_month: i32,
) -> Result<ShareReport, SalesError> {
    let to = match q.to {
        Some(to) => to,
        None => {
            let latest: Option<i32> = on_pool!(db, |p| sqlx::query_scalar(
                "SELECT MAX(month) FROM sales_market_totals WHERE org_id = $1"
            )
            .bind(org)
            .fetch_one(p)
            .await)?;
            latest.unwrap_or(this_month)
        }
    };
    let from = q.from.unwrap_or(to - super::trends::DEFAULT_MONTHS + 1);
    if from > to {
        return Err(SalesError::field("from", "must not be after `to`"));
    }
    if to - from + 1 > super::trends::MAX_MONTHS {
        return Err(SalesError::field(
            "from",
            format!(
                "the range may span at most {} months",
                super::trends::MAX_MONTHS
            ),
        ));
    }
    let market: Vec<(i32, String, String, i64)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT month, region, pack_type, market_value_scaled FROM sales_market_totals \
         WHERE org_id = $1 AND month >= $2 AND month <= $3"
    )
    .bind(org)
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)?;
    let ours: Vec<(i32, i64, i64, i64)> = on_pool!(db, |p| {
        sqlx::query_as(
        "SELECT month, area_id, sku_id, CAST(SUM(value_scaled) AS BIGINT) FROM sales_monthly_rollup \
         WHERE org_id = $1 AND month >= $2 AND month <= $3 GROUP BY month, area_id, sku_id"
    )
    .bind(org)
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await
    })?;
    let dims = Dimensions::load(db, org).await?;
    // Our value per (month, region, pack type).
    let mut our_cells: HashMap<(i32, String, String), i64> = HashMap::new();
    for (month, area_id, sku_id, value) in ours {
        if let (Some(area), Some(sku)) = (dims.areas.get(&area_id), dims.skus.get(&sku_id)) {
            *our_cells
                .entry((month, area.region.clone(), sku.pack_type.clone()))
                .or_default() += value;
        }
    }
    let width = (to - from + 1) as usize;
    let mut by_key: BTreeMap<String, Vec<Cell>> = BTreeMap::new();
    for (month, region, pack_type, market_value) in market {
        let ours = our_cells
            .get(&(month, region.clone(), pack_type.clone()))
            .copied()
            .unwrap_or(0);
        let key = if q.by_pack_type { pack_type } else { region };
        let cell = &mut by_key
            .entry(key)
            .or_insert_with(|| vec![Cell::default(); width])[(month - from) as usize];
        cell.ours += ours;
        cell.market += market_value;
        cell.has_market = true;
    }
    let series = by_key
        .into_iter()
        .map(|(key, cells)| share_series(key, &cells))
        .collect();
    Ok(ShareReport {
        by: if q.by_pack_type {
            "pack_type"
        } else {
            "region"
        }
        .to_owned(),
        months: (from..=to).map(month_label).collect(),
        series,
    })
}

fn share_series(key: String, cells: &[Cell]) -> ShareSeries {
    let shares: Vec<Option<f64>> = cells.iter().map(share_of).collect();
    let with_share: Vec<usize> = (0..cells.len()).filter(|i| shares[*i].is_some()).collect();
    let change = match (with_share.first(), with_share.last()) {
        (Some(a), Some(b)) if a != b => Some(super::round6(
            shares[*b].unwrap_or(0.0) - shares[*a].unwrap_or(0.0),
        )),
        _ => None,
    };
    let last = cells.len() - 1;
    let lag = EROSION_MONTHS as usize;
    let (change_3m, eroding) =
        if last >= lag && shares[last].is_some() && shares[last - lag].is_some() {
            let (after, before) = (&cells[last], &cells[last - lag]);
            (
                Some(super::round6(
                    shares[last].unwrap_or(0.0) - shares[last - lag].unwrap_or(0.0),
                )),
                dropped_by(
                    (before.ours, before.market),
                    (after.ours, after.market),
                    EROSION_POINTS,
                ),
            )
        } else {
            (None, false)
        };
    ShareSeries {
        key,
        our_value: cells.iter().map(|c| plain_from_scaled(c.ours)).collect(),
        market_value: cells
            .iter()
            .map(|c| c.has_market.then(|| plain_from_scaled(c.market)))
            .collect(),
        share: shares,
        change,
        change_3m,
        eroding,
    }
}

/// `GET /api/v1/sales/market-share` for a caller with `sales:read`.
pub async fn market_share(
    db: &Db,
    ctx: &TenantContext,
    params: &Params,
    this_month: i32,
) -> Result<ShareReport, SalesError> {
    ctx.authorize("sales:read")?;
    let q = ShareQuery::from_params(params)?;
    compute_share(db, ctx.org_id(), &q, this_month).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erosion_is_exact_at_two_points() {
        // 30% → 28%: exactly 2 points.
        assert!(dropped_by((30, 100), (28, 100), 2));
        // 30% → 28.01%: not quite.
        assert!(!dropped_by((3000, 10000), (2801, 10000), 2));
        assert!(!dropped_by((30, 100), (35, 100), 2));
        assert!(!dropped_by((30, 0), (10, 100), 2));
    }

    #[test]
    fn every_bad_row_is_reported_by_row_and_column() {
        let csv = "month,region,pack_type,market_value\n2026-01,Central,can,100\n2026-13,,can,-5\n2026-02,East,can,abc\n";
        let Err(SalesError::Validation(errors)) = parse_market_totals(MarketTotalsBody::Csv(csv))
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "rows[3].month",
                "rows[3].region",
                "rows[3].market_value",
                "rows[4].market_value"
            ]
        );
        let ok = parse_market_totals(MarketTotalsBody::Json(&serde_json::json!({"rows": [
            {"month": "2026-01", "region": "Central", "pack_type": "can", "market_value": 100.5, "market_qty": "7"}
        ]})))
        .expect("valid");
        assert_eq!(ok[0].market_value_scaled, 1_005_000);
        assert_eq!(ok[0].market_qty_scaled, Some(70_000));
    }
}
