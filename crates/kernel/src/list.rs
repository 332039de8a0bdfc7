//! List endpoints: response envelopes, cursor (keyset) pagination, sorting and filtering.
//!
//! A module declares once which fields of a resource can be sorted and filtered
//! ([`ListSpec`]); [`ListSpec::plan`] validates a request's query string against it and
//! yields SQL fragments with `$N` placeholders plus the values to bind, so every list in
//! Meridian accepts the same syntax and refuses the same mistakes:
//!
//! - `?limit=50` (1..=max, default per resource)
//! - `?sort=-created_at,name` (`-` = descending; the id is always the final tie-breaker)
//! - `?status=open`, `?amount[gte]=100`, `?stage[in]=a,b`, `?name[contains]=smi`
//!   (operators `eq ne gt gte lt lte in contains`)
//! - `?cursor=...` the opaque `meta.next_cursor` of the previous page.
//!
//! Keyset pagination keeps page N as fast as page 1 and stable under inserts.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::{FieldError, Problem};

/// `{"data": {...}}`: the envelope of a single resource.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Single<T> {
    /// The resource.
    pub data: T,
}

impl<T> Single<T> {
    /// Wraps a resource.
    pub fn new(data: T) -> Self {
        Self { data }
    }
}

/// Paging information of a list response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PageMeta {
    /// Pass as `?cursor=` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The page size used.
    pub limit: u32,
}

/// `{"data": [...], "meta": {...}}`: the envelope of every list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Paging information.
    pub meta: PageMeta,
}

/// The type of a sortable/filterable field, which decides how query values are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// 64-bit integer.
    Integer,
    /// `true` / `false`.
    Bool,
    /// UUID.
    Uuid,
    /// RFC 3339 timestamp.
    Timestamp,
    /// A decimal number (compared as a 64-bit float).
    Number,
    /// A JSON array of strings held as text: filtered only with `contains`, never sorted.
    TextList,
}

/// One field of a resource as the API names it, and the column behind it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// Name in the API (and key in the resource's JSON).
    pub name: &'static str,
    /// SQL column (or expression) it maps to; must be NOT NULL to be sortable.
    pub column: &'static str,
    /// Type of the values.
    pub kind: FieldKind,
    /// May appear in `sort`.
    pub sortable: bool,
    /// May be filtered on.
    pub filterable: bool,
}

/// A field known only at run time, such as an organisation's custom field: its API name
/// and the SQL expression that reads it on the configured backend. A sortable expression
/// must never be NULL (wrap it in `COALESCE`), as for [`FieldSpec::column`].
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicField {
    /// Name in the API (`cf.region`).
    pub name: String,
    /// SQL expression; built only from names the module validated, never from input.
    pub expression: String,
    /// Type of the values.
    pub kind: FieldKind,
    /// May appear in `sort`.
    pub sortable: bool,
    /// May be filtered on.
    pub filterable: bool,
}

impl From<&FieldSpec> for DynamicField {
    fn from(f: &FieldSpec) -> Self {
        Self {
            name: f.name.to_owned(),
            expression: f.column.to_owned(),
            kind: f.kind,
            sortable: f.sortable,
            filterable: f.filterable,
        }
    }
}

/// What a list endpoint accepts.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    /// The resource's fields.
    pub fields: &'static [FieldSpec],
    /// Sort when none is given, in `sort` syntax.
    pub default_sort: &'static str,
    /// Page size when none is given.
    pub default_limit: u32,
    /// Largest page size allowed.
    pub max_limit: u32,
    /// The id column, the final tie-breaker of every sort (JSON key `id`).
    pub id_column: &'static str,
}

/// A value bound into list SQL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum SqlValue {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// UUID.
    Uuid(Uuid),
    /// Timestamp.
    Timestamp(DateTime<Utc>),
    /// Number.
    Float(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// A parsed filter: column, SQL operator, values.
type Filter = (String, &'static str, Vec<SqlValue>);

/// A sort key: API name, kind, SQL expression, direction.
type SortKey = (String, FieldKind, String, Direction);

/// A validated list request, ready to render as SQL.
#[derive(Debug, Clone)]
pub struct ListPlan {
    filters: Vec<Filter>,
    group: Option<(bool, Vec<Filter>)>,
    sort: Vec<SortKey>,
    after: Option<Vec<SqlValue>>,
    /// Page size requested.
    pub limit: u32,
}

/// SQL fragments of a [`ListPlan`], numbered from a given placeholder.
#[derive(Debug, Clone)]
pub struct ListSql {
    /// `" AND ..."` conditions (empty when there are none), to append to the caller's WHERE.
    pub conditions: String,
    /// `" ORDER BY ..."`.
    pub order_by: String,
    /// `" LIMIT n"` (one more than the page size, to know whether a next page exists).
    pub limit: String,
    /// Values for the placeholders, in order.
    pub binds: Vec<SqlValue>,
}

const RESERVED: [&str; 3] = ["limit", "cursor", "sort"];

impl ListSpec {
    /// The resource's fields followed by the run-time ones.
    fn all_fields(&self, extra: &[DynamicField]) -> Vec<DynamicField> {
        self.fields
            .iter()
            .map(DynamicField::from)
            .chain(extra.iter().cloned())
            .collect()
    }

    /// Validates `query` (the request's query parameters minus those in `own_params`,
    /// which the endpoint handles itself). Every problem names its parameter.
    pub fn plan(
        &self,
        query: &BTreeMap<String, String>,
        own_params: &[&str],
    ) -> Result<ListPlan, Problem> {
        self.plan_dynamic(query, own_params, &[], None)
    }

    /// Like [`ListSpec::plan`], with run-time fields (`extra`) besides the declared ones
    /// and, optionally, a saved group of filters (a segment's) combined with AND
    /// (`any = false`) or OR (`any = true`) and ANDed with the request's own filters.
    pub fn plan_dynamic(
        &self,
        query: &BTreeMap<String, String>,
        own_params: &[&str],
        extra: &[DynamicField],
        group: Option<(&BTreeMap<String, String>, bool)>,
    ) -> Result<ListPlan, Problem> {
        let fields = self.all_fields(extra);
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        let mut errors = Vec::new();
        let group = match group {
            Some((filters, any)) => {
                let parsed = Self::parse_filters(&fields, filters, &[], &mut errors);
                if !errors.is_empty() {
                    return Err(Problem::validation(errors));
                }
                Some((any, parsed))
            }
            None => None,
        };

        let limit = match query.get("limit") {
            None => self.default_limit,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=self.max_limit).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        format!("must be an integer from 1 to {}", self.max_limit),
                    ));
                    self.default_limit
                }
            },
        };

        let sort_text = query
            .get("sort")
            .map(String::as_str)
            .unwrap_or(self.default_sort);
        let mut sort: Vec<SortKey> = Vec::new();
        for part in sort_text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (direction, name) = match part.strip_prefix('-') {
                Some(name) => (Direction::Desc, name),
                None => (Direction::Asc, part.strip_prefix('+').unwrap_or(part)),
            };
            match field(name) {
                Some(f) if f.sortable => {
                    if !sort.iter().any(|(n, ..)| *n == f.name) {
                        sort.push((f.name.clone(), f.kind, f.expression.clone(), direction));
                    }
                }
                _ => errors.push(FieldError::new(
                    "sort",
                    format!(
                        "cannot sort by `{name}`; sortable: {}",
                        names(&fields, |f| f.sortable)
                    ),
                )),
            }
        }
        // The id breaks ties so that keyset pages never skip or repeat rows.
        if !sort.iter().any(|(n, ..)| *n == "id") {
            let direction = sort.last().map_or(Direction::Asc, |s| s.3);
            sort.push((
                "id".to_owned(),
                FieldKind::Uuid,
                self.id_column.to_owned(),
                direction,
            ));
        }

        let filters = Self::parse_filters(&fields, query, own_params, &mut errors);

        let after = match query.get("cursor") {
            None => None,
            Some(cursor) => match decode_cursor(cursor, &sort) {
                Some(values) => Some(values),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "is not a cursor of this list with this sort order",
                    ));
                    None
                }
            },
        };

        if !errors.is_empty() {
            let detail = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Problem::new(crate::problem::ErrorCode::BadRequest)
                .with_detail(detail)
                .with_errors(errors));
        }
        Ok(ListPlan {
            filters,
            group,
            sort,
            after,
            limit,
        })
    }

    /// Parses the filter parameters of `query` (all but the reserved and `own_params`).
    fn parse_filters(
        fields: &[DynamicField],
        query: &BTreeMap<String, String>,
        own_params: &[&str],
        errors: &mut Vec<FieldError>,
    ) -> Vec<Filter> {
        let mut filters = Vec::new();
        for (key, raw) in query {
            if RESERVED.contains(&key.as_str()) || own_params.contains(&key.as_str()) {
                continue;
            }
            let (name, op) = match key.split_once('[') {
                Some((name, rest)) => match rest.strip_suffix(']') {
                    Some(op) => (name, op),
                    None => {
                        errors.push(FieldError::new(key.clone(), "malformed filter operator"));
                        continue;
                    }
                },
                None => (key.as_str(), "eq"),
            };
            let Some(field) = fields.iter().find(|f| f.name == name && f.filterable) else {
                errors.push(FieldError::new(
                    key.clone(),
                    format!(
                        "unknown filter `{name}`; filterable: {}",
                        names(fields, |f| f.filterable)
                    ),
                ));
                continue;
            };
            let sql_op = match op {
                _ if field.kind == FieldKind::TextList && op != "contains" => {
                    errors.push(FieldError::new(
                        key.clone(),
                        format!("`{name}` is a list: filter it with `{name}[contains]=`"),
                    ));
                    continue;
                }
                "eq" => "=",
                "ne" => "<>",
                "gt" => ">",
                "gte" => ">=",
                "lt" => "<",
                "lte" => "<=",
                "in" => "IN",
                "contains" if matches!(field.kind, FieldKind::Text | FieldKind::TextList) => "LIKE",
                _ => {
                    errors.push(FieldError::new(
                        key.clone(),
                        format!("operator `{op}` is not available for `{name}`"),
                    ));
                    continue;
                }
            };
            let raw_values: Vec<&str> = if sql_op == "IN" {
                raw.split(',').collect()
            } else {
                vec![raw.as_str()]
            };
            let mut values = Vec::new();
            for raw_value in raw_values {
                match parse_value(field.kind, raw_value) {
                    Ok(SqlValue::Text(text)) if sql_op == "LIKE" => {
                        values.push(SqlValue::Text(contains_pattern(&text)))
                    }
                    Ok(value) => values.push(value),
                    Err(message) => errors.push(FieldError::new(key.clone(), message)),
                }
            }
            filters.push((field.expression.clone(), sql_op, values));
        }
        filters
    }

    /// Like [`ListSpec::plan`], plus a saved group of filters (a segment's) combined with
    /// AND (`any = false`) or OR (`any = true`) and ANDed with the request's own filters.
    pub fn plan_with_group(
        &self,
        query: &BTreeMap<String, String>,
        own_params: &[&str],
        group: &BTreeMap<String, String>,
        any: bool,
    ) -> Result<ListPlan, Problem> {
        self.plan_dynamic(query, own_params, &[], Some((group, any)))
    }
}

fn names(fields: &[DynamicField], pick: impl Fn(&DynamicField) -> bool) -> String {
    let names: Vec<&str> = fields
        .iter()
        .filter(|f| pick(f))
        .map(|f| f.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// `%text%` for `LOWER(column) LIKE $n ESCAPE '\'`: lower-cased, with the wildcards `%`
/// and `_` (and the escape character itself) escaped, so they match only themselves.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn parse_value(kind: FieldKind, raw: &str) -> Result<SqlValue, String> {
    match kind {
        FieldKind::Text => Ok(SqlValue::Text(raw.to_owned())),
        FieldKind::Integer => raw
            .parse()
            .map(SqlValue::Int)
            .map_err(|_| format!("`{raw}` is not an integer")),
        FieldKind::Bool => match raw {
            "true" => Ok(SqlValue::Bool(true)),
            "false" => Ok(SqlValue::Bool(false)),
            _ => Err(format!("`{raw}` is not true or false")),
        },
        FieldKind::Uuid => Uuid::parse_str(raw)
            .map(SqlValue::Uuid)
            .map_err(|_| format!("`{raw}` is not a UUID")),
        FieldKind::Timestamp => DateTime::parse_from_rfc3339(raw)
            .map(|t| SqlValue::Timestamp(t.with_timezone(&Utc)))
            .map_err(|_| format!("`{raw}` is not an RFC 3339 timestamp")),
        FieldKind::Number => raw
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(SqlValue::Float)
            .ok_or_else(|| format!("`{raw}` is not a number")),
        FieldKind::TextList => Ok(SqlValue::Text(raw.to_owned())),
    }
}

fn value_matches(kind: FieldKind, value: &SqlValue) -> bool {
    matches!(
        (kind, value),
        (FieldKind::Text, SqlValue::Text(_))
            | (FieldKind::Integer, SqlValue::Int(_))
            | (FieldKind::Bool, SqlValue::Bool(_))
            | (FieldKind::Uuid, SqlValue::Uuid(_))
            | (FieldKind::Timestamp, SqlValue::Timestamp(_))
            | (FieldKind::Number, SqlValue::Float(_))
    )
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// Sort signature, so a cursor cannot be replayed under another sort.
    s: String,
    v: Vec<SqlValue>,
}

fn sort_signature(sort: &[SortKey]) -> String {
    sort.iter()
        .map(|(name, _, _, d)| match d {
            Direction::Asc => name.clone(),
            Direction::Desc => format!("-{name}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_cursor(cursor: &str, sort: &[SortKey]) -> Option<Vec<SqlValue>> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let body: CursorBody = serde_json::from_slice(&bytes).ok()?;
    let fits = body.s == sort_signature(sort)
        && body.v.len() == sort.len()
        && sort
            .iter()
            .zip(&body.v)
            .all(|((_, kind, ..), v)| value_matches(*kind, v));
    fits.then_some(body.v)
}

impl ListPlan {
    /// Renders the SQL with placeholders starting at `$first` (the caller's own
    /// parameters, such as `org_id`, come before).
    pub fn sql(&self, first: usize) -> ListSql {
        let mut binds = Vec::new();
        let mut placeholder = |value: SqlValue| {
            binds.push(value);
            format!("${}", first + binds.len() - 1)
        };
        let mut conditions = String::new();
        for (column, op, values) in &self.filters {
            match *op {
                "IN" => {
                    let list: Vec<String> = values.iter().cloned().map(&mut placeholder).collect();
                    conditions.push_str(&format!(" AND {column} IN ({})", list.join(", ")));
                }
                "LIKE" => {
                    for value in values {
                        let p = placeholder(value.clone());
                        conditions.push_str(&format!(" AND LOWER({column}) LIKE {p} ESCAPE '\\'"));
                    }
                }
                op => {
                    for value in values {
                        let p = placeholder(value.clone());
                        conditions.push_str(&format!(" AND {column} {op} {p}"));
                    }
                }
            }
        }
        if let Some((any, group)) = &self.group
            && !group.is_empty()
        {
            let mut terms = Vec::new();
            for (column, op, values) in group {
                match *op {
                    "IN" => {
                        let list: Vec<String> =
                            values.iter().cloned().map(&mut placeholder).collect();
                        terms.push(format!("{column} IN ({})", list.join(", ")));
                    }
                    "LIKE" => {
                        for value in values {
                            let p = placeholder(value.clone());
                            terms.push(format!("LOWER({column}) LIKE {p} ESCAPE '\\'"));
                        }
                    }
                    op => {
                        for value in values {
                            let p = placeholder(value.clone());
                            terms.push(format!("{column} {op} {p}"));
                        }
                    }
                }
            }
            let joiner = if *any { " OR " } else { " AND " };
            conditions.push_str(&format!(" AND ({})", terms.join(joiner)));
        }
        if let Some(after) = &self.after {
            // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...: correct for mixed directions,
            // where a row-value comparison would not be.
            let mut alternatives = Vec::new();
            for i in 0..self.sort.len() {
                let mut terms = Vec::new();
                for (j, (_, _, column, direction)) in self.sort.iter().enumerate().take(i + 1) {
                    let p = placeholder(after[j].clone());
                    let op = if j < i {
                        "="
                    } else if *direction == Direction::Asc {
                        ">"
                    } else {
                        "<"
                    };
                    terms.push(format!("{column} {op} {p}"));
                }
                alternatives.push(format!("({})", terms.join(" AND ")));
            }
            conditions.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
        let order_by = format!(
            " ORDER BY {}",
            self.sort
                .iter()
                .map(|(_, _, column, d)| match d {
                    Direction::Asc => format!("{column} ASC"),
                    Direction::Desc => format!("{column} DESC"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        ListSql {
            conditions,
            order_by,
            limit: format!(" LIMIT {}", self.limit + 1),
            binds,
        }
    }

    /// Builds the page from the rows fetched with [`ListSql`] (up to `limit + 1`): the
    /// extra row only tells that a next page exists. The cursor is made from the last
    /// item's JSON fields named in the sort.
    pub fn page<T: Serialize>(&self, rows: Vec<T>) -> Page<T> {
        self.page_by(rows, |row| serde_json::to_value(row).unwrap_or_default())
    }

    /// Like [`ListPlan::page`], for resources whose sort keys are not plain fields of their
    /// JSON (e.g. a name sorted by a normalised column): `keys` gives, for a row, a JSON
    /// object with the value of each sort field as stored in its column, and `id`.
    pub fn page_by<T>(&self, mut rows: Vec<T>, keys: impl Fn(&T) -> serde_json::Value) -> Page<T> {
        let has_more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if has_more {
            rows.last().and_then(|last| self.cursor_for(&keys(last)))
        } else {
            None
        };
        Page {
            data: rows,
            meta: PageMeta {
                next_cursor,
                limit: self.limit,
            },
        }
    }

    fn cursor_for(&self, json: &serde_json::Value) -> Option<String> {
        let mut values = Vec::new();
        for (name, kind, ..) in &self.sort {
            let field = json.get(name.as_str())?;
            let raw = match field {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            values.push(parse_value(*kind, &raw).ok()?);
        }
        let body = CursorBody {
            s: sort_signature(&self.sort),
            v: values,
        };
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).ok()?))
    }
}

/// Binds [`SqlValue`]s onto a sqlx query inside an [`on_pool!`](crate::on_pool) /
/// [`on_tx!`](crate::on_tx) arm, where the backend is concrete.
#[macro_export]
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                $crate::list::SqlValue::Text(v) => query.bind(v.clone()),
                $crate::list::SqlValue::Int(v) => query.bind(*v),
                $crate::list::SqlValue::Bool(v) => query.bind(*v),
                $crate::list::SqlValue::Uuid(v) => query.bind(*v),
                $crate::list::SqlValue::Timestamp(v) => query.bind(*v),
                $crate::list::SqlValue::Float(v) => query.bind(*v),
            };
        }
        query
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_pattern_escapes_like_wildcards() {
        assert_eq!(contains_pattern("Kiosk"), "%kiosk%");
        assert_eq!(contains_pattern("%"), "%\\%%");
        assert_eq!(contains_pattern("a_b"), "%a\\_b%");
        assert_eq!(contains_pattern("a\\b"), "%a\\\\b%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    const FIELDS: &[FieldSpec] = &[
        FieldSpec {
            name: "name",
            column: "name",
            kind: FieldKind::Text,
            sortable: true,
            filterable: true,
        },
        FieldSpec {
            name: "amount",
            column: "amount",
            kind: FieldKind::Integer,
            sortable: true,
            filterable: true,
        },
        FieldSpec {
            name: "secret",
            column: "secret",
            kind: FieldKind::Text,
            sortable: false,
            filterable: false,
        },
    ];
    const SPEC: ListSpec = ListSpec {
        fields: FIELDS,
        default_sort: "name",
        default_limit: 2,
        max_limit: 100,
        id_column: "id",
    };

    fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn renders_filters_and_sort() {
        let plan = SPEC
            .plan(
                &query(&[
                    ("amount[gte]", "10"),
                    ("name[contains]", "Sm_"),
                    ("sort", "-amount"),
                ]),
                &[],
            )
            .expect("valid");
        let sql = plan.sql(2);
        assert_eq!(
            sql.conditions,
            " AND amount >= $2 AND LOWER(name) LIKE $3 ESCAPE '\\'"
        );
        assert_eq!(sql.order_by, " ORDER BY amount DESC, id DESC");
        assert_eq!(sql.limit, " LIMIT 3");
        assert_eq!(
            sql.binds,
            vec![SqlValue::Int(10), SqlValue::Text("%sm\\_%".to_owned())]
        );
    }

    #[test]
    fn names_every_bad_parameter() {
        let problem = SPEC
            .plan(
                &query(&[
                    ("limit", "0"),
                    ("sort", "secret"),
                    ("amount", "ten"),
                    ("colour", "red"),
                    ("cursor", "???"),
                ]),
                &[],
            )
            .expect_err("invalid");
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(problem.status, 400);
        for f in ["limit", "sort", "amount", "colour", "cursor"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn cursor_round_trips_and_is_bound_to_its_sort() {
        #[derive(Serialize)]
        struct Row {
            id: Uuid,
            name: &'static str,
        }
        let plan = SPEC.plan(&query(&[]), &[]).expect("valid");
        let rows = vec![
            Row {
                id: Uuid::nil(),
                name: "a",
            },
            Row {
                id: Uuid::max(),
                name: "b",
            },
            Row {
                id: Uuid::nil(),
                name: "c",
            },
        ];
        let page = plan.page(rows);
        assert_eq!(page.data.len(), 2);
        let cursor = page.meta.next_cursor.expect("more rows");
        let next = SPEC
            .plan(&query(&[("cursor", &cursor)]), &[])
            .expect("valid cursor");
        let sql = next.sql(1);
        assert_eq!(
            sql.conditions,
            " AND ((name > $1) OR (name = $2 AND id > $3))"
        );
        assert_eq!(sql.binds[0], SqlValue::Text("b".to_owned()));
        assert_eq!(sql.binds[2], SqlValue::Uuid(Uuid::max()));
        // The same cursor under another sort is refused rather than silently wrong.
        let other = SPEC.plan(&query(&[("cursor", &cursor), ("sort", "-name")]), &[]);
        assert!(other.is_err());
    }

    #[test]
    fn a_saved_group_is_ored_or_anded_with_the_request() {
        let group = query(&[("name[contains]", "acme"), ("amount[gte]", "100")]);
        let plan = SPEC
            .plan_with_group(&query(&[("amount[lt]", "500")]), &[], &group, true)
            .expect("valid");
        let sql = plan.sql(2);
        assert_eq!(
            sql.conditions,
            " AND amount < $2 AND (amount >= $3 OR LOWER(name) LIKE $4 ESCAPE '\\')"
        );
        let bad = SPEC.plan_with_group(&query(&[]), &[], &query(&[("colour", "red")]), false);
        assert_eq!(bad.expect_err("unknown field").errors[0].field, "colour");
    }

    #[test]
    fn last_page_has_no_cursor() {
        let plan = SPEC.plan(&query(&[("limit", "5")]), &[]).expect("valid");
        let page = plan.page(vec![serde_json::json!({"id": Uuid::nil(), "name": "x"})]);
        assert_eq!(
            page.meta,
            PageMeta {
                next_cursor: None,
                limit: 5
            }
        );
    }
}
