//! Distribution gaps: where outlets recorded zero sales of a pack type (seed 001,
//! `analyze_distribution_gaps`).
//!
//! For a period (default: the 30 days ending at the latest imported day), per region,
//! province, precision area and pack type: outlet-records, zero-sales records and their
//! share. A share above 40% is a gap; above 60% its urgency is HIGH, else MEDIUM — so
//! exactly 40% is not a gap and exactly 60% is MEDIUM. The comparison is done on the
//! integer counts (`zero * 5 > total * 2`), never on a rounded float, so the thresholds
//! hold exactly.
//!
//! The counts come from `sales_daily_rollup` (one row per day, area and pack type). The
//! recommendation — which outlets sold none — reads `sales_outlet_daily_rollup` (one row
//! per area, pack type, day and outlet) for the first [`RECOMMENDED_ROWS`] gaps only: one
//! contiguous key range per gap, so the work is bounded by the area's outlets and the
//! period, not by the table's size.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use kernel::{Db, TenantContext, on_pool};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Dimensions, Params, date_param, day_label, id_list_clause, text_param};
use crate::facts::day_number;
use crate::model::SalesError;

/// Days in the default period.
pub const DEFAULT_DAYS: i32 = 30;
/// Longest period a request may ask for (two years and a day).
pub const MAX_DAYS: i32 = 731;
/// Gaps (in response order) that get outlet names in their recommendation.
pub const RECOMMENDED_ROWS: usize = 25;
/// Outlets named in one recommendation.
pub const OUTLETS_NAMED: usize = 3;

/// How urgent a gap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Urgency {
    /// Zero-sales share above 60%.
    High,
    /// Zero-sales share above 40%, up to 60%.
    Medium,
}

/// The gap rule: `None` when `zero / total` is at most 40%, HIGH above 60%, else MEDIUM.
pub fn classify(total: i64, zero: i64) -> Option<Urgency> {
    let (total, zero) = (i128::from(total), i128::from(zero));
    if total <= 0 || zero * 5 <= total * 2 {
        None
    } else if zero * 5 > total * 3 {
        Some(Urgency::High)
    } else {
        Some(Urgency::Medium)
    }
}

fn share(total: i64, zero: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        super::round6(zero as f64 / total as f64)
    }
}

/// An inclusive range of days.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Period {
    /// First day (`YYYY-MM-DD`).
    pub from: String,
    /// Last day (`YYYY-MM-DD`).
    pub to: String,
    /// `true` when the client gave neither bound and the period is the 30 days ending at
    /// the latest imported day.
    pub default: bool,
}

/// One region × province × precision area × pack type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GapRow {
    /// Region.
    pub region: String,
    /// Province.
    pub province: String,
    /// Precision area.
    pub precision_area: String,
    /// Pack type.
    pub pack_type: String,
    /// Outlet × SKU × day records in the period.
    pub total_records: i64,
    /// Of which with zero sales.
    pub zero_records: i64,
    /// `zero_records / total_records` (0..1).
    pub zero_share: f64,
    /// Above 40%.
    pub flagged: bool,
    /// HIGH above 60%, MEDIUM above 40%, else `null`.
    pub urgency: Option<Urgency>,
    /// For a gap: the outlets and pack type to target.
    pub recommendation: Option<String>,
}

/// Totals over the rows matching the filters (`flagged_only` aside).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GapSummary {
    /// Outlet-records.
    pub total_records: i64,
    /// Zero-sales records.
    pub zero_records: i64,
    /// Their share (0..1).
    pub zero_share: f64,
    /// Rows above 40%.
    pub flagged: i64,
    /// Rows above 60%.
    pub high: i64,
}

/// `GET /api/v1/sales/distribution-gaps`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GapReport {
    /// The period analysed.
    pub period: Period,
    /// By zero share, highest first.
    pub rows: Vec<GapRow>,
    /// Totals.
    pub summary: GapSummary,
}

/// One heat-map cell: a row label × pack type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeatmapCell {
    /// Row label (a region or a province).
    pub row: String,
    /// Column label (a pack type).
    pub column: String,
    /// Outlet-records.
    pub total_records: i64,
    /// Zero-sales records.
    pub zero_records: i64,
    /// Their share (0..1).
    pub zero_share: f64,
    /// The gap rule applied to the cell.
    pub urgency: Option<Urgency>,
}

/// `GET /api/v1/sales/distribution-gaps/heatmap`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Heatmap {
    /// The period analysed.
    pub period: Period,
    /// `region` or `province`.
    pub rows: String,
    /// `pack_type`.
    pub columns: String,
    /// Row labels, sorted.
    pub row_labels: Vec<String>,
    /// Column labels, sorted.
    pub column_labels: Vec<String>,
    /// Cells that have records.
    pub cells: Vec<HeatmapCell>,
}

/// What a gap request asks for.
#[derive(Debug, Clone, Default)]
pub struct GapQuery {
    /// First day; default `to` − 29.
    pub from: Option<i32>,
    /// Last day; default the latest imported day.
    pub to: Option<i32>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this province.
    pub province: Option<String>,
    /// Only this pack type.
    pub pack_type: Option<String>,
    /// Only rows above 40%.
    pub flagged_only: bool,
}

impl GapQuery {
    /// From query parameters; 422 naming the parameter when one is unreadable.
    pub fn from_params(params: &Params) -> Result<Self, SalesError> {
        let flagged_only = match text_param(params, "flagged_only").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(SalesError::field("flagged_only", "must be true or false")),
        };
        Ok(Self {
            from: date_param(params, "from")?.map(day_number),
            to: date_param(params, "to")?.map(day_number),
            region: text_param(params, "region"),
            province: text_param(params, "province"),
            pack_type: text_param(params, "pack_type"),
            flagged_only,
        })
    }
}

/// Resolves the period: given bounds, else 30 days ending at the latest imported day (or
/// today when nothing is imported).
async fn resolve_period(
    db: &Db,
    org: Uuid,
    q: &GapQuery,
    today: i32,
) -> Result<(i32, i32, bool), SalesError> {
    let (from, to) = match (q.from, q.to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, from + DEFAULT_DAYS - 1),
        (None, Some(to)) => (to - DEFAULT_DAYS + 1, to),
        (None, None) => {
            let latest: Option<i32> = on_pool!(db, |p| sqlx::query_scalar(
                "SELECT MAX(day) FROM sales_daily_rollup WHERE org_id = $1"
            )
            .bind(org)
            .fetch_one(p)
            .await)?;
            let to = latest.unwrap_or(today);
            return Ok((to - DEFAULT_DAYS + 1, to, true));
        }
    };
    if from > to {
        return Err(SalesError::field("from", "must not be after `to`"));
    }
    if to - from + 1 > MAX_DAYS {
        return Err(SalesError::field(
            "from",
            format!("the period may span at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to, false))
}

/// Per (area id, pack type): records and zero records in the period, from the rollup.
async fn rollup_counts(
    db: &Db,
    org: Uuid,
    from: i32,
    to: i32,
    area_ids: Option<&[i64]>,
    pack_type: Option<&str>,
) -> Result<Vec<(i64, String, i64, i64)>, SalesError> {
    let mut sql = "SELECT area_id, pack_type, CAST(SUM(records) AS BIGINT), CAST(SUM(zero_records) AS BIGINT) \
         FROM sales_daily_rollup WHERE org_id = $1 AND day >= $2 AND day <= $3"
        .to_owned();
    if let Some(ids) = area_ids {
        sql.push_str(&id_list_clause("area_id", ids));
    }
    if pack_type.is_some() {
        sql.push_str(" AND pack_type = $4");
    }
    sql.push_str(" GROUP BY area_id, pack_type");
    Ok(on_pool!(db, |p| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(org)
            .bind(from)
            .bind(to);
        if let Some(pack) = pack_type {
            query = query.bind(pack);
        }
        query.fetch_all(p).await
    })?)
}

/// Area ids matching the region/province filters (`None`: no filter).
fn matching_areas(dims: &Dimensions, q: &GapQuery) -> Option<Vec<i64>> {
    if q.region.is_none() && q.province.is_none() {
        return None;
    }
    let mut ids: Vec<i64> = dims
        .areas
        .iter()
        .filter(|(_, a)| {
            q.region.as_ref().is_none_or(|r| &a.region == r)
                && q.province.as_ref().is_none_or(|p| &a.province == p)
        })
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    Some(ids)
}

/// Highest zero share first (compared exactly), then by name.
fn by_share_desc(a: &GapRow, b: &GapRow) -> Ordering {
    let left = i128::from(a.zero_records) * i128::from(b.total_records.max(1));
    let right = i128::from(b.zero_records) * i128::from(a.total_records.max(1));
    right
        .cmp(&left)
        .then_with(|| a.region.cmp(&b.region))
        .then_with(|| a.province.cmp(&b.province))
        .then_with(|| a.precision_area.cmp(&b.precision_area))
        .then_with(|| a.pack_type.cmp(&b.pack_type))
}

/// Distribution gaps without the permission check: the alert scan calls it for the
/// system. Recommendations name outlets for the first [`RECOMMENDED_ROWS`] gaps.
pub async fn compute_gaps(
    db: &Db,
    org: Uuid,
    q: &GapQuery,
    today: i32,
) -> Result<GapReport, SalesError> {
    let (from, to, default) = resolve_period(db, org, q, today).await?;
    let dims = Dimensions::load(db, org).await?;
    let area_filter = matching_areas(&dims, q);
    let counts = rollup_counts(
        db,
        org,
        from,
        to,
        area_filter.as_deref(),
        q.pack_type.as_deref(),
    )
    .await?;
    let mut rows: Vec<(i64, GapRow)> = Vec::with_capacity(counts.len());
    let mut summary = GapSummary::default();
    for (area_id, pack_type, total, zero) in counts {
        let Some(area) = dims.areas.get(&area_id) else {
            continue;
        };
        let urgency = classify(total, zero);
        summary.total_records += total;
        summary.zero_records += zero;
        summary.flagged += i64::from(urgency.is_some());
        summary.high += i64::from(urgency == Some(Urgency::High));
        rows.push((
            area_id,
            GapRow {
                region: area.region.clone(),
                province: area.province.clone(),
                precision_area: area.precision_area.clone(),
                pack_type,
                total_records: total,
                zero_records: zero,
                zero_share: share(total, zero),
                flagged: urgency.is_some(),
                urgency,
                recommendation: None,
            },
        ));
    }
    summary.zero_share = share(summary.total_records, summary.zero_records);
    rows.sort_by(|a, b| by_share_desc(&a.1, &b.1));
    if q.flagged_only {
        rows.retain(|(_, r)| r.flagged);
    }
    let targets: Vec<(i64, String)> = rows
        .iter()
        .filter(|(_, r)| r.flagged)
        .take(RECOMMENDED_ROWS)
        .map(|(area_id, r)| (*area_id, r.pack_type.clone()))
        .collect();
    let mut outlets = zero_sales_outlets(db, org, &targets, from, to).await?;
    for (area_id, row) in rows.iter_mut().filter(|(_, r)| r.flagged) {
        let named = outlets.remove(&(*area_id, row.pack_type.clone()));
        let named = named.or_else(|| {
            targets
                .contains(&(*area_id, row.pack_type.clone()))
                .then(Vec::new)
        });
        row.recommendation = Some(recommendation(row, named.as_deref()));
    }
    Ok(GapReport {
        period: Period {
            from: day_label(from),
            to: day_label(to),
            default,
        },
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        summary,
    })
}

/// An outlet of a gap: how many of its records of the pack type sold nothing.
#[derive(Debug, Clone)]
pub struct GapOutlet {
    /// Outlet code.
    pub code: String,
    /// Outlet name.
    pub name: String,
    /// Its records of the pack type in the period.
    pub records: i64,
    /// Of which zero.
    pub zero_records: i64,
    /// Its sales value of the pack type in the period (scaled).
    pub value_scaled: i64,
}

/// For each (area, pack type) of `targets`: the area's outlets with zero-sales records of
/// the pack type in the period, the most zeros first (then the least sold, then by code).
/// One statement for all targets — a `UNION ALL` of one branch per target — over
/// `sales_outlet_daily_rollup`, keyed (org, area, pack type, day, outlet): each branch is
/// one contiguous range of the area's outlets × the period's days.
async fn zero_sales_outlets(
    db: &Db,
    org: Uuid,
    targets: &[(i64, String)],
    from: i32,
    to: i32,
) -> Result<HashMap<(i64, String), Vec<GapOutlet>>, SalesError> {
    let mut found: HashMap<(i64, String), Vec<GapOutlet>> = HashMap::new();
    if targets.is_empty() {
        return Ok(found);
    }
    let mut area_ids: Vec<i64> = targets.iter().map(|t| t.0).collect();
    area_ids.sort_unstable();
    area_ids.dedup();
    let sql = format!(
        "SELECT id, area_id, outlet_code, outlet_name FROM sales_fact_outlets WHERE org_id = $1{}",
        id_list_clause("area_id", &area_ids)
    );
    let outlets: Vec<(i64, i64, String, String)> =
        on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(org)
            .fetch_all(p)
            .await)?;
    let counts: Vec<(i64, i64, i64, i64, i64)> = match db.pool() {
        // One statement with the targets as arrays: its text never changes, so it is
        // prepared once per connection (25 UNION branches cost PostgreSQL ~2 ms of
        // planning a request); each target is a nested-loop index-only range scan.
        kernel::db::Pool::Postgres(pool) => {
            let area_ids: Vec<i64> = targets.iter().map(|t| t.0).collect();
            let pack_types: Vec<&str> = targets.iter().map(|t| t.1.as_str()).collect();
            sqlx::query_as(
                "SELECT CAST(t.n - 1 AS BIGINT), r.outlet_id, CAST(SUM(r.records) AS BIGINT), \
                 CAST(SUM(r.zero_records) AS BIGINT), CAST(SUM(r.value_scaled) AS BIGINT) \
                 FROM UNNEST($2::bigint[], $3::text[]) WITH ORDINALITY AS t(area_id, pack_type, n) \
                 JOIN sales_outlet_daily_rollup r ON r.org_id = $1 AND r.area_id = t.area_id \
                 AND r.pack_type = t.pack_type AND r.day >= $4 AND r.day <= $5 \
                 GROUP BY t.n, r.outlet_id",
            )
            .bind(org)
            .bind(&area_ids)
            .bind(&pack_types)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }
        // SQLite plans a UNION of simple branches in microseconds: one branch per target,
        // computed integers inlined, pack types bound ($2, $3, ... in target order).
        kernel::db::Pool::Sqlite(pool) => {
            let sql = targets
                .iter()
                .enumerate()
                .map(|(n, (area_id, _))| {
                    format!(
                        "SELECT CAST({n} AS BIGINT) AS target, outlet_id, \
                         CAST(SUM(records) AS BIGINT) AS records, \
                         CAST(SUM(zero_records) AS BIGINT) AS zero_records, \
                         CAST(SUM(value_scaled) AS BIGINT) AS value_scaled \
                         FROM sales_outlet_daily_rollup \
                         WHERE org_id = $1 AND area_id = {area_id} AND pack_type = ${} \
                         AND day >= {from} AND day <= {to} GROUP BY outlet_id",
                        n + 2
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org);
            for (_, pack_type) in targets {
                query = query.bind(pack_type.as_str());
            }
            query.fetch_all(pool).await?
        }
    };
    let names: HashMap<i64, (&str, &str)> = outlets
        .iter()
        .map(|(id, _, code, name)| (*id, (code.as_str(), name.as_str())))
        .collect();
    for (target, outlet_id, records, zero_records, value_scaled) in counts {
        let (Some(key), Some((code, name))) = (
            usize::try_from(target).ok().and_then(|t| targets.get(t)),
            names.get(&outlet_id),
        ) else {
            continue;
        };
        if zero_records == 0 {
            continue;
        }
        found.entry(key.clone()).or_default().push(GapOutlet {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            records,
            zero_records,
            value_scaled,
        });
    }
    for list in found.values_mut() {
        list.sort_by(|a, b| {
            b.zero_records
                .cmp(&a.zero_records)
                .then(a.value_scaled.cmp(&b.value_scaled))
                .then_with(|| a.code.cmp(&b.code))
        });
    }
    Ok(found)
}

/// The text shown with a gap: what to target, where, and which outlets first.
pub fn recommendation(row: &GapRow, outlets: Option<&[GapOutlet]>) -> String {
    let level = match row.urgency {
        Some(Urgency::High) => "HIGH",
        _ => "MEDIUM",
    };
    let mut text = format!(
        "Target {} in {} ({}, {}): {:.1}% of outlet-records sold none ({} of {}, {level}).",
        row.pack_type,
        row.precision_area,
        row.province,
        row.region,
        row.zero_share * 100.0,
        row.zero_records,
        row.total_records,
    );
    match outlets {
        Some([]) => {}
        Some(outlets) => {
            let named: Vec<String> = outlets
                .iter()
                .take(OUTLETS_NAMED)
                .map(|o| {
                    format!(
                        "{} ({}: {} of {} records without sales)",
                        o.name, o.code, o.zero_records, o.records
                    )
                })
                .collect();
            text.push_str(&format!(" Visit {}", named.join(", ")));
            if outlets.len() > OUTLETS_NAMED {
                text.push_str(&format!(
                    " and {} more outlets",
                    outlets.len() - OUTLETS_NAMED
                ));
            }
            text.push_str(&format!(" to place {}.", row.pack_type));
        }
        None => text.push_str(" Filter by this region or province to list its outlets."),
    }
    text
}

/// The heat map: regions or provinces × pack types.
pub async fn compute_heatmap(
    db: &Db,
    org: Uuid,
    q: &GapQuery,
    by_province: bool,
    today: i32,
) -> Result<Heatmap, SalesError> {
    let (from, to, default) = resolve_period(db, org, q, today).await?;
    let dims = Dimensions::load(db, org).await?;
    let area_filter = matching_areas(&dims, q);
    let counts = rollup_counts(
        db,
        org,
        from,
        to,
        area_filter.as_deref(),
        q.pack_type.as_deref(),
    )
    .await?;
    let mut cells: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for (area_id, pack_type, total, zero) in counts {
        let Some(area) = dims.areas.get(&area_id) else {
            continue;
        };
        let label = if by_province {
            area.province.clone()
        } else {
            area.region.clone()
        };
        let cell = cells.entry((label, pack_type)).or_default();
        cell.0 += total;
        cell.1 += zero;
    }
    let row_labels: BTreeSet<String> = cells.keys().map(|k| k.0.clone()).collect();
    let column_labels: BTreeSet<String> = cells.keys().map(|k| k.1.clone()).collect();
    Ok(Heatmap {
        period: Period {
            from: day_label(from),
            to: day_label(to),
            default,
        },
        rows: if by_province { "province" } else { "region" }.to_owned(),
        columns: "pack_type".to_owned(),
        row_labels: row_labels.into_iter().collect(),
        column_labels: column_labels.into_iter().collect(),
        cells: cells
            .into_iter()
            .map(|((row, column), (total, zero))| HeatmapCell {
                row,
                column,
                total_records: total,
                zero_records: zero,
                zero_share: share(total, zero),
                urgency: classify(total, zero),
            })
            .collect(),
    })
}

/// `GET /api/v1/sales/distribution-gaps` for a caller with `sales:read`.
pub async fn distribution_gaps(
    db: &Db,
    ctx: &TenantContext,
    params: &Params,
    today: i32,
) -> Result<GapReport, SalesError> {
    ctx.authorize("sales:read")?;
    let q = GapQuery::from_params(params)?;
    compute_gaps(db, ctx.org_id(), &q, today).await
}

/// `GET /api/v1/sales/distribution-gaps/heatmap` for a caller with `sales:read`.
pub async fn gap_heatmap(
    db: &Db,
    ctx: &TenantContext,
    params: &Params,
    today: i32,
) -> Result<Heatmap, SalesError> {
    ctx.authorize("sales:read")?;
    let q = GapQuery::from_params(params)?;
    let by_province = match text_param(params, "rows").as_deref() {
        None | Some("region") => false,
        Some("province") => true,
        Some(_) => return Err(SalesError::field("rows", "must be region or province")),
    };
    if !matches!(
        text_param(params, "columns").as_deref(),
        None | Some("pack_type")
    ) {
        return Err(SalesError::field("columns", "must be pack_type"));
    }
    compute_heatmap(db, ctx.org_id(), &q, by_province, today).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exclusive_at_40_and_60() {
        assert_eq!(classify(10, 4), None, "exactly 40% is not a gap");
        assert_eq!(classify(1000, 401), Some(Urgency::Medium), "just above 40%");
        assert_eq!(
            classify(10, 6),
            Some(Urgency::Medium),
            "exactly 60% is MEDIUM"
        );
        assert_eq!(classify(1000, 601), Some(Urgency::High), "just above 60%");
        assert_eq!(classify(0, 0), None);
        assert_eq!(classify(3, 3), Some(Urgency::High));
    }

    #[test]
    fn recommendation_names_outlets_and_pack() {
        let row = GapRow {
            region: "Central".into(),
            province: "Riyadh".into(),
            precision_area: "Olaya".into(),
            pack_type: "330ml can".into(),
            total_records: 10,
            zero_records: 7,
            zero_share: 0.7,
            flagged: true,
            urgency: Some(Urgency::High),
            recommendation: None,
        };
        let outlet = |code: &str| GapOutlet {
            code: code.into(),
            name: format!("Shop {code}"),
            records: 5,
            zero_records: 4,
            value_scaled: 0,
        };
        let text = recommendation(
            &row,
            Some(&[outlet("A1"), outlet("B2"), outlet("C3"), outlet("D4")]),
        );
        assert!(
            text.contains("330ml can") && text.contains("Olaya"),
            "{text}"
        );
        assert!(
            text.contains("Shop A1 (A1") && text.contains("Shop C3"),
            "{text}"
        );
        assert!(
            !text.contains("Shop D4") && text.contains("1 more outlets"),
            "{text}"
        );
    }
}
