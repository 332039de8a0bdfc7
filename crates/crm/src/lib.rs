//! CRM: companies, contacts, pipelines with ordered stages, and deals on a kanban board.
//!
//! Reads top-down: [`model`] (types, `CrmError`), [`service`] (the rules, testable without
//! HTTP), [`routes`] (thin handlers). Contacts' email and phone are PII: encrypted with
//! the shared key ring, found by blind index, masked without `pii:read`.

pub mod bulk;
pub mod custom_fields;
pub mod duplicates;
pub mod engagement;
pub mod import;
pub mod keys;
pub mod model;
pub mod routes;
pub mod search;
pub(crate) mod search_index;
pub mod segments;
pub mod service;

pub use model::CrmError;
pub use rust_decimal::Decimal;
pub use service::Crm;

use kernel::migrate::ModuleMigrations;
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The CRM's tables.
pub const MIGRATIONS: ModuleMigrations = ModuleMigrations {
    module: "crm",
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};
