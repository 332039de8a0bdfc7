//! HTTP routes of identity: parse, call the service, map the result. Authentication and the
//! tenancy context come from the layer below (the server's auth middleware); permission
//! checks live in the service.

use std::collections::BTreeMap;

use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use kernel::audit::AuditRow;
use kernel::list::{Page, Single};
use kernel::tenancy::RequestMeta;
use kernel::{ApiJson, IdPath, IfMatch, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service::{Identity, expected_version};

type ApiResult<T> = Result<T, Problem>;

/// Every identity route, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(check))
        .routes(routes!(totp_enroll))
        .routes(routes!(totp_confirm))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(update_role, delete_role))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
        .routes(routes!(current_org))
        .routes(routes!(create_site))
        .routes(routes!(create_division))
        .routes(routes!(list_audit))
        .routes(routes!(permission_catalogue))
}

/// The permission catalogue: every resource and action a role or API key may grant
/// (`resource:action`, `resource:*`, `resource:action:own`, or `*`).
#[utoipa::path(get, path = "/api/v1/permissions", tag = "roles", responses((status = 200, body = Single<PermissionCatalogue>)))]
async fn permission_catalogue(_ctx: TenantContext) -> Json<Single<PermissionCatalogue>> {
    Json(Single::new(PermissionCatalogue {
        resources: crate::permissions::RESOURCES
            .iter()
            .map(|r| (*r).to_owned())
            .collect(),
        actions: crate::permissions::ACTIONS
            .iter()
            .map(|a| (*a).to_owned())
            .collect(),
    }))
}

/// Paths that need no credentials.
pub const PUBLIC_PATHS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
];

/// Sign in.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(identity): State<Identity>,
    Extension(meta): Extension<RequestMeta>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(identity.login(body, &meta).await?))
}

/// Rotate a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem)))]
async fn refresh(
    State(identity): State<Identity>,
    Extension(meta): Extension<RequestMeta>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(identity.refresh(&body.refresh_token, &meta).await?))
}

/// Sign out: ends the session of this refresh token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Signed out")))]
async fn logout(
    State(identity): State<Identity>,
    Extension(meta): Extension<RequestMeta>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    identity.logout(&body.refresh_token, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: user, organisation, role, permissions, scope.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Single<Me>), (status = 401, body = Problem)))]
async fn me(State(identity): State<Identity>, ctx: TenantContext) -> ApiResult<Json<Single<Me>>> {
    Ok(Json(Single::new(identity.me(&ctx).await?)))
}

/// Cheapest authenticated call: is this credential valid, and whose is it? Reads nothing
/// beyond what authentication itself reads (load balancers, integrations, benchmarks).
#[utoipa::path(get, path = "/api/v1/auth/check", tag = "auth", responses((status = 200, body = Single<SessionCheck>), (status = 401, body = Problem)))]
async fn check(ctx: TenantContext) -> Json<Single<SessionCheck>> {
    Json(Single::new(SessionCheck {
        org_id: ctx.org_id(),
        actor: ctx.actor().label(),
        role: ctx.role().to_owned(),
    }))
}

/// Start TOTP enrolment.
#[utoipa::path(post, path = "/api/v1/auth/totp/enroll", tag = "auth", responses((status = 200, body = Single<TotpEnrollment>)))]
async fn totp_enroll(
    State(identity): State<Identity>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<TotpEnrollment>>> {
    Ok(Json(Single::new(identity.totp_enroll(&ctx).await?)))
}

/// Confirm TOTP enrolment with a first code; returns recovery codes once.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = TotpCode,
    responses((status = 200, body = Single<RecoveryCodes>), (status = 422, body = Problem)))]
async fn totp_confirm(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<TotpCode>,
) -> ApiResult<Json<Single<RecoveryCodes>>> {
    Ok(Json(Single::new(
        identity.totp_confirm(&ctx, &body.code).await?,
    )))
}

/// Users of the organisation (`?role=`, `?active=`, `?sort=`, `?limit=`, `?cursor=`).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1–200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "`meta.next_cursor` of the previous page"),
        ("sort" = Option<String>, Query, description = "`created_at`, `-created_at`, `role`, `-role`"),
        ("role" = Option<String>, Query, description = "Only this role"),
        ("active" = Option<bool>, Query, description = "Only active (true) or deactivated (false) users"),
    ),
    responses((status = 200, body = Page<User>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_users(
    State(identity): State<Identity>,
    ctx: TenantContext,
    Query(query): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<User>>> {
    Ok(Json(identity.list_users(&ctx, &query).await?))
}

/// Create a user with a role.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = Single<User>), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Single<User>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(identity.create_user(&ctx, body).await?)),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<User>), (status = 404, body = Problem)))]
async fn get_user(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<User>>> {
    Ok(Json(Single::new(identity.get_user(&ctx, id).await?)))
}

/// Change a user's role, name or scope (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = Single<User>), (status = 404, body = Problem), (status = 412, body = Problem)))]
async fn update_user(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<Json<Single<User>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        identity.update_user(&ctx, id, body, expected).await?,
    )))
}

/// Deactivate a user: they cannot sign in, and their live tokens stop working.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<User>), (status = 404, body = Problem)))]
async fn deactivate_user(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<User>>> {
    Ok(Json(Single::new(identity.deactivate_user(&ctx, id).await?)))
}

/// Roles of the organisation.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", responses((status = 200, body = Single<Vec<Role>>)))]
async fn list_roles(
    State(identity): State<Identity>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<Role>>>> {
    Ok(Json(Single::new(identity.list_roles(&ctx).await?)))
}

/// Create a custom role.
#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", request_body = NewRole,
    responses((status = 201, body = Single<Role>), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_role(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewRole>,
) -> ApiResult<(StatusCode, Json<Single<Role>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(identity.create_role(&ctx, body).await?)),
    ))
}

/// Change a custom role (`If-Match` or `version`); holders get it on their next request.
#[utoipa::path(patch, path = "/api/v1/roles/{id}", tag = "roles", params(("id" = uuid::Uuid, Path)), request_body = RolePatch,
    responses((status = 200, body = Single<Role>), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_role(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<RolePatch>,
) -> ApiResult<Json<Single<Role>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        identity.update_role(&ctx, id, body, expected).await?,
    )))
}

/// Delete a custom role nobody holds.
#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "roles", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_role(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    identity.delete_role(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// API keys of the organisation (never their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", responses((status = 200, body = Single<Vec<ApiKey>>)))]
async fn list_api_keys(
    State(identity): State<Identity>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<ApiKey>>>> {
    Ok(Json(Single::new(identity.list_api_keys(&ctx).await?)))
}

/// Create an API key; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewApiKey,
    responses((status = 201, body = Single<CreatedApiKey>), (status = 422, body = Problem)))]
async fn create_api_key(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewApiKey>,
) -> ApiResult<(StatusCode, Json<Single<CreatedApiKey>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(identity.create_api_key(&ctx, body).await?)),
    ))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<ApiKey>), (status = 404, body = Problem)))]
async fn revoke_api_key(
    State(identity): State<Identity>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<ApiKey>>> {
    Ok(Json(Single::new(identity.revoke_api_key(&ctx, id).await?)))
}

/// The caller's organisation with its sites and divisions.
#[utoipa::path(get, path = "/api/v1/orgs/current", tag = "orgs", responses((status = 200, body = Single<Org>)))]
async fn current_org(
    State(identity): State<Identity>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Org>>> {
    Ok(Json(Single::new(identity.current_org(&ctx).await?)))
}

/// Add a site.
#[utoipa::path(post, path = "/api/v1/orgs/current/sites", tag = "orgs", request_body = NewSite,
    responses((status = 201, body = Single<Site>), (status = 422, body = Problem)))]
async fn create_site(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewSite>,
) -> ApiResult<(StatusCode, Json<Single<Site>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(identity.create_site(&ctx, body).await?)),
    ))
}

/// Add a division.
#[utoipa::path(post, path = "/api/v1/orgs/current/divisions", tag = "orgs", request_body = NewDivision,
    responses((status = 201, body = Single<Division>), (status = 422, body = Problem)))]
async fn create_division(
    State(identity): State<Identity>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewDivision>,
) -> ApiResult<(StatusCode, Json<Single<Division>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(identity.create_division(&ctx, body).await?)),
    ))
}

/// The audit trail (`?action=`, `?actor=`, `?entity_type=`, `?entity_id=`, `?occurred_at[gte]=`).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(
        ("limit" = Option<u32>, Query, description = "Page size, 1–500 (default 50)"),
        ("cursor" = Option<String>, Query, description = "`meta.next_cursor` of the previous page"),
        ("action" = Option<String>, Query, description = "e.g. `user.created`, `permission.denied`"),
        ("actor" = Option<String>, Query, description = "`user:<id>`, `api_key:<id>`, `system`, `anonymous`"),
        ("entity_type" = Option<String>, Query, description = "e.g. `user`, `deal`"),
        ("entity_id" = Option<String>, Query, description = "The record's id"),
        ("occurred_at[gte]" = Option<String>, Query, description = "From this RFC 3339 time"),
        ("occurred_at[lte]" = Option<String>, Query, description = "Until this RFC 3339 time"),
    ),
    responses((status = 200, body = Page<AuditRow>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_audit(
    State(identity): State<Identity>,
    ctx: TenantContext,
    Query(query): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<AuditRow>>> {
    Ok(Json(identity.list_audit(&ctx, &query).await?))
}
