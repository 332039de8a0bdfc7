//! Short-text classification (ticket priority, ticket type, escalation): a tokenizer,
//! hashed word and word-bigram features, and a multinomial Naive Bayes classifier with
//! Laplace/Lidstone smoothing, plus the evaluation helpers (stratified split,
//! cross-validation, accuracy, macro-F1, majority baseline).
//!
//! Why Naive Bayes: it trains in one pass, needs no tuning, behaves with a few dozen
//! examples per class (an organisation's first closed tickets), and its model is a table
//! of counts that serialises to JSON. Features are hashed (FNV-1a into `buckets` slots),
//! so the model has no vocabulary to keep in step; collisions are rare at the default
//! 2^18 slots for ticket-sized corpora. Each feature counts once per document (binary
//! multinomial NB), which works better than raw counts on short texts.
//!
//! Callers may add their own features to a document (see [`token_feature`]): the
//! helpdesk adds the ticket type, priority, SLA state and sentiment bands as pseudo-words
//! so the same classifier learns from them.

use serde::{Deserialize, Serialize};

use crate::{InsightError, check_finite};

/// Default number of hash slots.
pub const DEFAULT_BUCKETS: u32 = 1 << 18;

/// How documents turn into features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// Hash slots (at least 16).
    pub buckets: u32,
    /// Add word bigrams to the words.
    pub bigrams: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            buckets: DEFAULT_BUCKETS,
            bigrams: true,
        }
    }
}

/// Class priors used at prediction time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Prior {
    /// Class frequencies of the training set (maximises accuracy).
    #[default]
    Empirical,
    /// Every class equally likely (helps the rare classes, hence macro-F1).
    Uniform,
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Features.
    pub features: FeatureOptions,
    /// Additive smoothing (Lidstone; 1 = Laplace), above 0.
    pub alpha: f64,
    /// Class priors.
    pub prior: Prior,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            features: FeatureOptions::default(),
            alpha: 0.5,
            prior: Prior::Empirical,
        }
    }
}

/// Lower-cased words: runs of letters and digits (an apostrophe inside a word is kept,
/// so "can't" is one word); single letters are dropped.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        let trimmed = word.trim_matches('\'');
        if trimmed.chars().count() > 1 || trimmed.chars().any(|c| c.is_ascii_digit()) {
            out.push(trimmed.to_owned());
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || (c == '\'' || c == '’') && !word.is_empty() {
            if c == '’' {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
        } else {
            flush(&mut word);
        }
    }
    flush(&mut word);
    out
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0x20;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The slot of one extra feature (a pseudo-word such as `type=bug`).
pub fn token_feature(token: &str, buckets: u32) -> u32 {
    (fnv1a(&["\u{1}", token]) % u64::from(buckets.max(1))) as u32
}

/// The distinct feature slots of a text: its words and (optionally) word bigrams.
pub fn text_features(text: &str, options: &FeatureOptions) -> Vec<u32> {
    let buckets = u64::from(options.buckets.max(1));
    let tokens = tokenize(text);
    let mut out: Vec<u32> = tokens
        .iter()
        .map(|t| (fnv1a(&[t]) % buckets) as u32)
        .collect();
    if options.bigrams {
        out.extend(
            tokens
                .windows(2)
                .map(|w| (fnv1a(&[&w[0], &w[1]]) % buckets) as u32),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A trained multinomial Naive Bayes classifier (binary features), serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NaiveBayes {
    /// How it was trained (and how texts are featurised for it).
    pub options: TrainOptions,
    /// Class labels, sorted.
    pub classes: Vec<String>,
    /// Training documents per class.
    pub doc_counts: Vec<u64>,
    /// Feature occurrences per class.
    pub totals: Vec<f64>,
    /// Distinct slots seen in training (the smoothing vocabulary).
    pub vocabulary: u64,
    /// Per class: (slot, occurrences), sorted by slot.
    pub counts: Vec<Vec<(u32, f32)>>,
    /// Platt scaling of one class's probability (binary models; see [`Calibration`]).
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

/// Platt scaling of a class's probability: Naive Bayes pushes probabilities towards 0
/// and 1, so a binary model's raw probability is mapped through
/// `1 / (1 + e^-(a·logit(p) + b))`, with `a`, `b` fitted on out-of-fold predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The class whose probability is calibrated.
    pub class: String,
    /// Slope on the logit.
    pub a: f64,
    /// Intercept.
    pub b: f64,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

impl Calibration {
    /// Fits Platt scaling (Newton's method, Platt's smoothed targets) to raw
    /// probabilities of `class` and whether each document was of that class.
    pub fn fit(class: &str, probabilities: &[f64], truth: &[bool]) -> Result<Self, InsightError> {
        if probabilities.len() != truth.len() {
            return Err(InsightError::InvalidParameter {
                name: "truth",
                reason: "one truth per probability".to_owned(),
            });
        }
        check_finite(probabilities)?;
        let positives = truth.iter().filter(|t| **t).count() as f64;
        let negatives = truth.len() as f64 - positives;
        let (hi, lo) = (
            (positives + 1.0) / (positives + 2.0),
            1.0 / (negatives + 2.0),
        );
        let xs: Vec<f64> = probabilities.iter().map(|p| logit(*p)).collect();
        let targets: Vec<f64> = truth.iter().map(|t| if *t { hi } else { lo }).collect();
        let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
        // Cross-entropy against the smoothed targets.
        let loss = |a: f64, b: f64| -> f64 {
            xs.iter()
                .zip(&targets)
                .map(|(x, t)| {
                    let z = a * x + b;
                    t * softplus(-z) + (1.0 - t) * softplus(z)
                })
                .sum()
        };
        // Platt's start (a = 0, b = prior log-odds) and damped Newton steps.
        let mut a = 0.0_f64;
        let mut b = ((positives + 1.0) / (negatives + 1.0)).ln();
        let mut current = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
            for (x, t) in xs.iter().zip(&targets) {
                let p = 1.0 / (1.0 + (-(a * x + b)).exp());
                let w = p * (1.0 - p);
                ga += (p - t) * x;
                gb += p - t;
                haa += w * x * x;
                hab += w * x;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-18 {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            let mut step = 1.0;
            let mut moved = false;
            while step > 1e-10 {
                let (na, nb) = (a - step * da, b - step * db);
                let next = loss(na, nb);
                if next.is_finite() && next <= current {
                    (a, b, current) = (na, nb, next);
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved || (step * da).abs() + (step * db).abs() < 1e-10 {
                break;
            }
        }
        if !(a.is_finite() && b.is_finite()) {
            return Err(InsightError::Numerical("Platt scaling"));
        }
        Ok(Self {
            class: class.to_owned(),
            a,
            b,
        })
    }

    /// The calibrated probability.
    pub fn apply(&self, p: f64) -> f64 {
        1.0 / (1.0 + (-(self.a * logit(p) + self.b)).exp())
    }
}

/// A prediction: the best class and every class's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into [`NaiveBayes::classes`] of the most probable class.
    pub best: usize,
    /// Probabilities, aligned with the classes; they sum to 1.
    pub probabilities: Vec<f64>,
}

impl NaiveBayes {
    /// Trains on featurised documents (`features[i]` from [`text_features`] plus any
    /// extra slots) and their labels. Needs at least one document and two classes.
    pub fn fit(
        features: &[Vec<u32>],
        labels: &[String],
        options: TrainOptions,
    ) -> Result<Self, InsightError> {
        if features.len() != labels.len() {
            return Err(InsightError::InvalidParameter {
                name: "labels",
                reason: format!("{} documents but {} labels", features.len(), labels.len()),
            });
        }
        if features.is_empty() {
            return Err(InsightError::Empty);
        }
        if !(options.alpha.is_finite() && options.alpha > 0.0) {
            return Err(InsightError::InvalidParameter {
                name: "alpha",
                reason: "must be a positive number".to_owned(),
            });
        }
        if options.features.buckets < 16 {
            return Err(InsightError::InvalidParameter {
                name: "buckets",
                reason: "must be at least 16".to_owned(),
            });
        }
        let mut classes: Vec<String> = labels.to_vec();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return Err(InsightError::InvalidParameter {
                name: "labels",
                reason: "need at least two classes".to_owned(),
            });
        }
        let mut doc_counts = vec![0u64; classes.len()];
        let mut maps: Vec<std::collections::HashMap<u32, f32>> =
            vec![std::collections::HashMap::new(); classes.len()];
        let mut seen = std::collections::HashSet::new();
        for (doc, label) in features.iter().zip(labels) {
            let Ok(c) = classes.binary_search(label) else {
                continue;
            };
            doc_counts[c] += 1;
            let mut slots = doc.clone();
            slots.sort_unstable();
            slots.dedup();
            for slot in slots {
                *maps[c].entry(slot).or_insert(0.0) += 1.0;
                seen.insert(slot);
            }
        }
        let mut totals = Vec::with_capacity(classes.len());
        let mut counts = Vec::with_capacity(classes.len());
        for map in maps {
            totals.push(map.values().map(|v| f64::from(*v)).sum());
            let mut sparse: Vec<(u32, f32)> = map.into_iter().collect();
            sparse.sort_unstable_by_key(|(slot, _)| *slot);
            counts.push(sparse);
        }
        Ok(Self {
            options,
            classes,
            doc_counts,
            totals,
            vocabulary: seen.len() as u64,
            counts,
            calibration: None,
        })
    }

    /// Trains on texts (featurised with the options' [`FeatureOptions`]).
    pub fn fit_texts(
        texts: &[&str],
        labels: &[String],
        options: TrainOptions,
    ) -> Result<Self, InsightError> {
        let features: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| text_features(t, &options.features))
            .collect();
        Self::fit(&features, labels, options)
    }

    /// Documents the model was trained on.
    pub fn trained_on(&self) -> u64 {
        self.doc_counts.iter().sum()
    }

    /// Class probabilities of featurised document. Slots never seen in training are
    /// ignored; a document with none falls back to the priors.
    pub fn predict_features(&self, features: &[u32]) -> Prediction {
        let n = self.trained_on().max(1) as f64;
        let k = self.classes.len();
        let mut scores: Vec<f64> = (0..k)
            .map(|c| match self.options.prior {
                Prior::Empirical => ((self.doc_counts[c] as f64 + 1.0) / (n + k as f64)).ln(),
                Prior::Uniform => 0.0,
            })
            .collect();
        let vocabulary = self.vocabulary.max(1) as f64;
        let alpha = self.options.alpha;
        let mut slots = features.to_vec();
        slots.sort_unstable();
        slots.dedup();
        for slot in slots {
            let found: Vec<Option<f64>> = self
                .counts
                .iter()
                .map(|sparse| {
                    sparse
                        .binary_search_by_key(&slot, |(s, _)| *s)
                        .ok()
                        .map(|i| f64::from(sparse[i].1))
                })
                .collect();
            if found.iter().all(Option::is_none) {
                continue;
            }
            for (c, count) in found.into_iter().enumerate() {
                let count = count.unwrap_or(0.0);
                scores[c] += ((count + alpha) / (self.totals[c] + alpha * vocabulary)).ln();
            }
        }
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let probabilities: Vec<f64> = exp.iter().map(|e| e / sum).collect();
        let best = probabilities.iter().enumerate().fold(0, |best, (i, p)| {
            if *p > probabilities[best] { i } else { best }
        });
        Prediction {
            best,
            probabilities,
        }
    }

    /// Class probabilities of a text.
    pub fn predict_text(&self, text: &str) -> Prediction {
        self.predict_features(&text_features(text, &self.options.features))
    }

    /// The probability of `class` in a prediction (0 when the model has no such class),
    /// calibrated when the model carries a calibration for that class.
    pub fn probability_of(&self, prediction: &Prediction, class: &str) -> f64 {
        let raw = self
            .classes
            .iter()
            .position(|c| c == class)
            .map_or(0.0, |i| prediction.probabilities[i]);
        match &self.calibration {
            Some(c) if c.class == class => c.apply(raw),
            _ => raw,
        }
    }
}

/// One class's precision, recall and F1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Label.
    pub label: String,
    /// Precision (0 when never predicted).
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 (0 when precision and recall are 0).
    pub f1: f64,
    /// Test documents of the class.
    pub support: u64,
}

/// Accuracy, macro-F1 and per-class figures of predictions against the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 over the classes present in the truth.
    pub macro_f1: f64,
    /// Per class (classes present in the truth or the predictions).
    pub per_class: Vec<ClassMetrics>,
}

/// Scores predicted labels against true ones.
pub fn evaluate(truth: &[String], predicted: &[String]) -> Result<Metrics, InsightError> {
    if truth.len() != predicted.len() {
        return Err(InsightError::InvalidParameter {
            name: "predicted",
            reason: format!("{} truths but {} predictions", truth.len(), predicted.len()),
        });
    }
    if truth.is_empty() {
        return Err(InsightError::Empty);
    }
    let mut labels: Vec<&String> = truth.iter().chain(predicted).collect();
    labels.sort();
    labels.dedup();
    let mut per_class = Vec::with_capacity(labels.len());
    let mut f1_sum = 0.0;
    let mut present = 0usize;
    for label in labels {
        let tp = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| *t == label && *p == label)
            .count() as f64;
        let support = truth.iter().filter(|t| *t == label).count();
        let predicted_n = predicted.iter().filter(|p| *p == label).count() as f64;
        let precision = if predicted_n > 0.0 {
            tp / predicted_n
        } else {
            0.0
        };
        let recall = if support > 0 {
            tp / support as f64
        } else {
            0.0
        };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if support > 0 {
            f1_sum += f1;
            present += 1;
        }
        per_class.push(ClassMetrics {
            label: label.clone(),
            precision,
            recall,
            f1,
            support: support as u64,
        });
    }
    let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    Ok(Metrics {
        accuracy: correct as f64 / truth.len() as f64,
        macro_f1: f1_sum / present.max(1) as f64,
        per_class,
    })
}

/// The most frequent label (ties: the smallest label).
pub fn majority_label(labels: &[String]) -> Option<String> {
    let mut sorted: Vec<&String> = labels.iter().collect();
    sorted.sort();
    let mut best: Option<(&String, usize)> = None;
    let mut i = 0;
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|l| **l == sorted[i]).count();
        if best.is_none_or(|(_, n)| j > n) {
            best = Some((sorted[i], j));
        }
        i += j;
    }
    best.map(|(l, _)| l.clone())
}

/// SplitMix64: a small deterministic generator for shuffles.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// A stratified, seeded train/test split: within every label, `test_fraction` of the
/// documents (rounded, at least one when the label has two or more) go to the test set.
/// Returns (train indices, test indices), each sorted.
pub fn stratified_split(
    labels: &[String],
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), InsightError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(InsightError::InvalidParameter {
            name: "test_fraction",
            reason: "must be between 0 and 1".to_owned(),
        });
    }
    let mut classes: Vec<&String> = labels.iter().collect();
    classes.sort();
    classes.dedup();
    let mut rng = SplitMix(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|i| &labels[*i] == class).collect();
        rng.shuffle(&mut members);
        let mut n_test = (members.len() as f64 * test_fraction).round() as usize;
        if n_test == 0 && members.len() >= 2 {
            n_test = 1;
        }
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

/// K-fold cross-validation (folds stratified by label, seeded): every document is
/// predicted by a model that did not see it; the pooled predictions are scored. Folds
/// whose training part has a single class predict that class.
pub fn cross_validate(
    features: &[Vec<u32>],
    labels: &[String],
    folds: usize,
    seed: u64,
    options: TrainOptions,
) -> Result<Metrics, InsightError> {
    let (predicted, _) = out_of_fold(features, labels, folds, seed, options, None)?;
    evaluate(labels, &predicted)
}

/// Out-of-fold predictions of K-fold cross-validation (as [`cross_validate`]): the
/// predicted label of every document and, when `class` is given, the model's raw
/// probability of that class (0 where a fold could not train).
pub fn out_of_fold(
    features: &[Vec<u32>],
    labels: &[String],
    folds: usize,
    seed: u64,
    options: TrainOptions,
    class: Option<&str>,
) -> Result<(Vec<String>, Vec<f64>), InsightError> {
    if folds < 2 {
        return Err(InsightError::InvalidParameter {
            name: "folds",
            reason: "need at least 2".to_owned(),
        });
    }
    if features.len() != labels.len() || features.len() < folds {
        return Err(InsightError::TooShort {
            method: "cross-validation",
            need: folds,
            got: features.len().min(labels.len()),
        });
    }
    // Deal each class's shuffled members round the folds.
    let mut fold_of = vec![0usize; labels.len()];
    let mut classes: Vec<&String> = labels.iter().collect();
    classes.sort();
    classes.dedup();
    let mut rng = SplitMix(seed);
    let mut next = 0usize;
    for class in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|i| &labels[*i] == class).collect();
        rng.shuffle(&mut members);
        for m in members {
            fold_of[m] = next % folds;
            next += 1;
        }
    }
    let mut predicted = vec![String::new(); labels.len()];
    let mut probability = vec![0.0; labels.len()];
    for fold in 0..folds {
        let train: Vec<usize> = (0..labels.len()).filter(|i| fold_of[*i] != fold).collect();
        let test: Vec<usize> = (0..labels.len()).filter(|i| fold_of[*i] == fold).collect();
        if test.is_empty() {
            continue;
        }
        let train_x: Vec<Vec<u32>> = train.iter().map(|i| features[*i].clone()).collect();
        let train_y: Vec<String> = train.iter().map(|i| labels[*i].clone()).collect();
        match NaiveBayes::fit(&train_x, &train_y, options) {
            Ok(model) => {
                for i in test {
                    let p = model.predict_features(&features[i]);
                    predicted[i] = model.classes[p.best].clone();
                    if let Some(class) = class {
                        probability[i] = model.probability_of(&p, class);
                    }
                }
            }
            Err(_) => {
                let only = majority_label(&train_y).unwrap_or_default();
                for i in test {
                    if class == Some(only.as_str()) {
                        probability[i] = 1.0;
                    }
                    predicted[i] = only.clone();
                }
            }
        }
    }
    Ok((predicted, probability))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn tokenizer_lowercases_and_keeps_inner_apostrophes() {
        assert_eq!(
            tokenize("Production is DOWN, we can't log in! (HTTP 500) a"),
            s(&[
                "production",
                "is",
                "down",
                "we",
                "can't",
                "log",
                "in",
                "http",
                "500"
            ])
        );
        assert_eq!(tokenize("Über-Fehler’s"), s(&["über", "fehler's"]));
        assert!(tokenize("  ... ").is_empty());
    }

    #[test]
    fn features_are_deterministic_and_distinct() {
        let o = FeatureOptions::default();
        let a = text_features("server down now", &o);
        assert_eq!(a, text_features("Server DOWN now!", &o));
        assert_eq!(a.len(), 5); // 3 words + 2 bigrams
        let no_bigrams = FeatureOptions {
            bigrams: false,
            ..o
        };
        assert_eq!(text_features("server down now", &no_bigrams).len(), 3);
        assert!(a.iter().all(|f| *f < o.buckets));
    }

    fn corpus() -> (Vec<&'static str>, Vec<String>) {
        let urgent = [
            "production server down outage",
            "urgent outage customers cannot log in",
            "critical data loss in production",
            "site down emergency fix asap",
            "outage payment system down",
        ];
        let calm = [
            "how do I change my avatar",
            "feature request dark mode please",
            "question about invoice format",
            "could you add export to pdf",
            "how to change my password question",
        ];
        let texts: Vec<&str> = urgent.iter().chain(calm.iter()).copied().collect();
        let labels = [vec!["High"; 5], vec!["Low"; 5]]
            .concat()
            .into_iter()
            .map(str::to_owned)
            .collect();
        (texts, labels)
    }

    #[test]
    fn naive_bayes_learns_a_separable_corpus_and_round_trips_json() {
        let (texts, labels) = corpus();
        let model = NaiveBayes::fit_texts(&texts, &labels, TrainOptions::default()).expect("fit");
        assert_eq!(model.classes, s(&["High", "Low"]));
        assert_eq!(model.trained_on(), 10);
        let p = model.predict_text("our production system is down");
        assert_eq!(model.classes[p.best], "High");
        assert!(model.probability_of(&p, "High") > 0.8);
        assert!((p.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let q = model.predict_text("question: how to change the avatar");
        assert_eq!(model.classes[q.best], "Low");
        // Unknown words only: the priors decide (equal here).
        let r = model.predict_text("zzz qqq");
        assert!((r.probabilities[0] - 0.5).abs() < 1e-9);
        let json = serde_json::to_string(&model).expect("json");
        let back: NaiveBayes = serde_json::from_str(&json).expect("parse");
        assert_eq!(
            back.predict_text("data loss"),
            model.predict_text("data loss")
        );
    }

    #[test]
    fn extra_features_are_learnt_too() {
        let o = FeatureOptions::default();
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..20 {
            let mut f = text_features("same words every time", &o);
            let escalated = i % 2 == 0;
            f.push(token_feature(
                if escalated { "sla=breached" } else { "sla=ok" },
                o.buckets,
            ));
            x.push(f);
            y.push(if escalated { "yes" } else { "no" }.to_owned());
        }
        let model = NaiveBayes::fit(&x, &y, TrainOptions::default()).expect("fit");
        let mut probe = text_features("same words every time", &o);
        probe.push(token_feature("sla=breached", o.buckets));
        let p = model.predict_features(&probe);
        assert_eq!(model.classes[p.best], "yes");
    }

    #[test]
    fn fit_refuses_bad_input() {
        let o = TrainOptions::default();
        assert_eq!(
            NaiveBayes::fit(&[], &[], o).err(),
            Some(InsightError::Empty)
        );
        assert!(NaiveBayes::fit_texts(&["a b", "c d"], &s(&["x", "x"]), o).is_err());
        assert!(NaiveBayes::fit_texts(&["a b"], &s(&["x", "y"]), o).is_err());
        let bad_alpha = TrainOptions { alpha: 0.0, ..o };
        assert!(NaiveBayes::fit_texts(&["ab", "cd"], &s(&["x", "y"]), bad_alpha).is_err());
    }

    #[test]
    fn metrics_match_hand_computation() {
        let truth = s(&["a", "a", "a", "b", "b", "c"]);
        let pred = s(&["a", "a", "b", "b", "b", "a"]);
        let m = evaluate(&truth, &pred).expect("metrics");
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        // a: p=2/3 r=2/3 f=2/3; b: p=2/3 r=1 f=0.8; c: 0.
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.8 + 0.0) / 3.0).abs() < 1e-12);
        assert_eq!(majority_label(&truth).as_deref(), Some("a"));
        assert_eq!(majority_label(&s(&["b", "a"])).as_deref(), Some("a"));
        assert!(evaluate(&truth, &pred[..2]).is_err());
    }

    #[test]
    fn split_is_stratified_seeded_and_complete() {
        let labels: Vec<String> = (0..100)
            .map(|i| if i % 4 == 0 { "rare" } else { "common" }.to_owned())
            .collect();
        let (train, test) = stratified_split(&labels, 0.2, 7).expect("split");
        assert_eq!(train.len() + test.len(), 100);
        assert_eq!(test.iter().filter(|i| labels[**i] == "rare").count(), 5);
        assert_eq!(test.len(), 20);
        assert_eq!(stratified_split(&labels, 0.2, 7).expect("again").1, test);
        assert_ne!(stratified_split(&labels, 0.2, 8).expect("other").1, test);
        assert!(stratified_split(&labels, 1.0, 7).is_err());
    }

    #[test]
    fn platt_scaling_softens_overconfident_probabilities() {
        // Raw probabilities near 0/1 that are right only 3 times in 4.
        let mut probs = Vec::new();
        let mut truth = Vec::new();
        for i in 0..200 {
            let said_yes = i % 2 == 0;
            probs.push(if said_yes { 0.999 } else { 0.001 });
            let correct = i % 8 < 6;
            truth.push(if correct { said_yes } else { !said_yes });
        }
        let c = Calibration::fit("yes", &probs, &truth).expect("fit");
        let high = c.apply(0.999);
        let low = c.apply(0.001);
        assert!(high < 0.99 && high > 0.5, "{high}");
        assert!(low > 0.01 && low < 0.5, "{low}");
        assert!(c.apply(0.5) > low && c.apply(0.5) < high);
        assert!(Calibration::fit("yes", &[0.5], &[]).is_err());
        assert!(Calibration::fit("yes", &[f64::NAN], &[true]).is_err());
    }

    #[test]
    fn cross_validation_scores_every_document_once() {
        let (texts, labels) = corpus();
        let o = TrainOptions::default();
        let x: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| text_features(t, &o.features))
            .collect();
        let m = cross_validate(&x, &labels, 5, 1, o).expect("cv");
        assert_eq!(m.per_class.iter().map(|c| c.support).sum::<u64>(), 10);
        assert!(m.accuracy >= 0.7, "{m:?}");
        assert!(cross_validate(&x[..3], &labels[..3], 5, 1, o).is_err());
    }
}
