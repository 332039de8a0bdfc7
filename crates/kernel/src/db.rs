//! One database handle for both backends.
//!
//! SQL is written once with `$1` placeholders (sqlx binds `$N` by number on SQLite too) and
//! executed through [`on_pool!`](crate::on_pool) / [`on_tx!`](crate::on_tx), which expand the
//! same expression once per backend. The few dialect differences (upserts, date maths,
//! full-text search) sit side by side in the module that owns the table, switched on
//! [`Backend`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Lower-case name used in logs, metrics and `/ready`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Errors opening or using the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres:`/`postgresql:` or does not parse.
    #[error("DATABASE_URL `{url}` is not valid: {reason}")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The folder for the SQLite file could not be created.
    #[error("cannot create database folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Any error from the driver.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// Pool settings taken from configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Maximum connections for PostgreSQL.
    pub postgres_max_connections: u32,
    /// Maximum connections for SQLite (readers run in parallel under WAL; writers queue).
    pub sqlite_max_connections: u32,
    /// How long a connection waits for SQLite's write lock before giving up.
    pub sqlite_busy_timeout: Duration,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            postgres_max_connections: 16,
            sqlite_max_connections: 8,
            sqlite_busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The pool of one of the two backends.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite pool.
    Sqlite(SqlitePool),
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// The database handle every service receives: a pool plus the signal that wakes the
/// event dispatcher when a transaction that recorded events commits.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
    events_committed: Arc<Notify>,
    /// SQLite only: write transactions of this process queue here, first come first
    /// served, before `BEGIN IMMEDIATE`. SQLite's own busy handler retries with growing
    /// sleeps in no particular order, so under a steady stream of writers an unlucky one
    /// could starve past the busy timeout (a 500 "database is locked" seen at ~700
    /// deal creations/s); a fair queue bounds each wait by the work ahead of it.
    writers: Arc<Semaphore>,
    /// How long a write transaction waits in that queue before giving up (503).
    write_wait: Duration,
    /// Shared by every clone: the WAL checkpointer stops once the last clone is gone.
    alive: Arc<()>,
}

/// How often the WAL is checkpointed in the background (SQLite).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies committed WAL frames into the database file every [`CHECKPOINT_EVERY`], off
/// every request's path, until the pool closes or the last [`Db`] clone is dropped.
/// `PASSIVE` never waits for readers or writers: what a long read still needs is copied
/// on a later pass. Closing the pool checkpoints what is left.
async fn checkpoint_wal(pool: SqlitePool, alive: std::sync::Weak<()>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if alive.strong_count() == 0 || pool.is_closed() {
            break;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %err, "WAL checkpoint failed; will retry");
        }
    }
}

/// Connections in use and idle, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections currently lent out.
    pub in_use: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
}

/// Removes the password from a URL so it can be logged or shown.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Db {
    /// Opens a pool for `url` (`sqlite://path`, `sqlite::memory:`, `postgres://...`).
    ///
    /// SQLite is opened in WAL mode with foreign keys on, `synchronous=NORMAL` (safe under
    /// WAL) and a busy timeout; its folder is created if missing.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, DbError> {
        let invalid = |reason: String| DbError::InvalidUrl {
            url: redact_url(url),
            reason,
        };
        let alive = Arc::new(());
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| invalid(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // Checkpoints run in the background (`checkpoint_wal`), not inside the
                // commit that crosses SQLite's 1,000-page mark: a 100,000-contact import's
                // commit spent 0.33 s of its 0.51 s copying the WAL into the database.
                .pragma("wal_autocheckpoint", "0")
                .busy_timeout(settings.sqlite_busy_timeout);
            let path = options.get_filename();
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.sqlite_max_connections.max(1))
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            tokio::spawn(checkpoint_wal(pool.clone(), Arc::downgrade(&alive)));
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(|e| invalid(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.postgres_max_connections.max(1))
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            Pool::Postgres(pool)
        } else {
            return Err(invalid(
                "expected a sqlite:// or postgres:// URL".to_owned(),
            ));
        };
        let mut db = Self::from_pool(pool);
        db.write_wait = settings.sqlite_busy_timeout;
        db.alive = alive;
        Ok(db)
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: Pool) -> Self {
        Self {
            pool,
            events_committed: Arc::new(Notify::new()),
            writers: Arc::new(Semaphore::new(1)),
            write_wait: Duration::from_secs(5),
            alive: Arc::new(()),
        }
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The underlying pool, for [`on_pool!`](crate::on_pool).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so it takes the
    /// write lock up front and waits on the busy timeout instead of failing on upgrade.
    /// On SQLite, the transactions of this process take turns in a fair queue first.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let (inner, turn) = match &self.pool {
            Pool::Sqlite(pool) => {
                let turn =
                    tokio::time::timeout(self.write_wait, self.writers.clone().acquire_owned())
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)?
                        .map_err(|_| sqlx::Error::PoolClosed)?;
                (
                    TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
                    Some(turn),
                )
            }
            Pool::Postgres(pool) => (TxInner::Postgres(pool.begin().await?), None),
        };
        Ok(Tx {
            inner,
            recorded_events: false,
            events_committed: self.events_committed.clone(),
            _turn: turn,
        })
    }

    /// One round trip to the database (readiness probe).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        crate::on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
        })
    }

    /// Connections in use and idle.
    pub fn stats(&self) -> PoolStats {
        let (size, idle, max) = match &self.pool {
            Pool::Sqlite(p) => (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            ),
            Pool::Postgres(p) => (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            ),
        };
        PoolStats {
            in_use: size.saturating_sub(idle),
            idle,
            max,
        }
    }

    /// Signal that wakes the event dispatcher after a commit that recorded events.
    pub fn events_committed(&self) -> Arc<Notify> {
        self.events_committed.clone()
    }

    /// Closes every connection (at shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// A write transaction on either backend. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    /// The driver transaction, for [`on_tx!`](crate::on_tx).
    pub inner: TxInner,
    recorded_events: bool,
    events_committed: Arc<Notify>,
    /// SQLite: this transaction's turn in the writers' queue, released when it ends.
    _turn: Option<OwnedSemaphorePermit>,
}

/// The driver transaction of one of the two backends.
pub enum TxInner {
    /// SQLite transaction.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// The backend of this transaction.
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Marks that this transaction wrote to the outbox, so commit wakes the dispatcher.
    pub(crate) fn mark_events_recorded(&mut self) {
        self.recorded_events = true;
    }

    /// Commits, then wakes the event dispatcher if events were recorded.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        if self.recorded_events {
            self.events_committed.notify_one();
        }
        Ok(())
    }

    /// Executes `sql` with arguments built by [`PreparedArgs`]; returns the rows affected.
    pub async fn execute_prepared(
        &mut self,
        sql: String,
        args: PreparedArgs,
    ) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql);
        match (&mut self.inner, args) {
            (TxInner::Sqlite(c), PreparedArgs::Sqlite(args)) => sqlx::query_with(sql, args)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected()),
            (TxInner::Postgres(c), PreparedArgs::Postgres(args)) => sqlx::query_with(sql, args)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected()),
            _ => Err(sqlx::Error::Protocol(
                "arguments prepared for the other database backend".to_owned(),
            )),
        }
    }

    /// Rolls back explicitly (dropping does the same, later).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.rollback().await,
            TxInner::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// A statement's arguments, built ahead of its execution for the backend it will run on.
///
/// A bulk write builds the next statement's arguments on another thread while the
/// database executes the current one ([`Tx::execute_prepared`]); values are moved in, not
/// copied (binding a borrowed `&str` clones it).
pub enum PreparedArgs {
    /// SQLite arguments (anonymous `?` placeholders).
    Sqlite(sqlx::sqlite::SqliteArguments),
    /// PostgreSQL arguments (`$N` placeholders).
    Postgres(sqlx::postgres::PgArguments),
}

impl PreparedArgs {
    /// Empty arguments for `backend`.
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::Sqlite(Default::default()),
            Backend::Postgres => Self::Postgres(Default::default()),
        }
    }

    /// Appends one value.
    pub fn add<T>(&mut self, value: T) -> Result<(), sqlx::Error>
    where
        T: for<'q> sqlx::Encode<'q, Sqlite>
            + sqlx::Type<Sqlite>
            + for<'q> sqlx::Encode<'q, Postgres>
            + sqlx::Type<Postgres>,
    {
        use sqlx::Arguments;
        match self {
            Self::Sqlite(args) => args.add(value),
            Self::Postgres(args) => args.add(value),
        }
        .map_err(sqlx::Error::Encode)
    }
}

/// Runs the same sqlx expression on whichever pool a [`Db`] holds.
///
/// ```ignore
/// let n: i64 = on_pool!(db, |pool| sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(pool).await)?;
/// ```
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs the same sqlx expression inside a [`Tx`] on either backend; `$conn` is a
/// `&mut Connection` usable as an executor.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://meridian:s3cret@db:5432/app"),
            "postgres://meridian:***@db:5432/app"
        );
        assert_eq!(redact_url("sqlite://./data/m.db"), "sqlite://./data/m.db");
    }

    /// Commits leave the WAL alone (no automatic checkpoint), and the background
    /// checkpointer copies it into the database file soon after.
    #[tokio::test]
    async fn sqlite_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.db");
        let db = Db::connect(
            &format!("sqlite://{}", path.display()),
            &PoolSettings::default(),
        )
        .await
        .expect("connect");
        let setting: i64 = on_pool!(db, |p| sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(p)
            .await)
        .expect("pragma");
        assert_eq!(setting, 0, "commits must not checkpoint");
        let mut tx = db.begin().await.expect("begin");
        on_tx!(tx, |c| sqlx::query(
            "CREATE TABLE payload (body BLOB NOT NULL); \
             INSERT INTO payload (body) SELECT zeroblob(4096) FROM (WITH RECURSIVE n(i) AS \
             (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) SELECT i FROM n)"
        )
        .execute(&mut *c)
        .await
        .map(|_| ()))
        .expect("write");
        tx.commit().await.expect("commit");
        // 500 pages of 4 KiB: only a checkpoint puts them into the database file.
        let mut size = 0;
        for _ in 0..100 {
            size = std::fs::metadata(&path).expect("db file").len();
            if size >= 2_000_000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(size >= 2_000_000, "database file still {size} bytes");
        db.close().await;
    }

    #[tokio::test]
    async fn refuses_unknown_scheme() {
        let err = Db::connect("mysql://x", &PoolSettings::default())
            .await
            .expect_err("mysql is not supported");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[tokio::test]
    async fn sqlite_is_wal_with_foreign_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/nested/m.db", dir.path().display());
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open");
        let mode: String = on_pool!(db, |p| sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(p)
            .await)
        .expect("pragma");
        assert_eq!(mode, "wal");
        let fk: i64 = on_pool!(db, |p| sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(p)
            .await)
        .expect("pragma");
        assert_eq!(fk, 1);
        db.ping().await.expect("ping");
    }
}

/// Multi-row `VALUES` placeholders for bulk inserts: `rows` tuples of `columns`, numbered
/// from `$1` on PostgreSQL and anonymous `?` on SQLite — there, sqlx looks each named
/// parameter up with `sqlite3_bind_parameter_name`, a linear scan, so `$N` makes binding a
/// large statement quadratic.
pub fn values_placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    if backend == Backend::Sqlite {
        let tuple = format!("({})", vec!["?"; columns].join(", "));
        return vec![tuple; rows].join(", ");
    }
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let numbers: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", numbers.join(", "))
        })
        .collect();
    tuples.join(", ")
}

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
