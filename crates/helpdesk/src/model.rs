//! Helpdesk wire types and the crate's one error type.

use chrono::{DateTime, NaiveDate, Utc};
use kernel::problem::{ErrorCode, FieldError, Problem};
use kernel::tenancy::Forbidden;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::sla::{
    HoursSpan, Priority, PriorityTargets, SlaStatus, TargetMinutes, TicketType, TypeMultipliers,
    WeeklyHours,
};

/// Everything that can go wrong in the helpdesk.
#[derive(Debug, thiserror::Error)]
pub enum HelpdeskError {
    /// The caller lacks a permission.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No such record in the caller's organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Invalid input, field by field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// `version` does not match; carries the current record.
    #[error("version mismatch")]
    VersionMismatch {
        /// The record as it is now.
        current: serde_json::Value,
    },
    /// An upload refused for its type, content or size (415, 422 or 413), naming the field.
    #[error("upload refused: {field}: {message}")]
    Upload {
        /// Which status: `UnsupportedMediaType`, `ValidationFailed`, `PayloadTooLarge`.
        code: ErrorCode,
        /// The field at fault (`Content-Type`, `file`, `filename`).
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The attachment store failed (disk full, permissions, S3 unreachable): a 503 whose
    /// reason goes to the log only.
    #[error("attachment store: {0}")]
    Storage(String),
    /// The request conflicts with the record's state (409), e.g. a second CSAT rating.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that does not parse (a bug or a manual edit).
    #[error("stored data: {0}")]
    Corrupt(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl HelpdeskError {
    /// A single-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        HelpdeskError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<HelpdeskError> for Problem {
    fn from(err: HelpdeskError) -> Self {
        match err {
            HelpdeskError::Forbidden(denied) => denied.into(),
            HelpdeskError::NotFound(what) => Problem::not_found(what),
            HelpdeskError::Validation(errors) => Problem::validation(errors),
            HelpdeskError::VersionMismatch { current } => Problem::stale_version(current),
            HelpdeskError::Upload {
                code,
                field,
                message,
            } => Problem::new(code)
                .with_detail(format!("{field}: {message}"))
                .with_errors(vec![FieldError::new(field, message)]),
            HelpdeskError::Conflict(detail) => {
                Problem::new(ErrorCode::Conflict).with_detail(detail)
            }
            HelpdeskError::Storage(reason) => {
                tracing::warn!(error = %reason, "attachment store unavailable");
                Problem::new(ErrorCode::ServiceUnavailable)
                    .with_detail("the attachment store is not available; try again later")
            }
            HelpdeskError::Corrupt(reason) => Problem::internal(&reason),
            HelpdeskError::Db(err) => Problem::from_db(&err),
        }
    }
}

/// Accepts `null` as "clear" and absence as "leave alone" (`Some(None)` vs `None`).
pub(crate) fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Ticket status.
///
/// Allowed transitions (anything else is a 422 on `status`):
///
/// | from                | to                                              |
/// |---------------------|-------------------------------------------------|
/// | Open                | In Progress, Waiting on Customer, Resolved      |
/// | In Progress         | Waiting on Customer, Resolved                   |
/// | Waiting on Customer | In Progress, Resolved                           |
/// | Resolved            | Closed, Open (reopen)                           |
/// | Closed              | — (final)                                       |
///
/// Waiting on Customer, Resolved and Closed stop the SLA clock; a customer message on a
/// ticket Waiting on Customer moves it back to In Progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum TicketStatus {
    /// New, not yet worked.
    Open,
    /// Being worked.
    #[serde(rename = "In Progress")]
    InProgress,
    /// Waiting for the customer: the SLA clock stops.
    #[serde(rename = "Waiting on Customer")]
    WaitingOnCustomer,
    /// Solved; may be reopened.
    Resolved,
    /// Done for good.
    Closed,
}

impl TicketStatus {
    /// Every status.
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::WaitingOnCustomer,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "Open",
            TicketStatus::InProgress => "In Progress",
            TicketStatus::WaitingOnCustomer => "Waiting on Customer",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Closed => "Closed",
        }
    }

    /// Parses the API name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Where a ticket may go from here.
    pub fn next(self) -> &'static [TicketStatus] {
        use TicketStatus::*;
        match self {
            Open => &[InProgress, WaitingOnCustomer, Resolved],
            InProgress => &[WaitingOnCustomer, Resolved],
            WaitingOnCustomer => &[InProgress, Resolved],
            Resolved => &[Closed, Open],
            Closed => &[],
        }
    }

    /// Whether the SLA clock stops in this status.
    pub fn pauses_clock(self) -> bool {
        matches!(
            self,
            TicketStatus::WaitingOnCustomer | TicketStatus::Resolved | TicketStatus::Closed
        )
    }

    /// Resolved or Closed.
    pub fn is_done(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

/// The policy a ticket's SLA follows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyRef {
    /// Policy id.
    pub id: Uuid,
    /// Policy name.
    pub name: String,
}

/// A ticket's SLA clock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketSla {
    /// The policy.
    pub policy: PolicyRef,
    /// First agent reply due (absent while the clock is paused before it is due).
    pub response_due_at: Option<DateTime<Utc>>,
    /// Resolution due (absent while the clock is paused before it is due).
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// First agent reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it was resolved (cleared on reopen).
    pub resolved_at: Option<DateTime<Utc>>,
    /// On Track, At Risk, Response Breached, Resolution Breached (as of the request).
    pub status: SlaStatus,
    /// The clock is stopped (Waiting on Customer, Resolved, Closed).
    pub paused: bool,
    /// Response target in business minutes.
    pub response_target_minutes: i64,
    /// Resolution target in business minutes (after the type multiplier).
    pub resolution_target_minutes: i64,
}

/// The customer's mood on a ticket, from its customer messages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketSentiment {
    /// Compound score of the latest customer message, −1..1.
    pub compound: f64,
    /// `positive`, `neutral` or `negative`.
    pub label: String,
    /// Latest compound minus the mean of the earlier ones (negative: getting worse);
    /// absent with a single message.
    pub trend: Option<f64>,
}

/// A support or maintenance ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ticket {
    /// Id.
    pub id: Uuid,
    /// Per-organisation number, `TKT-2026-00042`.
    pub number: String,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Type.
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    /// Priority.
    pub priority: Priority,
    /// Status.
    pub status: TicketStatus,
    /// Customer company (CRM id, not checked against the CRM).
    pub company_id: Option<Uuid>,
    /// Customer contact (CRM id, not checked against the CRM).
    pub contact_id: Option<Uuid>,
    /// Assigned agent (user id).
    pub assignee_id: Option<Uuid>,
    /// Team.
    pub team_id: Option<Uuid>,
    /// Tags.
    pub tags: Vec<String>,
    /// Equipment the ticket is about (assets module, later).
    pub equipment_ref: Option<String>,
    /// The SLA clock.
    pub sla: TicketSla,
    /// Customer mood, once a customer message was scored.
    pub sentiment: Option<TicketSentiment>,
    /// The customer's rating of the latest resolution (`null` until rated).
    pub csat: Option<crate::csat::TicketCsat>,
    /// AI insight as of the last change or message (see [`crate::insights`]).
    pub insights: Option<crate::insights::TicketInsights>,
    /// Who opened it (`user:<id>`, `api_key:<id>`).
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/tickets`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTicket {
    /// Subject (required, at most 300 characters).
    pub subject: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Type.
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    /// Priority.
    pub priority: Priority,
    /// Customer company.
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// Customer contact.
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// Assigned agent.
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
    /// Team.
    #[serde(default)]
    pub team_id: Option<Uuid>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Equipment reference.
    #[serde(default)]
    pub equipment_ref: Option<String>,
}

/// `PATCH /api/v1/tickets/{id}`; absent fields are left alone, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TicketPatch {
    /// New status (see [`TicketStatus`] for the allowed transitions).
    pub status: Option<TicketStatus>,
    /// New priority (targets are taken from the ticket's policy again).
    pub priority: Option<Priority>,
    /// New type.
    #[serde(rename = "type")]
    pub ticket_type: Option<TicketType>,
    /// Subject.
    pub subject: Option<String>,
    /// Assign (`null` unassigns).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub assignee_id: Option<Option<Uuid>>,
    /// Team (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub team_id: Option<Option<Uuid>>,
    /// Replace the tags.
    pub tags: Option<Vec<String>>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// Kind of a message on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// From the customer.
    Customer,
    /// An agent's reply to the customer (the first one is the first response).
    Reply,
    /// Internal note: never shown to the customer.
    Note,
}

impl MessageKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Customer => "customer",
            MessageKind::Reply => "reply",
            MessageKind::Note => "note",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(MessageKind::Customer),
            "reply" => Some(MessageKind::Reply),
            "note" => Some(MessageKind::Note),
            _ => None,
        }
    }
}

/// Who is reading a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Agents see everything, internal notes included.
    #[default]
    Agent,
    /// The customer's view (portal, e-mail): internal notes are left out.
    Customer,
}

/// Sentiment scores of a customer message (VADER-compatible).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageSentiment {
    /// Negative share.
    pub neg: f64,
    /// Neutral share.
    pub neu: f64,
    /// Positive share.
    pub pos: f64,
    /// Normalised compound score, −1..1.
    pub compound: f64,
    /// `positive`, `neutral` or `negative`.
    pub label: &'static str,
}

/// A message on a ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Id.
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// customer, reply or note.
    pub kind: MessageKind,
    /// Author's user id, when a user wrote it.
    pub author_id: Option<Uuid>,
    /// Author label (`user:<id>`, `api_key:<id>`).
    pub author: String,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Scores (customer messages only).
    pub sentiment: Option<StoredSentiment>,
}

/// Sentiment as stored and returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoredSentiment {
    /// Negative share.
    pub neg: f64,
    /// Neutral share.
    pub neu: f64,
    /// Positive share.
    pub pos: f64,
    /// Compound, −1..1.
    pub compound: f64,
    /// Label.
    pub label: String,
}

/// `POST /api/v1/tickets/{id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewMessage {
    /// customer, reply or note.
    pub kind: MessageKind,
    /// Text (required, at most 100 000 characters).
    pub body: String,
}

/// A working calendar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarRecord {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// IANA time zone (`Europe/Berlin`).
    pub time_zone: String,
    /// Working hours per weekday, local time.
    pub weekly_hours: WeeklyHours,
    /// Days off (local dates).
    pub holidays: Vec<NaiveDate>,
    /// The organisation's default calendar.
    pub is_default: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/calendars`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCalendar {
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Working hours per weekday.
    pub weekly_hours: WeeklyHours,
    /// Days off.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// `PATCH /api/v1/calendars/{id}`. Tickets keep their deadlines until recomputed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CalendarPatch {
    /// Name.
    pub name: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Working hours per weekday (replaces all days).
    pub weekly_hours: Option<WeeklyHours>,
    /// Days off (replaces the list).
    pub holidays: Option<Vec<NaiveDate>>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// An SLA policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SlaPolicy {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Working calendar the targets are measured in.
    pub calendar_id: Uuid,
    /// Response and resolution targets by priority (business minutes).
    pub targets: PriorityTargets,
    /// Resolution multipliers by ticket type.
    pub type_multipliers: TypeMultipliers,
    /// At risk when less than this percentage of a target is left...
    pub at_risk_percent: u32,
    /// ...or less than this many minutes, whichever is larger.
    pub at_risk_min_minutes: u32,
    /// The organisation's default policy (new tickets follow it).
    pub is_default: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/sla-policies`; omitted parts take seed 000's numbers.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSlaPolicy {
    /// Name.
    pub name: String,
    /// Calendar (default: the organisation's default calendar).
    #[serde(default)]
    pub calendar_id: Option<Uuid>,
    /// Targets.
    #[serde(default)]
    pub targets: Option<PriorityTargets>,
    /// Type multipliers.
    #[serde(default)]
    pub type_multipliers: Option<TypeMultipliers>,
    /// At-risk percentage (default 20).
    #[serde(default)]
    pub at_risk_percent: Option<u32>,
    /// At-risk minimum in minutes (default 60).
    #[serde(default)]
    pub at_risk_min_minutes: Option<u32>,
    /// Make it the default for new tickets.
    #[serde(default)]
    pub is_default: bool,
}

/// `PATCH /api/v1/sla-policies/{id}`. Open tickets keep their deadlines until
/// `POST /api/v1/sla-policies/{id}/recompute`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SlaPolicyPatch {
    /// Name.
    pub name: Option<String>,
    /// Calendar.
    pub calendar_id: Option<Uuid>,
    /// Targets.
    pub targets: Option<PriorityTargets>,
    /// Type multipliers.
    pub type_multipliers: Option<TypeMultipliers>,
    /// At-risk percentage.
    pub at_risk_percent: Option<u32>,
    /// At-risk minimum in minutes.
    pub at_risk_min_minutes: Option<u32>,
    /// Make it the default (a default cannot be un-set, only replaced).
    pub is_default: Option<bool>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// Result of an explicit recomputation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecomputeReport {
    /// Open tickets whose SLA was recomputed.
    pub tickets: u64,
}

/// Metadata of a file attached to a ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    /// Id (download at `/api/v1/attachments/{id}`).
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// File name as uploaded (path parts removed).
    pub filename: String,
    /// Content type, checked against the file's first bytes.
    pub content_type: String,
    /// Size.
    pub size_bytes: i64,
    /// Uploader label.
    pub uploaded_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A support team.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Team {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Members (user ids).
    pub member_ids: Vec<Uuid>,
    /// Its tickets are seen only by its members and by holders of `tickets:manage`.
    pub restricted: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// How new tickets of the team are assigned (see [`crate::assignment`]).
    pub assignment_method: crate::assignment::AssignmentMethod,
    /// Only members sharing a skill with the ticket's tags are eligible.
    pub assign_by_skill: bool,
}

/// `POST /api/v1/teams`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTeam {
    /// Name.
    pub name: String,
    /// Members (user ids).
    #[serde(default)]
    pub member_ids: Vec<Uuid>,
    /// Only members (and holders of `tickets:manage`) see its tickets.
    #[serde(default)]
    pub restricted: bool,
    /// `manual` (default), `round_robin` or `least_open`.
    #[serde(default)]
    pub assignment_method: crate::assignment::AssignmentMethod,
    /// Only members sharing a skill with the ticket's tags are eligible.
    #[serde(default)]
    pub assign_by_skill: bool,
}

/// A company's support at a glance, for the CRM's customer 360 view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerTickets {
    /// Open tickets (not Resolved or Closed).
    pub open: u64,
    /// Open tickets at risk of breaching.
    pub at_risk: u64,
    /// Open tickets past a deadline.
    pub breached: u64,
    /// Mean compound sentiment of the open tickets that have one, −1..1.
    pub sentiment: Option<f64>,
    /// Open tickets, most urgent first (at most 20).
    pub tickets: Vec<Ticket>,
}

/// What one SLA scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// `ticket.sla_at_risk` events emitted.
    pub at_risk: u64,
    /// `ticket.sla_breached` events emitted.
    pub breached: u64,
}
