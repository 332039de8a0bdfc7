//! Market trends: month-on-month and year-on-year growth by any dimension, top and bottom
//! movers, and seasonality, from `sales_monthly_rollup`.
//!
//! One aggregate query groups the rollup by month and by the id column of the requested
//! dimension (`area_id`, `sku_id` or `channel`) — no joins — and the ids become names
//! here. The query reads 12 months before `from` as well, so the first months of the
//! range have a year-on-year base, and the seasonality index has up to two years.

use std::collections::BTreeMap;

use chrono::Datelike;
use kernel::{Db, TenantContext, on_pool};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Dimensions, Params, growth, id_list_clause, month_label, month_param, text_param};
use crate::facts::{month_number, month_start};
use crate::model::SalesError;
use crate::money::plain_from_scaled;

/// Months in the default range.
pub const DEFAULT_MONTHS: i32 = 12;
/// Longest range a request may ask for.
pub const MAX_MONTHS: i32 = 60;
/// Movers listed each way.
pub const MOVERS: usize = 5;

/// A trend dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Region.
    Region,
    /// Province.
    Province,
    /// Precision area.
    PrecisionArea,
    /// Pack type.
    PackType,
    /// SKU.
    Sku,
    /// Outlet channel.
    Channel,
}

impl Dimension {
    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "region" => Self::Region,
            "province" => Self::Province,
            "precision_area" => Self::PrecisionArea,
            "pack_type" => Self::PackType,
            "sku" => Self::Sku,
            "channel" => Self::Channel,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Region => "region",
            Self::Province => "province",
            Self::PrecisionArea => "precision_area",
            Self::PackType => "pack_type",
            Self::Sku => "sku",
            Self::Channel => "channel",
        }
    }

    /// The rollup column the dimension groups.
    fn column(self) -> &'static str {
        match self {
            Self::Region | Self::Province | Self::PrecisionArea => "area_id",
            Self::PackType | Self::Sku => "sku_id",
            Self::Channel => "channel",
        }
    }
}

/// One series (a key of the dimension), or the total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrendSeries {
    /// The key (e.g. the region's name); `"total"` for the total.
    pub key: String,
    /// The measure per month of `months` (exact decimal strings).
    #[schema(value_type = Vec<String>)]
    pub values: Vec<Decimal>,
    /// Growth over the month before (fraction); `null` where that month is zero.
    pub mom_growth: Vec<Option<f64>>,
    /// Growth over the same month a year before (fraction); `null` where that is zero.
    pub yoy_growth: Vec<Option<f64>>,
}

/// A key that moved most between the last two months of the range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Mover {
    /// The key.
    pub key: String,
    /// Its value in the last month.
    #[schema(value_type = String)]
    pub latest: Decimal,
    /// Its value in the month before.
    #[schema(value_type = String)]
    pub previous: Decimal,
    /// `latest / previous - 1`.
    pub growth: f64,
}

/// Top (growing) and bottom (shrinking) movers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Movers {
    /// Highest growth first (only keys that grew).
    pub top: Vec<Mover>,
    /// Lowest growth first (only keys that shrank).
    pub bottom: Vec<Mover>,
}

/// A calendar month's seasonal index.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Seasonality {
    /// 1 (January) .. 12.
    pub month_of_year: u32,
    /// Average of the total in that calendar month ÷ average of all months; `null`
    /// when that calendar month has no observation.
    pub index: Option<f64>,
}

/// `GET /api/v1/sales/trends`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrendReport {
    /// The dimension.
    pub by: String,
    /// `value` or `qty`.
    pub measure: String,
    /// `YYYY-MM`, oldest first.
    pub months: Vec<String>,
    /// One series per key, largest in the last month first.
    pub series: Vec<TrendSeries>,
    /// All keys together.
    pub total: TrendSeries,
    /// Movers between the last two months.
    pub movers: Movers,
    /// Seasonal index of the total, from `from` − 12 months to `to`.
    pub seasonality: Vec<Seasonality>,
}

/// What a trend request asks for.
#[derive(Debug, Clone)]
pub struct TrendQuery {
    /// Dimension.
    pub by: Dimension,
    /// `true`: quantity; `false`: value.
    pub qty: bool,
    /// First month; default `to` − 11.
    pub from: Option<i32>,
    /// Last month; default the latest imported month.
    pub to: Option<i32>,
    /// Filters: dimension → value.
    pub filters: Vec<(Dimension, String)>,
}

impl TrendQuery {
    /// From query parameters; 422 naming the parameter when one is unreadable.
    pub fn from_params(params: &Params) -> Result<Self, SalesError> {
        let by = match text_param(params, "by") {
            None => Dimension::Region,
            Some(by) => Dimension::parse(&by).ok_or_else(|| {
                SalesError::field(
                    "by",
                    "must be region, province, precision_area, pack_type, sku or channel",
                )
            })?,
        };
        let qty = match text_param(params, "measure").as_deref() {
            None | Some("value") => false,
            Some("qty") => true,
            Some(_) => return Err(SalesError::field("measure", "must be value or qty")),
        };
        let mut filters = Vec::new();
        for name in [
            "region",
            "province",
            "precision_area",
            "pack_type",
            "sku",
            "channel",
        ] {
            if let (Some(value), Some(dim)) = (text_param(params, name), Dimension::parse(name)) {
                filters.push((dim, value));
            }
        }
        Ok(Self {
            by,
            qty,
            from: month_param(params, "from")?,
            to: month_param(params, "to")?,
            filters,
        })
    }
}

fn matches_area(filters: &[(Dimension, String)], area: &super::Area) -> bool {
    filters.iter().all(|(dim, value)| match dim {
        Dimension::Region => &area.region == value,
        Dimension::Province => &area.province == value,
        Dimension::PrecisionArea => &area.precision_area == value,
        _ => true,
    })
}

fn matches_sku(filters: &[(Dimension, String)], sku: &super::Sku) -> bool {
    filters.iter().all(|(dim, value)| match dim {
        Dimension::PackType => &sku.pack_type == value,
        Dimension::Sku => &sku.sku == value,
        _ => true,
    })
}

/// Growth of each month over the value `lag` months before it (in `values`, which starts
/// `offset` months before the first reported month).
fn growth_series(values: &[i64], offset: usize, lag: usize) -> Vec<Option<f64>> {
    (offset..values.len())
        .map(|i| {
            if i >= lag {
                growth(values[i], values[i - lag])
            } else {
                None
            }
        })
        .collect()
}

fn series(key: String, values: &[i64], offset: usize) -> TrendSeries {
    TrendSeries {
        key,
        values: values[offset..]
            .iter()
            .map(|v| plain_from_scaled(*v))
            .collect(),
        mom_growth: growth_series(values, offset, 1),
        yoy_growth: growth_series(values, offset, 12),
    }
}

/// Seasonal index per calendar month of `values` (months `first..`), from the first
/// month with any sales: mean of that calendar month ÷ mean of all months.
pub fn seasonality(first: i32, values: &[i64]) -> Vec<Seasonality> {
    let start = values.iter().position(|v| *v != 0).unwrap_or(values.len());
    let observed = &values[start..];
    let mut sums = [0i128; 12];
    let mut counts = [0u32; 12];
    for (i, v) in observed.iter().enumerate() {
        let month = first + (start + i) as i32;
        let moy = month.rem_euclid(12) as usize;
        sums[moy] += i128::from(*v);
        counts[moy] += 1;
    }
    let total: i128 = sums.iter().sum();
    let mean = if observed.is_empty() {
        0.0
    } else {
        total as f64 / observed.len() as f64
    };
    (0..12)
        .map(|moy| Seasonality {
            month_of_year: moy as u32 + 1,
            index: (counts[moy] > 0 && mean != 0.0)
                .then(|| super::round6(sums[moy] as f64 / f64::from(counts[moy]) / mean)),
        })
        .collect()
}

fn movers(series: &[TrendSeries]) -> Movers {
    let mut moved: Vec<Mover> = series
        .iter()
        .filter_map(|s| {
            let n = s.values.len();
            let growth = (*s.mom_growth.last()?)?;
            Some(Mover {
                key: s.key.clone(),
                latest: s.values[n - 1],
                previous: if n >= 2 {
                    s.values[n - 2]
                } else {
                    Decimal::ZERO
                },
                growth,
            })
        })
        .collect();
    moved.sort_by(|a, b| {
        b.growth
            .total_cmp(&a.growth)
            .then_with(|| a.key.cmp(&b.key))
    });
    let top = moved
        .iter()
        .filter(|m| m.growth > 0.0)
        .take(MOVERS)
        .cloned()
        .collect();
    let bottom = moved
        .iter()
        .rev()
        .filter(|m| m.growth < 0.0)
        .take(MOVERS)
        .cloned()
        .collect();
    Movers { top, bottom }
}

/// Trends without the permission check.
pub async fn compute_trends(
    db: &Db,
    org: Uuid,
    q: &TrendQuery,
    this_month: i32,
) -> Result<TrendReport, SalesError> {
    let to = match q.to {
        Some(to) => to,
        None => {
            let latest: Option<i32> = on_pool!(db, |p| sqlx::query_scalar(
                "SELECT MAX(month) FROM sales_monthly_rollup WHERE org_id = $1"
            )
            .bind(org)
            .fetch_one(p)
            .await)?;
            latest.unwrap_or(this_month)
        }
    };
    let from = q.from.unwrap_or(to - DEFAULT_MONTHS + 1);
    if from > to {
        return Err(SalesError::field("from", "must not be after `to`"));
    }
    if to - from + 1 > MAX_MONTHS {
        return Err(SalesError::field(
            "from",
            format!("the range may span at most {MAX_MONTHS} months"),
        ));
    }
    let first = from - 12;
    let dims = Dimensions::load(db, org).await?;
    let measure = if q.qty { "qty_scaled" } else { "value_scaled" };
    let column = q.by.column();
    let key_columns = if column == "channel" {
        "CAST(0 AS BIGINT), channel"
    } else {
        // `column` is one of our two id columns.
        if column == "area_id" {
            "area_id, ''"
        } else {
            "sku_id, ''"
        }
    };
    let mut sql = format!(
        "SELECT month, {key_columns}, CAST(SUM({measure}) AS BIGINT) FROM sales_monthly_rollup \
         WHERE org_id = $1 AND month >= $2 AND month <= $3"
    );
    let area_filtered = q.filters.iter().any(|(d, _)| d.column() == "area_id");
    if area_filtered {
        let mut ids: Vec<i64> = dims
            .areas
            .iter()
            .filter(|(_, a)| matches_area(&q.filters, a))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        sql.push_str(&id_list_clause("area_id", &ids));
    }
    if q.filters.iter().any(|(d, _)| d.column() == "sku_id") {
        let mut ids: Vec<i64> = dims
            .skus
            .iter()
            .filter(|(_, s)| matches_sku(&q.filters, s))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        sql.push_str(&id_list_clause("sku_id", &ids));
    }
    let channel = q
        .filters
        .iter()
        .find(|(d, _)| *d == Dimension::Channel)
        .map(|(_, v)| v.clone());
    if channel.is_some() {
        sql.push_str(" AND channel = $4");
    }
    sql.push_str(&format!(" GROUP BY month, {column}"));
    let rows: Vec<(i32, i64, String, i64)> = on_pool!(db, |p| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(org)
            .bind(first)
            .bind(to);
        if let Some(channel) = &channel {
            query = query.bind(channel);
        }
        query.fetch_all(p).await
    })?;
    let width = (to - first + 1) as usize;
    let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut total = vec![0i64; width];
    for (month, id, channel, amount) in rows {
        let key = match q.by {
            Dimension::Region => dims.areas.get(&id).map(|a| a.region.clone()),
            Dimension::Province => dims.areas.get(&id).map(|a| a.province.clone()),
            Dimension::PrecisionArea => dims.areas.get(&id).map(|a| a.precision_area.clone()),
            Dimension::PackType => dims.skus.get(&id).map(|s| s.pack_type.clone()),
            Dimension::Sku => dims.skus.get(&id).map(|s| s.sku.clone()),
            Dimension::Channel => Some(channel),
        };
        let Some(key) = key else { continue };
        let slot = (month - first) as usize;
        by_key.entry(key).or_insert_with(|| vec![0; width])[slot] += amount;
        total[slot] += amount;
    }
    let mut all: Vec<TrendSeries> = by_key
        .into_iter()
        .map(|(key, values)| series(key, &values, 12))
        .collect();
    all.sort_by(|a, b| {
        let last = |s: &TrendSeries| s.values.last().copied().unwrap_or_default();
        last(b).cmp(&last(a)).then_with(|| a.key.cmp(&b.key))
    });
    Ok(TrendReport {
        by: q.by.as_str().to_owned(),
        measure: if q.qty { "qty" } else { "value" }.to_owned(),
        months: (from..=to).map(month_label).collect(),
        movers: movers(&all),
        seasonality: seasonality(first, &total),
        total: series("total".to_owned(), &total, 12),
        series: all,
    })
}

/// `GET /api/v1/sales/trends` for a caller with `sales:read`.
pub async fn market_trends(
    db: &Db,
    ctx: &TenantContext,
    params: &Params,
    today: chrono::NaiveDate,
) -> Result<TrendReport, SalesError> {
    ctx.authorize("sales:read")?;
    let q = TrendQuery::from_params(params)?;
    compute_trends(db, ctx.org_id(), &q, month_number(today)).await
}

/// The calendar month (1..12) of a month number.
pub fn month_of_year(month: i32) -> u32 {
    month_start(month).month()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_uses_the_month_before_and_the_year_before() {
        // 13 months of history before the two reported months.
        let mut values = vec![100i64; 12];
        values.extend([200, 300, 150]);
        let s = series("k".into(), &values, 12);
        assert_eq!(s.values.len(), 3);
        assert_eq!(s.mom_growth, vec![Some(1.0), Some(0.5), Some(-0.5)]);
        assert_eq!(s.yoy_growth, vec![Some(1.0), Some(2.0), Some(0.5)]);
        let zero = series("z".into(), &[0; 14], 12);
        assert_eq!(zero.mom_growth, vec![None, None]);
    }

    #[test]
    fn seasonality_is_mean_of_calendar_month_over_mean() {
        // Two years from January: December doubles.
        let mut values = Vec::new();
        for _ in 0..2 {
            values.extend([10i64; 11]);
            values.push(20);
        }
        let first = 2024 * 12;
        let idx = seasonality(first, &values);
        let mean = (22.0 * 10.0 + 2.0 * 20.0) / 24.0;
        assert_eq!(idx[11].index, Some(crate::analytics::round6(20.0 / mean)));
        assert_eq!(idx[0].index, Some(crate::analytics::round6(10.0 / mean)));
        assert_eq!(month_of_year(first + 11), 12);
    }
}
