//! Helpdesk: tickets with SLA clocks on business-hour calendars, conversations (customer
//! messages, agent replies, internal notes), attachments, SLA policies and calendars,
//! support teams, and the SLA scan that emits `ticket.sla_at_risk` / `ticket.sla_breached`
//! once each.
//!
//! Reads top-down: [`sla`] (pure business-time arithmetic and SLA rules), [`model`]
//! (wire types, `HelpdeskError`), [`service`] (the rules, testable without HTTP),
//! [`attachments`] (upload checks), [`store`] (the attachment store: local folder or an
//! S3-compatible bucket), [`insights`] (AI insights per
//! ticket, the per-organisation classifiers), [`assignment`] (team assignment rules),
//! [`routes`] (thin handlers). Beside them: [`kb`] (knowledge base, search,
//! suggestions), [`csat`] (ratings on resolution), [`analytics`] (the helpdesk
//! dashboard's figures and the CRM's customer 360 section), each with its own routes.

pub mod analytics;
pub mod assignment;
pub mod attachments;
pub mod csat;
pub mod insights;
pub mod kb;
pub mod model;
pub mod routes;
pub mod service;
pub mod sla;
pub mod store;

pub use model::HelpdeskError;
pub use service::{Helpdesk, HelpdeskSettings, scan_sla, score_message};
pub use store::{AttachmentStore, S3Settings, StoreSettings};

use kernel::migrate::ModuleMigrations;
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The helpdesk's tables.
pub const MIGRATIONS: ModuleMigrations = ModuleMigrations {
    module: "helpdesk",
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};
