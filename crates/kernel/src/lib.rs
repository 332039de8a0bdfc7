//! Meridian kernel: the foundations every module builds on.
//!
//! - [`db`]: one handle over SQLite and PostgreSQL, transactions, dispatch macros.
//! - [`migrate`]: per-module migrations merged into one ordered, checksummed history.
//! - [`problem`]: RFC 9457 errors with a registry of stable codes.
//! - [`list`]: list/single envelopes, cursor pagination, sorting and filtering.
//! - [`events`]: the transactional outbox and its in-process dispatcher.
//! - [`clock`]: injected time.
//! - [`tenancy`]: the caller's organisation, permissions and scope, required by handlers.
//! - [`audit`]: the append-only, hash-chained audit trail.
//! - [`sections`]: customer-view sections one module serves to another.
//! - [`testing`] (feature `testing`): fresh databases on both backends for tests.

pub mod audit;
pub mod clock;
pub mod db;
pub mod events;
pub mod http;
pub mod list;
pub mod migrate;
pub mod pii;
pub mod problem;
pub mod ratelimit;
pub mod sections;
pub mod tenancy;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::{Clock, SharedClock, SystemClock};
pub use db::{Backend, Db, Tx};
pub use http::{ApiJson, ApiQuery, IdPath, IfMatch};
pub use problem::{ErrorCode, FieldError, Problem};
pub use tenancy::{Actor, TenantContext};

#[cfg(test)]
mod tests;
