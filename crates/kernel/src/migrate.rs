//! Migrations: each module ships its own `migrations/sqlite` and `migrations/postgres`
//! folders (embedded with `sqlx::migrate!`); the server merges them into one sqlx
//! [`Migrator`] per backend. Versions are timestamps (`YYYYMMDDhhmmss`), so they are unique
//! across modules and their order is the order they were written in. sqlx records each
//! applied version with a checksum and refuses to start on an edited or missing one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::migrate::{Migrate, MigrateError, Migrator};

use crate::db::{Backend, Db, Pool};

/// The migrations one module owns, for both backends.
#[derive(Debug, Clone, Copy)]
pub struct ModuleMigrations {
    /// Module name (shown by `meridian migrate --status`).
    pub module: &'static str,
    /// SQLite migrations.
    pub sqlite: &'static Migrator,
    /// PostgreSQL migrations.
    pub postgres: &'static Migrator,
}

/// The kernel's own tables (event outbox).
pub static KERNEL_SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
/// The kernel's own tables (event outbox).
pub static KERNEL_POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The kernel's migrations.
pub const KERNEL: ModuleMigrations = ModuleMigrations {
    module: "kernel",
    sqlite: &KERNEL_SQLITE,
    postgres: &KERNEL_POSTGRES,
};

/// Errors of migration commands.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// Two modules used the same version number.
    #[error("migration version {version} is used by both {first} and {second}")]
    DuplicateVersion {
        /// The version.
        version: i64,
        /// First module.
        first: &'static str,
        /// Second module.
        second: &'static str,
    },
    /// sqlx refused or failed.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Driver error.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    /// Owning module.
    pub module: &'static str,
    /// Version (timestamp).
    pub version: i64,
    /// Description from the file name.
    pub description: String,
    /// Whether it has been applied.
    pub applied: bool,
    /// Applied, but the file changed since (a hard error at start).
    pub checksum_mismatch: bool,
}

/// Applied rows that no module ships any more (for status output).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Every known migration, oldest first.
    pub migrations: Vec<MigrationStatus>,
    /// Versions applied in the database that no module ships.
    pub unknown_applied: Vec<i64>,
}

impl Status {
    /// Migrations not yet applied.
    pub fn pending(&self) -> impl Iterator<Item = &MigrationStatus> {
        self.migrations.iter().filter(|m| !m.applied)
    }
}

/// Which module owns each migration version.
type Owners = Vec<(i64, &'static str)>;

fn merged(
    modules: &[ModuleMigrations],
    backend: Backend,
) -> Result<(Migrator, Owners), MigrationError> {
    let mut owners: Owners = Vec::new();
    let mut all = Vec::new();
    for module in modules {
        let migrator = match backend {
            Backend::Sqlite => module.sqlite,
            Backend::Postgres => module.postgres,
        };
        for migration in migrator.iter() {
            if let Some((_, first)) = owners.iter().find(|(v, _)| *v == migration.version) {
                return Err(MigrationError::DuplicateVersion {
                    version: migration.version,
                    first,
                    second: module.module,
                });
            }
            owners.push((migration.version, module.module));
            all.push(migration.clone());
        }
    }
    Ok((Migrator::with_migrations(all), owners))
}

/// Applies every pending migration; returns how many were applied. Running it twice is a
/// no-op. Fails without applying anything new if an applied migration was edited.
pub async fn run(db: &Db, modules: &[ModuleMigrations]) -> Result<usize, MigrationError> {
    let before = status(db, modules).await?.pending().count();
    let (migrator, _) = merged(modules, db.backend())?;
    match db.pool() {
        Pool::Sqlite(pool) => migrator.run(pool).await?,
        Pool::Postgres(pool) => migrator.run(pool).await?,
    }
    Ok(before)
}

/// Lists applied and pending migrations.
pub async fn status(db: &Db, modules: &[ModuleMigrations]) -> Result<Status, MigrationError> {
    let (migrator, owners) = merged(modules, db.backend())?;
    let table = migrator.table_name.clone();
    let applied = match db.pool() {
        Pool::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            conn.ensure_migrations_table(&table).await?;
            conn.list_applied_migrations(&table).await?
        }
        Pool::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            conn.ensure_migrations_table(&table).await?;
            conn.list_applied_migrations(&table).await?
        }
    };
    let migrations = migrator
        .iter()
        .map(|m| {
            let row = applied.iter().find(|a| a.version == m.version);
            MigrationStatus {
                module: owners
                    .iter()
                    .find(|(v, _)| *v == m.version)
                    .map_or("?", |(_, module)| module),
                version: m.version,
                description: m.description.to_string(),
                applied: row.is_some(),
                checksum_mismatch: row.is_some_and(|a| a.checksum != m.checksum),
            }
        })
        .collect();
    let unknown_applied = applied
        .iter()
        .filter(|a| !migrator.version_exists(a.version))
        .map(|a| a.version)
        .collect();
    Ok(Status {
        migrations,
        unknown_applied,
    })
}

/// Renders a version timestamp for humans (`20261125000001` → `2026-11-25 00:00:01`).
pub fn version_time(version: i64) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(&version.to_string(), "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_ship_the_same_versions() {
        let sqlite: Vec<i64> = KERNEL_SQLITE.iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = KERNEL_POSTGRES.iter().map(|m| m.version).collect();
        assert_eq!(sqlite, postgres);
        assert!(!sqlite.is_empty());
        assert!(sqlite.iter().all(|v| version_time(*v).is_some()));
    }

    #[test]
    fn duplicate_versions_across_modules_are_refused() {
        let twice = [
            KERNEL,
            ModuleMigrations {
                module: "copy",
                ..KERNEL
            },
        ];
        let err = merged(&twice, Backend::Sqlite).expect_err("duplicate");
        assert!(
            err.to_string().contains("used by both kernel and copy"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn run_is_idempotent_and_status_tracks_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/m.db", dir.path().display());
        let db = Db::connect(&url, &crate::db::PoolSettings::default())
            .await
            .expect("open");
        let shipped = KERNEL_SQLITE.iter().count();
        assert_eq!(
            status(&db, &[KERNEL])
                .await
                .expect("status")
                .pending()
                .count(),
            shipped
        );
        assert_eq!(run(&db, &[KERNEL]).await.expect("first run"), shipped);
        assert_eq!(run(&db, &[KERNEL]).await.expect("second run"), 0);
        let after = status(&db, &[KERNEL]).await.expect("status");
        assert_eq!(after.pending().count(), 0);
        assert!(after.migrations.iter().all(|m| !m.checksum_mismatch));
    }
}
