//! Customer satisfaction (CSAT): every time a ticket becomes Resolved, a request is
//! recorded (`ticket_csat`, numbered per resolution) with the event
//! `ticket.csat_requested`; the customer's answer — a rating 1 to 5 and an optional
//! comment — is accepted once per resolution (`ticket.csat_rated`). The rating of the
//! latest resolution is copied onto the ticket (`csat` in its JSON) and cleared when the
//! ticket is resolved again.

use axum::Json;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kernel::list::Single;
use kernel::{ApiJson, IdPath, Problem, SharedClock, TenantContext, Tx, audit, on_tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::kb::record_event;
use crate::model::{HelpdeskError, TicketStatus};
use crate::service::Helpdesk;

/// The customer's rating of a ticket's latest resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketCsat {
    /// 1 (very unhappy) to 5 (very happy).
    pub rating: i32,
    /// The customer's words, if any.
    pub comment: Option<String>,
    /// When it was given.
    pub rated_at: DateTime<Utc>,
}

impl TicketCsat {
    /// From the ticket's stored columns (all set, or no rating).
    pub(crate) fn from_columns(
        rating: Option<i32>,
        comment: Option<String>,
        rated_at: Option<DateTime<Utc>>,
    ) -> Option<Self> {
        match (rating, rated_at) {
            (Some(rating), Some(rated_at)) => Some(TicketCsat {
                rating,
                comment,
                rated_at,
            }),
            _ => None,
        }
    }
}

/// `POST /api/v1/tickets/{id}/csat`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCsat {
    /// 1 to 5.
    pub rating: i64,
    /// Optional comment (at most 5000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Records the CSAT request of a ticket that has just become Resolved (inside the
/// status change's transaction): a new `ticket_csat` row for this resolution, the
/// previous resolution's rating cleared from the ticket, and `ticket.csat_requested`.
pub(crate) async fn request(
    tx: &mut Tx,
    clock: &SharedClock,
    ctx: &TenantContext,
    ticket_id: Uuid,
    number: &str,
) -> Result<(), HelpdeskError> {
    let org = ctx.org_id();
    let now = clock.now();
    let last: Option<i32> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT MAX(resolution) FROM ticket_csat WHERE org_id = $1 AND ticket_id = $2"
    )
    .bind(org)
    .bind(ticket_id)
    .fetch_one(c)
    .await)?;
    let resolution = last.unwrap_or(0).saturating_add(1);
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_csat (org_id, ticket_id, resolution, requested_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(org)
    .bind(ticket_id)
    .bind(resolution)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tickets SET csat_rating = NULL, csat_comment = NULL, csat_rated_at = NULL \
         WHERE org_id = $1 AND id = $2"
    )
    .bind(org)
    .bind(ticket_id)
    .execute(c)
    .await
    .map(|_| ()))?;
    record_event(
        tx,
        clock,
        ctx,
        "ticket.csat_requested",
        "ticket",
        ticket_id,
        serde_json::json!({"number": number, "resolution": resolution}),
    )
    .await
}

impl Helpdesk {
    /// Records the customer's rating of the ticket's latest resolution (`tickets:update`
    /// and access to the ticket). 422 naming `rating` outside 1..5 (or `comment` too
    /// long); 409 when the ticket is not resolved or this resolution is already rated.
    pub async fn rate_ticket(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
        new: NewCsat,
    ) -> Result<TicketCsat, HelpdeskError> {
        ctx.authorize("tickets:update")?;
        // Tenancy and team visibility, read before the write transaction begins.
        self.get_ticket(ctx, ticket_id).await?;
        let mut errors = Vec::new();
        if !(1..=5).contains(&new.rating) {
            errors.push(kernel::FieldError::new(
                "rating",
                "must be a whole number from 1 to 5",
            ));
        }
        let comment = new
            .comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
            errors.push(kernel::FieldError::new(
                "comment",
                "must be at most 5000 characters",
            ));
        }
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let rating = i32::try_from(new.rating).unwrap_or(0);
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let status: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT status FROM tickets WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(ticket_id)
        .fetch_optional(c)
        .await)?;
        let status = status
            .and_then(|s| TicketStatus::parse(&s))
            .ok_or(HelpdeskError::NotFound("ticket"))?;
        if !status.is_done() {
            return Err(HelpdeskError::Conflict(
                "the ticket is not resolved: CSAT is asked for on resolution".to_owned(),
            ));
        }
        let open: Option<(i32, Option<i32>)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT resolution, rating FROM ticket_csat WHERE org_id = $1 AND ticket_id = $2 \
             ORDER BY resolution DESC LIMIT 1"
        )
        .bind(org)
        .bind(ticket_id)
        .fetch_optional(c)
        .await)?;
        let resolution = match open {
            Some((resolution, None)) => resolution,
            Some((_, Some(_))) => {
                return Err(HelpdeskError::Conflict(
                    "this resolution was already rated".to_owned(),
                ));
            }
            None => {
                return Err(HelpdeskError::Conflict(
                    "no CSAT request is open for this ticket".to_owned(),
                ));
            }
        };
        let actor = ctx.actor().label();
        let changed = on_tx!(tx, |c| sqlx::query(
            "UPDATE ticket_csat SET rating = $4, comment = $5, rated_at = $6, rated_by = $7 \
             WHERE org_id = $1 AND ticket_id = $2 AND resolution = $3 AND rating IS NULL"
        )
        .bind(org)
        .bind(ticket_id)
        .bind(resolution)
        .bind(rating)
        .bind(&comment)
        .bind(now)
        .bind(&actor)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(HelpdeskError::Conflict(
                "this resolution was already rated".to_owned(),
            ));
        }
        on_tx!(tx, |c| sqlx::query(
            "UPDATE tickets SET csat_rating = $3, csat_comment = $4, csat_rated_at = $5 \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(ticket_id)
        .bind(rating)
        .bind(&comment)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))?;
        let csat = TicketCsat {
            rating,
            comment,
            rated_at: now,
        };
        // Audit row and `ticket.csat_rated` event; the comment is the customer's own
        // words and stays out of both.
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "ticket.csat_rated",
            "ticket",
            ticket_id,
            &serde_json::Value::Null,
            &serde_json::json!({"resolution": resolution, "rating": rating, "rated_at": now}),
        )
        .await?;
        tx.commit().await?;
        Ok(csat)
    }
}

/// The CSAT route.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(rate_ticket))
}

/// Record the customer's rating of the ticket's latest resolution (once per resolution;
/// `tickets:update`). 409 when the ticket is not resolved or already rated; 422 naming
/// `rating` outside 1..5.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/csat", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = NewCsat,
    responses((status = 201, body = Single<TicketCsat>), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rate_ticket(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewCsat>,
) -> Result<(StatusCode, Json<Single<TicketCsat>>), Problem> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.rate_ticket(&ctx, id, body).await?)),
    ))
}
