//! Identity's business rules, callable without HTTP.
//!
//! Every function that touches tenant data takes the caller's [`TenantContext`] and binds
//! its `org_id` in every query; permission checks happen here, before any data is read.
//! Writes commit together with their audit row and domain event.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use kernel::audit::{self, AuditEntry};
use kernel::events::{self, NewEvent};
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page};
use kernel::pii::{Secret, mask_email, mask_text};
use kernel::tenancy::{Actor, PermissionSet, RequestMeta, Scope, TenantContextInner};
use kernel::{Db, FieldError, SharedClock, TenantContext, Tx, bind_values, on_pool, on_tx};
use sqlx::FromRow;
use uuid::Uuid;

use crate::auth_cache::{AuthCache, KeyGrant, SessionGrant};
use crate::crypto::{Keys, normalise_email};
use crate::model::*;
use crate::permissions::{self, BUILTIN_ROLES};
use crate::tokens::{self, AccessClaims};
use crate::{password, totp};

/// Tunable rules of sign-in.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Lifetime of access tokens (default 15 minutes).
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens (default 30 days).
    pub refresh_ttl: Duration,
    /// Failed sign-ins within `lockout_window` that lock an account (default 5).
    pub lockout_threshold: i64,
    /// Window counted for lockout (default 15 minutes).
    pub lockout_window: Duration,
    /// How long a locked account stays locked (default 15 minutes).
    pub lockout_duration: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            lockout_threshold: 5,
            lockout_window: Duration::minutes(15),
            lockout_duration: Duration::minutes(15),
        }
    }
}

/// The identity service.
#[derive(Clone)]
pub struct Identity {
    db: Db,
    clock: SharedClock,
    keys: Arc<Keys>,
    settings: Arc<IdentitySettings>,
    cache: Arc<AuthCache>,
}

const USER_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "created_at",
        column: "m.created_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "active",
        column: "m.active",
        kind: FieldKind::Bool,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "role",
        column: "r.name",
        kind: FieldKind::Text,
        sortable: true,
        filterable: true,
    },
];

/// What `GET /api/v1/users` accepts.
pub const USER_LIST: ListSpec = ListSpec {
    fields: USER_FIELDS,
    default_sort: "created_at",
    default_limit: 50,
    max_limit: 200,
    id_column: "m.user_id",
};

const AUDIT_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "seq",
        column: "seq",
        kind: FieldKind::Integer,
        sortable: true,
        filterable: false,
    },
    FieldSpec {
        name: "occurred_at",
        column: "occurred_at",
        kind: FieldKind::Timestamp,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "actor",
        column: "actor",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "action",
        column: "action",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "entity_type",
        column: "entity_type",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "entity_id",
        column: "entity_id",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
];

/// What `GET /api/v1/audit` accepts (newest first by default).
pub const AUDIT_LIST: ListSpec = ListSpec {
    fields: AUDIT_FIELDS,
    default_sort: "-seq",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

#[derive(Debug, FromRow)]
struct UserRow {
    id: Uuid,
    password_hash: String,
    totp_secret_enc: Option<String>,
    totp_enabled: bool,
}

#[derive(Debug, FromRow)]
struct MemberRow {
    user_id: Uuid,
    email_enc: String,
    name_enc: String,
    totp_enabled: bool,
    role_id: Uuid,
    role_name: String,
    site_ids: String,
    division_ids: String,
    active: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

#[derive(Debug, FromRow)]
struct RoleRow {
    id: Uuid,
    name: String,
    description: String,
    permissions: String,
    builtin: bool,
    version: i64,
}

#[derive(Debug, FromRow)]
struct ApiKeyRow {
    org_id: Uuid,
    id: Uuid,
    name: String,
    prefix: String,
    secret_hash: String,
    permissions: String,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, FromRow)]
struct AuthRow {
    role_name: String,
    permissions: String,
    site_ids: String,
    division_ids: String,
}

const MEMBER_SELECT: &str = "SELECT m.user_id, u.email_enc, u.name_enc, u.totp_enabled, m.role_id, r.name AS role_name, \
     m.site_ids, m.division_ids, m.active, m.created_at, m.version \
     FROM memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id";

fn email_aad(user: Uuid) -> String {
    format!("users:{user}:email")
}

fn name_aad(user: Uuid) -> String {
    format!("users:{user}:name")
}

fn totp_aad(user: Uuid) -> String {
    format!("users:{user}:totp")
}

fn json_ids(text: &str) -> Vec<Uuid> {
    serde_json::from_str(text).unwrap_or_default()
}

fn json_strings(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// URL-safe short name of an organisation.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn valid_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
                && email.len() <= 254
        }
        None => false,
    }
}

/// Resolves the version a write was based on: body `version` or `If-Match`.
pub fn expected_version(body: Option<i64>, if_match: Option<i64>) -> Result<i64, IdentityError> {
    body.or(if_match).ok_or_else(|| {
        IdentityError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        )
    })
}

impl Identity {
    /// The service over `db`.
    pub fn new(db: Db, clock: SharedClock, keys: Arc<Keys>, settings: IdentitySettings) -> Self {
        Self {
            db,
            clock,
            keys,
            settings: Arc::new(settings),
            cache: Arc::new(AuthCache::default()),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn audit(&self, tx: &mut Tx, entry: AuditEntry) -> Result<(), IdentityError> {
        audit::append(tx, &self.clock, entry).await?;
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
    ) -> Result<(), IdentityError> {
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

    // ---------------------------------------------------------------- organisations

    /// Creates an organisation with the built-in roles and its first admin (`meridian init`).
    /// A person who already has an account joins as admin with their existing password.
    pub async fn create_org(
        &self,
        name: &str,
        admin_email: &str,
        admin_name: &str,
        admin_password: &str,
    ) -> Result<(Uuid, Uuid), IdentityError> {
        let mut errors = Vec::new();
        let slug = slugify(name);
        if slug.is_empty() {
            errors.push(FieldError::new(
                "org_name",
                "must contain letters or digits",
            ));
        }
        if !valid_email(admin_email) {
            errors.push(FieldError::new("admin_email", "is not an email address"));
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        let now = self.now();
        let org_id = Uuid::now_v7();
        let ctx = TenantContext::system(org_id);
        let mut tx = self.db.begin().await?;
        let taken: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM orgs WHERE slug = $1"
        )
        .bind(&slug)
        .fetch_optional(c)
        .await)?;
        if taken.is_some() {
            return Err(IdentityError::Conflict(format!(
                "an organisation named `{slug}` already exists"
            )));
        }
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO orgs (id, name, slug, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(org_id)
        .bind(name.trim())
        .bind(&slug)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))?;
        let mut admin_role = Uuid::nil();
        for role in BUILTIN_ROLES {
            let id = Uuid::now_v7();
            if role.name == "Admin" {
                admin_role = id;
            }
            on_tx!(tx, |c| {
                sqlx::query(
                "INSERT INTO roles (org_id, id, name, description, permissions, builtin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            .bind(org_id)
            .bind(id)
            .bind(role.name)
            .bind(role.description)
            .bind(to_json(&role.permissions))
            .bind(true)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
            })?;
        }
        self.audit(
            &mut tx,
            AuditEntry::by(&ctx, "org.created", "org", Some(org_id.to_string()))
                .with_changes(serde_json::json!({"name": name.trim(), "slug": slug})),
        )
        .await?;
        self.event(
            &mut tx,
            &ctx,
            "org.created",
            "org",
            org_id,
            serde_json::json!({"name": name.trim(), "slug": slug}),
        )
        .await?;
        let user_id = self
            .add_member(
                &mut tx,
                &ctx,
                admin_email,
                admin_name,
                admin_password,
                admin_role,
                "Admin",
                &Scope::default(),
            )
            .await?;
        tx.commit().await?;
        Ok((org_id, user_id))
    }

    /// Finds an organisation by id or slug.
    pub async fn find_org(&self, id_or_slug: &str) -> Result<Option<OrgChoice>, IdentityError> {
        #[derive(FromRow)]
        struct Row {
            id: Uuid,
            name: String,
        }
        let row: Option<Row> = match Uuid::parse_str(id_or_slug) {
            Ok(id) => on_pool!(self.db, |p| sqlx::query_as(
                "SELECT id, name FROM orgs WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(p)
            .await)?,
            Err(_) => on_pool!(self.db, |p| sqlx::query_as(
                "SELECT id, name FROM orgs WHERE slug = $1"
            )
            .bind(id_or_slug.trim().to_lowercase())
            .fetch_optional(p)
            .await)?,
        };
        Ok(row.map(|r| OrgChoice {
            id: r.id,
            name: r.name,
        }))
    }

    /// The caller's organisation with its sites and divisions.
    pub async fn current_org(&self, ctx: &TenantContext) -> Result<Org, IdentityError> {
        #[derive(FromRow)]
        struct OrgRow {
            id: Uuid,
            name: String,
            slug: String,
        }
        #[derive(FromRow)]
        struct SiteRow {
            id: Uuid,
            parent_id: Option<Uuid>,
            name: String,
            kind: String,
        }
        #[derive(FromRow)]
        struct DivisionRow {
            id: Uuid,
            name: String,
        }
        let org = ctx.org_id();
        let row: Option<OrgRow> = on_pool!(self.db, |p| sqlx::query_as(
            "SELECT id, name, slug FROM orgs WHERE id = $1"
        )
        .bind(org)
        .fetch_optional(p)
        .await)?;
        let row = row.ok_or(IdentityError::NotFound("organisation"))?;
        let sites: Vec<SiteRow> = on_pool!(self.db, |p| sqlx::query_as(
            "SELECT id, parent_id, name, kind FROM sites WHERE org_id = $1 ORDER BY name"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        let divisions: Vec<DivisionRow> = on_pool!(self.db, |p| sqlx::query_as(
            "SELECT id, name FROM divisions WHERE org_id = $1 ORDER BY name"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        Ok(Org {
            id: row.id,
            name: row.name,
            slug: row.slug,
            sites: sites
                .into_iter()
                .map(|s| Site {
                    id: s.id,
                    parent_id: s.parent_id,
                    name: s.name,
                    kind: s.kind,
                })
                .collect(),
            divisions: divisions
                .into_iter()
                .map(|d| Division {
                    id: d.id,
                    name: d.name,
                })
                .collect(),
        })
    }

    /// Adds a site (plant, branch, region, warehouse, office).
    pub async fn create_site(
        &self,
        ctx: &TenantContext,
        new: NewSite,
    ) -> Result<Site, IdentityError> {
        ctx.authorize("org:manage")?;
        const KINDS: [&str; 5] = ["plant", "branch", "region", "warehouse", "office"];
        let mut errors = Vec::new();
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if !KINDS.contains(&new.kind.as_str()) {
            errors.push(FieldError::new(
                "kind",
                format!("must be one of {}", KINDS.join(", ")),
            ));
        }
        let mut tx = self.db.begin().await?;
        if let Some(parent) = new.parent_id {
            let exists: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
                "SELECT id FROM sites WHERE org_id = $1 AND id = $2"
            )
            .bind(ctx.org_id())
            .bind(parent)
            .fetch_optional(c)
            .await)?;
            if exists.is_none() {
                errors.push(FieldError::new("parent_id", "no such site"));
            }
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        let site = Site {
            id: Uuid::now_v7(),
            parent_id: new.parent_id,
            name: new.name.trim().to_owned(),
            kind: new.kind,
        };
        on_tx!(tx, |c| {
            sqlx::query("INSERT INTO sites (org_id, id, parent_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ctx.org_id())
            .bind(site.id)
            .bind(site.parent_id)
            .bind(&site.name)
            .bind(&site.kind)
            .bind(self.now())
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let after = serde_json::to_value(&site).unwrap_or_default();
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "site.created",
            "site",
            site.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(site)
    }

    /// Adds a division.
    pub async fn create_division(
        &self,
        ctx: &TenantContext,
        new: NewDivision,
    ) -> Result<Division, IdentityError> {
        ctx.authorize("org:manage")?;
        if new.name.trim().is_empty() {
            return Err(IdentityError::field("name", "is required"));
        }
        let division = Division {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
        };
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO divisions (org_id, id, name, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(ctx.org_id())
        .bind(division.id)
        .bind(&division.name)
        .bind(self.now())
        .execute(c)
        .await
        .map(|_| ()))?;
        let after = serde_json::to_value(&division).unwrap_or_default();
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "division.created",
            "division",
            division.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(division)
    }

    async fn check_scope_ids(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        sites: &[Uuid],
        divisions: &[Uuid],
    ) -> Result<Vec<FieldError>, IdentityError> {
        let mut errors = Vec::new();
        for (i, site) in sites.iter().enumerate() {
            let found: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
                "SELECT id FROM sites WHERE org_id = $1 AND id = $2"
            )
            .bind(ctx.org_id())
            .bind(*site)
            .fetch_optional(c)
            .await)?;
            if found.is_none() {
                errors.push(FieldError::new(format!("site_ids[{i}]"), "no such site"));
            }
        }
        for (i, division) in divisions.iter().enumerate() {
            let found: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
                "SELECT id FROM divisions WHERE org_id = $1 AND id = $2"
            )
            .bind(ctx.org_id())
            .bind(*division)
            .fetch_optional(c)
            .await)?;
            if found.is_none() {
                errors.push(FieldError::new(
                    format!("division_ids[{i}]"),
                    "no such division",
                ));
            }
        }
        Ok(errors)
    }

    // ---------------------------------------------------------------- users

    async fn role_by_name(
        &self,
        tx: &mut Tx,
        org: Uuid,
        name: &str,
    ) -> Result<Option<RoleRow>, IdentityError> {
        Ok(on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT id, name, description, permissions, builtin, version FROM roles WHERE org_id = $1 AND name = $2"
        )
        .bind(org)
        .bind(name.trim())
        .fetch_optional(c)
        .await
        })?)
    }

    /// Creates the user if the email is new, then the membership; returns the user id.
    #[allow(clippy::too_many_arguments)]
    async fn add_member(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        email: &str,
        name: &str,
        password: &str,
        role_id: Uuid,
        role_name: &str,
        scope: &Scope,
    ) -> Result<Uuid, IdentityError> {
        let now = self.now();
        let email_index = self.keys.email_index(email);
        let existing: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM users WHERE email_index = $1"
        )
        .bind(&email_index)
        .fetch_optional(c)
        .await)?;
        let user_id = match existing {
            Some(id) => {
                let member: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
                    "SELECT user_id FROM memberships WHERE org_id = $1 AND user_id = $2"
                )
                .bind(ctx.org_id())
                .bind(id)
                .fetch_optional(c)
                .await)?;
                if member.is_some() {
                    return Err(IdentityError::Conflict(
                        "this person is already a member of the organisation".to_owned(),
                    ));
                }
                id
            }
            None => {
                let mut errors = Vec::new();
                if name.trim().is_empty() {
                    errors.push(FieldError::new("name", "is required"));
                }
                if let Err(reasons) = password::check_password_policy(password, email) {
                    for reason in reasons {
                        errors.push(FieldError::new("password", reason));
                    }
                }
                if !errors.is_empty() {
                    return Err(IdentityError::Validation(errors));
                }
                let hash = password::hash_password(Secret::new(password.to_owned())).await?;
                let id = Uuid::now_v7();
                let email_enc = self.keys.encrypt(&normalise_email(email), &email_aad(id))?;
                let name_enc = self.keys.encrypt(name.trim(), &name_aad(id))?;
                on_tx!(tx, |c| {
                    sqlx::query(
                    "INSERT INTO users (id, email_index, email_enc, name_enc, password_hash, totp_enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                )
                .bind(id)
                .bind(&email_index)
                .bind(&email_enc)
                .bind(&name_enc)
                .bind(&hash)
                .bind(false)
                .bind(now)
                .execute(c)
                .await
                .map(|_| ())
                })?;
                id
            }
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role_id, site_ids, division_ids, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(ctx.org_id())
        .bind(user_id)
        .bind(role_id)
        .bind(to_json(&scope.site_ids))
        .bind(to_json(&scope.division_ids))
        .bind(true)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        // PII stays out of the audit trail and the event stream: ids and role only.
        let details = serde_json::json!({"role": role_name, "site_ids": scope.site_ids, "division_ids": scope.division_ids});
        self.audit(
            tx,
            AuditEntry::by(ctx, "user.created", "user", Some(user_id.to_string()))
                .with_changes(details.clone()),
        )
        .await?;
        self.event(tx, ctx, "user.created", "user", user_id, details)
            .await?;
        Ok(user_id)
    }

    /// Creates a user (or adds an existing person) with a role in the caller's organisation.
    pub async fn create_user(
        &self,
        ctx: &TenantContext,
        new: NewUser,
    ) -> Result<User, IdentityError> {
        ctx.authorize("users:manage")?;
        let mut errors = Vec::new();
        if !valid_email(&new.email) {
            errors.push(FieldError::new("email", "is not an email address"));
        }
        let mut tx = self.db.begin().await?;
        let role = self.role_by_name(&mut tx, ctx.org_id(), &new.role).await?;
        if role.is_none() {
            errors.push(FieldError::new(
                "role",
                format!("no role named `{}`", new.role),
            ));
        }
        errors.extend(
            self.check_scope_ids(&mut tx, ctx, &new.site_ids, &new.division_ids)
                .await?,
        );
        // Name and password matter only for a person new to Meridian (an existing account
        // keeps its own); report them with the rest so a form can show every mistake.
        let existing: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM users WHERE email_index = $1"
        )
        .bind(self.keys.email_index(&new.email))
        .fetch_optional(c)
        .await)?;
        if existing.is_none() {
            if new.name.trim().is_empty() {
                errors.push(FieldError::new("name", "is required"));
            }
            if let Err(reasons) = password::check_password_policy(&new.password, &new.email) {
                errors.extend(reasons.into_iter().map(|r| FieldError::new("password", r)));
            }
        }
        let (Some(role), true) = (role, errors.is_empty()) else {
            return Err(IdentityError::Validation(errors));
        };
        let scope = Scope {
            site_ids: new.site_ids,
            division_ids: new.division_ids,
        };
        let user_id = self
            .add_member(
                &mut tx,
                ctx,
                &new.email,
                &new.name,
                &new.password,
                role.id,
                &role.name,
                &scope,
            )
            .await?;
        tx.commit().await?;
        self.get_user(ctx, user_id).await
    }

    fn member_to_user(&self, ctx: &TenantContext, row: MemberRow) -> Result<User, IdentityError> {
        let email = self.keys.decrypt(&row.email_enc, &email_aad(row.user_id))?;
        let name = self.keys.decrypt(&row.name_enc, &name_aad(row.user_id))?;
        let (email, name) = if ctx.can("pii:read") || ctx.actor().user_id() == Some(row.user_id) {
            (email, name)
        } else {
            (mask_email(&email), mask_text(&name))
        };
        Ok(User {
            id: row.user_id,
            email,
            name,
            role: row.role_name,
            role_id: row.role_id,
            scope: Scope {
                site_ids: json_ids(&row.site_ids),
                division_ids: json_ids(&row.division_ids),
            },
            active: row.active,
            totp_enabled: row.totp_enabled,
            created_at: row.created_at,
            version: row.version,
        })
    }

    async fn member_row(&self, org: Uuid, user: Uuid) -> Result<Option<MemberRow>, IdentityError> {
        Ok(on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2")
        ))
        .bind(org)
        .bind(user)
        .fetch_optional(p)
        .await)?)
    }

    /// One user of the caller's organisation (404 for anyone else's).
    pub async fn get_user(&self, ctx: &TenantContext, id: Uuid) -> Result<User, IdentityError> {
        if ctx.actor().user_id() != Some(id) {
            ctx.authorize("users:read")?;
        }
        let row = self
            .member_row(ctx.org_id(), id)
            .await?
            .ok_or(IdentityError::NotFound("user"))?;
        self.member_to_user(ctx, row)
    }

    /// Lists the organisation's users (filters: `role`, `active`, `created_at`).
    pub async fn list_users(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<User>, IdentityError> {
        ctx.authorize("users:read")?;
        let plan = USER_LIST
            .plan(query, &[])
            .map_err(|p| IdentityError::Validation(p.errors))?;
        let sql = plan.sql(2);
        let text = format!(
            "{MEMBER_SELECT} WHERE m.org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<MemberRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        let users = rows
            .into_iter()
            .map(|row| self.member_to_user(ctx, row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(plan.page(users))
    }

    /// Changes a user's role, name or scope; `expected` is the version the caller read.
    pub async fn update_user(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: UserPatch,
        expected: i64,
    ) -> Result<User, IdentityError> {
        ctx.authorize("users:manage")?;
        let mut tx = self.db.begin().await?;
        let current: Option<MemberRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2")
        ))
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(c)
        .await)?;
        let current = current.ok_or(IdentityError::NotFound("user"))?;
        let before = self.member_to_user(ctx, current)?;
        if before.version != expected {
            return Err(IdentityError::VersionMismatch {
                current: serde_json::to_value(&before).unwrap_or_default(),
            });
        }
        let mut errors = Vec::new();
        let mut role = (before.role_id, before.role.clone());
        if let Some(name) = &patch.role {
            match self.role_by_name(&mut tx, ctx.org_id(), name).await? {
                Some(r) => role = (r.id, r.name),
                None => errors.push(FieldError::new("role", format!("no role named `{name}`"))),
            }
        }
        let sites = patch
            .site_ids
            .clone()
            .unwrap_or_else(|| before.scope.site_ids.clone());
        let divisions = patch
            .division_ids
            .clone()
            .unwrap_or_else(|| before.scope.division_ids.clone());
        errors.extend(
            self.check_scope_ids(&mut tx, ctx, &sites, &divisions)
                .await?,
        );
        if let Some(name) = &patch.name
            && name.trim().is_empty()
        {
            errors.push(FieldError::new("name", "cannot be empty"));
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        if before.role == "Admin" && role.1 != "Admin" {
            self.ensure_another_admin(&mut tx, ctx, id).await?;
        }
        let now = self.now();
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE memberships SET role_id = $3, site_ids = $4, division_ids = $5, updated_at = $6, version = version + 1 \
             WHERE org_id = $1 AND user_id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .bind(role.0)
        .bind(to_json(&sites))
        .bind(to_json(&divisions))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        if let Some(name) = &patch.name {
            let name_enc = self.keys.encrypt(name.trim(), &name_aad(id))?;
            on_tx!(tx, |c| sqlx::query(
                "UPDATE users SET name_enc = $2, version = version + 1 WHERE id = $1"
            )
            .bind(id)
            .bind(&name_enc)
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        // The audit diff carries roles and scope; a name change is recorded without the name.
        let before_view = serde_json::json!({"role": before.role, "site_ids": before.scope.site_ids, "division_ids": before.scope.division_ids, "name": "(unchanged)"});
        let after_view = serde_json::json!({"role": role.1, "site_ids": sites, "division_ids": divisions, "name": if patch.name.is_some() { "(changed)" } else { "(unchanged)" }});
        self.audit(
            &mut tx,
            AuditEntry::by(ctx, "user.updated", "user", Some(id.to_string()))
                .with_diff(&before_view, &after_view),
        )
        .await?;
        self.event(
            &mut tx,
            ctx,
            "user.updated",
            "user",
            id,
            audit::diff(&before_view, &after_view),
        )
        .await?;
        if role.1 != before.role {
            let change = serde_json::json!({"before": before.role, "after": role.1});
            self.audit(
                &mut tx,
                AuditEntry::by(ctx, "role.changed", "user", Some(id.to_string()))
                    .with_changes(change.clone()),
            )
            .await?;
            self.event(&mut tx, ctx, "role.changed", "user", id, change)
                .await?;
        }
        tx.commit().await?;
        self.cache.invalidate();
        self.get_user(ctx, id).await
    }

    async fn ensure_another_admin(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        leaving: Uuid,
    ) -> Result<(), IdentityError> {
        let admins: i64 = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "SELECT count(*) FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id \
             WHERE m.org_id = $1 AND r.name = 'Admin' AND m.active = $2 AND m.user_id <> $3"
        )
        .bind(ctx.org_id())
        .bind(true)
        .bind(leaving)
        .fetch_one(c)
        .await
        })?;
        if admins == 0 {
            return Err(IdentityError::Conflict(
                "the organisation must keep at least one active Admin".to_owned(),
            ));
        }
        Ok(())
    }

    /// Stops a user from signing in to the caller's organisation; live tokens stop working
    /// on their next request.
    pub async fn deactivate_user(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<User, IdentityError> {
        ctx.authorize("users:manage")?;
        if ctx.actor().user_id() == Some(id) {
            return Err(IdentityError::Conflict(
                "you cannot deactivate yourself".to_owned(),
            ));
        }
        let mut tx = self.db.begin().await?;
        let current: Option<MemberRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{MEMBER_SELECT} WHERE m.org_id = $1 AND m.user_id = $2")
        ))
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(c)
        .await)?;
        let current = current.ok_or(IdentityError::NotFound("user"))?;
        if current.active {
            if current.role_name == "Admin" {
                self.ensure_another_admin(&mut tx, ctx, id).await?;
            }
            let now = self.now();
            on_tx!(tx, |c| {
                sqlx::query("UPDATE memberships SET active = $3, updated_at = $4, version = version + 1 WHERE org_id = $1 AND user_id = $2")
                .bind(ctx.org_id())
                .bind(id)
                .bind(false)
                .bind(now)
                .execute(c)
                .await
                .map(|_| ())
            })?;
            on_tx!(tx, |c| {
                sqlx::query("UPDATE token_families SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .bind(ctx.org_id())
                .bind(id)
                .bind(now)
                .execute(c)
                .await
                .map(|_| ())
            })?;
            let change = serde_json::json!({"active": {"before": true, "after": false}});
            self.audit(
                &mut tx,
                AuditEntry::by(ctx, "user.deactivated", "user", Some(id.to_string()))
                    .with_changes(change.clone()),
            )
            .await?;
            self.event(&mut tx, ctx, "user.deactivated", "user", id, change)
                .await?;
        }
        tx.commit().await?;
        self.cache.invalidate();
        self.get_user(ctx, id).await
    }

    // ---------------------------------------------------------------- roles

    fn role_from_row(row: RoleRow) -> Role {
        Role {
            id: row.id,
            name: row.name,
            description: row.description,
            permissions: json_strings(&row.permissions),
            builtin: row.builtin,
            version: row.version,
        }
    }

    /// Roles of the caller's organisation, built-in first.
    pub async fn list_roles(&self, ctx: &TenantContext) -> Result<Vec<Role>, IdentityError> {
        ctx.authorize("roles:read")?;
        let rows: Vec<RoleRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, description, permissions, builtin, version FROM roles WHERE org_id = $1 ORDER BY builtin DESC, created_at, name"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(Self::role_from_row).collect())
    }

    fn check_permissions(field: &str, permissions: &[String]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if permissions.is_empty() {
            errors.push(FieldError::new(field, "grant at least one permission"));
        }
        for (i, p) in permissions.iter().enumerate() {
            if let Err(reason) = permissions::validate(p) {
                errors.push(FieldError::new(format!("{field}[{i}]"), reason));
            }
        }
        errors
    }

    /// Creates a custom role.
    pub async fn create_role(
        &self,
        ctx: &TenantContext,
        new: NewRole,
    ) -> Result<Role, IdentityError> {
        ctx.authorize("roles:manage")?;
        let mut errors = Self::check_permissions("permissions", &new.permissions);
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        let mut tx = self.db.begin().await?;
        if self
            .role_by_name(&mut tx, ctx.org_id(), &new.name)
            .await?
            .is_some()
        {
            return Err(IdentityError::Conflict(format!(
                "a role named `{}` already exists",
                new.name.trim()
            )));
        }
        let role = Role {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
            description: new.description,
            permissions: new.permissions,
            builtin: false,
            version: 1,
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO roles (org_id, id, name, description, permissions, builtin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(ctx.org_id())
        .bind(role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(to_json(&role.permissions))
        .bind(false)
        .bind(self.now())
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(&role).unwrap_or_default();
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "role.created",
            "role",
            role.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Changes a custom role; holders get the new permissions on their next request.
    pub async fn update_role(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: RolePatch,
        expected: i64,
    ) -> Result<Role, IdentityError> {
        ctx.authorize("roles:manage")?;
        let mut tx = self.db.begin().await?;
        let row: Option<RoleRow> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT id, name, description, permissions, builtin, version FROM roles WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(c)
        .await
        })?;
        let current = Self::role_from_row(row.ok_or(IdentityError::NotFound("role"))?);
        if current.builtin {
            return Err(IdentityError::Conflict(
                "built-in roles cannot be changed; create a custom role instead".to_owned(),
            ));
        }
        if current.version != expected {
            return Err(IdentityError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let mut next = current.clone();
        let mut errors = Vec::new();
        if let Some(name) = &patch.name {
            if name.trim().is_empty() {
                errors.push(FieldError::new("name", "cannot be empty"));
            } else if name.trim() != current.name
                && self
                    .role_by_name(&mut tx, ctx.org_id(), name)
                    .await?
                    .is_some()
            {
                errors.push(FieldError::new(
                    "name",
                    format!("a role named `{}` already exists", name.trim()),
                ));
            }
            next.name = name.trim().to_owned();
        }
        if let Some(description) = patch.description {
            next.description = description;
        }
        if let Some(permissions) = patch.permissions {
            errors.extend(Self::check_permissions("permissions", &permissions));
            next.permissions = permissions;
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        next.version += 1;
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE roles SET name = $3, description = $4, permissions = $5, version = version + 1 WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .bind(&next.name)
        .bind(&next.description)
        .bind(to_json(&next.permissions))
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let before = serde_json::to_value(&current).unwrap_or_default();
        let after = serde_json::to_value(&next).unwrap_or_default();
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "role.updated",
            "role",
            id,
            &before,
            &after,
        )
        .await?;
        tx.commit().await?;
        self.cache.invalidate();
        Ok(next)
    }

    /// Deletes a custom role nobody holds.
    pub async fn delete_role(&self, ctx: &TenantContext, id: Uuid) -> Result<(), IdentityError> {
        ctx.authorize("roles:manage")?;
        let mut tx = self.db.begin().await?;
        let row: Option<RoleRow> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT id, name, description, permissions, builtin, version FROM roles WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(c)
        .await
        })?;
        let row = row.ok_or(IdentityError::NotFound("role"))?;
        if row.builtin {
            return Err(IdentityError::Conflict(
                "built-in roles cannot be deleted".to_owned(),
            ));
        }
        let holders: i64 = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT count(*) FROM memberships WHERE org_id = $1 AND role_id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .fetch_one(c)
        .await)?;
        if holders > 0 {
            return Err(IdentityError::Conflict(format!(
                "{holders} user(s) hold this role; give them another role first"
            )));
        }
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM roles WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
        let before = serde_json::to_value(Self::role_from_row(row)).unwrap_or_default();
        self.audit(
            &mut tx,
            AuditEntry::by(ctx, "role.deleted", "role", Some(id.to_string()))
                .with_diff(&before, &serde_json::Value::Null),
        )
        .await?;
        self.event(
            &mut tx,
            ctx,
            "role.deleted",
            "role",
            id,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.cache.invalidate();
        Ok(())
    }

    // ---------------------------------------------------------------- API keys

    fn key_from_row(row: ApiKeyRow) -> ApiKey {
        ApiKey {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            permissions: json_strings(&row.permissions),
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            created_at: row.created_at,
        }
    }

    /// Issues an API key with a subset of the caller's permissions; the secret is in the
    /// answer only.
    pub async fn create_api_key(
        &self,
        ctx: &TenantContext,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, IdentityError> {
        ctx.authorize("api_keys:manage")?;
        let mut errors = Self::check_permissions("permissions", &new.permissions);
        for (i, p) in new.permissions.iter().enumerate() {
            if permissions::validate(p).is_ok() && !ctx.can(p) {
                errors.push(FieldError::new(
                    format!("permissions[{i}]"),
                    format!("you do not hold `{p}` yourself"),
                ));
            }
        }
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if new.expires_at.is_some_and(|t| t <= self.now()) {
            errors.push(FieldError::new("expires_at", "must be in the future"));
        }
        if !errors.is_empty() {
            return Err(IdentityError::Validation(errors));
        }
        let (prefix, secret) = tokens::new_api_key();
        let key = ApiKey {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
            prefix,
            permissions: new.permissions,
            expires_at: new.expires_at,
            last_used_at: None,
            revoked_at: None,
            created_at: self.now(),
        };
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO api_keys (org_id, id, name, prefix, secret_hash, permissions, expires_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(ctx.org_id())
        .bind(key.id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(tokens::secret_hash(&secret))
        .bind(to_json(&key.permissions))
        .bind(key.expires_at)
        .bind(ctx.actor().user_id())
        .bind(key.created_at)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(&key).unwrap_or_default();
        self.audit(
            &mut tx,
            AuditEntry::by(ctx, "api_key.created", "api_key", Some(key.id.to_string()))
                .with_diff(&serde_json::Value::Null, &after),
        )
        .await?;
        self.event(
            &mut tx,
            ctx,
            "api_key.created",
            "api_key",
            key.id,
            serde_json::json!({"name": key.name, "permissions": key.permissions}),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// The organisation's API keys.
    pub async fn list_api_keys(&self, ctx: &TenantContext) -> Result<Vec<ApiKey>, IdentityError> {
        ctx.authorize("api_keys:manage")?;
        let rows: Vec<ApiKeyRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT org_id, id, name, prefix, secret_hash, permissions, expires_at, last_used_at, revoked_at, created_at \
             FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(Self::key_from_row).collect())
    }

    /// Revokes an API key at once.
    pub async fn revoke_api_key(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<ApiKey, IdentityError> {
        ctx.authorize("api_keys:manage")?;
        let mut tx = self.db.begin().await?;
        let now = self.now();
        let changed = on_tx!(tx, |c| {
            sqlx::query("UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
            .bind(ctx.org_id())
            .bind(id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        let row: Option<ApiKeyRow> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT org_id, id, name, prefix, secret_hash, permissions, expires_at, last_used_at, revoked_at, created_at \
             FROM api_keys WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(c)
        .await
        })?;
        let key = Self::key_from_row(row.ok_or(IdentityError::NotFound("API key"))?);
        if changed > 0 {
            self.audit(
                &mut tx,
                AuditEntry::by(ctx, "api_key.revoked", "api_key", Some(id.to_string()))
                    .with_changes(serde_json::json!({"name": key.name})),
            )
            .await?;
            self.event(
                &mut tx,
                ctx,
                "api_key.revoked",
                "api_key",
                id,
                serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        self.cache.invalidate();
        Ok(key)
    }

    // ---------------------------------------------------------------- audit

    /// The organisation's audit trail, newest first.
    pub async fn list_audit(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<audit::AuditRow>, IdentityError> {
        ctx.authorize("audit:read")?;
        let plan = AUDIT_LIST
            .plan(query, &[])
            .map_err(|p| IdentityError::Validation(p.errors))?;
        let sql = plan.sql(2);
        let text = format!(
            "SELECT seq, id, org_id, occurred_at, actor, action, entity_type, entity_id, changes, ip, user_agent, request_id, prev_hash, hash \
             FROM audit_log WHERE org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<audit::AuditRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows))
    }

    // ---------------------------------------------------------------- sign-in

    async fn locked_for(&self, email_index: &str) -> Result<Option<u64>, IdentityError> {
        let until: Option<DateTime<Utc>> = on_pool!(self.db, |p| sqlx::query_scalar(
            "SELECT locked_until FROM account_lockouts WHERE email_index = $1"
        )
        .bind(email_index)
        .fetch_optional(p)
        .await)?;
        let now = self.now();
        Ok(until
            .filter(|t| *t > now)
            .map(|t| (t - now).num_seconds().max(1) as u64))
    }

    async fn user_orgs(&self, user: Uuid) -> Result<Vec<OrgChoice>, IdentityError> {
        #[derive(FromRow)]
        struct Row {
            id: Uuid,
            name: String,
        }
        let rows: Vec<Row> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT o.id, o.name FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1 AND m.active = $2 ORDER BY o.name"
        )
        .bind(user)
        .bind(true)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| OrgChoice {
                id: r.id,
                name: r.name,
            })
            .collect())
    }

    /// Records a failed sign-in and locks the account when the threshold is reached.
    async fn record_failure(
        &self,
        email_index: &str,
        user: Option<Uuid>,
        reason: &str,
        meta: &RequestMeta,
    ) -> Result<IdentityError, IdentityError> {
        let now = self.now();
        let orgs = match user {
            Some(u) => self.user_orgs(u).await?,
            None => Vec::new(),
        };
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO login_failures (email_index, failed_at) VALUES ($1, $2)"
        )
        .bind(email_index)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))?;
        let recent: i64 = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT count(*) FROM login_failures WHERE email_index = $1 AND failed_at > $2"
        )
        .bind(email_index)
        .bind(now - self.settings.lockout_window)
        .fetch_one(c)
        .await)?;
        let locked = recent >= self.settings.lockout_threshold;
        if locked {
            on_tx!(tx, |c| sqlx::query(
                "INSERT INTO account_lockouts (email_index, locked_until) VALUES ($1, $2) \
                 ON CONFLICT (email_index) DO UPDATE SET locked_until = excluded.locked_until"
            )
            .bind(email_index)
            .bind(now + self.settings.lockout_duration)
            .execute(c)
            .await
            .map(|_| ()))?;
            on_tx!(tx, |c| sqlx::query(
                "DELETE FROM login_failures WHERE email_index = $1"
            )
            .bind(email_index)
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        // Security events go to each organisation the account belongs to, or to the
        // server-wide chain (nil organisation) for unknown accounts.
        let chains: Vec<Uuid> = if orgs.is_empty() {
            vec![Uuid::nil()]
        } else {
            orgs.iter().map(|o| o.id).collect()
        };
        for org in chains {
            let entry = |action: &str, changes: serde_json::Value| AuditEntry {
                org_id: org,
                actor: user.map_or_else(|| "anonymous".to_owned(), |u| format!("user:{u}")),
                action: action.to_owned(),
                entity_type: "user".to_owned(),
                entity_id: user.map(|u| u.to_string()),
                changes,
                request: meta.clone(),
            };
            self.audit(
                &mut tx,
                entry(
                    "auth.login_failed",
                    serde_json::json!({"reason": reason, "recent_failures": recent}),
                ),
            )
            .await?;
            if locked {
                let minutes = self.settings.lockout_duration.num_minutes();
                self.audit(
                    &mut tx,
                    entry(
                        "auth.lockout",
                        serde_json::json!({"locked_minutes": minutes}),
                    ),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(if locked {
            IdentityError::Locked {
                retry_after_secs: self.settings.lockout_duration.num_seconds().max(1) as u64,
            }
        } else {
            IdentityError::InvalidCredentials
        })
    }

    /// Signs in with email and password (and TOTP when enrolled).
    pub async fn login(
        &self,
        request: LoginRequest,
        meta: &RequestMeta,
    ) -> Result<TokenPair, IdentityError> {
        let email_index = self.keys.email_index(&request.email);
        if let Some(retry_after_secs) = self.locked_for(&email_index).await? {
            return Err(IdentityError::Locked { retry_after_secs });
        }
        let user: Option<UserRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, password_hash, totp_secret_enc, totp_enabled FROM users WHERE email_index = $1"
        )
        .bind(&email_index)
        .fetch_optional(p)
        .await
        })?;
        let Some(user) = user else {
            // Same cost as a wrong password, so timing does not reveal unknown emails.
            password::dummy_verify(Secret::new(request.password.clone())).await;
            return Err(self
                .record_failure(&email_index, None, "unknown account", meta)
                .await?);
        };
        if !password::verify_password(
            Secret::new(request.password.clone()),
            user.password_hash.clone(),
        )
        .await
        {
            return Err(self
                .record_failure(&email_index, Some(user.id), "wrong password", meta)
                .await?);
        }
        let orgs = self.user_orgs(user.id).await?;
        let org = match (&request.org, orgs.as_slice()) {
            (_, []) => {
                return Err(self
                    .record_failure(&email_index, Some(user.id), "no active membership", meta)
                    .await?);
            }
            (Some(wanted), _) => {
                let wanted = wanted.trim().to_lowercase();
                let found = match self.find_org(&wanted).await? {
                    Some(o) => orgs.iter().find(|m| m.id == o.id).cloned(),
                    None => None,
                };
                match found {
                    Some(o) => o,
                    None => {
                        return Err(self
                            .record_failure(
                                &email_index,
                                Some(user.id),
                                "not a member of the requested organisation",
                                meta,
                            )
                            .await?);
                    }
                }
            }
            (None, [only]) => only.clone(),
            (None, _) => return Err(IdentityError::OrgRequired { orgs }),
        };
        if user.totp_enabled {
            let Some(code) = request
                .totp_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            else {
                return Err(IdentityError::TotpRequired);
            };
            if !self.check_second_factor(&user, code).await? {
                return Err(self
                    .record_failure(&email_index, Some(user.id), "wrong TOTP code", meta)
                    .await?);
            }
        }
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM login_failures WHERE email_index = $1"
        )
        .bind(&email_index)
        .execute(c)
        .await
        .map(|_| ()))?;
        let family = Uuid::now_v7();
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO token_families (id, org_id, user_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(family)
        .bind(org.id)
        .bind(user.id)
        .bind(self.now())
        .execute(c)
        .await
        .map(|_| ()))?;
        let pair = self.issue_tokens(&mut tx, org.id, user.id, family).await?;
        self.audit(
            &mut tx,
            AuditEntry {
                org_id: org.id,
                actor: format!("user:{}", user.id),
                action: "auth.login".to_owned(),
                entity_type: "user".to_owned(),
                entity_id: Some(user.id.to_string()),
                changes: serde_json::json!({"second_factor": user.totp_enabled}),
                request: meta.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(pair)
    }

    async fn check_second_factor(&self, user: &UserRow, code: &str) -> Result<bool, IdentityError> {
        let Some(secret) = &user.totp_secret_enc else {
            return Ok(false);
        };
        let secret = Secret::new(self.keys.decrypt(secret, &totp_aad(user.id))?);
        let now = self.now().timestamp().max(0) as u64;
        if totp::verify(&secret, code, now) {
            return Ok(true);
        }
        // A recovery code works once.
        let used = on_pool!(self.db, |p| {
            sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
        )
        .bind(user.id)
        .bind(totp::hash_recovery_code(code))
        .bind(self.now())
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(used == 1)
    }

    async fn issue_tokens(
        &self,
        tx: &mut Tx,
        org: Uuid,
        user: Uuid,
        family: Uuid,
    ) -> Result<TokenPair, IdentityError> {
        let now = self.now();
        let claims = AccessClaims {
            sub: user,
            org,
            fam: family,
            iat: now.timestamp(),
            exp: (now + self.settings.access_ttl).timestamp(),
        };
        let refresh = tokens::new_refresh_token();
        on_tx!(tx, |c| {
            sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(tokens::secret_hash(&refresh))
            .bind(family)
            .bind(now)
            .bind(now + self.settings.refresh_ttl)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        Ok(TokenPair {
            access_token: tokens::sign_access(&claims, self.keys.jwt_secret()),
            refresh_token: refresh,
            token_type: "Bearer".to_owned(),
            expires_in: self.settings.access_ttl.num_seconds(),
        })
    }

    /// Exchanges a refresh token for new tokens. A token used twice revokes its whole
    /// session (someone else has a copy).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        meta: &RequestMeta,
    ) -> Result<TokenPair, IdentityError> {
        #[derive(FromRow)]
        struct Row {
            family_id: Uuid,
            expires_at: DateTime<Utc>,
            used_at: Option<DateTime<Utc>>,
            org_id: Uuid,
            user_id: Uuid,
            revoked_at: Option<DateTime<Utc>>,
        }
        let invalid = || {
            IdentityError::Unauthenticated(
                "the refresh token is invalid or expired; sign in again".to_owned(),
            )
        };
        let hash = tokens::secret_hash(refresh_token.trim());
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row: Option<Row> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT t.family_id, t.expires_at, t.used_at, f.org_id, f.user_id, f.revoked_at \
             FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(c)
        .await
        })?;
        let row = row.ok_or_else(invalid)?;
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Err(invalid());
        }
        // Claim the token atomically: only one of two concurrent uses can succeed.
        let claimed = on_tx!(tx, |c| sqlx::query(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL"
        )
        .bind(&hash)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if row.used_at.is_some() || claimed == 0 {
            on_tx!(tx, |c| sqlx::query(
                "UPDATE token_families SET revoked_at = $2 WHERE id = $1"
            )
            .bind(row.family_id)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
            self.audit(
                &mut tx,
                AuditEntry {
                    org_id: row.org_id,
                    actor: format!("user:{}", row.user_id),
                    action: "auth.refresh_reuse".to_owned(),
                    entity_type: "user".to_owned(),
                    entity_id: Some(row.user_id.to_string()),
                    changes: serde_json::json!({"family": row.family_id, "revoked": true}),
                    request: meta.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            self.cache.invalidate();
            return Err(IdentityError::TokenReused);
        }
        let active: Option<bool> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT active FROM memberships WHERE org_id = $1 AND user_id = $2"
        )
        .bind(row.org_id)
        .bind(row.user_id)
        .fetch_optional(c)
        .await)?;
        if active != Some(true) {
            return Err(invalid());
        }
        let pair = self
            .issue_tokens(&mut tx, row.org_id, row.user_id, row.family_id)
            .await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Ends the session a refresh token belongs to (its access tokens stop working too).
    pub async fn logout(
        &self,
        refresh_token: &str,
        meta: &RequestMeta,
    ) -> Result<(), IdentityError> {
        #[derive(FromRow)]
        struct Row {
            family_id: Uuid,
            org_id: Uuid,
            user_id: Uuid,
        }
        let hash = tokens::secret_hash(refresh_token.trim());
        let mut tx = self.db.begin().await?;
        let row: Option<Row> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT t.family_id, f.org_id, f.user_id FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(c)
        .await
        })?;
        // Logging out twice, or with an unknown token, is not an error worth revealing.
        if let Some(row) = row {
            on_tx!(tx, |c| sqlx::query(
                "UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
            )
            .bind(row.family_id)
            .bind(self.now())
            .execute(c)
            .await
            .map(|_| ()))?;
            self.audit(
                &mut tx,
                AuditEntry {
                    org_id: row.org_id,
                    actor: format!("user:{}", row.user_id),
                    action: "auth.logout".to_owned(),
                    entity_type: "user".to_owned(),
                    entity_id: Some(row.user_id.to_string()),
                    changes: serde_json::Value::Null,
                    request: meta.clone(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.cache.invalidate();
        Ok(())
    }

    /// Turns a bearer credential (access JWT or API key) into the caller's context. Runs on
    /// every authenticated request, so the membership, role and session are read fresh:
    /// deactivation, role changes and logout apply to the very next request.
    pub async fn authenticate(
        &self,
        bearer: &str,
        request: RequestMeta,
    ) -> Result<TenantContext, IdentityError> {
        if let Some(prefix) = tokens::api_key_prefix(bearer) {
            return self.authenticate_key(prefix, bearer, request).await;
        }
        let claims = tokens::verify_access(bearer, self.keys.jwt_secret(), self.now())
            .map_err(|e| IdentityError::Unauthenticated(e.to_string()))?;
        let key = (claims.org, claims.sub, claims.fam);
        let grant = match self.cache.session(key) {
            Some(grant) => grant,
            None => {
                let generation = self.cache.generation();
                let row: Option<AuthRow> = on_pool!(self.db, |p| {
                    sqlx::query_as(
                    "SELECT r.name AS role_name, r.permissions, m.site_ids, m.division_ids \
                     FROM memberships m \
                     JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id \
                     JOIN token_families f ON f.id = $3 AND f.user_id = m.user_id AND f.org_id = m.org_id \
                     WHERE m.org_id = $1 AND m.user_id = $2 AND m.active = $4 AND f.revoked_at IS NULL"
                )
                .bind(claims.org)
                .bind(claims.sub)
                .bind(claims.fam)
                .bind(true)
                .fetch_optional(p)
                .await
                })?;
                let row = row.ok_or_else(|| {
                    IdentityError::Unauthenticated(
                        "the session has ended; sign in again".to_owned(),
                    )
                })?;
                let grant = SessionGrant {
                    role: row.role_name,
                    permissions: PermissionSet::new(json_strings(&row.permissions)),
                    scope: Scope {
                        site_ids: json_ids(&row.site_ids),
                        division_ids: json_ids(&row.division_ids),
                    },
                };
                self.cache.store_session(key, grant.clone(), generation);
                grant
            }
        };
        Ok(TenantContext::new(TenantContextInner {
            org_id: claims.org,
            actor: Actor::User(claims.sub),
            role: grant.role,
            permissions: grant.permissions,
            scope: grant.scope,
            request,
        }))
    }

    async fn authenticate_key(
        &self,
        prefix: &str,
        secret: &str,
        request: RequestMeta,
    ) -> Result<TenantContext, IdentityError> {
        let invalid = || {
            IdentityError::Unauthenticated("the API key is invalid, expired or revoked".to_owned())
        };
        // Taken before any read: whatever is stored below is stale if an invalidation
        // happens meanwhile.
        let generation = self.cache.generation();
        let grant = match self.cache.key(prefix) {
            Some(grant) => grant,
            None => {
                let row: Option<ApiKeyRow> = on_pool!(self.db, |p| {
                    sqlx::query_as(
                    "SELECT org_id, id, name, prefix, secret_hash, permissions, expires_at, last_used_at, revoked_at, created_at \
                     FROM api_keys WHERE prefix = $1"
                )
                .bind(prefix)
                .fetch_optional(p)
                .await
                })?;
                let row = row.ok_or_else(invalid)?;
                let grant = KeyGrant {
                    org_id: row.org_id,
                    id: row.id,
                    name: row.name,
                    secret_hash: row.secret_hash,
                    permissions: PermissionSet::new(json_strings(&row.permissions)),
                    expires_at: row.expires_at,
                    revoked: row.revoked_at.is_some(),
                    last_used_at: row.last_used_at,
                };
                self.cache.store_key(prefix, grant.clone(), generation);
                grant
            }
        };
        let now = self.now();
        if !constant_time_eq(
            grant.secret_hash.as_bytes(),
            tokens::secret_hash(secret).as_bytes(),
        ) || grant.revoked
            || grant.expires_at.is_some_and(|t| t <= now)
        {
            return Err(invalid());
        }
        // Last use is informational: written at most once a minute per key (and per cache
        // entry), so a busy integration does not turn every read into a write.
        if grant
            .last_used_at
            .is_none_or(|t| now - t > Duration::seconds(60))
        {
            on_pool!(self.db, |p| {
                sqlx::query(
                "UPDATE api_keys SET last_used_at = $3 WHERE org_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)"
            )
            .bind(grant.org_id)
            .bind(grant.id)
            .bind(now)
            .bind(now - Duration::seconds(60))
            .execute(p)
            .await
            .map(|_| ())
            })?;
            let mut refreshed = grant.clone();
            refreshed.last_used_at = Some(now);
            self.cache.store_key(prefix, refreshed, generation);
        }
        Ok(TenantContext::new(TenantContextInner {
            org_id: grant.org_id,
            actor: Actor::ApiKey(grant.id),
            role: format!("API key {}", grant.name),
            permissions: grant.permissions,
            scope: Scope::default(),
            request,
        }))
    }

    /// The caller as they see themselves.
    pub async fn me(&self, ctx: &TenantContext) -> Result<Me, IdentityError> {
        let org = self
            .find_org(&ctx.org_id().to_string())
            .await?
            .ok_or(IdentityError::NotFound("organisation"))?;
        let user = match ctx.actor().user_id() {
            Some(id) => {
                let row = self
                    .member_row(ctx.org_id(), id)
                    .await?
                    .ok_or(IdentityError::NotFound("user"))?;
                Some(UserSummary {
                    id,
                    email: self.keys.decrypt(&row.email_enc, &email_aad(id))?,
                    name: self.keys.decrypt(&row.name_enc, &name_aad(id))?,
                    totp_enabled: row.totp_enabled,
                })
            }
            None => None,
        };
        Ok(Me {
            principal: if user.is_some() { "user" } else { "api_key" }.to_owned(),
            user,
            org,
            role: ctx.role().to_owned(),
            permissions: ctx.permissions().sorted(),
            scope: ctx.scope().clone(),
        })
    }

    // ---------------------------------------------------------------- TOTP

    /// Starts TOTP enrolment for the signed-in user: a new secret, not yet required.
    pub async fn totp_enroll(&self, ctx: &TenantContext) -> Result<TotpEnrollment, IdentityError> {
        let user =
            ctx.actor()
                .user_id()
                .ok_or(IdentityError::Forbidden(kernel::tenancy::Forbidden {
                    permission: "a user session (API keys have no second factor)".to_owned(),
                }))?;
        let me = self.me(ctx).await?;
        let email = me.user.map(|u| u.email).unwrap_or_default();
        let secret = totp::generate_secret();
        let uri = totp::otpauth_uri(&secret, &email, totp::DEFAULT_ISSUER)?;
        let secret_enc = self.keys.encrypt(secret.expose(), &totp_aad(user))?;
        on_pool!(self.db, |p| sqlx::query(
            "UPDATE users SET totp_secret_enc = $2 WHERE id = $1 AND totp_enabled = $3"
        )
        .bind(user)
        .bind(&secret_enc)
        .bind(false)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(TotpEnrollment {
            secret: secret.expose().clone(),
            otpauth_uri: uri,
        })
    }

    /// Confirms enrolment with a first code; from then on sign-in needs a code. Returns
    /// one-time recovery codes.
    pub async fn totp_confirm(
        &self,
        ctx: &TenantContext,
        code: &str,
    ) -> Result<RecoveryCodes, IdentityError> {
        let user = ctx
            .actor()
            .user_id()
            .ok_or(IdentityError::NotFound("user"))?;
        let row: Option<UserRow> = on_pool!(self.db, |p| sqlx::query_as(
            "SELECT id, password_hash, totp_secret_enc, totp_enabled FROM users WHERE id = $1"
        )
        .bind(user)
        .fetch_optional(p)
        .await)?;
        let row = row.ok_or(IdentityError::NotFound("user"))?;
        let Some(secret) = &row.totp_secret_enc else {
            return Err(IdentityError::Conflict(
                "start with POST /api/v1/auth/totp/enroll".to_owned(),
            ));
        };
        let secret = Secret::new(self.keys.decrypt(secret, &totp_aad(user))?);
        if !totp::verify(&secret, code.trim(), self.now().timestamp().max(0) as u64) {
            return Err(IdentityError::field(
                "code",
                "does not match; check the time on your device",
            ));
        }
        let codes = totp::generate_recovery_codes(10);
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "UPDATE users SET totp_enabled = $2, version = version + 1 WHERE id = $1"
        )
        .bind(user)
        .bind(true)
        .execute(c)
        .await
        .map(|_| ()))?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM recovery_codes WHERE user_id = $1"
        )
        .bind(user)
        .execute(c)
        .await
        .map(|_| ()))?;
        for code in &codes {
            on_tx!(tx, |c| sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)"
            )
            .bind(user)
            .bind(totp::hash_recovery_code(code.expose()))
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        self.audit(
            &mut tx,
            AuditEntry::by(ctx, "auth.totp_enabled", "user", Some(user.to_string())),
        )
        .await?;
        tx.commit().await?;
        Ok(RecoveryCodes {
            recovery_codes: codes.iter().map(|c| c.expose().clone()).collect(),
        })
    }

    // ---------------------------------------------------------------- operators (CLI)

    /// Every user of an organisation, unmasked (operators' CLI).
    pub async fn operator_list_users(&self, org: Uuid) -> Result<Vec<User>, IdentityError> {
        let ctx = TenantContext::system(org);
        let page = self
            .list_users(
                &ctx,
                &BTreeMap::from([("limit".to_owned(), "200".to_owned())]),
            )
            .await?;
        Ok(page.data)
    }

    /// Finds a member of `org` by email.
    pub async fn find_member_by_email(
        &self,
        org: Uuid,
        email: &str,
    ) -> Result<Option<Uuid>, IdentityError> {
        let index = self.keys.email_index(email);
        Ok(on_pool!(self.db, |p| {
            sqlx::query_scalar(
            "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email_index = $2"
        )
        .bind(org)
        .bind(&index)
        .fetch_optional(p)
        .await
        })?)
    }

    /// Re-encrypts every user field not under the current data key, in batches; returns
    /// how many values were rewritten.
    pub async fn rotate_pii(
        &self,
        batch: i64,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, IdentityError> {
        #[derive(FromRow)]
        struct Row {
            id: Uuid,
            email_enc: String,
            name_enc: String,
            totp_secret_enc: Option<String>,
        }
        let mut rewritten = 0u64;
        let mut after = Uuid::nil();
        loop {
            let rows: Vec<Row> = on_pool!(self.db, |p| {
                sqlx::query_as(
                "SELECT id, email_enc, name_enc, totp_secret_enc FROM users WHERE id > $1 ORDER BY id LIMIT $2"
            )
            .bind(after)
            .bind(batch)
            .fetch_all(p)
            .await
            })?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.id;
            let mut tx = self.db.begin().await?;
            for row in &rows {
                let ring = self.keys.ring();
                let rotate = |value: &str, aad: String| {
                    ring.rotate(value, aad.as_bytes())
                        .map_err(|e| IdentityError::Crypto(e.to_string()))
                };
                let email = rotate(&row.email_enc, email_aad(row.id))?;
                let name = rotate(&row.name_enc, name_aad(row.id))?;
                let totp_secret = match &row.totp_secret_enc {
                    Some(v) => rotate(v, totp_aad(row.id))?,
                    None => None,
                };
                let changed = [email.is_some(), name.is_some(), totp_secret.is_some()]
                    .iter()
                    .filter(|c| **c)
                    .count() as u64;
                if changed == 0 {
                    continue;
                }
                on_tx!(tx, |c| {
                    sqlx::query("UPDATE users SET email_enc = $2, name_enc = $3, totp_secret_enc = $4 WHERE id = $1")
                    .bind(row.id)
                    .bind(email.unwrap_or_else(|| row.email_enc.clone()))
                    .bind(name.unwrap_or_else(|| row.name_enc.clone()))
                    .bind(totp_secret.or_else(|| row.totp_secret_enc.clone()))
                    .execute(c)
                    .await
                    .map(|_| ())
                })?;
                rewritten += changed;
            }
            tx.commit().await?;
            progress(rewritten);
        }
        Ok(rewritten)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_emails() {
        assert_eq!(
            slugify("  Acme Sugar & Power Ltd. "),
            "acme-sugar-power-ltd"
        );
        assert_eq!(slugify("!!!"), "");
        assert!(valid_email("ann@acme.com"));
        assert!(!valid_email("ann@acme"));
        assert!(!valid_email("ann acme.com"));
        assert!(!valid_email("a b@acme.com"));
    }

    #[test]
    fn versions_come_from_body_or_header() {
        assert_eq!(expected_version(Some(3), None).expect("body"), 3);
        assert_eq!(expected_version(None, Some(4)).expect("header"), 4);
        assert!(expected_version(None, None).is_err());
    }
}
