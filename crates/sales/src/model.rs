//! Sales wire types and the crate's one error type.

use chrono::{DateTime, NaiveDate, Utc};
use kernel::problem::{FieldError, Problem};
use kernel::tenancy::Forbidden;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::money::{InvoiceStatus, OrderStatus};

/// Everything that can go wrong in the sales module.
#[derive(Debug, thiserror::Error)]
pub enum SalesError {
    /// The caller lacks a permission.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No such record in the caller's organisation (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Invalid input, field by field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// `version` does not match; carries the current record.
    #[error("version mismatch")]
    VersionMismatch {
        /// The record as it is now.
        current: serde_json::Value,
    },
    /// The change conflicts with the record's state (e.g. a transition not allowed).
    #[error("{0}")]
    Conflict(String),
    /// Confirming would take the store over its credit limit.
    #[error("credit limit exceeded")]
    CreditLimit {
        /// Explanation with the amounts.
        detail: String,
    },
    /// A call into the CRM failed.
    #[error(transparent)]
    Crm(#[from] crm::CrmError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl SalesError {
    /// A single-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        SalesError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<SalesError> for Problem {
    fn from(err: SalesError) -> Self {
        match err {
            SalesError::Forbidden(denied) => denied.into(),
            SalesError::NotFound(what) => Problem::not_found(what),
            SalesError::Validation(errors) => Problem::validation(errors),
            SalesError::VersionMismatch { current } => Problem::stale_version(current),
            SalesError::Conflict(detail) => {
                Problem::new(kernel::ErrorCode::Conflict).with_detail(detail)
            }
            SalesError::CreditLimit { detail } => {
                Problem::new(kernel::ErrorCode::UnprocessableEntity)
                    .with_detail(detail)
                    .with_errors(vec![FieldError::new(
                        "credit_limit",
                        "confirming this order would exceed the store's credit limit; a Manager may send override_credit_limit: true with override_reason",
                    )])
            }
            SalesError::Crm(err) => err.into(),
            SalesError::Db(err) => Problem::from_db(&err),
        }
    }
}

/// Money: an exact decimal with its currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Exact decimal amount (a string in JSON).
    #[schema(value_type = String, example = "1250.00")]
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: String,
}

/// A store (outlet): a CRM company with sales attributes. Its id is the company's id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Store {
    /// Id (= the CRM company's id).
    pub id: Uuid,
    /// The CRM company.
    pub company_id: Uuid,
    /// Region.
    pub region: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Precision area (the finest sales territory).
    pub precision_area: Option<String>,
    /// Channel (e.g. grocery, HoReCa, modern trade).
    pub channel: Option<String>,
    /// Latitude (WGS 84).
    pub latitude: Option<f64>,
    /// Longitude (WGS 84).
    pub longitude: Option<f64>,
    /// Credit limit; `null` means no limit.
    pub credit_limit: Option<Money>,
    /// The sales rep (user id) the store is assigned to.
    pub assigned_rep: Option<Uuid>,
    /// Days between planned visits.
    pub visit_frequency_days: Option<i32>,
    /// Price list its orders are priced from by default.
    pub price_list_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version, for `If-Match`.
    pub version: i64,
}

/// `POST /api/v1/stores`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewStore {
    /// A CRM company of the organisation.
    pub company_id: Uuid,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// Province.
    #[serde(default)]
    pub province: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Precision area.
    #[serde(default)]
    pub precision_area: Option<String>,
    /// Channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Latitude (−90..90).
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude (−180..180).
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Credit limit (`null`: none).
    #[serde(default)]
    pub credit_limit: Option<Money>,
    /// Assigned sales rep (user id).
    #[serde(default)]
    pub assigned_rep: Option<Uuid>,
    /// Days between visits (1..365).
    #[serde(default)]
    pub visit_frequency_days: Option<i32>,
    /// Default price list.
    #[serde(default)]
    pub price_list_id: Option<Uuid>,
}

/// `PATCH /api/v1/stores/{id}`: fields present are set.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StorePatch {
    /// Region.
    pub region: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Precision area.
    pub precision_area: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Credit limit.
    pub credit_limit: Option<Money>,
    /// Assigned rep.
    pub assigned_rep: Option<Uuid>,
    /// Days between visits.
    pub visit_frequency_days: Option<i32>,
    /// Default price list.
    pub price_list_id: Option<Uuid>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// What a store owes: `GET /api/v1/stores/{id}/balance`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoreBalance {
    /// The store.
    pub store_id: Uuid,
    /// Currency of the amounts (the credit limit's; else the first currency found).
    pub currency: Option<String>,
    /// Unpaid invoice balances (total − paid − credited).
    #[schema(value_type = String)]
    pub open_invoices: Decimal,
    /// Confirmed or delivered orders not yet invoiced.
    #[schema(value_type = String)]
    pub uninvoiced_orders: Decimal,
    /// open_invoices + uninvoiced_orders.
    #[schema(value_type = String)]
    pub open_balance: Decimal,
    /// The credit limit (`null`: none).
    #[schema(value_type = Option<String>)]
    pub credit_limit: Option<Decimal>,
    /// credit_limit − open_balance (`null` without a limit).
    #[schema(value_type = Option<String>)]
    pub available_credit: Option<Decimal>,
}

/// A product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Product {
    /// Id.
    pub id: Uuid,
    /// Stock-keeping unit, unique per organisation (case-insensitive).
    pub sku: String,
    /// Name.
    pub name: String,
    /// Brand.
    pub brand: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Pack type (e.g. `330ml can`, `1.5L PET`).
    pub pack_type: Option<String>,
    /// Unit of measure (e.g. `case`, `unit`).
    pub unit_of_measure: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
}

/// `POST /api/v1/products`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewProduct {
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Pack type.
    #[serde(default)]
    pub pack_type: Option<String>,
    /// Unit of measure (default `unit`).
    #[serde(default)]
    pub unit_of_measure: Option<String>,
}

/// `PATCH /api/v1/products/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ProductPatch {
    /// Name.
    pub name: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Pack type.
    pub pack_type: Option<String>,
    /// Unit of measure.
    pub unit_of_measure: Option<String>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// A price of a product in a price list, valid over a date range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceListItem {
    /// Id.
    pub id: Uuid,
    /// Product.
    pub product_id: Uuid,
    /// Unit price.
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    /// Currency.
    pub currency: String,
    /// First day the price applies.
    pub valid_from: NaiveDate,
    /// Last day it applies (`null`: open-ended).
    pub valid_to: Option<NaiveDate>,
}

/// A price list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Its prices.
    pub items: Vec<PriceListItem>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
}

/// A new price in a list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPriceListItem {
    /// Product.
    pub product_id: Uuid,
    /// Unit price (≥ 0, ≤ 4 decimals).
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    /// Currency.
    pub currency: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day (optional).
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

/// `POST /api/v1/price-lists`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPriceList {
    /// Name.
    pub name: String,
    /// Prices.
    #[serde(default)]
    pub items: Vec<NewPriceListItem>,
}

/// `POST /api/v1/price-lists/{id}/items`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPriceListItems {
    /// Prices to add.
    pub items: Vec<NewPriceListItem>,
}

/// The price of a product in force on a date (`GET /api/v1/price-lists/{id}/price`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PriceInForce {
    /// Product.
    pub product_id: Uuid,
    /// The date asked about.
    pub on: NaiveDate,
    /// The item that applies (the latest `valid_from` on or before the date).
    pub item: PriceListItem,
}

/// A sales order line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    /// Position (1-based).
    pub line_no: i32,
    /// Product.
    pub product_id: Uuid,
    /// Quantity.
    #[schema(value_type = String)]
    pub quantity: Decimal,
    /// Unit price.
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    /// Discount %.
    #[schema(value_type = String)]
    pub discount_pct: Decimal,
    /// Tax %.
    #[schema(value_type = String)]
    pub tax_pct: Decimal,
    /// quantity × unit price.
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// Discount amount.
    #[schema(value_type = String)]
    pub discount: Decimal,
    /// gross − discount.
    #[schema(value_type = String)]
    pub net: Decimal,
    /// Tax amount.
    #[schema(value_type = String)]
    pub tax: Decimal,
    /// net + tax.
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// A sales order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SalesOrder {
    /// Id.
    pub id: Uuid,
    /// Number per organisation and year (`SO-2026-00001`).
    pub number: String,
    /// Store.
    pub store_id: Uuid,
    /// Status.
    pub status: OrderStatus,
    /// Currency of every amount.
    pub currency: String,
    /// Price list the default prices came from.
    pub price_list_id: Option<Uuid>,
    /// Order date (prices in force on it).
    pub order_date: NaiveDate,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// Sum of line gross amounts.
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    /// Sum of line discounts.
    #[schema(value_type = String)]
    pub discount: Decimal,
    /// Sum of line taxes.
    #[schema(value_type = String)]
    pub tax: Decimal,
    /// subtotal − discount + tax.
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Notes.
    pub notes: Option<String>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Reason given when a Manager confirmed it over the credit limit.
    pub credit_override_reason: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
}

/// A line to enter.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewOrderLine {
    /// Product.
    pub product_id: Uuid,
    /// Quantity (> 0).
    #[schema(value_type = String)]
    pub quantity: Decimal,
    /// Unit price (default: the price list's price in force on the order date).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub unit_price: Option<Decimal>,
    /// Discount % (0–100, default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub discount_pct: Option<Decimal>,
    /// Tax % (0–100, default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub tax_pct: Option<Decimal>,
}

/// `POST /api/v1/sales-orders`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSalesOrder {
    /// Store.
    pub store_id: Uuid,
    /// Lines (at least one).
    pub lines: Vec<NewOrderLine>,
    /// Price list (default: the store's).
    #[serde(default)]
    pub price_list_id: Option<Uuid>,
    /// Currency (default: the price list's prices, else the store's credit currency).
    #[serde(default)]
    pub currency: Option<String>,
    /// Order date (default: today, UTC).
    #[serde(default)]
    pub order_date: Option<NaiveDate>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// `PATCH /api/v1/sales-orders/{id}`: a status change and/or (in Draft) new lines.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SalesOrderPatch {
    /// New status (allowed transitions only; `invoiced` only through the invoice route).
    pub status: Option<OrderStatus>,
    /// Replacement lines (Draft only).
    pub lines: Option<Vec<NewOrderLine>>,
    /// Notes.
    pub notes: Option<String>,
    /// Confirm even over the store's credit limit (needs `orders:manage`).
    #[serde(default)]
    pub override_credit_limit: bool,
    /// Why the limit is overridden (required with `override_credit_limit`).
    pub override_reason: Option<String>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// An invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invoice {
    /// Id.
    pub id: Uuid,
    /// Number per organisation and year (`INV-2026-00001`), gap-free.
    pub number: String,
    /// The order it bills.
    pub order_id: Uuid,
    /// Store.
    pub store_id: Uuid,
    /// Currency.
    pub currency: String,
    /// Issue date (UTC).
    pub issued_on: NaiveDate,
    /// Subtotal (from the order).
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    /// Discount.
    #[schema(value_type = String)]
    pub discount: Decimal,
    /// Tax.
    #[schema(value_type = String)]
    pub tax: Decimal,
    /// Total.
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Paid so far (allocations).
    #[schema(value_type = String)]
    pub paid: Decimal,
    /// Credited (credit notes).
    #[schema(value_type = String)]
    pub credited: Decimal,
    /// total − paid − credited.
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// Open / partially paid / paid.
    pub status: InvoiceStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
}

/// A part of a payment applied to an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Allocation {
    /// Invoice.
    pub invoice_id: Uuid,
    /// Amount applied.
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// Bank transfer.
    BankTransfer,
    /// Card.
    Card,
    /// Cheque.
    Cheque,
    /// Anything else.
    Other,
}

impl PaymentMethod {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::Other => "other",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Self {
        match s {
            "cash" => PaymentMethod::Cash,
            "bank_transfer" => PaymentMethod::BankTransfer,
            "card" => PaymentMethod::Card,
            "cheque" => PaymentMethod::Cheque,
            _ => PaymentMethod::Other,
        }
    }
}

/// A payment received from a store.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// Id.
    pub id: Uuid,
    /// Store.
    pub store_id: Uuid,
    /// Amount received.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Part of it applied to invoices.
    #[schema(value_type = String)]
    pub allocated: Decimal,
    /// Currency.
    pub currency: String,
    /// Method.
    pub method: PaymentMethod,
    /// Date received.
    pub received_on: NaiveDate,
    /// Bank or cheque reference.
    pub reference: Option<String>,
    /// Allocations to invoices.
    pub allocations: Vec<Allocation>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/payments`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPayment {
    /// Store paying.
    pub store_id: Uuid,
    /// Amount (> 0).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Currency.
    pub currency: String,
    /// Method.
    pub method: PaymentMethod,
    /// Date received (default: today, UTC).
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// Reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Allocations (their sum ≤ amount; each ≤ the invoice's balance).
    #[serde(default)]
    pub allocations: Vec<Allocation>,
}

/// A credit note (a return or an allowance) against an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditNote {
    /// Id.
    pub id: Uuid,
    /// Number (`CN-2026-00001`).
    pub number: String,
    /// Invoice credited.
    pub invoice_id: Uuid,
    /// Store.
    pub store_id: Uuid,
    /// Amount credited.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Currency (the invoice's).
    pub currency: String,
    /// Why (e.g. returned goods).
    pub reason: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/credit-notes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewCreditNote {
    /// Invoice.
    pub invoice_id: Uuid,
    /// Amount (> 0, ≤ the invoice's balance).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Reason.
    pub reason: String,
}
