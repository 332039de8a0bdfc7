//! The in-memory search index behind `GET /api/v1/search`: one per organisation, built
//! from the database on first use, kept current by the write paths, rebuilt periodically.
//!
//! Why in memory: the index is derived data. Kept in tables, it cost ~46 posting rows per
//! contact (trigrams of the name, keyed hashes of the email's and phone's), which bounded
//! imports to ~1,000 rows/s, and a query's common trigrams (`"  j"`, or the blind `com` of
//! every email) meant grouping tens of thousands of postings per search. Here the index is
//! word-level — a vocabulary of distinct words, each with the trigrams that find it by
//! similarity and the records that contain it — so a query first finds the *words* it
//! could mean (typos and prefixes, over thousands of distinct words rather than millions
//! of postings), then the records holding them.
//!
//! PII (emails and phones) never reaches the database in a searchable form: it stays
//! encrypted there and is decrypted only into this process's memory (as the API does to
//! answer any read by a caller with `pii:read`).
//!
//! The index proposes candidates; the caller re-reads the best of them from the database
//! (`Crm::titles`) before answering, so an archived, deleted, out-of-scope or rolled-back
//! record never shows, and titles are always current.

use std::collections::HashMap;

use uuid::Uuid;

use crate::search::{THRESHOLD, words};

/// Which table a record lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Company,
    Contact,
    Lead,
    Deal,
}

impl Kind {
    pub(crate) fn parse(record_type: &str) -> Option<Kind> {
        Some(match record_type {
            "company" => Kind::Company,
            "contact" => Kind::Contact,
            "lead" => Kind::Lead,
            "deal" => Kind::Deal,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Company => "company",
            Kind::Contact => "contact",
            Kind::Lead => "lead",
            Kind::Deal => "deal",
        }
    }
}

/// What a record contributes to the index.
#[derive(Debug, Clone)]
pub(crate) struct DocInput {
    pub(crate) kind: Kind,
    pub(crate) id: Uuid,
    /// Names, titles, domains.
    pub(crate) clear: Vec<String>,
    /// Emails and phone digits.
    pub(crate) private: Vec<String>,
}

/// A change to apply.
#[derive(Debug, Clone)]
pub(crate) enum DocChange {
    Upsert(DocInput),
    Remove(Kind, Uuid),
}

type Slot = u32;
type WordId = u32;
type Gram = [char; 3];

/// Grams whose word lists are longer than this are skipped when a query word has rarer
/// ones: a gram shared by a tenth of the vocabulary (`"  c"`) says little and costs much.
const COMMON_GRAM: usize = 2_048;
/// A vocabulary word is a candidate meaning of a query word from this similarity up.
const WORD_SIMILARITY: f64 = 0.25;
/// At most this many query words are matched (longer queries are truncated).
const MAX_QUERY_WORDS: usize = 8;

fn gram_keys(word: &str) -> Vec<Gram> {
    let padded: Vec<char> = format!("  {word} ").chars().collect();
    let mut out: Vec<Gram> = padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Distinct words, the trigrams that find them, and the records that hold them.
#[derive(Default)]
struct Vocabulary {
    ids: HashMap<Box<str>, WordId>,
    texts: Vec<Box<str>>,
    gram_counts: Vec<u16>,
    postings: Vec<Vec<Slot>>,
    grams: HashMap<Gram, Vec<WordId>>,
}

impl Vocabulary {
    fn intern(&mut self, word: &str) -> WordId {
        if let Some(id) = self.ids.get(word) {
            return *id;
        }
        let id = self.texts.len() as WordId;
        let keys = gram_keys(word);
        for gram in &keys {
            self.grams.entry(*gram).or_default().push(id);
        }
        self.gram_counts
            .push(u16::try_from(keys.len()).unwrap_or(u16::MAX));
        self.texts.push(word.into());
        self.postings.push(Vec::new());
        self.ids.insert(word.into(), id);
        id
    }

    /// Vocabulary words that `query_word` may mean, with their similarity in [0, 1]: a
    /// prefix match (two characters or more) counts as 1, else the Dice coefficient of
    /// the two words' trigram sets — the same measure as [`crate::search::score`].
    fn similar(&self, query_word: &str) -> Vec<(WordId, f64, u16)> {
        let keys = gram_keys(query_word);
        let mut lists: Vec<(Gram, &Vec<WordId>)> = keys
            .iter()
            .filter_map(|g| self.grams.get(g).map(|l| (*g, l)))
            .collect();
        if lists.is_empty() {
            return Vec::new();
        }
        lists.sort_by_key(|(_, l)| l.len());
        let rare = lists
            .iter()
            .take_while(|(_, l)| l.len() <= COMMON_GRAM)
            .count();
        let used = if rare == 0 { 1 } else { rare };
        // Shared grams are counted over the rare lists; for the words found there, the
        // common grams are checked one by one (cheap: few words, few grams), so the
        // similarity is exact, but words sharing only common grams are not considered.
        let mut shared: HashMap<WordId, u16> = HashMap::new();
        for (_, list) in &lists[..used] {
            for word in list.iter() {
                *shared.entry(*word).or_default() += 1;
            }
        }
        let common: Vec<Gram> = lists[used..].iter().map(|(g, _)| *g).collect();
        let qlen = keys.len() as f64;
        let prefix_ok = query_word.chars().count() >= 2;
        let mut out = Vec::new();
        for (word, count) in shared {
            let text = &self.texts[word as usize];
            let mut count = count;
            if !common.is_empty() {
                let own = gram_keys(text);
                count += common
                    .iter()
                    .filter(|g| own.binary_search(g).is_ok())
                    .count() as u16;
            }
            let similarity = if prefix_ok && text.starts_with(query_word) {
                1.0
            } else {
                let total = qlen + f64::from(self.gram_counts[word as usize]);
                (2.0 * f64::from(count) / total).min(1.0)
            };
            if similarity >= WORD_SIMILARITY {
                out.push((word, similarity, count));
            }
        }
        out
    }
}

struct Doc {
    kind: Kind,
    id: Uuid,
    clear: Vec<WordId>,
    private: Vec<WordId>,
    live: bool,
}

/// One organisation's index.
#[derive(Default)]
pub(crate) struct OrgIndex {
    docs: Vec<Doc>,
    slots: HashMap<(Kind, Uuid), Slot>,
    clear: Vocabulary,
    private: Vocabulary,
    /// Digits of private values (phones), for queries typed as digits.
    digits: Vec<(Slot, Box<str>)>,
}

/// Per query word, the best match found in one of a record's word sets.
#[derive(Default)]
struct BestMatch {
    similarity: [f32; MAX_QUERY_WORDS],
    shared: [u16; MAX_QUERY_WORDS],
}

impl BestMatch {
    fn offer(&mut self, query_word: usize, similarity: f64, shared: u16) {
        let similarity = similarity as f32;
        if similarity > self.similarity[query_word] {
            self.similarity[query_word] = similarity;
            self.shared[query_word] = shared;
        }
    }

    /// (mean similarity over the `n` query words, total shared trigrams).
    fn totals(&self, n: usize) -> (f64, f64) {
        let similarity: f64 = self.similarity[..n].iter().map(|s| f64::from(*s)).sum();
        let shared: f64 = self.shared[..n].iter().map(|s| f64::from(*s)).sum();
        (similarity / n as f64, shared)
    }
}

#[derive(Default)]
struct Matches {
    clear: BestMatch,
    private: BestMatch,
}

/// A candidate record with its estimated score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub(crate) kind: Kind,
    pub(crate) id: Uuid,
    pub(crate) estimate: f64,
}

impl OrgIndex {
    /// Number of live records.
    pub(crate) fn len(&self) -> usize {
        self.docs.iter().filter(|d| d.live).count()
    }

    /// Applies one change.
    pub(crate) fn apply(&mut self, change: DocChange) {
        match change {
            DocChange::Upsert(input) => self.upsert(input),
            DocChange::Remove(kind, id) => {
                if let Some(slot) = self.slots.get(&(kind, id)) {
                    self.docs[*slot as usize].live = false;
                }
            }
        }
    }

    fn upsert(&mut self, input: DocInput) {
        let slot = match self.slots.get(&(input.kind, input.id)) {
            Some(slot) => *slot,
            None => {
                let slot = self.docs.len() as Slot;
                self.docs.push(Doc {
                    kind: input.kind,
                    id: input.id,
                    clear: Vec::new(),
                    private: Vec::new(),
                    live: true,
                });
                self.slots.insert((input.kind, input.id), slot);
                slot
            }
        };
        let mut clear: Vec<WordId> = input
            .clear
            .iter()
            .flat_map(|t| words(t))
            .map(|w| self.clear.intern(&w))
            .collect();
        clear.sort_unstable();
        clear.dedup();
        let mut private: Vec<WordId> = input
            .private
            .iter()
            .flat_map(|t| words(t))
            .map(|w| self.private.intern(&w))
            .collect();
        private.sort_unstable();
        private.dedup();
        // Postings only grow: a word the record no longer holds stays a (harmless) false
        // candidate until the next rebuild, since results are re-checked against the
        // database.
        let doc = &self.docs[slot as usize];
        for word in &clear {
            if doc.clear.binary_search(word).is_err() {
                self.clear.postings[*word as usize].push(slot);
            }
        }
        for word in &private {
            if doc.private.binary_search(word).is_err() {
                self.private.postings[*word as usize].push(slot);
            }
        }
        for value in &input.private {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 4 {
                self.digits.push((slot, digits.into()));
            }
        }
        let doc = &mut self.docs[slot as usize];
        doc.clear = clear;
        doc.private = private;
        doc.live = true;
    }

    /// The records `query` may be looking for, best estimate first, at most `limit`, of
    /// the kinds `readable` allows.
    pub(crate) fn candidates(
        &self,
        query: &str,
        readable: &[Kind],
        limit: usize,
    ) -> Vec<Candidate> {
        let query_words: Vec<String> = words(query).into_iter().take(MAX_QUERY_WORDS).collect();
        if query_words.is_empty() {
            return Vec::new();
        }
        let n = query_words.len();
        let query_grams: usize = query_words.iter().map(|w| gram_keys(w).len()).sum();
        // Per record and query word: the best similarity among the record's clear words
        // and among its private words, and how many trigrams that best word shares.
        let mut best: HashMap<Slot, Matches> = HashMap::new();
        for (qi, query_word) in query_words.iter().enumerate() {
            for (word, similarity, shared) in self.clear.similar(query_word) {
                for slot in &self.clear.postings[word as usize] {
                    best.entry(*slot)
                        .or_default()
                        .clear
                        .offer(qi, similarity, shared);
                }
            }
            for (word, similarity, shared) in self.private.similar(query_word) {
                for slot in &self.private.postings[word as usize] {
                    best.entry(*slot)
                        .or_default()
                        .private
                        .offer(qi, similarity, shared);
                }
            }
        }
        // The estimate mirrors the final ranking (`Crm::search`): 0.8 × the better of the
        // name and private matches + 0.2 × the share of the query's trigrams found.
        let mut scored: HashMap<Slot, f64> = HashMap::new();
        for (slot, matches) in best {
            let (clear_sim, clear_shared) = matches.clear.totals(n);
            let (private_sim, private_shared) = matches.private.totals(n);
            let best_match = clear_sim.max(private_sim);
            if best_match >= THRESHOLD {
                let overlap =
                    (clear_shared.max(private_shared) / query_grams.max(1) as f64).min(1.0);
                scored.insert(slot, 0.8 * best_match + 0.2 * overlap);
            }
        }
        // A query that is mostly digits (a phone, or part of one) matches by containment.
        let query_digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let significant = query.chars().filter(|c| !c.is_whitespace()).count();
        if query_digits.len() >= 4 && query_digits.len() * 2 >= significant {
            for (slot, digits) in &self.digits {
                if digits.contains(query_digits.as_str()) {
                    scored.insert(*slot, 1.0);
                }
            }
        }
        let mut out: Vec<Candidate> = scored
            .into_iter()
            .filter_map(|(slot, estimate)| {
                let doc = &self.docs[slot as usize];
                (doc.live && readable.contains(&doc.kind)).then_some(Candidate {
                    kind: doc.kind,
                    id: doc.id,
                    estimate,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.estimate
                .total_cmp(&a.estimate)
                .then_with(|| a.id.cmp(&b.id))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: Kind, n: u128, clear: &[&str], private: &[&str]) -> DocChange {
        DocChange::Upsert(DocInput {
            kind,
            id: Uuid::from_u128(n),
            clear: clear.iter().map(|s| (*s).to_owned()).collect(),
            private: private.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    fn index() -> OrgIndex {
        let mut index = OrgIndex::default();
        index.apply(doc(
            Kind::Contact,
            1,
            &["John Smith"],
            &["j.smith@smithfield.com", "+34600123456"],
        ));
        index.apply(doc(
            Kind::Contact,
            2,
            &["Maria Lopez"],
            &["maria@example.com"],
        ));
        index.apply(doc(
            Kind::Company,
            3,
            &["Smithfield Foods", "smithfield.com"],
            &[],
        ));
        index.apply(doc(Kind::Deal, 4, &["Coolers for Acme"], &[]));
        for i in 0..3_000 {
            index.apply(doc(
                Kind::Contact,
                100 + i,
                &["Carl Jones"],
                &[&format!("c{i}@example.com")],
            ));
        }
        index
    }

    const ALL: &[Kind] = &[Kind::Company, Kind::Contact, Kind::Lead, Kind::Deal];

    #[test]
    fn typos_prefixes_emails_and_digits_find_the_record() {
        let index = index();
        let first = |q: &str| index.candidates(q, ALL, 5).first().map(|c| c.id);
        assert_eq!(first("jon smth"), Some(Uuid::from_u128(1)));
        let smithf: Vec<Uuid> = index
            .candidates("smithf", ALL, 5)
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(smithf.contains(&Uuid::from_u128(3)) && smithf.contains(&Uuid::from_u128(1)));
        assert_eq!(first("mari"), Some(Uuid::from_u128(2)));
        assert_eq!(first("j.smith@smithfield"), Some(Uuid::from_u128(1)));
        assert_eq!(first("600123456"), Some(Uuid::from_u128(1)));
        assert_eq!(first("coolers"), Some(Uuid::from_u128(4)));
        assert!(index.candidates("zebra", ALL, 5).is_empty());
    }

    #[test]
    fn kinds_removal_and_renames_are_respected() {
        let mut index = index();
        assert!(index.candidates("coolers", &[Kind::Contact], 5).is_empty());
        index.apply(DocChange::Remove(Kind::Deal, Uuid::from_u128(4)));
        assert!(index.candidates("coolers", ALL, 5).is_empty());
        index.apply(doc(Kind::Contact, 2, &["Maria Garcia"], &[]));
        assert_eq!(
            index.candidates("garcia", ALL, 5).first().map(|c| c.id),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(index.len(), 3_003);
    }
}
