//! Outlets and their link to stores.
//!
//! An outlet is what a distributor's spreadsheet names (`Outlet Code`, `Outlet Name`; the
//! import creates `sales_fact_outlets`); a store is a CRM company with sales attributes.
//! Linking outlet codes to a store (`sales_fact_outlets.store_id`) makes the imported
//! facts of those outlets part of the store's purchase history, which the predictions
//! (next order, upsell, call list) read next to its sales orders. A store may have several
//! outlets (a chain's branches reported separately); an outlet belongs to one store at
//! most. A link survives re-imports: the import updates an outlet's name, channel and
//! area, never its store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kernel::{TenantContext, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use kernel::problem::FieldError;

use crate::model::SalesError;
use crate::service::{Sales, record_action};

/// Outlets in one listing, at most.
pub const MAX_LIMIT: usize = 500;
/// Outlet codes one store may be linked to.
pub const MAX_LINKED: usize = 200;

/// An outlet as the imported spreadsheets name it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Outlet {
    /// The spreadsheet's outlet code (unique in the organisation).
    pub outlet_code: String,
    /// Name as last imported.
    pub outlet_name: String,
    /// Channel as last imported.
    pub channel: String,
    /// Region.
    pub region: String,
    /// Province.
    pub province: String,
    /// Precision area.
    pub precision_area: String,
    /// The store its facts count for, if linked.
    pub store_id: Option<Uuid>,
}

/// `PUT /api/v1/stores/{id}/outlets`: the outlet codes the store's history reads.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutletLinks {
    /// Every outlet code to link (the set replaces the current one; `[]` unlinks all).
    pub outlet_codes: Vec<String>,
}

/// What `GET /api/v1/sales/outlets` asks for.
#[derive(Debug, Clone, Default)]
pub struct OutletQuery {
    /// Part of the code or name (case-insensitive).
    pub q: Option<String>,
    /// `Some(true)`: linked outlets only; `Some(false)`: unlinked only.
    pub linked: Option<bool>,
    /// At most this many, ordered by code (default 50).
    pub limit: usize,
    /// Codes after this one (the previous page's last code).
    pub after: Option<String>,
}

impl OutletQuery {
    /// From query parameters; 422 naming the parameter when one is unreadable.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, SalesError> {
        let text = |name: &str| {
            params
                .get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let q = text("q");
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(SalesError::field("q", "must be at most 200 characters"));
        }
        let linked = match text("linked").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(SalesError::field("linked", "must be true or false")),
        };
        let limit = match text("limit") {
            None => 50,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(SalesError::field(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        Ok(Self {
            q,
            linked,
            limit,
            after: text("after"),
        })
    }
}

/// `$first, $first+1, ...`: `n` numbered placeholders.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const OUTLET_SELECT: &str = "SELECT o.outlet_code, o.outlet_name, o.channel, a.region, a.province, \
     a.precision_area, o.store_id FROM sales_fact_outlets o \
     JOIN sales_fact_areas a ON a.id = o.area_id WHERE o.org_id = $1";

impl Sales {
    /// Outlets of the organisation by code (`sales:read`): `q` matches code or name.
    pub async fn list_outlets(
        &self,
        ctx: &TenantContext,
        query: &OutletQuery,
    ) -> Result<Vec<Outlet>, SalesError> {
        ctx.authorize("sales:read")?;
        let mut sql = OUTLET_SELECT.to_owned();
        let mut texts: Vec<String> = Vec::new();
        if let Some(q) = &query.q {
            texts.push(kernel::list::contains_pattern(q));
            let n = texts.len() + 1;
            sql.push_str(&format!(
                " AND (LOWER(o.outlet_code) LIKE ${n} ESCAPE '\\' OR LOWER(o.outlet_name) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(after) = &query.after {
            texts.push(after.clone());
            sql.push_str(&format!(" AND o.outlet_code > ${}", texts.len() + 1));
        }
        match query.linked {
            Some(true) => sql.push_str(" AND o.store_id IS NOT NULL"),
            Some(false) => sql.push_str(" AND o.store_id IS NULL"),
            None => {}
        }
        sql.push_str(&format!(" ORDER BY o.outlet_code LIMIT {}", query.limit));
        Ok(on_pool!(self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(ctx.org_id());
            for text in &texts {
                q = q.bind(text.as_str());
            }
            q.fetch_all(p).await
        })?)
    }

    /// The outlets linked to a store (who may read the store).
    pub async fn store_outlets(
        &self,
        ctx: &TenantContext,
        store_id: Uuid,
    ) -> Result<Vec<Outlet>, SalesError> {
        self.store_row(ctx, store_id).await?;
        let sql = format!("{OUTLET_SELECT} AND o.store_id = $2 ORDER BY o.outlet_code");
        Ok(on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(ctx.org_id())
        .bind(store_id)
        .fetch_all(p)
        .await)?)
    }

    /// Sets the outlets whose facts count for a store (`stores:update`, or
    /// `stores:update:own` for the assigned rep): codes not given are unlinked from it.
    /// Every code must be an imported outlet of the organisation not linked to another
    /// store (422 naming `outlet_codes[i]`). One audit row and one `store.outlets_linked`
    /// event with the codes added and removed.
    pub async fn link_outlets(
        &self,
        ctx: &TenantContext,
        store_id: Uuid,
        links: OutletLinks,
    ) -> Result<Vec<Outlet>, SalesError> {
        let store: crate::model::Store = self.store_row(ctx, store_id).await?.into();
        ctx.authorize_owned("stores:update", store.assigned_rep)?;
        if links.outlet_codes.len() > MAX_LINKED {
            return Err(SalesError::field(
                "outlet_codes",
                format!("at most {MAX_LINKED} outlets a store"),
            ));
        }
        let codes: Vec<String> = links
            .outlet_codes
            .iter()
            .map(|c| c.trim().to_owned())
            .collect();
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        // Every code in one query (at most MAX_LINKED of them).
        let wanted: Vec<&String> = codes.iter().collect::<BTreeSet<_>>().into_iter().collect();
        let known: HashMap<String, Option<Uuid>> = if wanted.is_empty() {
            HashMap::new()
        } else {
            let sql = format!(
                "SELECT outlet_code, store_id FROM sales_fact_outlets WHERE org_id = $1 AND outlet_code IN ({})",
                placeholders(2, wanted.len())
            );
            let rows: Vec<(String, Option<Uuid>)> = on_tx!(tx, |c| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(org);
                for code in &wanted {
                    q = q.bind(code.as_str());
                }
                q.fetch_all(c).await
            })?;
            rows.into_iter().collect()
        };
        let mut errors = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            let field = format!("outlet_codes[{i}]");
            match known.get(code) {
                _ if code.is_empty() => errors.push(FieldError::new(&field, "must not be empty")),
                None => errors.push(FieldError::new(
                    &field,
                    format!("`{code}` is not an imported outlet of this organisation"),
                )),
                Some(Some(other)) if *other != store_id => errors.push(FieldError::new(
                    &field,
                    format!("`{code}` is linked to another store; unlink it there first"),
                )),
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let before: BTreeSet<String> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT outlet_code FROM sales_fact_outlets WHERE org_id = $1 AND store_id = $2"
        )
        .bind(org)
        .bind(store_id)
        .fetch_all(c)
        .await)?
        .into_iter()
        .collect();
        let after: BTreeSet<String> = codes.into_iter().collect();
        let removed: Vec<&String> = before.difference(&after).collect();
        let added: Vec<&String> = after.difference(&before).collect();
        for (codes, link) in [(&removed, None), (&added, Some(store_id))] {
            if codes.is_empty() {
                continue;
            }
            let sql = format!(
                "UPDATE sales_fact_outlets SET store_id = $2 WHERE org_id = $1 AND outlet_code IN ({})",
                placeholders(3, codes.len())
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(org)
                    .bind(link);
                for code in codes.iter() {
                    q = q.bind(code.as_str());
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        if !added.is_empty() || !removed.is_empty() {
            record_action(
                &mut tx,
                &self.clock,
                ctx,
                "store.outlets_linked",
                "store",
                store_id,
                serde_json::json!({"added": added, "removed": removed}),
            )
            .await?;
        }
        tx.commit().await?;
        self.store_outlets(ctx, store_id).await
    }
}
