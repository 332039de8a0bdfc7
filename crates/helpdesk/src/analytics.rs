//! The helpdesk dashboard's figures (`GET /api/v1/helpdesk/analytics`) and the helpdesk's
//! section of the CRM's customer 360 view.
//!
//! Definitions (all times wall-clock hours in UTC, not business hours; the period is
//! `from` 00:00 to the end of `to`, UTC dates):
//! - `first_response_hours`: tickets created in the period that got an agent reply,
//!   first reply minus creation.
//! - `resolution_hours`: tickets resolved in the period (and not reopened since),
//!   resolution minus creation.
//! - `sla_compliance`: over tickets created in the period, each target counts once it
//!   is decided — met (reply/resolution by its due time; resolving without a reply meets
//!   the response target as the SLA clock does) or breached (late, or still pending past
//!   due). `response_pct`/`resolution_pct` = met ÷ decided × 100 (`null` when nothing is
//!   decided); `met` counts tickets whose two targets are both met, `breached` tickets
//!   with at least one breached.
//! - `backlog_by_age`, `by_priority`: tickets open now (not Resolved or Closed), whatever
//!   the period; age is now minus creation.
//! - `volume`: per UTC day of the period, tickets created and tickets resolved.
//! - `sentiment_by_customer`: per company with tickets created in the period, the mean of
//!   those tickets' latest customer sentiment and the label of the company's latest scored
//!   customer message; unhappiest first.
//! - `csat`: ratings given in the period.
//!
//! Percentiles interpolate linearly between closest ranks (numpy's default). Figures
//! obey the caller's view: tenancy, and tickets of restricted teams only for their
//! members and holders of `tickets:manage` — the same rule as the inbox. The rows of the
//! period are read once and aggregated here, which is fine at a helpdesk's scale
//! (thousands of tickets a month).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{FromRef, Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kernel::list::{Single, SqlValue};
use kernel::sections::{CustomerSectionProvider, SectionFuture};
use kernel::{Problem, TenantContext, bind_values, on_pool};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::{HelpdeskError, Priority, TicketStatus};
use crate::service::Helpdesk;

/// Mean, median and 90th percentile of durations in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HoursStats {
    /// Mean (`null` without data).
    pub mean: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// How many tickets.
    pub count: u64,
}

/// SLA compliance of the tickets created in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlaCompliance {
    /// Response targets met, % of decided ones.
    pub response_pct: Option<f64>,
    /// Resolution targets met, % of decided ones.
    pub resolution_pct: Option<f64>,
    /// Tickets with both targets met.
    pub met: u64,
    /// Tickets with at least one target breached.
    pub breached: u64,
}

/// Open tickets of an age bracket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgeBucket {
    /// `<1d`, `1-3d`, `3-7d`, `7-30d` or `>30d`.
    pub bucket: String,
    /// Open tickets.
    pub count: u64,
}

/// Tickets created and resolved on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VolumeDay {
    /// UTC date.
    pub date: NaiveDate,
    /// Created that day.
    pub created: u64,
    /// Resolved that day.
    pub resolved: u64,
}

/// A customer's mood over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerSentiment {
    /// CRM company id.
    pub company_id: Uuid,
    /// Its tickets created in the period.
    pub tickets: u64,
    /// Mean compound score (−1..1) of those with a scored customer message.
    pub avg_compound: Option<f64>,
    /// Label of its latest scored customer message.
    pub latest_label: Option<String>,
}

/// CSAT ratings given in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CsatSummary {
    /// Mean rating (`null` without ratings).
    pub average: Option<f64>,
    /// Ratings.
    pub count: u64,
    /// Ratings per value, keys `"1"` to `"5"`.
    pub distribution: BTreeMap<String, u64>,
}

/// Open tickets of a priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PriorityLoad {
    /// Priority.
    pub priority: Priority,
    /// Open tickets.
    pub open: u64,
    /// Of which past a deadline.
    pub breached: u64,
}

/// `GET /api/v1/helpdesk/analytics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HelpdeskAnalytics {
    /// First agent reply minus creation, tickets created in the period.
    pub first_response_hours: HoursStats,
    /// Resolution minus creation, tickets resolved in the period.
    pub resolution_hours: HoursStats,
    /// SLA targets of tickets created in the period.
    pub sla_compliance: SlaCompliance,
    /// Open tickets by age, now.
    pub backlog_by_age: Vec<AgeBucket>,
    /// Per day of the period.
    pub volume: Vec<VolumeDay>,
    /// Per company, unhappiest first.
    pub sentiment_by_customer: Vec<CustomerSentiment>,
    /// Ratings given in the period.
    pub csat: CsatSummary,
    /// Open tickets per priority, now (Critical first).
    pub by_priority: Vec<PriorityLoad>,
}

/// The period and team asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyticsQuery {
    /// First day (UTC).
    pub from: NaiveDate,
    /// Last day (UTC), inclusive.
    pub to: NaiveDate,
    /// Only this team's tickets.
    pub team_id: Option<Uuid>,
}

/// Longest period accepted.
const MAX_DAYS: i64 = 366;

impl AnalyticsQuery {
    /// Parses `?from=&to=&team_id=` (dates `YYYY-MM-DD`); the default is the 30 days
    /// ending `today`.
    pub fn parse(
        query: &BTreeMap<String, String>,
        today: NaiveDate,
    ) -> Result<Self, HelpdeskError> {
        let date = |name: &str| -> Result<Option<NaiveDate>, HelpdeskError> {
            match query.get(name) {
                None => Ok(None),
                Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| HelpdeskError::field(name, "must be a date, YYYY-MM-DD")),
            }
        };
        let to = date("to")?.unwrap_or(today);
        let from = date("from")?.unwrap_or(to - Duration::days(29));
        if from > to {
            return Err(HelpdeskError::field("from", "must not be after `to`"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(HelpdeskError::field(
                "from",
                format!("the period is at most {MAX_DAYS} days"),
            ));
        }
        let team_id = match query.get("team_id") {
            None => None,
            Some(text) => Some(
                Uuid::parse_str(text.trim())
                    .map_err(|_| HelpdeskError::field("team_id", "must be a UUID"))?,
            ),
        };
        for key in query.keys() {
            if !["from", "to", "team_id"].contains(&key.as_str()) {
                return Err(HelpdeskError::field(
                    key,
                    "unknown parameter (use from, to, team_id)",
                ));
            }
        }
        Ok(Self { from, to, team_id })
    }
}

/// Linear-interpolation percentile of sorted values, `p` in [0, 1].
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Mean, median and p90 of hour values.
pub fn hours_stats(mut values: Vec<f64>) -> HoursStats {
    values.sort_by(f64::total_cmp);
    let count = values.len() as u64;
    let mean = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    HoursStats {
        mean: mean.map(round4),
        median: percentile(&values, 0.5).map(round4),
        p90: percentile(&values, 0.9).map(round4),
        count,
    }
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(day.and_time(chrono::NaiveTime::MIN), Utc)
}

/// A target's outcome: `Some(true)` met, `Some(false)` breached, `None` undecided.
fn outcome(
    due: Option<DateTime<Utc>>,
    done: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<bool> {
    let due = due?;
    match done {
        Some(at) => Some(at <= due),
        None if now > due => Some(false),
        None => None,
    }
}

/// The age bracket of an open ticket.
fn bucket(age: Duration) -> usize {
    let days = age.num_seconds() as f64 / 86_400.0;
    if days < 1.0 {
        0
    } else if days < 3.0 {
        1
    } else if days < 7.0 {
        2
    } else if days < 30.0 {
        3
    } else {
        4
    }
}

const BUCKETS: [&str; 5] = ["<1d", "1-3d", "3-7d", "7-30d", ">30d"];

#[derive(Debug, FromRow)]
struct Row {
    priority: String,
    status: String,
    company_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    sentiment_compound: Option<f64>,
}

/// `AND ...` limiting `t` (tickets) to what the caller may see, plus the team filter;
/// binds are appended to `binds`.
pub(crate) fn scope_sql(
    ctx: &TenantContext,
    team_id: Option<Uuid>,
    binds: &mut Vec<SqlValue>,
) -> String {
    let mut sql = String::new();
    if !ctx.can("tickets:manage") {
        binds.push(SqlValue::Bool(true));
        let restricted = binds.len();
        binds.push(SqlValue::Uuid(ctx.actor().user_id().unwrap_or(Uuid::nil())));
        let me = binds.len();
        sql.push_str(&format!(
            " AND (t.team_id IS NULL OR NOT EXISTS (SELECT 1 FROM helpdesk_teams ht WHERE ht.org_id = t.org_id \
             AND ht.id = t.team_id AND ht.restricted = ${restricted} AND NOT EXISTS (SELECT 1 FROM helpdesk_team_members m \
             WHERE m.org_id = t.org_id AND m.team_id = t.team_id AND m.user_id = ${me})))"
        ));
    }
    if let Some(team) = team_id {
        binds.push(SqlValue::Uuid(team));
        sql.push_str(&format!(" AND t.team_id = ${}", binds.len()));
    }
    sql
}

impl Helpdesk {
    /// The dashboard's figures for a period (`tickets:read`; restricted teams' tickets
    /// count only for those who may see them).
    pub async fn analytics(
        &self,
        ctx: &TenantContext,
        query: AnalyticsQuery,
    ) -> Result<HelpdeskAnalytics, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let now = self.now();
        let start = start_of(query.from);
        let end = start_of(query.to) + Duration::days(1);
        let in_period = |at: DateTime<Utc>| at >= start && at < end;

        let mut binds = vec![
            SqlValue::Uuid(ctx.org_id()),
            SqlValue::Timestamp(start),
            SqlValue::Timestamp(end),
        ];
        let scope = scope_sql(ctx, query.team_id, &mut binds);
        let text = format!(
            "SELECT t.priority, t.status, t.company_id, t.created_at, t.first_response_at, t.resolved_at, \
             t.response_due_at, t.resolution_due_at, t.sentiment_compound FROM tickets t \
             WHERE t.org_id = $1{scope} AND ((t.created_at >= $2 AND t.created_at < $3) \
             OR (t.resolved_at >= $2 AND t.resolved_at < $3) OR t.status NOT IN ('Resolved', 'Closed'))"
        );
        let rows: Vec<Row> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            bind_values!(q, &binds).fetch_all(p).await
        })?;

        let mut first_response = Vec::new();
        let mut resolution = Vec::new();
        let (mut response_met, mut response_breached) = (0u64, 0u64);
        let (mut resolution_met, mut resolution_breached) = (0u64, 0u64);
        let (mut tickets_met, mut tickets_breached) = (0u64, 0u64);
        let mut backlog = [0u64; 5];
        let mut by_priority: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        let days = (query.to - query.from).num_days() + 1;
        let mut volume: Vec<VolumeDay> = (0..days)
            .map(|i| VolumeDay {
                date: query.from + Duration::days(i),
                created: 0,
                resolved: 0,
            })
            .collect();
        let day_index = |at: DateTime<Utc>| -> Option<usize> {
            usize::try_from((at.date_naive() - query.from).num_days()).ok()
        };
        let mut customers: HashMap<Uuid, (u64, Vec<f64>)> = HashMap::new();

        for row in &rows {
            let status = TicketStatus::parse(&row.status)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("ticket status `{}`", row.status)))?;
            if in_period(row.created_at) {
                if let Some(at) = row.first_response_at {
                    first_response.push(hours(row.created_at, at));
                }
                let response = outcome(
                    row.response_due_at,
                    row.first_response_at.or(row.resolved_at),
                    now,
                );
                let resolved = outcome(row.resolution_due_at, row.resolved_at, now);
                match response {
                    Some(true) => response_met += 1,
                    Some(false) => response_breached += 1,
                    None => {}
                }
                match resolved {
                    Some(true) => resolution_met += 1,
                    Some(false) => resolution_breached += 1,
                    None => {}
                }
                if response == Some(false) || resolved == Some(false) {
                    tickets_breached += 1;
                } else if response == Some(true) && resolved == Some(true) {
                    tickets_met += 1;
                }
                if let Some(i) = day_index(row.created_at)
                    && let Some(day) = volume.get_mut(i)
                {
                    day.created += 1;
                }
                if let Some(company) = row.company_id {
                    let entry = customers.entry(company).or_default();
                    entry.0 += 1;
                    entry.1.extend(row.sentiment_compound);
                }
            }
            if let Some(at) = row.resolved_at
                && in_period(at)
            {
                resolution.push(hours(row.created_at, at));
                if let Some(i) = day_index(at)
                    && let Some(day) = volume.get_mut(i)
                {
                    day.resolved += 1;
                }
            }
            if !status.is_done() {
                backlog[bucket(now - row.created_at)] += 1;
                let priority = Priority::parse(&row.priority).ok_or_else(|| {
                    HelpdeskError::Corrupt(format!("priority `{}`", row.priority))
                })?;
                let rank = Priority::ALL
                    .iter()
                    .position(|p| *p == priority)
                    .unwrap_or(Priority::ALL.len());
                let breached = outcome(
                    row.response_due_at,
                    row.first_response_at.or(row.resolved_at),
                    now,
                ) == Some(false)
                    || outcome(row.resolution_due_at, row.resolved_at, now) == Some(false);
                let entry = by_priority.entry(rank).or_default();
                entry.0 += 1;
                entry.1 += u64::from(breached);
            }
        }

        let pct = |met: u64, breached: u64| {
            (met + breached > 0).then(|| round4(met as f64 * 100.0 / (met + breached) as f64))
        };

        let sentiment_by_customer = self
            .customer_moods(ctx, &query, start, end, customers)
            .await?;
        let csat = self.csat_summary(ctx, &query, start, end).await?;

        Ok(HelpdeskAnalytics {
            first_response_hours: hours_stats(first_response),
            resolution_hours: hours_stats(resolution),
            sla_compliance: SlaCompliance {
                response_pct: pct(response_met, response_breached),
                resolution_pct: pct(resolution_met, resolution_breached),
                met: tickets_met,
                breached: tickets_breached,
            },
            backlog_by_age: BUCKETS
                .iter()
                .zip(backlog)
                .map(|(name, count)| AgeBucket {
                    bucket: (*name).to_owned(),
                    count,
                })
                .collect(),
            volume,
            sentiment_by_customer,
            csat,
            by_priority: Priority::ALL
                .iter()
                .enumerate()
                .map(|(rank, priority)| {
                    let (open, breached) = by_priority.get(&rank).copied().unwrap_or_default();
                    PriorityLoad {
                        priority: *priority,
                        open,
                        breached,
                    }
                })
                .collect(),
        })
    }

    /// Per company: tickets, mean sentiment, latest label; unhappiest first.
    async fn customer_moods(
        &self,
        ctx: &TenantContext,
        query: &AnalyticsQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        customers: HashMap<Uuid, (u64, Vec<f64>)>,
    ) -> Result<Vec<CustomerSentiment>, HelpdeskError> {
        if customers.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![
            SqlValue::Uuid(ctx.org_id()),
            SqlValue::Timestamp(start),
            SqlValue::Timestamp(end),
        ];
        let scope = scope_sql(ctx, query.team_id, &mut binds);
        let text = format!(
            "SELECT t.company_id, m.sentiment_label FROM ticket_messages m \
             JOIN tickets t ON t.org_id = m.org_id AND t.id = m.ticket_id \
             WHERE m.org_id = $1{scope} AND t.company_id IS NOT NULL AND t.created_at >= $2 AND t.created_at < $3 \
             AND m.sentiment_label IS NOT NULL ORDER BY m.created_at, m.id"
        );
        let labels: Vec<(Uuid, String)> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            bind_values!(q, &binds).fetch_all(p).await
        })?;
        let mut latest: HashMap<Uuid, String> = HashMap::new();
        for (company, label) in labels {
            latest.insert(company, label);
        }
        let mut out: Vec<CustomerSentiment> = customers
            .into_iter()
            .map(|(company_id, (tickets, scores))| CustomerSentiment {
                company_id,
                tickets,
                avg_compound: (!scores.is_empty())
                    .then(|| round4(scores.iter().sum::<f64>() / scores.len() as f64)),
                latest_label: latest.remove(&company_id),
            })
            .collect();
        out.sort_by(|a, b| match (a.avg_compound, b.avg_compound) {
            (Some(x), Some(y)) => x.total_cmp(&y).then(a.company_id.cmp(&b.company_id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.company_id.cmp(&b.company_id),
        });
        Ok(out)
    }

    /// Ratings given in the period, on tickets the caller may see.
    async fn csat_summary(
        &self,
        ctx: &TenantContext,
        query: &AnalyticsQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<CsatSummary, HelpdeskError> {
        let mut binds = vec![
            SqlValue::Uuid(ctx.org_id()),
            SqlValue::Timestamp(start),
            SqlValue::Timestamp(end),
        ];
        let scope = scope_sql(ctx, query.team_id, &mut binds);
        let text = format!(
            "SELECT c.rating FROM ticket_csat c JOIN tickets t ON t.org_id = c.org_id AND t.id = c.ticket_id \
             WHERE c.org_id = $1{scope} AND c.rating IS NOT NULL AND c.rated_at >= $2 AND c.rated_at < $3"
        );
        let ratings: Vec<i32> = on_pool!(self.db, |p| {
            let q = sqlx::query_scalar(sqlx::AssertSqlSafe(text.clone()));
            bind_values!(q, &binds).fetch_all(p).await
        })?;
        let mut distribution: BTreeMap<String, u64> =
            (1..=5).map(|r: i32| (r.to_string(), 0)).collect();
        for r in &ratings {
            *distribution.entry(r.to_string()).or_default() += 1;
        }
        Ok(CsatSummary {
            average: (!ratings.is_empty())
                .then(|| round4(f64::from(ratings.iter().sum::<i32>()) / ratings.len() as f64)),
            count: ratings.len() as u64,
            distribution,
        })
    }
}

/// The helpdesk's `tickets` section of the CRM's customer 360 view:
/// [`Helpdesk::company_tickets`] (open tickets, open SLA risks, mood) as JSON, for
/// callers with `tickets:read` (`null` for others).
impl CustomerSectionProvider for Helpdesk {
    fn section(&self) -> &'static str {
        "tickets"
    }

    fn module(&self) -> &'static str {
        "helpdesk"
    }

    fn customer_section<'a>(
        &'a self,
        ctx: &'a TenantContext,
        company_id: Uuid,
    ) -> SectionFuture<'a> {
        Box::pin(async move {
            if !ctx.can("tickets:read") {
                return Ok(None);
            }
            let summary = self
                .company_tickets(ctx, company_id)
                .await
                .map_err(Problem::from)?;
            Ok(Some(serde_json::to_value(&summary).map_err(|e| {
                Problem::from(HelpdeskError::Corrupt(format!("customer tickets: {e}")))
            })?))
        })
    }
}

/// The analytics route.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(analytics))
}

/// The helpdesk dashboard's figures for a period (`tickets:read`; default the last 30
/// days; wall-clock hours; restricted teams' tickets count only for those who see them).
#[utoipa::path(get, path = "/api/v1/helpdesk/analytics", tag = "helpdesk",
    params(("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (UTC); default 29 days before `to`"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (UTC); default today"),
        ("team_id" = Option<uuid::Uuid>, Query, description = "Only this team's tickets")),
    responses((status = 200, body = Single<HelpdeskAnalytics>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn analytics(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Json<Single<HelpdeskAnalytics>>, Problem> {
    let query = AnalyticsQuery::parse(&q, helpdesk.now().date_naive())?;
    Ok(Json(Single::new(helpdesk.analytics(&ctx, query).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), Some(2.5));
        assert!((percentile(&v, 0.9).unwrap_or_default() - 3.7).abs() < 1e-12);
        assert_eq!(percentile(&[], 0.5), None);
        let s = hours_stats(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.count, 4);
    }

    #[test]
    fn query_defaults_and_errors() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        let q = AnalyticsQuery::parse(&BTreeMap::new(), today).expect("defaults");
        assert_eq!(q.to, today);
        assert_eq!((q.to - q.from).num_days(), 29);
        let bad: BTreeMap<String, String> = [("from".to_owned(), "yesterday".to_owned())].into();
        assert!(matches!(
            AnalyticsQuery::parse(&bad, today),
            Err(HelpdeskError::Validation(e)) if e[0].field == "from"
        ));
    }

    #[test]
    fn buckets_by_age() {
        assert_eq!(bucket(Duration::hours(23)), 0);
        assert_eq!(bucket(Duration::hours(24)), 1);
        assert_eq!(bucket(Duration::days(5)), 2);
        assert_eq!(bucket(Duration::days(29)), 3);
        assert_eq!(bucket(Duration::days(31)), 4);
    }
}
