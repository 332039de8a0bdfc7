//! HTTP routes of the sales analytics: parse, call [`crate::analytics`], map the result.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRef, Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use kernel::list::{Page, Single};
use kernel::{Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analytics::Params;
use crate::analytics::alerts::{self, Alert, ScanReport};
use crate::analytics::gaps::{self, GapReport, Heatmap};
use crate::analytics::share::{self, MarketTotalsBody, MarketTotalsImported, ShareReport};
use crate::analytics::trends::{self, TrendReport};
use crate::facts::{day_number, month_number};
use crate::model::SalesError;
use crate::service::Sales;

type ApiResult<T> = Result<T, Problem>;

/// The analytics routes, merged into the sales router.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sales: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(distribution_gaps))
        .routes(routes!(gap_heatmap))
        .routes(routes!(market_trends))
        .routes(routes!(import_market_totals))
        .routes(routes!(market_share))
        .routes(routes!(list_alerts))
        .routes(routes!(scan_alerts))
}

/// Distribution gaps per region, province, precision area and pack type (`?from=&to=`
/// dates, default the 30 days ending at the latest imported day; `?region=&province=
/// &pack_type=&flagged_only=true`), highest zero-sales share first.
#[utoipa::path(get, path = "/api/v1/sales/distribution-gaps", tag = "sales",
    responses((status = 200, body = Single<GapReport>), (status = 422, body = Problem)))]
async fn distribution_gaps(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<Params>,
) -> ApiResult<Json<Single<GapReport>>> {
    let today = day_number(sales.clock().now().date_naive());
    Ok(Json(Single::new(
        gaps::distribution_gaps(sales.db(), &ctx, &q, today).await?,
    )))
}

/// The gap heat map: `?rows=region|province&columns=pack_type`, same period and filters.
#[utoipa::path(get, path = "/api/v1/sales/distribution-gaps/heatmap", tag = "sales",
    responses((status = 200, body = Single<Heatmap>), (status = 422, body = Problem)))]
async fn gap_heatmap(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<Params>,
) -> ApiResult<Json<Single<Heatmap>>> {
    let today = day_number(sales.clock().now().date_naive());
    Ok(Json(Single::new(
        gaps::gap_heatmap(sales.db(), &ctx, &q, today).await?,
    )))
}

/// Month-on-month and year-on-year growth `?by=region|province|precision_area|pack_type|sku|channel
/// &measure=value|qty&from=YYYY-MM&to=YYYY-MM` (+ filters by the same dimensions), movers
/// and seasonality.
#[utoipa::path(get, path = "/api/v1/sales/trends", tag = "sales",
    responses((status = 200, body = Single<TrendReport>), (status = 422, body = Problem)))]
async fn market_trends(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<Params>,
) -> ApiResult<Json<Single<TrendReport>>> {
    let today = sales.clock().now().date_naive();
    Ok(Json(Single::new(
        trends::market_trends(sales.db(), &ctx, &q, today).await?,
    )))
}

/// Import market totals (`sales:import`): a CSV body (`text/csv`, columns `month, region,
/// pack_type, market_value[, market_qty]`) or JSON `{rows: [...]}`; every bad row is
/// reported, nothing is written unless all are good; the same key replaces.
#[utoipa::path(post, path = "/api/v1/sales/market-totals", tag = "sales",
    request_body(content = String, description = "CSV or JSON {rows: [{month, region, pack_type, market_value, market_qty?}]}"),
    responses((status = 200, body = Single<MarketTotalsImported>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_market_totals(
    State(sales): State<Sales>,
    ctx: TenantContext,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Single<MarketTotalsImported>>> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text =
        std::str::from_utf8(&body).map_err(|_| SalesError::field("body", "must be UTF-8 text"))?;
    let json;
    let upload = if content_type.starts_with("text/csv") {
        MarketTotalsBody::Csv(text)
    } else if content_type.starts_with("application/json") {
        json = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| SalesError::field("body", format!("invalid JSON: {e}")))?;
        MarketTotalsBody::Json(&json)
    } else {
        return Err(SalesError::field("content-type", "send text/csv or application/json").into());
    };
    Ok(Json(Single::new(
        share::import_market_totals(sales.db(), sales.clock(), &ctx, upload).await?,
    )))
}

/// Market share per region or pack type per month (`?by=region|pack_type&from=&to=`
/// months), its change over the range and whether it is eroding.
#[utoipa::path(get, path = "/api/v1/sales/market-share", tag = "sales",
    responses((status = 200, body = Single<ShareReport>), (status = 422, body = Problem)))]
async fn market_share(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<Params>,
) -> ApiResult<Json<Single<ShareReport>>> {
    let this_month = month_number(sales.clock().now().date_naive());
    Ok(Json(Single::new(
        share::market_share(sales.db(), &ctx, &q, this_month).await?,
    )))
}

/// Alerts raised (`?from=&to=` dates, `?kind=`, `?priority=`, `?limit=`), newest first.
#[utoipa::path(get, path = "/api/v1/sales/alerts", tag = "sales",
    responses((status = 200, body = Page<Alert>), (status = 422, body = Problem)))]
async fn list_alerts(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<Params>,
) -> ApiResult<Json<Page<Alert>>> {
    Ok(Json(alerts::list_alerts(sales.db(), &ctx, &q).await?))
}

/// Scan the latest data for gap and share-erosion alerts (`sales:manage`); each alert is
/// raised once per (kind, key, period).
#[utoipa::path(post, path = "/api/v1/sales/alerts/scan", tag = "sales",
    responses((status = 200, body = Single<ScanReport>), (status = 403, body = Problem)))]
async fn scan_alerts(
    State(sales): State<Sales>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<ScanReport>>> {
    Ok(Json(Single::new(
        alerts::scan_alerts(sales.db(), sales.clock(), &ctx).await?,
    )))
}
