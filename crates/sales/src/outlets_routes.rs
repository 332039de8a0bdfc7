//! HTTP routes of outlets and their store links: parse, call the service, map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRef, Query, State};
use kernel::list::Single;
use kernel::{ApiJson, IdPath, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::outlets::{Outlet, OutletLinks, OutletQuery};
use crate::service::Sales;

type ApiResult<T> = Result<Json<Single<T>>, Problem>;

/// The outlet routes, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sales: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_outlets))
        .routes(routes!(store_outlets, link_outlets))
}

/// Imported outlets by code (`sales:read`): `?q=` part of the code or name,
/// `?linked=true|false`, `?limit=` (1–500, default 50), `?after=` the previous page's
/// last code.
#[utoipa::path(get, path = "/api/v1/sales/outlets", tag = "sales",
    params(("q" = Option<String>, Query), ("linked" = Option<bool>, Query),
           ("limit" = Option<usize>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = Single<Vec<Outlet>>), (status = 422, body = Problem)))]
async fn list_outlets(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Vec<Outlet>> {
    let query = OutletQuery::from_params(&q)?;
    Ok(Json(Single::new(sales.list_outlets(&ctx, &query).await?)))
}

/// The outlets whose imported sales count for the store.
#[utoipa::path(get, path = "/api/v1/stores/{id}/outlets", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<Vec<Outlet>>), (status = 404, body = Problem)))]
async fn store_outlets(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Vec<Outlet>> {
    Ok(Json(Single::new(sales.store_outlets(&ctx, id).await?)))
}

/// Set the outlets whose imported sales count for the store (the list replaces the
/// current links; `stores:update`, or `stores:update:own` for the assigned rep).
#[utoipa::path(put, path = "/api/v1/stores/{id}/outlets", tag = "sales", params(("id" = Uuid, Path)),
    request_body = OutletLinks,
    responses((status = 200, body = Single<Vec<Outlet>>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn link_outlets(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<OutletLinks>,
) -> ApiResult<Vec<Outlet>> {
    Ok(Json(Single::new(sales.link_outlets(&ctx, id, body).await?)))
}
