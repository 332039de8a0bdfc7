//! Global search across companies, contacts, leads and deals: prefix- and typo-tolerant.
//!
//! Candidates come from the organisation's in-memory index ([`crate::search_index`]); the
//! best of them are re-read from the database and ranked here by word similarity (a query
//! word matches its best word of the record's title; a prefix counts as a full match), so
//! "jon smth" finds "John Smith". Emails and phones match by containment (digits, for
//! phones) once decrypted; they are never stored in a searchable form.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kernel::db::Pool;
use kernel::{Backend, TenantContext, on_pool};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::CrmError;
use crate::search_index::{Candidate, DocChange, DocInput, Kind, OrgIndex};
use crate::service::Crm;

/// One search result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// `company`, `contact`, `lead` or `deal`.
    pub record_type: String,
    /// Record id.
    pub id: Uuid,
    /// What to show.
    pub title: String,
    /// Relevance in [0, 1].
    pub score: f64,
}

/// Trigrams of a text, pg_trgm style, lower-cased.
pub fn trigrams(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in words(text) {
        let padded: Vec<char> = format!("  {word} ").chars().collect();
        for window in padded.windows(3) {
            out.insert(window.iter().collect());
        }
    }
    out
}

pub(crate) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A trigram with its three characters packed into 21 bits each (a `char` is at most
/// 0x10FFFF): a word's trigram set is then a sorted `Vec<u64>`, built and compared
/// without an allocation per trigram (ranking compares every query word with every word
/// of ~80 candidates per search).
type PackedGram = u64;

fn pack(a: char, b: char, c: char) -> PackedGram {
    (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c)
}

/// Appends one word's trigram set to `out`, sorted and deduplicated: the windows of the
/// word padded as `"  word "`, as [`trigrams`] takes them.
fn push_word_grams(word: &str, out: &mut Vec<PackedGram>) {
    let start = out.len();
    let (mut a, mut b) = (' ', ' ');
    for c in word.chars().chain(std::iter::once(' ')) {
        out.push(pack(a, b, c));
        (a, b) = (b, c);
    }
    out[start..].sort_unstable();
    let mut kept = start;
    for i in start..out.len() {
        if kept == start || out[i] != out[kept - 1] {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// How many trigrams two sorted, deduplicated sets share.
fn shared_grams(a: &[PackedGram], b: &[PackedGram]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

/// A text split into words as [`words`] does, each word with its trigram set: computed
/// once per text, so that scoring it against a query allocates nothing per word pair.
#[derive(Default)]
struct Analysed {
    lower: String,
    /// Per word: its byte range in `lower`, then its trigrams' range in `grams`.
    words: Vec<(usize, usize, usize, usize)>,
    grams: Vec<PackedGram>,
}

impl Analysed {
    fn new(text: &str) -> Self {
        let mut analysed = Self::default();
        analysed.fill(text);
        analysed
    }

    /// Analyses `text` into this value's buffers, so one value serves many texts.
    fn fill(&mut self, text: &str) {
        let Self {
            lower,
            words,
            grams,
        } = self;
        lower.clear();
        words.clear();
        grams.clear();
        if text.is_ascii() {
            // What `str::to_lowercase` gives for ASCII, without a new `String`.
            lower.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            lower.push_str(&text.to_lowercase());
        }
        let mut start = None;
        for (i, c) in lower.char_indices() {
            if c.is_alphanumeric() {
                start.get_or_insert(i);
            } else if let Some(from) = start.take() {
                let at = grams.len();
                push_word_grams(&lower[from..i], grams);
                words.push((from, i, at, grams.len()));
            }
        }
        if let Some(from) = start {
            let at = grams.len();
            push_word_grams(&lower[from..], grams);
            words.push((from, lower.len(), at, grams.len()));
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Each word with its trigram set.
    fn iter(&self) -> impl Iterator<Item = (&str, &[PackedGram])> {
        self.words
            .iter()
            .map(|&(from, to, at, end)| (&self.lower[from..to], &self.grams[at..end]))
    }

    /// Whether one of the words has this trigram (the text's trigram set is the union of
    /// its words').
    fn has_gram(&self, gram: PackedGram) -> bool {
        self.iter()
            .any(|(_, grams)| grams.binary_search(&gram).is_ok())
    }
}

/// A query prepared once per search: its words with their trigram sets, its whole
/// trigram set, and what containment matching of emails and phones needs.
struct Query {
    words: Analysed,
    /// Per word: whether it is long enough (two characters) for a prefix to count in full.
    prefix_ok: Vec<bool>,
    /// Every trigram of the query, sorted and deduplicated (as [`trigrams`] gives them).
    grams: Vec<PackedGram>,
    /// The trimmed, lower-cased query, which an email may contain.
    lower: String,
    /// The query's digits, when they are most of it (a phone number or part of one).
    digits: Option<String>,
}

impl Query {
    fn new(query: &str) -> Self {
        let words = Analysed::new(query);
        let prefix_ok = words.iter().map(|(w, _)| w.chars().count() >= 2).collect();
        let mut grams = words.grams.clone();
        grams.sort_unstable();
        grams.dedup();
        let lower = query.trim().to_lowercase();
        let qd = digits(&lower);
        let digits = (qd.len() >= 4
            && qd.len() * 2 >= lower.chars().filter(|c| !c.is_whitespace()).count())
        .then_some(qd);
        Self {
            words,
            prefix_ok,
            grams,
            lower,
            digits,
        }
    }

    /// [`score`] of this query against an analysed text.
    fn score(&self, text: &Analysed) -> f64 {
        if self.words.is_empty() || text.is_empty() {
            return 0.0;
        }
        let total: f64 = self
            .words
            .iter()
            .zip(&self.prefix_ok)
            .map(|((qw, qgrams), prefix_ok)| {
                text.iter()
                    .map(|(tw, tgrams)| {
                        if tw.starts_with(qw) && *prefix_ok {
                            1.0
                        } else {
                            dice(qgrams, tgrams)
                        }
                    })
                    .fold(0.0, f64::max)
            })
            .sum();
        total / self.words.words.len() as f64
    }

    /// Match against an email or phone (`value`, analysed as `text`): containment (of the
    /// digits, for phones) counts as a full match, else word similarity.
    fn private_score(&self, value: &str, text: &Analysed) -> f64 {
        // `text.lower` is the lower-cased value.
        if text.lower.contains(&self.lower) {
            return 1.0;
        }
        if let Some(qd) = &self.digits
            && digits(value).contains(qd.as_str())
        {
            return 1.0;
        }
        self.score(text)
    }

    /// A record's final score, if it reaches [`THRESHOLD`]: names score by word
    /// similarity; emails and phones by containment, else word similarity; a share of the
    /// query's trigrams found in any of the texts breaks ties. Each text is analysed once,
    /// into `scratch`'s buffers (reused from one candidate to the next).
    fn rank(&self, title: &str, private: &[String], scratch: &mut Scratch) -> Option<f64> {
        let Scratch {
            title: title_words,
            private: private_words,
        } = scratch;
        title_words.fill(title);
        if private_words.len() < private.len() {
            private_words.resize_with(private.len(), Analysed::default);
        }
        for (value, words) in private.iter().zip(private_words.iter_mut()) {
            words.fill(value);
        }
        let (title_words, private_words) = (&*title_words, &private_words[..private.len()]);
        let by_name = self.score(title_words);
        let by_private = private
            .iter()
            .zip(private_words)
            .map(|(p, words)| self.private_score(p, words))
            .fold(0.0, f64::max);
        let found = self
            .grams
            .iter()
            .filter(|g| title_words.has_gram(**g) || private_words.iter().any(|p| p.has_gram(**g)))
            .count();
        let overlap = (found as f64 / self.grams.len().max(1) as f64).min(1.0);
        let best = by_name.max(by_private);
        (best >= THRESHOLD).then(|| (0.8 * best + 0.2 * overlap).min(1.0))
    }
}

/// Analysis buffers reused across the candidates of one search.
#[derive(Default)]
struct Scratch {
    title: Analysed,
    private: Vec<Analysed>,
}

/// Dice similarity of two words' trigram sets, in [0, 1].
fn dice(a: &[PackedGram], b: &[PackedGram]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = shared_grams(a, b) as f64;
    2.0 * shared / (a.len() + b.len()) as f64
}

/// How well `query` matches `text`: each query word is matched to its best word of the
/// text (a prefix counts as a full match), averaged.
pub fn score(query: &str, text: &str) -> f64 {
    Query::new(query).score(&Analysed::new(text))
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The searchable texts of a record: (clear texts, PII texts indexed blind).
pub struct Searchable<'a> {
    /// Names, titles.
    pub clear: Vec<&'a str>,
    /// Emails, phones.
    pub private: Vec<&'a str>,
}

/// Minimum score a hit needs.
pub(crate) const THRESHOLD: f64 = 0.45;

/// How long an organisation's index serves before it is rebuilt from the database in the
/// background (what bounds staleness for writes made by another server instance, or lost
/// in a race with a rebuild).
const REBUILD_AFTER: Duration = Duration::from_secs(60);
/// Organisations whose index is kept; the least recently searched beyond this are dropped
/// (and rebuilt when next searched).
const MAX_INDEXED_ORGS: usize = 64;

/// One organisation's index and its upkeep.
#[derive(Default)]
struct OrgEntry {
    index: RwLock<Option<OrgIndex>>,
    built_at: Mutex<Option<Instant>>,
    last_used: Mutex<Option<Instant>>,
    rebuilding: AtomicBool,
    /// Changes made while a rebuild reads the database, replayed onto its result.
    journal: Mutex<Vec<DocChange>>,
    build: tokio::sync::Mutex<()>,
}

/// The in-memory search indexes of this process, by organisation.
#[derive(Default)]
pub struct SearchIndexes {
    orgs: Mutex<HashMap<Uuid, Arc<OrgEntry>>>,
}

impl SearchIndexes {
    fn entry(&self, org: Uuid) -> Arc<OrgEntry> {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if !orgs.contains_key(&org) && orgs.len() >= MAX_INDEXED_ORGS {
            let oldest = orgs
                .iter()
                .min_by_key(|(_, e)| *e.last_used.lock().unwrap_or_else(|e| e.into_inner()))
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                orgs.remove(&oldest);
            }
        }
        orgs.entry(org).or_default().clone()
    }

    fn existing(&self, org: Uuid) -> Option<Arc<OrgEntry>> {
        self.orgs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&org)
            .cloned()
    }
}

// A poisoned lock only means another thread panicked mid-update of a derived index; the
// data is still usable (at worst a false candidate, re-checked against the database).
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn locked<T>(lock: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

impl Crm {
    /// Brings a record's entry in the organisation's search index up to date. Called by
    /// the write paths inside their transaction: should it roll back, the index holds a
    /// candidate that searches re-check against the database and drop.
    pub(crate) fn index_record(
        &self,
        org: Uuid,
        record_type: &str,
        id: Uuid,
        fields: Searchable<'_>,
    ) {
        let Some(kind) = Kind::parse(record_type) else {
            return;
        };
        self.index_changes(
            org,
            vec![DocChange::Upsert(DocInput {
                kind,
                id,
                clear: fields.clear.iter().map(|s| (*s).to_owned()).collect(),
                private: fields.private.iter().map(|s| (*s).to_owned()).collect(),
            })],
        );
    }

    /// Applies changes to the organisation's index, if it has one in memory (else the
    /// next search builds it from the database, changes included).
    pub(crate) fn index_changes(&self, org: Uuid, changes: Vec<DocChange>) {
        let Some(entry) = self.search_indexes.existing(org) else {
            return;
        };
        if entry.rebuilding.load(Ordering::Acquire) {
            locked(&entry.journal).extend(changes.iter().cloned());
        }
        let mut index = write(&entry.index);
        if let Some(index) = index.as_mut() {
            for change in changes {
                index.apply(change);
            }
        }
    }

    /// Reads every searchable record of an organisation into a fresh index.
    async fn load_index(&self, org: Uuid) -> Result<OrgIndex, CrmError> {
        let mut index = OrgIndex::default();
        let companies: Vec<(Uuid, String, Option<String>)> =
            on_pool!(self.db, |p| sqlx::query_as(
                "SELECT id, name, domain FROM companies WHERE org_id = $1 AND archived_at IS NULL"
            )
            .bind(org)
            .fetch_all(p)
            .await)?;
        for (id, name, domain) in companies {
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Company,
                id,
                clear: vec![name, domain.unwrap_or_default()],
                private: vec![],
            }));
        }
        let deals: Vec<(Uuid, String)> = on_pool!(self.db, |p| sqlx::query_as(
            "SELECT id, title FROM deals WHERE org_id = $1"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        for (id, title) in deals {
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Deal,
                id,
                clear: vec![title],
                private: vec![],
            }));
        }
        type PersonRow = (Uuid, String, String, Option<String>, Option<String>);
        let contacts: Vec<PersonRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, first_name, last_name, email_enc, phone_enc FROM contacts WHERE org_id = $1 AND archived_at IS NULL"
        )
        .bind(org)
        .fetch_all(p)
        .await
        })?;
        for (id, first, last, email, phone) in contacts {
            let mut private = Vec::new();
            if let Some(e) = email {
                private.push(
                    self.decrypt(&e, &crate::service::pii_aad(org, "contacts", id, "email"))?,
                );
            }
            if let Some(p) = phone {
                let phone =
                    self.decrypt(&p, &crate::service::pii_aad(org, "contacts", id, "phone"))?;
                private.push(crate::service::normalise_phone(&phone));
            }
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Contact,
                id,
                clear: vec![format!("{first} {last}")],
                private,
            }));
        }
        let leads: Vec<PersonRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, first_name, last_name, company_name, email_enc FROM leads WHERE org_id = $1"
        )
        .bind(org)
        .fetch_all(p)
        .await
        })?;
        for (id, first, last, company, email) in leads {
            let mut private = Vec::new();
            if let Some(e) = email {
                private
                    .push(self.decrypt(&e, &crate::service::pii_aad(org, "leads", id, "email"))?);
            }
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Lead,
                id,
                clear: vec![format!("{first} {last}"), company.unwrap_or_default()],
                private,
            }));
        }
        Ok(index)
    }

    /// Builds (first use) or rebuilds (stale) an organisation's index, replaying the
    /// changes written meanwhile.
    async fn rebuild_index(&self, org: Uuid, entry: &OrgEntry) -> Result<(), CrmError> {
        entry.rebuilding.store(true, Ordering::Release);
        locked(&entry.journal).clear();
        let loaded = self.load_index(org).await;
        let result = match loaded {
            Ok(mut fresh) => {
                let mut index = write(&entry.index);
                for change in locked(&entry.journal).drain(..) {
                    fresh.apply(change);
                }
                tracing::debug!(%org, records = fresh.len(), "search index built");
                *index = Some(fresh);
                *locked(&entry.built_at) = Some(Instant::now());
                Ok(())
            }
            Err(err) => Err(err),
        };
        entry.rebuilding.store(false, Ordering::Release);
        result
    }

    /// The records the organisation's index proposes for `query`.
    async fn search_candidates(
        &self,
        org: Uuid,
        query: &str,
        readable: &[Kind],
        limit: usize,
    ) -> Result<Vec<Candidate>, CrmError> {
        let entry = self.search_indexes.entry(org);
        *locked(&entry.last_used) = Some(Instant::now());
        if read(&entry.index).is_none() {
            let _building = entry.build.lock().await;
            if read(&entry.index).is_none() {
                self.rebuild_index(org, &entry).await?;
            }
        }
        let stale = locked(&entry.built_at).is_none_or(|at| at.elapsed() >= REBUILD_AFTER);
        if stale && !entry.rebuilding.load(Ordering::Acquire) {
            let crm = self.clone();
            let background = entry.clone();
            tokio::spawn(async move {
                let Ok(_building) = background.build.try_lock() else {
                    return;
                };
                if let Err(err) = crm.rebuild_index(org, &background).await {
                    tracing::warn!(%org, error = %err, "search index rebuild failed; serving the previous one");
                }
            });
        }
        let index = read(&entry.index);
        Ok(index
            .as_ref()
            .map(|i| i.candidates(query, readable, limit))
            .unwrap_or_default())
    }

    /// Searches every record type the caller may read.
    pub async fn search(
        &self,
        ctx: &TenantContext,
        query: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, CrmError> {
        let query = query.trim();
        if query.chars().count() < 2 {
            return Err(CrmError::field("q", "type at least 2 characters"));
        }
        let readable: Vec<&str> = [
            ("company", "companies:read"),
            ("contact", "contacts:read"),
            ("lead", "leads:read"),
            ("deal", "deals:read"),
        ]
        .into_iter()
        .filter(|(_, permission)| ctx.can(permission))
        .map(|(t, _)| t)
        .collect();
        if readable.is_empty() {
            return Err(CrmError::Forbidden(kernel::tenancy::Forbidden {
                permission: "contacts:read".to_owned(),
            }));
        }
        let kinds: Vec<Kind> = readable.iter().filter_map(|t| Kind::parse(t)).collect();
        // More candidates than asked for: some may be gone or out of scope in the database.
        let candidates = self
            .search_candidates(ctx.org_id(), query, &kinds, limit * 3 + 20)
            .await?;
        let mut by_type: BTreeMap<Kind, Vec<Uuid>> = BTreeMap::new();
        for candidate in candidates {
            by_type
                .entry(candidate.kind)
                .or_default()
                .push(candidate.id);
        }
        // The query's words and trigrams are prepared once per search, not per candidate.
        let prepared = Query::new(query);
        let mut scratch = Scratch::default();
        let mut results = Vec::new();
        for (kind, ids) in by_type {
            let titles = self.titles(ctx, kind.as_str(), &ids).await?;
            for id in ids {
                let Some((title, private)) = titles.get(&id) else {
                    continue;
                };
                if let Some(score) = prepared.rank(title, private, &mut scratch) {
                    results.push(SearchHit {
                        record_type: kind.as_str().to_owned(),
                        id,
                        title: title.clone(),
                        score,
                    });
                }
            }
        }
        results.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.title.cmp(&b.title))
        });
        results.truncate(limit);
        Ok(results)
    }

    /// Display titles (and decrypted private texts, for ranking only) of some records, one
    /// query per record type.
    async fn titles(
        &self,
        ctx: &TenantContext,
        record_type: &str,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, (String, Vec<String>)>, CrmError> {
        let org = ctx.org_id();
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        // One statement per record type, whatever the number of ids: a list of `$n`
        // placeholders made each count a statement of its own, which PostgreSQL prepared
        // and planned anew (churning the statement cache too). PostgreSQL takes the ids
        // as one `uuid[]`; SQLite, which stores a UUID as a 16-byte blob, as one JSON
        // array of their hex digits, turned back into blobs.
        let list = match self.db.backend() {
            Backend::Postgres => "id = ANY($2)",
            Backend::Sqlite => "id IN (SELECT unhex(value) FROM json_each($2))",
        };
        // (id, first text, second text, third, fourth, site) — the columns differ per type.
        type Row = (
            Uuid,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<Uuid>,
        );
        let sql = match record_type {
            "company" => format!(
                "SELECT id, name, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), site_id FROM companies WHERE org_id = $1 AND archived_at IS NULL AND {list}"
            ),
            "deal" => format!(
                "SELECT id, title, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS UUID) FROM deals WHERE org_id = $1 AND {list}"
            ),
            "contact" => format!(
                "SELECT id, first_name, last_name, email_enc, phone_enc, CAST(NULL AS UUID) FROM contacts WHERE org_id = $1 AND archived_at IS NULL AND {list}"
            ),
            "lead" => format!(
                "SELECT id, first_name, last_name, company_name, email_enc, CAST(NULL AS UUID) FROM leads WHERE org_id = $1 AND {list}"
            ),
            _ => return Ok(out),
        };
        let rows: Vec<Row> = match self.db.pool() {
            Pool::Postgres(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(org)
                    .bind(ids)
                    .fetch_all(p)
                    .await?
            }
            Pool::Sqlite(p) => {
                let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(org)
                    .bind(serde_json::Value::from(hex).to_string())
                    .fetch_all(p)
                    .await?
            }
        };
        let scope = ctx.scope();
        for (id, first, second, third, fourth, site) in rows {
            let entry =
                match record_type {
                    "company" if site.is_none() || scope.allows_site(site) => (first, vec![]),
                    "company" => continue,
                    "deal" => (first, vec![]),
                    "contact" => {
                        let mut private = Vec::new();
                        if let Some(e) = third {
                            private.push(self.decrypt(
                                &e,
                                &crate::service::pii_aad(org, "contacts", id, "email"),
                            )?);
                        }
                        if let Some(p) = fourth {
                            private.push(self.decrypt(
                                &p,
                                &crate::service::pii_aad(org, "contacts", id, "phone"),
                            )?);
                        }
                        let name = format!("{first} {}", second.unwrap_or_default());
                        (name.trim().to_owned(), private)
                    }
                    _ => {
                        let mut private = Vec::new();
                        if let Some(e) = fourth {
                            private.push(self.decrypt(
                                &e,
                                &crate::service::pii_aad(org, "leads", id, "email"),
                            )?);
                        }
                        let name = format!("{first} {}", second.unwrap_or_default())
                            .trim()
                            .to_owned();
                        let title = match third {
                            Some(c) => format!("{name} ({c})"),
                            None => name,
                        };
                        (title, private)
                    }
                };
            out.insert(id, entry);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_prefixes_score_high() {
        assert!(
            score("jon smth", "John Smith") >= THRESHOLD,
            "{}",
            score("jon smth", "John Smith")
        );
        assert!(score("joh", "John Smith") >= 0.5);
        assert!(score("smith", "John Smith") >= 0.99);
        assert!(score("maria", "John Smith") < THRESHOLD);
        assert!(score("acme", "Acme Sugar Co") >= 0.99);
        assert!(trigrams("ab").contains("  a"));
    }

    // The ranking as first written (a `BTreeSet<String>` of trigrams per word pair), kept
    // as the reference the allocation-free path must equal exactly.
    fn reference_similarity(a: &str, b: &str) -> f64 {
        let (ta, tb) = (trigrams(a), trigrams(b));
        if ta.is_empty() || tb.is_empty() {
            return 0.0;
        }
        let shared = ta.intersection(&tb).count() as f64;
        2.0 * shared / (ta.len() + tb.len()) as f64
    }

    fn reference_score(query: &str, text: &str) -> f64 {
        let q = words(query);
        let t = words(text);
        if q.is_empty() || t.is_empty() {
            return 0.0;
        }
        let total: f64 = q
            .iter()
            .map(|qw| {
                t.iter()
                    .map(|tw| {
                        if tw.starts_with(qw.as_str()) && qw.chars().count() >= 2 {
                            1.0
                        } else {
                            reference_similarity(qw, tw)
                        }
                    })
                    .fold(0.0, f64::max)
            })
            .sum();
        total / q.len() as f64
    }

    fn reference_private_score(query: &str, value: &str) -> f64 {
        let q = query.trim().to_lowercase();
        if value.to_lowercase().contains(&q) {
            return 1.0;
        }
        let qd = digits(&q);
        if qd.len() >= 4
            && qd.len() * 2 >= q.chars().filter(|c| !c.is_whitespace()).count()
            && digits(value).contains(&qd)
        {
            return 1.0;
        }
        reference_score(query, value)
    }

    fn reference_rank(query: &str, title: &str, private: &[String]) -> Option<f64> {
        let plain = trigrams(query);
        let by_name = reference_score(query, title);
        let by_private = private
            .iter()
            .map(|p| reference_private_score(query, p))
            .fold(0.0, f64::max);
        let mut grams = trigrams(title);
        for p in private {
            grams.extend(trigrams(p));
        }
        let overlap =
            (plain.intersection(&grams).count() as f64 / plain.len().max(1) as f64).min(1.0);
        let best = by_name.max(by_private);
        (best >= THRESHOLD).then(|| (0.8 * best + 0.2 * overlap).min(1.0))
    }

    const QUERIES: &[&str] = &[
        "jon smth",
        "maria garc",
        "ahmd khan",
        "fatma haddad",
        "company 1234",
        "elena",
        "garcia",
        "omar rahmn",
        "grace okafr",
        "khalid",
        "smithf",
        "j.smith@smithfield",
        "600123456",
        "+34 600 123",
        "5550001234",
        "p2999",
        "ortiz-berg",
        "jo",
        "a b",
        "  lopez  ",
        "ÖSTER straße",
        "ΟΔΟΣ",
        "İstanbul",
        "東京 タワー",
        "müller-lüdenscheidt",
        "@@",
        "x",
    ];

    const TEXTS: &[&str] = &[
        "John Smith",
        "Jon Smithfield",
        "Maria Garcia17",
        "Ahmed Khan42 (Acme Sugar Co)",
        "Fatima Haddad",
        "Company 1234",
        "Company 12345",
        "Elena Ivanova3",
        "Grace Okafor96",
        "Khalid Nasser",
        "Ortiz-Berg Logistics",
        "j.smith@smithfield.com",
        "+34600123456",
        "+1 555 000 1234",
        "maria.garcia.c17@example.com",
        "Österreich Strasse",
        "Οδός Σταδίου",
        "ISTANBUL İstanbul",
        "東京タワー",
        "Müller-Lüdenscheidt GmbH",
        "",
        "---",
        "a",
        "aaa aaaa",
    ];

    #[test]
    fn fast_ranking_equals_the_reference_formula() {
        let mut scratch = Scratch::default();
        for query in QUERIES {
            let prepared = Query::new(query.trim());
            for text in TEXTS {
                let expected = reference_score(query, text);
                assert_eq!(
                    score(query, text).to_bits(),
                    expected.to_bits(),
                    "score({query:?}, {text:?})"
                );
                let analysed = Analysed::new(text);
                assert_eq!(
                    prepared.private_score(text, &analysed).to_bits(),
                    reference_private_score(query.trim(), text).to_bits(),
                    "private_score({query:?}, {text:?})"
                );
                for private in [&[][..], &TEXTS[11..13], &TEXTS[13..15], &TEXTS[18..21]] {
                    let private: Vec<String> = private.iter().map(|p| (*p).to_owned()).collect();
                    assert_eq!(
                        prepared
                            .rank(text, &private, &mut scratch)
                            .map(f64::to_bits),
                        reference_rank(query.trim(), text, &private).map(f64::to_bits),
                        "rank({query:?}, {text:?}, {private:?})"
                    );
                }
            }
        }
    }

    /// The fast path takes a word's trigrams from the word itself, where the reference
    /// took `trigrams(word)`, which lower-cases and splits it again: the same only if
    /// lower-casing is idempotent on what it produces. Checked for every `char` (and the
    /// final sigma, which `str::to_lowercase` produces by context).
    #[test]
    fn lower_casing_is_idempotent_so_words_need_no_second_split() {
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            for lower in c.to_lowercase().chain(std::iter::once('ς')) {
                assert!(
                    lower.to_lowercase().eq(std::iter::once(lower)),
                    "{c:?} lower-cases to {lower:?}, which lower-cases further"
                );
            }
        }
    }

    #[test]
    fn packed_trigram_sets_equal_the_string_sets() {
        for text in TEXTS.iter().chain(QUERIES) {
            for word in words(text) {
                let mut packed = Vec::new();
                push_word_grams(&word, &mut packed);
                let strings = trigrams(&word);
                assert_eq!(packed.len(), strings.len(), "{word:?}");
                for gram in &strings {
                    let c: Vec<char> = gram.chars().collect();
                    assert!(packed.binary_search(&pack(c[0], c[1], c[2])).is_ok());
                }
            }
        }
    }
}
