//! Distributor sales (issue 7, first slice): stores (CRM companies with sales attributes),
//! products and price lists, sales orders with exact totals and a credit-limit rule,
//! invoices numbered per organisation and year, payments allocated to invoices, and
//! credit notes.
//!
//! Reads top-down: [`money`] (exact amounts, line and order totals, the order state
//! machine — pure, unit-tested), [`model`] (wire types, `SalesError`), [`service`] (the
//! rules, testable without HTTP), [`routes`] (thin handlers).

pub mod analytics;
pub mod analytics_routes;
pub mod facts;
pub mod import;
pub mod import_routes;
pub mod model;
pub mod money;
pub mod outlets;
pub mod outlets_routes;
pub mod predict;
pub mod predict_routes;
pub mod routes;
pub mod section;
pub mod service;

pub use model::SalesError;
pub use service::Sales;

use kernel::migrate::ModuleMigrations;
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The sales module's tables.
pub const MIGRATIONS: ModuleMigrations = ModuleMigrations {
    module: "sales",
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};
