//! VADER's word lists: the bundled lexicons (parsed once) and the rule tables of
//! `vaderSentiment.py` 3.3.2, copied verbatim.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// Empirically derived mean intensity increase of a booster word (VADER's `B_INCR`).
pub(crate) const B_INCR: f64 = 0.293;
/// Same for a dampener (VADER's `B_DECR`).
pub(crate) const B_DECR: f64 = -0.293;
/// Increase for a word in ALL CAPS among words that are not (VADER's `C_INCR`).
pub(crate) const C_INCR: f64 = 0.733;
/// Factor applied to a negated valence (VADER's `N_SCALAR`).
pub(crate) const N_SCALAR: f64 = -0.74;

const VADER_LEXICON: &str = include_str!("../../data/vader_lexicon.txt");
const EMOJI_LEXICON: &str = include_str!("../../data/emoji_utf8_lexicon.txt");

/// VADER's `NEGATE` list.
const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// VADER's `BOOSTER_DICT`, single-word entries. The three two-word entries ("just
/// enough", "kind of", "sort of") can never equal one token, so they only matter to the
/// n-gram check of the idiom rule: see [`PHRASE_BOOSTERS`].
const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// The two-word entries of VADER's `BOOSTER_DICT`.
pub(crate) const PHRASE_BOOSTERS: &[([&str; 2], f64)] = &[
    (["just", "enough"], B_DECR),
    (["kind", "of"], B_DECR),
    (["sort", "of"], B_DECR),
];

/// VADER's `SPECIAL_CASES` with two or three words. The package compares them with
/// space-joined sequences of two or three tokens, so its one-word entry ("badass") can
/// never match and is left out.
pub(crate) const SPECIAL_CASES_2: &[([&str; 2], f64)] = &[
    (["the", "shit"], 3.0),
    (["the", "bomb"], 3.0),
    (["bad", "ass"], 1.5),
    (["bus", "stop"], 0.0),
    (["yeah", "right"], -2.0),
    (["beating", "heart"], 3.5),
];

/// The three-word entries of VADER's `SPECIAL_CASES`.
pub(crate) const SPECIAL_CASES_3: &[([&str; 3], f64)] =
    &[(["kiss", "of", "death"], -1.5), (["to", "die", "for"], 3.0)];

/// The words the rules compare tokens with, so that a comparison is one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Kw {
    /// Any other word.
    #[default]
    Other,
    No,
    Or,
    Nor,
    Never,
    So,
    This,
    Without,
    Doubt,
    Least,
    At,
    Very,
    Kind,
    Of,
    But,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("no", Kw::No),
    ("or", Kw::Or),
    ("nor", Kw::Nor),
    ("never", Kw::Never),
    ("so", Kw::So),
    ("this", Kw::This),
    ("without", Kw::Without),
    ("doubt", Kw::Doubt),
    ("least", Kw::Least),
    ("at", Kw::At),
    ("very", Kw::Very),
    ("kind", Kw::Kind),
    ("of", Kw::Of),
    ("but", Kw::But),
];

/// What VADER knows about one lower-cased token, gathered so that each token costs one
/// hash lookup instead of the package's repeated list and dict scans.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WordInfo {
    /// Valence in `vader_lexicon.txt`.
    pub lex: Option<f64>,
    /// Scalar in `BOOSTER_DICT`.
    pub booster: Option<f64>,
    /// In `NEGATE`.
    pub negate: bool,
    /// Which rule keyword the word is, if any.
    pub kw: Kw,
    /// Part of a special-case idiom or a two-word booster: only sequences of such words
    /// need comparing with those tables.
    pub idiom: bool,
}

/// FxHash-style multiply-rotate hashing (rustc's hasher), a word at a time: the keys are our own bundled words, so SipHash's protection
/// against chosen collisions buys nothing, and it costs a third of the scoring time.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
            self.mix(u64::from_le_bytes(*chunk));
            rest = tail;
        }
        // The last 1-7 bytes in one step (most words are shorter than 8 bytes): two
        // overlapping 4-byte reads, or first/middle/last byte. Equal inputs still hash
        // equal, which is all a hash must guarantee; `str` adds a terminator byte.
        let n = rest.len();
        if n >= 4 {
            let lo = rest
                .first_chunk::<4>()
                .map_or(0, |c| u32::from_le_bytes(*c));
            let hi = rest.last_chunk::<4>().map_or(0, |c| u32::from_le_bytes(*c));
            self.mix(u64::from(lo) | (u64::from(hi) << 32));
        } else if n > 0 {
            let word =
                u64::from(rest[0]) | (u64::from(rest[n / 2]) << 8) | (u64::from(rest[n - 1]) << 16);
            self.mix(word);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = BuildHasherDefault<FxHasher>;

/// The parsed lexicons.
pub(crate) struct Lexicon {
    /// Lexicon words, boosters and negations, keyed by the lower-cased token.
    pub words: HashMap<&'static str, WordInfo, Fx>,
    /// Emoji (one code point) → description.
    pub emoji: HashMap<char, &'static str, Fx>,
    /// Smallest code point in `emoji`: texts below it need no emoji pass.
    pub min_emoji: char,
}

/// The lexicons, parsed on first use.
pub(crate) fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(build)
}

fn build() -> Lexicon {
    let mut words: HashMap<&'static str, WordInfo, Fx> = HashMap::default();
    // `make_lex_dict`: each non-empty line stripped, split on TAB, first two fields;
    // a later duplicate overwrites an earlier one, as in a Python dict.
    for line in VADER_LEXICON.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            continue;
        }
        let mut fields = line.trim().split('\t');
        if let (Some(word), Some(measure)) = (fields.next(), fields.next())
            && let Ok(v) = measure.parse::<f64>()
        {
            words.entry(word).or_default().lex = Some(v);
        }
    }
    for &(word, scalar) in BOOSTERS {
        words.entry(word).or_default().booster = Some(scalar);
    }
    for &word in NEGATE {
        words.entry(word).or_default().negate = true;
    }
    for &(word, kw) in KEYWORDS {
        words.entry(word).or_default().kw = kw;
    }
    let idiom_words = SPECIAL_CASES_2
        .iter()
        .flat_map(|(k, _)| k.iter())
        .chain(SPECIAL_CASES_3.iter().flat_map(|(k, _)| k.iter()))
        .chain(PHRASE_BOOSTERS.iter().flat_map(|(k, _)| k.iter()));
    for &word in idiom_words {
        words.entry(word).or_default().idiom = true;
    }
    let mut emoji: HashMap<char, &'static str, Fx> = HashMap::default();
    for line in EMOJI_LEXICON.trim_end_matches('\n').split('\n') {
        let mut fields = line.trim().split('\t');
        if let (Some(key), Some(description)) = (fields.next(), fields.next()) {
            // The package looks emoji up one code point at a time, so keys of several
            // code points (flags, skin tones, ZWJ sequences) are never found; skip them.
            let mut chars = key.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                emoji.insert(c, description);
            }
        }
    }
    let min_emoji = emoji.keys().copied().min().unwrap_or(char::MAX);
    Lexicon {
        words,
        emoji,
        min_emoji,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicons_parse_like_the_package() {
        let lex = lexicon();
        let in_lexicon = lex.words.values().filter(|w| w.lex.is_some()).count();
        // 7,520 lines, 7,506 distinct tokens (Python's dict keeps the last duplicate).
        assert_eq!(in_lexicon, 7506);
        assert_eq!(lex.words["good"].lex, Some(1.9));
        assert_eq!(lex.words[":)"].lex, Some(2.0));
        assert_eq!(lex.words["can't stand"].lex, Some(-2.0));
        assert!(lex.words["never"].negate);
        assert_eq!(lex.words["kinda"].booster, Some(B_DECR));
        // 1,212 of the 3,570 emoji keys are one code point; none is ASCII.
        assert_eq!(lex.emoji.len(), 1212);
        assert!(u32::from(lex.min_emoji) > 127);
        assert_eq!(lex.emoji[&'😁'], "beaming face with smiling eyes");
    }
}
