//! Domain events through a transactional outbox.
//!
//! A service records an event with [`record`] inside the same [`Tx`] as the change it
//! describes, so an event exists if and only if the change committed. The
//! [`EventDispatcher`] delivers committed events to in-process subscribers:
//!
//! - **at least once**: a delivery is marked only after the handler succeeded; a handler
//!   that fails, or a process that dies mid-way, gets the event again;
//! - **in order per record**: events are taken in commit-sequence order, and once an event
//!   of a record fails, later events of that record wait for the next pass;
//! - **surviving restarts**: what is undelivered is found in the table at start.
//!
//! Handlers must therefore be idempotent (keyed on the event id).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use tokio::sync::watch;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::db::{Backend, Db, PreparedArgs, Tx};

/// The record an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventRecord {
    /// Record type (`deal`, `ticket`, ...).
    #[serde(rename = "type")]
    pub record_type: String,
    /// Record id.
    pub id: Uuid,
}

/// The stable envelope of a domain event (DESIGN.md section 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DomainEvent {
    /// Event id (UUIDv7).
    pub id: Uuid,
    /// `<entity>.<verb>`, e.g. `deal.stage_changed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Owning organisation.
    pub org_id: Uuid,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (user id, `api_key:<id>`, `system`), if known.
    pub actor: Option<String>,
    /// The record it is about.
    pub record: EventRecord,
    /// Event-specific payload.
    pub data: serde_json::Value,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `<entity>.<verb>`.
    pub event_type: String,
    /// Owning organisation.
    pub org_id: Uuid,
    /// Who did it.
    pub actor: Option<String>,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: Uuid,
    /// Payload.
    pub data: serde_json::Value,
}

/// Appends `event` to the outbox inside `tx`; it is delivered only if `tx` commits.
pub async fn record(
    tx: &mut Tx,
    clock: &SharedClock,
    event: NewEvent,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let occurred_at = clock.now();
    crate::on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO outbox_events (id, org_id, event_type, record_type, record_id, actor, occurred_at, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(event.org_id)
        .bind(&event.event_type)
        .bind(&event.record_type)
        .bind(event.record_id)
        .bind(&event.actor)
        .bind(occurred_at)
        .bind(Json(&event.data))
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    tx.mark_events_recorded();
    Ok(id)
}

/// Appends many events to the outbox inside `tx` with multi-row inserts (bulk imports);
/// the same as calling [`record`] for each, in order, at a fraction of the cost.
pub async fn record_many(
    tx: &mut Tx,
    clock: &SharedClock,
    events: Vec<NewEvent>,
) -> Result<(), sqlx::Error> {
    let prepared = prepare_many(tx.backend(), clock.now(), events)?;
    record_prepared(tx, prepared).await
}

/// Events whose insert statements are built, ready for [`record_prepared`].
pub struct PreparedEvents {
    statements: Vec<(String, PreparedArgs)>,
}

/// Builds the multi-row inserts of `events` for `backend` without touching the database,
/// so a bulk write can build them on another thread while the database is busy.
pub fn prepare_many(
    backend: Backend,
    occurred_at: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Result<PreparedEvents, sqlx::Error> {
    // 8 parameters a row: 500 rows stay under both backends' parameter limits.
    const CHUNK: usize = 500;
    let mut statements = Vec::with_capacity(events.len().div_ceil(CHUNK));
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut args = PreparedArgs::new(backend);
        let mut rows = 0;
        for event in events.by_ref().take(CHUNK) {
            args.add(Uuid::now_v7())?;
            args.add(event.org_id)?;
            args.add(event.event_type)?;
            args.add(event.record_type)?;
            args.add(event.record_id)?;
            args.add(event.actor)?;
            args.add(occurred_at)?;
            args.add(Json(event.data))?;
            rows += 1;
        }
        let text = format!(
            "INSERT INTO outbox_events (id, org_id, event_type, record_type, record_id, actor, occurred_at, data) VALUES {}",
            crate::db::values_placeholders(backend, rows, 8)
        );
        statements.push((text, args));
    }
    Ok(PreparedEvents { statements })
}

/// Appends events built by [`prepare_many`] to the outbox inside `tx`.
pub async fn record_prepared(tx: &mut Tx, prepared: PreparedEvents) -> Result<(), sqlx::Error> {
    if prepared.statements.is_empty() {
        return Ok(());
    }
    for (text, args) in prepared.statements {
        tx.execute_prepared(text, args).await?;
    }
    tx.mark_events_recorded();
    Ok(())
}

/// What a handler returns: `Err` with a reason means "deliver again later".
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

type Handler = Arc<dyn Fn(DomainEvent) -> HandlerFuture + Send + Sync>;

struct Subscriber {
    name: String,
    handler: Handler,
    /// Every event with a sequence number at or below this one is known to be delivered,
    /// so a pass need not look at them again (see [`EventDispatcher::advance_floor`]).
    floor: AtomicI64,
    /// The highest sequence number this process has looked at. An ordinary pass reads
    /// only events above it; a full pass reads from the floor (see
    /// [`EventDispatcher::deliver_pending`]).
    high_water: AtomicI64,
    /// The next pass must read from the floor: at start, and after a handler failed.
    rescan: AtomicBool,
    /// When the last full pass ended.
    last_full_pass: Mutex<Option<Instant>>,
    /// PostgreSQL: sequence numbers an ordinary pass skipped over (a transaction that took
    /// one may commit it later), with when each was first missed. Every pass looks them up
    /// until they appear or are older than [`OPEN_TRANSACTION_BOUND`].
    gaps: Mutex<BTreeMap<i64, DateTime<Utc>>>,
    /// PostgreSQL: the highest sequence number looked at for gaps (-1: not started; the
    /// first pass starts it at the newest event, which that full pass covers).
    gaps_checked: AtomicI64,
}

/// How often a pass reads every event above the floor rather than only the new ones: a
/// safety net. On PostgreSQL the floor trails [`OPEN_TRANSACTION_BOUND`] behind (a
/// transaction may commit a lower sequence number after a higher one is visible), so a
/// full pass is an anti-join over every event of the last half hour (0.6 s of PostgreSQL
/// CPU after two 100,000-contact imports, once every 10 s while that was the period).
/// Events committed late below the high-water mark are found through the gaps the
/// ordinary passes saw instead (`Subscriber::gaps`), on the next pass.
pub const FULL_PASS_EVERY: Duration = Duration::from_secs(600);

/// How long a PostgreSQL transaction is assumed to stay open at most: the floor passes
/// only events older than this, and a gap younger than this may still fill.
const OPEN_TRANSACTION_BOUND: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// More missing numbers than this between two events read (a burst of rolled-back
/// transactions) are not tracked one by one: the next pass is a full one instead.
const MAX_TRACKED_GAPS: i64 = 10_000;

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    id: Uuid,
    org_id: Uuid,
    event_type: String,
    record_type: String,
    record_id: Uuid,
    actor: Option<String>,
    occurred_at: DateTime<Utc>,
    data: Json<serde_json::Value>,
}

/// An event looked up in a gap, and whether it was delivered already.
#[derive(sqlx::FromRow)]
struct GapRow {
    #[sqlx(flatten)]
    event: EventRow,
    delivered: bool,
}

impl From<EventRow> for DomainEvent {
    fn from(row: EventRow) -> Self {
        DomainEvent {
            id: row.id,
            event_type: row.event_type,
            org_id: row.org_id,
            occurred_at: row.occurred_at,
            actor: row.actor,
            record: EventRecord {
                record_type: row.record_type,
                id: row.record_id,
            },
            data: row.data.0,
        }
    }
}

/// What one batch did.
struct BatchOutcome {
    /// Deliveries made.
    made: usize,
    /// The batch was full: there may be more.
    more: bool,
    /// The highest sequence number read.
    last_seq: Option<i64>,
    /// A handler failed (or an event waited behind a failed one of its record).
    failed: bool,
}

/// Delivers committed outbox events to in-process subscribers.
pub struct EventDispatcher {
    db: Db,
    clock: SharedClock,
    subscribers: Vec<Subscriber>,
    poll_interval: Duration,
    full_pass_every: Duration,
    batch_size: i64,
}

impl EventDispatcher {
    /// A dispatcher with no subscribers yet.
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self {
            db,
            clock,
            subscribers: Vec::new(),
            poll_interval: Duration::from_secs(1),
            full_pass_every: FULL_PASS_EVERY,
            batch_size: 1_000,
        }
    }

    /// How often to look for undelivered events when no commit signals one.
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// How often a pass reads every event above the floor (default [`FULL_PASS_EVERY`]).
    pub fn with_full_pass_every(mut self, every: Duration) -> Self {
        self.full_pass_every = every;
        self
    }

    /// Adds a subscriber. `name` is its durable identity: renaming it redelivers everything.
    pub fn subscribe<F, Fut>(&mut self, name: impl Into<String>, handler: F)
    where
        F: Fn(DomainEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.subscribers.push(Subscriber {
            name: name.into(),
            handler: Arc::new(move |event| Box::pin(handler(event))),
            floor: AtomicI64::new(0),
            high_water: AtomicI64::new(0),
            rescan: AtomicBool::new(true),
            last_full_pass: Mutex::new(None),
            gaps: Mutex::new(BTreeMap::new()),
            gaps_checked: AtomicI64::new(-1),
        });
    }

    /// One pass: delivers every undelivered event to every subscriber; returns the number
    /// of deliveries made.
    ///
    /// A pass reads the events above the subscriber's high-water mark; every
    /// [`FULL_PASS_EVERY`] (see [`EventDispatcher::with_full_pass_every`]), at start and after a handler failed, it reads everything above
    /// the floor instead (events committed late below the mark, and retries).
    pub async fn deliver_pending(&self) -> Result<usize, sqlx::Error> {
        let mut delivered = 0;
        for subscriber in &self.subscribers {
            match self.deliver_to(subscriber).await {
                Ok(made) => delivered += made,
                Err(err) => {
                    // Whatever was half done, the next pass reads from the floor.
                    subscriber.rescan.store(true, Ordering::Release);
                    return Err(err);
                }
            }
        }
        Ok(delivered)
    }

    /// One subscriber's share of [`Self::deliver_pending`].
    async fn deliver_to(&self, subscriber: &Subscriber) -> Result<usize, sqlx::Error> {
        let mut delivered = 0;
        let floor = subscriber.floor.load(Ordering::Relaxed);
        let full = subscriber.rescan.swap(false, Ordering::AcqRel)
            || subscriber.last_full_pass.lock().map_or(true, |last| {
                last.is_none_or(|at| at.elapsed() >= self.full_pass_every)
            });
        // The newest event before a full pass: once the pass is done, everything visible
        // up to it was read, so ordinary passes can start above it (after a restart with
        // nothing to deliver the mark would otherwise stay at 0).
        let newest = if full { self.newest_event().await? } else { 0 };
        if let crate::db::Pool::Postgres(pool) = self.db.pool() {
            // The first pass is a full one: gaps are looked for above what it covers.
            if subscriber.gaps_checked.load(Ordering::Relaxed) < 0 {
                subscriber.gaps_checked.store(newest, Ordering::Relaxed);
            }
            self.find_gaps(subscriber, pool).await?;
            // A full pass reads every gap that filled anyway.
            if !full {
                delivered += self.deliver_gaps(subscriber, pool).await?;
            }
        }
        let mut after = if full {
            floor
        } else {
            floor.max(subscriber.high_water.load(Ordering::Relaxed))
        };
        loop {
            let batch = self.deliver_batch(subscriber, after).await?;
            delivered += batch.made;
            if batch.failed {
                subscriber.rescan.store(true, Ordering::Release);
            }
            if let Some(last) = batch.last_seq {
                subscriber.high_water.fetch_max(last, Ordering::Relaxed);
                after = last;
            }
            if !batch.more || batch.made == 0 {
                break;
            }
        }
        if full {
            subscriber.high_water.fetch_max(newest, Ordering::Relaxed);
            if let Ok(mut last) = subscriber.last_full_pass.lock() {
                *last = Some(Instant::now());
            }
        }
        Ok(delivered)
    }

    /// The highest sequence number visible now (0 when there is none).
    async fn newest_event(&self) -> Result<i64, sqlx::Error> {
        let newest: Option<i64> = crate::on_pool!(self.db, |pool| {
            sqlx::query_scalar("SELECT MAX(seq) FROM outbox_events")
                .fetch_one(pool)
                .await
        })?;
        Ok(newest.unwrap_or(0))
    }

    /// Delivers up to one batch of the events above `after`.
    async fn deliver_batch(
        &self,
        subscriber: &Subscriber,
        after: i64,
    ) -> Result<BatchOutcome, sqlx::Error> {
        let rows: Vec<EventRow> = crate::on_pool!(self.db, |pool| {
            sqlx::query_as(
                "SELECT seq, id, org_id, event_type, record_type, record_id, actor, occurred_at, data \
                 FROM outbox_events e \
                 WHERE e.seq > $3 \
                 AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.subscriber = $1 AND d.event_seq = e.seq) \
                 ORDER BY seq LIMIT $2",
            )
            .bind(&subscriber.name)
            .bind(self.batch_size)
            .bind(after)
            .fetch_all(pool)
            .await
        })?;
        let full = rows.len() as i64 == self.batch_size;
        let last_seq = rows.last().map(|r| r.seq);
        let (made, failed) = self.deliver_rows(subscriber, rows, true).await?;
        // A batch where everything was blocked must not spin: report no progress.
        Ok(BatchOutcome {
            made,
            more: full && made > 0,
            last_seq,
            failed,
        })
    }

    /// PostgreSQL: records the sequence numbers missing among the events committed since
    /// the last look (`Subscriber::gaps_checked`); each event is read here once, by its
    /// number only. A missing number is an event whose transaction has not committed yet
    /// (or rolled back: it expires after [`OPEN_TRANSACTION_BOUND`]).
    async fn find_gaps(
        &self,
        subscriber: &Subscriber,
        pool: &sqlx::PgPool,
    ) -> Result<(), sqlx::Error> {
        let checked = subscriber.gaps_checked.load(Ordering::Relaxed);
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM outbox_events WHERE seq > $1 ORDER BY seq LIMIT 10000",
        )
        .bind(checked)
        .fetch_all(pool)
        .await?;
        let Some(last) = seqs.last().copied() else {
            return Ok(());
        };
        let now = self.clock.now();
        if let Ok(mut gaps) = subscriber.gaps.lock() {
            let mut expected = checked + 1;
            for seq in seqs {
                let missing = seq - expected;
                if missing > 0 && gaps.len() as i64 + missing > MAX_TRACKED_GAPS {
                    // Too many to look up one by one: read everything from the floor.
                    subscriber.rescan.store(true, Ordering::Release);
                } else {
                    for number in expected..seq {
                        gaps.entry(number).or_insert(now);
                    }
                }
                expected = seq + 1;
            }
        }
        subscriber.gaps_checked.store(last, Ordering::Relaxed);
        Ok(())
    }

    /// Delivers the events that appeared in the subscriber's gaps since the last pass, and
    /// forgets the gaps that filled or are too old to fill.
    async fn deliver_gaps(
        &self,
        subscriber: &Subscriber,
        pool: &sqlx::PgPool,
    ) -> Result<usize, sqlx::Error> {
        let wanted: Vec<i64> = {
            let Ok(mut gaps) = subscriber.gaps.lock() else {
                return Ok(0);
            };
            let oldest = self.clock.now() - OPEN_TRANSACTION_BOUND;
            gaps.retain(|_, missed_at| *missed_at >= oldest);
            gaps.keys().copied().collect()
        };
        if wanted.is_empty() {
            return Ok(0);
        }
        let rows: Vec<(EventRow, bool)> = sqlx::query_as::<_, GapRow>(
            "SELECT e.seq, e.id, e.org_id, e.event_type, e.record_type, e.record_id, e.actor, e.occurred_at, e.data, \
             EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.subscriber = $1 AND d.event_seq = e.seq) AS delivered \
             FROM outbox_events e WHERE e.seq = ANY($2) ORDER BY e.seq",
        )
        .bind(&subscriber.name)
        .bind(&wanted)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.event, r.delivered))
        .collect();
        if let Ok(mut gaps) = subscriber.gaps.lock() {
            for (row, _) in &rows {
                gaps.remove(&row.seq);
            }
        }
        let late: Vec<EventRow> = rows
            .into_iter()
            .filter(|(_, delivered)| !delivered)
            .map(|(row, _)| row)
            .collect();
        let (made, failed) = self.deliver_rows(subscriber, late, false).await?;
        if failed {
            subscriber.rescan.store(true, Ordering::Release);
        }
        Ok(made)
    }

    /// Runs the handler on `rows` (in order, a record's later events waiting behind a
    /// failed one) and marks what succeeded; returns (deliveries made, whether any event
    /// was left undelivered). `move_floor`: the rows are a run from the floor upwards.
    ///
    /// The delivery rows are written in one statement after the handlers ran (a crash in
    /// between redelivers, which at-least-once allows): one write per batch instead of one
    /// per event keeps a 100,000-event import from queueing 100,000 write transactions
    /// behind everyone else's.
    async fn deliver_rows(
        &self,
        subscriber: &Subscriber,
        rows: Vec<EventRow>,
        move_floor: bool,
    ) -> Result<(usize, bool), sqlx::Error> {
        let mut blocked: HashSet<(String, Uuid)> = HashSet::new();
        let mut delivered: Vec<i64> = Vec::with_capacity(rows.len());
        // The rows up to the first one not delivered, for the floor.
        let mut settled: Option<(i64, DateTime<Utc>)> = None;
        let mut unsettled = false;
        for row in rows {
            let key = (row.record_type.clone(), row.record_id);
            if blocked.contains(&key) {
                unsettled = true;
                continue;
            }
            let (seq, occurred_at) = (row.seq, row.occurred_at);
            let event = DomainEvent::from(row);
            let event_id = event.id;
            let event_type = event.event_type.clone();
            match (subscriber.handler)(event).await {
                Ok(()) => {
                    delivered.push(seq);
                    if !unsettled {
                        settled = Some((seq, occurred_at));
                    }
                }
                Err(reason) => {
                    tracing::warn!(
                        subscriber = %subscriber.name, event_id = %event_id, event_type = %event_type,
                        %reason, "event handler failed; will retry"
                    );
                    blocked.insert(key);
                    unsettled = true;
                }
            }
        }
        if !delivered.is_empty() {
            let now = self.clock.now();
            let backend = self.db.backend();
            // A transaction, so that on SQLite it takes its turn in the writers' queue.
            let mut tx = self.db.begin().await?;
            // 3 parameters a row; batches are at most a thousand rows.
            for chunk in delivered.chunks(1_000) {
                let text = format!(
                    "INSERT INTO outbox_deliveries (subscriber, event_seq, delivered_at) VALUES {} ON CONFLICT DO NOTHING",
                    crate::db::values_placeholders(backend, chunk.len(), 3)
                );
                crate::on_tx!(tx, |conn| {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(text.clone()));
                    for seq in chunk {
                        query = query.bind(&subscriber.name).bind(*seq).bind(now);
                    }
                    query.execute(conn).await.map(|r| r.rows_affected())
                })?;
            }
            tx.commit().await?;
        }
        if move_floor && let Some((seq, occurred_at)) = settled {
            self.advance_floor(subscriber, seq, occurred_at);
        }
        Ok((delivered.len(), unsettled))
    }

    /// Moves a subscriber's floor up to `seq`, the last of a run of delivered events.
    ///
    /// On SQLite, writers are serialised, so sequence numbers become visible in order and
    /// nothing can appear below a delivered one later. On PostgreSQL a transaction that
    /// took a lower number may still commit after a higher one is visible; the floor only
    /// passes events recorded long enough ago that no transaction can still be open.
    fn advance_floor(&self, subscriber: &Subscriber, seq: i64, occurred_at: DateTime<Utc>) {
        let safe = match self.db.backend() {
            crate::db::Backend::Sqlite => true,
            crate::db::Backend::Postgres => occurred_at < self.clock.now() - OPEN_TRANSACTION_BOUND,
        };
        if safe {
            subscriber.floor.fetch_max(seq, Ordering::Relaxed);
        }
    }

    /// Runs until `shutdown` turns true: delivers at start (events left from before a
    /// restart), after every commit that recorded events, and every poll interval.
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let wake = self.db.events_committed();
        tokio::spawn(async move {
            loop {
                if let Err(err) = self.deliver_pending().await {
                    tracing::warn!(error = %err, "event delivery pass failed; will retry");
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(self.poll_interval) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() || *shutdown.borrow() {
                            break;
                        }
                    }
                }
            }
        })
    }
}
