//! Alerts as events: `sales.distribution_gap`, `sales.share_erosion`,
//! `sales.forecast_deviation`, each with a priority CRITICAL / HIGH / INFO, for the
//! automation module to route.
//!
//! [`raise_alert`] is the one way to raise one: it logs the alert in `sales_alerts`, whose
//! unique key (org, kind, key, period) makes raising the same alert again a no-op, and
//! records the domain event in the same transaction — so a re-scan emits nothing new.
//! The prediction work raises `sales.forecast_deviation` through it.
//!
//! Priority mapping (docs/sales/analytics.md):
//! - distribution gap: urgency HIGH (zero share > 60%) → CRITICAL; MEDIUM (> 40%) → HIGH;
//!   key `region/province/precision_area/pack_type`, period = the month (`YYYY-MM`) of the
//!   gap window's last day, so a persisting gap is alerted once a month;
//! - share erosion: share down ≥ 5 points over 3 months → CRITICAL; ≥ 2 points → HIGH;
//!   key `region:<name>` or `pack_type:<name>`, period = the month measured;
//! - forecast deviation: chosen by the caller (suggested in the doc).

use chrono::{DateTime, NaiveDate, Utc};
use kernel::list::{Page, PageMeta};
use kernel::{Db, SharedClock, TenantContext, Tx, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::gaps::{GapQuery, Urgency, compute_gaps};
use super::share::{CRITICAL_EROSION_POINTS, ShareQuery, compute_share, dropped_by};
use super::{Params, date_param, month_label, text_param};
use crate::facts::{day_number, month_number};
use crate::model::SalesError;
use crate::money::to_scaled;

/// Alerts returned by default / at most.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most alerts one list returns.
pub const MAX_LIMIT: u32 = 500;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AlertKind {
    /// An area × pack type with more than 40% zero-sales records.
    #[serde(rename = "sales.distribution_gap")]
    DistributionGap,
    /// Market share down by 2 points or more over 3 months.
    #[serde(rename = "sales.share_erosion")]
    ShareErosion,
    /// Actual sales far from the forecast (raised by the prediction work).
    #[serde(rename = "sales.forecast_deviation")]
    ForecastDeviation,
}

impl AlertKind {
    /// The event type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DistributionGap => "sales.distribution_gap",
            Self::ShareErosion => "sales.share_erosion",
            Self::ForecastDeviation => "sales.forecast_deviation",
        }
    }

    /// From the event type.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sales.distribution_gap" => Self::DistributionGap,
            "sales.share_erosion" => Self::ShareErosion,
            "sales.forecast_deviation" => Self::ForecastDeviation,
            _ => return None,
        })
    }
}

/// How urgently an alert should reach someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlertPriority {
    /// Act today.
    Critical,
    /// Act this week.
    High,
    /// For information.
    Info,
}

impl AlertPriority {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "CRITICAL",
            Self::High => "HIGH",
            Self::Info => "INFO",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CRITICAL" => Self::Critical,
            "HIGH" => Self::High,
            "INFO" => Self::Info,
            _ => return None,
        })
    }
}

/// An alert to raise.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// Kind (the event type).
    pub kind: AlertKind,
    /// Priority.
    pub priority: AlertPriority,
    /// What it is about, stable across scans (e.g. `Central/Riyadh/Olaya/330ml can`).
    pub key: String,
    /// The period it is about (e.g. `2026-12`); with `kind` and `key`, raised once.
    pub period: String,
    /// One line for people.
    pub title: String,
    /// Details, copied into the event's data.
    pub payload: serde_json::Value,
    /// Who raised it (`system` for scans after an import).
    pub actor: Option<String>,
}

/// A raised alert.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    /// Id (the event's record id).
    pub id: Uuid,
    /// Kind.
    pub kind: AlertKind,
    /// Priority.
    pub priority: AlertPriority,
    /// What it is about.
    pub key: String,
    /// The period it is about.
    pub period: String,
    /// One line for people.
    pub title: String,
    /// Details.
    pub payload: serde_json::Value,
    /// The domain event recorded with it.
    pub event_id: Uuid,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
}

/// Raises `alert` inside `tx` unless the same (kind, key, period) was raised before:
/// logs it and records the domain event `alert.kind` with `priority`, `key`, `period`,
/// `title` and the payload's fields in its data. `Ok(None)` when it was already raised.
/// The caller authorises and commits.
pub async fn raise_alert(
    tx: &mut Tx,
    clock: &SharedClock,
    org_id: Uuid,
    alert: NewAlert,
) -> Result<Option<Alert>, SalesError> {
    let id = Uuid::now_v7();
    let event_id = Uuid::now_v7();
    let now = clock.now();
    let inserted = on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO sales_alerts (org_id, id, kind, alert_key, period, priority, title, payload, event_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, kind, alert_key, period) DO NOTHING"
    )
    .bind(org_id)
    .bind(id)
    .bind(alert.kind.as_str())
    .bind(&alert.key)
    .bind(&alert.period)
    .bind(alert.priority.as_str())
    .bind(&alert.title)
    .bind(Json(&alert.payload))
    .bind(event_id)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        return Ok(None);
    }
    let mut data = serde_json::json!({
        "priority": alert.priority.as_str(),
        "key": alert.key,
        "period": alert.period,
        "title": alert.title,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), alert.payload.as_object()) {
        for (k, v) in extra {
            data.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    // The event id is ours so the alert row can point at it.
    let recorded = kernel::events::record(
        tx,
        clock,
        kernel::events::NewEvent {
            event_type: alert.kind.as_str().to_owned(),
            org_id,
            actor: alert.actor.clone(),
            record_type: "sales_alert".to_owned(),
            record_id: id,
            data,
        },
    )
    .await?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE sales_alerts SET event_id = $3 WHERE org_id = $1 AND id = $2"
    )
    .bind(org_id)
    .bind(id)
    .bind(recorded)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(Some(Alert {
        id,
        kind: alert.kind,
        priority: alert.priority,
        key: alert.key,
        period: alert.period,
        title: alert.title,
        payload: alert.payload,
        event_id: recorded,
        created_at: now,
    }))
}

/// What a scan raised.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanReport {
    /// Distribution gaps checked (rows above 40%).
    pub gaps_flagged: usize,
    /// Keys found eroding.
    pub shares_eroding: usize,
    /// Alerts newly raised (already raised ones are not repeated).
    pub raised: Vec<Alert>,
}

/// Gap and share-erosion alerts for the organisation's latest data, raised once each.
/// No permission check: the import calls it after committing (actor `system`), and
/// [`scan_alerts`] after checking `sales:manage`. Reads through the pool, writes in one
/// transaction.
pub async fn scan(
    db: &Db,
    clock: &SharedClock,
    org_id: Uuid,
    actor: Option<String>,
) -> Result<ScanReport, SalesError> {
    let today = clock.now().date_naive();
    let gaps = compute_gaps(
        db,
        org_id,
        &GapQuery {
            flagged_only: true,
            ..GapQuery::default()
        },
        day_number(today),
    )
    .await?;
    let mut alerts = Vec::new();
    let gap_period = NaiveDate::parse_from_str(&gaps.period.to, "%Y-%m-%d")
        .map(|d| month_label(month_number(d)))
        .unwrap_or_else(|_| gaps.period.to.clone());
    for row in &gaps.rows {
        let priority = match row.urgency {
            Some(Urgency::High) => AlertPriority::Critical,
            _ => AlertPriority::High,
        };
        alerts.push(NewAlert {
            kind: AlertKind::DistributionGap,
            priority,
            key: format!(
                "{}/{}/{}/{}",
                row.region, row.province, row.precision_area, row.pack_type
            ),
            period: gap_period.clone(),
            title: format!(
                "{:.1}% of {} records in {} ({}) sold none",
                row.zero_share * 100.0,
                row.pack_type,
                row.precision_area,
                row.region
            ),
            payload: serde_json::json!({
                "region": row.region, "province": row.province, "precision_area": row.precision_area,
                "pack_type": row.pack_type, "total_records": row.total_records, "zero_records": row.zero_records,
                "zero_share": row.zero_share, "urgency": row.urgency, "recommendation": row.recommendation,
                "from": gaps.period.from, "to": gaps.period.to,
            }),
            actor: actor.clone(),
        });
    }
    let gaps_flagged = alerts.len();
    let mut shares_eroding = 0;
    for by_pack_type in [false, true] {
        let report = compute_share(
            db,
            org_id,
            &ShareQuery {
                by_pack_type,
                from: None,
                to: None,
            },
            month_number(today),
        )
        .await?;
        let Some(month) = report.months.last().cloned() else {
            continue;
        };
        for series in report.series.iter().filter(|s| s.eroding) {
            shares_eroding += 1;
            let n = series.our_value.len();
            let scaled = |i: usize| {
                (
                    to_scaled(series.our_value[i]).unwrap_or(0),
                    series.market_value[i]
                        .and_then(|m| to_scaled(m).ok())
                        .unwrap_or(0),
                )
            };
            let critical = n > super::share::EROSION_MONTHS as usize
                && dropped_by(
                    scaled(n - 1 - super::share::EROSION_MONTHS as usize),
                    scaled(n - 1),
                    CRITICAL_EROSION_POINTS,
                );
            let points = series.change_3m.unwrap_or(0.0) * 100.0;
            alerts.push(NewAlert {
                kind: AlertKind::ShareErosion,
                priority: if critical {
                    AlertPriority::Critical
                } else {
                    AlertPriority::High
                },
                key: format!("{}:{}", report.by, series.key),
                period: month.clone(),
                title: format!(
                    "Market share of {} down {:.1} points over 3 months to {}",
                    series.key, -points, month
                ),
                payload: serde_json::json!({
                    "by": report.by, "key_value": series.key, "month": month,
                    "share": series.share.last().copied().flatten(), "change_3m": series.change_3m,
                }),
                actor: actor.clone(),
            });
        }
    }
    let mut tx = db.begin().await?;
    let mut raised = Vec::new();
    for alert in alerts {
        if let Some(alert) = raise_alert(&mut tx, clock, org_id, alert).await? {
            raised.push(alert);
        }
    }
    tx.commit().await?;
    Ok(ScanReport {
        gaps_flagged,
        shares_eroding,
        raised,
    })
}

/// `POST /api/v1/sales/alerts/scan` for a caller with `sales:manage`.
pub async fn scan_alerts(
    db: &Db,
    clock: &SharedClock,
    ctx: &TenantContext,
) -> Result<ScanReport, SalesError> {
    ctx.authorize("sales:manage")?;
    scan(db, clock, ctx.org_id(), Some(ctx.actor().label())).await
}

type AlertRow = (
    Uuid,
    String,
    String,
    String,
    String,
    String,
    Json<serde_json::Value>,
    Uuid,
    DateTime<Utc>,
);

/// `GET /api/v1/sales/alerts` for a caller with `sales:read`: newest first, raised between
/// `from` and `to` (dates, inclusive), of `kind` and `priority` when given, at most
/// `limit` (default 100, up to 500).
pub async fn list_alerts(
    db: &Db,
    ctx: &TenantContext,
    params: &Params,
) -> Result<Page<Alert>, SalesError> {
    ctx.authorize("sales:read")?;
    let from = date_param(params, "from")?;
    let to = date_param(params, "to")?;
    let kind = match text_param(params, "kind") {
        None => None,
        Some(k) => Some(AlertKind::parse(&k).ok_or_else(|| {
            SalesError::field(
                "kind",
                "must be sales.distribution_gap, sales.share_erosion or sales.forecast_deviation",
            )
        })?),
    };
    let priority = match text_param(params, "priority") {
        None => None,
        Some(p) => Some(
            AlertPriority::parse(&p)
                .ok_or_else(|| SalesError::field("priority", "must be CRITICAL, HIGH or INFO"))?,
        ),
    };
    let limit = match text_param(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| SalesError::field("limit", format!("must be 1..{MAX_LIMIT}")))?,
    };
    let start = from
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let end = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let mut sql =
        "SELECT id, kind, alert_key, period, priority, title, payload, event_id, created_at \
         FROM sales_alerts WHERE org_id = $1"
            .to_owned();
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if start.is_some() {
        sql.push_str(&format!(" AND created_at >= ${}", next()));
    }
    if end.is_some() {
        sql.push_str(&format!(" AND created_at < ${}", next()));
    }
    if kind.is_some() {
        sql.push_str(&format!(" AND kind = ${}", next()));
    }
    if priority.is_some() {
        sql.push_str(&format!(" AND priority = ${}", next()));
    }
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
    let rows: Vec<AlertRow> = on_pool!(db, |p| {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(ctx.org_id());
        if let Some(start) = start {
            query = query.bind(start);
        }
        if let Some(end) = end {
            query = query.bind(end);
        }
        if let Some(kind) = kind {
            query = query.bind(kind.as_str());
        }
        if let Some(priority) = priority {
            query = query.bind(priority.as_str());
        }
        query.fetch_all(p).await
    })?;
    let data = rows
        .into_iter()
        .filter_map(
            |(id, kind, key, period, priority, title, payload, event_id, created_at)| {
                Some(Alert {
                    id,
                    kind: AlertKind::parse(&kind)?,
                    priority: AlertPriority::parse(&priority)?,
                    key,
                    period,
                    title,
                    payload: payload.0,
                    event_id,
                    created_at,
                })
            },
        )
        .collect();
    Ok(Page {
        data,
        meta: PageMeta {
            next_cursor: None,
            limit,
        },
    })
}
