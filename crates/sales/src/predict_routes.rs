//! HTTP routes of the sales predictions: parse, call the service, map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRef, Query, State};
use chrono::NaiveDate;
use kernel::list::Single;
use kernel::{IdPath, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::SalesError;
use crate::predict::service::{CallList, ForecastQuery, NextOrderView, SalesForecast, UpsellView};
use crate::service::Sales;

type ApiResult<T> = Result<Json<Single<T>>, Problem>;

/// The prediction routes, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sales: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(next_order))
        .routes(routes!(upsell))
        .routes(routes!(call_list))
        .routes(routes!(forecast))
}

fn number(q: &BTreeMap<String, String>, field: &str, default: usize) -> Result<usize, SalesError> {
    match q.get(field) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| SalesError::field(field, "must be a whole number")),
    }
}

/// When the store will probably order next and what: expected date from its order
/// rhythm, likely basket (`stores:read`, or `stores:read:own` for the caller's stores).
#[utoipa::path(get, path = "/api/v1/stores/{id}/next-order", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<NextOrderView>), (status = 404, body = Problem)))]
async fn next_order(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<NextOrderView> {
    Ok(Json(Single::new(sales.next_order(&ctx, id).await?)))
}

/// Products stores with a similar assortment buy and this one does not (`?limit=`, 1–50,
/// default 5).
#[utoipa::path(get, path = "/api/v1/stores/{id}/upsell", tag = "sales",
    params(("id" = Uuid, Path), ("limit" = Option<usize>, Query, description = "1–50, default 5")),
    responses((status = 200, body = Single<UpsellView>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn upsell(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<UpsellView> {
    let limit = number(&q, "limit", 5)?;
    Ok(Json(Single::new(sales.upsell(&ctx, id, limit).await?)))
}

/// A rep's stores most worth a call, best first, each score explained (`?rep_id=`,
/// default the caller — another rep needs `stores:read`; `?on=YYYY-MM-DD`; `?limit=`
/// 1–200, default 50).
#[utoipa::path(get, path = "/api/v1/sales/call-list", tag = "sales",
    params(("rep_id" = Option<Uuid>, Query), ("on" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
        ("limit" = Option<usize>, Query, description = "1–200, default 50")),
    responses((status = 200, body = Single<CallList>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn call_list(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<CallList> {
    let rep = q
        .get("rep_id")
        .map(|v| {
            Uuid::parse_str(v.trim()).map_err(|_| SalesError::field("rep_id", "must be a UUID"))
        })
        .transpose()?;
    let on = q
        .get("on")
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| SalesError::field("on", "must be a date, YYYY-MM-DD"))
        })
        .transpose()?;
    let limit = number(&q, "limit", 50)?;
    Ok(Json(Single::new(
        sales.call_list(&ctx, rep, on, limit).await?,
    )))
}

/// Monthly demand of a SKU / pack type / category in a region with a forecast, 80% and
/// 95% intervals, and the last months against their forecasts (`sales:read`; `?sku=`,
/// `?pack_type=`, `?category=`, `?region=`, `?horizon=` 1–24, default 3).
#[utoipa::path(get, path = "/api/v1/sales/forecasts", tag = "sales",
    params(("sku" = Option<String>, Query), ("pack_type" = Option<String>, Query), ("category" = Option<String>, Query),
        ("region" = Option<String>, Query), ("horizon" = Option<usize>, Query, description = "1–24, default 3")),
    responses((status = 200, body = Single<SalesForecast>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn forecast(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<SalesForecast> {
    let query = ForecastQuery::parse(&q)?;
    Ok(Json(Single::new(sales.forecast(&ctx, &query).await?)))
}
