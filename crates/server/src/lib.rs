//! The `meridian` server: CLI, HTTP edge and the wiring of the modules.
//!
//! The binary (`src/main.rs`) only calls [`cli::main`]; everything is in this library so
//! the integration tests boot exactly the server users run.

pub mod cli;
pub mod config;
pub mod demo;
mod demo_sales;
pub mod events;
pub mod helpdesk_eval_cli;
pub mod http;
pub mod insight_cli;
pub mod keys;
pub mod sales_eval_cli;
pub mod sales_import_cli;
pub mod sentiment_cli;
pub mod telemetry;

use kernel::migrate::ModuleMigrations;

/// The migrations of every module, in dependency order.
pub const MODULES: [ModuleMigrations; 5] = [
    kernel::migrate::KERNEL,
    identity::MIGRATIONS,
    crm::MIGRATIONS,
    helpdesk::MIGRATIONS,
    sales::MIGRATIONS,
];
