//! HTTP routes of the helpdesk: parse, call the service, map the result.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRef, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::list::{Page, Single};
use kernel::{ApiJson, IdPath, IfMatch, Problem, TenantContext};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service::Helpdesk;

type ApiResult<T> = Result<T, Problem>;

fn expected_version(body: Option<i64>, if_match: Option<i64>) -> Result<i64, Problem> {
    body.or(if_match).ok_or_else(|| {
        HelpdeskError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        )
        .into()
    })
}

/// Every helpdesk route, documented.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(get_ticket, update_ticket))
        .routes(routes!(list_messages, create_message))
        .routes(routes!(list_attachments, upload_attachment))
        .routes(routes!(download_attachment))
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(update_policy))
        .routes(routes!(recompute_policy))
        .routes(routes!(list_calendars, create_calendar))
        .routes(routes!(update_calendar))
        .routes(routes!(list_teams, create_team))
        .merge(crate::kb::router())
        .merge(crate::csat::router())
        .merge(crate::analytics::router())
        .merge(crate::insights::router())
        .merge(crate::assignment::router())
}

/// Tickets, most urgent SLA first: `?view=mine|unassigned|at_risk|breached`, filters
/// (`?status=Open`, `?priority[in]=Critical,High`, `?assignee_id=`, `?team_id=`,
/// `?company_id=`, `?tags[contains]=`), `?sort=` (`sla_due_at`, `created_at`,
/// `updated_at`, `number`, `priority_rank`), `?limit=`, `?cursor=`.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "helpdesk",
    params(("view" = Option<String>, Query, description = "mine, unassigned, at_risk or breached")),
    responses((status = 200, body = Page<Ticket>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_tickets(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Ticket>>> {
    Ok(Json(helpdesk.list_tickets(&ctx, &q).await?))
}

/// Open a ticket (numbered per organisation and year, on the default SLA policy).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "helpdesk", request_body = NewTicket,
    responses((status = 201, body = Single<Ticket>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_ticket(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, Json<Single<Ticket>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_ticket(&ctx, body).await?)),
    ))
}

/// One ticket with its SLA clock.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Ticket>), (status = 404, body = Problem)))]
async fn get_ticket(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Ticket>>> {
    Ok(Json(Single::new(helpdesk.get_ticket(&ctx, id).await?)))
}

/// Change a ticket (`If-Match` or `version`): status (allowed transitions: Open → In
/// Progress / Waiting on Customer / Resolved; In Progress → Waiting on Customer /
/// Resolved; Waiting on Customer → In Progress / Resolved; Resolved → Closed / Open),
/// priority, type, assignee, team, tags, subject.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)), request_body = TicketPatch,
    responses((status = 200, body = Single<Ticket>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_ticket(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<TicketPatch>,
) -> ApiResult<Json<Single<Ticket>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        helpdesk.update_ticket(&ctx, id, body, expected).await?,
    )))
}

/// The conversation, oldest first. `?audience=customer` gives the customer's view
/// (internal notes left out).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "helpdesk",
    params(("id" = uuid::Uuid, Path), ("audience" = Option<String>, Query, description = "agent (default) or customer: notes are left out for customer")),
    responses((status = 200, body = Single<Vec<Message>>), (status = 404, body = Problem)))]
async fn list_messages(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Vec<Message>>>> {
    let audience = match q.get("audience").map(String::as_str) {
        None | Some("agent") => Audience::Agent,
        Some("customer") => Audience::Customer,
        Some(_) => return Err(Problem::bad_field("audience", "must be agent or customer")),
    };
    Ok(Json(Single::new(
        helpdesk.list_messages(&ctx, id, audience).await?,
    )))
}

/// Add a customer message, an agent reply (the first is the first response) or an
/// internal note.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = NewMessage,
    responses((status = 201, body = Single<Message>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_message(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<Single<Message>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.add_message(&ctx, id, body).await?)),
    ))
}

/// A ticket's attachments.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<Attachment>>), (status = 404, body = Problem)))]
async fn list_attachments(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<Vec<Attachment>>>> {
    Ok(Json(Single::new(
        helpdesk.list_attachments(&ctx, id).await?,
    )))
}

/// Attach a file: the raw bytes as the body, its type as `Content-Type`, its name as
/// `?filename=`. Refused: a type off the allow-list (415, `Content-Type`), content that
/// does not match the type (422, `file`), a file over the size limit (413, `file`).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", tag = "helpdesk",
    params(("id" = uuid::Uuid, Path), ("filename" = String, Query)),
    request_body(content = String, content_type = "application/octet-stream", description = "The file's bytes"),
    responses((status = 201, body = Single<Attachment>), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn upload_attachment(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Single<Attachment>>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let filename = q.get("filename").map(String::as_str);
    let attachment = helpdesk
        .upload_attachment(&ctx, id, content_type, filename, body)
        .await?;
    Ok((StatusCode::CREATED, Json(Single::new(attachment))))
}

/// Download an attachment (only with access to its ticket).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = String, content_type = "application/octet-stream", description = "The file's bytes"), (status = 404, body = Problem)))]
async fn download_attachment(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let download = helpdesk.download_attachment(&ctx, id).await?;
    let ascii: String = download
        .attachment
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                download.attachment.content_type.clone(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
            (
                header::CONTENT_LENGTH,
                download.attachment.size_bytes.to_string(),
            ),
        ],
        download.body,
    )
        .into_response())
}

/// SLA policies (the default one, with seed 000's targets, exists from first use).
#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "helpdesk",
    responses((status = 200, body = Single<Vec<SlaPolicy>>), (status = 403, body = Problem)))]
async fn list_policies(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<SlaPolicy>>>> {
    Ok(Json(Single::new(helpdesk.list_policies(&ctx).await?)))
}

/// Add an SLA policy.
#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "helpdesk", request_body = NewSlaPolicy,
    responses((status = 201, body = Single<SlaPolicy>), (status = 422, body = Problem)))]
async fn create_policy(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewSlaPolicy>,
) -> ApiResult<(StatusCode, Json<Single<SlaPolicy>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_policy(&ctx, body).await?)),
    ))
}

/// Change an SLA policy (`If-Match` or `version`). Open tickets keep their deadlines
/// until `POST /api/v1/sla-policies/{id}/recompute`.
#[utoipa::path(patch, path = "/api/v1/sla-policies/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = SlaPolicyPatch,
    responses((status = 200, body = Single<SlaPolicy>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_policy(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<SlaPolicyPatch>,
) -> ApiResult<Json<Single<SlaPolicy>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        helpdesk.update_policy(&ctx, id, body, expected).await?,
    )))
}

/// Recompute the SLA deadlines of the policy's open tickets with its current targets and
/// calendar.
#[utoipa::path(post, path = "/api/v1/sla-policies/{id}/recompute", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<RecomputeReport>), (status = 404, body = Problem)))]
async fn recompute_policy(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<RecomputeReport>>> {
    Ok(Json(Single::new(
        helpdesk.recompute_policy(&ctx, id).await?,
    )))
}

/// Working calendars (the default one, 24×7, exists from first use).
#[utoipa::path(get, path = "/api/v1/calendars", tag = "helpdesk",
    responses((status = 200, body = Single<Vec<CalendarRecord>>), (status = 403, body = Problem)))]
async fn list_calendars(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<CalendarRecord>>>> {
    Ok(Json(Single::new(helpdesk.list_calendars(&ctx).await?)))
}

/// Add a working calendar (IANA time zone, weekly hours, holidays).
#[utoipa::path(post, path = "/api/v1/calendars", tag = "helpdesk", request_body = NewCalendar,
    responses((status = 201, body = Single<CalendarRecord>), (status = 422, body = Problem)))]
async fn create_calendar(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewCalendar>,
) -> ApiResult<(StatusCode, Json<Single<CalendarRecord>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_calendar(&ctx, body).await?)),
    ))
}

/// Change a calendar (`If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/calendars/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = CalendarPatch,
    responses((status = 200, body = Single<CalendarRecord>), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_calendar(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<CalendarPatch>,
) -> ApiResult<Json<Single<CalendarRecord>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        helpdesk.update_calendar(&ctx, id, body, expected).await?,
    )))
}

/// Support teams.
#[utoipa::path(get, path = "/api/v1/teams", tag = "helpdesk",
    responses((status = 200, body = Single<Vec<Team>>)))]
async fn list_teams(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<Team>>>> {
    Ok(Json(Single::new(helpdesk.list_teams(&ctx).await?)))
}

/// Add a support team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "helpdesk", request_body = NewTeam,
    responses((status = 201, body = Single<Team>), (status = 422, body = Problem)))]
async fn create_team(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewTeam>,
) -> ApiResult<(StatusCode, Json<Single<Team>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_team(&ctx, body).await?)),
    ))
}
