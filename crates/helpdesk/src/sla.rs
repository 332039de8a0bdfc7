//! SLA arithmetic, pure (no I/O, no clock): working calendars and business time.
//!
//! A [`Calendar`] is an IANA time zone, working hours per weekday (several intervals a day
//! allowed, in local time) and holidays (local dates). Business time is the time that lies
//! inside working hours. Everything here works on UTC instants; local time is only used to
//! lay the working intervals out on the UTC line:
//!
//! - a local time that does not exist (clocks jump forward) is read as the instant the clocks
//!   jumped, so an interval that starts or ends inside the gap is just shorter;
//! - a local time that happens twice (clocks go back) starts an interval at its first
//!   occurrence and ends one at its last, so an interval spanning the change is longer.
//!
//! Pauses (a ticket Waiting on Customer, or resolved) stop the clock: business time inside
//! a pause does not count, so a deadline moves later by the business time paused before it.
//! A pause without an end (still waiting) stops the clock for good: no deadline can be
//! given until it ends.
//!
//! All functions give the same answer whatever zone the caller's instants were written in,
//! because they take and return UTC instants.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Minutes in a day: an interval may end at `24:00`.
pub const MINUTES_PER_DAY: u16 = 1440;

/// How far ahead a deadline is looked for (100 years of days) before giving up: only a
/// calendar with (almost) no working time gets there.
const HORIZON_DAYS: u32 = 36_525;

/// A working interval within one local day, in minutes after midnight: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayInterval {
    /// First working minute.
    pub start: u16,
    /// First minute after the interval (up to 1440 = `24:00`).
    pub end: u16,
}

/// An invalid calendar, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CalendarError {
    /// The field (`time_zone`, `weekly_hours.mon[0]`, `holidays[2]`, ...).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl CalendarError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A working interval as the API writes it: `{"start": "09:00", "end": "17:30"}` (local
/// time; `end` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoursSpan {
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM` (after `start`; `24:00` for midnight).
    pub end: String,
}

/// Working hours per weekday, as the API writes them. A day with no intervals is not
/// worked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyHours {
    /// Monday.
    #[serde(default)]
    pub mon: Vec<HoursSpan>,
    /// Tuesday.
    #[serde(default)]
    pub tue: Vec<HoursSpan>,
    /// Wednesday.
    #[serde(default)]
    pub wed: Vec<HoursSpan>,
    /// Thursday.
    #[serde(default)]
    pub thu: Vec<HoursSpan>,
    /// Friday.
    #[serde(default)]
    pub fri: Vec<HoursSpan>,
    /// Saturday.
    #[serde(default)]
    pub sat: Vec<HoursSpan>,
    /// Sunday.
    #[serde(default)]
    pub sun: Vec<HoursSpan>,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeeklyHours {
    /// Every day, all day.
    pub fn always() -> Self {
        let all = || {
            vec![HoursSpan {
                start: "00:00".to_owned(),
                end: "24:00".to_owned(),
            }]
        };
        Self {
            mon: all(),
            tue: all(),
            wed: all(),
            thu: all(),
            fri: all(),
            sat: all(),
            sun: all(),
        }
    }

    fn days(&self) -> [&Vec<HoursSpan>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

fn parse_minute(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// A working calendar: time zone, weekly hours, holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Index 0 = Monday.
    week: [Vec<DayInterval>; 7],
    holidays: BTreeSet<NaiveDate>,
}

/// One pause of the clock: `[start, end)`, `end = None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pause {
    /// When the clock stopped.
    pub start: DateTime<Utc>,
    /// When it started again; absent while still paused.
    pub end: Option<DateTime<Utc>>,
}

/// How a walk over working time ended.
enum Walk {
    /// The visitor asked to stop.
    Stopped,
    /// An open pause stops the clock for good.
    Blocked,
    /// The horizon was reached.
    Exhausted,
}

impl Calendar {
    /// 24×7 in UTC with no holidays: business time is elapsed time.
    pub fn always() -> Self {
        Self {
            tz: Tz::UTC,
            week: std::array::from_fn(|_| {
                vec![DayInterval {
                    start: 0,
                    end: MINUTES_PER_DAY,
                }]
            }),
            holidays: BTreeSet::new(),
        }
    }

    /// A calendar from intervals per weekday (index 0 = Monday, minutes after midnight).
    /// Intervals are sorted; touching ones are merged; overlapping or empty ones are
    /// refused, and so is a week without working time.
    pub fn new(
        time_zone: &str,
        week: [Vec<DayInterval>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        let tz: Tz = time_zone.parse().map_err(|_| {
            CalendarError::new(
                "time_zone",
                format!("`{time_zone}` is not an IANA time zone (e.g. Europe/Berlin)"),
            )
        })?;
        let mut clean: [Vec<DayInterval>; 7] = Default::default();
        for (day, intervals) in week.into_iter().enumerate() {
            let field = format!("weekly_hours.{}", DAY_NAMES[day]);
            let mut sorted = intervals;
            sorted.sort();
            for iv in &sorted {
                if iv.start >= iv.end || iv.end > MINUTES_PER_DAY {
                    return Err(CalendarError::new(
                        field,
                        "each interval must end after it starts, by 24:00",
                    ));
                }
            }
            let mut merged: Vec<DayInterval> = Vec::new();
            for iv in sorted {
                match merged.last_mut() {
                    Some(last) if iv.start < last.end => {
                        return Err(CalendarError::new(field, "intervals overlap"));
                    }
                    Some(last) if iv.start == last.end => last.end = iv.end,
                    _ => merged.push(iv),
                }
            }
            clean[day] = merged;
        }
        if clean.iter().all(Vec::is_empty) {
            return Err(CalendarError::new(
                "weekly_hours",
                "at least one day needs working hours",
            ));
        }
        Ok(Self {
            tz,
            week: clean,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// A calendar from its API form.
    pub fn from_spec(
        time_zone: &str,
        weekly: &WeeklyHours,
        holidays: &[NaiveDate],
    ) -> Result<Self, CalendarError> {
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        for (day, spans) in weekly.days().into_iter().enumerate() {
            for (i, span) in spans.iter().enumerate() {
                let field = format!("weekly_hours.{}[{i}]", DAY_NAMES[day]);
                let start = parse_minute(&span.start)
                    .filter(|m| *m < MINUTES_PER_DAY)
                    .ok_or_else(|| CalendarError::new(&field, "start must be HH:MM"))?;
                let end = parse_minute(&span.end)
                    .ok_or_else(|| CalendarError::new(&field, "end must be HH:MM (or 24:00)"))?;
                if end <= start {
                    return Err(CalendarError::new(field, "end must be after start"));
                }
                week[day].push(DayInterval { start, end });
            }
        }
        Self::new(time_zone, week, holidays.iter().copied())
    }

    /// The time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether `at` lies inside working hours (used by tests as an independent check).
    pub fn is_working(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz).naive_local();
        let date = local.date();
        if self.holidays.contains(&date) {
            return false;
        }
        let minute = (local.time().signed_duration_since(chrono::NaiveTime::MIN)).num_minutes();
        self.week[date.weekday().num_days_from_monday() as usize]
            .iter()
            .any(|iv| i64::from(iv.start) <= minute && minute < i64::from(iv.end))
    }

    /// The UTC instant of local `minute` on `date` (`late` picks the second occurrence of
    /// a repeated local time; a skipped local time is the instant of the jump).
    fn instant(&self, date: NaiveDate, minute: u16, late: bool) -> DateTime<Utc> {
        let (date, minute) = if minute >= MINUTES_PER_DAY {
            (date.succ_opt().unwrap_or(date), 0)
        } else {
            (date, minute)
        };
        let naive = date.and_time(chrono::NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        resolve(self.tz, naive, late)
    }

    /// Working intervals in UTC, in order, not overlapping, from `from` on (the first one
    /// clipped to start at `from`).
    fn intervals_from(
        &self,
        from: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = from.with_timezone(&self.tz).date_naive();
        // Start a day early: a shifted offset can put part of yesterday after `from`.
        let mut date = first.pred_opt().unwrap_or(first);
        let mut last_end = from;
        let mut days = 0u32;
        let mut pending: std::collections::VecDeque<(DateTime<Utc>, DateTime<Utc>)> =
            std::collections::VecDeque::new();
        std::iter::from_fn(move || {
            loop {
                if let Some(iv) = pending.pop_front() {
                    return Some(iv);
                }
                if days > HORIZON_DAYS {
                    return None;
                }
                if !self.holidays.contains(&date) {
                    for iv in &self.week[date.weekday().num_days_from_monday() as usize] {
                        let start = self.instant(date, iv.start, false).max(last_end);
                        let end = self.instant(date, iv.end, true);
                        if end > start {
                            pending.push_back((start, end));
                            last_end = end;
                        }
                    }
                }
                date = date.succ_opt()?;
                days += 1;
            }
        })
    }

    /// Visits the working time from `from` on, minus `pauses`, piece by piece.
    fn walk(
        &self,
        from: DateTime<Utc>,
        pauses: &[Pause],
        mut visit: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> ControlFlow<()>,
    ) -> Walk {
        let pauses = normalise(pauses);
        for (a, b) in self.intervals_from(from) {
            let mut cur = a;
            for p in &pauses {
                if p.end.is_some_and(|e| e <= cur) {
                    continue;
                }
                if p.start >= b {
                    break;
                }
                if p.start > cur && visit(cur, p.start).is_break() {
                    return Walk::Stopped;
                }
                match p.end {
                    None => return Walk::Blocked,
                    Some(end) => cur = cur.max(end),
                }
                if cur >= b {
                    break;
                }
            }
            if cur < b && visit(cur, b).is_break() {
                return Walk::Stopped;
            }
        }
        Walk::Exhausted
    }

    /// The instant at which `duration` of business time has passed since `start`: a
    /// working instant, or the end of a working interval. `None` only when the calendar
    /// has no such time within 100 years. A zero or negative duration gives the first
    /// working instant at or after `start`.
    pub fn add_business_duration(
        &self,
        start: DateTime<Utc>,
        duration: Duration,
    ) -> Option<DateTime<Utc>> {
        self.add_business_duration_paused(start, duration, &[])
    }

    /// Like [`Calendar::add_business_duration`], with the clock stopped during `pauses`.
    /// `None` also when an open pause stops the clock before `duration` is reached.
    pub fn add_business_duration_paused(
        &self,
        start: DateTime<Utc>,
        duration: Duration,
        pauses: &[Pause],
    ) -> Option<DateTime<Utc>> {
        let mut remaining = duration.max(Duration::zero());
        let mut deadline = None;
        self.walk(start, pauses, |a, b| {
            let len = b - a;
            if remaining <= len {
                deadline = Some(a + remaining);
                ControlFlow::Break(())
            } else {
                remaining -= len;
                ControlFlow::Continue(())
            }
        });
        deadline
    }

    /// Business time between `a` and `b` (zero when `b` is not after `a`).
    pub fn business_duration_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        self.business_duration_between_paused(a, b, &[])
    }

    /// Business time between `a` and `b` outside `pauses`.
    pub fn business_duration_between_paused(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        pauses: &[Pause],
    ) -> Duration {
        let mut total = Duration::zero();
        if b <= a {
            return total;
        }
        let walk = self.walk(a, pauses, |s, e| {
            if s >= b {
                return ControlFlow::Break(());
            }
            total += e.min(b) - s;
            if e >= b {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        // An open pause or the horizon simply ends the count.
        match walk {
            Walk::Stopped | Walk::Blocked | Walk::Exhausted => total,
        }
    }
}

/// Local → UTC, with the DST rules of the module documentation.
fn resolve(tz: Tz, naive: NaiveDateTime, late: bool) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, later) => {
            if late {
                later.with_timezone(&Utc)
            } else {
                early.with_timezone(&Utc)
            }
        }
        LocalResult::None => {
            // Inside a gap: the first local minute that exists is the instant of the jump.
            let mut probe = naive;
            for _ in 0..(48 * 60) {
                probe += Duration::minutes(1);
                match tz.from_local_datetime(&probe) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                        return t.with_timezone(&Utc);
                    }
                    LocalResult::None => {}
                }
            }
            naive.and_utc()
        }
    }
}

/// Pauses sorted by start, overlapping ones merged (an open one swallows what follows).
fn normalise(pauses: &[Pause]) -> Vec<Pause> {
    let mut sorted: Vec<Pause> = pauses
        .iter()
        .copied()
        .filter(|p| p.end.is_none_or(|e| e > p.start))
        .collect();
    sorted.sort_by_key(|p| p.start);
    let mut merged: Vec<Pause> = Vec::new();
    for p in sorted {
        match merged.last_mut() {
            Some(last) if last.end.is_none_or(|e| p.start <= e) => {
                last.end = match (last.end, p.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(p),
        }
    }
    merged
}

// ---------------------------------------------------------------------------- policies

/// Ticket priority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Priority {
    /// Production down.
    Critical,
    /// Serious.
    High,
    /// Normal.
    Medium,
    /// Minor.
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Medium,
        Priority::Low,
    ];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "Critical",
            Priority::High => "High",
            Priority::Medium => "Medium",
            Priority::Low => "Low",
        }
    }

    /// Parses the API name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// Ticket type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum TicketType {
    /// Something is broken.
    Incident,
    /// A defect in the product.
    Bug,
    /// A question.
    Question,
    /// A wish.
    #[serde(rename = "Feature Request")]
    FeatureRequest,
    /// Work on equipment.
    Maintenance,
}

impl TicketType {
    /// Every type.
    pub const ALL: [TicketType; 5] = [
        TicketType::Incident,
        TicketType::Bug,
        TicketType::Question,
        TicketType::FeatureRequest,
        TicketType::Maintenance,
    ];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::Incident => "Incident",
            TicketType::Bug => "Bug",
            TicketType::Question => "Question",
            TicketType::FeatureRequest => "Feature Request",
            TicketType::Maintenance => "Maintenance",
        }
    }

    /// Parses the API name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Response and resolution targets of one priority, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetMinutes {
    /// Until the first agent reply.
    pub response_minutes: u32,
    /// Until resolved.
    pub resolution_minutes: u32,
}

/// Targets of every priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriorityTargets {
    /// Critical.
    #[serde(rename = "Critical")]
    pub critical: TargetMinutes,
    /// High.
    #[serde(rename = "High")]
    pub high: TargetMinutes,
    /// Medium.
    #[serde(rename = "Medium")]
    pub medium: TargetMinutes,
    /// Low.
    #[serde(rename = "Low")]
    pub low: TargetMinutes,
}

impl PriorityTargets {
    /// Seed 000: Critical 1h/4h, High 2h/8h, Medium 4h/24h, Low 8h/72h.
    pub fn seed() -> Self {
        let t = |r: u32, s: u32| TargetMinutes {
            response_minutes: r * 60,
            resolution_minutes: s * 60,
        };
        Self {
            critical: t(1, 4),
            high: t(2, 8),
            medium: t(4, 24),
            low: t(8, 72),
        }
    }

    /// The targets of `priority`.
    pub fn get(&self, priority: Priority) -> TargetMinutes {
        match priority {
            Priority::Critical => self.critical,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }
}

/// Resolution multipliers by ticket type (seed 000: Bug × 0.8, Feature Request × 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TypeMultipliers {
    /// Incident.
    #[serde(rename = "Incident", default = "one")]
    pub incident: f64,
    /// Bug.
    #[serde(rename = "Bug", default = "one")]
    pub bug: f64,
    /// Question.
    #[serde(rename = "Question", default = "one")]
    pub question: f64,
    /// Feature Request.
    #[serde(rename = "Feature Request", default = "one")]
    pub feature_request: f64,
    /// Maintenance.
    #[serde(rename = "Maintenance", default = "one")]
    pub maintenance: f64,
}

fn one() -> f64 {
    1.0
}

impl TypeMultipliers {
    /// Seed 000.
    pub fn seed() -> Self {
        Self {
            incident: 1.0,
            bug: 0.8,
            question: 1.0,
            feature_request: 1.5,
            maintenance: 1.0,
        }
    }

    /// The multiplier of `kind`.
    pub fn get(&self, kind: TicketType) -> f64 {
        match kind {
            TicketType::Incident => self.incident,
            TicketType::Bug => self.bug,
            TicketType::Question => self.question,
            TicketType::FeatureRequest => self.feature_request,
            TicketType::Maintenance => self.maintenance,
        }
    }

    /// The multipliers as (name, value), for validation messages.
    pub fn entries(&self) -> [(&'static str, f64); 5] {
        [
            ("Incident", self.incident),
            ("Bug", self.bug),
            ("Question", self.question),
            ("Feature Request", self.feature_request),
            ("Maintenance", self.maintenance),
        ]
    }
}

/// The rules of an SLA policy, without storage concerns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyRules {
    /// Targets by priority.
    pub targets: PriorityTargets,
    /// Resolution multipliers by type.
    pub multipliers: TypeMultipliers,
    /// At risk when less than this share of the target is left (percent)...
    pub at_risk_percent: u32,
    /// ...or less than this many minutes, whichever is larger.
    pub at_risk_min_minutes: u32,
}

impl PolicyRules {
    /// Seed 000's numbers; at risk under max(20 %, 1 hour).
    pub fn seed() -> Self {
        Self {
            targets: PriorityTargets::seed(),
            multipliers: TypeMultipliers::seed(),
            at_risk_percent: 20,
            at_risk_min_minutes: 60,
        }
    }

    /// (response, resolution) targets of a ticket, in whole seconds.
    pub fn targets_for(&self, priority: Priority, kind: TicketType) -> (Duration, Duration) {
        let t = self.targets.get(priority);
        let response = Duration::minutes(i64::from(t.response_minutes));
        let seconds = f64::from(t.resolution_minutes) * 60.0 * self.multipliers.get(kind);
        let resolution = Duration::seconds(seconds.round().max(0.0) as i64);
        (response, resolution)
    }

    /// How much must be left of `target` for a ticket not to be at risk.
    pub fn threshold(&self, target: Duration) -> Duration {
        threshold(target, self.at_risk_percent, self.at_risk_min_minutes)
    }
}

/// `max(percent % of target, min_minutes)`.
pub fn threshold(target: Duration, percent: u32, min_minutes: u32) -> Duration {
    let share = Duration::seconds(target.num_seconds() * i64::from(percent) / 100);
    share.max(Duration::minutes(i64::from(min_minutes)))
}

/// SLA status of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SlaStatus {
    /// Time to spare.
    #[serde(rename = "On Track")]
    OnTrack,
    /// Less than the threshold left on a pending target.
    #[serde(rename = "At Risk")]
    AtRisk,
    /// The first reply came late, or has not come and is late.
    #[serde(rename = "Response Breached")]
    ResponseBreached,
    /// Resolution came late, or has not come and is late.
    #[serde(rename = "Resolution Breached")]
    ResolutionBreached,
}

/// One target (response or resolution) of one ticket, evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetState {
    /// When it is due; `None` while a pause holds the clock before it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// When it becomes at risk; `None` while a pause holds the clock before then.
    pub risk_at: Option<DateTime<Utc>>,
    /// Met late, or not met and overdue.
    pub breached: bool,
    /// Not met, not breached, and less than the threshold left.
    pub at_risk: bool,
}

/// What one target of a ticket is measured with.
#[derive(Debug, Clone, Copy)]
pub struct TargetClock<'a> {
    /// Working calendar.
    pub calendar: &'a Calendar,
    /// When the clock started (ticket creation).
    pub start: DateTime<Utc>,
    /// Business time allowed.
    pub target: Duration,
    /// At risk under this much left.
    pub threshold: Duration,
    /// Clock stops.
    pub pauses: &'a [Pause],
    /// When the target was met (first reply, resolution), if it was.
    pub met_at: Option<DateTime<Utc>>,
}

impl TargetClock<'_> {
    /// The target's state at `now`.
    pub fn evaluate(&self, now: DateTime<Utc>) -> TargetState {
        let due_at =
            self.calendar
                .add_business_duration_paused(self.start, self.target, self.pauses);
        let lead = (self.target - self.threshold).max(Duration::zero());
        let risk_at = self
            .calendar
            .add_business_duration_paused(self.start, lead, self.pauses);
        let reference = self.met_at.unwrap_or(now);
        let breached = due_at.is_some_and(|due| reference > due);
        let at_risk = self.met_at.is_none() && !breached && risk_at.is_some_and(|r| now >= r);
        TargetState {
            due_at,
            risk_at,
            breached,
            at_risk,
        }
    }
}

/// The ticket's status from its two targets: a resolution breach outranks a response
/// breach, which outranks being at risk.
pub fn overall_status(response: &TargetState, resolution: &TargetState) -> SlaStatus {
    if resolution.breached {
        SlaStatus::ResolutionBreached
    } else if response.breached {
        SlaStatus::ResponseBreached
    } else if response.at_risk || resolution.at_risk {
        SlaStatus::AtRisk
    } else {
        SlaStatus::OnTrack
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Offset;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid instant")
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
    }

    fn hours(start: u16, end: u16) -> Vec<DayInterval> {
        vec![DayInterval {
            start: start * 60,
            end: end * 60,
        }]
    }

    /// Monday to Friday 09:00–17:00 in `tz`.
    fn office(tz: &str, holidays: &[&str]) -> Calendar {
        let day = hours(9, 17);
        Calendar::new(
            tz,
            [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                vec![],
                vec![],
            ],
            holidays.iter().map(|d| date(d)),
        )
        .expect("valid calendar")
    }

    #[test]
    fn always_is_elapsed_time() {
        let cal = Calendar::always();
        let start = utc("2026-03-07T22:13:00Z");
        assert_eq!(
            cal.add_business_duration(start, Duration::hours(72)),
            Some(start + Duration::hours(72))
        );
        assert_eq!(
            cal.business_duration_between(start, start + Duration::minutes(90)),
            Duration::minutes(90)
        );
    }

    #[test]
    fn deadline_skips_the_weekend() {
        // Friday 2026-12-04 16:00 in Berlin (UTC+1) + 2 business hours = Monday 10:00.
        let cal = office("Europe/Berlin", &[]);
        let start = utc("2026-12-04T15:00:00Z");
        assert_eq!(
            cal.add_business_duration(start, Duration::hours(2)),
            Some(utc("2026-12-07T09:00:00Z"))
        );
        // Created on Saturday: the clock starts on Monday at 09:00.
        assert_eq!(
            cal.add_business_duration(utc("2026-12-05T12:00:00Z"), Duration::hours(1)),
            Some(utc("2026-12-07T09:00:00Z"))
        );
        assert_eq!(
            cal.business_duration_between(start, utc("2026-12-07T09:00:00Z")),
            Duration::hours(2)
        );
    }

    #[test]
    fn deadline_skips_holidays() {
        // Thursday 2026-12-24 16:00 Berlin; 24th is worked, 25th (Fri) a holiday, then
        // the weekend: 4 business hours end on Monday 2026-12-28 at 12:00 local.
        let cal = office("Europe/Berlin", &["2026-12-25"]);
        assert_eq!(
            cal.add_business_duration(utc("2026-12-24T15:00:00Z"), Duration::hours(4)),
            Some(utc("2026-12-28T11:00:00Z"))
        );
    }

    #[test]
    fn deadline_across_a_dst_change() {
        // New York moves to EDT on Sunday 2026-03-08. Friday 16:00 EST (21:00Z) + 2h
        // business time = Monday 10:00 EDT (14:00Z).
        let cal = office("America/New_York", &[]);
        assert_eq!(
            cal.add_business_duration(utc("2026-03-06T21:00:00Z"), Duration::hours(2)),
            Some(utc("2026-03-09T14:00:00Z"))
        );
        // 24×7 in New York across the jump: the local night is one hour shorter, but
        // business time is still elapsed time.
        let week = std::array::from_fn(|_| hours(0, 24));
        let nyc = Calendar::new("America/New_York", week, []).expect("valid");
        let start = utc("2026-03-08T05:00:00Z"); // 00:00 EST
        assert_eq!(
            nyc.add_business_duration(start, Duration::hours(5)),
            Some(start + Duration::hours(5))
        );
        // An interval starting in the skipped hour starts at the jump.
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        week[6] = vec![DayInterval {
            start: 2 * 60 + 30,
            end: 4 * 60,
        }];
        let night = Calendar::new("America/New_York", week, []).expect("valid");
        assert_eq!(
            night.business_duration_between(
                utc("2026-03-08T00:00:00Z"),
                utc("2026-03-09T00:00:00Z")
            ),
            Duration::hours(1) // 03:00 EDT to 04:00 EDT
        );
    }

    #[test]
    fn pauses_shift_the_deadline_by_paused_business_time() {
        let cal = office("UTC", &[]);
        let start = utc("2026-12-07T09:00:00Z"); // Monday
        let pause = Pause {
            start: utc("2026-12-07T10:00:00Z"),
            end: Some(utc("2026-12-07T12:30:00Z")),
        };
        assert_eq!(
            cal.add_business_duration_paused(start, Duration::hours(4), &[pause]),
            Some(utc("2026-12-07T15:30:00Z"))
        );
        // While the pause lasts there is no deadline.
        let open = Pause {
            start: pause.start,
            end: None,
        };
        assert_eq!(
            cal.add_business_duration_paused(start, Duration::hours(4), &[open]),
            None
        );
        // A deadline reached before the pause does not move.
        assert_eq!(
            cal.add_business_duration_paused(start, Duration::minutes(30), &[open]),
            Some(utc("2026-12-07T09:30:00Z"))
        );
        // A pause at night costs nothing.
        let night = Pause {
            start: utc("2026-12-07T18:00:00Z"),
            end: Some(utc("2026-12-08T08:00:00Z")),
        };
        assert_eq!(
            cal.add_business_duration_paused(start, Duration::hours(10), &[night]),
            Some(utc("2026-12-08T11:00:00Z"))
        );
    }

    #[test]
    fn calendars_are_validated() {
        let bad_zone = Calendar::new("Mars/Olympus", Default::default(), []);
        assert_eq!(bad_zone.expect_err("zone").field, "time_zone");
        let empty = Calendar::new("UTC", Default::default(), []);
        assert_eq!(empty.expect_err("empty").field, "weekly_hours");
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        week[0] = vec![
            DayInterval {
                start: 60,
                end: 180,
            },
            DayInterval {
                start: 120,
                end: 240,
            },
        ];
        assert_eq!(
            Calendar::new("UTC", week, []).expect_err("overlap").field,
            "weekly_hours.mon"
        );
        let spec = WeeklyHours {
            tue: vec![HoursSpan {
                start: "9:00".into(),
                end: "17:00".into(),
            }],
            ..Default::default()
        };
        assert_eq!(
            Calendar::from_spec("UTC", &spec, &[])
                .expect_err("format")
                .field,
            "weekly_hours.tue[0]"
        );
        assert!(Calendar::from_spec("Asia/Riyadh", &WeeklyHours::always(), &[]).is_ok());
    }

    #[test]
    fn seed_targets_and_status() {
        let rules = PolicyRules::seed();
        assert_eq!(
            rules.targets_for(Priority::Critical, TicketType::Incident),
            (Duration::hours(1), Duration::hours(4))
        );
        assert_eq!(
            rules.targets_for(Priority::Medium, TicketType::Bug).1,
            Duration::minutes(24 * 60 * 8 / 10)
        );
        assert_eq!(
            rules
                .targets_for(Priority::Low, TicketType::FeatureRequest)
                .1,
            Duration::hours(108)
        );
        // Threshold: the larger of 20 % and one hour.
        assert_eq!(rules.threshold(Duration::hours(4)), Duration::hours(1));
        assert_eq!(rules.threshold(Duration::hours(24)), Duration::minutes(288));

        let cal = Calendar::always();
        let start = utc("2026-12-07T09:00:00Z");
        let clock = TargetClock {
            calendar: &cal,
            start,
            target: Duration::hours(4),
            threshold: Duration::hours(1),
            pauses: &[],
            met_at: None,
        };
        let on_track = clock.evaluate(start + Duration::hours(2));
        assert!(!on_track.at_risk && !on_track.breached);
        assert_eq!(on_track.risk_at, Some(start + Duration::hours(3)));
        assert!(clock.evaluate(start + Duration::minutes(190)).at_risk);
        let late = clock.evaluate(start + Duration::minutes(241));
        assert!(late.breached && !late.at_risk);
        let met = TargetClock {
            met_at: Some(start + Duration::hours(5)),
            ..clock
        };
        assert!(met.evaluate(start + Duration::hours(9)).breached);
        assert_eq!(
            overall_status(&on_track, &late),
            SlaStatus::ResolutionBreached
        );
        assert_eq!(
            overall_status(&late, &on_track),
            SlaStatus::ResponseBreached
        );
    }

    // ------------------------------------------------------------------ properties

    const ZONES: [&str; 5] = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe", // 30-minute DST shift
        "Asia/Kolkata",
    ];

    fn arb_day() -> impl Strategy<Value = Vec<DayInterval>> {
        // Up to three intervals on a 15-minute grid.
        prop::collection::vec((0u16..32, 1u16..32), 0..3).prop_map(|raw| {
            let mut out: Vec<DayInterval> = Vec::new();
            let mut cursor = 0u16;
            for (gap, len) in raw {
                let start = cursor + gap * 15;
                let end = (start + len * 15).min(MINUTES_PER_DAY);
                if start >= MINUTES_PER_DAY || end <= start {
                    break;
                }
                out.push(DayInterval { start, end });
                cursor = end + 15;
            }
            out
        })
    }

    fn arb_calendar() -> impl Strategy<Value = Calendar> {
        (
            0..ZONES.len(),
            prop::array::uniform7(arb_day()),
            prop::collection::vec(0i64..60, 0..4),
        )
            .prop_map(|(zone, mut week, holiday_offsets)| {
                if week.iter().all(Vec::is_empty) {
                    week[2] = hours(9, 17);
                }
                let base = date("2026-03-01");
                let holidays = holiday_offsets
                    .into_iter()
                    .map(|d| base + Duration::days(d));
                Calendar::new(ZONES[zone], week, holidays).expect("generated calendar is valid")
            })
    }

    fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
        // Spring 2026 (covers the March DST changes and Lord Howe's April one), to the second.
        (0i64..(75 * 86_400)).prop_map(|s| utc("2026-03-01T00:00:00Z") + Duration::seconds(s))
    }

    fn arb_pauses() -> impl Strategy<Value = Vec<Pause>> {
        prop::collection::vec((0i64..(40 * 86_400), 1i64..(3 * 86_400)), 0..4).prop_map(|raw| {
            raw.into_iter()
                .map(|(s, len)| {
                    let start = utc("2026-03-01T00:00:00Z") + Duration::seconds(s);
                    Pause {
                        start,
                        end: Some(start + Duration::seconds(len)),
                    }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn deadlines_lie_in_working_time(cal in arb_calendar(), start in arb_instant(), minutes in 0i64..(3 * 24 * 60)) {
            let due = cal.add_business_duration(start, Duration::minutes(minutes)).expect("reachable");
            prop_assert!(due >= start);
            let at_work = cal.is_working(due);
            let end_of_interval = cal.is_working(due - Duration::seconds(1));
            // Within two hours of a clock change, an interval spanning a repeated local
            // hour is longer than its wall-clock reading (see the module notes).
            let tz = cal.time_zone();
            let offset = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix();
            let near_change = offset(due - Duration::hours(2)) != offset(due + Duration::hours(2));
            prop_assert!(at_work || end_of_interval || near_change, "{due} is outside working hours");
            // And exactly the asked business time lies between start and deadline.
            prop_assert_eq!(cal.business_duration_between(start, due), Duration::minutes(minutes));
        }

        #[test]
        fn monotonic_in_duration(cal in arb_calendar(), start in arb_instant(), a in 0i64..5000, b in 0i64..5000) {
            let (short, long) = (a.min(b), a.max(b));
            let d1 = cal.add_business_duration(start, Duration::minutes(short)).expect("reachable");
            let d2 = cal.add_business_duration(start, Duration::minutes(long)).expect("reachable");
            prop_assert!(d1 <= d2);
        }

        #[test]
        fn pausing_never_shortens(cal in arb_calendar(), start in arb_instant(), minutes in 0i64..5000, pauses in arb_pauses(), extra in arb_pauses()) {
            let target = Duration::minutes(minutes);
            let plain = cal.add_business_duration(start, target).expect("reachable");
            let paused = cal.add_business_duration_paused(start, target, &pauses).expect("closed pauses");
            prop_assert!(paused >= plain);
            let mut more = pauses.clone();
            more.extend(extra);
            let more_paused = cal.add_business_duration_paused(start, target, &more).expect("closed pauses");
            prop_assert!(more_paused >= paused);
            // The deadline moves by exactly the business time paused before it.
            let between = cal.business_duration_between_paused(start, paused, &pauses);
            prop_assert_eq!(between, target);
        }

        #[test]
        fn same_answer_from_any_zone(cal in arb_calendar(), start in arb_instant(), minutes in 0i64..5000, zone in 0..ZONES.len()) {
            let tz: Tz = ZONES[zone].parse().expect("zone");
            // The same instant written in another zone (and read back from RFC 3339).
            let written = start.with_timezone(&tz).to_rfc3339();
            let read = DateTime::parse_from_rfc3339(&written).expect("rfc3339").with_timezone(&Utc);
            prop_assert_eq!(
                cal.add_business_duration(start, Duration::minutes(minutes)),
                cal.add_business_duration(read, Duration::minutes(minutes))
            );
            let offset = chrono::FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
            let shifted = start.with_timezone(&offset);
            prop_assert_eq!(
                cal.business_duration_between(shifted.with_timezone(&Utc), start + Duration::days(3)),
                cal.business_duration_between(start, start + Duration::days(3))
            );
        }
    }
}
