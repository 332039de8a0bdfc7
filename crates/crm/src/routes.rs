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
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(list_pipelines))
        .routes(routes!(board))
        .routes(routes!(list_deals, create_deal))
        .routes(routes!(get_deal, update_deal))
        .routes(routes!(list_leads, create_lead))
        .routes(routes!(get_lead, update_lead))
        .routes(routes!(convert_lead))
        .routes(routes!(list_activities, create_activity))
        .routes(routes!(company_timeline))
        .routes(routes!(contact_timeline))
        .routes(routes!(deal_timeline))
        .routes(routes!(lead_timeline))
        .routes(routes!(search))
        .routes(routes!(customer_360))
        .routes(routes!(export_contacts))
        .routes(routes!(contact_duplicates))
        .routes(routes!(merge_contacts))
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(segment_members))
        .routes(routes!(list_import_mappings, create_import_mapping))
        .routes(routes!(import_job))
        .routes(routes!(export_contacts_xlsx))
        .routes(routes!(list_custom_fields, create_custom_field))
        .routes(routes!(update_custom_field, archive_custom_field))
        .merge(
            // Spreadsheets are larger than API bodies: this route alone takes up to 64 MiB.
            OpenApiRouter::new()
                .routes(routes!(import_contacts))
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
}

/// Largest spreadsheet accepted by an import.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Import contacts from a CSV (`Content-Type: text/csv`) or XLSX file sent as the body.
/// `?dry_run=true` validates only; `?skip_invalid=true` imports the valid rows; otherwise
/// nothing is written unless every row is valid. `?map[first_name]=Given Name` maps a
/// column explicitly (fields: first_name, last_name, email, phone, title, company).
/// `?background=true` answers 202 with an import job at once (poll `GET /api/v1/imports/{id}`
/// for progress and the report): for large files.
#[utoipa::path(post, path = "/api/v1/imports/contacts", tag = "crm",
    params(
        ("dry_run" = Option<bool>, Query, description = "Validate and report only"),
        ("skip_invalid" = Option<bool>, Query, description = "Import the valid rows, report the others"),
        ("background" = Option<bool>, Query, description = "Run as a job; answer 202 with it"),
        ("mapping" = Option<String>, Query, description = "A saved column mapping's name"),
    ),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Single<crate::import::ImportReport>), (status = 202, body = Single<crate::import::ImportJob>),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn import_contacts(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use crate::import::{FileFormat, ImportOptions};
    use axum::response::IntoResponse;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match content_type.as_str() {
        "text/csv" | "application/csv" => FileFormat::Csv,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-excel" => FileFormat::Xlsx,
        _ => {
            return Err(Problem::new(kernel::ErrorCode::UnsupportedMediaType)
                .with_detail("send the file as text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
        }
    };
    let flag = |name: &str| -> Result<bool, Problem> {
        match q.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(Problem::bad_field(name, "must be true or false")),
        }
    };
    // A saved mapping (`?mapping=NAME`) first, then explicit `map[field]=` on top.
    let mut mapping = match q.get("mapping") {
        Some(name) => crm.saved_mapping(&ctx, "contacts", name).await?,
        None => BTreeMap::new(),
    };
    mapping.extend(q.iter().filter_map(|(k, v)| {
        k.strip_prefix("map[")
            .and_then(|rest| rest.strip_suffix(']'))
            .map(|field| (field.to_owned(), v.clone()))
    }));
    let options = ImportOptions {
        dry_run: flag("dry_run")?,
        skip_invalid: flag("skip_invalid")?,
        mapping,
    };
    if flag("background")? {
        let job = crm
            .start_contact_import(&ctx, format, body.to_vec(), options)
            .await?;
        return Ok((StatusCode::ACCEPTED, Json(Single::new(job))).into_response());
    }
    Ok(Json(Single::new(
        crm.import_contacts(&ctx, format, &body, options, None)
            .await?,
    ))
    .into_response())
}

/// A background import: `running` with progress (`processed_rows` of `total_rows`), then
/// `done` with the report or `failed` with the reason.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<crate::import::ImportJob>), (status = 404, body = Problem)))]
async fn import_job(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<crate::import::ImportJob>>> {
    Ok(Json(Single::new(crm.import_job(&ctx, id).await?)))
}

/// Contacts as an Excel workbook (same filters and sort as the list); PII masked without
/// `pii:read`.
#[utoipa::path(get, path = "/api/v1/exports/contacts.xlsx", tag = "crm",
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = Problem)))]
async fn export_contacts_xlsx(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let xlsx = crm.export_contacts_xlsx(&ctx, &q).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"contacts.xlsx\"",
            ),
        ],
        xlsx,
    ))
}

/// Custom field definitions (`?object=contacts|companies|leads|deals`, or all readable).
#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "crm",
    params(("object" = Option<String>, Query, description = "companies, contacts, leads or deals")),
    responses((status = 200, body = Single<Vec<crate::custom_fields::CustomField>>), (status = 422, body = Problem)))]
async fn list_custom_fields(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Vec<crate::custom_fields::CustomField>>>> {
    Ok(Json(Single::new(
        crm.list_custom_fields(&ctx, q.get("object").map(String::as_str))
            .await?,
    )))
}

/// Define a custom field (needs `<object>:manage`): text, number, date, boolean, select,
/// multi_select, currency or link. Records then accept and return it in `custom_fields`;
/// lists filter with `cf.<key>[op]=` and sort with `sort=cf.<key>`.
#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "crm", request_body = crate::custom_fields::NewCustomField,
    responses((status = 201, body = Single<crate::custom_fields::CustomField>), (status = 422, body = Problem)))]
async fn create_custom_field(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<crate::custom_fields::NewCustomField>,
) -> ApiResult<(StatusCode, Json<Single<crate::custom_fields::CustomField>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_custom_field(&ctx, body).await?)),
    ))
}

/// Change a custom field's label, options or required flag (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    request_body = crate::custom_fields::CustomFieldPatch,
    responses((status = 200, body = Single<crate::custom_fields::CustomField>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_custom_field(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<crate::custom_fields::CustomFieldPatch>,
) -> ApiResult<Json<Single<crate::custom_fields::CustomField>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.update_custom_field(&ctx, id, body, expected).await?,
    )))
}

/// Archive a custom field: it leaves forms, lists and validation; stored values stay.
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn archive_custom_field(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    crm.archive_custom_field(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Contacts as CSV (same filters and sort as the list); PII masked without `pii:read`.
#[utoipa::path(get, path = "/api/v1/exports/contacts.csv", tag = "crm",
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = Problem)))]
async fn export_contacts(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let csv = crm.export_contacts_csv(&ctx, &q).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"contacts.csv\"",
            ),
        ],
        csv,
    ))
}

/// Everything about one customer: profile, contacts, open deals, won amounts, recent
/// activities; sections later modules fill (tickets, orders, health) say whether they exist.
#[utoipa::path(get, path = "/api/v1/customers/{id}/360", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Customer360>), (status = 404, body = Problem)))]
async fn customer_360(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Customer360>>> {
    Ok(Json(Single::new(crm.customer_360(&ctx, id).await?)))
}

/// Search companies, contacts, leads and deals by name, email or phone, typo-tolerant
/// (`?q=jon smth`, `?limit=`, default 20, at most 100).
#[utoipa::path(get, path = "/api/v1/search", tag = "crm", params(("q" = String, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Single<Vec<crate::search::SearchHit>>), (status = 422, body = Problem)))]
async fn search(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Vec<crate::search::SearchHit>>>> {
    let text = q.get("q").map(String::as_str).unwrap_or("");
    let limit = match q.get("limit") {
        None => 20,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| Problem::bad_field("limit", "must be an integer from 1 to 100"))?,
    };
    Ok(Json(Single::new(crm.search(&ctx, text, limit).await?)))
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
    // "Load more" in one column: `?stage_id=...&offset=50`.
    let stage = match q.get("stage_id") {
        None => None,
        Some(raw) => Some(
            uuid::Uuid::parse_str(raw)
                .map_err(|_| Problem::bad_field("stage_id", "must be a UUID"))?,
        ),
    };
    let offset = match q.get("offset") {
        None => 0,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| Problem::bad_field("offset", "must be a non-negative integer"))?,
    };
    Ok(Json(Single::new(
        crm.board(&ctx, id, per_stage, stage, offset).await?,
    )))
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

/// Leads (`?status=`, `?source=`, `?owner_id=`, `?sort=`).
#[utoipa::path(get, path = "/api/v1/leads", tag = "crm", responses((status = 200, body = Page<Lead>)))]
async fn list_leads(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Lead>>> {
    Ok(Json(crm.list_leads(&ctx, &q).await?))
}

/// Create a lead.
#[utoipa::path(post, path = "/api/v1/leads", tag = "crm", request_body = NewLead,
    responses((status = 201, body = Single<Lead>), (status = 422, body = Problem)))]
async fn create_lead(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewLead>,
) -> ApiResult<(StatusCode, Json<Single<Lead>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_lead(&ctx, body).await?)),
    ))
}

/// One lead.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Lead>), (status = 404, body = Problem)))]
async fn get_lead(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Lead>>> {
    Ok(Json(Single::new(crm.get_lead(&ctx, id).await?)))
}

/// Change a lead's status, source or owner (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = LeadPatch,
    responses((status = 200, body = Single<Lead>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_lead(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<LeadPatch>,
) -> ApiResult<Json<Single<Lead>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.update_lead(&ctx, id, body, expected).await?,
    )))
}

/// Convert a lead into a contact, a company and optionally a deal, in one step.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = Conversion,
    responses((status = 200, body = Single<ConversionResult>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn convert_lead(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<Conversion>,
) -> ApiResult<Json<Single<ConversionResult>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.convert_lead(&ctx, id, body, expected).await?,
    )))
}

/// Activities of a record (`?record_type=deal&record_id=...`), newest first.
#[utoipa::path(get, path = "/api/v1/activities", tag = "crm", responses((status = 200, body = Single<Vec<Activity>>), (status = 400, body = Problem)))]
async fn list_activities(
    State(crm): State<Crm>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Vec<Activity>>>> {
    let record_type = q
        .get("record_type")
        .ok_or_else(|| Problem::bad_field("record_type", "is required"))?;
    let record_id = q
        .get("record_id")
        .and_then(|r| uuid::Uuid::parse_str(r).ok())
        .ok_or_else(|| Problem::bad_field("record_id", "must be a UUID"))?;
    Ok(Json(Single::new(
        crm.list_activities(&ctx, record_type, record_id).await?,
    )))
}

/// Log a call, email, meeting, note or task on a company, contact, lead or deal.
#[utoipa::path(post, path = "/api/v1/activities", tag = "crm", request_body = NewActivity,
    responses((status = 201, body = Single<Activity>), (status = 422, body = Problem)))]
async fn create_activity(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewActivity>,
) -> ApiResult<(StatusCode, Json<Single<Activity>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_activity(&ctx, body).await?)),
    ))
}

/// A company's history: activities and field changes, newest first.
#[utoipa::path(get, path = "/api/v1/companies/{id}/timeline", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<TimelineEntry>>), (status = 404, body = Problem)))]
async fn company_timeline(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<TimelineEntry>>>> {
    Ok(Json(Single::new(crm.timeline(&ctx, "company", id).await?)))
}

/// A contact's history.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<TimelineEntry>>), (status = 404, body = Problem)))]
async fn contact_timeline(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<TimelineEntry>>>> {
    Ok(Json(Single::new(crm.timeline(&ctx, "contact", id).await?)))
}

/// A deal's history.
#[utoipa::path(get, path = "/api/v1/deals/{id}/timeline", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<TimelineEntry>>), (status = 404, body = Problem)))]
async fn deal_timeline(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<TimelineEntry>>>> {
    Ok(Json(Single::new(crm.timeline(&ctx, "deal", id).await?)))
}

/// A lead's history.
#[utoipa::path(get, path = "/api/v1/leads/{id}/timeline", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<TimelineEntry>>), (status = 404, body = Problem)))]
async fn lead_timeline(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<TimelineEntry>>>> {
    Ok(Json(Single::new(crm.timeline(&ctx, "lead", id).await?)))
}

/// Contacts that may be the same person (same email, same phone, similar name at the same company).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/duplicates", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<PossibleDuplicate>>), (status = 404, body = Problem)))]
async fn contact_duplicates(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<PossibleDuplicate>>>> {
    Ok(Json(Single::new(crm.contact_duplicates(&ctx, id).await?)))
}

/// Merge a duplicate into this contact: activities and links move here, the duplicate is archived.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = MergeRequest,
    responses((status = 200, body = Single<Contact>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn merge_contacts(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<MergeRequest>,
) -> ApiResult<Json<Single<Contact>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.merge_contacts(&ctx, id, body, expected).await?,
    )))
}

/// Saved views / segments the caller may use.
#[utoipa::path(get, path = "/api/v1/segments", tag = "crm", responses((status = 200, body = Single<Vec<crate::segments::Segment>>)))]
async fn list_segments(
    State(crm): State<Crm>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<crate::segments::Segment>>>> {
    Ok(Json(Single::new(crm.list_segments(&ctx).await?)))
}

/// Save a segment: `{name, object, match: all|any, filters: {"industry": "Retail", "name[contains]": "gulf"}}`.
#[utoipa::path(post, path = "/api/v1/segments", tag = "crm", request_body = crate::segments::NewSegment,
    responses((status = 201, body = Single<crate::segments::Segment>), (status = 422, body = Problem)))]
async fn create_segment(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<crate::segments::NewSegment>,
) -> ApiResult<(StatusCode, Json<Single<crate::segments::Segment>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_segment(&ctx, body).await?)),
    ))
}

/// The records in a segment now (live), paged like the object's list.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members", tag = "crm", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Page<serde_json::Value>), (status = 404, body = Problem)))]
async fn segment_members(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<serde_json::Value>>> {
    Ok(Json(crm.segment_members(&ctx, id, &q).await?))
}

/// Saved import column mappings.
#[utoipa::path(get, path = "/api/v1/import-mappings", tag = "crm", responses((status = 200, body = Single<Vec<crate::import::ImportMapping>>)))]
async fn list_import_mappings(
    State(crm): State<Crm>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<crate::import::ImportMapping>>>> {
    Ok(Json(Single::new(crm.list_import_mappings(&ctx).await?)))
}

/// Save an import column mapping: `{name, object: "contacts", columns: {"first_name": "Given Name", ...}}`;
/// use it with `POST /api/v1/imports/contacts?mapping=NAME`.
#[utoipa::path(post, path = "/api/v1/import-mappings", tag = "crm", request_body = crate::import::NewImportMapping,
    responses((status = 201, body = Single<crate::import::ImportMapping>), (status = 422, body = Problem)))]
async fn create_import_mapping(
    State(crm): State<Crm>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<crate::import::NewImportMapping>,
) -> ApiResult<(StatusCode, Json<Single<crate::import::ImportMapping>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(crm.create_import_mapping(&ctx, body).await?)),
    ))
}

/// Change a contact (`If-Match` or `version`); an empty email, phone or title clears it.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "crm", params(("id" = uuid::Uuid, Path)), request_body = ContactPatch,
    responses((status = 200, body = Single<Contact>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_contact(
    State(crm): State<Crm>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<ContactPatch>,
) -> ApiResult<Json<Single<Contact>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        crm.update_contact(&ctx, id, body, expected).await?,
    )))
}
