//! HTTP routes of sales-data imports: parse the request, call the importer, map the
//! outcome. A rejected file answers 422 problem+json whose `errors` extension lists the
//! bad cells as `{row, column, reason}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::list::{Page, Single};
use kernel::{ApiJson, IdPath, IfMatch, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::import::{
    FileFormat, ImportFile, ImportOptions, NewSalesImportMapping, SHEET6, SalesImport,
    SalesImportMapping, SalesImportMappingPatch,
};
use crate::model::SalesError;
use crate::service::Sales;

type ApiResult<T> = Result<T, Problem>;

/// Largest sales file accepted over HTTP (a million-row CSV is about 100 MiB; larger
/// files go through `meridian import sales` or the watched folder).
pub const SALES_IMPORT_LIMIT: usize = 256 * 1024 * 1024;

/// The import routes, merged into the sales router.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sales: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_import))
        .routes(routes!(list_mappings, create_mapping))
        .routes(routes!(get_mapping, update_mapping, delete_mapping))
        .merge(
            // Spreadsheets are larger than API bodies: this route alone takes big bodies.
            OpenApiRouter::new()
                .routes(routes!(list_imports, import_sales))
                .layer(axum::extract::DefaultBodyLimit::max(SALES_IMPORT_LIMIT)),
        )
}

fn flag(q: &BTreeMap<String, String>, name: &str) -> Result<bool, Problem> {
    match q.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(Problem::bad_field(name, "must be true or false")),
    }
}

/// The 422 of a rejected file: the problem, with the bad cells as `errors`.
fn rejected(import: SalesImport) -> Response {
    let import = import.truncated();
    let detail = if import.rows_invalid > 0 {
        format!(
            "{} of {} rows are invalid; nothing was imported (fix them, or send skip_invalid=true to import the others)",
            import.rows_invalid, import.rows_total
        )
    } else {
        "the file cannot be imported; nothing was written".to_owned()
    };
    let problem = Problem::new(kernel::ErrorCode::UnprocessableEntity).with_detail(detail);
    let mut body = serde_json::to_value(&problem).unwrap_or_default();
    if let Some(map) = body.as_object_mut() {
        map.insert(
            "errors".to_owned(),
            serde_json::to_value(&import.errors).unwrap_or_default(),
        );
        map.insert(
            "errors_truncated".to_owned(),
            serde_json::Value::Bool(import.errors_truncated),
        );
        map.insert(
            "import_id".to_owned(),
            serde_json::Value::String(import.id.to_string()),
        );
    }
    let mut response = (
        StatusCode::UNPROCESSABLE_ENTITY,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(kernel::problem::PROBLEM_CONTENT_TYPE),
    );
    response
}

/// Import sales data: the body is the file (`Content-Type: text/csv` or
/// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`). `?mapping=`
/// (default `sheet6`), `?dry_run=true` validates only, `?skip_invalid=true` imports the
/// valid rows, `?allow_new_values=true` accepts regions and pack types the organisation
/// does not know yet, `?background=true` answers 202 at once (poll
/// `GET /api/v1/sales/imports/{id}`), `?file_name=` names the file in the log. A file
/// with bad rows (and no `skip_invalid`) answers 422 with every bad cell in `errors` as
/// `{row, column, reason}` and writes nothing but the log row.
#[utoipa::path(post, path = "/api/v1/sales/imports", tag = "sales",
    params(
        ("mapping" = Option<String>, Query, description = "Mapping name (default sheet6)"),
        ("dry_run" = Option<bool>, Query, description = "Validate and report only"),
        ("skip_invalid" = Option<bool>, Query, description = "Import the valid rows, report the others"),
        ("allow_new_values" = Option<bool>, Query, description = "Accept unknown regions and pack types (as warnings)"),
        ("background" = Option<bool>, Query, description = "Run as a job; answer 202 with it"),
        ("file_name" = Option<String>, Query, description = "The file's name, for the log"),
    ),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Single<SalesImport>), (status = 202, body = Single<SalesImport>),
        (status = 403, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn import_sales(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    ctx.authorize("sales:import").map_err(SalesError::from)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(format) = FileFormat::from_content_type(content_type) else {
        return Err(Problem::new(kernel::ErrorCode::UnsupportedMediaType).with_detail(
            "send the file as text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ));
    };
    let file_name = q
        .get("file_name")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            match format {
                FileFormat::Csv => "upload.csv",
                FileFormat::Xlsx => "upload.xlsx",
            }
            .to_owned()
        });
    if file_name.chars().count() > 255 {
        return Err(Problem::bad_field("file_name", "at most 255 characters"));
    }
    let options = ImportOptions {
        mapping: q
            .get("mapping")
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| SHEET6.to_owned()),
        dry_run: flag(&q, "dry_run")?,
        skip_invalid: flag(&q, "skip_invalid")?,
        allow_new_values: flag(&q, "allow_new_values")?,
        source: "api",
    };
    let file = ImportFile {
        name: file_name,
        format,
        bytes: body,
    };
    let importer = sales.importer();
    if flag(&q, "background")? {
        let job = importer.start_import(&ctx, file, options).await?;
        return Ok((StatusCode::ACCEPTED, Json(Single::new(job))).into_response());
    }
    let import = importer.import(&ctx, file, options, None).await?;
    if import.is_rejected() && !import.dry_run {
        return Ok(rejected(import));
    }
    Ok(Json(Single::new(import.truncated())).into_response())
}

/// Recent sales-data imports, newest first (`?status=`, `?cursor=`, `?limit=`).
#[utoipa::path(get, path = "/api/v1/sales/imports", tag = "sales",
    responses((status = 200, body = Page<SalesImport>), (status = 422, body = Problem)))]
async fn list_imports(
    State(sales): State<Sales>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<SalesImport>>> {
    Ok(Json(sales.importer().list_imports(&ctx, &q).await?))
}

/// One import; while it runs, `processed_rows` of `rows_total` says how far it has got.
#[utoipa::path(get, path = "/api/v1/sales/imports/{id}", tag = "sales", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<SalesImport>), (status = 404, body = Problem)))]
async fn get_import(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<SalesImport>>> {
    Ok(Json(Single::new(
        sales.importer().get_import(&ctx, id).await?,
    )))
}

/// Column mappings: the built-in `sheet6` (read-only) and the saved ones.
#[utoipa::path(get, path = "/api/v1/sales/import-mappings", tag = "sales",
    responses((status = 200, body = Single<Vec<SalesImportMapping>>)))]
async fn list_mappings(
    State(sales): State<Sales>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<SalesImportMapping>>>> {
    Ok(Json(Single::new(
        sales.importer().list_mappings(&ctx).await?,
    )))
}

/// Save a column mapping: `{name, columns: {date: "Date", region: ..., sales_value: ...},
/// date_format?}`; use it with `POST /api/v1/sales/imports?mapping=NAME`.
#[utoipa::path(post, path = "/api/v1/sales/import-mappings", tag = "sales", request_body = NewSalesImportMapping,
    responses((status = 201, body = Single<SalesImportMapping>), (status = 422, body = Problem)))]
async fn create_mapping(
    State(sales): State<Sales>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewSalesImportMapping>,
) -> ApiResult<(StatusCode, Json<Single<SalesImportMapping>>)> {
    let mapping = sales.importer().create_mapping(&ctx, body).await?;
    Ok((StatusCode::CREATED, Json(Single::new(mapping))))
}

/// One saved mapping.
#[utoipa::path(get, path = "/api/v1/sales/import-mappings/{id}", tag = "sales", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<SalesImportMapping>), (status = 404, body = Problem)))]
async fn get_mapping(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<SalesImportMapping>>> {
    Ok(Json(Single::new(
        sales.importer().get_mapping(&ctx, id).await?,
    )))
}

/// Change a saved mapping (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/sales/import-mappings/{id}", tag = "sales", params(("id" = uuid::Uuid, Path)),
    request_body = SalesImportMappingPatch,
    responses((status = 200, body = Single<SalesImportMapping>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_mapping(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<SalesImportMappingPatch>,
) -> ApiResult<Json<Single<SalesImportMapping>>> {
    let expected = body.version.or(if_match).ok_or_else(|| {
        Problem::from(SalesError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        ))
    })?;
    Ok(Json(Single::new(
        sales
            .importer()
            .update_mapping(&ctx, id, body, expected)
            .await?,
    )))
}

/// Delete a saved mapping.
#[utoipa::path(delete, path = "/api/v1/sales/import-mappings/{id}", tag = "sales", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_mapping(
    State(sales): State<Sales>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    sales.importer().delete_mapping(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
