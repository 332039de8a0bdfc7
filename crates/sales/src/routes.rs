//! HTTP routes of the sales module: parse, call the service, map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use kernel::list::{Page, Single};
use kernel::{ApiJson, IdPath, IfMatch, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::*;
use crate::service::Sales;

type ApiResult<T> = Result<T, Problem>;
type Created<T> = ApiResult<(StatusCode, Json<Single<T>>)>;

fn expected_version(body: Option<i64>, if_match: Option<i64>) -> Result<i64, Problem> {
    body.or(if_match).ok_or_else(|| {
        SalesError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        )
        .into()
    })
}

fn created<T>(value: T) -> (StatusCode, Json<Single<T>>) {
    (StatusCode::CREATED, Json(Single::new(value)))
}

/// Every sales route, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sales: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_stores, create_store))
        .routes(routes!(get_store, update_store))
        .routes(routes!(store_balance))
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product))
        .routes(routes!(list_price_lists, create_price_list))
        .routes(routes!(get_price_list))
        .routes(routes!(add_price_items))
        .routes(routes!(price_in_force))
        .routes(routes!(list_orders, create_order))
        .routes(routes!(get_order, update_order))
        .routes(routes!(invoice_order))
        .routes(routes!(list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(list_payments, record_payment))
        .routes(routes!(get_payment))
        .routes(routes!(list_credit_notes, create_credit_note))
        .routes(routes!(get_credit_note))
        .merge(crate::import_routes::router())
        .merge(crate::analytics_routes::router())
        .merge(crate::predict_routes::router())
        .merge(crate::outlets_routes::router())
}

/// Stores (`?q=`, `?region=`, `?channel=`, `?assigned_rep=`, `?sort=`, `?cursor=`); a
/// caller with only `stores:read:own` gets the stores assigned to them.
#[utoipa::path(get, path = "/api/v1/stores", tag = "sales",
    params(("q" = Option<String>, Query, description = "Text the store's company name, region, province, city or precision area contains (case-insensitive; `%` and `_` match only themselves; at most 200 characters). The name is matched only for callers with `companies:read`.")),
    responses((status = 200, body = Page<Store>), (status = 422, body = Problem)))]
async fn list_stores(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Store>>> {
    Ok(Json(sales.list_stores(&ctx, &q).await?))
}

/// Make a CRM company a store (`stores:create`).
#[utoipa::path(post, path = "/api/v1/stores", tag = "sales", request_body = NewStore,
    responses((status = 201, body = Single<Store>), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_store(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewStore>,
) -> Created<Store> {
    Ok(created(sales.create_store(&ctx, body).await?))
}

/// One store.
#[utoipa::path(get, path = "/api/v1/stores/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<Store>), (status = 404, body = Problem)))]
async fn get_store(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Store>>> {
    Ok(Json(Single::new(sales.get_store(&ctx, id).await?)))
}

/// Change a store (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/stores/{id}", tag = "sales", params(("id" = Uuid, Path)), request_body = StorePatch,
    responses((status = 200, body = Single<Store>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_store(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<StorePatch>,
) -> ApiResult<Json<Single<Store>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        sales.update_store(&ctx, id, body, expected).await?,
    )))
}

/// What a store owes: unpaid invoices, confirmed-not-invoiced orders, credit available.
#[utoipa::path(get, path = "/api/v1/stores/{id}/balance", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<StoreBalance>), (status = 404, body = Problem)))]
async fn store_balance(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<StoreBalance>>> {
    Ok(Json(Single::new(sales.store_balance(&ctx, id).await?)))
}

/// Products (`?sku=`, `?brand=`, `?category=`, `?pack_type=`, `?sort=`).
#[utoipa::path(get, path = "/api/v1/products", tag = "sales",
    responses((status = 200, body = Page<Product>), (status = 422, body = Problem)))]
async fn list_products(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Product>>> {
    Ok(Json(sales.list_products(&ctx, &q).await?))
}

/// Create a product (SKU unique per organisation).
#[utoipa::path(post, path = "/api/v1/products", tag = "sales", request_body = NewProduct,
    responses((status = 201, body = Single<Product>), (status = 422, body = Problem)))]
async fn create_product(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewProduct>,
) -> Created<Product> {
    Ok(created(sales.create_product(&ctx, body).await?))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<Product>), (status = 404, body = Problem)))]
async fn get_product(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Product>>> {
    Ok(Json(Single::new(sales.get_product(&ctx, id).await?)))
}

/// Change a product (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "sales", params(("id" = Uuid, Path)), request_body = ProductPatch,
    responses((status = 200, body = Single<Product>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_product(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<ProductPatch>,
) -> ApiResult<Json<Single<Product>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        sales.update_product(&ctx, id, body, expected).await?,
    )))
}

/// Price lists (without their items), by name.
#[utoipa::path(get, path = "/api/v1/price-lists", tag = "sales",
    responses((status = 200, body = Single<Vec<PriceList>>)))]
async fn list_price_lists(
    State(sales): State<Sales>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<PriceList>>>> {
    Ok(Json(Single::new(sales.list_price_lists(&ctx).await?)))
}

/// Create a price list with prices (each with a currency and a validity range).
#[utoipa::path(post, path = "/api/v1/price-lists", tag = "sales", request_body = NewPriceList,
    responses((status = 201, body = Single<PriceList>), (status = 422, body = Problem)))]
async fn create_price_list(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewPriceList>,
) -> Created<PriceList> {
    Ok(created(sales.create_price_list(&ctx, body).await?))
}

/// One price list with its prices.
#[utoipa::path(get, path = "/api/v1/price-lists/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<PriceList>), (status = 404, body = Problem)))]
async fn get_price_list(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<PriceList>>> {
    Ok(Json(Single::new(sales.get_price_list(&ctx, id).await?)))
}

/// Add prices to a list.
#[utoipa::path(post, path = "/api/v1/price-lists/{id}/items", tag = "sales", params(("id" = Uuid, Path)),
    request_body = NewPriceListItems,
    responses((status = 201, body = Single<PriceList>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_price_items(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewPriceListItems>,
) -> Created<PriceList> {
    Ok(created(sales.add_price_items(&ctx, id, body).await?))
}

/// The price of a product in force on a date (default today, UTC).
#[utoipa::path(get, path = "/api/v1/price-lists/{id}/price", tag = "sales",
    params(("id" = Uuid, Path), ("product_id" = Uuid, Query), ("on" = Option<NaiveDate>, Query)),
    responses((status = 200, body = Single<PriceInForce>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn price_in_force(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<PriceInForce>>> {
    let product = q
        .get("product_id")
        .and_then(|p| Uuid::parse_str(p).ok())
        .ok_or_else(|| Problem::bad_field("product_id", "must be a product id"))?;
    let on = match q.get("on") {
        Some(d) => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| Problem::bad_field("on", "must be a date YYYY-MM-DD"))?,
        ),
        None => None,
    };
    Ok(Json(Single::new(
        sales.price_in_force(&ctx, id, product, on).await?,
    )))
}

/// Sales orders with their lines (`?status=`, `?store_id=`, `?sort=`).
#[utoipa::path(get, path = "/api/v1/sales-orders", tag = "sales",
    responses((status = 200, body = Page<SalesOrder>), (status = 422, body = Problem)))]
async fn list_orders(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<SalesOrder>>> {
    Ok(Json(sales.list_orders(&ctx, &q).await?))
}

/// Enter a Draft order; unit prices default from the price list in force on the order date.
#[utoipa::path(post, path = "/api/v1/sales-orders", tag = "sales", request_body = NewSalesOrder,
    responses((status = 201, body = Single<SalesOrder>), (status = 422, body = Problem)))]
async fn create_order(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewSalesOrder>,
) -> Created<SalesOrder> {
    Ok(created(sales.create_order(&ctx, body).await?))
}

/// One order with its lines.
#[utoipa::path(get, path = "/api/v1/sales-orders/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<SalesOrder>), (status = 404, body = Problem)))]
async fn get_order(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<SalesOrder>>> {
    Ok(Json(Single::new(sales.get_order(&ctx, id).await?)))
}

/// Change an order (`If-Match` or `version`): lines (Draft only), notes, status
/// (Draft → Confirmed → Delivered; Draft/Confirmed → Cancelled). Confirming over the
/// store's credit limit is refused (422 naming `credit_limit`) unless a Manager sends
/// `override_credit_limit: true` with `override_reason`.
#[utoipa::path(patch, path = "/api/v1/sales-orders/{id}", tag = "sales", params(("id" = Uuid, Path)), request_body = SalesOrderPatch,
    responses((status = 200, body = Single<SalesOrder>), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_order(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<SalesOrderPatch>,
) -> ApiResult<Json<Single<SalesOrder>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        sales.update_order(&ctx, id, body, expected).await?,
    )))
}

/// Invoice a Delivered order: the invoice is numbered `INV-<year>-<n>` (gap-free per
/// organisation and year) and the order becomes Invoiced.
#[utoipa::path(post, path = "/api/v1/sales-orders/{id}/invoice", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 201, body = Single<Invoice>), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn invoice_order(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> Created<Invoice> {
    Ok(created(sales.invoice_order(&ctx, id).await?))
}

/// Invoices (`?status=open|partially_paid|paid`, `?store_id=`, `?sort=number`).
#[utoipa::path(get, path = "/api/v1/invoices", tag = "sales",
    responses((status = 200, body = Page<Invoice>), (status = 422, body = Problem)))]
async fn list_invoices(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Invoice>>> {
    Ok(Json(sales.list_invoices(&ctx, &q).await?))
}

/// One invoice with its balance.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<Invoice>), (status = 404, body = Problem)))]
async fn get_invoice(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Invoice>>> {
    Ok(Json(Single::new(sales.get_invoice(&ctx, id).await?)))
}

/// Payments with their allocations (`?store_id=`, `?method=`).
#[utoipa::path(get, path = "/api/v1/payments", tag = "sales",
    responses((status = 200, body = Page<Payment>), (status = 422, body = Problem)))]
async fn list_payments(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Payment>>> {
    Ok(Json(sales.list_payments(&ctx, &q).await?))
}

/// Record a payment and allocate it to invoices (partial allowed; over-allocation refused
/// naming the field).
#[utoipa::path(post, path = "/api/v1/payments", tag = "sales", request_body = NewPayment,
    responses((status = 201, body = Single<Payment>), (status = 422, body = Problem)))]
async fn record_payment(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewPayment>,
) -> Created<Payment> {
    Ok(created(sales.record_payment(&ctx, body).await?))
}

/// One payment.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<Payment>), (status = 404, body = Problem)))]
async fn get_payment(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Payment>>> {
    Ok(Json(Single::new(sales.get_payment(&ctx, id).await?)))
}

/// Credit notes (`?invoice_id=`, `?store_id=`).
#[utoipa::path(get, path = "/api/v1/credit-notes", tag = "sales",
    responses((status = 200, body = Page<CreditNote>), (status = 422, body = Problem)))]
async fn list_credit_notes(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<CreditNote>>> {
    Ok(Json(sales.list_credit_notes(&ctx, &q).await?))
}

/// Issue a credit note (return or allowance) against an invoice, reducing its balance.
#[utoipa::path(post, path = "/api/v1/credit-notes", tag = "sales", request_body = NewCreditNote,
    responses((status = 201, body = Single<CreditNote>), (status = 422, body = Problem)))]
async fn create_credit_note(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewCreditNote>,
) -> Created<CreditNote> {
    Ok(created(sales.create_credit_note(&ctx, body).await?))
}

/// One credit note.
#[utoipa::path(get, path = "/api/v1/credit-notes/{id}", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, body = Single<CreditNote>), (status = 404, body = Problem)))]
async fn get_credit_note(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<CreditNote>>> {
    Ok(Json(Single::new(sales.get_credit_note(&ctx, id).await?)))
}
