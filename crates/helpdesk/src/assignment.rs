//! Assignment rules: per team a method — `manual`, `round_robin` or `least_open` —
//! optionally restricted by skill (a ticket's tags matched against the members' skills),
//! team members with skills, auto-assignment when a ticket is created for a team, and
//! the `ticket.assigned` audit row and event for every (re)assignment.
//!
//! Round-robin is deterministic and safe under concurrency: the team row carries a
//! counter bumped by `UPDATE ... RETURNING` inside the ticket's transaction, so
//! concurrent creations queue on that row (PostgreSQL row lock, SQLite's write lock)
//! and each gets the next member of the eligible list ordered by user id. Least-open
//! takes the same row lock first, then counts (so two concurrent creations cannot both
//! see the same "least loaded" agent), and picks the eligible member with the fewest
//! open (not Resolved/Closed) tickets in the organisation, ties to the lowest user id.
//! With skill matching on, eligible members are those sharing a skill with the ticket's
//! tags; when none does (or the ticket has no tags), every member is eligible. A team
//! without members leaves the ticket unassigned.

use axum::Json;
use axum::extract::{FromRef, State};
use kernel::audit::{self, AuditEntry};
use kernel::events::{self, NewEvent};
use kernel::list::Single;
use kernel::{
    ApiJson, FieldError, IdPath, Problem, SharedClock, TenantContext, Tx, on_pool, on_tx,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::{HelpdeskError, Team};
use crate::service::Helpdesk;

/// How a team's new tickets get an assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentMethod {
    /// Nobody is assigned automatically.
    #[default]
    Manual,
    /// Members in turn (ordered by user id).
    RoundRobin,
    /// The member with the fewest open tickets.
    LeastOpen,
}

impl AssignmentMethod {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentMethod::Manual => "manual",
            AssignmentMethod::RoundRobin => "round_robin",
            AssignmentMethod::LeastOpen => "least_open",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "manual" => Some(AssignmentMethod::Manual),
            "round_robin" => Some(AssignmentMethod::RoundRobin),
            "least_open" => Some(AssignmentMethod::LeastOpen),
            _ => None,
        }
    }
}

/// A team member with skills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamMember {
    /// User id.
    pub user_id: Uuid,
    /// Skill tags (lower-cased), matched against ticket tags.
    #[serde(default)]
    pub skills: Vec<String>,
}

/// `PATCH /api/v1/teams/{id}`: absent fields are left alone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TeamPatch {
    /// Name.
    pub name: Option<String>,
    /// Only members (and holders of `tickets:manage`) see its tickets.
    pub restricted: Option<bool>,
    /// `manual`, `round_robin` or `least_open`.
    pub assignment_method: Option<AssignmentMethod>,
    /// Only members sharing a skill with the ticket's tags are eligible.
    pub assign_by_skill: Option<bool>,
}

/// Who a ticket was given to, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// The assignee.
    pub user_id: Uuid,
    /// The team's method.
    pub method: AssignmentMethod,
}

/// Most members a team may have.
const MAX_MEMBERS: usize = 500;
/// Most skills per member.
const MAX_SKILLS: usize = 50;

fn clean_skills(skills: &[String], at: usize, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (j, skill) in skills.iter().enumerate() {
        let skill = skill.trim().to_lowercase();
        if skill.is_empty() || skill.chars().count() > 50 {
            errors.push(FieldError::new(
                format!("[{at}].skills[{j}]"),
                "must be 1 to 50 characters",
            ));
        } else if !out.contains(&skill) {
            out.push(skill);
        }
    }
    if out.len() > MAX_SKILLS {
        errors.push(FieldError::new(
            format!("[{at}].skills"),
            format!("at most {MAX_SKILLS} skills"),
        ));
    }
    out
}

/// Picks the assignee of a new ticket of `team` with `tags`, inside the ticket's
/// transaction. `None` for a manual team, an unknown team or a team without members.
pub(crate) async fn pick(
    tx: &mut Tx,
    org: Uuid,
    team: Uuid,
    tags: &[String],
) -> Result<Option<Pick>, HelpdeskError> {
    // The row lock first: concurrent assignments for this team queue here.
    let locked: Option<(String, bool, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "UPDATE helpdesk_teams SET assignment_counter = assignment_counter + 1 \
         WHERE org_id = $1 AND id = $2 AND assignment_method <> 'manual' \
         RETURNING assignment_method, assign_by_skill, assignment_counter"
    )
    .bind(org)
    .bind(team)
    .fetch_optional(c)
    .await)?;
    let Some((method, by_skill, counter)) = locked else {
        return Ok(None);
    };
    let method = AssignmentMethod::parse(&method)
        .ok_or_else(|| HelpdeskError::Corrupt(format!("assignment method `{method}`")))?;
    let members: Vec<(Uuid, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT user_id, skills FROM helpdesk_team_members WHERE org_id = $1 AND team_id = $2 ORDER BY user_id"
    )
    .bind(org)
    .bind(team)
    .fetch_all(c)
    .await
    })?;
    let mut eligible: Vec<Uuid> = Vec::new();
    if by_skill && !tags.is_empty() {
        for (user, skills) in &members {
            let skills: Vec<String> = serde_json::from_str(skills)
                .map_err(|e| HelpdeskError::Corrupt(format!("member skills: {e}")))?;
            if skills.iter().any(|s| tags.contains(s)) {
                eligible.push(*user);
            }
        }
    }
    if eligible.is_empty() {
        eligible = members.iter().map(|(u, _)| *u).collect();
    }
    if eligible.is_empty() {
        return Ok(None);
    }
    let user_id = match method {
        AssignmentMethod::Manual => return Ok(None),
        AssignmentMethod::RoundRobin => {
            let turn = usize::try_from((counter - 1).max(0)).unwrap_or(0);
            eligible[turn % eligible.len()]
        }
        AssignmentMethod::LeastOpen => {
            let counts: Vec<(Uuid, i64)> = on_tx!(tx, |c| {
                sqlx::query_as(
                    // One index probe per member (tickets_assignee), not a scan of the org.
                    "SELECT m.user_id, (SELECT count(*) FROM tickets t WHERE t.org_id = m.org_id \
                 AND t.assignee_id = m.user_id AND t.status NOT IN ('Resolved', 'Closed')) \
                 FROM helpdesk_team_members m WHERE m.org_id = $1 AND m.team_id = $2",
                )
                .bind(org)
                .bind(team)
                .fetch_all(c)
                .await
            })?;
            let load = |u: &Uuid| counts.iter().find(|(a, _)| a == u).map_or(0, |(_, n)| *n);
            // `eligible` is ordered by user id, and min_by_key keeps the first minimum.
            eligible
                .iter()
                .copied()
                .min_by_key(|u| load(u))
                .unwrap_or(eligible[0])
        }
    };
    Ok(Some(Pick { user_id, method }))
}

/// Records an assignment change of a ticket: an audit row (`ticket.assigned`, the
/// assignee before and after and the method) and the `ticket.assigned` event with
/// `{ticket_id, number, from, to, method}`, both in the change's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_assignment(
    tx: &mut Tx,
    clock: &SharedClock,
    ctx: &TenantContext,
    ticket_id: Uuid,
    number: &str,
    from: Option<Uuid>,
    to: Option<Uuid>,
    method: AssignmentMethod,
) -> Result<(), HelpdeskError> {
    audit::append(
        tx,
        clock,
        AuditEntry::by(
            ctx,
            "ticket.assigned",
            "ticket",
            Some(ticket_id.to_string()),
        )
        .with_changes(serde_json::json!({
            "assignee_id": {"before": from, "after": to},
            "method": method.as_str(),
        })),
    )
    .await?;
    events::record(
        tx,
        clock,
        NewEvent {
            event_type: "ticket.assigned".to_owned(),
            org_id: ctx.org_id(),
            actor: Some(ctx.actor().label()),
            record_type: "ticket".to_owned(),
            record_id: ticket_id,
            data: serde_json::json!({
                "ticket_id": ticket_id,
                "number": number,
                "from": from,
                "to": to,
                "method": method.as_str(),
            }),
        },
    )
    .await?;
    Ok(())
}

type TeamRow = (
    Uuid,
    String,
    bool,
    chrono::DateTime<chrono::Utc>,
    String,
    bool,
);

impl Helpdesk {
    async fn team_tx(&self, tx: &mut Tx, org: Uuid, id: Uuid) -> Result<Team, HelpdeskError> {
        let row: Option<TeamRow> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT id, name, restricted, created_at, assignment_method, assign_by_skill FROM helpdesk_teams \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await
        })?;
        let (id, name, restricted, created_at, method, assign_by_skill) =
            row.ok_or(HelpdeskError::NotFound("team"))?;
        let member_ids: Vec<Uuid> = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "SELECT user_id FROM helpdesk_team_members WHERE org_id = $1 AND team_id = $2 ORDER BY user_id"
        )
        .bind(org)
        .bind(id)
        .fetch_all(c)
        .await
        })?;
        Ok(Team {
            id,
            name,
            member_ids,
            restricted,
            created_at,
            assignment_method: AssignmentMethod::parse(&method)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("assignment method `{method}`")))?,
            assign_by_skill,
        })
    }

    /// A team's members with their skills (`tickets:read`).
    pub async fn team_members(
        &self,
        ctx: &TenantContext,
        team: Uuid,
    ) -> Result<Vec<TeamMember>, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let org = ctx.org_id();
        let exists: Option<Uuid> = on_pool!(self.db, |p| sqlx::query_scalar(
            "SELECT id FROM helpdesk_teams WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(team)
        .fetch_optional(p)
        .await)?;
        exists.ok_or(HelpdeskError::NotFound("team"))?;
        let rows: Vec<(Uuid, String)> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT user_id, skills FROM helpdesk_team_members WHERE org_id = $1 AND team_id = $2 ORDER BY user_id"
        )
        .bind(org)
        .bind(team)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(user_id, skills)| {
                Ok(TeamMember {
                    user_id,
                    skills: serde_json::from_str(&skills)
                        .map_err(|e| HelpdeskError::Corrupt(format!("member skills: {e}")))?,
                })
            })
            .collect()
    }

    /// Replaces a team's members and their skills (`tickets:manage`), audited
    /// (`team.members_updated`).
    pub async fn set_team_members(
        &self,
        ctx: &TenantContext,
        team: Uuid,
        members: Vec<TeamMember>,
    ) -> Result<Vec<TeamMember>, HelpdeskError> {
        ctx.authorize("tickets:manage")?;
        let mut errors = Vec::new();
        if members.len() > MAX_MEMBERS {
            errors.push(FieldError::new(
                "members",
                format!("at most {MAX_MEMBERS} members"),
            ));
        }
        let mut clean: Vec<TeamMember> = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            let skills = clean_skills(&member.skills, i, &mut errors);
            if clean.iter().any(|m| m.user_id == member.user_id) {
                errors.push(FieldError::new(format!("[{i}].user_id"), "listed twice"));
            }
            if member.user_id.is_nil() {
                errors.push(FieldError::new(
                    format!("[{i}].user_id"),
                    "must be a user id",
                ));
            }
            clean.push(TeamMember {
                user_id: member.user_id,
                skills,
            });
        }
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        clean.sort_by_key(|m| m.user_id);
        let org = ctx.org_id();
        let now = self.now();
        let before = self.team_members(ctx, team).await?;
        let mut tx = self.db.begin().await?;
        self.team_tx(&mut tx, org, team).await?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM helpdesk_team_members WHERE org_id = $1 AND team_id = $2"
        )
        .bind(org)
        .bind(team)
        .execute(c)
        .await
        .map(|_| ()))?;
        for member in &clean {
            let skills = serde_json::to_string(&member.skills).unwrap_or_else(|_| "[]".to_owned());
            on_tx!(tx, |c| {
                sqlx::query(
                "INSERT INTO helpdesk_team_members (org_id, team_id, user_id, added_at, skills) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(org)
            .bind(team)
            .bind(member.user_id)
            .bind(now)
            .bind(&skills)
            .execute(c)
            .await
            .map(|_| ())
            })?;
        }
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "team.members_updated",
            "team",
            team,
            &serde_json::json!({"members": before}),
            &serde_json::json!({"members": clean}),
        )
        .await?;
        tx.commit().await?;
        Ok(clean)
    }

    /// Changes a team's name, visibility or assignment rules (`tickets:manage`), audited.
    pub async fn update_team(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: TeamPatch,
    ) -> Result<Team, HelpdeskError> {
        ctx.authorize("tickets:manage")?;
        let name = match &patch.name {
            Some(name) => {
                let name = name.trim().to_owned();
                if name.is_empty() || name.chars().count() > 100 {
                    return Err(HelpdeskError::field("name", "must be 1 to 100 characters"));
                }
                Some(name)
            }
            None => None,
        };
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let before = self.team_tx(&mut tx, org, id).await?;
        let mut after = before.clone();
        if let Some(name) = name {
            after.name = name;
        }
        if let Some(restricted) = patch.restricted {
            after.restricted = restricted;
        }
        if let Some(method) = patch.assignment_method {
            after.assignment_method = method;
        }
        if let Some(by_skill) = patch.assign_by_skill {
            after.assign_by_skill = by_skill;
        }
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE helpdesk_teams SET name = $3, restricted = $4, assignment_method = $5, assign_by_skill = $6, \
             version = version + 1 WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .bind(&after.name)
        .bind(after.restricted)
        .bind(after.assignment_method.as_str())
        .bind(after.assign_by_skill)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "team.updated",
            "team",
            id,
            &serde_json::to_value(&before).unwrap_or_default(),
            &serde_json::to_value(&after).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// The team and member routes.
pub(crate) fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(update_team))
        .routes(routes!(list_members, set_members))
}

/// Change a team: name, `restricted`, `assignment_method` (`manual`, `round_robin`,
/// `least_open`) and `assign_by_skill` (`tickets:manage`).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = TeamPatch,
    responses((status = 200, body = Single<Team>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_team(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TeamPatch>,
) -> Result<Json<Single<Team>>, Problem> {
    Ok(Json(Single::new(
        helpdesk.update_team(&ctx, id, body).await?,
    )))
}

/// A team's members and their skills.
#[utoipa::path(get, path = "/api/v1/teams/{id}/members", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<Vec<TeamMember>>), (status = 404, body = Problem)))]
async fn list_members(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> Result<Json<Single<Vec<TeamMember>>>, Problem> {
    Ok(Json(Single::new(helpdesk.team_members(&ctx, id).await?)))
}

/// Replace a team's members: `[{user_id, skills: [..]}]` (`tickets:manage`).
#[utoipa::path(put, path = "/api/v1/teams/{id}/members", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = Vec<TeamMember>,
    responses((status = 200, body = Single<Vec<TeamMember>>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_members(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<Vec<TeamMember>>,
) -> Result<Json<Single<Vec<TeamMember>>>, Problem> {
    Ok(Json(Single::new(
        helpdesk.set_team_members(&ctx, id, body).await?,
    )))
}
