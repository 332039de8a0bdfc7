//! Cross-module read views without cross-module dependencies.
//!
//! The CRM's customer 360 view shows sections that other modules own (the helpdesk's
//! tickets, later sales orders and health scores). The CRM cannot read their tables, and
//! depending on their crates would tie the modules' builds together (and cycle once the
//! helpdesk uses CRM records). Instead a module implements [`CustomerSectionProvider`]
//! on its public service, and `server` — the only crate that knows every module — hands
//! the providers to the CRM at start-up. The provider enforces its own permissions and
//! tenancy, exactly as its HTTP routes do.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use crate::problem::Problem;
use crate::tenancy::TenantContext;

/// What a provider returns: the section's JSON, or `None` when the caller may not see it.
pub type SectionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<serde_json::Value>, Problem>> + Send + 'a>>;

/// A section of the customer 360 view, served by the module that owns its data.
pub trait CustomerSectionProvider: Send + Sync {
    /// The section's key in the view (`tickets`, `orders`, `health`).
    fn section(&self) -> &'static str;

    /// The module that provides it (`helpdesk`).
    fn module(&self) -> &'static str;

    /// The section for one company (a CRM company id), as the caller may see it.
    fn customer_section<'a>(
        &'a self,
        ctx: &'a TenantContext,
        company_id: Uuid,
    ) -> SectionFuture<'a>;
}
