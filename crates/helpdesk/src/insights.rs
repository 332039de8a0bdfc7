//! AI insights per ticket: urgency keywords, predicted priority, escalation risk, the
//! reasons and the recommended actions — recomputed inside the transaction of every
//! ticket creation, change and new message, and stored in `ticket_insights`.
//!
//! Two sources:
//!
//! - **rules** (until the organisation has trained a model): the priority comes from
//!   [`URGENCY_KEYWORDS`] and the customer's sentiment, the escalation risk from a fixed
//!   logistic formula over priority, keywords, sentiment, its trend, the SLA state and
//!   the number of customer messages ([`rule_escalation_risk`]).
//! - **model**: `POST /api/v1/helpdesk/model/train` trains
//!   `insight::text_classifier::NaiveBayes` on the organisation's closed (Resolved or
//!   Closed) tickets once there are [`MIN_CLOSED_TICKETS`] of them with at least two
//!   priorities: one classifier for the priority (label: the priority the ticket ended
//!   with; features: subject, description, customer messages, type) and, when at least
//!   [`MIN_PER_OUTCOME`] tickets of each outcome exist, one for escalation (label:
//!   escalated = priority raised after creation, or an SLA target breached, or reopened;
//!   features: the text plus type, priority, sentiment band, trend, urgency, SLA state
//!   and message count as pseudo-words), whose probability is Platt-scaled on its
//!   out-of-fold predictions (Naive Bayes alone is over-confident). Without an
//!   escalation classifier the risk stays the rule formula.
//!
//! Pure functions first (testable without the database), then the storage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Json;
use axum::extract::{FromRef, State};
use chrono::{DateTime, Utc};
use insight::text_classifier::{
    self, Calibration, FeatureOptions, NaiveBayes, TrainOptions, out_of_fold, text_features,
    token_feature,
};
use kernel::audit;
use kernel::list::Single;
use kernel::{Problem, TenantContext, Tx, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::model::{HelpdeskError, MessageKind, Priority, TicketType};
use crate::service::Helpdesk;

/// Closed tickets an organisation needs before a model replaces the rules.
pub const MIN_CLOSED_TICKETS: usize = 50;
/// Closed tickets of each outcome (escalated, not) the escalation classifier needs.
pub const MIN_PER_OUTCOME: usize = 5;
/// At or above this escalation risk a senior agent is recommended.
pub const HIGH_RISK: f64 = 0.5;
/// A sentiment trend at or below this is a "negative sentiment trend".
pub const NEGATIVE_TREND: f64 = -0.2;
/// A latest compound at or below this is "negative customer sentiment".
pub const NEGATIVE_COMPOUND: f64 = -0.5;
/// Closed tickets used for training at most (the most recently resolved).
pub const MAX_TRAINING_TICKETS: i64 = 5000;
/// Open tickets whose insights are recomputed right after a training run (most urgent).
const REFRESH_AFTER_TRAINING: i64 = 200;

/// Urgency keywords and phrases, matched case-insensitively as whole words (a phrase
/// as consecutive words). Those in [`CRITICAL_KEYWORDS`] alone predict Critical.
pub const URGENCY_KEYWORDS: &[&str] = &[
    "urgent",
    "urgently",
    "asap",
    "as soon as possible",
    "immediately",
    "right now",
    "emergency",
    "critical",
    "outage",
    "down",
    "not working",
    "broken",
    "crash",
    "crashed",
    "crashing",
    "data loss",
    "lost data",
    "production",
    "cannot",
    "can't",
    "unable to",
    "blocked",
    "blocker",
    "severe",
    "deadline",
    "escalate",
    "security breach",
    "hacked",
];

/// Keywords that on their own make the rules predict Critical.
pub const CRITICAL_KEYWORDS: &[&str] = &[
    "outage",
    "emergency",
    "data loss",
    "lost data",
    "security breach",
    "hacked",
];

/// Where an insight came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InsightSource {
    /// Keyword and sentiment rules (not enough closed tickets, or no model trained).
    Rules,
    /// The organisation's trained classifiers.
    Model,
}

/// A recommended next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecommendedAction {
    /// `raise_priority`, `assign_senior_agent` or `suggest_kb_articles`.
    pub action: String,
    /// Why, in words, with the specifics (target priority, risk, search terms).
    pub detail: String,
}

/// The AI insight of a ticket, as of its last change or message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TicketInsights {
    /// `rules` or `model`.
    pub source: InsightSource,
    /// The priority the ticket's text and signals suggest.
    pub predicted_priority: Priority,
    /// Probability (0..1) that the ticket escalates.
    pub escalation_risk: f64,
    /// Urgency keywords found (see the documented list), in list order.
    pub urgency_keywords: Vec<String>,
    /// Reasons, e.g. "Urgency keywords detected", "Negative sentiment trend".
    pub ai_insights: Vec<String>,
    /// `raise_priority`, `assign_senior_agent`, `suggest_kb_articles`.
    pub recommended_actions: Vec<RecommendedAction>,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
}

/// SLA state of a ticket as the insight sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    /// Nothing pending is near its deadline.
    OnTrack,
    /// A pending target passed its at-risk instant.
    AtRisk,
    /// A target was missed.
    Breached,
}

impl SlaState {
    fn token(self) -> &'static str {
        match self {
            SlaState::OnTrack => "sla=on_track",
            SlaState::AtRisk => "sla=at_risk",
            SlaState::Breached => "sla=breached",
        }
    }
}

/// What the insight of one ticket is computed from.
#[derive(Debug, Clone)]
pub struct Signals {
    /// Subject and description.
    pub text: String,
    /// The customer messages, oldest first.
    pub customer_messages: Vec<String>,
    /// Type.
    pub ticket_type: TicketType,
    /// Current priority.
    pub priority: Priority,
    /// Latest customer compound sentiment.
    pub compound: Option<f64>,
    /// Sentiment trend (latest minus the mean of the earlier ones).
    pub trend: Option<f64>,
    /// SLA state.
    pub sla: SlaState,
}

impl Signals {
    fn full_text(&self) -> String {
        let mut text = self.text.clone();
        for m in &self.customer_messages {
            text.push('\n');
            text.push_str(m);
        }
        text
    }
}

/// The urgency keywords of a text, whole words and phrases, case-insensitive.
pub fn urgency_keywords(text: &str) -> Vec<String> {
    let words = text_classifier::tokenize(text);
    URGENCY_KEYWORDS
        .iter()
        .filter(|keyword| {
            let phrase = text_classifier::tokenize(keyword);
            !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase.as_slice())
        })
        .map(|k| (*k).to_owned())
        .collect()
}

fn rank(priority: Priority) -> u8 {
    match priority {
        Priority::Critical => 0,
        Priority::High => 1,
        Priority::Medium => 2,
        Priority::Low => 3,
    }
}

/// The rules' priority: a critical keyword (or three distinct keywords) → Critical; any
/// keyword or negative customer sentiment → High; a Question or Feature Request → Low;
/// otherwise Medium.
pub fn rule_priority(signals: &Signals, keywords: &[String]) -> Priority {
    let critical = keywords
        .iter()
        .any(|k| CRITICAL_KEYWORDS.contains(&k.as_str()))
        || (keywords.iter().any(|k| k == "down") && keywords.iter().any(|k| k == "production"));
    if critical || keywords.len() >= 3 {
        Priority::Critical
    } else if !keywords.is_empty() || signals.compound.is_some_and(|c| c <= NEGATIVE_COMPOUND) {
        Priority::High
    } else if matches!(
        signals.ticket_type,
        TicketType::Question | TicketType::FeatureRequest
    ) {
        Priority::Low
    } else {
        Priority::Medium
    }
}

/// The rules' escalation risk: `1 / (1 + e^-z)` with `z = -3` plus Critical +1.5 /
/// High +0.8 / Low −0.5, urgency keywords +0.8, latest compound ≤ −0.5 +1.0 (≤ −0.05
/// +0.4), trend ≤ −0.2 +0.8, SLA at risk +1.0 / breached +2.0, and +0.35 per customer
/// message after the first (at most 4).
pub fn rule_escalation_risk(signals: &Signals, keywords: &[String]) -> f64 {
    let mut z = -3.0;
    z += match signals.priority {
        Priority::Critical => 1.5,
        Priority::High => 0.8,
        Priority::Medium => 0.0,
        Priority::Low => -0.5,
    };
    if !keywords.is_empty() {
        z += 0.8;
    }
    match signals.compound {
        Some(c) if c <= NEGATIVE_COMPOUND => z += 1.0,
        Some(c) if c <= -0.05 => z += 0.4,
        _ => {}
    }
    if signals.trend.is_some_and(|t| t <= NEGATIVE_TREND) {
        z += 0.8;
    }
    z += match signals.sla {
        SlaState::OnTrack => 0.0,
        SlaState::AtRisk => 1.0,
        SlaState::Breached => 2.0,
    };
    let follow_ups = signals.customer_messages.len().saturating_sub(1).min(4);
    z += 0.35 * follow_ups as f64;
    1.0 / (1.0 + (-z).exp())
}

/// The pseudo-words the classifiers see besides the text.
fn signal_tokens(signals: &Signals, keywords: &[String], with_priority: bool) -> Vec<String> {
    let mut out = vec![format!("type={}", signals.ticket_type.as_str())];
    if with_priority {
        out.push(format!("priority={}", signals.priority.as_str()));
        out.push(
            match signals.compound {
                Some(c) if c <= NEGATIVE_COMPOUND => "mood=very_negative",
                Some(c) if c <= -0.05 => "mood=negative",
                Some(c) if c >= 0.05 => "mood=positive",
                Some(_) => "mood=neutral",
                None => "mood=none",
            }
            .to_owned(),
        );
        if signals.trend.is_some_and(|t| t <= NEGATIVE_TREND) {
            out.push("trend=down".to_owned());
        }
        out.push(
            if keywords.is_empty() {
                "urgency=no"
            } else {
                "urgency=yes"
            }
            .to_owned(),
        );
        out.push(signals.sla.token().to_owned());
        out.push(format!(
            "customer_messages={}",
            signals.customer_messages.len().min(3)
        ));
    }
    out
}

fn features(signals: &Signals, keywords: &[String], with_priority: bool) -> Vec<u32> {
    let options = FeatureOptions::default();
    let mut f = text_features(&signals.full_text(), &options);
    for token in signal_tokens(signals, keywords, with_priority) {
        f.push(token_feature(&token, options.buckets));
    }
    f
}

/// The label of the escalation classifier for an escalated ticket.
const ESCALATED: &str = "escalated";
/// ... and for the others.
const NOT_ESCALATED: &str = "not_escalated";

/// The organisation's trained classifiers, if any.
#[derive(Debug, Clone, Default)]
pub struct Models {
    /// Priority classifier.
    pub priority: Option<Arc<NaiveBayes>>,
    /// Escalation classifier.
    pub escalation: Option<Arc<NaiveBayes>>,
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "from", "have", "has", "are", "was", "were",
    "our", "your", "you", "not", "but", "can", "cannot", "can't", "when", "what", "how", "why",
    "please", "hello", "thanks", "thank", "there", "their", "they", "them", "will", "would",
    "could", "should", "been", "into", "about", "after", "before", "again", "still", "any", "all",
    "its", "it's", "i'm", "we", "is", "it", "to", "of", "in", "on", "at", "be", "or", "an", "as",
    "my", "me", "do", "does", "did", "so", "if", "no", "yes", "hi", "just", "also",
];

/// The most frequent content words of a text (for a knowledge-base search).
fn search_terms(text: &str, keep: usize) -> Vec<String> {
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    for (i, word) in text_classifier::tokenize(text).into_iter().enumerate() {
        if word.chars().count() < 3
            || STOPWORDS.contains(&word.as_str())
            || word.chars().all(|c| c.is_ascii_digit())
        {
            continue;
        }
        match counts.iter_mut().find(|(w, _, _)| *w == word) {
            Some((_, n, _)) => *n += 1,
            None => counts.push((word, 1, i)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    counts.into_iter().take(keep).map(|(w, _, _)| w).collect()
}

/// Computes a ticket's insight from its signals and the organisation's models.
pub fn compute(signals: &Signals, models: &Models, now: DateTime<Utc>) -> TicketInsights {
    let full = signals.full_text();
    let keywords = urgency_keywords(&full);
    let (source, predicted) = match &models.priority {
        Some(model) => {
            let p = model.predict_features(&features(signals, &keywords, false));
            let predicted = Priority::parse(&model.classes[p.best])
                .unwrap_or_else(|| rule_priority(signals, &keywords));
            (InsightSource::Model, predicted)
        }
        None => (InsightSource::Rules, rule_priority(signals, &keywords)),
    };
    let risk = match (&models.priority, &models.escalation) {
        (Some(_), Some(model)) => {
            let p = model.predict_features(&features(signals, &keywords, true));
            model.probability_of(&p, ESCALATED)
        }
        _ => rule_escalation_risk(signals, &keywords),
    };
    let risk = (risk.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;

    let mut reasons = Vec::new();
    if !keywords.is_empty() {
        reasons.push("Urgency keywords detected".to_owned());
    }
    if signals.trend.is_some_and(|t| t <= NEGATIVE_TREND) {
        reasons.push("Negative sentiment trend".to_owned());
    }
    if signals.compound.is_some_and(|c| c <= NEGATIVE_COMPOUND) {
        reasons.push("Negative customer sentiment".to_owned());
    }
    match signals.sla {
        SlaState::AtRisk => reasons.push("SLA at risk".to_owned()),
        SlaState::Breached => reasons.push("SLA breached".to_owned()),
        SlaState::OnTrack => {}
    }
    if signals.customer_messages.len() >= 3 {
        reasons.push("Repeated customer messages".to_owned());
    }
    let mut actions = Vec::new();
    if rank(predicted) < rank(signals.priority) {
        reasons.push("Predicted priority above current".to_owned());
        actions.push(RecommendedAction {
            action: "raise_priority".to_owned(),
            detail: format!(
                "Raise the priority from {} to {}",
                signals.priority.as_str(),
                predicted.as_str()
            ),
        });
    }
    if risk >= HIGH_RISK {
        reasons.push("High escalation risk".to_owned());
        actions.push(RecommendedAction {
            action: "assign_senior_agent".to_owned(),
            detail: format!(
                "Escalation risk {:.0}%: assign a senior agent",
                risk * 100.0
            ),
        });
    }
    let terms = search_terms(&full, 5);
    if text_classifier::tokenize(&full).len() >= 3 && !terms.is_empty() {
        actions.push(RecommendedAction {
            action: "suggest_kb_articles".to_owned(),
            detail: format!("Search the knowledge base for: {}", terms.join(" ")),
        });
    }
    TicketInsights {
        source,
        predicted_priority: predicted,
        escalation_risk: risk,
        urgency_keywords: keywords,
        ai_insights: reasons,
        recommended_actions: actions,
        computed_at: now,
    }
}

/// One closed ticket as training data.
#[derive(Debug, Clone)]
pub struct ClosedTicket {
    /// Its signals (SLA state: breached or on track at resolution).
    pub signals: Signals,
    /// Escalated: priority raised after creation, an SLA target breached, or reopened.
    pub escalated: bool,
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Priority classifier and its 5-fold cross-validated accuracy and macro-F1.
    pub priority: Option<(NaiveBayes, f64, f64)>,
    /// Escalation classifier and its 5-fold cross-validated accuracy and macro-F1.
    pub escalation: Option<(NaiveBayes, f64, f64)>,
    /// Tickets looked at.
    pub examples: usize,
    /// Priorities present, sorted.
    pub classes: Vec<String>,
    /// Why no model came out, when none did.
    pub reason: Option<String>,
}

/// Cross-validation folds and seed for the reported accuracy.
const FOLDS: usize = 5;
const SEED: u64 = 42;

/// Trains the classifiers on closed tickets (pure; the caller runs it off the async
/// threads).
pub fn train(closed: &[ClosedTicket]) -> Result<Trained, HelpdeskError> {
    let options = TrainOptions::default();
    let mut classes: Vec<String> = closed
        .iter()
        .map(|c| c.signals.priority.as_str().to_owned())
        .collect();
    classes.sort();
    classes.dedup();
    let mut out = Trained {
        priority: None,
        escalation: None,
        examples: closed.len(),
        classes: classes.clone(),
        reason: None,
    };
    if closed.len() < MIN_CLOSED_TICKETS || classes.len() < 2 {
        out.reason = Some(format!(
            "needs at least {MIN_CLOSED_TICKETS} closed tickets with at least 2 priorities; \
             the organisation has {} with {}",
            closed.len(),
            classes.len()
        ));
        return Ok(out);
    }
    let refused = |e: insight::InsightError| HelpdeskError::field("closed_tickets", e.to_string());
    // Cross-validated figures; with `calibrate`, Platt scaling of that class's
    // probability fitted on the out-of-fold predictions.
    let fit = |x: &[Vec<u32>],
               y: &[String],
               calibrate: Option<&str>|
     -> Result<(NaiveBayes, f64, f64), HelpdeskError> {
        let (predicted, probability) =
            out_of_fold(x, y, FOLDS, SEED, options, calibrate).map_err(refused)?;
        let cv = text_classifier::evaluate(y, &predicted).map_err(refused)?;
        let mut model = NaiveBayes::fit(x, y, options).map_err(refused)?;
        if let Some(class) = calibrate {
            let truth: Vec<bool> = y.iter().map(|l| l == class).collect();
            model.calibration =
                Some(Calibration::fit(class, &probability, &truth).map_err(refused)?);
        }
        Ok((model, cv.accuracy, cv.macro_f1))
    };
    let keywords: Vec<Vec<String>> = closed
        .iter()
        .map(|c| urgency_keywords(&c.signals.full_text()))
        .collect();
    let x: Vec<Vec<u32>> = closed
        .iter()
        .zip(&keywords)
        .map(|(c, k)| features(&c.signals, k, false))
        .collect();
    let y: Vec<String> = closed
        .iter()
        .map(|c| c.signals.priority.as_str().to_owned())
        .collect();
    out.priority = Some(fit(&x, &y, None)?);
    let escalated = closed.iter().filter(|c| c.escalated).count();
    if escalated >= MIN_PER_OUTCOME && closed.len() - escalated >= MIN_PER_OUTCOME {
        let x: Vec<Vec<u32>> = closed
            .iter()
            .zip(&keywords)
            .map(|(c, k)| features(&c.signals, k, true))
            .collect();
        let y: Vec<String> = closed
            .iter()
            .map(|c| {
                if c.escalated {
                    ESCALATED
                } else {
                    NOT_ESCALATED
                }
                .to_owned()
            })
            .collect();
        out.escalation = Some(fit(&x, &y, Some(ESCALATED))?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- storage

/// Parsed models by (organisation, kind), tagged with their training run's id, so a
/// ticket change does not parse the model's JSON again.
type ModelCache = Mutex<HashMap<(Uuid, String), (Uuid, Arc<NaiveBayes>)>>;

fn cache() -> &'static ModelCache {
    static CACHE: OnceLock<ModelCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

const CACHE_ENTRIES: usize = 256;

/// The organisation's models, read through `tx`.
async fn load_models(tx: &mut Tx, org: Uuid) -> Result<Models, HelpdeskError> {
    let stamps: Vec<(String, Uuid)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT kind, model_id FROM helpdesk_models WHERE org_id = $1"
    )
    .bind(org)
    .fetch_all(c)
    .await)?;
    let mut models = Models::default();
    for (kind, model_id) in stamps {
        let key = (org, kind.clone());
        let cached = cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|(id, _)| *id == model_id)
            .map(|(_, m)| m.clone());
        let model = match cached {
            Some(m) => m,
            None => {
                let json: Option<String> = on_tx!(tx, |c| {
                    sqlx::query_scalar(
                    "SELECT model FROM helpdesk_models WHERE org_id = $1 AND kind = $2 AND model_id = $3"
                )
                .bind(org)
                .bind(&kind)
                .bind(model_id)
                .fetch_optional(c)
                .await
                })?;
                let Some(json) = json else { continue };
                let parsed: NaiveBayes = serde_json::from_str(&json)
                    .map_err(|e| HelpdeskError::Corrupt(format!("{kind} model: {e}")))?;
                let parsed = Arc::new(parsed);
                let mut guard = cache().lock().unwrap_or_else(|e| e.into_inner());
                if guard.len() >= CACHE_ENTRIES {
                    guard.clear();
                }
                guard.insert(key, (model_id, parsed.clone()));
                parsed
            }
        };
        match kind.as_str() {
            "priority" => models.priority = Some(model),
            "escalation" => models.escalation = Some(model),
            _ => {}
        }
    }
    Ok(models)
}

#[derive(Debug, FromRow)]
struct SignalRow {
    subject: String,
    description: String,
    ticket_type: String,
    priority: String,
    status: String,
    sentiment_compound: Option<f64>,
    sentiment_trend: Option<f64>,
    first_response_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    response_risk_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    resolution_risk_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
}

const SIGNAL_COLUMNS: &str = "t.subject, t.description, t.ticket_type, t.priority, t.status, t.sentiment_compound, \
    t.sentiment_trend, t.first_response_at, t.response_due_at, t.response_risk_at, t.resolution_due_at, \
    t.resolution_risk_at, t.resolved_at";

impl SignalRow {
    /// SLA state at `now` (for a resolved ticket: at its resolution).
    fn sla(&self, now: DateTime<Utc>) -> SlaState {
        let end = self.resolved_at.unwrap_or(now);
        let response_met = self.first_response_at.or(self.resolved_at);
        let breached = self.resolution_due_at.is_some_and(|due| end > due)
            || self
                .response_due_at
                .is_some_and(|due| response_met.unwrap_or(now) > due);
        if breached {
            SlaState::Breached
        } else if self.resolved_at.is_none()
            && (self.resolution_risk_at.is_some_and(|r| now >= r)
                || (self.first_response_at.is_none()
                    && self.response_risk_at.is_some_and(|r| now >= r)))
        {
            SlaState::AtRisk
        } else {
            SlaState::OnTrack
        }
    }

    fn signals(
        &self,
        customer_messages: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Signals, HelpdeskError> {
        Ok(Signals {
            text: format!("{}\n{}", self.subject, self.description),
            customer_messages,
            ticket_type: TicketType::parse(&self.ticket_type)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("type `{}`", self.ticket_type)))?,
            priority: Priority::parse(&self.priority)
                .ok_or_else(|| HelpdeskError::Corrupt(format!("priority `{}`", self.priority)))?,
            compound: self.sentiment_compound,
            trend: self.sentiment_trend,
            sla: self.sla(now),
        })
    }
}

/// Customer messages read per ticket at most (the latest).
const MESSAGES_PER_TICKET: i64 = 50;
/// Characters of each message kept for the insight.
const MESSAGE_CHARS: usize = 5000;

fn clip(text: String) -> String {
    if text.chars().count() <= MESSAGE_CHARS {
        text
    } else {
        text.chars().take(MESSAGE_CHARS).collect()
    }
}

/// Recomputes and stores the insight of one ticket, inside the caller's transaction
/// (every read goes through `tx`). Also keeps the facts of the escalation label: the
/// priority the ticket was opened with, whether it was raised, whether it was reopened.
pub(crate) async fn refresh(
    tx: &mut Tx,
    now: DateTime<Utc>,
    org: Uuid,
    ticket_id: Uuid,
) -> Result<TicketInsights, HelpdeskError> {
    let row: Option<SignalRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SIGNAL_COLUMNS} FROM tickets t WHERE t.org_id = $1 AND t.id = $2"
    )))
    .bind(org)
    .bind(ticket_id)
    .fetch_optional(c)
    .await)?;
    let row = row.ok_or(HelpdeskError::NotFound("ticket"))?;
    let mut messages: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT body FROM ticket_messages WHERE org_id = $1 AND ticket_id = $2 AND kind = $3 \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    )
    .bind(org)
    .bind(ticket_id)
    .bind(MessageKind::Customer.as_str())
    .bind(MESSAGES_PER_TICKET)
    .fetch_all(c)
    .await)?;
    messages.reverse();
    let messages = messages.into_iter().map(clip).collect();
    let signals = row.signals(messages, now)?;
    let models = load_models(tx, org).await?;
    let insight = compute(&signals, &models, now);
    let previous: Option<(i32, bool, bool, String)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT initial_priority_rank, priority_raised, reopened, last_status FROM ticket_insights \
         WHERE org_id = $1 AND ticket_id = $2"
    )
    .bind(org)
    .bind(ticket_id)
    .fetch_optional(c)
    .await
    })?;
    let current_rank = i32::from(rank(signals.priority));
    let (initial, raised, reopened) = match previous {
        Some((initial, raised, reopened, last_status)) => (
            initial,
            raised || current_rank < initial,
            reopened || (last_status == "Resolved" && row.status == "Open"),
        ),
        None => (current_rank, false, false),
    };
    let json = serde_json::to_string(&insight)
        .map_err(|e| HelpdeskError::Corrupt(format!("insight: {e}")))?;
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO ticket_insights (org_id, ticket_id, initial_priority_rank, priority_raised, reopened, \
         last_status, insight, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (org_id, ticket_id) DO UPDATE SET priority_raised = $4, reopened = $5, \
         last_status = $6, insight = $7, computed_at = $8"
    )
    .bind(org)
    .bind(ticket_id)
    .bind(initial)
    .bind(raised)
    .bind(reopened)
    .bind(&row.status)
    .bind(&json)
    .bind(now)
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(insight)
}

/// The organisation's model state (`GET /api/v1/helpdesk/model`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelStatus {
    /// What insights use now: `rules` or `model`.
    pub source: InsightSource,
    /// Closed tickets the priority model was trained on (0 without a model).
    pub trained_on: u64,
    /// Priorities the model knows.
    pub classes: Vec<String>,
    /// 5-fold cross-validated accuracy of the priority model.
    pub accuracy: Option<f64>,
    /// 5-fold cross-validated macro-F1 of the priority model.
    pub macro_f1: Option<f64>,
    /// Whether an escalation classifier was trained (else the risk is the rule formula).
    pub escalation_model: bool,
    /// Its cross-validated accuracy.
    pub escalation_accuracy: Option<f64>,
    /// When it was trained.
    pub trained_at: Option<DateTime<Utc>>,
    /// Closed tickets the organisation has now.
    pub closed_tickets: u64,
    /// Closed tickets needed before a model is trained.
    pub min_closed_tickets: u64,
}

/// Result of `POST /api/v1/helpdesk/model/train`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrainReport {
    /// Closed tickets used.
    pub trained_on: u64,
    /// Priorities found among them.
    pub classes: Vec<String>,
    /// 5-fold cross-validated accuracy of the priority model (absent without a model).
    pub accuracy: Option<f64>,
    /// 5-fold cross-validated macro-F1.
    pub macro_f1: Option<f64>,
    /// `model` when a model was trained, `rules` when there were too few tickets (any
    /// earlier model is then removed, so insights follow the rules again).
    pub source: InsightSource,
    /// Whether an escalation classifier was trained.
    pub escalation_model: bool,
    /// Its cross-validated accuracy.
    pub escalation_accuracy: Option<f64>,
    /// Why no model was trained.
    pub reason: Option<String>,
}

#[derive(Debug, FromRow)]
struct ClosedRow {
    id: Uuid,
    #[sqlx(flatten)]
    signals: SignalRow,
    priority_raised: Option<bool>,
    reopened: Option<bool>,
}

#[derive(Debug, FromRow)]
struct ModelRow {
    kind: String,
    trained_on: i64,
    classes: String,
    accuracy: Option<f64>,
    macro_f1: Option<f64>,
    trained_at: DateTime<Utc>,
}

impl Helpdesk {
    async fn closed_count(&self, org: Uuid) -> Result<u64, HelpdeskError> {
        let n: i64 = on_pool!(self.db, |p| {
            sqlx::query_scalar(
            "SELECT count(*) FROM tickets WHERE org_id = $1 AND status IN ('Resolved', 'Closed')"
        )
        .bind(org)
        .fetch_one(p)
        .await
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The organisation's classifiers and what insights use now.
    pub async fn model_status(&self, ctx: &TenantContext) -> Result<ModelStatus, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let org = ctx.org_id();
        let rows: Vec<ModelRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT kind, trained_on, classes, accuracy, macro_f1, trained_at FROM helpdesk_models \
             WHERE org_id = $1 ORDER BY kind"
        )
        .bind(org)
        .fetch_all(p)
        .await
        })?;
        let closed_tickets = self.closed_count(org).await?;
        let priority = rows.iter().find(|r| r.kind == "priority");
        let escalation = rows.iter().find(|r| r.kind == "escalation");
        Ok(ModelStatus {
            source: if priority.is_some() {
                InsightSource::Model
            } else {
                InsightSource::Rules
            },
            trained_on: priority.map_or(0, |p| u64::try_from(p.trained_on).unwrap_or(0)),
            classes: match priority {
                Some(p) => serde_json::from_str(&p.classes)
                    .map_err(|e| HelpdeskError::Corrupt(format!("model classes: {e}")))?,
                None => Vec::new(),
            },
            accuracy: priority.and_then(|p| p.accuracy),
            macro_f1: priority.and_then(|p| p.macro_f1),
            escalation_model: escalation.is_some(),
            escalation_accuracy: escalation.and_then(|e| e.accuracy),
            trained_at: priority.map(|p| p.trained_at),
            closed_tickets,
            min_closed_tickets: MIN_CLOSED_TICKETS as u64,
        })
    }

    /// Trains the organisation's classifiers on its closed tickets (needs
    /// `tickets:manage`), stores them, and recomputes the insights of the most urgent
    /// open tickets with them. Too few closed tickets: no model, any earlier one removed.
    pub async fn train_model(&self, ctx: &TenantContext) -> Result<TrainReport, HelpdeskError> {
        ctx.authorize("tickets:manage")?;
        let org = ctx.org_id();
        let now = self.now();
        // Every read happens before the write transaction.
        let rows: Vec<ClosedRow> =
            on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT t.id, {SIGNAL_COLUMNS}, i.priority_raised, i.reopened FROM tickets t \
                 LEFT JOIN ticket_insights i ON i.org_id = t.org_id AND i.ticket_id = t.id \
                 WHERE t.org_id = $1 AND t.status IN ('Resolved', 'Closed') \
                 ORDER BY t.resolved_at DESC, t.id DESC LIMIT $2"
            )))
            .bind(org)
            .bind(MAX_TRAINING_TICKETS)
            .fetch_all(p)
            .await)?;
        let bodies: Vec<(Uuid, String)> = on_pool!(self.db, |p| {
            sqlx::query_as(
            // The customer messages of the same tickets as above.
            "SELECT m.ticket_id, m.body FROM ticket_messages m WHERE m.org_id = $1 AND m.kind = $2 \
             AND m.ticket_id IN (SELECT t.id FROM tickets t WHERE t.org_id = $1 AND t.status IN ('Resolved', 'Closed') \
             ORDER BY t.resolved_at DESC, t.id DESC LIMIT $3) ORDER BY m.created_at, m.id"
        )
        .bind(org)
        .bind(MessageKind::Customer.as_str())
        .bind(MAX_TRAINING_TICKETS)
        .fetch_all(p)
        .await
        })?;
        let mut by_ticket: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (ticket, body) in bodies {
            let list = by_ticket.entry(ticket).or_default();
            if list.len() < MESSAGES_PER_TICKET as usize {
                list.push(clip(body));
            }
        }
        let mut closed = Vec::with_capacity(rows.len());
        for row in rows {
            let messages = by_ticket.remove(&row.id).unwrap_or_default();
            let signals = row.signals.signals(messages, now)?;
            let escalated = row.priority_raised.unwrap_or(false)
                || row.reopened.unwrap_or(false)
                || signals.sla == SlaState::Breached;
            closed.push(ClosedTicket { signals, escalated });
        }
        let trained = tokio::task::spawn_blocking(move || train(&closed))
            .await
            .map_err(|e| HelpdeskError::Corrupt(format!("training task: {e}")))??;

        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM helpdesk_models WHERE org_id = $1"
        )
        .bind(org)
        .execute(c)
        .await
        .map(|_| ()))?;
        for (kind, entry) in [
            ("priority", &trained.priority),
            ("escalation", &trained.escalation),
        ] {
            let Some((model, accuracy, macro_f1)) = entry else {
                continue;
            };
            let json = serde_json::to_string(model)
                .map_err(|e| HelpdeskError::Corrupt(format!("model: {e}")))?;
            let classes = serde_json::to_string(&model.classes).unwrap_or_default();
            on_tx!(tx, |c| {
                sqlx::query(
                "INSERT INTO helpdesk_models (org_id, kind, model_id, model, trained_on, classes, accuracy, macro_f1, trained_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )
            .bind(org)
            .bind(kind)
            .bind(Uuid::now_v7())
            .bind(&json)
            .bind(i64::try_from(model.trained_on()).unwrap_or(i64::MAX))
            .bind(&classes)
            .bind(*accuracy)
            .bind(*macro_f1)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
            })?;
        }
        let report = TrainReport {
            trained_on: trained.examples as u64,
            classes: trained.classes.clone(),
            accuracy: trained.priority.as_ref().map(|p| p.1),
            macro_f1: trained.priority.as_ref().map(|p| p.2),
            source: if trained.priority.is_some() {
                InsightSource::Model
            } else {
                InsightSource::Rules
            },
            escalation_model: trained.escalation.is_some(),
            escalation_accuracy: trained.escalation.as_ref().map(|e| e.1),
            reason: trained.reason.clone(),
        };
        let open: Vec<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM tickets WHERE org_id = $1 AND status NOT IN ('Resolved', 'Closed') \
             ORDER BY sla_due_at, id LIMIT $2"
        )
        .bind(org)
        .bind(REFRESH_AFTER_TRAINING)
        .fetch_all(c)
        .await)?;
        for ticket in open {
            refresh(&mut tx, now, org, ticket).await?;
        }
        let summary = serde_json::json!({
            "trained_on": report.trained_on,
            "classes": report.classes,
            "accuracy": report.accuracy,
            "source": report.source,
            "escalation_model": report.escalation_model,
        });
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "helpdesk_model.trained",
            "helpdesk_model",
            org,
            &serde_json::Value::Null,
            &summary,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The model routes.
pub(crate) fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Helpdesk: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_model))
        .routes(routes!(train_model))
}

/// The organisation's ticket classifiers: whether insights come from `rules` or a
/// `model`, its cross-validated accuracy, the closed tickets available and needed.
#[utoipa::path(get, path = "/api/v1/helpdesk/model", tag = "helpdesk",
    responses((status = 200, body = Single<ModelStatus>), (status = 403, body = Problem)))]
async fn get_model(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> Result<Json<Single<ModelStatus>>, Problem> {
    Ok(Json(Single::new(helpdesk.model_status(&ctx).await?)))
}

/// Train the priority (and, with enough of both outcomes, escalation) classifiers on the
/// organisation's closed tickets (`tickets:manage`). With fewer than 50 closed tickets
/// or a single priority no model is trained and insights follow the rules.
#[utoipa::path(post, path = "/api/v1/helpdesk/model/train", tag = "helpdesk",
    responses((status = 200, body = Single<TrainReport>), (status = 403, body = Problem)))]
async fn train_model(
    State(helpdesk): State<Helpdesk>,
    ctx: TenantContext,
) -> Result<Json<Single<TrainReport>>, Problem> {
    Ok(Json(Single::new(helpdesk.train_model(&ctx).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(text: &str, priority: Priority) -> Signals {
        Signals {
            text: text.to_owned(),
            customer_messages: Vec::new(),
            ticket_type: TicketType::Incident,
            priority,
            compound: None,
            trend: None,
            sla: SlaState::OnTrack,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn keywords_are_whole_words_and_phrases() {
        assert_eq!(
            urgency_keywords("URGENT: Production is DOWN, we can't log in, data loss!"),
            vec!["urgent", "down", "data loss", "production", "can't"]
        );
        // Not inside other words: "downstream", "urgently" is its own keyword.
        assert!(urgency_keywords("downstream crashes? no; dataloss").is_empty());
        assert_eq!(
            urgency_keywords("Fix it as soon as possible"),
            vec!["as soon as possible"]
        );
    }

    #[test]
    fn rules_predict_priority_from_keywords_sentiment_and_type() {
        let s = signals("Outage in the EU region", Priority::Low);
        let k = urgency_keywords(&s.text);
        assert_eq!(rule_priority(&s, &k), Priority::Critical);
        let s = signals("Report export is broken", Priority::Low);
        let k = urgency_keywords(&s.text);
        assert_eq!(rule_priority(&s, &k), Priority::High);
        let mut s = signals("Invoice layout", Priority::Low);
        s.ticket_type = TicketType::Question;
        assert_eq!(rule_priority(&s, &[]), Priority::Low);
        s.compound = Some(-0.8);
        assert_eq!(rule_priority(&s, &[]), Priority::High);
        s.ticket_type = TicketType::Bug;
        s.compound = None;
        assert_eq!(rule_priority(&s, &[]), Priority::Medium);
    }

    #[test]
    fn rules_insight_has_reasons_and_actions() {
        let mut s = signals(
            "Production down urgent: our whole team cannot work",
            Priority::Low,
        );
        s.customer_messages = vec![
            "still down".into(),
            "this is terrible".into(),
            "hello?".into(),
        ];
        s.compound = Some(-0.7);
        s.trend = Some(-0.5);
        s.sla = SlaState::AtRisk;
        let i = compute(&s, &Models::default(), now());
        assert_eq!(i.source, InsightSource::Rules);
        assert_eq!(i.predicted_priority, Priority::Critical);
        assert!(i.escalation_risk >= HIGH_RISK, "{i:?}");
        for reason in [
            "Urgency keywords detected",
            "Negative sentiment trend",
            "Negative customer sentiment",
            "SLA at risk",
            "Repeated customer messages",
            "Predicted priority above current",
            "High escalation risk",
        ] {
            assert!(i.ai_insights.iter().any(|r| r == reason), "{reason}: {i:?}");
        }
        let actions: Vec<&str> = i
            .recommended_actions
            .iter()
            .map(|a| a.action.as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "raise_priority",
                "assign_senior_agent",
                "suggest_kb_articles"
            ]
        );
        assert_eq!(
            i.recommended_actions[0].detail,
            "Raise the priority from Low to Critical"
        );

        let calm = compute(&signals("Hi", Priority::Medium), &Models::default(), now());
        assert!(calm.recommended_actions.is_empty());
        assert!(calm.ai_insights.is_empty());
        assert!(calm.escalation_risk < 0.1);
    }

    #[test]
    fn risk_grows_with_each_signal() {
        let base = signals("Printer", Priority::Medium);
        let r0 = rule_escalation_risk(&base, &[]);
        let mut s = base.clone();
        s.sla = SlaState::Breached;
        assert!(rule_escalation_risk(&s, &[]) > r0);
        let mut s = base.clone();
        s.customer_messages = vec!["a".into(), "b".into()];
        assert!(rule_escalation_risk(&s, &[]) > r0);
        let mut s = base;
        s.priority = Priority::Critical;
        assert!(rule_escalation_risk(&s, &["urgent".to_owned()]) > r0);
    }

    #[test]
    fn training_needs_enough_tickets_then_predicts_with_the_model() {
        let mut closed = Vec::new();
        for i in 0..30 {
            let mut hot = signals(
                &format!("server outage number {i} in production"),
                Priority::Critical,
            );
            hot.sla = if i % 3 == 0 {
                SlaState::Breached
            } else {
                SlaState::OnTrack
            };
            closed.push(ClosedTicket {
                escalated: hot.sla == SlaState::Breached,
                signals: hot,
            });
            let cold = signals(&format!("how do I change my avatar {i}"), Priority::Low);
            closed.push(ClosedTicket {
                signals: cold,
                escalated: false,
            });
        }
        let few = train(&closed[..40]).expect("train");
        assert!(few.priority.is_none());
        assert!(few.reason.is_some());
        let trained = train(&closed).expect("train");
        let (model, accuracy, _) = trained.priority.expect("priority model");
        assert!(accuracy > 0.9);
        assert!(trained.escalation.is_some());
        let models = Models {
            priority: Some(Arc::new(model)),
            escalation: trained.escalation.map(|e| Arc::new(e.0)),
        };
        let i = compute(
            &signals("avatar change please", Priority::High),
            &models,
            now(),
        );
        assert_eq!(i.source, InsightSource::Model);
        assert_eq!(i.predicted_priority, Priority::Low);
        let j = compute(
            &signals("outage in production", Priority::Low),
            &models,
            now(),
        );
        assert_eq!(j.predicted_priority, Priority::Critical);
        // Calibrated: a probability, not a hard 0 or 1.
        assert!(j.escalation_risk > 0.0 && j.escalation_risk < 1.0, "{j:?}");
        assert!(i.escalation_risk < j.escalation_risk, "{i:?} {j:?}");
    }
}
