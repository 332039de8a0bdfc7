//! Identity: organisations and their sites/divisions, users and memberships, roles and
//! permissions, sign-in (passwords, TOTP, rotating refresh tokens), API keys, and turning a
//! bearer credential into the [`kernel::TenantContext`] every other module relies on.
//!
//! Reads top-down: [`model`] (types and errors), [`permissions`] (catalogue and built-in
//! roles), [`tokens`] (access JWTs, refresh tokens, API key secrets), [`service`] (business
//! rules, testable without HTTP), [`routes`] (thin HTTP handlers).

pub mod auth_cache;
pub mod crypto;
pub mod model;
pub mod password;
pub mod permissions;
pub mod routes;
pub mod service;
pub mod tokens;
pub mod totp;

pub use model::IdentityError;
pub use service::{Identity, IdentitySettings};

use kernel::migrate::ModuleMigrations;
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The identity module's tables.
pub const MIGRATIONS: ModuleMigrations = ModuleMigrations {
    module: "identity",
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};
