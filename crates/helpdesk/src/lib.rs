//! Helpdesk: tickets with SLA clocks on business-hour calendars, conversations (customer
//! messages, agent replies, internal notes), attachments, SLA policies and calendars.
//!
//! Reads top-down: [`sla`] (pure business-time arithmetic and SLA rules), [`model`]
//! (wire types, `HelpdeskError`), [`service`] (the rules, testable without HTTP),
//! [`routes`] (thin handlers).

pub mod sla;
