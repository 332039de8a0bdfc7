//! Helpdesk business rules, callable without HTTP. Every tenant query binds the caller's
//! organisation; reads need `tickets:read` / `sla:read`, changes `tickets:create`,
//! `tickets:update`, `sla:create`, `sla:update`.
//!
//! SLA deadlines are computed when a ticket is created or changes (status, priority, type,
//! first reply) and stored on the ticket, so the inbox sorts and filters on plain columns;
//! the status (On Track, At Risk, breached) is derived from them at read time. A policy or
//! calendar change applies to open tickets only through an explicit recompute.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use kernel::audit;
use kernel::events::{self, NewEvent};
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page, SqlValue};
use kernel::{Db, FieldError, SharedClock, TenantContext, Tx, bind_values, on_pool, on_tx};
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::*;
use crate::sla::{self, Calendar, Pause, PolicyRules, TargetClock};

/// Where the SLA clock parks tickets with no pending deadline in the urgency order.
fn far_future() -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default(),
        Utc,
    )
}

/// Helpdesk settings (attachment store and upload rules).
#[derive(Debug, Clone)]
pub struct HelpdeskSettings {
    /// Folder of the local attachment store (default `./data/attachments`); used when
    /// `attachments_s3` is `None`.
    pub attachments_dir: PathBuf,
    /// The S3-compatible bucket holding attachments instead of the folder, if set.
    pub attachments_s3: Option<crate::store::S3Settings>,
    /// Largest attachment accepted, in bytes (default 10 MiB).
    pub max_attachment_bytes: usize,
    /// Content types accepted; each must be one whose first bytes can be checked.
    pub allowed_content_types: Vec<String>,
}

/// Default attachment folder.
pub const DEFAULT_ATTACHMENTS_DIR: &str = "./data/attachments";
/// Default attachment size limit (10 MiB).
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

impl HelpdeskSettings {
    /// Which attachment store these settings select.
    pub fn store_settings(&self) -> crate::store::StoreSettings {
        match &self.attachments_s3 {
            Some(s3) => crate::store::StoreSettings::S3(s3.clone()),
            None => crate::store::StoreSettings::Local(self.attachments_dir.clone()),
        }
    }
}

impl Default for HelpdeskSettings {
    fn default() -> Self {
        Self {
            attachments_dir: PathBuf::from(DEFAULT_ATTACHMENTS_DIR),
            attachments_s3: None,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            allowed_content_types: crate::attachments::CHECKED_TYPES
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        }
    }
}

/// The helpdesk service.
#[derive(Clone)]
pub struct Helpdesk {
    pub(crate) db: Db,
    pub(crate) clock: SharedClock,
    pub(crate) settings: Arc<HelpdeskSettings>,
    pub(crate) store: crate::store::AttachmentStore,
}

const TICKET_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "sla_due_at",
        column: "t.sla_due_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "created_at",
        column: "t.created_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "updated_at",
        column: "t.updated_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "number",
        column: "t.number",
        kind: FieldKind::Text,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "priority_rank",
        column: "t.priority_rank",
        kind: FieldKind::Integer,
        sortable: true,
        filterable: false,
    },
    FieldSpec {
        name: "status",
        column: "t.status",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "priority",
        column: "t.priority",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "type",
        column: "t.ticket_type",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "assignee_id",
        column: "t.assignee_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "team_id",
        column: "t.team_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "company_id",
        column: "t.company_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "contact_id",
        column: "t.contact_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "subject",
        column: "t.subject",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "tags",
        column: "t.tags",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "equipment_ref",
        column: "t.equipment_ref",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
];

/// What `GET /api/v1/tickets` accepts; the default order is SLA urgency (the earliest
/// pending deadline first; tickets without one last).
pub const TICKET_LIST: ListSpec = ListSpec {
    fields: TICKET_FIELDS,
    default_sort: "sla_due_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "t.id",
};

/// Inbox views (`?view=`).
const VIEWS: [&str; 4] = ["mine", "unassigned", "at_risk", "breached"];

#[derive(Debug, Clone, FromRow)]
pub(crate) struct TicketRow {
    id: Uuid,
    number: String,
    subject: String,
    description: String,
    ticket_type: String,
    priority: String,
    status: String,
    company_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
    tags: String,
    equipment_ref: Option<String>,
    policy_id: Uuid,
    policy_name: String,
    calendar_id: Uuid,
    response_target_secs: i64,
    resolution_target_secs: i64,
    at_risk_percent: i32,
    at_risk_min_minutes: i32,
    sla_pauses: String,
    sla_paused: bool,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    response_risk_at: Option<DateTime<Utc>>,
    resolution_risk_at: Option<DateTime<Utc>>,
    sla_due_at: DateTime<Utc>,
    sentiment_compound: Option<f64>,
    sentiment_label: Option<String>,
    sentiment_trend: Option<f64>,
    csat_rating: Option<i32>,
    csat_comment: Option<String>,
    csat_rated_at: Option<DateTime<Utc>>,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    insights: Option<String>,
}

const TICKET_COLUMNS: &str = "t.id, t.number, t.subject, t.description, t.ticket_type, t.priority, t.status, \
    t.company_id, t.contact_id, t.assignee_id, t.team_id, t.tags, t.equipment_ref, t.policy_id, p.name AS policy_name, \
    t.calendar_id, t.response_target_secs, t.resolution_target_secs, t.at_risk_percent, t.at_risk_min_minutes, \
    t.sla_pauses, t.sla_paused, t.first_response_at, t.resolved_at, t.closed_at, t.response_due_at, \
    t.resolution_due_at, t.response_risk_at, t.resolution_risk_at, t.sla_due_at, t.sentiment_compound, \
    t.sentiment_label, t.sentiment_trend, t.created_by, t.created_at, t.updated_at, t.version, ti.insight AS insights, \
    t.csat_rating, t.csat_comment, t.csat_rated_at";

const TICKET_FROM: &str = "tickets t JOIN sla_policies p ON p.org_id = t.org_id AND p.id = t.policy_id \
    LEFT JOIN ticket_insights ti ON ti.org_id = t.org_id AND ti.ticket_id = t.id";

/// The stored SLA instants of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoredClock {
    response_due_at: Option<DateTime<Utc>>,
    response_risk_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    resolution_risk_at: Option<DateTime<Utc>>,
    sla_due_at: DateTime<Utc>,
    paused: bool,
}

/// The inputs of a ticket's SLA clock.
struct ClockInputs<'a> {
    start: DateTime<Utc>,
    response_target: Duration,
    resolution_target: Duration,
    at_risk_percent: u32,
    at_risk_min_minutes: u32,
    pauses: &'a [Pause],
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
}

/// Lays a ticket's targets on its calendar. A met target ignores pauses that began after
/// it was met (so a resolved ticket still shows when it was due).
fn compute_clock(calendar: &Calendar, inputs: &ClockInputs<'_>) -> StoredClock {
    let before = |met: Option<DateTime<Utc>>| -> Vec<Pause> {
        inputs
            .pauses
            .iter()
            .copied()
            .filter(|p| met.is_none_or(|m| p.start < m))
            .collect()
    };
    let response_pauses = before(inputs.first_response_at);
    let resolution_pauses = before(inputs.resolved_at);
    let response = TargetClock {
        calendar,
        start: inputs.start,
        target: inputs.response_target,
        threshold: sla::threshold(
            inputs.response_target,
            inputs.at_risk_percent,
            inputs.at_risk_min_minutes,
        ),
        pauses: &response_pauses,
        met_at: inputs.first_response_at,
    }
    .evaluate(inputs.start);
    let resolution = TargetClock {
        calendar,
        start: inputs.start,
        target: inputs.resolution_target,
        threshold: sla::threshold(
            inputs.resolution_target,
            inputs.at_risk_percent,
            inputs.at_risk_min_minutes,
        ),
        pauses: &resolution_pauses,
        met_at: inputs.resolved_at,
    }
    .evaluate(inputs.start);
    let mut pending = Vec::new();
    if inputs.first_response_at.is_none() && inputs.resolved_at.is_none() {
        pending.extend(response.due_at);
    }
    if inputs.resolved_at.is_none() {
        pending.extend(resolution.due_at);
    }
    StoredClock {
        response_due_at: response.due_at,
        response_risk_at: response.risk_at,
        resolution_due_at: resolution.due_at,
        resolution_risk_at: resolution.risk_at,
        sla_due_at: pending.into_iter().min().unwrap_or_else(far_future),
        paused: inputs.pauses.iter().any(|p| p.end.is_none()),
    }
}

/// The SLA status of a stored ticket at `now`.
fn sla_status(row: &TicketRow, done: bool, now: DateTime<Utc>) -> SlaStatus {
    let resolution_breached = row
        .resolution_due_at
        .is_some_and(|due| row.resolved_at.unwrap_or(now) > due);
    // Resolving without a reply stops the response clock too.
    let response_breached = row
        .response_due_at
        .is_some_and(|due| row.first_response_at.or(row.resolved_at).unwrap_or(now) > due);
    let response_at_risk = row.first_response_at.is_none()
        && row.response_risk_at.is_some_and(|r| now >= r)
        && !response_breached;
    let resolution_at_risk = row.resolved_at.is_none()
        && row.resolution_risk_at.is_some_and(|r| now >= r)
        && !resolution_breached;
    if resolution_breached {
        SlaStatus::ResolutionBreached
    } else if response_breached {
        SlaStatus::ResponseBreached
    } else if !done && (response_at_risk || resolution_at_risk) {
        SlaStatus::AtRisk
    } else {
        SlaStatus::OnTrack
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, HelpdeskError> {
    serde_json::from_str(text).map_err(|e| HelpdeskError::Corrupt(format!("{what}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl TicketRow {
    fn status(&self) -> Result<TicketStatus, HelpdeskError> {
        TicketStatus::parse(&self.status)
            .ok_or_else(|| HelpdeskError::Corrupt(format!("ticket status `{}`", self.status)))
    }

    fn pauses(&self) -> Result<Vec<Pause>, HelpdeskError> {
        parse_json(&self.sla_pauses, "ticket pauses")
    }

    fn into_ticket(self, now: DateTime<Utc>) -> Result<Ticket, HelpdeskError> {
        let status = self.status()?;
        let sla_status = sla_status(&self, status.is_done(), now);
        Ok(Ticket {
            id: self.id,
            number: self.number,
            subject: self.subject,
            description: self.description,
            ticket_type: TicketType::parse(&self.ticket_type)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("type `{}`", self.ticket_type)))?,
            priority: Priority::parse(&self.priority)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("priority `{}`", self.priority)))?,
            status,
            company_id: self.company_id,
            contact_id: self.contact_id,
            assignee_id: self.assignee_id,
            team_id: self.team_id,
            tags: parse_json(&self.tags, "tags")?,
            equipment_ref: self.equipment_ref,
            sla: TicketSla {
                policy: PolicyRef {
                    id: self.policy_id,
                    name: self.policy_name,
                },
                response_due_at: self.response_due_at,
                resolution_due_at: self.resolution_due_at,
                first_response_at: self.first_response_at,
                resolved_at: self.resolved_at,
                status: sla_status,
                paused: self.sla_paused,
                response_target_minutes: self.response_target_secs / 60,
                resolution_target_minutes: self.resolution_target_secs / 60,
            },
            sentiment: match (self.sentiment_compound, self.sentiment_label) {
                (Some(compound), Some(label)) => Some(TicketSentiment {
                    compound,
                    label,
                    trend: self.sentiment_trend,
                }),
                _ => None,
            },
            csat: crate::csat::TicketCsat::from_columns(
                self.csat_rating,
                self.csat_comment,
                self.csat_rated_at,
            ),
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            insights: match self.insights {
                Some(text) => Some(parse_json(&text, "insights")?),
                None => None,
            },
        })
    }
}

#[derive(Debug, Clone, FromRow)]
struct CalendarRow {
    id: Uuid,
    name: String,
    time_zone: String,
    weekly_hours: String,
    holidays: String,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const CALENDAR_COLUMNS: &str =
    "id, name, time_zone, weekly_hours, holidays, is_default, created_at, updated_at, version";

impl CalendarRow {
    fn record(&self) -> Result<CalendarRecord, HelpdeskError> {
        Ok(CalendarRecord {
            id: self.id,
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
            weekly_hours: parse_json(&self.weekly_hours, "weekly hours")?,
            holidays: parse_json(&self.holidays, "holidays")?,
            is_default: self.is_default,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }

    fn calendar(&self) -> Result<Calendar, HelpdeskError> {
        let record = self.record()?;
        Calendar::from_spec(&record.time_zone, &record.weekly_hours, &record.holidays)
            .map_err(|e| HelpdeskError::Corrupt(format!("calendar {}: {e}", self.id)))
    }
}

#[derive(Debug, Clone, FromRow)]
struct PolicyRow {
    id: Uuid,
    name: String,
    calendar_id: Uuid,
    targets: String,
    type_multipliers: String,
    at_risk_percent: i32,
    at_risk_min_minutes: i32,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const POLICY_COLUMNS: &str = "id, name, calendar_id, targets, type_multipliers, at_risk_percent, at_risk_min_minutes, is_default, created_at, updated_at, version";

impl PolicyRow {
    fn record(&self) -> Result<SlaPolicy, HelpdeskError> {
        Ok(SlaPolicy {
            id: self.id,
            name: self.name.clone(),
            calendar_id: self.calendar_id,
            targets: parse_json(&self.targets, "targets")?,
            type_multipliers: parse_json(&self.type_multipliers, "type multipliers")?,
            at_risk_percent: u32::try_from(self.at_risk_percent).unwrap_or(20),
            at_risk_min_minutes: u32::try_from(self.at_risk_min_minutes).unwrap_or(60),
            is_default: self.is_default,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }

    fn rules(&self) -> Result<PolicyRules, HelpdeskError> {
        let record = self.record()?;
        Ok(PolicyRules {
            targets: record.targets,
            multipliers: record.type_multipliers,
            at_risk_percent: record.at_risk_percent,
            at_risk_min_minutes: record.at_risk_min_minutes,
        })
    }
}

/// The largest target accepted: a year of business minutes.
const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;

fn validate_rules(rules: &PolicyRules, errors: &mut Vec<FieldError>) {
    for priority in Priority::ALL {
        let t = rules.targets.get(priority);
        for (name, minutes) in [
            ("response_minutes", t.response_minutes),
            ("resolution_minutes", t.resolution_minutes),
        ] {
            if minutes == 0 || minutes > MAX_TARGET_MINUTES {
                errors.push(FieldError::new(
                    format!("targets.{}.{name}", priority.as_str()),
                    format!("must be from 1 to {MAX_TARGET_MINUTES} minutes"),
                ));
            }
        }
    }
    for (name, value) in rules.multipliers.entries() {
        if !(value.is_finite() && value > 0.0 && value <= 10.0) {
            errors.push(FieldError::new(
                format!("type_multipliers.{name}"),
                "must be above 0 and at most 10",
            ));
        }
    }
    if rules.at_risk_percent > 100 {
        errors.push(FieldError::new("at_risk_percent", "must be from 0 to 100"));
    }
    if rules.at_risk_min_minutes > MAX_TARGET_MINUTES {
        errors.push(FieldError::new(
            "at_risk_min_minutes",
            format!("must be at most {MAX_TARGET_MINUTES}"),
        ));
    }
}

fn clean_tags(tags: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.into_iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                "must be 1 to 50 characters",
            ));
        } else if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 20 {
        errors.push(FieldError::new("tags", "at most 20 tags"));
    }
    out
}

/// Scores a customer message with `insight::sentiment` (the VADER port): `neg`, `neu`,
/// `pos`, `compound` and the usual label (`compound` ≥ 0.05 positive, ≤ −0.05 negative).
/// `None` is kept in the signature for a text that cannot be scored (none today).
pub fn score_message(text: &str) -> Option<MessageSentiment> {
    let scores = insight::sentiment::polarity_scores(text);
    Some(MessageSentiment {
        neg: scores.neg,
        neu: scores.neu,
        pos: scores.pos,
        compound: scores.compound,
        label: scores.label().as_str(),
    })
}

/// A restricted team the caller is not a member of ($1 org, $2 team, $3 true, $4 user).
const HIDDEN_TEAM: &str = "SELECT t.id FROM helpdesk_teams t WHERE t.org_id = $1 AND t.id = $2 AND t.restricted = $3 \
     AND NOT EXISTS (SELECT 1 FROM helpdesk_team_members m WHERE m.org_id = t.org_id AND m.team_id = t.id AND m.user_id = $4)";

impl Helpdesk {
    /// The service over `db`, with injected time and its settings.
    pub fn new(db: Db, clock: SharedClock, settings: HelpdeskSettings) -> Self {
        let store = crate::store::AttachmentStore::new(settings.store_settings());
        Self {
            db,
            clock,
            settings: Arc::new(settings),
            store,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &HelpdeskSettings {
        &self.settings
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        action: &str,
        record_type: &str,
        id: Uuid,
        before: &serde_json::Value,
        after: &serde_json::Value,
    ) -> Result<(), HelpdeskError> {
        audit::record_change(tx, &self.clock, ctx, action, record_type, id, before, after).await?;
        Ok(())
    }

    async fn event(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        event_type: &str,
        record_type: &str,
        id: Uuid,
        data: serde_json::Value,
    ) -> Result<(), HelpdeskError> {
        events::record(
            tx,
            &self.clock,
            NewEvent {
                event_type: event_type.to_owned(),
                org_id: ctx.org_id(),
                actor: Some(ctx.actor().label()),
                record_type: record_type.to_owned(),
                record_id: id,
                data,
            },
        )
        .await?;
        Ok(())
    }

    // ------------------------------------------------------------------ defaults

    /// The organisation's default calendar, created (24×7, UTC) on first use.
    async fn default_calendar(&self, tx: &mut Tx, org: Uuid) -> Result<CalendarRow, HelpdeskError> {
        let select = format!(
            "SELECT {CALENDAR_COLUMNS} FROM helpdesk_calendars WHERE org_id = $1 AND is_default = $2"
        );
        let found: Option<CalendarRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                .bind(org)
                .bind(true)
                .fetch_optional(c)
                .await)?;
        if let Some(row) = found {
            return Ok(row);
        }
        let now = self.now();
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO helpdesk_calendars (org_id, id, name, time_zone, weekly_hours, holidays, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
        )
        .bind(org)
        .bind(Uuid::now_v7())
        .bind("24×7")
        .bind("UTC")
        .bind(to_json(&WeeklyHours::always()))
        .bind("[]")
        .bind(true)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let row: Option<CalendarRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                .bind(org)
                .bind(true)
                .fetch_optional(c)
                .await)?;
        row.ok_or(HelpdeskError::NotFound("default calendar"))
    }

    /// The organisation's default policy, created with seed 000's numbers on first use.
    async fn default_policy(&self, tx: &mut Tx, org: Uuid) -> Result<PolicyRow, HelpdeskError> {
        let select = format!(
            "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE org_id = $1 AND is_default = $2"
        );
        let found: Option<PolicyRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                .bind(org)
                .bind(true)
                .fetch_optional(c)
                .await)?;
        if let Some(row) = found {
            return Ok(row);
        }
        let calendar = self.default_calendar(tx, org).await?;
        let seed = PolicyRules::seed();
        let now = self.now();
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO sla_policies (org_id, id, name, calendar_id, targets, type_multipliers, at_risk_percent, at_risk_min_minutes, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"
        )
        .bind(org)
        .bind(Uuid::now_v7())
        .bind("Default")
        .bind(calendar.id)
        .bind(to_json(&seed.targets))
        .bind(to_json(&seed.multipliers))
        .bind(seed.at_risk_percent as i32)
        .bind(seed.at_risk_min_minutes as i32)
        .bind(true)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let row: Option<PolicyRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                .bind(org)
                .bind(true)
                .fetch_optional(c)
                .await)?;
        row.ok_or(HelpdeskError::NotFound("default SLA policy"))
    }

    /// Makes sure the organisation has its default calendar and policy.
    async fn ensure_defaults(&self, org: Uuid) -> Result<(), HelpdeskError> {
        let mut tx = self.db.begin().await?;
        self.default_policy(&mut tx, org).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn calendar_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<CalendarRow, HelpdeskError> {
        let row: Option<CalendarRow> =
            on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CALENDAR_COLUMNS} FROM helpdesk_calendars WHERE org_id = $1 AND id = $2"
            )))
            .bind(org)
            .bind(id)
            .fetch_optional(c)
            .await)?;
        row.ok_or(HelpdeskError::NotFound("calendar"))
    }

    async fn policy_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<PolicyRow, HelpdeskError> {
        let row: Option<PolicyRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE org_id = $1 AND id = $2"
        )))
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await)?;
        row.ok_or(HelpdeskError::NotFound("SLA policy"))
    }

    // ------------------------------------------------------------------ tickets

    /// Hands out the next number of the organisation for `year`, inside `tx`: the counter
    /// row is updated in place (an upsert), so concurrent creations queue on that row and
    /// a rolled-back creation gives its number back.
    async fn next_number(
        &self,
        tx: &mut Tx,
        org: Uuid,
        year: i32,
    ) -> Result<String, HelpdeskError> {
        let n: i64 = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "INSERT INTO ticket_counters (org_id, year, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (org_id, year) DO UPDATE SET last_number = ticket_counters.last_number + 1 \
             RETURNING last_number"
        )
        .bind(org)
        .bind(year)
        .fetch_one(c)
        .await
        })?;
        Ok(format!("TKT-{year}-{n:05}"))
    }

    async fn team_exists(&self, tx: &mut Tx, org: Uuid, id: Uuid) -> Result<bool, HelpdeskError> {
        let found: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM helpdesk_teams WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await)?;
        Ok(found.is_some())
    }

    /// A ticket of a restricted team is visible only to the team's members and to holders
    /// of `tickets:manage`; to anyone else it does not exist.
    async fn check_visible(
        &self,
        ctx: &TenantContext,
        team_id: Option<Uuid>,
    ) -> Result<(), HelpdeskError> {
        let Some(team) = team_id else {
            return Ok(());
        };
        if ctx.can("tickets:manage") {
            return Ok(());
        }
        let me = ctx.actor().user_id().unwrap_or(Uuid::nil());
        let hidden: Option<Uuid> = on_pool!(self.db, |p| {
            sqlx::query_scalar(HIDDEN_TEAM)
                .bind(ctx.org_id())
                .bind(team)
                .bind(true)
                .bind(me)
                .fetch_optional(p)
                .await
        })?;
        match hidden {
            Some(_) => Err(HelpdeskError::NotFound("ticket")),
            None => Ok(()),
        }
    }

    /// [`Self::check_visible`] inside a write transaction (which must not wait for a
    /// second pool connection: see ARCHITECTURE.md).
    async fn check_visible_tx(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        team_id: Option<Uuid>,
    ) -> Result<(), HelpdeskError> {
        let Some(team) = team_id else {
            return Ok(());
        };
        if ctx.can("tickets:manage") {
            return Ok(());
        }
        let me = ctx.actor().user_id().unwrap_or(Uuid::nil());
        let hidden: Option<Uuid> = on_tx!(tx, |c| {
            sqlx::query_scalar(HIDDEN_TEAM)
                .bind(ctx.org_id())
                .bind(team)
                .bind(true)
                .bind(me)
                .fetch_optional(c)
                .await
        })?;
        match hidden {
            Some(_) => Err(HelpdeskError::NotFound("ticket")),
            None => Ok(()),
        }
    }

    async fn ticket_row(&self, ctx: &TenantContext, id: Uuid) -> Result<TicketRow, HelpdeskError> {
        let row: Option<TicketRow> = on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.org_id = $1 AND t.id = $2")
        ))
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(p)
        .await)?;
        let row = row.ok_or(HelpdeskError::NotFound("ticket"))?;
        self.check_visible(ctx, row.team_id).await?;
        Ok(row)
    }

    async fn ticket_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<TicketRow, HelpdeskError> {
        let row: Option<TicketRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.org_id = $1 AND t.id = $2"
        )))
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await)?;
        row.ok_or(HelpdeskError::NotFound("ticket"))
    }

    /// Opens a ticket: numbered, on the organisation's default SLA policy.
    pub async fn create_ticket(
        &self,
        ctx: &TenantContext,
        new: NewTicket,
    ) -> Result<Ticket, HelpdeskError> {
        ctx.authorize("tickets:create")?;
        let mut errors = Vec::new();
        let subject = new.subject.trim().to_owned();
        if subject.is_empty() || subject.chars().count() > 300 {
            errors.push(FieldError::new("subject", "must be 1 to 300 characters"));
        }
        if new.description.chars().count() > 100_000 {
            errors.push(FieldError::new(
                "description",
                "must be at most 100000 characters",
            ));
        }
        let equipment_ref = new
            .equipment_ref
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        if equipment_ref
            .as_ref()
            .is_some_and(|e| e.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "equipment_ref",
                "must be at most 200 characters",
            ));
        }
        let tags = clean_tags(new.tags, &mut errors);
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if let Some(team) = new.team_id
            && !self.team_exists(&mut tx, org, team).await?
        {
            return Err(HelpdeskError::field("team_id", "no such team"));
        }
        let auto = match (new.assignee_id, new.team_id) {
            (None, Some(team)) => crate::assignment::pick(&mut tx, org, team, &tags).await?,
            _ => None,
        };
        let assignee_id = new.assignee_id.or(auto.map(|a| a.user_id));
        let policy = self.default_policy(&mut tx, org).await?;
        let rules = policy.rules()?;
        let calendar = self
            .calendar_row_tx(&mut tx, org, policy.calendar_id)
            .await?
            .calendar()?;
        let (response_target, resolution_target) = rules.targets_for(new.priority, new.ticket_type);
        let clock = compute_clock(
            &calendar,
            &ClockInputs {
                start: now,
                response_target,
                resolution_target,
                at_risk_percent: rules.at_risk_percent,
                at_risk_min_minutes: rules.at_risk_min_minutes,
                pauses: &[],
                first_response_at: None,
                resolved_at: None,
            },
        );
        let id = Uuid::now_v7();
        let number = self.next_number(&mut tx, org, now.year()).await?;
        let actor = ctx.actor().label();
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO tickets (org_id, id, number, subject, description, ticket_type, priority, priority_rank, status, \
             company_id, contact_id, assignee_id, team_id, tags, equipment_ref, policy_id, calendar_id, \
             response_target_secs, resolution_target_secs, at_risk_percent, at_risk_min_minutes, sla_pauses, sla_paused, \
             response_due_at, resolution_due_at, response_risk_at, resolution_risk_at, sla_due_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
             $24, $25, $26, $27, $28, $29, $30, $31)"
        )
        .bind(org)
        .bind(id)
        .bind(&number)
        .bind(&subject)
        .bind(&new.description)
        .bind(new.ticket_type.as_str())
        .bind(new.priority.as_str())
        .bind(priority_rank(new.priority))
        .bind(TicketStatus::Open.as_str())
        .bind(new.company_id)
        .bind(new.contact_id)
        .bind(assignee_id)
        .bind(new.team_id)
        .bind(to_json(&tags))
        .bind(&equipment_ref)
        .bind(policy.id)
        .bind(policy.calendar_id)
        .bind(response_target.num_seconds())
        .bind(resolution_target.num_seconds())
        .bind(rules.at_risk_percent as i32)
        .bind(rules.at_risk_min_minutes as i32)
        .bind("[]")
        .bind(false)
        .bind(clock.response_due_at)
        .bind(clock.resolution_due_at)
        .bind(clock.response_risk_at)
        .bind(clock.resolution_risk_at)
        .bind(clock.sla_due_at)
        .bind(&actor)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let mut ticket = self
            .ticket_row_tx(&mut tx, org, id)
            .await?
            .into_ticket(now)?;
        let after = serde_json::to_value(&ticket).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "ticket.created",
            "ticket",
            id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        if let Some(assignee) = ticket.assignee_id {
            let method = auto.map_or(crate::assignment::AssignmentMethod::Manual, |a| a.method);
            crate::assignment::record_assignment(
                &mut tx,
                &self.clock,
                ctx,
                id,
                &ticket.number,
                None,
                Some(assignee),
                method,
            )
            .await?;
        }
        ticket.insights = Some(crate::insights::refresh(&mut tx, now, org, id).await?);
        tx.commit().await?;
        Ok(ticket)
    }

    /// One ticket.
    pub async fn get_ticket(&self, ctx: &TenantContext, id: Uuid) -> Result<Ticket, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        self.ticket_row(ctx, id).await?.into_ticket(self.now())
    }

    /// Tickets: `?view=mine|unassigned|at_risk|breached`, the list filters, `?sort=`
    /// (default: SLA urgency), `?cursor=`.
    pub async fn list_tickets(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Ticket>, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let plan = TICKET_LIST
            .plan(query, &["view"])
            .map_err(|p| HelpdeskError::Validation(p.errors))?;
        let now = self.now();
        let mut own: Vec<SqlValue> = vec![SqlValue::Uuid(ctx.org_id())];
        let mut view_sql = String::new();
        // The views of open work only (at_risk, breached) walk the partial index of open
        // tickets in urgency order; SQLite's planner, without statistics, would take the
        // index of all tickets (same leading columns) and step over every closed ticket.
        let mut from = TICKET_FROM.to_owned();
        if let Some(view) = query.get("view")
            && (view == "at_risk" || view == "breached")
            && self.db.backend() == kernel::Backend::Sqlite
        {
            from = from.replacen(
                "tickets t ",
                "tickets t INDEXED BY tickets_open_urgency ",
                1,
            );
        }
        if let Some(view) = query.get("view") {
            let mut placeholder = |value: SqlValue| {
                own.push(value);
                format!("${}", own.len())
            };
            match view.as_str() {
                "mine" => {
                    let me = ctx.actor().user_id().ok_or_else(|| {
                        HelpdeskError::field("view", "`mine` needs a signed-in user")
                    })?;
                    let p = placeholder(SqlValue::Uuid(me));
                    view_sql = format!(" AND t.assignee_id = {p}");
                }
                "unassigned" => {
                    view_sql =
                        " AND t.assignee_id IS NULL AND t.status NOT IN ('Resolved', 'Closed')"
                            .to_owned();
                }
                "at_risk" => {
                    let p = placeholder(SqlValue::Timestamp(now));
                    view_sql = format!(
                        " AND t.status NOT IN ('Resolved', 'Closed') AND ( \
                         (t.first_response_at IS NULL AND t.response_risk_at <= {p} AND t.response_due_at >= {p}) \
                         OR (t.resolution_risk_at <= {p} AND t.resolution_due_at >= {p}))"
                    );
                }
                "breached" => {
                    let p = placeholder(SqlValue::Timestamp(now));
                    view_sql = format!(
                        " AND t.status NOT IN ('Resolved', 'Closed') AND ( \
                         (t.first_response_at IS NULL AND t.response_due_at < {p}) \
                         OR t.first_response_at > t.response_due_at \
                         OR t.resolution_due_at < {p})"
                    );
                }
                _ => {
                    return Err(HelpdeskError::field(
                        "view",
                        format!("must be one of {}", VIEWS.join(", ")),
                    ));
                }
            }
        }
        if !ctx.can("tickets:manage") {
            // Restricted teams' tickets only for their members.
            own.push(SqlValue::Bool(true));
            let restricted = own.len();
            own.push(SqlValue::Uuid(ctx.actor().user_id().unwrap_or(Uuid::nil())));
            let me = own.len();
            view_sql.push_str(&format!(
                " AND (t.team_id IS NULL OR NOT EXISTS (SELECT 1 FROM helpdesk_teams ht WHERE ht.org_id = t.org_id \
                 AND ht.id = t.team_id AND ht.restricted = ${restricted} AND NOT EXISTS (SELECT 1 FROM helpdesk_team_members m \
                 WHERE m.org_id = t.org_id AND m.team_id = t.team_id AND m.user_id = ${me})))"
            ));
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {TICKET_COLUMNS} FROM {from} WHERE t.org_id = $1{view_sql}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<TicketRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        let mut keyed = Vec::with_capacity(rows.len());
        for row in rows {
            let keys = serde_json::json!({
                "id": row.id,
                "sla_due_at": row.sla_due_at,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "number": row.number,
                "priority_rank": priority_rank(
                    Priority::parse(&row.priority).unwrap_or(Priority::Low)
                ),
            });
            keyed.push((row.into_ticket(now)?, keys));
        }
        let page = plan.page_by(keyed, |(_, keys)| keys.clone());
        Ok(Page {
            data: page.data.into_iter().map(|(t, _)| t).collect(),
            meta: page.meta,
        })
    }

    /// Changes a ticket (`expected` = the version the caller read): status along the
    /// allowed transitions (pausing or resuming the SLA clock), priority and type (targets
    /// taken again from the ticket's policy), assignee (audited, `ticket.assigned`), team,
    /// tags, subject.
    pub async fn update_ticket(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: TicketPatch,
        expected: i64,
    ) -> Result<Ticket, HelpdeskError> {
        ctx.authorize("tickets:update")?;
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = self.ticket_row_tx(&mut tx, org, id).await?;
        self.check_visible_tx(&mut tx, ctx, row.team_id).await?;
        let before = row.clone().into_ticket(now)?;
        if row.version != expected {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&before).unwrap_or_default(),
            });
        }
        let mut errors = Vec::new();
        let subject = match patch.subject {
            Some(s) => {
                let s = s.trim().to_owned();
                if s.is_empty() || s.chars().count() > 300 {
                    errors.push(FieldError::new("subject", "must be 1 to 300 characters"));
                }
                s
            }
            None => before.subject.clone(),
        };
        let tags = match patch.tags {
            Some(tags) => clean_tags(tags, &mut errors),
            None => before.tags.clone(),
        };
        let status = match patch.status {
            Some(next) if next != before.status => {
                if !before.status.next().contains(&next) {
                    let allowed: Vec<&str> =
                        before.status.next().iter().map(|s| s.as_str()).collect();
                    errors.push(FieldError::new(
                        "status",
                        if allowed.is_empty() {
                            format!("a {} ticket cannot change status", before.status.as_str())
                        } else {
                            format!(
                                "cannot go from {} to {}; allowed: {}",
                                before.status.as_str(),
                                next.as_str(),
                                allowed.join(", ")
                            )
                        },
                    ));
                }
                next
            }
            _ => before.status,
        };
        let team_id = patch.team_id.unwrap_or(before.team_id);
        if let Some(team) = team_id
            && Some(team) != before.team_id
            && !self.team_exists(&mut tx, org, team).await?
        {
            errors.push(FieldError::new("team_id", "no such team"));
        }
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let assignee_id = patch.assignee_id.unwrap_or(before.assignee_id);
        let priority = patch.priority.unwrap_or(before.priority);
        let ticket_type = patch.ticket_type.unwrap_or(before.ticket_type);

        // The SLA clock: pauses follow the status; targets follow priority and type.
        let mut pauses = row.pauses()?;
        let mut resolved_at = row.resolved_at;
        let mut closed_at = row.closed_at;
        if status != before.status {
            if !before.status.pauses_clock() && status.pauses_clock() {
                pauses.push(Pause {
                    start: now,
                    end: None,
                });
            } else if before.status.pauses_clock()
                && !status.pauses_clock()
                && let Some(open) = pauses.iter_mut().find(|p| p.end.is_none())
            {
                open.end = Some(now);
            }
            match status {
                TicketStatus::Resolved => resolved_at = Some(now),
                TicketStatus::Closed => closed_at = Some(now),
                TicketStatus::Open => resolved_at = None,
                _ => {}
            }
        }
        let (response_target, resolution_target, percent, min_minutes) =
            if priority != before.priority || ticket_type != before.ticket_type {
                let rules = self
                    .policy_row_tx(&mut tx, org, row.policy_id)
                    .await?
                    .rules()?;
                let (r, s) = rules.targets_for(priority, ticket_type);
                (r, s, rules.at_risk_percent, rules.at_risk_min_minutes)
            } else {
                (
                    Duration::seconds(row.response_target_secs),
                    Duration::seconds(row.resolution_target_secs),
                    u32::try_from(row.at_risk_percent).unwrap_or(20),
                    u32::try_from(row.at_risk_min_minutes).unwrap_or(60),
                )
            };
        let calendar = self
            .calendar_row_tx(&mut tx, org, row.calendar_id)
            .await?
            .calendar()?;
        let clock = compute_clock(
            &calendar,
            &ClockInputs {
                start: row.created_at,
                response_target,
                resolution_target,
                at_risk_percent: percent,
                at_risk_min_minutes: min_minutes,
                pauses: &pauses,
                first_response_at: row.first_response_at,
                resolved_at,
            },
        );
        let changed = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE tickets SET subject = $3, status = $4, priority = $5, priority_rank = $6, ticket_type = $7, \
             assignee_id = $8, team_id = $9, tags = $10, response_target_secs = $11, resolution_target_secs = $12, \
             at_risk_percent = $13, at_risk_min_minutes = $14, sla_pauses = $15, sla_paused = $16, resolved_at = $17, \
             closed_at = $18, response_due_at = $19, resolution_due_at = $20, response_risk_at = $21, \
             resolution_risk_at = $22, sla_due_at = $23, updated_at = $24, version = version + 1 \
             WHERE org_id = $1 AND id = $2 AND version = $25"
        )
        .bind(org)
        .bind(id)
        .bind(&subject)
        .bind(status.as_str())
        .bind(priority.as_str())
        .bind(priority_rank(priority))
        .bind(ticket_type.as_str())
        .bind(assignee_id)
        .bind(team_id)
        .bind(to_json(&tags))
        .bind(response_target.num_seconds())
        .bind(resolution_target.num_seconds())
        .bind(percent as i32)
        .bind(min_minutes as i32)
        .bind(to_json(&pauses))
        .bind(clock.paused)
        .bind(resolved_at)
        .bind(closed_at)
        .bind(clock.response_due_at)
        .bind(clock.resolution_due_at)
        .bind(clock.response_risk_at)
        .bind(clock.resolution_risk_at)
        .bind(clock.sla_due_at)
        .bind(now)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&before).unwrap_or_default(),
            });
        }
        if status == TicketStatus::Resolved && before.status != TicketStatus::Resolved {
            crate::csat::request(&mut tx, &self.clock, ctx, id, &before.number).await?;
        }
        let mut after = self
            .ticket_row_tx(&mut tx, org, id)
            .await?
            .into_ticket(now)?;
        if after.assignee_id != before.assignee_id {
            crate::assignment::record_assignment(
                &mut tx,
                &self.clock,
                ctx,
                id,
                &after.number,
                before.assignee_id,
                after.assignee_id,
                crate::assignment::AssignmentMethod::Manual,
            )
            .await?;
        }
        if after.status != before.status {
            self.audit(
                &mut tx,
                ctx,
                "ticket.status_changed",
                "ticket",
                id,
                &serde_json::json!({"status": before.status}),
                &serde_json::json!({"status": after.status}),
            )
            .await?;
        }
        let before_json = serde_json::to_value(&before).unwrap_or_default();
        let after_json = serde_json::to_value(&after).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "ticket.updated",
            "ticket",
            id,
            &before_json,
            &after_json,
        )
        .await?;
        after.insights = Some(crate::insights::refresh(&mut tx, now, org, id).await?);
        tx.commit().await?;
        Ok(after)
    }

    // ------------------------------------------------------------------ messages

    /// The conversation of a ticket, oldest first; the customer's view leaves internal
    /// notes out.
    pub async fn list_messages(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
        audience: Audience,
    ) -> Result<Vec<Message>, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        self.ticket_row(ctx, ticket_id).await?;
        let rows: Vec<MessageRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {MESSAGE_COLUMNS} FROM ticket_messages WHERE org_id = $1 AND ticket_id = $2 ORDER BY created_at, id")
        ))
        .bind(ctx.org_id())
        .bind(ticket_id)
        .fetch_all(p)
        .await
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let message = row.into_message()?;
            if audience == Audience::Customer && message.kind == MessageKind::Note {
                continue;
            }
            out.push(message);
        }
        Ok(out)
    }

    /// Adds a message. A reply is the first response if none came before; a customer
    /// message is scored for sentiment and moves a ticket Waiting on Customer back to
    /// In Progress (the clock runs again).
    pub async fn add_message(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
        new: NewMessage,
    ) -> Result<Message, HelpdeskError> {
        ctx.authorize("tickets:update")?;
        let body = new.body.trim().to_owned();
        if body.is_empty() || body.chars().count() > 100_000 {
            return Err(HelpdeskError::field(
                "body",
                "must be 1 to 100000 characters",
            ));
        }
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = self.ticket_row_tx(&mut tx, org, ticket_id).await?;
        self.check_visible_tx(&mut tx, ctx, row.team_id).await?;
        let status = row.status()?;
        if status == TicketStatus::Closed {
            return Err(HelpdeskError::field(
                "ticket",
                "the ticket is closed; open a new one",
            ));
        }
        let sentiment = if new.kind == MessageKind::Customer {
            score_message(&body)
        } else {
            None
        };
        let message = Message {
            id: Uuid::now_v7(),
            ticket_id,
            kind: new.kind,
            author_id: ctx.actor().user_id(),
            author: ctx.actor().label(),
            body,
            created_at: now,
            sentiment: sentiment.map(|s| StoredSentiment {
                neg: s.neg,
                neu: s.neu,
                pos: s.pos,
                compound: s.compound,
                label: s.label.to_owned(),
            }),
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO ticket_messages (org_id, id, ticket_id, kind, author_id, author, body, created_at, \
             sentiment_neg, sentiment_neu, sentiment_pos, sentiment_compound, sentiment_label) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
        .bind(org)
        .bind(message.id)
        .bind(ticket_id)
        .bind(message.kind.as_str())
        .bind(message.author_id)
        .bind(&message.author)
        .bind(&message.body)
        .bind(now)
        .bind(sentiment.map(|s| s.neg))
        .bind(sentiment.map(|s| s.neu))
        .bind(sentiment.map(|s| s.pos))
        .bind(sentiment.map(|s| s.compound))
        .bind(sentiment.map(|s| s.label))
        .execute(c)
        .await
        .map(|_| ())
        })?;

        // What the message changes on the ticket.
        let first_response = new.kind == MessageKind::Reply && row.first_response_at.is_none();
        let resume = new.kind == MessageKind::Customer && status == TicketStatus::WaitingOnCustomer;
        if first_response || resume {
            let mut pauses = row.pauses()?;
            let next_status = if resume {
                if let Some(open) = pauses.iter_mut().find(|p| p.end.is_none()) {
                    open.end = Some(now);
                }
                TicketStatus::InProgress
            } else {
                status
            };
            let first_response_at = if first_response {
                Some(now)
            } else {
                row.first_response_at
            };
            let calendar = self
                .calendar_row_tx(&mut tx, org, row.calendar_id)
                .await?
                .calendar()?;
            let clock = compute_clock(
                &calendar,
                &ClockInputs {
                    start: row.created_at,
                    response_target: Duration::seconds(row.response_target_secs),
                    resolution_target: Duration::seconds(row.resolution_target_secs),
                    at_risk_percent: u32::try_from(row.at_risk_percent).unwrap_or(20),
                    at_risk_min_minutes: u32::try_from(row.at_risk_min_minutes).unwrap_or(60),
                    pauses: &pauses,
                    first_response_at,
                    resolved_at: row.resolved_at,
                },
            );
            // A change of status is a change of the record (new version); the first
            // response alone is SLA bookkeeping and keeps the version.
            let bump = i64::from(resume);
            on_tx!(tx, |c| {
                sqlx::query(
                "UPDATE tickets SET status = $3, first_response_at = $4, sla_pauses = $5, sla_paused = $6, \
                 response_due_at = $7, resolution_due_at = $8, response_risk_at = $9, resolution_risk_at = $10, \
                 sla_due_at = $11, updated_at = $12, version = version + $13 WHERE org_id = $1 AND id = $2"
            )
            .bind(org)
            .bind(ticket_id)
            .bind(next_status.as_str())
            .bind(first_response_at)
            .bind(to_json(&pauses))
            .bind(clock.paused)
            .bind(clock.response_due_at)
            .bind(clock.resolution_due_at)
            .bind(clock.response_risk_at)
            .bind(clock.resolution_risk_at)
            .bind(clock.sla_due_at)
            .bind(now)
            .bind(bump)
            .execute(c)
            .await
            .map(|_| ())
            })?;
            if resume {
                self.audit(
                    &mut tx,
                    ctx,
                    "ticket.status_changed",
                    "ticket",
                    ticket_id,
                    &serde_json::json!({"status": status}),
                    &serde_json::json!({"status": next_status}),
                )
                .await?;
            }
        }
        if sentiment.is_some() {
            self.refresh_ticket_sentiment(&mut tx, org, ticket_id)
                .await?;
        }
        self.event(
            &mut tx,
            ctx,
            "message.created",
            "ticket",
            ticket_id,
            serde_json::json!({"message_id": message.id, "kind": message.kind, "number": row.number}),
        )
        .await?;
        crate::insights::refresh(&mut tx, now, org, ticket_id).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// The ticket's latest customer sentiment and its trend (latest minus the mean of
    /// the earlier scored messages).
    async fn refresh_ticket_sentiment(
        &self,
        tx: &mut Tx,
        org: Uuid,
        ticket_id: Uuid,
    ) -> Result<(), HelpdeskError> {
        let scores: Vec<(f64, String)> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT sentiment_compound, sentiment_label FROM ticket_messages \
             WHERE org_id = $1 AND ticket_id = $2 AND sentiment_compound IS NOT NULL AND sentiment_label IS NOT NULL \
             ORDER BY created_at, id"
        )
        .bind(org)
        .bind(ticket_id)
        .fetch_all(c)
        .await
        })?;
        let Some((latest, label)) = scores.last().cloned() else {
            return Ok(());
        };
        let earlier = &scores[..scores.len() - 1];
        let trend = if earlier.is_empty() {
            None
        } else {
            let mean = earlier.iter().map(|(c, _)| c).sum::<f64>() / earlier.len() as f64;
            Some(latest - mean)
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE tickets SET sentiment_compound = $3, sentiment_label = $4, sentiment_trend = $5 \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(ticket_id)
        .bind(latest)
        .bind(&label)
        .bind(trend)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    // ------------------------------------------------------------------ calendars

    /// The organisation's calendars (the default one, 24×7, exists from first use).
    pub async fn list_calendars(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<CalendarRecord>, HelpdeskError> {
        ctx.authorize("sla:read")?;
        self.ensure_defaults(ctx.org_id()).await?;
        let rows: Vec<CalendarRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {CALENDAR_COLUMNS} FROM helpdesk_calendars WHERE org_id = $1 ORDER BY created_at, id")
        ))
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        rows.iter().map(CalendarRow::record).collect()
    }

    fn check_calendar(
        name: &str,
        time_zone: &str,
        weekly: &WeeklyHours,
        holidays: &[NaiveDate],
    ) -> Result<(), HelpdeskError> {
        let mut errors = Vec::new();
        if name.trim().is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if holidays.len() > 1000 {
            errors.push(FieldError::new("holidays", "at most 1000 days"));
        }
        if let Err(e) = Calendar::from_spec(time_zone, weekly, holidays) {
            errors.push(FieldError::new(e.field, e.message));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(HelpdeskError::Validation(errors))
        }
    }

    /// Adds a working calendar.
    pub async fn create_calendar(
        &self,
        ctx: &TenantContext,
        new: NewCalendar,
    ) -> Result<CalendarRecord, HelpdeskError> {
        ctx.authorize("sla:create")?;
        Self::check_calendar(&new.name, &new.time_zone, &new.weekly_hours, &new.holidays)?;
        let org = ctx.org_id();
        let now = self.now();
        let mut holidays = new.holidays;
        holidays.sort();
        holidays.dedup();
        let record = CalendarRecord {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
            time_zone: new.time_zone,
            weekly_hours: new.weekly_hours,
            holidays,
            is_default: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        self.default_calendar(&mut tx, org).await?;
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO helpdesk_calendars (org_id, id, name, time_zone, weekly_hours, holidays, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(org)
        .bind(record.id)
        .bind(&record.name)
        .bind(&record.time_zone)
        .bind(to_json(&record.weekly_hours))
        .bind(to_json(&record.holidays))
        .bind(false)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(&record).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "calendar.created",
            "calendar",
            record.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Changes a calendar. Open tickets keep their deadlines until their policy is
    /// recomputed.
    pub async fn update_calendar(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: CalendarPatch,
        expected: i64,
    ) -> Result<CalendarRecord, HelpdeskError> {
        ctx.authorize("sla:update")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let current = self.calendar_row_tx(&mut tx, org, id).await?.record()?;
        if current.version != expected {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let mut next = current.clone();
        if let Some(name) = patch.name {
            next.name = name.trim().to_owned();
        }
        if let Some(tz) = patch.time_zone {
            next.time_zone = tz;
        }
        if let Some(weekly) = patch.weekly_hours {
            next.weekly_hours = weekly;
        }
        if let Some(mut holidays) = patch.holidays {
            holidays.sort();
            holidays.dedup();
            next.holidays = holidays;
        }
        Self::check_calendar(
            &next.name,
            &next.time_zone,
            &next.weekly_hours,
            &next.holidays,
        )?;
        next.updated_at = self.now();
        next.version += 1;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE helpdesk_calendars SET name = $3, time_zone = $4, weekly_hours = $5, holidays = $6, updated_at = $7, \
             version = version + 1 WHERE org_id = $1 AND id = $2 AND version = $8"
        )
        .bind(org)
        .bind(id)
        .bind(&next.name)
        .bind(&next.time_zone)
        .bind(to_json(&next.weekly_hours))
        .bind(to_json(&next.holidays))
        .bind(next.updated_at)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let before = serde_json::to_value(&current).unwrap_or_default();
        let after = serde_json::to_value(&next).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "calendar.updated",
            "calendar",
            id,
            &before,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    // ------------------------------------------------------------------ SLA policies

    /// The organisation's SLA policies (the default one exists from first use).
    pub async fn list_policies(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<SlaPolicy>, HelpdeskError> {
        ctx.authorize("sla:read")?;
        self.ensure_defaults(ctx.org_id()).await?;
        let rows: Vec<PolicyRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {POLICY_COLUMNS} FROM sla_policies WHERE org_id = $1 ORDER BY created_at, id")
        ))
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        rows.iter().map(PolicyRow::record).collect()
    }

    /// Adds a policy; with `is_default` it replaces the default for new tickets.
    pub async fn create_policy(
        &self,
        ctx: &TenantContext,
        new: NewSlaPolicy,
    ) -> Result<SlaPolicy, HelpdeskError> {
        ctx.authorize("sla:create")?;
        let seed = PolicyRules::seed();
        let rules = PolicyRules {
            targets: new.targets.unwrap_or(seed.targets),
            multipliers: new.type_multipliers.unwrap_or(seed.multipliers),
            at_risk_percent: new.at_risk_percent.unwrap_or(seed.at_risk_percent),
            at_risk_min_minutes: new.at_risk_min_minutes.unwrap_or(seed.at_risk_min_minutes),
        };
        let mut errors = Vec::new();
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        validate_rules(&rules, &mut errors);
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        self.default_policy(&mut tx, org).await?;
        let calendar_id = match new.calendar_id {
            Some(id) => match self.calendar_row_tx(&mut tx, org, id).await {
                Ok(row) => row.id,
                Err(HelpdeskError::NotFound(_)) => {
                    return Err(HelpdeskError::field("calendar_id", "no such calendar"));
                }
                Err(e) => return Err(e),
            },
            None => self.default_calendar(&mut tx, org).await?.id,
        };
        if new.is_default {
            self.clear_default_policy(&mut tx, org).await?;
        }
        let id = Uuid::now_v7();
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO sla_policies (org_id, id, name, calendar_id, targets, type_multipliers, at_risk_percent, at_risk_min_minutes, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(org)
        .bind(id)
        .bind(&name)
        .bind(calendar_id)
        .bind(to_json(&rules.targets))
        .bind(to_json(&rules.multipliers))
        .bind(rules.at_risk_percent as i32)
        .bind(rules.at_risk_min_minutes as i32)
        .bind(new.is_default)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let policy = self.policy_row_tx(&mut tx, org, id).await?.record()?;
        let after = serde_json::to_value(&policy).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "sla_policy.created",
            "sla_policy",
            id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(policy)
    }

    async fn clear_default_policy(&self, tx: &mut Tx, org: Uuid) -> Result<(), HelpdeskError> {
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE sla_policies SET is_default = $2, version = version + 1 WHERE org_id = $1 AND is_default = $3"
        )
        .bind(org)
        .bind(false)
        .bind(true)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Changes a policy. Open tickets keep their deadlines until
    /// [`Helpdesk::recompute_policy`].
    pub async fn update_policy(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: SlaPolicyPatch,
        expected: i64,
    ) -> Result<SlaPolicy, HelpdeskError> {
        ctx.authorize("sla:update")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let current = self.policy_row_tx(&mut tx, org, id).await?.record()?;
        if current.version != expected {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let mut next = current.clone();
        let mut errors = Vec::new();
        if let Some(name) = patch.name {
            next.name = name.trim().to_owned();
            if next.name.is_empty() || next.name.chars().count() > 100 {
                errors.push(FieldError::new("name", "must be 1 to 100 characters"));
            }
        }
        if let Some(calendar_id) = patch.calendar_id {
            match self.calendar_row_tx(&mut tx, org, calendar_id).await {
                Ok(_) => next.calendar_id = calendar_id,
                Err(HelpdeskError::NotFound(_)) => {
                    errors.push(FieldError::new("calendar_id", "no such calendar"));
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(targets) = patch.targets {
            next.targets = targets;
        }
        if let Some(m) = patch.type_multipliers {
            next.type_multipliers = m;
        }
        if let Some(p) = patch.at_risk_percent {
            next.at_risk_percent = p;
        }
        if let Some(m) = patch.at_risk_min_minutes {
            next.at_risk_min_minutes = m;
        }
        match patch.is_default {
            Some(false) if current.is_default => errors.push(FieldError::new(
                "is_default",
                "make another policy the default instead",
            )),
            Some(true) if !current.is_default => {
                next.is_default = true;
            }
            _ => {}
        }
        validate_rules(
            &PolicyRules {
                targets: next.targets,
                multipliers: next.type_multipliers,
                at_risk_percent: next.at_risk_percent,
                at_risk_min_minutes: next.at_risk_min_minutes,
            },
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        if next.is_default && !current.is_default {
            self.clear_default_policy(&mut tx, org).await?;
        }
        next.updated_at = self.now();
        next.version += 1;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE sla_policies SET name = $3, calendar_id = $4, targets = $5, type_multipliers = $6, at_risk_percent = $7, \
             at_risk_min_minutes = $8, is_default = $9, updated_at = $10, version = version + 1 \
             WHERE org_id = $1 AND id = $2 AND version = $11"
        )
        .bind(org)
        .bind(id)
        .bind(&next.name)
        .bind(next.calendar_id)
        .bind(to_json(&next.targets))
        .bind(to_json(&next.type_multipliers))
        .bind(next.at_risk_percent as i32)
        .bind(next.at_risk_min_minutes as i32)
        .bind(next.is_default)
        .bind(next.updated_at)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(HelpdeskError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let before = serde_json::to_value(&current).unwrap_or_default();
        let after = serde_json::to_value(&next).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "sla_policy.updated",
            "sla_policy",
            id,
            &before,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Recomputes the SLA of every open ticket on the policy with the policy's current
    /// targets, thresholds and calendar (explicit, after a policy or calendar change).
    pub async fn recompute_policy(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<RecomputeReport, HelpdeskError> {
        ctx.authorize("sla:update")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let policy = self.policy_row_tx(&mut tx, org, id).await?;
        let rules = policy.rules()?;
        let calendar = self
            .calendar_row_tx(&mut tx, org, policy.calendar_id)
            .await?
            .calendar()?;
        let rows: Vec<TicketRow> = on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.org_id = $1 AND t.policy_id = $2 \
             AND t.status NOT IN ('Resolved', 'Closed')"
        )))
        .bind(org)
        .bind(id)
        .fetch_all(c)
        .await
        })?;
        let count = rows.len() as u64;
        for row in rows {
            let priority = Priority::parse(&row.priority)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("priority `{}`", row.priority)))?;
            let kind = TicketType::parse(&row.ticket_type)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("type `{}`", row.ticket_type)))?;
            let (response_target, resolution_target) = rules.targets_for(priority, kind);
            let pauses = row.pauses()?;
            let clock = compute_clock(
                &calendar,
                &ClockInputs {
                    start: row.created_at,
                    response_target,
                    resolution_target,
                    at_risk_percent: rules.at_risk_percent,
                    at_risk_min_minutes: rules.at_risk_min_minutes,
                    pauses: &pauses,
                    first_response_at: row.first_response_at,
                    resolved_at: row.resolved_at,
                },
            );
            on_tx!(tx, |c| {
                sqlx::query(
                "UPDATE tickets SET calendar_id = $3, response_target_secs = $4, resolution_target_secs = $5, \
                 at_risk_percent = $6, at_risk_min_minutes = $7, response_due_at = $8, resolution_due_at = $9, \
                 response_risk_at = $10, resolution_risk_at = $11, sla_due_at = $12 WHERE org_id = $1 AND id = $2"
            )
            .bind(org)
            .bind(row.id)
            .bind(policy.calendar_id)
            .bind(response_target.num_seconds())
            .bind(resolution_target.num_seconds())
            .bind(rules.at_risk_percent as i32)
            .bind(rules.at_risk_min_minutes as i32)
            .bind(clock.response_due_at)
            .bind(clock.resolution_due_at)
            .bind(clock.response_risk_at)
            .bind(clock.resolution_risk_at)
            .bind(clock.sla_due_at)
            .execute(c)
            .await
            .map(|_| ())
            })?;
        }
        self.audit(
            &mut tx,
            ctx,
            "sla_policy.recomputed",
            "sla_policy",
            id,
            &serde_json::Value::Null,
            &serde_json::json!({"tickets": count}),
        )
        .await?;
        tx.commit().await?;
        Ok(RecomputeReport { tickets: count })
    }

    // ------------------------------------------------------------------ teams

    /// The organisation's support teams.
    pub async fn list_teams(&self, ctx: &TenantContext) -> Result<Vec<Team>, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let teams: Vec<(Uuid, String, bool, DateTime<Utc>, String, bool)> = on_pool!(
            self.db,
            |p| {
                sqlx::query_as(
            "SELECT id, name, restricted, created_at, assignment_method, assign_by_skill FROM helpdesk_teams \
             WHERE org_id = $1 ORDER BY name, id"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
            }
        )?;
        let members: Vec<(Uuid, Uuid)> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT team_id, user_id FROM helpdesk_team_members WHERE org_id = $1 ORDER BY team_id, user_id"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        let mut by_team: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (team, user) in members {
            by_team.entry(team).or_default().push(user);
        }
        teams
            .into_iter()
            .map(
                |(id, name, restricted, created_at, method, assign_by_skill)| {
                    Ok(Team {
                        id,
                        name,
                        member_ids: by_team.remove(&id).unwrap_or_default(),
                        restricted,
                        created_at,
                        assignment_method: crate::assignment::AssignmentMethod::parse(&method)
                            .ok_or_else(|| {
                                HelpdeskError::Corrupt(format!("assignment method `{method}`"))
                            })?,
                        assign_by_skill,
                    })
                },
            )
            .collect()
    }

    /// Adds a support team (members are user ids of the organisation).
    pub async fn create_team(
        &self,
        ctx: &TenantContext,
        new: NewTeam,
    ) -> Result<Team, HelpdeskError> {
        ctx.authorize("tickets:create")?;
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(HelpdeskError::field("name", "must be 1 to 100 characters"));
        }
        let mut members = new.member_ids;
        members.sort();
        members.dedup();
        let org = ctx.org_id();
        let now = self.now();
        let team = Team {
            id: Uuid::now_v7(),
            name,
            member_ids: members,
            restricted: new.restricted,
            created_at: now,
            assignment_method: new.assignment_method,
            assign_by_skill: new.assign_by_skill,
        };
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO helpdesk_teams (org_id, id, name, restricted, created_at, assignment_method, assign_by_skill) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(org)
        .bind(team.id)
        .bind(&team.name)
        .bind(team.restricted)
        .bind(now)
        .bind(team.assignment_method.as_str())
        .bind(team.assign_by_skill)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        for user in &team.member_ids {
            on_tx!(tx, |c| {
                sqlx::query(
                "INSERT INTO helpdesk_team_members (org_id, team_id, user_id, added_at) VALUES ($1, $2, $3, $4)"
            )
            .bind(org)
            .bind(team.id)
            .bind(*user)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
            })?;
        }
        let after = serde_json::to_value(&team).unwrap_or_default();
        self.audit(
            &mut tx,
            ctx,
            "team.created",
            "team",
            team.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(team)
    }

    /// A company's open tickets, SLA risks and mood, for the CRM's customer 360 view
    /// (composed from [`Helpdesk::list_tickets`], so tenancy and team visibility apply).
    /// Counts cover the 500 most urgent open tickets.
    pub async fn company_tickets(
        &self,
        ctx: &TenantContext,
        company_id: Uuid,
    ) -> Result<CustomerTickets, HelpdeskError> {
        let query: BTreeMap<String, String> = [
            ("company_id", company_id.to_string()),
            (
                "status[in]",
                "Open,In Progress,Waiting on Customer".to_owned(),
            ),
            ("limit", "500".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let page = self.list_tickets(ctx, &query).await?;
        let count = |pick: fn(SlaStatus) -> bool| {
            page.data.iter().filter(|t| pick(t.sla.status)).count() as u64
        };
        let moods: Vec<f64> = page
            .data
            .iter()
            .filter_map(|t| t.sentiment.as_ref().map(|s| s.compound))
            .collect();
        Ok(CustomerTickets {
            open: page.data.len() as u64,
            at_risk: count(|s| s == SlaStatus::AtRisk),
            breached: count(|s| {
                matches!(
                    s,
                    SlaStatus::ResponseBreached | SlaStatus::ResolutionBreached
                )
            }),
            sentiment: (!moods.is_empty()).then(|| moods.iter().sum::<f64>() / moods.len() as f64),
            tickets: page.data.into_iter().take(20).collect(),
        })
    }

    // ------------------------------------------------------------------ SLA scan

    /// Finds open tickets that became at risk or breached since the last scan and emits
    /// `ticket.sla_at_risk` / `ticket.sla_breached` once per ticket, target and kind.
    pub async fn scan_sla(&self) -> Result<ScanReport, HelpdeskError> {
        scan_sla(&self.db, &self.clock).await
    }
}

/// Ticket priority as a sortable rank (0 = Critical).
fn priority_rank(priority: Priority) -> i32 {
    match priority {
        Priority::Critical => 0,
        Priority::High => 1,
        Priority::Medium => 2,
        Priority::Low => 3,
    }
}

#[derive(Debug, FromRow)]
struct MessageRow {
    id: Uuid,
    ticket_id: Uuid,
    kind: String,
    author_id: Option<Uuid>,
    author: String,
    body: String,
    created_at: DateTime<Utc>,
    sentiment_neg: Option<f64>,
    sentiment_neu: Option<f64>,
    sentiment_pos: Option<f64>,
    sentiment_compound: Option<f64>,
    sentiment_label: Option<String>,
}

const MESSAGE_COLUMNS: &str = "id, ticket_id, kind, author_id, author, body, created_at, sentiment_neg, sentiment_neu, sentiment_pos, sentiment_compound, sentiment_label";

impl MessageRow {
    fn into_message(self) -> Result<Message, HelpdeskError> {
        let kind = MessageKind::parse(&self.kind)
            .ok_or_else(|| HelpdeskError::Corrupt(format!("message kind `{}`", self.kind)))?;
        let sentiment = match (
            self.sentiment_neg,
            self.sentiment_neu,
            self.sentiment_pos,
            self.sentiment_compound,
            self.sentiment_label,
        ) {
            (Some(neg), Some(neu), Some(pos), Some(compound), Some(label)) => {
                Some(StoredSentiment {
                    neg,
                    neu,
                    pos,
                    compound,
                    label,
                })
            }
            _ => None,
        };
        Ok(Message {
            id: self.id,
            ticket_id: self.ticket_id,
            kind,
            author_id: self.author_id,
            author: self.author,
            body: self.body,
            created_at: self.created_at,
            sentiment,
        })
    }
}

#[derive(Debug, FromRow)]
struct ScanRow {
    org_id: Uuid,
    id: Uuid,
    number: String,
    first_response_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    response_risk_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    resolution_risk_at: Option<DateTime<Utc>>,
}

/// Tickets looked at per scan pass.
const SCAN_BATCH: i64 = 500;
/// Passes per scan at most (the next scan picks up the rest).
const SCAN_PASSES: usize = 20;

/// The SLA scan, for every organisation (a system job: it runs without a caller). For
/// each open ticket whose response or resolution target crossed its at-risk or due
/// instant, it inserts a row into `ticket_sla_events` — whose key is (ticket, target,
/// kind) — and, only if that row is new, records the event in the same transaction. So an
/// event fires once however often, and on however many instances, the scan runs.
pub async fn scan_sla(db: &Db, clock: &SharedClock) -> Result<ScanReport, HelpdeskError> {
    let now = clock.now();
    let mut report = ScanReport::default();
    let not_emitted = |target: &str, kind: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM ticket_sla_events e WHERE e.org_id = t.org_id AND e.ticket_id = t.id \
             AND e.target = '{target}' AND e.kind = '{kind}')"
        )
    };
    let text = format!(
        "SELECT t.org_id, t.id, t.number, t.first_response_at, t.response_due_at, t.response_risk_at, \
         t.resolution_due_at, t.resolution_risk_at FROM tickets t \
         WHERE t.status NOT IN ('Resolved', 'Closed') AND ( \
           (t.first_response_at IS NULL AND t.response_risk_at <= $1 AND ( \
              (t.response_due_at < $1 AND {rb}) OR (t.response_due_at >= $1 AND {ra}))) \
           OR (t.resolution_risk_at <= $1 AND ( \
              (t.resolution_due_at < $1 AND {sb}) OR (t.resolution_due_at >= $1 AND {sa})))) \
         ORDER BY t.org_id, t.id LIMIT {SCAN_BATCH}",
        rb = not_emitted("response", "breached"),
        ra = not_emitted("response", "at_risk"),
        sb = not_emitted("resolution", "breached"),
        sa = not_emitted("resolution", "at_risk"),
    );
    // A full batch may leave more behind: go on (bounded) until a short batch.
    for _ in 0..SCAN_PASSES {
        let rows: Vec<ScanRow> =
            on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(text.clone()))
                .bind(now)
                .fetch_all(p)
                .await)?;
        let full = rows.len() as i64 == SCAN_BATCH;
        for row in rows {
            let mut crossings = Vec::new();
            if row.first_response_at.is_none() {
                crossings.extend(crossing(
                    "response",
                    row.response_due_at,
                    row.response_risk_at,
                    now,
                ));
            }
            crossings.extend(crossing(
                "resolution",
                row.resolution_due_at,
                row.resolution_risk_at,
                now,
            ));
            if crossings.is_empty() {
                continue;
            }
            let mut tx = db.begin().await?;
            for (target, kind, due_at) in crossings {
                let inserted = on_tx!(tx, |c| {
                    sqlx::query(
                    "INSERT INTO ticket_sla_events (org_id, ticket_id, target, kind, occurred_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
                )
                .bind(row.org_id)
                .bind(row.id)
                .bind(target)
                .bind(kind)
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                if inserted == 0 {
                    continue;
                }
                events::record(
                    &mut tx,
                    clock,
                    NewEvent {
                        event_type: format!("ticket.sla_{kind}"),
                        org_id: row.org_id,
                        actor: Some("system".to_owned()),
                        record_type: "ticket".to_owned(),
                        record_id: row.id,
                        data: serde_json::json!({"number": row.number, "target": target, "due_at": due_at}),
                    },
                )
                .await?;
                if kind == "breached" {
                    report.breached += 1;
                } else {
                    report.at_risk += 1;
                }
            }
            tx.commit().await?;
        }
        if !full {
            break;
        }
    }
    Ok(report)
}

/// Which event a target calls for at `now`: breached once past due, at risk once past
/// the risk instant.
fn crossing(
    target: &'static str,
    due_at: Option<DateTime<Utc>>,
    risk_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(&'static str, &'static str, DateTime<Utc>)> {
    let due = due_at?;
    if now > due {
        Some((target, "breached", due))
    } else if risk_at.is_some_and(|r| now >= r) {
        Some((target, "at_risk", due))
    } else {
        None
    }
}
