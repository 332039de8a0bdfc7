//! Global search across companies, contacts, leads and deals: prefix- and typo-tolerant.
//!
//! Each searchable field is split into trigrams (pg_trgm style: every word padded with two
//! spaces in front and one behind), stored as postings in `search_grams` in the same
//! transaction as the record. A query's trigrams find candidates by shared postings (plain
//! SQL, identical on SQLite and PostgreSQL); candidates are then ranked in Rust by trigram
//! similarity of each query word to the record's words, so "jon smth" finds "John Smith".
//!
//! PII (contact and lead emails and phones) is indexed blind: each trigram is replaced by
//! a keyed hash (the key ring's index key), so the table never holds an address, while a
//! query's trigrams hashed the same way still meet them. What this reveals to someone with
//! the database but not the key: how many trigrams a value has and which records share a
//! trigram — not the trigram itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kernel::{TenantContext, Tx, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::CrmError;
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

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Dice similarity of two words' trigram sets, in [0, 1].
fn word_similarity(a: &str, b: &str) -> f64 {
    let (ta, tb) = (trigrams(a), trigrams(b));
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let shared = ta.intersection(&tb).count() as f64;
    2.0 * shared / (ta.len() + tb.len()) as f64
}

/// How well `query` matches `text`: each query word is matched to its best word of the
/// text (a prefix counts as a full match), averaged.
pub fn score(query: &str, text: &str) -> f64 {
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
                        word_similarity(qw, tw)
                    }
                })
                .fold(0.0, f64::max)
        })
        .sum();
    total / q.len() as f64
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Match of a query against an email or phone: containment (of the digits, for phones)
/// counts as a full match, else word similarity.
fn private_score(query: &str, value: &str) -> f64 {
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
    score(query, value)
}

/// The searchable texts of a record: (clear texts, PII texts indexed blind).
pub struct Searchable<'a> {
    /// Names, titles.
    pub clear: Vec<&'a str>,
    /// Emails, phones.
    pub private: Vec<&'a str>,
}

/// Minimum score a hit needs.
const THRESHOLD: f64 = 0.45;

impl Crm {
    pub(crate) fn blind_gram(&self, gram: &str) -> String {
        format!("#{}", self.ring.blind_index("search-gram", gram))
    }

    /// Replaces a record's postings (call inside the record's write transaction).
    pub(crate) async fn index_record(
        &self,
        tx: &mut Tx,
        org: Uuid,
        record_type: &str,
        id: Uuid,
        fields: Searchable<'_>,
    ) -> Result<(), CrmError> {
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM search_grams WHERE org_id = $1 AND record_type = $2 AND record_id = $3"
        )
        .bind(org)
        .bind(record_type)
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
        let mut grams: BTreeSet<String> = BTreeSet::new();
        for text in fields.clear {
            grams.extend(trigrams(text));
        }
        for text in fields.private {
            grams.extend(trigrams(text).iter().map(|g| self.blind_gram(g)));
        }
        for gram in grams {
            on_tx!(tx, |c| {
                sqlx::query("INSERT INTO search_grams (org_id, gram, record_type, record_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(org)
                .bind(&gram)
                .bind(record_type)
                .bind(id)
                .execute(c)
                .await
                .map(|_| ())
            })?;
        }
        Ok(())
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
        let plain = trigrams(query);
        let mut grams: Vec<String> = plain.iter().cloned().collect();
        grams.extend(plain.iter().map(|g| self.blind_gram(g)));
        // Candidates: records sharing the most trigrams with the query.
        let placeholders: Vec<String> = (0..grams.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT record_type, record_id, COUNT(*) AS hits FROM search_grams WHERE org_id = $1 AND gram IN ({}) \
             GROUP BY record_type, record_id ORDER BY hits DESC LIMIT 200",
            placeholders.join(", ")
        );
        let candidates: Vec<(String, Uuid, i64)> = on_pool!(self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(ctx.org_id());
            for gram in &grams {
                q = q.bind(gram);
            }
            q.fetch_all(p).await
        })?;
        let mut by_type: BTreeMap<String, Vec<(Uuid, i64)>> = BTreeMap::new();
        for (record_type, id, hits) in candidates {
            if readable.contains(&record_type.as_str()) {
                by_type.entry(record_type).or_default().push((id, hits));
            }
        }
        let query_grams = plain.len().max(1) as f64;
        let mut results = Vec::new();
        for (record_type, ids) in by_type {
            let titles = self
                .titles(
                    ctx,
                    &record_type,
                    &ids.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                )
                .await?;
            for (id, hits) in ids {
                let Some((title, private)) = titles.get(&id) else {
                    continue;
                };
                // Names score by word similarity; a blind (email/phone) match by the share of
                // the query's trigrams it holds, checked against the decrypted value.
                let by_name = score(query, title);
                let by_private = private
                    .iter()
                    .map(|p| private_score(query, p))
                    .fold(0.0, f64::max);
                let overlap = (hits as f64 / query_grams).min(1.0);
                let best = by_name.max(by_private);
                if best >= THRESHOLD {
                    results.push(SearchHit {
                        record_type: record_type.clone(),
                        id,
                        title: title.clone(),
                        score: (0.8 * best + 0.2 * overlap).min(1.0),
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

    /// Display titles (and decrypted private texts, for ranking only) of some records.
    async fn titles(
        &self,
        ctx: &TenantContext,
        record_type: &str,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, (String, Vec<String>)>, CrmError> {
        let org = ctx.org_id();
        let mut out = HashMap::new();
        for id in ids {
            let entry = match record_type {
                "company" => self
                    .get_company(ctx, *id)
                    .await
                    .ok()
                    .map(|c| (c.name, vec![])),
                "deal" => self
                    .get_deal(ctx, *id)
                    .await
                    .ok()
                    .map(|d| (d.title, vec![])),
                "contact" => {
                    let row: Option<(String, String, Option<String>, Option<String>)> = on_pool!(
                        self.db,
                        |p| {
                            sqlx::query_as(
                        "SELECT first_name, last_name, email_enc, phone_enc FROM contacts WHERE org_id = $1 AND id = $2"
                    )
                    .bind(org)
                    .bind(*id)
                    .fetch_optional(p)
                    .await
                        }
                    )?;
                    match row {
                        Some((first, last, email, phone)) => {
                            let mut private = Vec::new();
                            if let Some(e) = email {
                                private.push(self.decrypt(
                                    &e,
                                    &crate::service::pii_aad(org, "contacts", *id, "email"),
                                )?);
                            }
                            if let Some(p) = phone {
                                private.push(self.decrypt(
                                    &p,
                                    &crate::service::pii_aad(org, "contacts", *id, "phone"),
                                )?);
                            }
                            Some((format!("{first} {last}").trim().to_owned(), private))
                        }
                        None => None,
                    }
                }
                "lead" => {
                    let row: Option<(String, String, Option<String>, Option<String>)> = on_pool!(
                        self.db,
                        |p| {
                            sqlx::query_as(
                        "SELECT first_name, last_name, company_name, email_enc FROM leads WHERE org_id = $1 AND id = $2"
                    )
                    .bind(org)
                    .bind(*id)
                    .fetch_optional(p)
                    .await
                        }
                    )?;
                    match row {
                        Some((first, last, company, email)) => {
                            let mut private = Vec::new();
                            if let Some(e) = email {
                                private.push(self.decrypt(
                                    &e,
                                    &crate::service::pii_aad(org, "leads", *id, "email"),
                                )?);
                            }
                            let name = format!("{first} {last}").trim().to_owned();
                            let title = match company {
                                Some(c) => format!("{name} ({c})"),
                                None => name,
                            };
                            Some((title, private))
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            if let Some(e) = entry {
                out.insert(*id, e);
            }
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
}
