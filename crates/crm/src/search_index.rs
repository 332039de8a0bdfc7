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

use std::cell::Cell;
use std::collections::{BinaryHeap, HashMap};

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
/// Records a query word may reach through words weaker than exact or prefix matches.
const POSTINGS_BUDGET: usize = 20_000;
/// At most this many query words are matched (longer queries are truncated).
const MAX_QUERY_WORDS: usize = 8;

/// The trigrams of a word padded as `"  word "` (pg_trgm style), in order, repeats
/// included; computed on the fly so that checking a word's grams allocates nothing.
fn grams_of(word: &str) -> impl Iterator<Item = Gram> + '_ {
    let (mut a, mut b) = (' ', ' ');
    word.chars().chain(std::iter::once(' ')).map(move |c| {
        let gram = [a, b, c];
        (a, b) = (b, c);
        gram
    })
}

/// A word's trigram set, sorted.
fn gram_keys(word: &str) -> Vec<Gram> {
    let mut out: Vec<Gram> = grams_of(word).collect();
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
        // Counted by sorting rather than in a hash map: each list is already sorted (word
        // ids are handed out in order), so the sort only merges a few runs.
        let mut found: Vec<WordId> =
            Vec::with_capacity(lists[..used].iter().map(|(_, l)| l.len()).sum());
        for (_, list) in &lists[..used] {
            found.extend_from_slice(list);
        }
        found.sort();
        let shared = found
            .chunk_by(|a, b| a == b)
            .map(|run| (run[0], u16::try_from(run.len()).unwrap_or(u16::MAX)));
        let common: Vec<Gram> = lists[used..].iter().map(|(g, _)| *g).collect();
        let qlen = keys.len() as f64;
        let prefix_ok = query_word.chars().count() >= 2;
        let mut out = Vec::new();
        for (word, count) in shared {
            let text = &self.texts[word as usize];
            let starts = prefix_ok && text.starts_with(query_word);
            let total = qlen + f64::from(self.gram_counts[word as usize]);
            // Even sharing every common gram, could it reach the threshold?
            let ceiling = 2.0 * f64::from(count + common.len() as u16) / total;
            if !starts && ceiling < WORD_SIMILARITY {
                continue;
            }
            let mut count = count;
            if !common.is_empty() {
                count += common
                    .iter()
                    .filter(|g| grams_of(text).any(|own| own == **g))
                    .count() as u16;
            }
            let similarity = if starts {
                1.0
            } else {
                (2.0 * f64::from(count) / total).min(1.0)
            };
            if similarity >= WORD_SIMILARITY {
                out.push((word, similarity, count));
            }
        }
        out
    }
}

impl Vocabulary {
    /// [`Self::similar`], most similar first, cut once the words' records exceed a budget:
    /// exact and prefix matches always count, but a weak match shared by most records
    /// (`com`, for "company", in every email) would cost more than it could add.
    fn within_budget(&self, query_word: &str) -> Vec<(WordId, f64, u16)> {
        let mut words = self.similar(query_word);
        // Word ids are unique, so an unstable sort gives the one order there is.
        words.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut spent = 0usize;
        words
            .into_iter()
            .take_while(|(word, similarity, _)| {
                spent += self.postings[*word as usize].len();
                *similarity >= 1.0 || spent <= POSTINGS_BUDGET
            })
            .collect()
    }
}

struct Doc {
    kind: Kind,
    id: Uuid,
    clear: Vec<WordId>,
    private: Vec<WordId>,
    live: bool,
}

thread_local! {
    /// The slot table of [`OrgIndex::candidates`], kept by each thread between queries
    /// rather than allocated and filled for every record of the organisation on each one
    /// (170,000 slots, 680 KB, at the scale). It is taken out while in use and
    /// reset entry by entry, so a panic mid-query only drops it.
    static POSITIONS: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
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

/// The order of candidates as one integer tuple: estimate descending (as
/// `f64::total_cmp` orders it), then id ascending (a `Uuid` orders as its big-endian
/// `u128`), then slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey {
    estimate: std::cmp::Reverse<i64>,
    id: u128,
    slot: Slot,
}

impl RankKey {
    fn new(estimate: f64, id: Uuid, slot: Slot) -> Self {
        // The same mapping as `f64::total_cmp`: flip every bit but the sign of negative
        // values, then compare as signed integers.
        let mut bits = estimate.to_bits() as i64;
        bits ^= (((bits >> 63) as u64) >> 1) as i64;
        RankKey {
            estimate: std::cmp::Reverse(bits),
            id: id.as_u128(),
            slot,
        }
    }

    fn estimate(&self) -> f64 {
        let mut bits = self.estimate.0;
        bits ^= (((bits >> 63) as u64) >> 1) as i64;
        f64::from_bits(bits as u64)
    }
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
        // and among its private words, and how many trigrams that best word shares. A
        // sparse set over the slots (a position per slot, entries for touched ones only)
        // instead of a hash map: a common name touches tens of thousands of records.
        let mut position = POSITIONS.take();
        if position.len() < self.docs.len() {
            position.resize(self.docs.len(), u32::MAX);
        }
        let mut entries: Vec<(Slot, Matches)> = Vec::new();
        let mut offer = |slot: Slot, private: bool, qi: usize, similarity: f64, shared: u16| {
            let at = &mut position[slot as usize];
            if *at == u32::MAX {
                *at = entries.len() as u32;
                entries.push((slot, Matches::default()));
            }
            let matches = &mut entries[*at as usize].1;
            let side = if private {
                &mut matches.private
            } else {
                &mut matches.clear
            };
            side.offer(qi, similarity, shared);
        };
        // A query that is mostly digits (a phone, or part of one) matches by containment
        // below; its digit words need no similarity search among the private words.
        let query_digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let significant = query.chars().filter(|c| !c.is_whitespace()).count();
        let by_digits = query_digits.len() >= 4 && query_digits.len() * 2 >= significant;
        for (qi, query_word) in query_words.iter().enumerate() {
            for (vocabulary, private) in [(&self.clear, false), (&self.private, true)] {
                if private && by_digits && query_word.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                for (word, similarity, shared) in vocabulary.within_budget(query_word) {
                    for slot in &vocabulary.postings[word as usize] {
                        offer(*slot, private, qi, similarity, shared);
                    }
                }
            }
        }
        for (slot, _) in &entries {
            position[*slot as usize] = u32::MAX;
        }
        POSITIONS.set(position);
        // The estimate mirrors the final ranking (`Crm::search`): 0.8 × the better of the
        // name and private matches + 0.2 × the share of the query's trigrams found.
        let mut scored: Vec<(Slot, f64)> = Vec::new();
        for (slot, matches) in entries {
            let (clear_sim, clear_shared) = matches.clear.totals(n);
            let (private_sim, private_shared) = matches.private.totals(n);
            let best_match = clear_sim.max(private_sim);
            if best_match >= THRESHOLD {
                let overlap =
                    (clear_shared.max(private_shared) / query_grams.max(1) as f64).min(1.0);
                scored.push((slot, 0.8 * best_match + 0.2 * overlap));
            }
        }
        if by_digits {
            for (slot, digits) in &self.digits {
                if digits.contains(query_digits.as_str()) {
                    scored.push((*slot, 1.0));
                }
            }
            // A record found both ways keeps its best estimate (without digits, each
            // record is in `scored` once already).
            scored.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
            scored.dedup_by_key(|(slot, _)| *slot);
        }
        // Ranked best estimate first, then by id, then by slot: a total order, so keeping
        // the best `limit` seen so far (a max-heap whose top is the worst kept) gives
        // exactly what sorting every match (thousands, for a common name) would. The
        // order is one integer key, so comparing is cheap: most matches of a common name
        // tie on the estimate.
        let mut best: BinaryHeap<(RankKey, Kind)> =
            BinaryHeap::with_capacity(limit.min(scored.len()));
        for (slot, estimate) in scored {
            let doc = &self.docs[slot as usize];
            if !doc.live || !readable.contains(&doc.kind) {
                continue;
            }
            let key = RankKey::new(estimate, doc.id, slot);
            if best.len() < limit {
                best.push((key, doc.kind));
            } else if let Some(mut worst) = best.peek_mut()
                && key < worst.0
            {
                *worst = (key, doc.kind);
            }
        }
        best.into_sorted_vec()
            .into_iter()
            .map(|(key, kind)| Candidate {
                kind,
                id: Uuid::from_u128(key.id),
                estimate: key.estimate(),
            })
            .collect()
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
    fn the_best_few_are_the_head_of_the_full_ranking() {
        let index = index();
        for q in [
            "carl jones",
            "jon smth",
            "smithf",
            "c12@example",
            "jones",
            "600123456",
        ] {
            let all = index.candidates(q, ALL, usize::MAX);
            assert!(all.windows(2).all(|w| {
                w[0].estimate > w[1].estimate
                    || (w[0].estimate == w[1].estimate && w[0].id < w[1].id)
            }));
            for limit in [0, 1, 5, 80] {
                let head = &all[..limit.min(all.len())];
                assert_eq!(index.candidates(q, ALL, limit), head, "{q} {limit}");
            }
        }
    }

    #[test]
    fn rank_keys_order_as_the_comparisons_they_replace() {
        let values = [-1.5, -0.0, 0.0, 0.25, 0.45, 0.5, 0.8, 1.0, f64::INFINITY];
        let ids = [
            Uuid::from_u128(1),
            Uuid::from_u128(u128::MAX - 7),
            Uuid::now_v7(),
        ];
        for (a, b) in values
            .iter()
            .flat_map(|a| values.iter().map(move |b| (*a, *b)))
        {
            for (x, y) in ids.iter().flat_map(|x| ids.iter().map(move |y| (*x, *y))) {
                let (ka, kb) = (RankKey::new(a, x, 1), RankKey::new(b, y, 2));
                let expected = b.total_cmp(&a).then(x.cmp(&y)).then(1.cmp(&2));
                assert_eq!(ka.cmp(&kb), expected, "{a} {x} / {b} {y}");
                assert_eq!(ka.estimate().to_bits(), a.to_bits());
            }
        }
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

#[cfg(test)]
mod speed {
    use super::*;

    /// `cargo test --release -p crm search_index_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn search_index_speed() {
        const FIRST: &[&str] = &[
            "John", "Maria", "Ahmed", "Li", "Fatima", "Carlos", "Anna", "Omar", "Sara", "Ivan",
            "Noura", "Peter", "Aisha", "Jon", "Elena", "Yusuf", "Grace", "Khalid", "Mona", "Tom",
        ];
        const LAST: &[&str] = &[
            "Smith", "Garcia", "Khan", "Chen", "Haddad", "Silva", "Novak", "Rahman", "Okafor",
            "Ivanova", "Saleh", "Brown", "Nasser", "Lopez", "Kim", "Farouk", "Meyer", "Costa",
        ];
        let mut index = OrgIndex::default();
        let start = std::time::Instant::now();
        for i in 0..100_000u128 {
            let (f, l) = (FIRST[(i * 7 % 20) as usize], LAST[(i * 13 % 18) as usize]);
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Contact,
                id: Uuid::from_u128(i),
                clear: vec![format!("{f} {l}{}", i % 97)],
                private: vec![
                    format!("{}.{}.c{i}@example.com", f.to_lowercase(), l.to_lowercase()),
                    format!("+1555{:03}{:04}", i / 10_000, i % 10_000),
                ],
            }));
        }
        for i in 0..20_000u128 {
            index.apply(DocChange::Upsert(DocInput {
                kind: Kind::Company,
                id: Uuid::from_u128(1_000_000 + i),
                clear: vec![format!("Company {i}")],
                private: vec![],
            }));
        }
        println!("build: {:?}", start.elapsed());
        let all = [Kind::Company, Kind::Contact, Kind::Lead, Kind::Deal];
        for q in [
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
            "5550001234",
        ] {
            let start = std::time::Instant::now();
            let found = index.candidates(q, &all, 80);
            println!(
                "{q:>14}: {:?} ({} candidates)",
                start.elapsed(),
                found.len()
            );
        }
    }
}
