//! Identity's wire types and its one error type.

use chrono::{DateTime, Utc};
use kernel::problem::{ErrorCode, FieldError, Problem};
use kernel::tenancy::{Forbidden, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Everything that can go wrong in identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Wrong email, password, TOTP code or inactive account: deliberately one answer.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    /// Too many failed sign-ins for this account.
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    Locked {
        /// Seconds until the lock ends.
        retry_after_secs: u64,
    },
    /// The account has TOTP enabled and no code was sent.
    #[error("a TOTP code is required")]
    TotpRequired,
    /// The user belongs to several organisations and did not say which.
    #[error("choose an organisation")]
    OrgRequired {
        /// The organisations to choose from.
        orgs: Vec<OrgChoice>,
    },
    /// Missing, malformed, expired or revoked token or key.
    #[error("{0}")]
    Unauthenticated(String),
    /// A refresh token was used twice: the session was revoked.
    #[error("refresh token reuse detected; the session has been revoked")]
    TokenReused,
    /// The caller lacks a permission.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No such record in the caller's organisation (or outside their scope).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Invalid input, field by field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The request conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// `version` does not match; carries the current record.
    #[error("version mismatch")]
    VersionMismatch {
        /// The record as it is now.
        current: serde_json::Value,
    },
    /// A stored secret could not be decrypted or encrypted (wrong or missing key).
    #[error("cannot decrypt stored data: {0}")]
    Crypto(String),
    /// Argon2 refused to hash (parameters or output invalid; not a wrong password).
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// A blocking task (hashing) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
    /// A stored TOTP secret is not valid base32 of at least 128 bits.
    #[error("invalid TOTP secret")]
    TotpSecret,
    /// The otpauth URI cannot be built (e.g. a `:` in the account name or issuer).
    #[error("cannot build the otpauth URI: {0}")]
    OtpAuthUri(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl IdentityError {
    /// A single-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        IdentityError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<IdentityError> for Problem {
    fn from(err: IdentityError) -> Self {
        match err {
            IdentityError::InvalidCredentials => {
                Problem::new(ErrorCode::Unauthorized).with_detail("email or password is incorrect")
            }
            IdentityError::Locked { retry_after_secs } => {
                let mut p = Problem::new(ErrorCode::RateLimited).with_detail(format!(
                    "too many failed sign-ins for this account; try again in {} minute(s)",
                    retry_after_secs.div_ceil(60)
                ));
                p.retry_after_secs = Some(retry_after_secs);
                p
            }
            IdentityError::TotpRequired => Problem::new(ErrorCode::TotpRequired)
                .with_detail("enter the code from your authenticator app as totp_code"),
            IdentityError::OrgRequired { orgs } => {
                let mut p = Problem::validation(vec![FieldError::new(
                    "org",
                    "you belong to several organisations: send one of their ids",
                )]);
                p.current = serde_json::to_value(orgs).ok();
                p
            }
            IdentityError::Unauthenticated(detail) => {
                Problem::new(ErrorCode::Unauthorized).with_detail(detail)
            }
            IdentityError::TokenReused => Problem::new(ErrorCode::Unauthorized)
                .with_detail("this refresh token was already used; the session has been revoked"),
            IdentityError::Forbidden(denied) => denied.into(),
            IdentityError::NotFound(what) => Problem::not_found(what),
            IdentityError::Validation(errors) => Problem::validation(errors),
            IdentityError::Conflict(detail) => {
                Problem::new(ErrorCode::Conflict).with_detail(detail)
            }
            IdentityError::VersionMismatch { current } => Problem::stale_version(current),
            IdentityError::Crypto(reason)
            | IdentityError::PasswordHash(reason)
            | IdentityError::Task(reason) => Problem::internal(&reason),
            IdentityError::TotpSecret => Problem::internal(&"stored TOTP secret is invalid"),
            IdentityError::OtpAuthUri(reason) => {
                Problem::new(ErrorCode::UnprocessableEntity).with_detail(reason)
            }
            IdentityError::Db(err) => Problem::from_db(&err),
        }
    }
}

/// An organisation a user can sign in to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrgChoice {
    /// Organisation id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// Organisation id or slug, when the user belongs to several.
    #[serde(default)]
    pub org: Option<String>,
    /// Current TOTP code or a recovery code, when the account has a second factor.
    #[serde(default)]
    pub totp_code: Option<String>,
}

/// Tokens issued at sign-in and refresh.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// One-time token for `POST /api/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// `POST /api/v1/auth/refresh` and `/logout`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// The signed-in user's view of themselves (`GET /api/v1/auth/me`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// The user (their own data, never masked), or absent for an API key.
    pub user: Option<UserSummary>,
    /// Current organisation.
    pub org: OrgChoice,
    /// Role name.
    pub role: String,
    /// Effective permissions.
    pub permissions: Vec<String>,
    /// Site/division limits.
    pub scope: Scope,
    /// `user` or `api_key`.
    pub principal: String,
}

/// Answer of `GET /api/v1/auth/check`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionCheck {
    /// Organisation of the credential.
    pub org_id: Uuid,
    /// `user:<id>` or `api_key:<id>`.
    pub actor: String,
    /// Role name.
    pub role: String,
}

/// Minimal user identity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserSummary {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether TOTP is enabled.
    pub totp_enabled: bool,
}

/// A user as an organisation sees them (`/api/v1/users`). Email and name are masked for
/// callers without `pii:read`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// User id.
    pub id: Uuid,
    /// Email (masked without `pii:read`).
    pub email: String,
    /// Name (masked without `pii:read`).
    pub name: String,
    /// Role name in this organisation.
    pub role: String,
    /// Role id.
    pub role_id: Uuid,
    /// Site/division limits.
    pub scope: Scope,
    /// Whether the user may sign in to this organisation.
    pub active: bool,
    /// Whether TOTP is enabled.
    pub totp_enabled: bool,
    /// When the user joined this organisation.
    pub created_at: DateTime<Utc>,
    /// Version of the membership, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewUser {
    /// Email (sign-in name).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password (≥ 12 characters, not a common password).
    pub password: String,
    /// Role name (e.g. `Sales Rep`).
    pub role: String,
    /// Limit to these sites (empty = all).
    #[serde(default)]
    pub site_ids: Vec<Uuid>,
    /// Limit to these divisions (empty = all).
    #[serde(default)]
    pub division_ids: Vec<Uuid>,
}

/// `PATCH /api/v1/users/{id}`: fields to change, and the version read.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    /// New role name.
    pub role: Option<String>,
    /// New display name.
    pub name: Option<String>,
    /// New site limits.
    pub site_ids: Option<Vec<Uuid>>,
    /// New division limits.
    pub division_ids: Option<Vec<Uuid>>,
    /// Version read (or send `If-Match`).
    pub version: Option<i64>,
}

/// A role (`/api/v1/roles`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// Role id.
    pub id: Uuid,
    /// Name, unique in the organisation.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Granted permissions.
    pub permissions: Vec<String>,
    /// Built-in roles cannot be changed or deleted.
    pub builtin: bool,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/roles`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewRole {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Permissions (`resource:action`, `resource:*`).
    pub permissions: Vec<String>,
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// Key id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Public prefix, shown to tell keys apart.
    pub prefix: String,
    /// Granted permissions.
    pub permissions: Vec<String>,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A newly created API key: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret to send as `Authorization: Bearer`. Not retrievable later.
    pub secret: String,
}

/// `POST /api/v1/api-keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewApiKey {
    /// Name.
    pub name: String,
    /// Permissions (a subset of the creator's).
    pub permissions: Vec<String>,
    /// Optional expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A site (plant, branch, region, warehouse, office).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Site {
    /// Site id.
    pub id: Uuid,
    /// Parent site.
    pub parent_id: Option<Uuid>,
    /// Name.
    pub name: String,
    /// `plant`, `branch`, `region`, `warehouse` or `office`.
    pub kind: String,
}

/// `POST /api/v1/orgs/current/sites`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSite {
    /// Name.
    pub name: String,
    /// `plant`, `branch`, `region`, `warehouse` or `office`.
    pub kind: String,
    /// Parent site.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// A division (business line).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Division {
    /// Division id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// `POST /api/v1/orgs/current/divisions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewDivision {
    /// Name.
    pub name: String,
}

/// The caller's organisation (`GET /api/v1/orgs/current`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Org {
    /// Organisation id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// URL-safe short name.
    pub slug: String,
    /// Sites.
    pub sites: Vec<Site>,
    /// Divisions.
    pub divisions: Vec<Division>,
}

/// `POST /api/v1/auth/totp/enroll` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollment {
    /// Base32 secret, for manual entry.
    pub secret: String,
    /// `otpauth://` URI, to render as a QR code.
    pub otpauth_uri: String,
}

/// `POST /api/v1/auth/totp/verify`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TotpCode {
    /// The current 6-digit code.
    pub code: String,
}

/// Recovery codes, shown once when TOTP is enabled.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once instead of a TOTP code.
    pub recovery_codes: Vec<String>,
}

/// `GET /api/v1/permissions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionCatalogue {
    /// Resources.
    pub resources: Vec<String>,
    /// Actions.
    pub actions: Vec<String>,
}

/// `PATCH /api/v1/roles/{id}` (custom roles only).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RolePatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New permissions (replace the old ones).
    pub permissions: Option<Vec<String>>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}
