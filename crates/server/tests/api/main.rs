//! HTTP-level tests of the `meridian` server: one test binary for the crate (each test
//! binary is another link step on 2 cores); every test runs on SQLite and PostgreSQL.

mod harness;

mod cli;
mod crm;
mod helpdesk;
mod helpdesk_ai;
mod helpdesk_kb;
mod helpdesk_s3;
mod identity;
mod platform;
mod sales;
mod sales_analytics;
mod sales_import;
mod sales_predict;
