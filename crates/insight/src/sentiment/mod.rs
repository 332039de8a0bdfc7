//! Sentiment of short texts: a faithful port of VADER (`vaderSentiment` 3.3.2,
//! `SentimentIntensityAnalyzer.polarity_scores`).
//!
//! VADER (Hutto & Gilbert, ICWSM 2014) sums the valence of each lexicon word after rules
//! for boosters ("very", "kind of"), negation ("not", "isn't", "never so"), ALL-CAPS
//! emphasis, contrast ("but"), "least", a few idioms, and `!`/`?` emphasis, then
//! normalises the sum to (−1, 1) with `x / sqrt(x² + 15)`. Emoji are replaced by their
//! English descriptions first. The port keeps every quirk of the reference, because the
//! contract is *identical* scores (checked on the whole VADER tweets corpus by
//! `bench/sentiment_eval.py`); each quirk is named where it is reproduced.
//!
//! Lexicons and rules are © 2016 C.J. Hutto, MIT License; see `crates/insight/data/README.md`.
//!
//! ```
//! use insight::sentiment::{polarity_scores, SentimentLabel};
//! let s = polarity_scores("VADER is smart, handsome, and funny!");
//! assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.248, 0.752, 0.8439));
//! assert_eq!(s.label(), SentimentLabel::Positive);
//! ```

mod lexicon;
mod py;

use lexicon::{
    C_INCR, Kw, Lexicon, N_SCALAR, PHRASE_BOOSTERS, SPECIAL_CASES_2, SPECIAL_CASES_3, WordInfo,
    lexicon,
};

/// VADER's scores of one text, rounded as the Python package rounds them (`neg`, `neu`,
/// `pos` to 3 decimals, `compound` to 4, ties to even on the exact binary value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentimentScores {
    /// Share of the text's weight that is negative, in [0, 1].
    pub neg: f64,
    /// Share that is neutral, in [0, 1].
    pub neu: f64,
    /// Share that is positive, in [0, 1].
    pub pos: f64,
    /// Normalised overall valence in [−1, 1].
    pub compound: f64,
}

/// The usual three-way reading of `compound` (VADER's README thresholds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SentimentLabel {
    /// `compound <= -0.05`.
    Negative,
    /// Strictly between the two thresholds.
    Neutral,
    /// `compound >= 0.05`.
    Positive,
}

impl SentimentLabel {
    /// Lower-case name: `negative`, `neutral` or `positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }
}

impl std::fmt::Display for SentimentLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SentimentScores {
    /// Positive if `compound >= 0.05`, negative if `compound <= -0.05`, else neutral.
    pub fn label(&self) -> SentimentLabel {
        if self.compound >= 0.05 {
            SentimentLabel::Positive
        } else if self.compound <= -0.05 {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        }
    }
}

/// Scores one text. Allocates a few buffers per call; to score many texts, keep one
/// [`SentimentAnalyzer`] per thread instead.
pub fn polarity_scores(text: &str) -> SentimentScores {
    SentimentAnalyzer::new().polarity_scores(text)
}

/// One token of the text with everything the rules ask about it, computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Token {
    /// Byte range of its lower-case form in the lower-case buffer.
    lower: (usize, usize),
    /// Lexicon, booster and negation entries of the lower-case form.
    info: WordInfo,
    /// Python's `token.isupper()`.
    upper: bool,
    /// Contains "n't" (VADER's `negated(include_nt=True)`).
    nt: bool,
}

/// A reusable scorer: holds the scratch buffers, so scoring a text allocates nothing
/// once they have grown (except to lower-case non-ASCII words).
#[derive(Debug, Default)]
pub struct SentimentAnalyzer {
    text: String,
    lower: String,
    tokens: Vec<Token>,
    sentiments: Vec<f64>,
}

impl SentimentAnalyzer {
    /// A scorer with empty buffers. The lexicons are parsed once per process, on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// VADER's `polarity_scores(text)`.
    pub fn polarity_scores(&mut self, text: &str) -> SentimentScores {
        let lex = lexicon();
        let Self {
            text: buf,
            lower,
            tokens,
            sentiments,
        } = self;

        // Emoji → " description": the package walks code points, puts a space before a
        // description unless the previous character was a space (only U+0020 counts),
        // and none after it. Its final `strip()` changes neither the words nor the
        // `!`/`?` counts, so it is skipped.
        let text: &str = if text.is_ascii() {
            text
        } else {
            buf.clear();
            let mut prev_space = true;
            for c in text.chars() {
                match (c >= lex.min_emoji).then(|| lex.emoji.get(&c)).flatten() {
                    Some(description) => {
                        if !prev_space {
                            buf.push(' ');
                        }
                        buf.push_str(description);
                        prev_space = false;
                    }
                    None => {
                        buf.push(c);
                        prev_space = c == ' ';
                    }
                }
            }
            buf
        };

        tokenize(text, lex, lower, tokens);
        let n = tokens.len();
        let upper = tokens.iter().filter(|t| t.upper).count();
        // `allcap_differential`: some, but not all, words are ALL CAPS.
        let cap_diff = upper > 0 && upper < n;
        let ctx = Ctx {
            lower,
            tokens,
            cap_diff,
        };

        sentiments.clear();
        for (i, t) in tokens.iter().enumerate() {
            // Boosters and the "kind" of "kind of" carry no valence of their own.
            let modifier = t.info.booster.is_some()
                || (i + 1 < n && ctx.is(i, Kw::Kind) && ctx.is(i + 1, Kw::Of));
            sentiments.push(if modifier { 0.0 } else { ctx.valence(i) });
        }
        but_check(&ctx, sentiments);
        score_valence(sentiments, text)
    }
}

/// `SentiText`: split on Python whitespace; strip ASCII punctuation off each word unless
/// that leaves two characters or fewer (then it was an emoticon); look each word up once.
fn tokenize(text: &str, lex: &Lexicon, lower: &mut String, tokens: &mut Vec<Token>) {
    tokens.clear();
    lower.clear();
    if text.is_ascii() {
        tokenize_ascii(text, lex, lower, tokens);
    } else {
        tokenize_unicode(text, lex, lower, tokens);
    }
}

/// [`tokenize`] for ASCII text, most texts: bytes are characters, so no UTF-8 decoding,
/// and one pass per word finds case and apostrophes.
fn tokenize_ascii(text: &str, lex: &Lexicon, lower: &mut String, tokens: &mut Vec<Token>) {
    let base = text.as_ptr() as usize;
    for piece in text.as_bytes().split(|&b| py::is_ascii_space(b)) {
        if piece.is_empty() {
            continue;
        }
        let start = piece.as_ptr() as usize - base;
        let piece = &text[start..start + piece.len()];
        let stripped = py::strip_punctuation(piece);
        let word = if stripped.len() <= 2 { piece } else { stripped };
        let (mut upper, mut lowercase, mut apostrophe) = (false, false, false);
        for b in word.bytes() {
            upper |= b.is_ascii_uppercase();
            lowercase |= b.is_ascii_lowercase();
            apostrophe |= b == b'\'';
        }
        let lower_start = lower.len();
        lower.push_str(word);
        lower[lower_start..].make_ascii_lowercase();
        let lw = &lower[lower_start..];
        tokens.push(Token {
            lower: (lower_start, lower.len()),
            info: lex.words.get(lw).copied().unwrap_or_default(),
            upper: upper && !lowercase,
            nt: apostrophe && has_nt(lw),
        });
    }
}

/// [`tokenize`] for any text.
fn tokenize_unicode(text: &str, lex: &Lexicon, lower: &mut String, tokens: &mut Vec<Token>) {
    for piece in py::split_whitespace(text) {
        let stripped = py::strip_punctuation(piece);
        // Python counts code points: up to 8 bytes can still be two characters.
        let short = stripped.len() <= 2
            || (stripped.len() <= 8 && !stripped.is_ascii() && stripped.chars().count() <= 2);
        let word = if short { piece } else { stripped };
        let lower_start = lower.len();
        py::push_lower(lower, word);
        let lw = &lower[lower_start..];
        tokens.push(Token {
            lower: (lower_start, lower.len()),
            info: lex.words.get(lw).copied().unwrap_or_default(),
            upper: py::is_upper(word),
            nt: has_nt(lw),
        });
    }
}

/// Contains "n't" (VADER's `negated(include_nt=True)` on one word).
fn has_nt(lw: &str) -> bool {
    lw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'n' && w[1] == b'\'' && w[2] == b't')
}

/// The tokenised text the rules look at.
struct Ctx<'a> {
    lower: &'a str,
    tokens: &'a [Token],
    cap_diff: bool,
}

impl Ctx<'_> {
    /// Lower-case form of token `i`.
    #[inline]
    fn lw(&self, i: usize) -> &str {
        let (a, b) = self.tokens[i].lower;
        &self.lower[a..b]
    }

    /// Token `i` is the keyword `kw` (lower-cased).
    #[inline]
    fn is(&self, i: usize, kw: Kw) -> bool {
        self.tokens[i].info.kw == kw
    }

    #[inline]
    fn in_lexicon(&self, i: usize) -> bool {
        self.tokens[i].info.lex.is_some()
    }

    /// `negated([word])` for one word: in `NEGATE` or containing "n't".
    #[inline]
    fn negated(&self, i: usize) -> bool {
        self.tokens[i].info.negate || self.tokens[i].nt
    }

    /// `sentiment_valence` for token `i`.
    fn valence(&self, i: usize) -> f64 {
        let t = &self.tokens[i];
        let Some(base) = t.info.lex else {
            return 0.0;
        };
        let n = self.tokens.len();
        let mut v = base;
        // "no" before another lexicon word negates it instead of counting itself.
        if self.is(i, Kw::No) && i != n - 1 && self.in_lexicon(i + 1) {
            v = 0.0;
        }
        if (i > 0 && self.is(i - 1, Kw::No))
            || (i > 1 && self.is(i - 2, Kw::No))
            || (i > 2
                && self.is(i - 3, Kw::No)
                && (self.is(i - 1, Kw::Or) || self.is(i - 1, Kw::Nor)))
        {
            v = base * N_SCALAR;
        }
        // ALL CAPS among mixed case. Quirk kept: a valence of exactly 0 is pushed down.
        if t.upper && self.cap_diff {
            if v > 0.0 {
                v += C_INCR;
            } else {
                v -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && !self.in_lexicon(i - (start_i + 1)) {
                let mut s = self.scalar_inc_dec(i - (start_i + 1), v);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                v += s;
                v = self.negation_check(v, start_i, i);
                if start_i == 2 {
                    v = self.special_idioms_check(v, i);
                }
            }
        }
        self.least_check(v, i)
    }

    /// `scalar_inc_dec`: the booster effect of token `j` on a valence.
    fn scalar_inc_dec(&self, j: usize, valence: f64) -> f64 {
        let t = &self.tokens[j];
        let Some(mut scalar) = t.info.booster else {
            return 0.0;
        };
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if t.upper && self.cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
        scalar
    }

    /// `_negation_check`, operator precedence included: for the third word back the
    /// package tests `(never and so/this) or (previous word is so/this)`.
    fn negation_check(&self, v: f64, start_i: usize, i: usize) -> f64 {
        let so_this = |j: usize| self.is(j, Kw::So) || self.is(j, Kw::This);
        match start_i {
            0 if self.negated(i - 1) => v * N_SCALAR,
            1 => {
                if self.is(i - 2, Kw::Never) && so_this(i - 1) {
                    v * 1.25
                } else if self.is(i - 2, Kw::Without) && self.is(i - 1, Kw::Doubt) {
                    v
                } else if self.negated(i - 2) {
                    v * N_SCALAR
                } else {
                    v
                }
            }
            2 => {
                if (self.is(i - 3, Kw::Never) && so_this(i - 2)) || so_this(i - 1) {
                    v * 1.25
                } else if self.is(i - 3, Kw::Without)
                    && (self.is(i - 2, Kw::Doubt) || self.is(i - 1, Kw::Doubt))
                {
                    v
                } else if self.negated(i - 3) {
                    v * N_SCALAR
                } else {
                    v
                }
            }
            _ => v,
        }
    }

    /// `_special_idioms_check` (only reached with `i >= 3`).
    fn special_idioms_check(&self, mut v: f64, i: usize) -> f64 {
        let n = self.tokens.len();
        // Only sequences made of idiom words can match, so most are rejected on a flag.
        let idiom = |j: usize| self.tokens[j].info.idiom;
        let two = |a: usize, b: usize| {
            if !(idiom(a) && idiom(b)) {
                return None;
            }
            let (a, b) = (self.lw(a), self.lw(b));
            SPECIAL_CASES_2
                .iter()
                .find(|(k, _)| k[0] == a && k[1] == b)
                .map(|&(_, x)| x)
        };
        let three = |a: usize, b: usize, c: usize| {
            if !(idiom(a) && idiom(b) && idiom(c)) {
                return None;
            }
            let (a, b, c) = (self.lw(a), self.lw(b), self.lw(c));
            SPECIAL_CASES_3
                .iter()
                .find(|(k, _)| k[0] == a && k[1] == b && k[2] == c)
                .map(|&(_, x)| x)
        };
        // The package's order: onezero, twoonezero, twoone, threetwoone, threetwo; the
        // first hit wins.
        if let Some(x) = two(i - 1, i)
            .or_else(|| three(i - 2, i - 1, i))
            .or_else(|| two(i - 2, i - 1))
            .or_else(|| three(i - 3, i - 2, i - 1))
            .or_else(|| two(i - 3, i - 2))
        {
            v = x;
        }
        if n - 1 > i
            && let Some(x) = two(i, i + 1)
        {
            v = x;
        }
        if n - 1 > i + 1
            && let Some(x) = three(i, i + 1, i + 2)
        {
            v = x;
        }
        // Two-word boosters ("kind of", "sort of", "just enough") among threetwoone,
        // threetwo, twoone; a three-word sequence never equals one, so two remain.
        for (a, b) in [(i - 3, i - 2), (i - 2, i - 1)] {
            if !(idiom(a) && idiom(b)) {
                continue;
            }
            let (a, b) = (self.lw(a), self.lw(b));
            if let Some(&(_, x)) = PHRASE_BOOSTERS.iter().find(|(k, _)| k[0] == a && k[1] == b) {
                v += x;
            }
        }
        v
    }

    /// `_least_check`: "least" before a word negates it, unless "at least"/"very least".
    fn least_check(&self, v: f64, i: usize) -> f64 {
        if i > 1 && !self.in_lexicon(i - 1) && self.is(i - 1, Kw::Least) {
            if !self.is(i - 2, Kw::At) && !self.is(i - 2, Kw::Very) {
                return v * N_SCALAR;
            }
        } else if i > 0 && !self.in_lexicon(i - 1) && self.is(i - 1, Kw::Least) {
            return v * N_SCALAR;
        }
        v
    }
}

/// `_but_check`: before the first "but" halve, after it multiply by 1.5.
///
/// Reproduced literally, quirk included: the package walks the list while rewriting it
/// and finds each value's position with `list.index(value)`, i.e. the *first* equal
/// value — so when an already-scaled value equals a later one, the earlier slot is
/// scaled again and the later one is left alone. Zeros are skipped: scaling a zero
/// leaves a zero.
fn but_check(ctx: &Ctx<'_>, sentiments: &mut [f64]) {
    let Some(bi) = (0..ctx.tokens.len()).find(|&i| ctx.is(i, Kw::But)) else {
        return;
    };
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        if v == 0.0 {
            continue;
        }
        let si = sentiments[..=k].iter().position(|&s| s == v).unwrap_or(k);
        if si < bi {
            sentiments[si] = v * 0.5;
        } else if si > bi {
            sentiments[si] = v * 1.5;
        }
    }
}

/// `_punctuation_emphasis`: up to four `!` at 0.292 each; two or three `?` at 0.18
/// each, more than three 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0usize, 0usize);
    for b in text.bytes() {
        ep += usize::from(b == b'!');
        qm += usize::from(b == b'?');
    }
    let ep = ep.min(4) as f64 * 0.292;
    let qm = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// `normalize(score, alpha=15)`.
fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// `score_valence`, with the package's rounding.
fn score_valence(sentiments: &[f64], text: &str) -> SentimentScores {
    if sentiments.is_empty() {
        return SentimentScores {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    // Python's sum(): left to right, no compensation (CPython 3.11, the reference).
    let mut sum_s = 0.0;
    for &s in sentiments {
        sum_s += s;
    }
    let punct = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct;
    } else if sum_s < 0.0 {
        sum_s -= punct;
    }
    let compound = normalize(sum_s);

    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    SentimentScores {
        neg: py::round((neg_sum / total).abs(), 3),
        neu: py::round((f64::from(neu_count) / total).abs(), 3),
        pos: py::round((pos_sum / total).abs(), 3),
        compound: py::round(compound, 4),
    }
}

#[cfg(test)]
mod tests;
