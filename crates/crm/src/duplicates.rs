//! Duplicate contacts: finding them (same email, same phone, similar name at the same
//! company) and merging one into another without losing activities or links.

use kernel::{TenantContext, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::*;
use crate::search::score;
use crate::service::Crm;

#[derive(FromRow)]
struct Keys {
    company_id: Option<Uuid>,
    name_key: String,
    email_index: Option<String>,
    phone_index: Option<String>,
}

/// Name similarity above which two contacts of one company are flagged.
const SIMILAR_NAME: f64 = 0.8;

/// An existing contact a new one looks like (in a `possible_duplicate` problem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateMatch {
    /// The existing contact.
    pub id: Uuid,
    /// `email`, `phone` or `name_at_company`.
    pub matched_on: String,
    /// Its name.
    pub name: String,
}

/// What identifies a contact for duplicate checks: blind indexes, never clear PII.
pub(crate) struct DuplicateKeys<'a> {
    pub(crate) company_id: Option<Uuid>,
    pub(crate) name_key: &'a str,
    pub(crate) email_index: Option<&'a str>,
    pub(crate) phone_index: Option<&'a str>,
}

#[derive(FromRow)]
struct Candidate {
    id: Uuid,
    first_name: String,
    last_name: String,
    name_key: String,
    email_index: Option<String>,
    phone_index: Option<String>,
}

impl Crm {
    /// Active contacts of `org` (other than `exclude`) with the same email, the same phone,
    /// or a similar name at the same company.
    pub(crate) async fn matching_contacts(
        &self,
        org: Uuid,
        exclude: Option<Uuid>,
        keys: &DuplicateKeys<'_>,
    ) -> Result<Vec<DuplicateMatch>, CrmError> {
        if keys.email_index.is_none() && keys.phone_index.is_none() && keys.company_id.is_none() {
            return Ok(Vec::new());
        }
        let candidates: Vec<Candidate> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, first_name, last_name, name_key, email_index, phone_index FROM contacts WHERE org_id = $1 AND id <> $2 AND archived_at IS NULL \
             AND ((email_index IS NOT NULL AND email_index = $3) OR (phone_index IS NOT NULL AND phone_index = $4) \
                  OR (company_id IS NOT NULL AND company_id = $5)) LIMIT 200"
        )
        .bind(org)
        .bind(exclude.unwrap_or(Uuid::nil()))
        .bind(keys.email_index)
        .bind(keys.phone_index)
        .bind(keys.company_id)
        .fetch_all(p)
        .await
        })?;
        let mut out = Vec::new();
        for c in candidates {
            let matched_on =
                if c.email_index.is_some() && c.email_index.as_deref() == keys.email_index {
                    "email"
                } else if c.phone_index.is_some() && c.phone_index.as_deref() == keys.phone_index {
                    "phone"
                } else if score(keys.name_key, &c.name_key).min(score(&c.name_key, keys.name_key))
                    >= SIMILAR_NAME
                {
                    "name_at_company"
                } else {
                    continue;
                };
            out.push(DuplicateMatch {
                id: c.id,
                matched_on: matched_on.to_owned(),
                name: format!("{} {}", c.first_name, c.last_name)
                    .trim()
                    .to_owned(),
            });
        }
        Ok(out)
    }

    /// Contacts that may be the same person as `id`.
    pub async fn contact_duplicates(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<Vec<PossibleDuplicate>, CrmError> {
        ctx.authorize("contacts:read")?;
        let org = ctx.org_id();
        let keys: Option<Keys> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT company_id, name_key, email_index, phone_index FROM contacts WHERE org_id = $1 AND id = $2 AND archived_at IS NULL"
        )
        .bind(org)
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        let keys = keys.ok_or(CrmError::NotFound("contact"))?;
        let matches = self
            .matching_contacts(
                org,
                Some(id),
                &DuplicateKeys {
                    company_id: keys.company_id,
                    name_key: &keys.name_key,
                    email_index: keys.email_index.as_deref(),
                    phone_index: keys.phone_index.as_deref(),
                },
            )
            .await?;
        let mut out = Vec::new();
        for m in matches {
            let reason = match m.matched_on.as_str() {
                "email" => "same email",
                "phone" => "same phone",
                _ => "similar name at the same company",
            };
            out.push(PossibleDuplicate {
                contact: self.get_contact(ctx, m.id).await?,
                reason: reason.to_owned(),
            });
        }
        Ok(out)
    }

    /// Folds `duplicate` into the contact `id`: its activities and lead links move over, and
    /// it is archived. One transaction; audited on both records.
    pub async fn merge_contacts(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        request: MergeRequest,
        expected: i64,
    ) -> Result<Contact, CrmError> {
        let survivor = self.get_contact(ctx, id).await?;
        ctx.authorize_owned("contacts:update", survivor.owner_id)?;
        if request.duplicate_id == id {
            return Err(CrmError::field("duplicate_id", "is the same contact"));
        }
        let duplicate = self
            .get_contact(ctx, request.duplicate_id)
            .await
            .map_err(|e| match e {
                CrmError::NotFound(_) => CrmError::field("duplicate_id", "no such contact"),
                other => other,
            })?;
        ctx.authorize_owned("contacts:update", duplicate.owner_id)?;
        if survivor.version != expected {
            return Err(CrmError::VersionMismatch {
                current: serde_json::to_value(&survivor).unwrap_or_default(),
            });
        }
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let moved = on_tx!(tx, |c| {
            sqlx::query("UPDATE activities SET record_id = $3 WHERE org_id = $1 AND record_type = 'contact' AND record_id = $2")
            .bind(org)
            .bind(duplicate.id)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        // Deal links move over, except where the survivor is on the deal already.
        on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE deal_contacts SET contact_id = $3 WHERE org_id = $1 AND contact_id = $2 \
                 AND deal_id NOT IN (SELECT deal_id FROM deal_contacts WHERE org_id = $1 AND contact_id = $3)",
            )
            .bind(org)
            .bind(duplicate.id)
            .bind(id)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM deal_contacts WHERE org_id = $1 AND contact_id = $2"
        )
        .bind(org)
        .bind(duplicate.id)
        .execute(c)
        .await
        .map(|_| ()))?;
        // Custom values the survivor lacks come from the duplicate.
        let mut values = survivor.custom_fields.clone();
        for (key, value) in &duplicate.custom_fields {
            values.entry(key.clone()).or_insert_with(|| value.clone());
        }
        if values != survivor.custom_fields {
            on_tx!(tx, |c| sqlx::query(
                "UPDATE contacts SET custom_fields = $3 WHERE org_id = $1 AND id = $2"
            )
            .bind(org)
            .bind(id)
            .bind(crate::custom_fields::values_text(&values))
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        on_tx!(tx, |c| sqlx::query(
            "UPDATE leads SET contact_id = $3 WHERE org_id = $1 AND contact_id = $2"
        )
        .bind(org)
        .bind(duplicate.id)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
        // Fill the survivor's empty company from the duplicate.
        if survivor.company_id.is_none() && duplicate.company_id.is_some() {
            on_tx!(tx, |c| sqlx::query(
                "UPDATE contacts SET company_id = $3 WHERE org_id = $1 AND id = $2"
            )
            .bind(org)
            .bind(id)
            .bind(duplicate.company_id)
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        on_tx!(tx, |c| {
            sqlx::query("UPDATE contacts SET archived_at = $3, updated_at = $3, version = version + 1 WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(duplicate.id)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        on_tx!(tx, |c| {
            sqlx::query("UPDATE contacts SET updated_at = $3, version = version + 1 WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        self.index_changes(
            org,
            vec![crate::search_index::DocChange::Remove(
                crate::search_index::Kind::Contact,
                duplicate.id,
            )],
        );
        let details = serde_json::json!({"merged_into": id, "activities_moved": moved});
        self.record(
            &mut tx,
            ctx,
            "contact.merged",
            "contact",
            duplicate.id,
            &serde_json::Value::Null,
            &details,
        )
        .await?;
        let absorbed = serde_json::json!({"absorbed": duplicate.id, "activities_moved": moved});
        self.record(
            &mut tx,
            ctx,
            "contact.updated",
            "contact",
            id,
            &serde_json::Value::Null,
            &absorbed,
        )
        .await?;
        tx.commit().await?;
        self.get_contact(ctx, id).await
    }
}
