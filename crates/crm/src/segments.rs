//! Saved views / segments: a named filter (the list syntax: `industry=Retail`,
//! `name[contains]=acme`, `created_at[gte]=...`) over companies, contacts, leads or deals,
//! matching all or any of its conditions. Membership is live: it is the filtered list,
//! computed when asked, so later modules (automation, analytics) can target a segment.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kernel::list::Page;
use kernel::{FieldError, TenantContext, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::CrmError;
use crate::service::{COMPANY_LIST, CONTACT_LIST, Crm, DEAL_LIST};

/// Kinds of record a segment can select.
const OBJECTS: [&str; 4] = ["companies", "contacts", "leads", "deals"];

/// A segment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    /// Id.
    pub id: Uuid,
    /// Name, unique in the organisation.
    pub name: String,
    /// `companies`, `contacts`, `leads` or `deals`.
    pub object: String,
    /// `all` (every condition) or `any` (at least one).
    #[serde(rename = "match")]
    pub match_mode: String,
    /// Conditions in the list syntax, e.g. `{"industry": "Retail", "name[contains]": "gulf"}`.
    pub filters: BTreeMap<String, String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/segments`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSegment {
    /// Name.
    pub name: String,
    /// `companies`, `contacts`, `leads` or `deals`.
    pub object: String,
    /// `all` (default) or `any`.
    #[serde(default, rename = "match")]
    pub match_mode: Option<String>,
    /// Conditions.
    pub filters: BTreeMap<String, String>,
}

#[derive(FromRow)]
struct SegmentRow {
    id: Uuid,
    name: String,
    object: String,
    match_any: bool,
    filters: String,
    created_at: DateTime<Utc>,
}

impl From<SegmentRow> for Segment {
    fn from(r: SegmentRow) -> Self {
        Segment {
            id: r.id,
            name: r.name,
            object: r.object,
            match_mode: if r.match_any { "any" } else { "all" }.to_owned(),
            filters: serde_json::from_str(&r.filters).unwrap_or_default(),
            created_at: r.created_at,
        }
    }
}

impl Crm {
    /// Saves a segment after checking every condition against the object's fields.
    pub async fn create_segment(
        &self,
        ctx: &TenantContext,
        new: NewSegment,
    ) -> Result<Segment, CrmError> {
        let mut errors = Vec::new();
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if !OBJECTS.contains(&new.object.as_str()) {
            errors.push(FieldError::new(
                "object",
                format!("must be one of {}", OBJECTS.join(", ")),
            ));
        }
        let any = match new.match_mode.as_deref() {
            None | Some("all") => false,
            Some("any") => true,
            Some(_) => {
                errors.push(FieldError::new("match", "must be all or any"));
                false
            }
        };
        if new.filters.is_empty() {
            errors.push(FieldError::new("filters", "give at least one condition"));
        }
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        ctx.authorize(&format!("{}:read", new.object))?;
        let spec = match new.object.as_str() {
            "companies" => COMPANY_LIST,
            "contacts" => CONTACT_LIST,
            "deals" => DEAL_LIST,
            _ => crate::engagement::LEAD_LIST,
        };
        if let Err(CrmError::Validation(errors)) = self
            .plan_list(
                ctx.org_id(),
                &new.object,
                &spec,
                &BTreeMap::new(),
                &[],
                Some((&new.filters, any)),
            )
            .await
        {
            let errors = errors
                .into_iter()
                .map(|e| FieldError::new(format!("filters.{}", e.field), e.message))
                .collect();
            return Err(CrmError::Validation(errors));
        }
        let segment = Segment {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
            object: new.object,
            match_mode: if any { "any" } else { "all" }.to_owned(),
            filters: new.filters,
            created_at: self.now(),
        };
        let mut tx = self.db.begin().await?;
        let taken: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM segments WHERE org_id = $1 AND name = $2"
        )
        .bind(ctx.org_id())
        .bind(&segment.name)
        .fetch_optional(c)
        .await)?;
        if taken.is_some() {
            return Err(CrmError::field("name", "a segment with this name exists"));
        }
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO segments (org_id, id, name, object, match_any, filters, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(ctx.org_id())
        .bind(segment.id)
        .bind(&segment.name)
        .bind(&segment.object)
        .bind(any)
        .bind(serde_json::to_string(&segment.filters).unwrap_or_else(|_| "{}".to_owned()))
        .bind(ctx.actor().user_id())
        .bind(segment.created_at)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(&segment).unwrap_or_default();
        self.record(
            &mut tx,
            ctx,
            "segment.created",
            "segment",
            segment.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(segment)
    }

    /// The organisation's segments (those over records the caller may read).
    pub async fn list_segments(&self, ctx: &TenantContext) -> Result<Vec<Segment>, CrmError> {
        let rows: Vec<SegmentRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, object, match_any, filters, created_at FROM segments WHERE org_id = $1 ORDER BY name"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(Segment::from)
            .filter(|s| ctx.can(&format!("{}:read", s.object)))
            .collect())
    }

    async fn segment(&self, ctx: &TenantContext, id: Uuid) -> Result<Segment, CrmError> {
        let row: Option<SegmentRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, object, match_any, filters, created_at FROM segments WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        row.map(Segment::from).ok_or(CrmError::NotFound("segment"))
    }

    /// The records in a segment now, paged like the object's list (its own filters and
    /// sort apply on top).
    pub async fn segment_members(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<serde_json::Value>, CrmError> {
        let segment = self.segment(ctx, id).await?;
        let group = Some((&segment.filters, segment.match_mode == "any"));
        fn to_json<T: Serialize>(page: Page<T>) -> Page<serde_json::Value> {
            Page {
                data: page
                    .data
                    .iter()
                    .map(|r| serde_json::to_value(r).unwrap_or_default())
                    .collect(),
                meta: page.meta,
            }
        }
        Ok(match segment.object.as_str() {
            "companies" => to_json(self.list_companies_in(ctx, query, group).await?),
            "contacts" => to_json(self.list_contacts_in(ctx, query, group).await?),
            "deals" => to_json(self.list_deals_in(ctx, query, group).await?),
            _ => to_json(self.list_leads_in(ctx, query, group).await?),
        })
    }
}
