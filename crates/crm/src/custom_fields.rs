//! Custom fields: typed fields an organisation adds to its companies, contacts, leads and
//! deals (DESIGN.md section 3, "customisable records").
//!
//! A definition names the object, a key (`[a-z][a-z0-9_]*`, never reused), a label, a kind
//! and, per kind, its options or the object it links to. A record keeps its values as a JSON
//! object (`custom_fields`), validated on every write against the definitions. Lists filter
//! (`cf.<key>[op]=`) and sort (`sort=cf.<key>`) through SQL expressions over that JSON, one
//! per backend (`json_extract` on SQLite, `->>` on PostgreSQL), built only from validated
//! keys.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::list::{DynamicField, FieldKind, ListPlan, ListSpec};
use kernel::{Backend, FieldError, TenantContext, Tx, on_pool, on_tx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::CrmError;
use crate::service::{Crm, check_currency};

/// A record's custom field values, by key.
pub type CustomValues = BTreeMap<String, serde_json::Value>;

/// OpenAPI schema of [`CustomValues`]: an object whose values may be anything (their
/// shapes are given by the definitions, per organisation).
pub fn values_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::<
            utoipa::openapi::Schema,
        >::FreeForm(true)))
        .description(Some(
            "Custom field values by key (definitions at `/api/v1/custom-fields`).",
        ))
        .build()
}

/// Objects that carry custom fields (the API's collection names).
pub const OBJECTS: [&str; 4] = ["companies", "contacts", "leads", "deals"];

/// Most custom fields one object may have (each is a JSON lookup in filtered lists).
const MAX_FIELDS_PER_OBJECT: usize = 100;

/// The type of a custom field, which decides the shape of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldKind {
    /// A string.
    Text,
    /// A JSON number.
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `true` / `false`.
    Boolean,
    /// One of `options`.
    Select,
    /// An array of distinct `options`.
    MultiSelect,
    /// `{"amount": "12.50", "currency": "USD"}` (exact decimal string).
    Currency,
    /// The id of a record of `link_object` in the same organisation.
    Link,
}

impl CustomFieldKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Boolean => "boolean",
            Self::Select => "select",
            Self::MultiSelect => "multi_select",
            Self::Currency => "currency",
            Self::Link => "link",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "text" => Self::Text,
            "number" => Self::Number,
            "date" => Self::Date,
            "boolean" => Self::Boolean,
            "select" => Self::Select,
            "multi_select" => Self::MultiSelect,
            "currency" => Self::Currency,
            "link" => Self::Link,
            _ => return None,
        })
    }
}

/// A custom field definition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomField {
    /// Id.
    pub id: Uuid,
    /// `companies`, `contacts`, `leads` or `deals`.
    pub object: String,
    /// Key in records' `custom_fields` and in `cf.<key>` filters.
    pub key: String,
    /// Label shown to people.
    pub label: String,
    /// Type of the values.
    pub kind: CustomFieldKind,
    /// Allowed values (select, multi_select).
    pub options: Vec<String>,
    /// Linked object (link).
    pub link_object: Option<String>,
    /// A value is required when a record is created.
    pub required: bool,
    /// Version, for `If-Match`.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/custom-fields`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCustomField {
    /// `companies`, `contacts`, `leads` or `deals`.
    pub object: String,
    /// Key: lower case letters, digits and `_`, starting with a letter (at most 40).
    pub key: String,
    /// Label.
    pub label: String,
    /// Type.
    pub kind: CustomFieldKind,
    /// Allowed values (select, multi_select).
    #[serde(default)]
    pub options: Vec<String>,
    /// Linked object (link).
    #[serde(default)]
    pub link_object: Option<String>,
    /// Required on create.
    #[serde(default)]
    pub required: bool,
}

/// `PATCH /api/v1/custom-fields/{id}`: the key, object and kind never change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CustomFieldPatch {
    /// Label.
    pub label: Option<String>,
    /// Allowed values (select, multi_select); values already stored stay as they are.
    pub options: Option<Vec<String>>,
    /// Required on create.
    pub required: Option<bool>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

#[derive(Debug, FromRow)]
struct CustomFieldRow {
    id: Uuid,
    object: String,
    key: String,
    label: String,
    kind: String,
    options: String,
    link_object: Option<String>,
    required: bool,
    version: i64,
    created_at: DateTime<Utc>,
}

impl From<CustomFieldRow> for CustomField {
    fn from(r: CustomFieldRow) -> Self {
        CustomField {
            id: r.id,
            object: r.object,
            key: r.key,
            label: r.label,
            kind: CustomFieldKind::parse(&r.kind).unwrap_or(CustomFieldKind::Text),
            options: serde_json::from_str(&r.options).unwrap_or_default(),
            link_object: r.link_object,
            required: r.required,
            version: r.version,
            created_at: r.created_at,
        }
    }
}

const FIELD_COLUMNS: &str =
    "id, object, key, label, kind, options, link_object, required, version, created_at";

/// The record table behind an object name (a fixed list: safe to put in SQL).
pub(crate) fn table_of(object: &str) -> Option<&'static str> {
    OBJECTS.iter().copied().find(|o| *o == object)
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn clean_options(options: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for option in options {
        let option = option.trim();
        if option.is_empty() {
            errors.push(FieldError::new("options", "options cannot be empty"));
        } else if out.iter().any(|o| o == option) {
            errors.push(FieldError::new(
                "options",
                format!("`{option}` appears twice"),
            ));
        } else {
            out.push(option.to_owned());
        }
    }
    out
}

/// The stored JSON text of a record's values.
pub(crate) fn values_text(values: &CustomValues) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
}

/// A record's values from their stored JSON text.
pub(crate) fn values_from_text(text: &str) -> CustomValues {
    serde_json::from_str(text).unwrap_or_default()
}

/// The SQL expression reading one field of a record (alias-free column `custom_fields`).
fn expression(backend: Backend, field: &CustomField) -> (String, FieldKind, bool) {
    let key = &field.key; // validated: letters, digits and `_` only
    match (backend, field.kind) {
        (Backend::Sqlite, CustomFieldKind::Number) => (
            format!("COALESCE(json_extract(custom_fields, '$.{key}'), -1e300)"),
            FieldKind::Number,
            true,
        ),
        (Backend::Postgres, CustomFieldKind::Number) => (
            format!("COALESCE((custom_fields::jsonb ->> '{key}')::double precision, -1e300)"),
            FieldKind::Number,
            true,
        ),
        (Backend::Sqlite, CustomFieldKind::Currency) => (
            format!(
                "COALESCE(CAST(json_extract(custom_fields, '$.{key}.amount') AS REAL), -1e300)"
            ),
            FieldKind::Number,
            true,
        ),
        (Backend::Postgres, CustomFieldKind::Currency) => (
            format!(
                "COALESCE((custom_fields::jsonb -> '{key}' ->> 'amount')::double precision, -1e300)"
            ),
            FieldKind::Number,
            true,
        ),
        (Backend::Sqlite, CustomFieldKind::Boolean) => (
            format!("COALESCE(json_extract(custom_fields, '$.{key}'), 0)"),
            FieldKind::Bool,
            true,
        ),
        (Backend::Postgres, CustomFieldKind::Boolean) => (
            format!("COALESCE((custom_fields::jsonb ->> '{key}')::boolean, FALSE)"),
            FieldKind::Bool,
            true,
        ),
        (Backend::Sqlite, CustomFieldKind::MultiSelect) => (
            format!("COALESCE(json_extract(custom_fields, '$.{key}'), '')"),
            FieldKind::TextList,
            false,
        ),
        (Backend::Postgres, CustomFieldKind::MultiSelect) => (
            format!("COALESCE(custom_fields::jsonb ->> '{key}', '')"),
            FieldKind::TextList,
            false,
        ),
        (Backend::Sqlite, _) => (
            format!("COALESCE(json_extract(custom_fields, '$.{key}'), '')"),
            FieldKind::Text,
            true,
        ),
        (Backend::Postgres, _) => (
            format!("COALESCE(custom_fields::jsonb ->> '{key}', '')"),
            FieldKind::Text,
            true,
        ),
    }
}

/// The list fields (`cf.<key>`) of an object's custom fields.
pub(crate) fn list_fields(backend: Backend, defs: &[CustomField]) -> Vec<DynamicField> {
    defs.iter()
        .map(|def| {
            let (expression, kind, sortable) = expression(backend, def);
            DynamicField {
                name: format!("cf.{}", def.key),
                expression,
                kind,
                sortable,
                filterable: true,
            }
        })
        .collect()
}

/// The sort keys of a record's custom values as the list's SQL expressions see them
/// (missing values take the same defaults as the `COALESCE`s), for page cursors.
pub(crate) fn cursor_keys(
    defs: &[CustomField],
    values: &CustomValues,
    keys: &mut serde_json::Map<String, serde_json::Value>,
) {
    use serde_json::Value;
    for def in defs {
        let value = values.get(&def.key);
        let key = match def.kind {
            CustomFieldKind::Number => value.cloned().unwrap_or(Value::from(-1e300)),
            CustomFieldKind::Currency => value
                .and_then(|v| v.get("amount"))
                .and_then(Value::as_str)
                .and_then(|a| a.parse::<f64>().ok())
                .map_or(Value::from(-1e300), Value::from),
            CustomFieldKind::Boolean => value.cloned().unwrap_or(Value::Bool(false)),
            CustomFieldKind::MultiSelect => continue,
            _ => value.cloned().unwrap_or(Value::String(String::new())),
        };
        keys.insert(format!("cf.{}", def.key), key);
    }
}

/// `keys` (a JSON object of a record's sort keys) plus its custom fields' sort keys.
pub(crate) fn with_cursor_keys(
    mut keys: serde_json::Value,
    defs: &[CustomField],
    values: &CustomValues,
) -> serde_json::Value {
    if let Some(map) = keys.as_object_mut() {
        cursor_keys(defs, values, map);
    }
    keys
}

/// Whether a query names a custom field (`cf.` filters or sort keys).
fn mentions_custom_fields(query: &BTreeMap<String, String>) -> bool {
    query
        .iter()
        .any(|(k, v)| k.starts_with("cf.") || (k == "sort" && v.contains("cf.")))
}

impl Crm {
    /// Validates a list request against an object's fields and, when the request names
    /// any, its custom fields (`cf.<key>`); returns the plan and the definitions used.
    pub(crate) async fn plan_list(
        &self,
        org: Uuid,
        object: &str,
        spec: &ListSpec,
        query: &BTreeMap<String, String>,
        own_params: &[&str],
        group: Option<(&BTreeMap<String, String>, bool)>,
    ) -> Result<(ListPlan, Vec<CustomField>), CrmError> {
        let defs = if mentions_custom_fields(query)
            || group.is_some_and(|(filters, _)| mentions_custom_fields(filters))
        {
            self.field_defs(org, object).await?
        } else {
            Vec::new()
        };
        let extra = list_fields(self.db.backend(), &defs);
        let plan = spec
            .plan_dynamic(query, own_params, &extra, group)
            .map_err(|p| CrmError::Validation(p.errors))?;
        Ok((plan, defs))
    }

    /// The active custom fields of `object` in the caller's organisation.
    pub(crate) async fn field_defs(
        &self,
        org: Uuid,
        object: &str,
    ) -> Result<Vec<CustomField>, CrmError> {
        let rows: Vec<CustomFieldRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FIELD_COLUMNS} FROM custom_fields WHERE org_id = $1 AND object = $2 \
                 AND archived_at IS NULL ORDER BY created_at, id"
            )))
            .bind(org)
            .bind(object)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(CustomField::from).collect())
    }

    /// Like `field_defs`, inside a write transaction (which must not wait for a second
    /// pool connection while it holds SQLite's write lock).
    pub(crate) async fn field_defs_in(
        &self,
        tx: &mut Tx,
        org: Uuid,
        object: &str,
    ) -> Result<Vec<CustomField>, CrmError> {
        let rows: Vec<CustomFieldRow> = on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FIELD_COLUMNS} FROM custom_fields WHERE org_id = $1 AND object = $2 \
                 AND archived_at IS NULL ORDER BY created_at, id"
            )))
            .bind(org)
            .bind(object)
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(CustomField::from).collect())
    }

    /// Custom fields of one object (`?object=contacts`), or of all of them.
    pub async fn list_custom_fields(
        &self,
        ctx: &TenantContext,
        object: Option<&str>,
    ) -> Result<Vec<CustomField>, CrmError> {
        match object {
            Some(object) => {
                let object = table_of(object).ok_or_else(|| {
                    CrmError::field("object", "must be companies, contacts, leads or deals")
                })?;
                ctx.authorize(&format!("{object}:read"))?;
                self.field_defs(ctx.org_id(), object).await
            }
            None => {
                let mut all = Vec::new();
                for object in OBJECTS {
                    if ctx.can(&format!("{object}:read")) {
                        all.extend(self.field_defs(ctx.org_id(), object).await?);
                    }
                }
                Ok(all)
            }
        }
    }

    async fn custom_field(&self, org: Uuid, id: Uuid) -> Result<CustomField, CrmError> {
        let row: Option<CustomFieldRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FIELD_COLUMNS} FROM custom_fields WHERE org_id = $1 AND id = $2 AND archived_at IS NULL"
            )))
            .bind(org)
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.map(CustomField::from)
            .ok_or(CrmError::NotFound("custom field"))
    }

    /// Defines a custom field (needs `<object>:manage`).
    pub async fn create_custom_field(
        &self,
        ctx: &TenantContext,
        new: NewCustomField,
    ) -> Result<CustomField, CrmError> {
        let object = table_of(&new.object).ok_or_else(|| {
            CrmError::field("object", "must be companies, contacts, leads or deals")
        })?;
        ctx.authorize(&format!("{object}:manage"))?;
        let mut errors = Vec::new();
        let key = new.key.trim().to_owned();
        if !valid_key(&key) {
            errors.push(FieldError::new(
                "key",
                "use lower case letters, digits and _, starting with a letter (at most 40)",
            ));
        }
        if new.label.trim().is_empty() {
            errors.push(FieldError::new("label", "is required"));
        }
        let options = clean_options(&new.options, &mut errors);
        let choice = matches!(
            new.kind,
            CustomFieldKind::Select | CustomFieldKind::MultiSelect
        );
        if choice && options.is_empty() {
            errors.push(FieldError::new(
                "options",
                "a select needs at least one option",
            ));
        }
        if !choice && !options.is_empty() {
            errors.push(FieldError::new("options", "only selects have options"));
        }
        let link_object = match (new.kind, new.link_object.as_deref()) {
            (CustomFieldKind::Link, Some(target)) => match table_of(target) {
                Some(t) => Some(t.to_owned()),
                None => {
                    errors.push(FieldError::new(
                        "link_object",
                        "must be companies, contacts, leads or deals",
                    ));
                    None
                }
            },
            (CustomFieldKind::Link, None) => {
                errors.push(FieldError::new(
                    "link_object",
                    "a link names the object it links to",
                ));
                None
            }
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    "link_object",
                    "only links link to an object",
                ));
                None
            }
            (_, None) => None,
        };
        let existing = self.field_defs(ctx.org_id(), object).await?;
        if existing.len() >= MAX_FIELDS_PER_OBJECT {
            errors.push(FieldError::new(
                "object",
                format!("{object} already have {MAX_FIELDS_PER_OBJECT} custom fields"),
            ));
        }
        let mut tx = self.db.begin().await?;
        let taken: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM custom_fields WHERE org_id = $1 AND object = $2 AND key = $3"
        )
        .bind(ctx.org_id())
        .bind(object)
        .bind(&key)
        .fetch_optional(c)
        .await)?;
        if taken.is_some() {
            errors.push(FieldError::new(
                "key",
                "is taken (keys of archived fields are not reused)",
            ));
        }
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        let now = self.now();
        let field = CustomField {
            id: Uuid::now_v7(),
            object: object.to_owned(),
            key,
            label: new.label.trim().to_owned(),
            kind: new.kind,
            options,
            link_object,
            required: new.required,
            version: 1,
            created_at: now,
        };
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO custom_fields (org_id, id, object, key, label, kind, options, link_object, required, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(ctx.org_id())
            .bind(field.id)
            .bind(&field.object)
            .bind(&field.key)
            .bind(&field.label)
            .bind(field.kind.as_str())
            .bind(serde_json::to_string(&field.options).unwrap_or_else(|_| "[]".to_owned()))
            .bind(&field.link_object)
            .bind(field.required)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let after = serde_json::to_value(&field).unwrap_or_default();
        self.record(
            &mut tx,
            ctx,
            "custom_field.created",
            "custom_field",
            field.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(field)
    }

    /// Changes a field's label, options or required flag.
    pub async fn update_custom_field(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: CustomFieldPatch,
        expected: i64,
    ) -> Result<CustomField, CrmError> {
        let current = self.custom_field(ctx.org_id(), id).await?;
        ctx.authorize(&format!("{}:manage", current.object))?;
        if current.version != expected {
            return Err(CrmError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let mut errors = Vec::new();
        let mut next = current.clone();
        if let Some(label) = &patch.label {
            if label.trim().is_empty() {
                errors.push(FieldError::new("label", "cannot be empty"));
            }
            next.label = label.trim().to_owned();
        }
        if let Some(options) = &patch.options {
            let options = clean_options(options, &mut errors);
            match current.kind {
                CustomFieldKind::Select | CustomFieldKind::MultiSelect if options.is_empty() => {
                    errors.push(FieldError::new(
                        "options",
                        "a select needs at least one option",
                    ))
                }
                CustomFieldKind::Select | CustomFieldKind::MultiSelect => next.options = options,
                _ => errors.push(FieldError::new("options", "only selects have options")),
            }
        }
        if let Some(required) = patch.required {
            next.required = required;
        }
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        next.version += 1;
        let mut tx = self.db.begin().await?;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE custom_fields SET label = $3, options = $4, required = $5, updated_at = $6, version = version + 1 \
                 WHERE org_id = $1 AND id = $2 AND version = $7 AND archived_at IS NULL",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(&next.label)
            .bind(serde_json::to_string(&next.options).unwrap_or_else(|_| "[]".to_owned()))
            .bind(next.required)
            .bind(self.now())
            .bind(expected)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            drop(tx);
            let now = self.custom_field(ctx.org_id(), id).await?;
            return Err(CrmError::VersionMismatch {
                current: serde_json::to_value(&now).unwrap_or_default(),
            });
        }
        let before = serde_json::to_value(&current).unwrap_or_default();
        let after = serde_json::to_value(&next).unwrap_or_default();
        self.record(
            &mut tx,
            ctx,
            "custom_field.updated",
            "custom_field",
            id,
            &before,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Archives a field: it disappears from forms, lists and validation; stored values stay.
    pub async fn archive_custom_field(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<(), CrmError> {
        let current = self.custom_field(ctx.org_id(), id).await?;
        ctx.authorize(&format!("{}:manage", current.object))?;
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE custom_fields SET archived_at = $3, updated_at = $3, version = version + 1 \
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(self.now())
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let before = serde_json::to_value(&current).unwrap_or_default();
        self.record(
            &mut tx,
            ctx,
            "custom_field.archived",
            "custom_field",
            id,
            &before,
            &serde_json::Value::Null,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Validates incoming values against the definitions and returns the record's new
    /// values: `current` merged with `incoming` (a `null` removes a key). On create
    /// (`current = None`) required fields must be present. Every problem is named
    /// `custom_fields.<key>`.
    pub(crate) async fn checked_custom_values(
        &self,
        tx: &mut Tx,
        org: Uuid,
        defs: &[CustomField],
        incoming: &CustomValues,
        current: Option<&CustomValues>,
        errors: &mut Vec<FieldError>,
    ) -> Result<CustomValues, CrmError> {
        let mut values = current.cloned().unwrap_or_default();
        for (key, value) in incoming {
            let name = format!("custom_fields.{key}");
            let Some(def) = defs.iter().find(|d| &d.key == key) else {
                errors.push(FieldError::new(name, "no such custom field"));
                continue;
            };
            if value.is_null() {
                values.remove(key);
                continue;
            }
            match self.checked_value(tx, org, def, value).await? {
                Ok(clean) => {
                    values.insert(key.clone(), clean);
                }
                Err(message) => errors.push(FieldError::new(name, message)),
            }
        }
        for def in defs {
            if def.required && !values.contains_key(&def.key) {
                let creating = current.is_none();
                let removed = incoming
                    .get(&def.key)
                    .is_some_and(serde_json::Value::is_null);
                if creating || removed {
                    errors.push(FieldError::new(
                        format!("custom_fields.{}", def.key),
                        "is required",
                    ));
                }
            }
        }
        Ok(values)
    }

    /// One value in its canonical form, or what is wrong with it.
    async fn checked_value(
        &self,
        tx: &mut Tx,
        org: Uuid,
        def: &CustomField,
        value: &serde_json::Value,
    ) -> Result<Result<serde_json::Value, String>, CrmError> {
        use serde_json::Value;
        Ok(match def.kind {
            CustomFieldKind::Text => match value.as_str() {
                Some(s) if s.chars().count() <= 10_000 => Ok(Value::from(s.trim())),
                Some(_) => Err("is longer than 10,000 characters".to_owned()),
                None => Err("must be a string".to_owned()),
            },
            CustomFieldKind::Number => match value.as_f64() {
                Some(n) if n.is_finite() && n.abs() < 1e290 => Ok(value.clone()),
                _ => Err("must be a number".to_owned()),
            },
            CustomFieldKind::Date => match value
                .as_str()
                .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
            {
                Some(Ok(date)) => Ok(Value::from(date.format("%Y-%m-%d").to_string())),
                _ => Err("must be a date as YYYY-MM-DD".to_owned()),
            },
            CustomFieldKind::Boolean => match value {
                Value::Bool(_) => Ok(value.clone()),
                _ => Err("must be true or false".to_owned()),
            },
            CustomFieldKind::Select => match value.as_str() {
                Some(s) if def.options.iter().any(|o| o == s) => Ok(value.clone()),
                _ => Err(format!("must be one of: {}", def.options.join(", "))),
            },
            CustomFieldKind::MultiSelect => match value.as_array() {
                Some(items) => {
                    let mut chosen: Vec<&str> = Vec::new();
                    let mut bad = None;
                    for item in items {
                        match item.as_str() {
                            Some(s) if def.options.iter().any(|o| o == s) => {
                                if !chosen.contains(&s) {
                                    chosen.push(s);
                                }
                            }
                            _ => bad = Some(item.to_string()),
                        }
                    }
                    match bad {
                        Some(item) => {
                            Err(format!("{item} is not one of: {}", def.options.join(", ")))
                        }
                        None => Ok(Value::from(chosen)),
                    }
                }
                None => Err("must be an array of options".to_owned()),
            },
            CustomFieldKind::Currency => {
                let amount = value.get("amount").and_then(|a| match a {
                    Value::String(s) => s.trim().parse::<Decimal>().ok(),
                    Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
                    _ => None,
                });
                let currency = value
                    .get("currency")
                    .and_then(Value::as_str)
                    .map(check_currency);
                match (amount, currency) {
                    (Some(amount), Some(Ok(currency))) if amount.scale() <= 4 => Ok(serde_json::json!({
                        "amount": amount.normalize().to_string(),
                        "currency": currency,
                    })),
                    (_, Some(Err(message))) => Err(format!("currency {message}")),
                    _ => Err(
                        "must be {\"amount\": \"12.50\", \"currency\": \"USD\"} (at most 4 decimals)"
                            .to_owned(),
                    ),
                }
            }
            CustomFieldKind::Link => {
                let target = def.link_object.as_deref().and_then(table_of);
                match (value.as_str().and_then(|s| Uuid::parse_str(s).ok()), target) {
                    (Some(id), Some(table)) => {
                        let found: Option<Uuid> = on_tx!(tx, |c| {
                            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                                "SELECT id FROM {table} WHERE org_id = $1 AND id = $2"
                            )))
                            .bind(org)
                            .bind(id)
                            .fetch_optional(c)
                            .await
                        })?;
                        match found {
                            Some(_) => Ok(Value::from(id.to_string())),
                            None => Err(format!("no such record in {table}")),
                        }
                    }
                    _ => Err("must be the id of a record".to_owned()),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_identifiers() {
        assert!(valid_key("region"));
        assert!(valid_key("po_number2"));
        for bad in ["", "Region", "2fast", "a-b", "a'b", "a.b", &"x".repeat(41)] {
            assert!(!valid_key(bad), "{bad} accepted");
        }
    }

    #[test]
    fn expressions_coalesce_so_they_sort() {
        let def = CustomField {
            id: Uuid::nil(),
            object: "contacts".to_owned(),
            key: "score".to_owned(),
            label: "Score".to_owned(),
            kind: CustomFieldKind::Number,
            options: vec![],
            link_object: None,
            required: false,
            version: 1,
            created_at: DateTime::<Utc>::MIN_UTC,
        };
        let fields = list_fields(Backend::Postgres, std::slice::from_ref(&def));
        assert_eq!(fields[0].name, "cf.score");
        assert!(fields[0].expression.starts_with("COALESCE("));
        let mut keys = serde_json::Map::new();
        cursor_keys(&[def], &CustomValues::new(), &mut keys);
        assert_eq!(keys["cf.score"], serde_json::Value::from(-1e300));
    }
}
