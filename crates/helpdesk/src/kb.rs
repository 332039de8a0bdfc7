//! Knowledge base: categories and markdown articles (draft or published), ranked full-text
//! search, and the articles suggested for a ticket.
//!
//! Search is portable: each article's title (weight 3), tags (2) and body (1) are split
//! into lower-cased words, stop words dropped, a light suffix stripper applied
//! ([`terms`]), and the weighted term frequencies stored as postings in `kb_postings`
//! in the article's own transaction. A query looks its terms up there (the same SQL on
//! SQLite and PostgreSQL) and Rust ranks the candidates with Okapi BM25 (k1 = 1.2,
//! b = 0.75). So scores are identical on both backends and a long ticket text is an OR
//! query without building FTS5 or tsquery syntax. FTS5 and `tsvector` were the
//! alternative; see docs/ARCHITECTURE.md.
//!
//! Reading needs `kb:read` (drafts only with `kb:manage`); every change needs
//! `kb:manage`. Suggestions for a ticket need `tickets:read` on that ticket and show
//! published articles only.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kernel::events::{self, NewEvent};
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page, PageMeta, Single, SqlValue};
use kernel::{
    ApiJson, FieldError, IdPath, IfMatch, Problem, SharedClock, TenantContext, Tx, audit,
    bind_values, on_pool, on_tx,
};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::{HelpdeskError, MessageKind};
use crate::service::Helpdesk;

// ---------------------------------------------------------------------- wire types

/// A knowledge-base category.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KbCategory {
    /// Id.
    pub id: Uuid,
    /// Name (unique in the organisation).
    pub name: String,
    /// Description.
    pub description: String,
    /// Order in the category list (ascending).
    pub position: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/kb/categories`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewKbCategory {
    /// Name (1 to 100 characters, unique).
    pub name: String,
    /// Description (at most 2000 characters).
    #[serde(default)]
    pub description: String,
    /// Position (default: after the last one).
    #[serde(default)]
    pub position: Option<i32>,
}

/// `PATCH /api/v1/kb/categories/{id}`; absent fields are left alone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct KbCategoryPatch {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Position.
    pub position: Option<i32>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// Whether readers see an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    /// Being written: only holders of `kb:manage` see it.
    Draft,
    /// Visible to every reader and suggested on tickets.
    Published,
}

impl ArticleStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "draft" => Some(ArticleStatus::Draft),
            "published" => Some(ArticleStatus::Published),
            _ => None,
        }
    }
}

/// A knowledge-base article.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KbArticle {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Body, markdown.
    pub body_markdown: String,
    /// Category.
    pub category_id: Option<Uuid>,
    /// Tags (lower case).
    pub tags: Vec<String>,
    /// `draft` or `published`.
    pub status: ArticleStatus,
    /// Author's user id, when a user wrote it.
    pub author_id: Option<Uuid>,
    /// Author label (`user:<id>`, `api_key:<id>`).
    pub author: String,
    /// First published.
    pub published_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
    /// BM25 relevance to `?q=` (search results only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// `POST /api/v1/kb/articles`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewKbArticle {
    /// Title (1 to 300 characters).
    pub title: String,
    /// Body, markdown (at most 200 000 characters).
    #[serde(default)]
    pub body_markdown: String,
    /// Category.
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `draft` (default) or `published`.
    #[serde(default)]
    pub status: Option<ArticleStatus>,
}

/// `PATCH /api/v1/kb/articles/{id}`; absent fields are left alone, `category_id: null`
/// clears the category.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct KbArticlePatch {
    /// Title.
    pub title: Option<String>,
    /// Body, markdown.
    pub body_markdown: Option<String>,
    /// Category (`null` clears).
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub category_id: Option<Option<Uuid>>,
    /// Replace the tags.
    pub tags: Option<Vec<String>>,
    /// `draft` or `published`.
    pub status: Option<ArticleStatus>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// An article suggested for a ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuggestedArticle {
    /// Article id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// BM25 relevance to the ticket's text (higher is better; not bounded).
    pub score: f64,
    /// A plain-text excerpt of the body around the first matching word.
    pub snippet: String,
}

// ---------------------------------------------------------------------- text analysis

/// Words that carry no meaning for matching.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for",
    "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "or",
    "our", "ours", "she", "so", "some", "such", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "to", "too", "us", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you",
    "your", "yours", "please", "hi", "hello", "thanks", "thank",
];

/// Most distinct terms a query uses (a long ticket text is cut here).
const MAX_QUERY_TERMS: usize = 200;
/// Postings per INSERT statement.
const POSTINGS_PER_INSERT: usize = 400;
/// BM25 parameters.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A light suffix stripper: plurals (`-ies`, `-es`, `-s`), `-ing`, `-ed` (undoubling a
/// final consonant), then a final `e`, so "printers"/"printer",
/// "configured"/"configure"/"configuring" and "resetting"/"reset" meet.
pub fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    let len = |s: &str| s.chars().count();
    if w.ends_with("ies") && len(&w) > 4 {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && len(&w) > 3 {
        w.truncate(w.len() - 1);
    }
    let before = w.len();
    if w.ends_with("ing") && len(&w) > 5 {
        w.truncate(w.len() - 3);
    } else if w.ends_with("ed") && len(&w) > 4 {
        w.truncate(w.len() - 2);
    }
    // "resetting" → "resett" → "reset" (but "install", "press" keep their pair).
    let bytes = w.as_bytes();
    if w.len() < before
        && bytes.len() >= 2
        && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
        && !matches!(
            bytes[bytes.len() - 1],
            b'l' | b's' | b'z' | b'a' | b'e' | b'i' | b'o' | b'u'
        )
        && bytes[bytes.len() - 1].is_ascii_alphabetic()
    {
        w.truncate(w.len() - 1);
    }
    if w.ends_with('e') && len(&w) > 4 {
        w.truncate(w.len() - 1);
    }
    w
}

/// The index terms of a text, in order (with repeats): lower-cased alphanumeric words of
/// 2 to 40 characters, stop words dropped, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            let n = w.chars().count();
            (2..=40).contains(&n) && !STOP_WORDS.contains(w)
        })
        .map(stem)
        .collect()
}

/// Weighted term frequencies of an article and their total (the BM25 length).
fn article_terms(title: &str, tags: &[String], body: &str) -> (BTreeMap<String, i32>, i32) {
    let mut tf: BTreeMap<String, i32> = BTreeMap::new();
    let mut total = 0i32;
    let mut add = |text: &str, weight: i32| {
        for term in terms(text) {
            *tf.entry(term).or_default() += weight;
            total = total.saturating_add(weight);
        }
    };
    add(title, 3);
    for tag in tags {
        add(tag, 2);
    }
    add(body, 1);
    (tf, total)
}

/// The body as plain text: markdown markers removed, whitespace collapsed.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for c in markdown.chars() {
        match c {
            '#' | '*' | '_' | '`' | '>' | '[' | ']' | '|' => out.push(' '),
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// About 160 characters of the body around the first word whose term is in `query`.
pub fn snippet(markdown: &str, query: &HashSet<String>) -> String {
    const WIDTH: usize = 160;
    let text = plain_text(markdown);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let hit = words
        .iter()
        .position(|w| terms(w).iter().any(|t| query.contains(t)))
        .unwrap_or(0);
    let start = hit.saturating_sub(4);
    let mut out = String::new();
    let mut end = start;
    for (i, word) in words.iter().enumerate().skip(start) {
        if !out.is_empty() && out.chars().count() + word.chars().count() + 1 > WIDTH {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        end = i + 1;
    }
    if out.chars().count() > WIDTH {
        out = out.chars().take(WIDTH).collect();
    }
    if start > 0 {
        out.insert_str(0, "… ");
    }
    if end < words.len() {
        out.push_str(" …");
    }
    out
}

/// Okapi BM25 of one document: `postings` maps each query term it contains to its
/// weighted frequency; `df` gives each term's document frequency among `n` documents
/// of mean length `avgdl`.
pub fn bm25(
    postings: &HashMap<String, i32>,
    doc_len: i32,
    df: &HashMap<String, i64>,
    n: i64,
    avgdl: f64,
) -> f64 {
    let n = n.max(1) as f64;
    let avgdl = if avgdl > 0.0 { avgdl } else { 1.0 };
    postings
        .iter()
        .map(|(term, &tf)| {
            let df = df.get(term).copied().unwrap_or(1) as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let tf = f64::from(tf);
            idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * f64::from(doc_len) / avgdl))
        })
        .sum()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

// ---------------------------------------------------------------------- rows

#[derive(Debug, Clone, FromRow)]
struct CategoryRow {
    id: Uuid,
    name: String,
    description: String,
    position: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<CategoryRow> for KbCategory {
    fn from(r: CategoryRow) -> Self {
        KbCategory {
            id: r.id,
            name: r.name,
            description: r.description,
            position: r.position,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

const CATEGORY_COLUMNS: &str = "id, name, description, position, created_at, updated_at, version";

#[derive(Debug, Clone, FromRow)]
struct ArticleRow {
    id: Uuid,
    title: String,
    body_markdown: String,
    category_id: Option<Uuid>,
    tags: String,
    status: String,
    author_id: Option<Uuid>,
    author: String,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const ARTICLE_COLUMNS: &str = "a.id, a.title, a.body_markdown, a.category_id, a.tags, a.status, \
    a.author_id, a.author, a.published_at, a.created_at, a.updated_at, a.version";

impl ArticleRow {
    fn into_article(self) -> Result<KbArticle, HelpdeskError> {
        Ok(KbArticle {
            id: self.id,
            title: self.title,
            body_markdown: self.body_markdown,
            category_id: self.category_id,
            tags: serde_json::from_str(&self.tags)
                .map_err(|e| HelpdeskError::Corrupt(format!("article tags: {e}")))?,
            status: ArticleStatus::parse(&self.status).ok_or_else(|| {
                HelpdeskError::Corrupt(format!("article status `{}`", self.status))
            })?,
            author_id: self.author_id,
            author: self.author,
            published_at: self.published_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            score: None,
        })
    }
}

const ARTICLE_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "updated_at",
        column: "a.updated_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "created_at",
        column: "a.created_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "title",
        column: "a.title",
        kind: FieldKind::Text,
        sortable: true,
        filterable: true,
    },
    FieldSpec {
        name: "status",
        column: "a.status",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "category_id",
        column: "a.category_id",
        kind: FieldKind::Uuid,
        sortable: false,
        filterable: true,
    },
];

/// What `GET /api/v1/kb/articles` accepts besides `?q=`: filters on `status`,
/// `category_id`, `title`, `created_at`, `updated_at`; `?sort=` (default
/// `-updated_at`), `?limit=`, `?cursor=`.
pub const ARTICLE_LIST: ListSpec = ListSpec {
    fields: ARTICLE_FIELDS,
    default_sort: "-updated_at",
    default_limit: 50,
    max_limit: 200,
    id_column: "a.id",
};

// ---------------------------------------------------------------------- validation

fn clean_tags(tags: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.into_iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                "must be 1 to 50 characters",
            ));
        } else if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 20 {
        errors.push(FieldError::new("tags", "at most 20 tags"));
    }
    out
}

fn check_title(title: &str, errors: &mut Vec<FieldError>) {
    if title.is_empty() || title.chars().count() > 300 {
        errors.push(FieldError::new("title", "must be 1 to 300 characters"));
    }
}

fn check_body(body: &str, errors: &mut Vec<FieldError>) {
    if body.chars().count() > 200_000 {
        errors.push(FieldError::new(
            "body_markdown",
            "must be at most 200000 characters",
        ));
    }
}

fn check_category_fields(name: &str, description: &str, errors: &mut Vec<FieldError>) {
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
    if description.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "must be at most 2000 characters",
        ));
    }
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Records a domain event of the caller's organisation in `tx`.
pub(crate) async fn record_event(
    tx: &mut Tx,
    clock: &SharedClock,
    ctx: &TenantContext,
    event_type: &str,
    record_type: &str,
    id: Uuid,
    data: serde_json::Value,
) -> Result<(), HelpdeskError> {
    events::record(
        tx,
        clock,
        NewEvent {
            event_type: event_type.to_owned(),
            org_id: ctx.org_id(),
            actor: Some(ctx.actor().label()),
            record_type: record_type.to_owned(),
            record_id: id,
            data,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------- service

/// Ranked candidates of a search: (article id, score), best first.
type Ranked = Vec<(Uuid, f64)>;

impl Helpdesk {
    // ------------------------------------------------------------------ categories

    /// The organisation's categories, by position then name.
    pub async fn list_kb_categories(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<KbCategory>, HelpdeskError> {
        ctx.authorize("kb:read")?;
        let rows: Vec<CategoryRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT {CATEGORY_COLUMNS} FROM kb_categories WHERE org_id = $1 ORDER BY position, name, id"
            ))
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(KbCategory::from).collect())
    }

    async fn category_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<CategoryRow>, HelpdeskError> {
        Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {CATEGORY_COLUMNS} FROM kb_categories WHERE org_id = $1 AND id = $2")
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// Adds a category (after the last one unless `position` is given).
    pub async fn create_kb_category(
        &self,
        ctx: &TenantContext,
        new: NewKbCategory,
    ) -> Result<KbCategory, HelpdeskError> {
        ctx.authorize("kb:manage")?;
        let name = new.name.trim().to_owned();
        let description = new.description.trim().to_owned();
        let mut errors = Vec::new();
        check_category_fields(&name, &description, &mut errors);
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let org = ctx.org_id();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let position = match new.position {
            Some(p) => p,
            None => {
                let last: Option<i32> = on_tx!(tx, |c| sqlx::query_scalar(
                    "SELECT MAX(position) FROM kb_categories WHERE org_id = $1"
                )
                .bind(org)
                .fetch_one(c)
                .await)?;
                last.map_or(1, |p| p.saturating_add(1))
            }
        };
        let category = KbCategory {
            id: Uuid::now_v7(),
            name,
            description,
            position,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO kb_categories (org_id, id, name, description, position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(org)
        .bind(category.id)
        .bind(&category.name)
        .bind(&category.description)
        .bind(category.position)
        .bind(now)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "kb_category.created",
            "kb_category",
            category.id,
            &serde_json::Value::Null,
            &to_value(&category),
        )
        .await?;
        tx.commit().await?;
        Ok(category)
    }

    /// Changes a category (`version` must match).
    pub async fn update_kb_category(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: KbCategoryPatch,
        expected: i64,
    ) -> Result<KbCategory, HelpdeskError> {
        ctx.authorize("kb:manage")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let current: KbCategory = self
            .category_row_tx(&mut tx, org, id)
            .await?
            .ok_or(HelpdeskError::NotFound("category"))?
            .into();
        if current.version != expected {
            return Err(HelpdeskError::VersionMismatch {
                current: to_value(&current),
            });
        }
        let mut next = current.clone();
        if let Some(name) = patch.name {
            next.name = name.trim().to_owned();
        }
        if let Some(description) = patch.description {
            next.description = description.trim().to_owned();
        }
        if let Some(position) = patch.position {
            next.position = position;
        }
        let mut errors = Vec::new();
        check_category_fields(&next.name, &next.description, &mut errors);
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        next.updated_at = self.now();
        next.version += 1;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE kb_categories SET name = $3, description = $4, position = $5, updated_at = $6, \
             version = version + 1 WHERE org_id = $1 AND id = $2 AND version = $7"
        )
        .bind(org)
        .bind(id)
        .bind(&next.name)
        .bind(&next.description)
        .bind(next.position)
        .bind(next.updated_at)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(HelpdeskError::VersionMismatch {
                current: to_value(&current),
            });
        }
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "kb_category.updated",
            "kb_category",
            id,
            &to_value(&current),
            &to_value(&next),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    // ------------------------------------------------------------------ articles

    async fn article_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<ArticleRow>, HelpdeskError> {
        Ok(on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!(
                "SELECT {ARTICLE_COLUMNS} FROM kb_articles a WHERE a.org_id = $1 AND a.id = $2"
            )
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// Replaces an article's postings (inside its transaction).
    async fn index_article(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
        tf: &BTreeMap<String, i32>,
    ) -> Result<(), HelpdeskError> {
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM kb_postings WHERE org_id = $1 AND article_id = $2"
        )
        .bind(org)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
        let postings: Vec<(&String, &i32)> = tf.iter().collect();
        for chunk in postings.chunks(POSTINGS_PER_INSERT) {
            let text = format!(
                "INSERT INTO kb_postings (org_id, term, article_id, tf) VALUES {}",
                kernel::db::values_placeholders(tx.backend(), chunk.len(), 4)
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(text.clone()));
                for (term, count) in chunk {
                    q = q.bind(org).bind((*term).clone()).bind(id).bind(**count);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Writes an article (new or changed) with its postings, audit row and, when it
    /// becomes published, `kb.article_published`.
    async fn save_article(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        before: Option<&KbArticle>,
        article: &KbArticle,
        expected: Option<i64>,
    ) -> Result<(), HelpdeskError> {
        let org = ctx.org_id();
        if let Some(category) = article.category_id
            && before.is_none_or(|b| b.category_id != Some(category))
            && self.category_row_tx(tx, org, category).await?.is_none()
        {
            return Err(HelpdeskError::field("category_id", "no such category"));
        }
        let (tf, term_count) = article_terms(&article.title, &article.tags, &article.body_markdown);
        let tags = serde_json::to_string(&article.tags).unwrap_or_else(|_| "[]".to_owned());
        match expected {
            None => {
                on_tx!(tx, |c| {
                    sqlx::query(
                    "INSERT INTO kb_articles (org_id, id, category_id, title, body_markdown, tags, status, term_count, \
                     author_id, author, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                )
                .bind(org)
                .bind(article.id)
                .bind(article.category_id)
                .bind(&article.title)
                .bind(&article.body_markdown)
                .bind(&tags)
                .bind(article.status.as_str())
                .bind(term_count)
                .bind(article.author_id)
                .bind(&article.author)
                .bind(article.published_at)
                .bind(article.created_at)
                .bind(article.updated_at)
                .execute(c)
                .await
                .map(|_| ())
                })?;
            }
            Some(expected) => {
                let changed = on_tx!(tx, |c| {
                    sqlx::query(
                    "UPDATE kb_articles SET category_id = $3, title = $4, body_markdown = $5, tags = $6, status = $7, \
                     term_count = $8, published_at = $9, updated_at = $10, version = version + 1 \
                     WHERE org_id = $1 AND id = $2 AND version = $11"
                )
                .bind(org)
                .bind(article.id)
                .bind(article.category_id)
                .bind(&article.title)
                .bind(&article.body_markdown)
                .bind(&tags)
                .bind(article.status.as_str())
                .bind(term_count)
                .bind(article.published_at)
                .bind(article.updated_at)
                .bind(expected)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
                })?;
                if changed == 0 {
                    return Err(HelpdeskError::VersionMismatch {
                        current: to_value(&before),
                    });
                }
            }
        }
        self.index_article(tx, org, article.id, &tf).await?;
        let action = if before.is_some() {
            "kb_article.updated"
        } else {
            "kb_article.created"
        };
        let before_json = before.map(to_value).unwrap_or(serde_json::Value::Null);
        audit::record_change(
            tx,
            &self.clock,
            ctx,
            action,
            "kb_article",
            article.id,
            &before_json,
            &to_value(article),
        )
        .await?;
        let was_published = before.is_some_and(|b| b.status == ArticleStatus::Published);
        if article.status == ArticleStatus::Published && !was_published {
            record_event(
                tx,
                &self.clock,
                ctx,
                "kb.article_published",
                "kb_article",
                article.id,
                serde_json::json!({"title": article.title, "category_id": article.category_id}),
            )
            .await?;
        }
        Ok(())
    }

    /// Writes a new article (a draft unless `status` is `published`).
    pub async fn create_kb_article(
        &self,
        ctx: &TenantContext,
        new: NewKbArticle,
    ) -> Result<KbArticle, HelpdeskError> {
        ctx.authorize("kb:manage")?;
        let mut errors = Vec::new();
        let title = new.title.trim().to_owned();
        check_title(&title, &mut errors);
        check_body(&new.body_markdown, &mut errors);
        let tags = clean_tags(new.tags, &mut errors);
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let now = self.now();
        let status = new.status.unwrap_or(ArticleStatus::Draft);
        let article = KbArticle {
            id: Uuid::now_v7(),
            title,
            body_markdown: new.body_markdown,
            category_id: new.category_id,
            tags,
            status,
            author_id: ctx.actor().user_id(),
            author: ctx.actor().label(),
            published_at: (status == ArticleStatus::Published).then_some(now),
            created_at: now,
            updated_at: now,
            version: 1,
            score: None,
        };
        let mut tx = self.db.begin().await?;
        self.save_article(&mut tx, ctx, None, &article, None)
            .await?;
        tx.commit().await?;
        Ok(article)
    }

    /// Changes an article (`version` must match); publishing it records
    /// `kb.article_published`.
    pub async fn update_kb_article(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: KbArticlePatch,
        expected: i64,
    ) -> Result<KbArticle, HelpdeskError> {
        ctx.authorize("kb:manage")?;
        let org = ctx.org_id();
        let mut tx = self.db.begin().await?;
        let current = self
            .article_row_tx(&mut tx, org, id)
            .await?
            .ok_or(HelpdeskError::NotFound("article"))?
            .into_article()?;
        if current.version != expected {
            return Err(HelpdeskError::VersionMismatch {
                current: to_value(&current),
            });
        }
        let mut errors = Vec::new();
        let mut next = current.clone();
        if let Some(title) = patch.title {
            next.title = title.trim().to_owned();
            check_title(&next.title, &mut errors);
        }
        if let Some(body) = patch.body_markdown {
            check_body(&body, &mut errors);
            next.body_markdown = body;
        }
        if let Some(tags) = patch.tags {
            next.tags = clean_tags(tags, &mut errors);
        }
        if let Some(category) = patch.category_id {
            next.category_id = category;
        }
        if !errors.is_empty() {
            return Err(HelpdeskError::Validation(errors));
        }
        let now = self.now();
        if let Some(status) = patch.status {
            next.status = status;
            if status == ArticleStatus::Published && next.published_at.is_none() {
                next.published_at = Some(now);
            }
        }
        next.updated_at = now;
        next.version += 1;
        self.save_article(&mut tx, ctx, Some(&current), &next, Some(expected))
            .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// One article; a draft only for holders of `kb:manage`.
    pub async fn get_kb_article(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<KbArticle, HelpdeskError> {
        ctx.authorize("kb:read")?;
        let row: Option<ArticleRow> =
            on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ARTICLE_COLUMNS} FROM kb_articles a WHERE a.org_id = $1 AND a.id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await)?;
        let article = row
            .ok_or(HelpdeskError::NotFound("article"))?
            .into_article()?;
        if article.status == ArticleStatus::Draft && !ctx.can("kb:manage") {
            return Err(HelpdeskError::NotFound("article"));
        }
        Ok(article)
    }

    /// Articles: `?q=` ranks by relevance (one page, best first; `sort` and `cursor` do
    /// not apply), otherwise the list filters, `?sort=` and cursor pages. Readers
    /// without `kb:manage` see published articles only.
    pub async fn list_kb_articles(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<KbArticle>, HelpdeskError> {
        ctx.authorize("kb:read")?;
        let plan = ARTICLE_LIST
            .plan(query, &["q"])
            .map_err(|p| HelpdeskError::Validation(p.errors))?;
        let published_only = !ctx.can("kb:manage");
        let mut own: Vec<SqlValue> = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if published_only {
            own.push(SqlValue::Text(ArticleStatus::Published.as_str().to_owned()));
            scope.push_str(&format!(" AND a.status = ${}", own.len()));
        }
        let q = query.get("q").map(|q| q.trim()).filter(|q| !q.is_empty());
        let Some(q) = q else {
            let sql = plan.sql(own.len() + 1);
            let text = format!(
                "SELECT {ARTICLE_COLUMNS} FROM kb_articles a WHERE a.org_id = $1{scope}{}{}{}",
                sql.conditions, sql.order_by, sql.limit
            );
            let rows: Vec<ArticleRow> = on_pool!(self.db, |p| {
                let qy = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
                let qy = bind_values!(qy, &own);
                bind_values!(qy, &sql.binds).fetch_all(p).await
            })?;
            let articles = rows
                .into_iter()
                .map(ArticleRow::into_article)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(plan.page(articles));
        };
        for reserved in ["sort", "cursor"] {
            if query.contains_key(reserved) {
                return Err(HelpdeskError::field(
                    reserved,
                    "does not apply to a search (?q=): results come best first in one page",
                ));
            }
        }
        if q.chars().count() > 500 {
            return Err(HelpdeskError::field("q", "must be at most 500 characters"));
        }
        let ranked = self.rank(ctx.org_id(), &terms(q), published_only).await?;
        if ranked.is_empty() {
            return Ok(Page {
                data: Vec::new(),
                meta: PageMeta {
                    next_cursor: None,
                    limit: plan.limit,
                },
            });
        }
        // The filters of the request narrow the ranked candidates.
        let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
        let mut binds = own.clone();
        let mut placeholders = Vec::with_capacity(ids.len());
        for id in &ids {
            binds.push(SqlValue::Uuid(*id));
            placeholders.push(format!("${}", binds.len()));
        }
        let sql = plan.sql(binds.len() + 1);
        let text = format!(
            "SELECT {ARTICLE_COLUMNS} FROM kb_articles a WHERE a.org_id = $1{scope} AND a.id IN ({}){}",
            placeholders.join(", "),
            sql.conditions
        );
        let rows: Vec<ArticleRow> = on_pool!(self.db, |p| {
            let qy = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let qy = bind_values!(qy, &binds);
            bind_values!(qy, &sql.binds).fetch_all(p).await
        })?;
        let mut by_id: HashMap<Uuid, ArticleRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        let mut data = Vec::new();
        for (id, score) in ranked {
            if data.len() >= plan.limit as usize {
                break;
            }
            if let Some(row) = by_id.remove(&id) {
                let mut article = row.into_article()?;
                article.score = Some(round4(score));
                data.push(article);
            }
        }
        Ok(Page {
            data,
            meta: PageMeta {
                next_cursor: None,
                limit: plan.limit,
            },
        })
    }

    /// Ranks the organisation's articles (published ones only, or all) against query
    /// terms with BM25, best first; ties by id. Articles sharing no term are left out.
    async fn rank(
        &self,
        org: Uuid,
        query_terms: &[String],
        published_only: bool,
    ) -> Result<Ranked, HelpdeskError> {
        let mut unique: Vec<String> = Vec::new();
        for term in query_terms {
            if !unique.contains(term) {
                unique.push(term.clone());
            }
            if unique.len() >= MAX_QUERY_TERMS {
                break;
            }
        }
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![SqlValue::Uuid(org)];
        let mut scope = String::new();
        if published_only {
            binds.push(SqlValue::Text(ArticleStatus::Published.as_str().to_owned()));
            scope = format!(" AND a.status = ${}", binds.len());
        }
        let stats_sql = format!(
            "SELECT COUNT(*), COALESCE(SUM(a.term_count), 0) FROM kb_articles a WHERE a.org_id = $1{scope}"
        );
        let (n, total): (i64, i64) = on_pool!(self.db, |p| {
            let qy = sqlx::query_as(sqlx::AssertSqlSafe(stats_sql.clone()));
            bind_values!(qy, &binds).fetch_one(p).await
        })?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut term_binds = binds.clone();
        let mut placeholders = Vec::with_capacity(unique.len());
        for term in &unique {
            term_binds.push(SqlValue::Text(term.clone()));
            placeholders.push(format!("${}", term_binds.len()));
        }
        let postings_sql = format!(
            "SELECT p.term, p.article_id, p.tf, a.term_count FROM kb_postings p \
             JOIN kb_articles a ON a.org_id = p.org_id AND a.id = p.article_id \
             WHERE p.org_id = $1{scope} AND p.term IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<(String, Uuid, i32, i32)> = on_pool!(self.db, |p| {
            let qy = sqlx::query_as(sqlx::AssertSqlSafe(postings_sql.clone()));
            bind_values!(qy, &term_binds).fetch_all(p).await
        })?;
        let mut df: HashMap<String, i64> = HashMap::new();
        let mut docs: HashMap<Uuid, (HashMap<String, i32>, i32)> = HashMap::new();
        for (term, article, tf, len) in rows {
            *df.entry(term.clone()).or_default() += 1;
            docs.entry(article)
                .or_insert_with(|| (HashMap::new(), len))
                .0
                .insert(term, tf);
        }
        let avgdl = total as f64 / n as f64;
        let mut ranked: Ranked = docs
            .into_iter()
            .map(|(id, (postings, len))| (id, bm25(&postings, len, &df, n, avgdl)))
            .filter(|(_, score)| *score > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(ranked)
    }

    /// The published articles most relevant to a ticket's subject, description and
    /// latest customer message, best first (at most `limit`, 1 to 20).
    pub async fn suggested_articles(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
        limit: usize,
    ) -> Result<Vec<SuggestedArticle>, HelpdeskError> {
        // Articles are KB content: a caller who may not read the KB gets no titles or
        // snippets through a ticket either.
        ctx.authorize("kb:read")?;
        // Reads the ticket as its page does: tickets:read, tenancy, team visibility.
        let ticket = self.get_ticket(ctx, ticket_id).await?;
        if !(1..=20).contains(&limit) {
            return Err(HelpdeskError::field("limit", "must be from 1 to 20"));
        }
        let latest: Option<String> = on_pool!(self.db, |p| {
            sqlx::query_scalar(
            "SELECT body FROM ticket_messages WHERE org_id = $1 AND ticket_id = $2 AND kind = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        )
        .bind(ctx.org_id())
        .bind(ticket_id)
        .bind(MessageKind::Customer.as_str())
        .fetch_optional(p)
        .await
        })?;
        let text = format!(
            "{} {} {}",
            ticket.subject,
            ticket.description,
            latest.unwrap_or_default()
        );
        let query_terms = terms(&text);
        let ranked = self.rank(ctx.org_id(), &query_terms, true).await?;
        let top: Vec<(Uuid, f64)> = ranked.into_iter().take(limit).collect();
        if top.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![SqlValue::Uuid(ctx.org_id())];
        let mut placeholders = Vec::new();
        for (id, _) in &top {
            binds.push(SqlValue::Uuid(*id));
            placeholders.push(format!("${}", binds.len()));
        }
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM kb_articles a WHERE a.org_id = $1 AND a.id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<ArticleRow> = on_pool!(self.db, |p| {
            let qy = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            bind_values!(qy, &binds).fetch_all(p).await
        })?;
        let mut by_id: HashMap<Uuid, ArticleRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        let wanted: HashSet<String> = query_terms.into_iter().collect();
        Ok(top
            .into_iter()
            .filter_map(|(id, score)| {
                by_id.remove(&id).map(|row| SuggestedArticle {
                    id,
                    snippet: snippet(&row.body_markdown, &wanted),
                    title: row.title,
                    score: round4(score),
                })
            })
            .collect())
    }
}

// ---------------------------------------------------------------------- routes

fn expected_version(body: Option<i64>, if_match: Option<i64>) -> Result<i64, Problem> {
    body.or(if_match).ok_or_else(|| {
        HelpdeskError::field(
            "version",
            "send the version you read, as If-Match or in the body",
        )
        .into()
    })
}

/// The knowledge-base routes and the ticket suggestions.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(list_articles, create_article))
        .routes(routes!(get_article, update_article))
        .routes(routes!(suggested_articles))
}

type ApiResult<T> = Result<T, Problem>;

/// Knowledge-base categories, by position (`kb:read`).
#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "helpdesk",
    responses((status = 200, body = Single<Vec<KbCategory>>), (status = 403, body = Problem)))]
async fn list_categories(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> ApiResult<Json<Single<Vec<KbCategory>>>> {
    Ok(Json(Single::new(helpdesk.list_kb_categories(&ctx).await?)))
}

/// Add a category (`kb:manage`).
#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "helpdesk", request_body = NewKbCategory,
    responses((status = 201, body = Single<KbCategory>), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_category(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewKbCategory>,
) -> ApiResult<(StatusCode, Json<Single<KbCategory>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_kb_category(&ctx, body).await?)),
    ))
}

/// Change a category (`kb:manage`; `If-Match` or `version`).
#[utoipa::path(patch, path = "/api/v1/kb/categories/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = KbCategoryPatch,
    responses((status = 200, body = Single<KbCategory>), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_category(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<KbCategoryPatch>,
) -> ApiResult<Json<Single<KbCategory>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        helpdesk
            .update_kb_category(&ctx, id, body, expected)
            .await?,
    )))
}

/// Articles (`kb:read`; drafts only with `kb:manage`). `?q=` searches title, tags and
/// body and returns one page ranked by relevance (`score`); otherwise filters
/// (`?status=published`, `?category_id=`, `?title[like]=`), `?sort=` (`updated_at`,
/// `created_at`, `title`; default `-updated_at`), `?limit=`, `?cursor=`.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "helpdesk",
    params(("q" = Option<String>, Query, description = "Full-text search, best first"),
        ("status" = Option<String>, Query, description = "draft or published"),
        ("category_id" = Option<uuid::Uuid>, Query, description = "Only this category")),
    responses((status = 200, body = Page<KbArticle>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_articles(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<KbArticle>>> {
    Ok(Json(helpdesk.list_kb_articles(&ctx, &q).await?))
}

/// Write an article (`kb:manage`); `status: published` publishes it at once.
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "helpdesk", request_body = NewKbArticle,
    responses((status = 201, body = Single<KbArticle>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_article(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    ApiJson(body): ApiJson<NewKbArticle>,
) -> ApiResult<(StatusCode, Json<Single<KbArticle>>)> {
    Ok((
        StatusCode::CREATED,
        Json(Single::new(helpdesk.create_kb_article(&ctx, body).await?)),
    ))
}

/// One article (`kb:read`; a draft only with `kb:manage`).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Single<KbArticle>), (status = 404, body = Problem)))]
async fn get_article(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
) -> ApiResult<Json<Single<KbArticle>>> {
    Ok(Json(Single::new(helpdesk.get_kb_article(&ctx, id).await?)))
}

/// Change an article (`kb:manage`; `If-Match` or `version`). Publishing records
/// `kb.article_published`.
#[utoipa::path(patch, path = "/api/v1/kb/articles/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = KbArticlePatch,
    responses((status = 200, body = Single<KbArticle>), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
async fn update_article(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<KbArticlePatch>,
) -> ApiResult<Json<Single<KbArticle>>> {
    let expected = expected_version(body.version, if_match)?;
    Ok(Json(Single::new(
        helpdesk.update_kb_article(&ctx, id, body, expected).await?,
    )))
}

/// The published articles most relevant to the ticket's subject, description and latest
/// customer message, best first (`tickets:read` on the ticket). `?limit=` 1 to 20
/// (default 5).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/suggested-articles", tag = "helpdesk",
    params(("id" = uuid::Uuid, Path), ("limit" = Option<u32>, Query, description = "1 to 20, default 5")),
    responses((status = 200, body = Single<Vec<SuggestedArticle>>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn suggested_articles(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
    IdPath(id): IdPath,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Single<Vec<SuggestedArticle>>>> {
    let limit = match q.get("limit") {
        None => 5,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| Problem::from(HelpdeskError::field("limit", "must be from 1 to 20")))?,
    };
    Ok(Json(Single::new(
        helpdesk.suggested_articles(&ctx, id, limit).await?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stemming_meets_word_forms() {
        assert_eq!(stem("printers"), stem("printer"));
        assert_eq!(stem("configured"), stem("configure"));
        assert_eq!(stem("configuring"), stem("configure"));
        assert_eq!(stem("passwords"), "password");
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("invoices"), stem("invoice"));
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("resetting"), stem("reset"));
        assert_eq!(stem("installed"), "install");
    }

    #[test]
    fn terms_drop_stop_words_and_noise() {
        assert_eq!(
            terms("How do I reset my Password? (2FA)"),
            vec!["reset", "password", "2fa"]
        );
    }

    #[test]
    fn bm25_prefers_rarer_terms_and_shorter_documents() {
        let df: HashMap<String, i64> = [("password".to_owned(), 1), ("account".to_owned(), 9)]
            .into_iter()
            .collect();
        let rare: HashMap<String, i32> = [("password".to_owned(), 1)].into_iter().collect();
        let common: HashMap<String, i32> = [("account".to_owned(), 1)].into_iter().collect();
        assert!(bm25(&rare, 10, &df, 10, 10.0) > bm25(&common, 10, &df, 10, 10.0));
        assert!(bm25(&rare, 5, &df, 10, 10.0) > bm25(&rare, 50, &df, 10, 10.0));
        assert_eq!(bm25(&HashMap::new(), 5, &df, 10, 10.0), 0.0);
    }

    #[test]
    fn snippets_start_near_the_match() {
        let body = "# Intro\n\nSome words here first. Then many more words before the part about \
                    **resetting** the password, which follows.";
        let wanted: HashSet<String> = terms("reset").into_iter().collect();
        let s = snippet(body, &wanted);
        assert!(s.contains("resetting"), "{s}");
        assert!(s.starts_with("… "), "{s}");
        assert!(!s.contains('*'));
    }
}
