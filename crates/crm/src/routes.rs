//! HTTP routes of the CRM: parse, call the service, map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use kernel::list::{Page, Single};
use kernel::{ApiJson, IdPath, IfMatch, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service::Crm;

type ApiResult<T> = Result<T, Problem>;

fn expected_version(body: Option<i64>, if_match: Option<i64>) -> Result<i64, Problem> {
    body.or(if_match).ok_or_else(|| {
        CrmError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        )
        .into()
    })
}

/// Every CRM route, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Crm: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_companies, create_company))
        .routes(routes!(get_company, update_company))
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact))
        .routes(routes!(list_pipelines))
        .routes(routes!(board))
        .routes(routes!(list_deals, create_deal))
        .routes(routes!(get_deal, update_deal))
}

/// Companies (`?name[contains]=`, `?industry=`, `?owner_id=`, `?sort=`, `?limit=`, `?cursor=`).
#[utoipa::path(get, path = "/api/v1/companies", tag = "crm", responses((status = 200, body = Page<Company>)))]
async fn list_companies(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Company>>> {
    Ok(Json(crm.list_companies(&ctx, &q).await?))
}

/// Create a company.
#[utoipa::path(post, path = "/api/v1/companies", tag = "crm", request_body = NewCompany,
    responses((status = 201, body = Single<Company>), (status = 422, body = Problem)))]
async fn create_company(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewCompany>,
) -> ApiResult<(StatusCode, Json<Single<Company>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_company(&ctx, body).await?)),
    ))
}

/// One company.
#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Company>), (status = 404, body = Problem)))]
async fn get_company(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Company>>> {
    Ok(Json(Single::new(crm.get_company(&ctx, id).await?)))
}

/// Change a company (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/companies/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = CompanyPatch,
    responses((status = 200, body = Single<Company>), (status = 412, body = Problem)))]
async fn update_company(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<CompanyPatch>,
) -> ApiResult<Json<Single<Company>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.update_company(&ctx, id, body, expected).await?,
    )))
}

/// Contacts (`?name[contains]=`, `?company_id=`, `?email=` exact match, `?sort=`).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "crm", responses((status = 200, body = Page<Contact>)))]
async fn list_contacts(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Contact>>> {
    Ok(Json(crm.list_contacts(&ctx, &q).await?))
}

/// Create a contact.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "crm", request_body = NewContact,
    responses((status = 201, body = Single<Contact>), (status = 422, body = Problem)))]
async fn create_contact(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewContact>,
) -> ApiResult<(StatusCode, Json<Single<Contact>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_contact(&ctx, body).await?)),
    ))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Contact>), (status = 404, body = Problem)))]
async fn get_contact(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Contact>>> {
    Ok(Json(Single::new(crm.get_contact(&ctx, id).await?)))
}

/// Pipelines with their stages (the default one is created on first use).
#[utoipa::path(get, path = "/api/v1/pipelines", tag = "crm", responses((status = 200, body = Single<Vec<Pipeline>>)))]
async fn list_pipelines(
    State(crm): State<Crm>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<Pipeline>>>> {
    Ok(Json(Single::new(crm.list_pipelines(&ctx).await?)))
}

/// The kanban board: stages with their first deals (`?per_stage=`, default 50) and totals.
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/board", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Board>), (status = 404, body = Problem)))]
async fn board(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Board>>> {
    let per_stage = match q.get("per_stage") {
        None => 50,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| Problem::bad_field("per_stage", "must be an integer from 1 to 500"))?,
    };
    Ok(Json(Single::new(crm.board(&ctx, id, per_stage).await?)))
}

/// Deals (`?status=`, `?stage_id=`, `?company_id=`, `?owner_id=`, `?title[contains]=`).
#[utoipa::path(get, path = "/api/v1/deals", tag = "crm", responses((status = 200, body = Page<Deal>)))]
async fn list_deals(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Deal>>> {
    Ok(Json(crm.list_deals(&ctx, &q).await?))
}

/// Create a deal.
#[utoipa::path(post, path = "/api/v1/deals", tag = "crm", request_body = NewDeal,
    responses((status = 201, body = Single<Deal>), (status = 422, body = Problem)))]
async fn create_deal(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewDeal>,
) -> ApiResult<(StatusCode, Json<Single<Deal>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_deal(&ctx, body).await?)),
    ))
}

/// One deal.
#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Deal>), (status = 404, body = Problem)))]
async fn get_deal(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Deal>>> {
    Ok(Json(Single::new(crm.get_deal(&ctx, id).await?)))
}

/// Edit a deal or move it on the board (`stage_id`, `position`); `If-Match` or `version`.
#[utoipa::path(patch, path = "/api/v1/deals/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = DealPatch,
    responses((status = 200, body = Single<Deal>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_deal(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<DealPatch>,
) -> ApiResult<Json<Single<Deal>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.update_deal(&ctx, id, body, expected).await?,
    )))
}
