//! CRM wire types and the crate's one error type.

use chrono::{DateTime, NaiveDate, Utc};
use kernel::problem::{FieldError, Problem};
use kernel::tenancy::Forbidden;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Everything that can go wrong in the CRM.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// The caller lacks a permission (or does not own the record).
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
    /// A new record looks like existing ones (`allow_duplicate` creates it anyway).
    #[error("possible duplicate")]
    PossibleDuplicate(Vec<crate::duplicates::DuplicateMatch>),
    /// Stored personal data could not be decrypted or encrypted.
    #[error("personal data: {0}")]
    Crypto(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A section another module serves for the customer 360 view failed (its problem
    /// is passed on as it is).
    #[error("a customer section failed")]
    Section(Box<Problem>),
}

impl CrmError {
    /// A single-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        CrmError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<CrmError> for Problem {
    fn from(err: CrmError) -> Self {
        match err {
            CrmError::Forbidden(denied) => denied.into(),
            CrmError::NotFound(what) => Problem::not_found(what),
            CrmError::Validation(errors) => Problem::validation(errors),
            CrmError::VersionMismatch { current } => Problem::stale_version(current),
            CrmError::PossibleDuplicate(matches) => {
                let mut problem = Problem::new(kernel::ErrorCode::PossibleDuplicate).with_detail(
                    "this looks like an existing record (see duplicates); send allow_duplicate: true to create it anyway",
                );
                problem.duplicates = Some(serde_json::to_value(&matches).unwrap_or_default());
                problem
            }
            CrmError::Crypto(reason) => Problem::internal(&reason),
            CrmError::Db(err) => Problem::from_db(&err),
            CrmError::Section(problem) => *problem,
        }
    }
}

/// A company (customer, prospect, partner).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Company {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Web domain.
    pub domain: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Site (branch, region) it belongs to.
    pub site_id: Option<Uuid>,
    /// Owning user.
    pub owner_id: Option<Uuid>,
    /// Custom field values by key (definitions at `/api/v1/custom-fields`).
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/companies`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCompany {
    /// Name.
    pub name: String,
    /// Web domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<String>,
    /// Site.
    #[serde(default)]
    pub site_id: Option<Uuid>,
    /// Owner (default: the caller).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Custom field values by key, validated against the definitions.
    #[serde(default)]
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
}

/// `PATCH /api/v1/companies/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CompanyPatch {
    /// Name.
    pub name: Option<String>,
    /// Web domain.
    pub domain: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Owner.
    pub owner_id: Option<Uuid>,
    /// Custom field values to set (merged; `null` removes one).
    #[schema(schema_with = crate::custom_fields::values_schema, nullable)]
    pub custom_fields: Option<crate::custom_fields::CustomValues>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// A person. `email` and `phone` are PII: masked for callers without `pii:read`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    /// Id.
    pub id: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email (masked without `pii:read`).
    pub email: Option<String>,
    /// Phone (masked without `pii:read`).
    pub phone: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Owning user.
    pub owner_id: Option<Uuid>,
    /// Custom field values by key (definitions at `/api/v1/custom-fields`).
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/contacts`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewContact {
    /// First name.
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// Company.
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// Owner (default: the caller).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Custom field values by key, validated against the definitions.
    #[serde(default)]
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Create even when it looks like an existing contact (otherwise 409 `possible_duplicate`).
    #[serde(default)]
    pub allow_duplicate: bool,
}

/// A pipeline stage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stage {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Order on the board (0 = first).
    pub position: i32,
    /// Default probability of deals in it, 0–100.
    pub probability: i32,
    /// `open`, `won` or `lost`.
    pub kind: String,
}

/// A pipeline with its stages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pipeline {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The organisation's default pipeline.
    pub is_default: bool,
    /// Stages in board order.
    pub stages: Vec<Stage>,
}

/// A deal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deal {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Amount, an exact decimal string.
    #[schema(value_type = String, example = "12500.00")]
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: String,
    /// Pipeline.
    pub pipeline_id: Uuid,
    /// Stage.
    pub stage_id: Uuid,
    /// Order within the stage's column.
    pub position: i64,
    /// Win probability, 0–100.
    pub probability: i32,
    /// Expected close date.
    pub expected_close_date: Option<NaiveDate>,
    /// `open`, `won` or `lost` (follows the stage's kind).
    pub status: String,
    /// Why it was lost.
    pub lost_reason: Option<String>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Owning user.
    pub owner_id: Option<Uuid>,
    /// Custom field values by key (definitions at `/api/v1/custom-fields`).
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Contacts involved in the deal.
    pub contact_ids: Vec<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/deals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewDeal {
    /// Title.
    pub title: String,
    /// Amount (decimal string or number).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// ISO 4217 currency (3 capital letters).
    pub currency: String,
    /// Stage (default: the default pipeline's first stage).
    #[serde(default)]
    pub stage_id: Option<Uuid>,
    /// Company.
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// Expected close date.
    #[serde(default)]
    pub expected_close_date: Option<NaiveDate>,
    /// Owner (default: the caller).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Custom field values by key, validated against the definitions.
    #[serde(default)]
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Contacts involved in the deal.
    #[serde(default)]
    pub contact_ids: Vec<Uuid>,
}

/// `PATCH /api/v1/deals/{id}`: edits, and moves on the board (`stage_id` + `position`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DealPatch {
    /// Title.
    pub title: Option<String>,
    /// Amount.
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    /// Currency.
    pub currency: Option<String>,
    /// Target stage (a move on the board).
    pub stage_id: Option<Uuid>,
    /// Place in the target column (0 = top; default: keep, or bottom of a new column).
    pub position: Option<i64>,
    /// Why the deal was lost, when moved to a lost stage.
    pub lost_reason: Option<String>,
    /// Expected close date.
    pub expected_close_date: Option<NaiveDate>,
    /// Owner.
    pub owner_id: Option<Uuid>,
    /// Custom field values to set (merged; `null` removes one).
    #[schema(schema_with = crate::custom_fields::values_schema, nullable)]
    pub custom_fields: Option<crate::custom_fields::CustomValues>,
    /// Contacts involved in the deal (replaces the list).
    pub contact_ids: Option<Vec<Uuid>>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// One column of the board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BoardColumn {
    /// The stage.
    pub stage: Stage,
    /// Its deals, in board order (first page).
    pub deals: Vec<Deal>,
    /// Deals in the stage.
    pub count: i64,
    /// Sum of amounts, per currency.
    pub totals: Vec<CurrencyTotal>,
}

/// An amount per currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CurrencyTotal {
    /// ISO 4217 currency.
    pub currency: String,
    /// Sum of amounts.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Sum of amount × probability.
    #[schema(value_type = String)]
    pub weighted: Decimal,
}

/// `GET /api/v1/pipelines/{id}/board`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Board {
    /// The pipeline.
    pub pipeline_id: Uuid,
    /// Its columns in stage order.
    pub columns: Vec<BoardColumn>,
}

/// A lead. `email` and `phone` are PII (masked without `pii:read`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Lead {
    /// Id.
    pub id: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company the person named.
    pub company_name: Option<String>,
    /// Email (masked without `pii:read`).
    pub email: Option<String>,
    /// Phone (masked without `pii:read`).
    pub phone: Option<String>,
    /// Where it came from (web form, trade fair, referral, ...).
    pub source: Option<String>,
    /// `New`, `Contacted`, `Qualified`, `Unqualified` or `Converted`.
    pub status: String,
    /// Owning user.
    pub owner_id: Option<Uuid>,
    /// Custom field values by key (definitions at `/api/v1/custom-fields`).
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
    /// Contact created by conversion.
    pub contact_id: Option<Uuid>,
    /// Company linked by conversion.
    pub company_id: Option<Uuid>,
    /// Deal created by conversion.
    pub deal_id: Option<Uuid>,
    /// When it was converted.
    pub converted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/leads`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewLead {
    /// First name.
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Source.
    #[serde(default)]
    pub source: Option<String>,
    /// Owner (default: the caller).
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// Custom field values by key, validated against the definitions.
    #[serde(default)]
    #[schema(schema_with = crate::custom_fields::values_schema)]
    pub custom_fields: crate::custom_fields::CustomValues,
}

/// `PATCH /api/v1/leads/{id}`: status changes (not to `Converted`: use convert).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LeadPatch {
    /// New status.
    pub status: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Owner.
    pub owner_id: Option<Uuid>,
    /// Custom field values to set (merged; `null` removes one).
    #[schema(schema_with = crate::custom_fields::values_schema, nullable)]
    pub custom_fields: Option<crate::custom_fields::CustomValues>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// The deal to open when converting a lead.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConversionDeal {
    /// Title.
    pub title: String,
    /// Amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Currency.
    pub currency: String,
    /// Stage (default: the default pipeline's first stage).
    #[serde(default)]
    pub stage_id: Option<Uuid>,
}

/// `POST /api/v1/leads/{id}/convert`: contact + company (existing or new) + optional deal.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Conversion {
    /// Link to this existing company...
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// ...or create one with this name (default: the lead's company name).
    #[serde(default)]
    pub company_name: Option<String>,
    /// Open a deal too.
    #[serde(default)]
    pub deal: Option<ConversionDeal>,
    /// Version of the lead read (or `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
}

/// What a conversion created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversionResult {
    /// The lead, now `Converted`.
    pub lead: Lead,
    /// The new contact.
    pub contact: Contact,
    /// The company (existing or new).
    pub company: Option<Company>,
    /// The new deal.
    pub deal: Option<Deal>,
}

/// A call, email, meeting, note or task on a CRM record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    /// Id.
    pub id: Uuid,
    /// `call`, `email`, `meeting`, `note` or `task`.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Notes.
    pub body: Option<String>,
    /// Due (tasks, meetings).
    pub due_at: Option<DateTime<Utc>>,
    /// Done (tasks).
    pub done: bool,
    /// `company`, `contact`, `lead` or `deal`.
    pub record_type: String,
    /// The record.
    pub record_id: Uuid,
    /// Owning user.
    pub owner_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/activities`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewActivity {
    /// `call`, `email`, `meeting`, `note` or `task`.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Notes.
    #[serde(default)]
    pub body: Option<String>,
    /// Due.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// `company`, `contact`, `lead` or `deal`.
    pub record_type: String,
    /// The record.
    pub record_id: Uuid,
}

/// One entry of a record's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// `activity` or `change`.
    pub kind: String,
    /// What: the activity's kind and subject, or the audited action.
    pub summary: String,
    /// Who (`user:<id>`, ...).
    pub actor: Option<String>,
    /// The activity, or the field changes.
    pub detail: serde_json::Value,
}

/// A section of the customer 360 view that another module serves (see
/// `kernel::sections`): `available` says whether that module is there, `data` holds the
/// section when it is and the caller may see it (the helpdesk's `tickets` section is a
/// `CustomerTickets`), `null` otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerSection {
    /// Whether a module provides it.
    pub available: bool,
    /// Which module does (or will).
    pub provided_by: String,
    /// The section; `null` while unavailable or when the caller lacks the permission.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// `GET /api/v1/customers/{company_id}/360`: everything about one customer on one page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Customer360 {
    /// The company.
    pub company: Company,
    /// Its contacts (first 50 by name).
    pub contacts: Vec<Contact>,
    /// Its open deals.
    pub open_deals: Vec<Deal>,
    /// Won deals: amount per currency (`amount` and `weighted` are equal, won being 100%).
    pub closed_deals: Vec<CurrencyTotal>,
    /// Latest activities on the company, its contacts and its deals.
    pub recent_activities: Vec<Activity>,
    /// Support tickets (helpdesk): open tickets, open SLA risks and the customer's mood.
    pub tickets: CustomerSection,
    /// Orders and invoices (sales).
    pub orders: CustomerSection,
    /// Health score, churn risk, upsell suggestions (insight).
    pub health: CustomerSection,
}

/// A contact that may be the same person as another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PossibleDuplicate {
    /// The other contact.
    pub contact: Contact,
    /// Why: `same email`, `same phone`, `similar name at the same company`.
    pub reason: String,
}

/// `POST /api/v1/contacts/{id}/merge`: fold another contact into this one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The duplicate to fold in (it is archived; its activities and links move here).
    pub duplicate_id: Uuid,
    /// Version of the surviving contact read (or `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
}

/// `PATCH /api/v1/contacts/{id}`. An empty string clears `email`, `phone` or `title`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ContactPatch {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email ("" clears it).
    pub email: Option<String>,
    /// Phone ("" clears it).
    pub phone: Option<String>,
    /// Job title ("" clears it).
    pub title: Option<String>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Owner.
    pub owner_id: Option<Uuid>,
    /// Custom field values to set (merged; `null` removes one).
    #[schema(schema_with = crate::custom_fields::values_schema, nullable)]
    pub custom_fields: Option<crate::custom_fields::CustomValues>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}
