//! Fresh databases for tests, on either backend.
//!
//! SQLite: a new file in a temporary folder. PostgreSQL: a new database created on the
//! server named by `MERIDIAN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when the test ends. When that
//! server is unreachable, PostgreSQL tests are skipped with a message, except under
//! `CI=true`, where they fail.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::db::{Backend, Db, PoolSettings};
use crate::migrate::ModuleMigrations;

/// Default admin URL of the test PostgreSQL server.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The handle.
    pub db: Db,
    /// Its URL (for booting a server on it).
    pub url: String,
    postgres_drop: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn admin_url() -> String {
    std::env::var("MERIDIAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl TestDatabase {
    /// A fresh, migrated database on `backend`, or `None` when PostgreSQL is unreachable
    /// outside CI (the caller skips the test).
    pub async fn fresh(backend: Backend, modules: &[ModuleMigrations]) -> Option<Self> {
        let test = match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }?;
        crate::migrate::run(&test.db, modules)
            .await
            .expect("migrations apply to a fresh database");
        Some(test)
    }

    /// An empty SQLite file database.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}/meridian-test.db", dir.path().display());
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open SQLite test database");
        Self {
            db,
            url,
            postgres_drop: None,
            _dir: Some(dir),
        }
    }

    /// An empty PostgreSQL database, or `None` (skip) when the server is unreachable
    /// outside CI. Panics under CI.
    pub async fn postgres() -> Option<Self> {
        let admin = admin_url();
        let options = match PgConnectOptions::from_str(&admin) {
            Ok(o) => o,
            Err(e) => panic!("MERIDIAN_TEST_POSTGRES_URL is invalid: {e}"),
        };
        let mut conn = match options.connect().await {
            Ok(conn) => conn,
            Err(e) if !in_ci() => {
                eprintln!(
                    "skipping PostgreSQL test: {} unreachable ({e})",
                    crate::db::redact_url(&admin)
                );
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL at {} is unreachable under CI=true: {e}",
                crate::db::redact_url(&admin)
            ),
        };
        let name = format!("meridian_test_{}", Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin).expect("admin URL parses");
        url.set_path(&name);
        let url = url.to_string();
        let db = Db::connect(
            &url,
            &PoolSettings {
                postgres_max_connections: 8,
                ..PoolSettings::default()
            },
        )
        .await
        .expect("connect to test database");
        Some(Self {
            db,
            url,
            postgres_drop: Some((admin, name)),
            _dir: None,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres_drop.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee; use a thread with its own runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Declares a test that runs once on a fresh SQLite database and once on a fresh
/// PostgreSQL database, each migrated with `$modules`.
///
/// ```ignore
/// kernel::db_test!(records_events, [kernel::migrate::KERNEL], |test| {
///     let db = &test.db;
///     ...
/// });
/// ```
#[macro_export]
macro_rules! db_test {
    ($name:ident, $modules:expr, |$test:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $test =
                    $crate::testing::TestDatabase::fresh($crate::db::Backend::Sqlite, &$modules)
                        .await
                        .expect("SQLite is always available");
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($test) =
                    $crate::testing::TestDatabase::fresh($crate::db::Backend::Postgres, &$modules)
                        .await
                else {
                    return;
                };
                $body
            }
        }
    };
}
