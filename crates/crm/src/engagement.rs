//! Leads and their conversion, activities, and record timelines.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kernel::audit;
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page};
use kernel::pii::{mask_email, mask_phone, normalise_email};
use kernel::{FieldError, TenantContext, Tx, bind_values, on_pool, on_tx};
use sqlx::FromRow;
use uuid::Uuid;

use crate::custom_fields::{CustomValues, values_from_text, values_text};
use crate::model::*;
use crate::service::{Crm, check_currency, normalise_phone, pii_aad, scaled_amount};

/// Lead statuses a user may set by hand (`Converted` only through conversion).
const LEAD_STATUSES: [&str; 4] = ["New", "Contacted", "Qualified", "Unqualified"];
/// Activity kinds.
const ACTIVITY_KINDS: [&str; 5] = ["call", "email", "meeting", "note", "task"];
/// Records activities attach to, with the table each lives in.
const RECORD_TABLES: [(&str, &str); 4] = [
    ("company", "companies"),
    ("contact", "contacts"),
    ("lead", "leads"),
    ("deal", "deals"),
];

const LEAD_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "name",
        // An expression rather than a column: both SQLite and PostgreSQL concatenate with ||.
        column: "LOWER(first_name || ' ' || last_name)",
        kind: FieldKind::Text,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "status",
        column: "status",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "source",
        column: "source",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "owner_id",
        column: "owner_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "created_at",
        column: "created_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
];

/// What `GET /api/v1/leads` accepts.
pub const LEAD_LIST: ListSpec = ListSpec {
    fields: LEAD_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

#[derive(Debug, FromRow)]
struct LeadRow {
    id: Uuid,
    first_name: String,
    last_name: String,
    company_name: Option<String>,
    email_enc: Option<String>,
    phone_enc: Option<String>,
    source: Option<String>,
    status: String,
    owner_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    deal_id: Option<Uuid>,
    converted_at: Option<DateTime<Utc>>,
    custom_fields: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const LEAD_COLUMNS: &str = "id, first_name, last_name, company_name, email_enc, phone_enc, source, status, owner_id, \
     contact_id, company_id, deal_id, converted_at, custom_fields, created_at, updated_at, version";

#[derive(Debug, FromRow)]
struct ActivityRow {
    id: Uuid,
    kind: String,
    subject: String,
    body: Option<String>,
    due_at: Option<DateTime<Utc>>,
    done: bool,
    record_type: String,
    record_id: Uuid,
    owner_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<ActivityRow> for Activity {
    fn from(r: ActivityRow) -> Self {
        Activity {
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            body: r.body,
            due_at: r.due_at,
            done: r.done,
            record_type: r.record_type,
            record_id: r.record_id,
            owner_id: r.owner_id,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

const ACTIVITY_COLUMNS: &str =
    "id, kind, subject, body, due_at, done, record_type, record_id, owner_id, created_at, version";

/// The lead's email and phone in clear, for conversion.
struct LeadSecrets {
    email: Option<String>,
    phone: Option<String>,
}

impl Crm {
    fn lead_from_row(
        &self,
        ctx: &TenantContext,
        r: LeadRow,
    ) -> Result<(Lead, LeadSecrets), CrmError> {
        let org = ctx.org_id();
        let email = match &r.email_enc {
            Some(t) => Some(self.decrypt(t, &pii_aad(org, "leads", r.id, "email"))?),
            None => None,
        };
        let phone = match &r.phone_enc {
            Some(t) => Some(self.decrypt(t, &pii_aad(org, "leads", r.id, "phone"))?),
            None => None,
        };
        let reveal = ctx.can("pii:read");
        let lead = Lead {
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            company_name: r.company_name,
            email: email
                .as_deref()
                .map(|e| if reveal { e.to_owned() } else { mask_email(e) }),
            phone: phone
                .as_deref()
                .map(|p| if reveal { p.to_owned() } else { mask_phone(p) }),
            source: r.source,
            status: r.status,
            owner_id: r.owner_id,
            custom_fields: values_from_text(&r.custom_fields),
            contact_id: r.contact_id,
            company_id: r.company_id,
            deal_id: r.deal_id,
            converted_at: r.converted_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        };
        Ok((lead, LeadSecrets { email, phone }))
    }

    async fn lead_row(
        &self,
        tx: Option<&mut Tx>,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<LeadRow>, CrmError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE org_id = $1 AND id = $2"
        ));
        Ok(match tx {
            Some(tx) => on_tx!(tx, |c| sqlx::query_as(sql)
                .bind(org)
                .bind(id)
                .fetch_optional(c)
                .await)?,
            None => on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
                sql.0.clone()
            ))
            .bind(org)
            .bind(id)
            .fetch_optional(p)
            .await)?,
        })
    }

    /// Creates a lead (status `New`).
    pub async fn create_lead(&self, ctx: &TenantContext, new: NewLead) -> Result<Lead, CrmError> {
        ctx.authorize("leads:create")?;
        let mut errors = Vec::new();
        if new.first_name.trim().is_empty() {
            errors.push(FieldError::new("first_name", "is required"));
        }
        let email = new
            .email
            .as_deref()
            .map(normalise_email)
            .filter(|e| !e.is_empty());
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            errors.push(FieldError::new("email", "is not an email address"));
        }
        let phone = new
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        if phone.as_deref().is_some_and(|p| {
            normalise_phone(p)
                .chars()
                .filter(char::is_ascii_digit)
                .count()
                < 6
        }) {
            errors.push(FieldError::new("phone", "needs at least 6 digits"));
        }
        let org = ctx.org_id();
        let defs = self.field_defs(org, "leads").await?;
        let mut tx = self.db.begin().await?;
        let custom = self
            .checked_custom_values(&mut tx, org, &defs, &new.custom_fields, None, &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        let id = Uuid::now_v7();
        let now = self.now();
        let email_enc = match &email {
            Some(e) => Some(self.encrypt(e, &pii_aad(org, "leads", id, "email"))?),
            None => None,
        };
        let phone_enc = match &phone {
            Some(p) => Some(self.encrypt(p, &pii_aad(org, "leads", id, "phone"))?),
            None => None,
        };
        let email_index = email
            .as_deref()
            .map(|e| self.ring.blind_index("lead-email", e));
        let owner = new.owner_id.or(ctx.actor().user_id());
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO leads (org_id, id, first_name, last_name, company_name, email_enc, email_index, phone_enc, source, status, owner_id, created_at, updated_at, custom_fields) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'New', $10, $11, $12, $13)"
        )
        .bind(org)
        .bind(id)
        .bind(new.first_name.trim())
        .bind(new.last_name.trim())
        .bind(new.company_name.as_deref().map(str::trim).filter(|c| !c.is_empty()))
        .bind(&email_enc)
        .bind(&email_index)
        .bind(&phone_enc)
        .bind(&new.source)
        .bind(owner)
        .bind(now)
        .bind(now)
        .bind(values_text(&custom))
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let full_name = format!("{} {}", new.first_name.trim(), new.last_name.trim());
        self.index_record(
            org,
            "lead",
            id,
            crate::search::Searchable {
                clear: vec![&full_name, new.company_name.as_deref().unwrap_or("")],
                private: email.as_deref().into_iter().collect(),
            },
        );
        let after = serde_json::json!({"first_name": new.first_name.trim(), "last_name": new.last_name.trim(), "company_name": new.company_name,
            "source": new.source, "status": "New", "owner_id": owner, "custom_fields": custom});
        self.record(
            &mut tx,
            ctx,
            "lead.created",
            "lead",
            id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        self.get_lead(ctx, id).await
    }

    /// One lead.
    pub async fn get_lead(&self, ctx: &TenantContext, id: Uuid) -> Result<Lead, CrmError> {
        ctx.authorize("leads:read")?;
        let row = self
            .lead_row(None, ctx.org_id(), id)
            .await?
            .ok_or(CrmError::NotFound("lead"))?;
        Ok(self.lead_from_row(ctx, row)?.0)
    }

    /// Leads (`?status=`, `?source=`, `?owner_id=`, `?sort=`).
    pub async fn list_leads(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Lead>, CrmError> {
        self.list_leads_in(ctx, query, None).await
    }

    /// Like `list_leads`, restricted by a saved filter group (a segment): (filters, match any).
    pub async fn list_leads_in(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
        group: Option<(&BTreeMap<String, String>, bool)>,
    ) -> Result<Page<Lead>, CrmError> {
        ctx.authorize("leads:read")?;
        let (plan, defs) = self
            .plan_list(ctx.org_id(), "leads", &LEAD_LIST, query, &[], group)
            .await?;
        let sql = plan.sql(2);
        let text = format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<LeadRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        let leads = rows
            .into_iter()
            .map(|r| self.lead_from_row(ctx, r).map(|(lead, _)| lead))
            .collect::<Result<Vec<_>, _>>()?;
        // `name` sorts on an expression; the cursor carries the same lower-cased form.
        Ok(plan.page_by(leads, |l| {
            crate::custom_fields::with_cursor_keys(
                serde_json::json!({"id": l.id, "created_at": l.created_at, "name": format!("{} {}", l.first_name, l.last_name).to_lowercase()}),
                &defs,
                &l.custom_fields,
            )
        }))
    }

    /// Changes a lead's status, source or owner.
    pub async fn update_lead(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: LeadPatch,
        expected: i64,
    ) -> Result<Lead, CrmError> {
        ctx.authorize("leads:read")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let row = self
            .lead_row(Some(&mut tx), org, id)
            .await?
            .ok_or(CrmError::NotFound("lead"))?;
        let (current, _) = self.lead_from_row(ctx, row)?;
        ctx.authorize_owned("leads:update", current.owner_id)?;
        if current.version != expected {
            return Err(CrmError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        if current.status == "Converted" {
            return Err(CrmError::field(
                "status",
                "the lead is converted and can no longer change",
            ));
        }
        let mut next = current.clone();
        if let Some(status) = &patch.status {
            if !LEAD_STATUSES.contains(&status.as_str()) {
                return Err(CrmError::field(
                    "status",
                    format!(
                        "must be one of {} (convert with POST .../convert)",
                        LEAD_STATUSES.join(", ")
                    ),
                ));
            }
            next.status = status.clone();
        }
        if let Some(source) = patch.source {
            next.source = Some(source);
        }
        if let Some(owner) = patch.owner_id {
            next.owner_id = Some(owner);
        }
        if let Some(incoming) = &patch.custom_fields {
            let defs = self.field_defs_in(&mut tx, org, "leads").await?;
            let mut errors = Vec::new();
            next.custom_fields = self
                .checked_custom_values(
                    &mut tx,
                    org,
                    &defs,
                    incoming,
                    Some(&current.custom_fields),
                    &mut errors,
                )
                .await?;
            if !errors.is_empty() {
                return Err(CrmError::Validation(errors));
            }
        }
        next.updated_at = self.now();
        next.version += 1;
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE leads SET status = $3, source = $4, owner_id = $5, updated_at = $6, version = version + 1, custom_fields = $7 WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .bind(&next.status)
        .bind(&next.source)
        .bind(next.owner_id)
        .bind(next.updated_at)
        .bind(values_text(&next.custom_fields))
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let view = |l: &Lead| serde_json::json!({"status": l.status, "source": l.source, "owner_id": l.owner_id, "custom_fields": l.custom_fields});
        self.record(
            &mut tx,
            ctx,
            "lead.updated",
            "lead",
            id,
            &view(&current),
            &view(&next),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Converts a lead into a contact, a company (existing or new) and optionally a deal,
    /// in one transaction: either everything is created and the lead marked `Converted`,
    /// or nothing changes.
    pub async fn convert_lead(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        conversion: Conversion,
        expected: i64,
    ) -> Result<ConversionResult, CrmError> {
        ctx.authorize("leads:read")?;
        ctx.authorize("contacts:create")?;
        let org = ctx.org_id();
        self.ensure_default_pipeline(org).await?;
        // Read before the write transaction (which must not wait for the pool): the existing
        // company, if one is named; its existence is checked again inside the transaction.
        let named_company = match conversion.company_id {
            Some(company_id) => match self.get_company(ctx, company_id).await {
                Ok(company) => Some(company),
                Err(CrmError::NotFound(_)) => None,
                Err(other) => return Err(other),
            },
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let row = self
            .lead_row(Some(&mut tx), org, id)
            .await?
            .ok_or(CrmError::NotFound("lead"))?;
        let (lead, secrets) = self.lead_from_row(ctx, row)?;
        ctx.authorize_owned("leads:update", lead.owner_id)?;
        if lead.status == "Converted" {
            return Err(CrmError::Validation(vec![FieldError::new(
                "status",
                format!(
                    "the lead was already converted on {}",
                    lead.converted_at
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default()
                ),
            )]));
        }
        if lead.version != expected {
            return Err(CrmError::VersionMismatch {
                current: serde_json::to_value(&lead).unwrap_or_default(),
            });
        }
        // Company: an existing one, or a new one named in the request or on the lead.
        let company = match (
            conversion.company_id,
            conversion
                .company_name
                .as_deref()
                .or(lead.company_name.as_deref()),
        ) {
            (Some(company_id), _) => {
                match (
                    &named_company,
                    self.company_exists(&mut tx, org, company_id).await?,
                ) {
                    (Some(company), true) => Some(company.clone()),
                    _ => return Err(CrmError::field("company_id", "no such company")),
                }
            }
            (None, Some(name)) if !name.trim().is_empty() => {
                ctx.authorize("companies:create")?;
                Some(
                    self.insert_company(
                        &mut tx,
                        ctx,
                        NewCompany {
                            name: name.to_owned(),
                            domain: None,
                            industry: None,
                            site_id: None,
                            owner_id: lead.owner_id,
                            custom_fields: CustomValues::new(),
                        },
                    )
                    .await?,
                )
            }
            _ => None,
        };
        let contact_id = self
            .insert_contact(
                &mut tx,
                ctx,
                &lead.first_name,
                &lead.last_name,
                secrets.email.as_deref(),
                secrets.phone.as_deref(),
                None,
                company.as_ref().map(|c| c.id),
                lead.owner_id,
                &CustomValues::new(),
            )
            .await?;
        // The deal is checked after the contact and company exist in this transaction:
        // a bad deal rolls all of them back.
        let deal = match conversion.deal {
            Some(d) => {
                ctx.authorize("deals:create")?;
                let mut errors = Vec::new();
                if d.title.trim().is_empty() {
                    errors.push(FieldError::new("deal.title", "is required"));
                }
                let scaled = scaled_amount(d.amount)
                    .map_err(|e| errors.push(FieldError::new("deal.amount", e)))
                    .ok();
                let currency = check_currency(&d.currency)
                    .map_err(|e| errors.push(FieldError::new("deal.currency", e)))
                    .ok();
                let stage = match d.stage_id {
                    Some(stage_id) => self.stage(&mut tx, org, stage_id).await?,
                    None => self.first_default_stage(&mut tx, org).await?,
                };
                if stage.is_none() {
                    errors.push(FieldError::new("deal.stage_id", "no such stage"));
                }
                let (Some(scaled), Some(currency), Some(stage), true) =
                    (scaled, currency, stage, errors.is_empty())
                else {
                    return Err(CrmError::Validation(errors));
                };
                Some(
                    self.insert_deal(
                        &mut tx,
                        ctx,
                        d.title.trim(),
                        scaled,
                        currency,
                        stage,
                        company.as_ref().map(|c| c.id),
                        None,
                        lead.owner_id,
                        CustomValues::new(),
                        vec![contact_id],
                    )
                    .await?,
                )
            }
            None => None,
        };
        let now = self.now();
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE leads SET status = 'Converted', contact_id = $3, company_id = $4, deal_id = $5, converted_at = $6, updated_at = $6, \
             version = version + 1 WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .bind(contact_id)
        .bind(company.as_ref().map(|c| c.id))
        .bind(deal.as_ref().map(|d| d.id))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let links = serde_json::json!({"status": "Converted", "contact_id": contact_id, "company_id": company.as_ref().map(|c| c.id),
            "deal_id": deal.as_ref().map(|d| d.id)});
        self.record(
            &mut tx,
            ctx,
            "lead.converted",
            "lead",
            id,
            &serde_json::json!({"status": lead.status}),
            &links,
        )
        .await?;
        tx.commit().await?;
        Ok(ConversionResult {
            lead: self.get_lead(ctx, id).await?,
            contact: self.get_contact(ctx, contact_id).await?,
            company,
            deal,
        })
    }

    async fn first_default_stage(
        &self,
        tx: &mut Tx,
        org: Uuid,
    ) -> Result<Option<crate::service::StageRow>, CrmError> {
        Ok(on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT s.id, s.pipeline_id, s.name, s.position, s.probability, s.kind FROM pipeline_stages s \
             JOIN pipelines p ON p.org_id = s.org_id AND p.id = s.pipeline_id \
             WHERE s.org_id = $1 AND p.is_default = $2 ORDER BY s.position LIMIT 1"
        )
        .bind(org)
        .bind(true)
        .fetch_optional(c)
        .await
        })?)
    }

    async fn record_exists(
        &self,
        org: Uuid,
        record_type: &str,
        id: Uuid,
    ) -> Result<bool, CrmError> {
        let Some((_, table)) = RECORD_TABLES.iter().find(|(t, _)| *t == record_type) else {
            return Ok(false);
        };
        // `table` comes from the constant list above, never from the request.
        let found: Option<Uuid> = on_pool!(self.db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(
            format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2")
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(found.is_some())
    }

    /// Logs a call, email, meeting, note or task on a record.
    pub async fn create_activity(
        &self,
        ctx: &TenantContext,
        new: NewActivity,
    ) -> Result<Activity, CrmError> {
        ctx.authorize("activities:create")?;
        let mut errors = Vec::new();
        if !ACTIVITY_KINDS.contains(&new.kind.as_str()) {
            errors.push(FieldError::new(
                "kind",
                format!("must be one of {}", ACTIVITY_KINDS.join(", ")),
            ));
        }
        if new.subject.trim().is_empty() {
            errors.push(FieldError::new("subject", "is required"));
        }
        if !RECORD_TABLES.iter().any(|(t, _)| *t == new.record_type) {
            errors.push(FieldError::new(
                "record_type",
                "must be company, contact, lead or deal",
            ));
        } else if !self
            .record_exists(ctx.org_id(), &new.record_type, new.record_id)
            .await?
        {
            errors.push(FieldError::new(
                "record_id",
                format!("no such {}", new.record_type),
            ));
        }
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        let now = self.now();
        let activity = Activity {
            id: Uuid::now_v7(),
            kind: new.kind,
            subject: new.subject.trim().to_owned(),
            body: new.body,
            due_at: new.due_at,
            done: false,
            record_type: new.record_type,
            record_id: new.record_id,
            owner_id: ctx.actor().user_id(),
            created_at: now,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO activities (org_id, {ACTIVITY_COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(ctx.org_id())
        .bind(activity.id)
        .bind(&activity.kind)
        .bind(&activity.subject)
        .bind(&activity.body)
        .bind(activity.due_at)
        .bind(activity.done)
        .bind(&activity.record_type)
        .bind(activity.record_id)
        .bind(activity.owner_id)
        .bind(now)
        .bind(activity.version)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::json!({"kind": activity.kind, "subject": activity.subject, "record_type": activity.record_type, "record_id": activity.record_id});
        self.record(
            &mut tx,
            ctx,
            "activity.logged",
            "activity",
            activity.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(activity)
    }

    /// Activities of one record, newest first.
    pub async fn list_activities(
        &self,
        ctx: &TenantContext,
        record_type: &str,
        record_id: Uuid,
    ) -> Result<Vec<Activity>, CrmError> {
        ctx.authorize("activities:read")?;
        let rows: Vec<ActivityRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE org_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY created_at DESC, id DESC LIMIT 500"
        )))
        .bind(ctx.org_id())
        .bind(record_type)
        .bind(record_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(Activity::from).collect())
    }

    /// A record's history, newest first: its activities and the field changes from the
    /// audit trail.
    pub async fn timeline(
        &self,
        ctx: &TenantContext,
        record_type: &str,
        record_id: Uuid,
    ) -> Result<Vec<TimelineEntry>, CrmError> {
        let resource = match record_type {
            "company" => "companies",
            "contact" => "contacts",
            "lead" => "leads",
            "deal" => "deals",
            _ => return Err(CrmError::NotFound("record")),
        };
        ctx.authorize(&format!("{resource}:read"))?;
        if !self
            .record_exists(ctx.org_id(), record_type, record_id)
            .await?
        {
            return Err(CrmError::NotFound("record"));
        }
        let mut entries: Vec<TimelineEntry> = Vec::new();
        if ctx.can("activities:read") {
            for a in self.list_activities(ctx, record_type, record_id).await? {
                entries.push(TimelineEntry {
                    at: a.created_at,
                    kind: "activity".to_owned(),
                    summary: format!("{}: {}", a.kind, a.subject),
                    actor: a.owner_id.map(|u| format!("user:{u}")),
                    detail: serde_json::to_value(&a).unwrap_or_default(),
                });
            }
        }
        for row in audit::for_record(
            &self.db,
            ctx.org_id(),
            record_type,
            &record_id.to_string(),
            500,
        )
        .await?
        {
            entries.push(TimelineEntry {
                at: row.occurred_at,
                kind: "change".to_owned(),
                summary: row.action.clone(),
                actor: Some(row.actor.clone()),
                detail: serde_json::from_str(&row.changes).unwrap_or(serde_json::Value::Null),
            });
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(entries)
    }
}

impl Crm {
    /// The customer 360 view of a company, composed from the CRM's own records and the
    /// sections other modules serve through their public services (registered with
    /// [`Crm::with_customer_section`]); a section no module serves yet says so.
    pub async fn customer_360(
        &self,
        ctx: &TenantContext,
        company_id: Uuid,
    ) -> Result<Customer360, CrmError> {
        let company = self.get_company(ctx, company_id).await?;
        let by_company: BTreeMap<String, String> = [
            ("company_id".to_owned(), company_id.to_string()),
            ("limit".to_owned(), "50".to_owned()),
        ]
        .into();
        let contacts = if ctx.can("contacts:read") {
            self.list_contacts(ctx, &by_company).await?.data
        } else {
            Vec::new()
        };
        let mut open_deals = Vec::new();
        let mut closed: BTreeMap<String, (rust_decimal::Decimal, i64)> = BTreeMap::new();
        if ctx.can("deals:read") {
            let mut query = by_company.clone();
            query.insert("limit".to_owned(), "500".to_owned());
            for deal in self.list_deals(ctx, &query).await?.data {
                if deal.status == "open" {
                    open_deals.push(deal);
                } else if deal.status == "won" {
                    let entry = closed.entry(deal.currency.clone()).or_default();
                    entry.0 += deal.amount;
                    entry.1 += 1;
                }
            }
        }
        let mut recent_activities = Vec::new();
        if ctx.can("activities:read") {
            recent_activities.extend(self.list_activities(ctx, "company", company_id).await?);
            for contact in &contacts {
                recent_activities.extend(self.list_activities(ctx, "contact", contact.id).await?);
            }
            for deal in &open_deals {
                recent_activities.extend(self.list_activities(ctx, "deal", deal.id).await?);
            }
            recent_activities.sort_by_key(|a| std::cmp::Reverse(a.created_at));
            recent_activities.truncate(20);
        }
        let mut sections = BTreeMap::new();
        for provider in self.sections.iter() {
            let data = provider
                .customer_section(ctx, company_id)
                .await
                .map_err(|p| CrmError::Section(Box::new(p)))?;
            sections.insert(
                provider.section(),
                CustomerSection {
                    available: true,
                    provided_by: provider.module().to_owned(),
                    data,
                },
            );
        }
        let mut section = |name: &'static str, module: &str| {
            sections.remove(name).unwrap_or_else(|| CustomerSection {
                available: false,
                provided_by: module.to_owned(),
                data: None,
            })
        };
        Ok(Customer360 {
            company,
            contacts,
            open_deals,
            closed_deals: closed
                .into_iter()
                .map(|(currency, (amount, _))| CurrencyTotal {
                    currency,
                    amount,
                    weighted: amount,
                })
                .collect(),
            recent_activities,
            tickets: section("tickets", "helpdesk"),
            orders: section("orders", "sales"),
            health: section("health", "insight"),
        })
    }
}
