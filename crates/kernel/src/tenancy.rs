//! The tenancy context: who is calling, for which organisation, with which permissions and
//! within which sites/divisions. The authentication layer builds it below the handlers and
//! puts it in the request; a handler that asks for a [`TenantContext`] cannot run without
//! one (401), and every tenant query binds [`TenantContext::org_id`].

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::{ErrorCode, Problem};

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user.
    User(Uuid),
    /// An integration calling with an API key.
    ApiKey(Uuid),
    /// The server itself (jobs, CLI).
    System,
}

impl Actor {
    /// `user:<id>`, `api_key:<id>` or `system`: the form used in audit rows and events.
    pub fn label(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::ApiKey(id) => format!("api_key:{id}"),
            Actor::System => "system".to_owned(),
        }
    }

    /// The user id, when a user acts.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User(id) => Some(*id),
            _ => None,
        }
    }
}

/// Permissions as `resource:action` strings; `*` grants everything, `resource:*` every
/// action on a resource. Cheap to clone (shared), since one is built per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(Arc<HashSet<String>>);

impl PermissionSet {
    /// From a list of permission strings.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Self(Arc::new(permissions.into_iter().map(Into::into).collect()))
    }

    /// Whether `permission` (`resource:action`) is granted.
    pub fn allows(&self, permission: &str) -> bool {
        if self.0.contains("*") || self.0.contains(permission) {
            return true;
        }
        match permission.split_once(':') {
            Some((resource, _)) => self.0.contains(&format!("{resource}:*")),
            None => false,
        }
    }

    /// The granted permissions, sorted.
    pub fn sorted(&self) -> Vec<String> {
        let mut list: Vec<String> = self.0.iter().cloned().collect();
        list.sort();
        list
    }

    /// Keeps only what `other` also allows (an API key never exceeds its creator's role).
    pub fn intersect(&self, other: &PermissionSet) -> PermissionSet {
        PermissionSet::new(self.0.iter().filter(|p| other.allows(p)).cloned())
    }
}

/// Sites and divisions a role assignment is limited to; empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    /// Allowed sites (empty = every site).
    pub site_ids: Vec<Uuid>,
    /// Allowed divisions (empty = every division).
    pub division_ids: Vec<Uuid>,
}

impl Scope {
    /// Whether a record at `site` (None = not tied to a site) is within scope.
    pub fn allows_site(&self, site: Option<Uuid>) -> bool {
        self.site_ids.is_empty() || site.is_some_and(|s| self.site_ids.contains(&s))
    }

    /// Whether a record of `division` is within scope.
    pub fn allows_division(&self, division: Option<Uuid>) -> bool {
        self.division_ids.is_empty() || division.is_some_and(|d| self.division_ids.contains(&d))
    }

    /// Whether the scope restricts anything.
    pub fn is_unrestricted(&self) -> bool {
        self.site_ids.is_empty() && self.division_ids.is_empty()
    }
}

/// Where a request came from, for audit rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// Client IP.
    pub ip: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// `x-request-id`.
    pub request_id: Option<String>,
}

/// Everything a service needs to know about the caller.
#[derive(Debug)]
pub struct TenantContextInner {
    /// The organisation every query is scoped to.
    pub org_id: Uuid,
    /// Who acts.
    pub actor: Actor,
    /// Role name (for display; permissions decide).
    pub role: String,
    /// Effective permissions.
    pub permissions: PermissionSet,
    /// Site/division limits.
    pub scope: Scope,
    /// Request origin.
    pub request: RequestMeta,
}

/// The caller's tenancy context (cheap to clone).
#[derive(Debug, Clone)]
pub struct TenantContext(Arc<TenantContextInner>);

/// A permission the caller lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing permission {permission}")]
pub struct Forbidden {
    /// The permission that was required.
    pub permission: String,
}

impl From<Forbidden> for Problem {
    fn from(denied: Forbidden) -> Self {
        Problem::new(ErrorCode::Forbidden).with_detail(format!(
            "this action needs the permission {}",
            denied.permission
        ))
    }
}

impl TenantContext {
    /// Builds a context (the authentication layer does this).
    pub fn new(inner: TenantContextInner) -> Self {
        Self(Arc::new(inner))
    }

    /// A context for the server itself acting in `org_id` (CLI, jobs): every permission.
    pub fn system(org_id: Uuid) -> Self {
        Self::new(TenantContextInner {
            org_id,
            actor: Actor::System,
            role: "System".to_owned(),
            permissions: PermissionSet::new(["*"]),
            scope: Scope::default(),
            request: RequestMeta::default(),
        })
    }

    /// The organisation.
    pub fn org_id(&self) -> Uuid {
        self.0.org_id
    }

    /// Who acts.
    pub fn actor(&self) -> Actor {
        self.0.actor
    }

    /// Role name.
    pub fn role(&self) -> &str {
        &self.0.role
    }

    /// Effective permissions.
    pub fn permissions(&self) -> &PermissionSet {
        &self.0.permissions
    }

    /// Site/division limits.
    pub fn scope(&self) -> &Scope {
        &self.0.scope
    }

    /// Request origin.
    pub fn request(&self) -> &RequestMeta {
        &self.0.request
    }

    /// Whether `permission` is granted.
    pub fn can(&self, permission: &str) -> bool {
        self.0.permissions.allows(permission)
    }

    /// Record rule for owned records ("own records only"): `Ok` when the caller holds
    /// `permission` outright (e.g. `deals:update`), or holds its `:own` form
    /// (`deals:update:own`) and `owner` is the calling user. Modules check site/division
    /// scope separately with [`Scope`].
    pub fn authorize_owned(&self, permission: &str, owner: Option<Uuid>) -> Result<(), Forbidden> {
        if self.can(permission) {
            return Ok(());
        }
        let own = format!("{permission}:own");
        let is_owner = owner.is_some() && owner == self.actor().user_id();
        if is_owner && self.0.permissions.0.contains(own.as_str()) {
            return Ok(());
        }
        Err(Forbidden {
            permission: if self.0.permissions.0.contains(own.as_str()) {
                format!("{permission} (you may only change records you own)")
            } else {
                permission.to_owned()
            },
        })
    }

    /// `Ok` when `permission` is granted, else [`Forbidden`] (→ 403 + an audit row).
    pub fn authorize(&self, permission: &str) -> Result<(), Forbidden> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Forbidden {
                permission: permission.to_owned(),
            })
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantContext {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TenantContext>()
            .cloned()
            .ok_or_else(|| {
                Problem::new(ErrorCode::Unauthorized)
                    .with_detail("sign in, or send an API key as `Authorization: Bearer <key>`")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let set = PermissionSet::new(["deals:*", "contacts:read"]);
        assert!(set.allows("deals:update"));
        assert!(set.allows("contacts:read"));
        assert!(!set.allows("contacts:update"));
        assert!(!set.allows("users:manage"));
        assert!(PermissionSet::new(["*"]).allows("anything:at_all"));
        let key = PermissionSet::new(["contacts:read", "users:manage"]);
        assert_eq!(key.intersect(&set).sorted(), vec!["contacts:read"]);
    }

    #[test]
    fn scope() {
        let site = Uuid::now_v7();
        let other = Uuid::now_v7();
        let limited = Scope {
            site_ids: vec![site],
            division_ids: vec![],
        };
        assert!(limited.allows_site(Some(site)));
        assert!(!limited.allows_site(Some(other)));
        assert!(!limited.allows_site(None));
        assert!(limited.allows_division(None));
        assert!(Scope::default().allows_site(Some(other)));
    }

    #[test]
    fn own_records_rule() {
        let me = Uuid::now_v7();
        let someone = Uuid::now_v7();
        let rep = TenantContext::new(TenantContextInner {
            org_id: Uuid::nil(),
            actor: Actor::User(me),
            role: "Sales Rep".to_owned(),
            permissions: PermissionSet::new(["deals:read", "deals:update:own"]),
            scope: Scope::default(),
            request: RequestMeta::default(),
        });
        assert!(rep.authorize_owned("deals:update", Some(me)).is_ok());
        let denied = rep
            .authorize_owned("deals:update", Some(someone))
            .expect_err("not theirs");
        assert!(denied.permission.contains("only change records you own"));
        assert!(rep.authorize_owned("deals:update", None).is_err());
        assert!(
            rep.authorize_owned("deals:delete", Some(me)).is_err(),
            "no delete:own granted"
        );
        let manager = TenantContext::new(TenantContextInner {
            org_id: Uuid::nil(),
            actor: Actor::User(someone),
            role: "Manager".to_owned(),
            permissions: PermissionSet::new(["deals:*"]),
            scope: Scope::default(),
            request: RequestMeta::default(),
        });
        assert!(manager.authorize_owned("deals:update", Some(me)).is_ok());
    }

    #[test]
    fn system_context_can_everything() {
        let ctx = TenantContext::system(Uuid::nil());
        assert!(ctx.authorize("users:manage").is_ok());
        assert_eq!(ctx.actor().label(), "system");
    }
}
