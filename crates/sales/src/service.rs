//! Sales business rules, callable without HTTP. Every query binds the caller's
//! organisation; each function authorises before reading. Permissions: `stores:*`,
//! `products:*` (price lists too), `orders:*` (`orders:manage` overrides a credit limit),
//! `invoices:*` (credit notes too), `payments:*`. A caller holding only `stores:read:own`
//! sees only the stores assigned to them, and only those stores' orders, invoices and
//! payments.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use crm::Crm;
use kernel::audit;
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page, SqlValue};
use kernel::sections::CustomerSectionProvider;
use kernel::{
    Backend, Db, FieldError, SharedClock, TenantContext, Tx, bind_values, on_pool, on_tx,
};
use rust_decimal::Decimal;
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::*;
use crate::money::{self, LineAmounts, LineInput, from_scaled, plain_from_scaled, to_scaled};

/// The sales service.
#[derive(Clone)]
pub struct Sales {
    pub(crate) db: Db,
    pub(crate) clock: SharedClock,
    pub(crate) crm: Crm,
    importer: crate::import::SalesImporter,
    /// Open helpdesk tickets per company for the call priority (`None`: not wired, the
    /// factor scores 0); see [`Sales::with_open_issues`].
    pub(crate) open_issues: Option<Arc<dyn CustomerSectionProvider>>,
}

const fn field(
    name: &'static str,
    column: &'static str,
    kind: FieldKind,
    sortable: bool,
) -> FieldSpec {
    FieldSpec {
        name,
        column,
        kind,
        sortable,
        filterable: true,
    }
}

const STORE_FIELDS: &[FieldSpec] = &[
    field("region", "region", FieldKind::Text, true),
    field("province", "province", FieldKind::Text, true),
    field("city", "city", FieldKind::Text, true),
    field("precision_area", "precision_area", FieldKind::Text, true),
    field("channel", "channel", FieldKind::Text, true),
    field("assigned_rep", "assigned_rep", FieldKind::Uuid, false),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/stores` accepts.
pub const STORE_LIST: ListSpec = ListSpec {
    fields: STORE_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "company_id",
};

const PRODUCT_FIELDS: &[FieldSpec] = &[
    field("sku", "sku_key", FieldKind::Text, false),
    field("name", "name", FieldKind::Text, true),
    field("brand", "brand", FieldKind::Text, true),
    field("category", "category", FieldKind::Text, true),
    field("pack_type", "pack_type", FieldKind::Text, true),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/products` accepts.
pub const PRODUCT_LIST: ListSpec = ListSpec {
    fields: PRODUCT_FIELDS,
    default_sort: "name",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

const ORDER_FIELDS: &[FieldSpec] = &[
    field("status", "status", FieldKind::Text, false),
    field("store_id", "store_id", FieldKind::Uuid, false),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/sales-orders` accepts.
pub const ORDER_LIST: ListSpec = ListSpec {
    fields: ORDER_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

const INVOICE_FIELDS: &[FieldSpec] = &[
    field("status", "status", FieldKind::Text, false),
    field("store_id", "store_id", FieldKind::Uuid, false),
    field("number", "number", FieldKind::Text, true),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/invoices` accepts.
pub const INVOICE_LIST: ListSpec = ListSpec {
    fields: INVOICE_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

const PAYMENT_FIELDS: &[FieldSpec] = &[
    field("store_id", "store_id", FieldKind::Uuid, false),
    field("method", "method", FieldKind::Text, false),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/payments` accepts.
pub const PAYMENT_LIST: ListSpec = ListSpec {
    fields: PAYMENT_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

const CREDIT_NOTE_FIELDS: &[FieldSpec] = &[
    field("invoice_id", "invoice_id", FieldKind::Uuid, false),
    field("store_id", "store_id", FieldKind::Uuid, false),
    field("created_at", "created_at", FieldKind::Timestamp, true),
];

/// What `GET /api/v1/credit-notes` accepts.
pub const CREDIT_NOTE_LIST: ListSpec = ListSpec {
    fields: CREDIT_NOTE_FIELDS,
    default_sort: "-created_at",
    default_limit: 50,
    max_limit: 500,
    id_column: "id",
};

// ------------------------------------------------------------------ rows

#[derive(Debug, FromRow)]
pub(crate) struct StoreRow {
    company_id: Uuid,
    region: Option<String>,
    province: Option<String>,
    city: Option<String>,
    precision_area: Option<String>,
    channel: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    credit_limit_scaled: Option<i64>,
    credit_currency: Option<String>,
    assigned_rep: Option<Uuid>,
    visit_frequency_days: Option<i32>,
    price_list_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const STORE_COLUMNS: &str = "company_id, region, province, city, precision_area, channel, latitude, longitude, \
     credit_limit_scaled, credit_currency, assigned_rep, visit_frequency_days, price_list_id, created_at, updated_at, version";

impl From<StoreRow> for Store {
    fn from(r: StoreRow) -> Self {
        Store {
            id: r.company_id,
            company_id: r.company_id,
            region: r.region,
            province: r.province,
            city: r.city,
            precision_area: r.precision_area,
            channel: r.channel,
            latitude: r.latitude,
            longitude: r.longitude,
            credit_limit: match (r.credit_limit_scaled, r.credit_currency) {
                (Some(scaled), Some(currency)) => Some(Money {
                    amount: from_scaled(scaled),
                    currency,
                }),
                _ => None,
            },
            assigned_rep: r.assigned_rep,
            visit_frequency_days: r.visit_frequency_days,
            price_list_id: r.price_list_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

#[derive(Debug, FromRow)]
struct ProductRow {
    id: Uuid,
    sku: String,
    name: String,
    brand: Option<String>,
    category: Option<String>,
    pack_type: Option<String>,
    unit_of_measure: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const PRODUCT_COLUMNS: &str =
    "id, sku, name, brand, category, pack_type, unit_of_measure, created_at, updated_at, version";

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            sku: r.sku,
            name: r.name,
            brand: r.brand,
            category: r.category,
            pack_type: r.pack_type,
            unit_of_measure: r.unit_of_measure,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

#[derive(Debug, FromRow)]
struct PriceListRow {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    version: i64,
}

#[derive(Debug, FromRow)]
struct PriceItemRow {
    id: Uuid,
    product_id: Uuid,
    unit_price_scaled: i64,
    currency: String,
    valid_from: String,
    valid_to: Option<String>,
}

const PRICE_ITEM_COLUMNS: &str =
    "id, product_id, unit_price_scaled, currency, valid_from, valid_to";

impl From<PriceItemRow> for PriceListItem {
    fn from(r: PriceItemRow) -> Self {
        PriceListItem {
            id: r.id,
            product_id: r.product_id,
            unit_price: from_scaled(r.unit_price_scaled),
            currency: r.currency,
            valid_from: parse_date(&r.valid_from),
            valid_to: r.valid_to.as_deref().map(parse_date),
        }
    }
}

#[derive(Debug, Clone, FromRow)]
struct OrderRow {
    id: Uuid,
    number: String,
    store_id: Uuid,
    status: String,
    currency: String,
    price_list_id: Option<Uuid>,
    order_date: String,
    subtotal_scaled: i64,
    discount_scaled: i64,
    tax_scaled: i64,
    total_scaled: i64,
    notes: Option<String>,
    created_by: Option<Uuid>,
    credit_override_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const ORDER_COLUMNS: &str = "id, number, store_id, status, currency, price_list_id, order_date, subtotal_scaled, \
     discount_scaled, tax_scaled, total_scaled, notes, created_by, credit_override_reason, created_at, updated_at, version";

#[derive(Debug, FromRow)]
struct LineRow {
    order_id: Uuid,
    line_no: i32,
    product_id: Uuid,
    quantity_scaled: i64,
    unit_price_scaled: i64,
    discount_pct_scaled: i64,
    tax_pct_scaled: i64,
    gross_scaled: i64,
    discount_scaled: i64,
    net_scaled: i64,
    tax_scaled: i64,
    total_scaled: i64,
}

const LINE_COLUMNS: &str = "order_id, line_no, product_id, quantity_scaled, unit_price_scaled, discount_pct_scaled, \
     tax_pct_scaled, gross_scaled, discount_scaled, net_scaled, tax_scaled, total_scaled";

impl From<LineRow> for OrderLine {
    fn from(r: LineRow) -> Self {
        OrderLine {
            line_no: r.line_no,
            product_id: r.product_id,
            quantity: plain_from_scaled(r.quantity_scaled),
            unit_price: from_scaled(r.unit_price_scaled),
            discount_pct: plain_from_scaled(r.discount_pct_scaled),
            tax_pct: plain_from_scaled(r.tax_pct_scaled),
            gross: from_scaled(r.gross_scaled),
            discount: from_scaled(r.discount_scaled),
            net: from_scaled(r.net_scaled),
            tax: from_scaled(r.tax_scaled),
            total: from_scaled(r.total_scaled),
        }
    }
}

impl OrderRow {
    fn into_order(self, lines: Vec<OrderLine>) -> SalesOrder {
        SalesOrder {
            id: self.id,
            number: self.number,
            store_id: self.store_id,
            status: OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Draft),
            currency: self.currency,
            price_list_id: self.price_list_id,
            order_date: parse_date(&self.order_date),
            lines,
            subtotal: from_scaled(self.subtotal_scaled),
            discount: from_scaled(self.discount_scaled),
            tax: from_scaled(self.tax_scaled),
            total: from_scaled(self.total_scaled),
            notes: self.notes,
            created_by: self.created_by,
            credit_override_reason: self.credit_override_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

#[derive(Debug, FromRow)]
struct InvoiceRow {
    id: Uuid,
    number: String,
    order_id: Uuid,
    store_id: Uuid,
    currency: String,
    issued_on: String,
    subtotal_scaled: i64,
    discount_scaled: i64,
    tax_scaled: i64,
    total_scaled: i64,
    paid_scaled: i64,
    credited_scaled: i64,
    status: String,
    created_at: DateTime<Utc>,
    version: i64,
}

const INVOICE_COLUMNS: &str = "id, number, order_id, store_id, currency, issued_on, subtotal_scaled, discount_scaled, \
     tax_scaled, total_scaled, paid_scaled, credited_scaled, status, created_at, version";

impl InvoiceRow {
    fn balance_scaled(&self) -> i64 {
        self.total_scaled - self.paid_scaled - self.credited_scaled
    }
}

impl From<InvoiceRow> for Invoice {
    fn from(r: InvoiceRow) -> Self {
        Invoice {
            id: r.id,
            balance: from_scaled(r.balance_scaled()),
            number: r.number,
            order_id: r.order_id,
            store_id: r.store_id,
            currency: r.currency,
            issued_on: parse_date(&r.issued_on),
            subtotal: from_scaled(r.subtotal_scaled),
            discount: from_scaled(r.discount_scaled),
            tax: from_scaled(r.tax_scaled),
            total: from_scaled(r.total_scaled),
            paid: from_scaled(r.paid_scaled),
            credited: from_scaled(r.credited_scaled),
            status: InvoiceStatus::parse(&r.status),
            created_at: r.created_at,
            version: r.version,
        }
    }
}

#[derive(Debug, FromRow)]
struct PaymentRow {
    id: Uuid,
    store_id: Uuid,
    amount_scaled: i64,
    allocated_scaled: i64,
    currency: String,
    method: String,
    received_on: String,
    reference: Option<String>,
    created_at: DateTime<Utc>,
}

const PAYMENT_COLUMNS: &str = "id, store_id, amount_scaled, allocated_scaled, currency, method, received_on, reference, created_at";

impl PaymentRow {
    fn into_payment(self, allocations: Vec<Allocation>) -> Payment {
        Payment {
            id: self.id,
            store_id: self.store_id,
            amount: from_scaled(self.amount_scaled),
            allocated: from_scaled(self.allocated_scaled),
            currency: self.currency,
            method: PaymentMethod::parse(&self.method),
            received_on: parse_date(&self.received_on),
            reference: self.reference,
            allocations,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, FromRow)]
struct AllocationRow {
    payment_id: Uuid,
    invoice_id: Uuid,
    amount_scaled: i64,
}

#[derive(Debug, FromRow)]
struct CreditNoteRow {
    id: Uuid,
    number: String,
    invoice_id: Uuid,
    store_id: Uuid,
    amount_scaled: i64,
    currency: String,
    reason: String,
    issued_on: String,
    created_at: DateTime<Utc>,
}

const CREDIT_NOTE_COLUMNS: &str =
    "id, number, invoice_id, store_id, amount_scaled, currency, reason, issued_on, created_at";

impl From<CreditNoteRow> for CreditNote {
    fn from(r: CreditNoteRow) -> Self {
        CreditNote {
            id: r.id,
            number: r.number,
            invoice_id: r.invoice_id,
            store_id: r.store_id,
            amount: from_scaled(r.amount_scaled),
            currency: r.currency,
            reason: r.reason,
            issued_on: parse_date(&r.issued_on),
            created_at: r.created_at,
        }
    }
}

// ------------------------------------------------------------------ helpers

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// Dates are written only by `date_text`; an unreadable one is shown as the epoch rather
// than failing the whole read.
fn parse_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Who may see which stores: `None` = every store; `Some(user)` = only those assigned to
/// `user` (a caller holding `stores:read:own` but not `stores:read`).
pub(crate) fn store_visibility(ctx: &TenantContext) -> Result<Option<Uuid>, SalesError> {
    if ctx.can("stores:read") {
        return Ok(None);
    }
    if ctx.permissions().allows("stores:read:own")
        && let Some(user) = ctx.actor().user_id()
    {
        return Ok(Some(user));
    }
    ctx.authorize("stores:read")?;
    Ok(None)
}

/// SQL condition limiting `store_column` to the stores `rep` is assigned to (`$n` binds it).
fn own_stores_clause(store_column: &str, n: usize) -> String {
    format!(
        " AND {store_column} IN (SELECT company_id FROM sales_stores WHERE org_id = $1 AND assigned_rep = ${n})"
    )
}

/// Longest `?q=` the store list accepts (characters).
pub const MAX_STORE_SEARCH: usize = 200;

/// The columns of `sales_stores` that `?q=` searches besides the company name.
const STORE_SEARCH_COLUMNS: [&str; 4] = ["region", "province", "city", "precision_area"];

/// The store list's `?q=`, trimmed (`None` when absent or blank); 422 naming `q` when it is
/// longer than [`MAX_STORE_SEARCH`] characters.
fn store_search(query: &BTreeMap<String, String>) -> Result<Option<String>, SalesError> {
    let Some(raw) = query.get("q") else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_STORE_SEARCH {
        return Err(SalesError::field(
            "q",
            format!("must be at most {MAX_STORE_SEARCH} characters"),
        ));
    }
    let text = raw.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Ids as one bound value: a JSON array of their 32 lower-case hex digits.
fn hex_id_list(ids: &[Uuid]) -> String {
    let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    serde_json::Value::from(hex).to_string()
}

/// `company_id` is one of the ids of [`hex_id_list`] bound as `$n`. The dialects differ:
/// SQLite stores a UUID as a 16-byte blob and reads JSON with `json_each`; PostgreSQL
/// reads the hex digits as `uuid` from `json_array_elements_text`. One value, so any
/// number of ids fits (no placeholder limit).
fn company_in_list(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => {
            format!("LOWER(HEX(company_id)) IN (SELECT value FROM json_each(${n}))")
        }
        Backend::Postgres => format!(
            "company_id IN (SELECT CAST(value AS uuid) FROM json_array_elements_text(CAST(${n} AS json)))"
        ),
    }
}

fn checked_money(
    field_name: &str,
    value: Decimal,
    positive: bool,
    errors: &mut Vec<FieldError>,
) -> i64 {
    if value.is_sign_negative() || (positive && value.is_zero()) {
        errors.push(FieldError::new(
            field_name,
            if positive {
                "must be greater than 0"
            } else {
                "must not be negative"
            },
        ));
        return 0;
    }
    match to_scaled(value) {
        Ok(scaled) => scaled,
        Err(message) => {
            errors.push(FieldError::new(field_name, message));
            0
        }
    }
}

fn checked_pct(field_name: &str, value: Decimal, errors: &mut Vec<FieldError>) -> i64 {
    if value.is_sign_negative() || value > Decimal::ONE_HUNDRED {
        errors.push(FieldError::new(field_name, "must be between 0 and 100"));
        return 0;
    }
    checked_money(field_name, value, false, errors)
}

/// A line validated and priced.
struct PricedLine {
    product_id: Uuid,
    input: LineInput,
    amounts: LineAmounts,
}

fn scaled(value: Decimal) -> i64 {
    // Every stored amount passed `to_scaled` or is a sum/rounding of such amounts, which
    // `line_amounts`/`order_amounts` bound; 0 is never reached in practice.
    to_scaled(value).unwrap_or(0)
}

impl Sales {
    /// The service over `db`; `crm` answers whether a company exists.
    pub fn new(db: Db, clock: SharedClock, crm: Crm) -> Self {
        let importer = crate::import::SalesImporter::new(db.clone(), clock.clone());
        Self {
            db,
            clock,
            crm,
            importer,
            open_issues: None,
        }
    }

    /// Sales-data imports (CSV/XLSX into the sales facts) and their saved mappings.
    pub fn importer(&self) -> &crate::import::SalesImporter {
        &self.importer
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// The database, for the crate's other services (analytics).
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The injected clock, for the crate's other services (analytics).
    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    // An audit row and an event per change.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        action: &str,
        record_type: &str,
        id: Uuid,
        before: &serde_json::Value,
        after: &serde_json::Value,
    ) -> Result<(), SalesError> {
        audit::record_change(tx, &self.clock, ctx, action, record_type, id, before, after).await?;
        Ok(())
    }

    /// The next gap-free number of `kind` for the organisation and year, inside `tx`: the
    /// counter row is locked until `tx` ends, and a rollback gives the number back.
    async fn next_number(&self, tx: &mut Tx, org: Uuid, kind: &str) -> Result<String, SalesError> {
        let year = self.clock.now().year();
        let n: i64 = on_tx!(tx, |c| {
            sqlx::query_scalar(
                "INSERT INTO sales_counters (org_id, kind, year, last_number) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (org_id, kind, year) DO UPDATE SET last_number = sales_counters.last_number + 1 \
                 RETURNING last_number",
            )
            .bind(org)
            .bind(kind)
            .bind(year)
            .fetch_one(c)
            .await
        })?;
        Ok(format!("{kind}-{year}-{n:05}"))
    }

    /// Takes the store's row lock (PostgreSQL; SQLite's write lock is already held), so
    /// balance checks and changes of one store are serialised.
    async fn lock_store(&self, tx: &mut Tx, org: Uuid, store: Uuid) -> Result<(), SalesError> {
        on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_stores SET version = version WHERE org_id = $1 AND company_id = $2",
            )
            .bind(org)
            .bind(store)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    // ------------------------------------------------------------------ stores

    async fn store_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<StoreRow>, SalesError> {
        Ok(on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {STORE_COLUMNS} FROM sales_stores WHERE org_id = $1 AND company_id = $2"
            )))
            .bind(org)
            .bind(id)
            .fetch_optional(c)
            .await
        })?)
    }

    pub(crate) async fn store_row(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<StoreRow, SalesError> {
        let rep = store_visibility(ctx)?;
        let row: Option<StoreRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {STORE_COLUMNS} FROM sales_stores WHERE org_id = $1 AND company_id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.filter(|r| rep.is_none() || r.assigned_rep == rep)
            .ok_or(SalesError::NotFound("store"))
    }

    fn check_store_fields(
        latitude: Option<f64>,
        longitude: Option<f64>,
        credit: Option<&Money>,
        visit: Option<i32>,
        errors: &mut Vec<FieldError>,
    ) -> Option<(i64, String)> {
        if latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l)) {
            errors.push(FieldError::new("latitude", "must be between -90 and 90"));
        }
        if longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l)) {
            errors.push(FieldError::new("longitude", "must be between -180 and 180"));
        }
        if visit.is_some_and(|v| !(1..=365).contains(&v)) {
            errors.push(FieldError::new(
                "visit_frequency_days",
                "must be between 1 and 365",
            ));
        }
        let credit = credit?;
        let amount = checked_money("credit_limit.amount", credit.amount, false, errors);
        match money::check_currency(&credit.currency) {
            Ok(currency) => Some((amount, currency)),
            Err(message) => {
                errors.push(FieldError::new("credit_limit.currency", message));
                None
            }
        }
    }

    async fn price_list_exists(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<bool, SalesError> {
        let found: Option<Uuid> = on_tx!(tx, |c| {
            sqlx::query_scalar("SELECT id FROM sales_price_lists WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        Ok(found.is_some())
    }

    /// Makes a CRM company a store.
    pub async fn create_store(
        &self,
        ctx: &TenantContext,
        new: NewStore,
    ) -> Result<Store, SalesError> {
        ctx.authorize("stores:create")?;
        let mut errors = Vec::new();
        let credit = Self::check_store_fields(
            new.latitude,
            new.longitude,
            new.credit_limit.as_ref(),
            new.visit_frequency_days,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let mut tx = self.db.begin().await?;
        if !self
            .crm
            .company_exists_in(&mut tx, ctx, new.company_id)
            .await?
        {
            return Err(SalesError::field(
                "company_id",
                "is not a company of this organisation",
            ));
        }
        if self
            .store_row_tx(&mut tx, ctx.org_id(), new.company_id)
            .await?
            .is_some()
        {
            return Err(SalesError::Conflict(
                "this company is already a store".to_owned(),
            ));
        }
        if let Some(list) = new.price_list_id
            && !self.price_list_exists(&mut tx, ctx.org_id(), list).await?
        {
            return Err(SalesError::field(
                "price_list_id",
                "is not a price list of this organisation",
            ));
        }
        let now = self.clock.now();
        let store = Store {
            id: new.company_id,
            company_id: new.company_id,
            region: clean(new.region),
            province: clean(new.province),
            city: clean(new.city),
            precision_area: clean(new.precision_area),
            channel: clean(new.channel),
            latitude: new.latitude,
            longitude: new.longitude,
            credit_limit: credit.as_ref().map(|(scaled, currency)| Money {
                amount: from_scaled(*scaled),
                currency: currency.clone(),
            }),
            assigned_rep: new.assigned_rep,
            visit_frequency_days: new.visit_frequency_days,
            price_list_id: new.price_list_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_stores (org_id, company_id, region, province, city, precision_area, channel, latitude, longitude, \
                 credit_limit_scaled, credit_currency, assigned_rep, visit_frequency_days, price_list_id, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1)",
            )
            .bind(ctx.org_id())
            .bind(store.company_id)
            .bind(&store.region)
            .bind(&store.province)
            .bind(&store.city)
            .bind(&store.precision_area)
            .bind(&store.channel)
            .bind(store.latitude)
            .bind(store.longitude)
            .bind(credit.as_ref().map(|c| c.0))
            .bind(credit.as_ref().map(|c| c.1.clone()))
            .bind(store.assigned_rep)
            .bind(store.visit_frequency_days)
            .bind(store.price_list_id)
            .bind(now)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        self.record(
            &mut tx,
            ctx,
            "store.created",
            "store",
            store.id,
            &serde_json::Value::Null,
            &json(&store),
        )
        .await?;
        tx.commit().await?;
        Ok(store)
    }

    /// One store.
    pub async fn get_store(&self, ctx: &TenantContext, id: Uuid) -> Result<Store, SalesError> {
        Ok(self.store_row(ctx, id).await?.into())
    }

    /// Stores (`?q=`, `?region=`, `?channel=`, `?assigned_rep=`, `?sort=`), only the
    /// caller's own when they hold `stores:read:own` only.
    ///
    /// `q` (at most [`MAX_STORE_SEARCH`] characters) keeps the stores whose company name,
    /// region, province, city or precision area contains it, ignoring case; `%` and `_`
    /// are plain characters. Company names are the CRM's: they are matched through
    /// [`Crm::list_companies`] (so only for callers with `companies:read`, and only the
    /// companies they may see), never by reading the CRM's table.
    pub async fn list_stores(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Store>, SalesError> {
        let rep = store_visibility(ctx)?;
        let search = store_search(query)?;
        let plan = STORE_LIST
            .plan(query, &["q"])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let mut own = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if let Some(rep) = rep {
            own.push(SqlValue::Uuid(rep));
            scope = format!(" AND assigned_rep = ${}", own.len());
        }
        if let Some(text) = &search {
            own.push(SqlValue::Text(kernel::list::contains_pattern(text)));
            let pattern = own.len();
            let mut terms: Vec<String> = STORE_SEARCH_COLUMNS
                .iter()
                .map(|column| format!("LOWER({column}) LIKE ${pattern} ESCAPE '\\'"))
                .collect();
            let named = self.companies_named(ctx, text).await?;
            if !named.is_empty() {
                own.push(SqlValue::Text(hex_id_list(&named)));
                terms.push(company_in_list(self.db.backend(), own.len()));
            }
            scope.push_str(&format!(" AND ({})", terms.join(" OR ")));
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {STORE_COLUMNS} FROM sales_stores WHERE org_id = $1{scope}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<StoreRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows.into_iter().map(Store::from).collect()))
    }

    /// Ids of the companies whose name contains `text` (ignoring case), as the CRM lists
    /// them to the caller: every page of `GET /api/v1/companies?name[contains]=`. Empty
    /// for a caller without `companies:read` (they do not see company names, so a name
    /// cannot find a store for them either).
    async fn companies_named(
        &self,
        ctx: &TenantContext,
        text: &str,
    ) -> Result<Vec<Uuid>, SalesError> {
        if !ctx.can("companies:read") {
            return Ok(Vec::new());
        }
        // The CRM keeps names with their whitespace collapsed; search the same form.
        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut query = BTreeMap::from([
            ("name[contains]".to_owned(), name),
            (
                "limit".to_owned(),
                crm::service::COMPANY_LIST.max_limit.to_string(),
            ),
        ]);
        let mut ids = Vec::new();
        loop {
            let page = self.crm.list_companies(ctx, &query).await?;
            ids.extend(page.data.iter().map(|c| c.id));
            match page.meta.next_cursor {
                Some(cursor) => {
                    query.insert("cursor".to_owned(), cursor);
                }
                None => return Ok(ids),
            }
        }
    }

    /// Changes a store (`stores:update`, or `stores:update:own` for the assigned rep).
    pub async fn update_store(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: StorePatch,
        expected: i64,
    ) -> Result<Store, SalesError> {
        let current: Store = self.store_row(ctx, id).await?.into();
        ctx.authorize_owned("stores:update", current.assigned_rep)?;
        if current.version != expected {
            return Err(SalesError::VersionMismatch {
                current: json(&current),
            });
        }
        let mut errors = Vec::new();
        let credit = Self::check_store_fields(
            patch.latitude,
            patch.longitude,
            patch.credit_limit.as_ref(),
            patch.visit_frequency_days,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let mut next = current.clone();
        macro_rules! set_text {
            ($($f:ident),*) => {$(
                if let Some(v) = patch.$f { next.$f = clean(Some(v)); }
            )*};
        }
        set_text!(region, province, city, precision_area, channel);
        if patch.latitude.is_some() {
            next.latitude = patch.latitude;
        }
        if patch.longitude.is_some() {
            next.longitude = patch.longitude;
        }
        if let Some((amount, currency)) = credit {
            next.credit_limit = Some(Money {
                amount: from_scaled(amount),
                currency,
            });
        }
        if patch.assigned_rep.is_some() {
            next.assigned_rep = patch.assigned_rep;
        }
        if patch.visit_frequency_days.is_some() {
            next.visit_frequency_days = patch.visit_frequency_days;
        }
        next.updated_at = self.clock.now();
        next.version += 1;
        let mut tx = self.db.begin().await?;
        if let Some(list) = patch.price_list_id {
            if !self.price_list_exists(&mut tx, ctx.org_id(), list).await? {
                return Err(SalesError::field(
                    "price_list_id",
                    "is not a price list of this organisation",
                ));
            }
            next.price_list_id = Some(list);
        }
        let credit_scaled = next.credit_limit.as_ref().map(|m| scaled(m.amount));
        let credit_currency = next.credit_limit.as_ref().map(|m| m.currency.clone());
        let changed = on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_stores SET region = $3, province = $4, city = $5, precision_area = $6, channel = $7, latitude = $8, \
                 longitude = $9, credit_limit_scaled = $10, credit_currency = $11, assigned_rep = $12, visit_frequency_days = $13, \
                 price_list_id = $14, updated_at = $15, version = version + 1 WHERE org_id = $1 AND company_id = $2 AND version = $16",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(&next.region)
            .bind(&next.province)
            .bind(&next.city)
            .bind(&next.precision_area)
            .bind(&next.channel)
            .bind(next.latitude)
            .bind(next.longitude)
            .bind(credit_scaled)
            .bind(credit_currency.clone())
            .bind(next.assigned_rep)
            .bind(next.visit_frequency_days)
            .bind(next.price_list_id)
            .bind(next.updated_at)
            .bind(expected)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            drop(tx);
            let now: Store = self.store_row(ctx, id).await?.into();
            return Err(SalesError::VersionMismatch {
                current: json(&now),
            });
        }
        self.record(
            &mut tx,
            ctx,
            "store.updated",
            "store",
            id,
            &json(&current),
            &json(&next),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// (unpaid invoice balances, confirmed-not-invoiced orders) of a store in `currency`.
    const BALANCE_SQL: &'static str = "SELECT \
         CAST((SELECT COALESCE(SUM(total_scaled - paid_scaled - credited_scaled), 0) FROM sales_invoices \
               WHERE org_id = $1 AND store_id = $2 AND currency = $3) AS BIGINT), \
         CAST((SELECT COALESCE(SUM(total_scaled), 0) FROM sales_orders \
               WHERE org_id = $1 AND store_id = $2 AND currency = $3 AND status IN ('confirmed', 'delivered')) AS BIGINT)";

    async fn open_amounts_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        store: Uuid,
        currency: &str,
    ) -> Result<(i64, i64), SalesError> {
        Ok(on_tx!(tx, |c| {
            sqlx::query_as(Self::BALANCE_SQL)
                .bind(org)
                .bind(store)
                .bind(currency)
                .fetch_one(c)
                .await
        })?)
    }

    /// What a store owes, in its credit limit's currency (else its latest order's).
    pub async fn store_balance(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<StoreBalance, SalesError> {
        ctx.authorize("invoices:read")?;
        let store: Store = self.store_row(ctx, id).await?.into();
        let currency = match &store.credit_limit {
            Some(limit) => Some(limit.currency.clone()),
            None => on_pool!(self.db, |p| {
                sqlx::query_scalar(
                    "SELECT currency FROM sales_orders WHERE org_id = $1 AND store_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
                )
                .bind(ctx.org_id())
                .bind(id)
                .fetch_optional(p)
                .await
            })?,
        };
        let (invoices, orders) = match &currency {
            Some(currency) => on_pool!(self.db, |p| {
                sqlx::query_as::<_, (i64, i64)>(Self::BALANCE_SQL)
                    .bind(ctx.org_id())
                    .bind(id)
                    .bind(currency)
                    .fetch_one(p)
                    .await
            })?,
            None => (0, 0),
        };
        let open_balance = from_scaled(invoices + orders);
        let credit_limit = store.credit_limit.as_ref().map(|m| m.amount);
        Ok(StoreBalance {
            store_id: id,
            currency,
            open_invoices: from_scaled(invoices),
            uninvoiced_orders: from_scaled(orders),
            open_balance,
            credit_limit,
            available_credit: credit_limit.map(|limit| limit - open_balance),
        })
    }

    // ------------------------------------------------------------------ products

    async fn product_row(&self, ctx: &TenantContext, id: Uuid) -> Result<ProductRow, SalesError> {
        let row: Option<ProductRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {PRODUCT_COLUMNS} FROM sales_products WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(SalesError::NotFound("product"))
    }

    async fn product_exists(&self, tx: &mut Tx, org: Uuid, id: Uuid) -> Result<bool, SalesError> {
        let found: Option<Uuid> = on_tx!(tx, |c| {
            sqlx::query_scalar("SELECT id FROM sales_products WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(c)
                .await
        })?;
        Ok(found.is_some())
    }

    /// Creates a product; the SKU is unique per organisation (case-insensitive).
    pub async fn create_product(
        &self,
        ctx: &TenantContext,
        new: NewProduct,
    ) -> Result<Product, SalesError> {
        ctx.authorize("products:create")?;
        let mut errors = Vec::new();
        let sku = new.sku.trim().to_owned();
        if sku.is_empty() {
            errors.push(FieldError::new("sku", "is required"));
        }
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let now = self.clock.now();
        let product = Product {
            id: Uuid::now_v7(),
            sku: sku.clone(),
            name: new.name.trim().to_owned(),
            brand: clean(new.brand),
            category: clean(new.category),
            pack_type: clean(new.pack_type),
            unit_of_measure: clean(new.unit_of_measure).unwrap_or_else(|| "unit".to_owned()),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let key = sku.to_uppercase();
        let mut tx = self.db.begin().await?;
        let taken: Option<Uuid> = on_tx!(tx, |c| {
            sqlx::query_scalar("SELECT id FROM sales_products WHERE org_id = $1 AND sku_key = $2")
                .bind(ctx.org_id())
                .bind(&key)
                .fetch_optional(c)
                .await
        })?;
        if taken.is_some() {
            return Err(SalesError::field(
                "sku",
                "is already used by another product",
            ));
        }
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_products (org_id, id, sku, sku_key, name, brand, category, pack_type, unit_of_measure, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)",
            )
            .bind(ctx.org_id())
            .bind(product.id)
            .bind(&product.sku)
            .bind(&key)
            .bind(&product.name)
            .bind(&product.brand)
            .bind(&product.category)
            .bind(&product.pack_type)
            .bind(&product.unit_of_measure)
            .bind(now)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        self.record(
            &mut tx,
            ctx,
            "product.created",
            "product",
            product.id,
            &serde_json::Value::Null,
            &json(&product),
        )
        .await?;
        tx.commit().await?;
        Ok(product)
    }

    /// One product.
    pub async fn get_product(&self, ctx: &TenantContext, id: Uuid) -> Result<Product, SalesError> {
        ctx.authorize("products:read")?;
        Ok(self.product_row(ctx, id).await?.into())
    }

    /// Products (`?sku=`, `?brand=`, `?category=`, `?pack_type=`, `?sort=`).
    pub async fn list_products(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Product>, SalesError> {
        ctx.authorize("products:read")?;
        let mut query = query.clone();
        // SKUs compare case-insensitively: the filter reads the upper-cased key.
        if let Some(sku) = query.get_mut("sku") {
            *sku = sku.to_uppercase();
        }
        let plan = PRODUCT_LIST
            .plan(&query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let sql = plan.sql(2);
        let text = format!(
            "SELECT {PRODUCT_COLUMNS} FROM sales_products WHERE org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<ProductRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows.into_iter().map(Product::from).collect()))
    }

    /// Changes a product (`products:update`).
    pub async fn update_product(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: ProductPatch,
        expected: i64,
    ) -> Result<Product, SalesError> {
        ctx.authorize("products:update")?;
        let current: Product = self.product_row(ctx, id).await?.into();
        if current.version != expected {
            return Err(SalesError::VersionMismatch {
                current: json(&current),
            });
        }
        let mut next = current.clone();
        if let Some(name) = patch.name {
            if name.trim().is_empty() {
                return Err(SalesError::field("name", "cannot be empty"));
            }
            next.name = name.trim().to_owned();
        }
        if let Some(v) = patch.brand {
            next.brand = clean(Some(v));
        }
        if let Some(v) = patch.category {
            next.category = clean(Some(v));
        }
        if let Some(v) = patch.pack_type {
            next.pack_type = clean(Some(v));
        }
        if let Some(v) = clean(patch.unit_of_measure) {
            next.unit_of_measure = v;
        }
        next.updated_at = self.clock.now();
        next.version += 1;
        let mut tx = self.db.begin().await?;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_products SET name = $3, brand = $4, category = $5, pack_type = $6, unit_of_measure = $7, updated_at = $8, \
                 version = version + 1 WHERE org_id = $1 AND id = $2 AND version = $9",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(&next.name)
            .bind(&next.brand)
            .bind(&next.category)
            .bind(&next.pack_type)
            .bind(&next.unit_of_measure)
            .bind(next.updated_at)
            .bind(expected)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            drop(tx);
            let now: Product = self.product_row(ctx, id).await?.into();
            return Err(SalesError::VersionMismatch {
                current: json(&now),
            });
        }
        self.record(
            &mut tx,
            ctx,
            "product.updated",
            "product",
            id,
            &json(&current),
            &json(&next),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    // ------------------------------------------------------------------ price lists

    async fn insert_price_items(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        list: Uuid,
        items: Vec<NewPriceListItem>,
    ) -> Result<Vec<PriceListItem>, SalesError> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let at = |f: &str| format!("items[{i}].{f}");
            let price = checked_money(&at("unit_price"), item.unit_price, false, &mut errors);
            let currency = match money::check_currency(&item.currency) {
                Ok(c) => c,
                Err(message) => {
                    errors.push(FieldError::new(at("currency"), message));
                    String::new()
                }
            };
            if item.valid_to.is_some_and(|to| to < item.valid_from) {
                errors.push(FieldError::new(
                    at("valid_to"),
                    "must not be before valid_from",
                ));
            }
            if !self
                .product_exists(tx, ctx.org_id(), item.product_id)
                .await?
            {
                errors.push(FieldError::new(
                    at("product_id"),
                    "is not a product of this organisation",
                ));
            }
            out.push((
                PriceListItem {
                    id: Uuid::now_v7(),
                    product_id: item.product_id,
                    unit_price: from_scaled(price),
                    currency,
                    valid_from: item.valid_from,
                    valid_to: item.valid_to,
                },
                price,
            ));
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        for (item, price) in &out {
            on_tx!(tx, |c| {
                sqlx::query(
                    "INSERT INTO sales_price_list_items (org_id, id, price_list_id, product_id, unit_price_scaled, currency, valid_from, valid_to) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(ctx.org_id())
                .bind(item.id)
                .bind(list)
                .bind(item.product_id)
                .bind(*price)
                .bind(&item.currency)
                .bind(date_text(item.valid_from))
                .bind(item.valid_to.map(date_text))
                .execute(c)
                .await
                .map(|_| ())
            })?;
        }
        Ok(out.into_iter().map(|(item, _)| item).collect())
    }

    /// Creates a price list with its prices.
    pub async fn create_price_list(
        &self,
        ctx: &TenantContext,
        new: NewPriceList,
    ) -> Result<PriceList, SalesError> {
        ctx.authorize("products:create")?;
        if new.name.trim().is_empty() {
            return Err(SalesError::field("name", "is required"));
        }
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_price_lists (org_id, id, name, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, 1)",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(new.name.trim())
            .bind(now)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let items = self.insert_price_items(&mut tx, ctx, id, new.items).await?;
        let list = PriceList {
            id,
            name: new.name.trim().to_owned(),
            items,
            created_at: now,
            version: 1,
        };
        self.record(
            &mut tx,
            ctx,
            "price_list.created",
            "price_list",
            id,
            &serde_json::Value::Null,
            &json(&list),
        )
        .await?;
        tx.commit().await?;
        Ok(list)
    }

    /// Adds prices to a list (`products:update`).
    pub async fn add_price_items(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        new: NewPriceListItems,
    ) -> Result<PriceList, SalesError> {
        ctx.authorize("products:update")?;
        let mut tx = self.db.begin().await?;
        if !self.price_list_exists(&mut tx, ctx.org_id(), id).await? {
            return Err(SalesError::NotFound("price list"));
        }
        let items = self.insert_price_items(&mut tx, ctx, id, new.items).await?;
        self.record(
            &mut tx,
            ctx,
            "price_list.items_added",
            "price_list",
            id,
            &serde_json::Value::Null,
            &serde_json::json!({ "items": items }),
        )
        .await?;
        tx.commit().await?;
        self.get_price_list(ctx, id).await
    }

    /// One price list with its prices.
    pub async fn get_price_list(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<PriceList, SalesError> {
        ctx.authorize("products:read")?;
        let row: Option<PriceListRow> = on_pool!(self.db, |p| {
            sqlx::query_as("SELECT id, name, created_at, version FROM sales_price_lists WHERE org_id = $1 AND id = $2")
                .bind(ctx.org_id())
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        let row = row.ok_or(SalesError::NotFound("price list"))?;
        let items: Vec<PriceItemRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {PRICE_ITEM_COLUMNS} FROM sales_price_list_items WHERE org_id = $1 AND price_list_id = $2 \
                 ORDER BY product_id, valid_from, id"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        Ok(PriceList {
            id: row.id,
            name: row.name,
            items: items.into_iter().map(PriceListItem::from).collect(),
            created_at: row.created_at,
            version: row.version,
        })
    }

    /// Every price list (without their items), by name.
    pub async fn list_price_lists(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<PriceList>, SalesError> {
        ctx.authorize("products:read")?;
        let rows: Vec<PriceListRow> = on_pool!(self.db, |p| {
            sqlx::query_as("SELECT id, name, created_at, version FROM sales_price_lists WHERE org_id = $1 ORDER BY name, id")
                .bind(ctx.org_id())
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| PriceList {
                id: r.id,
                name: r.name,
                items: Vec::new(),
                created_at: r.created_at,
                version: r.version,
            })
            .collect())
    }

    const PRICE_IN_FORCE_SQL: &'static str = "SELECT id, product_id, unit_price_scaled, currency, valid_from, valid_to \
         FROM sales_price_list_items WHERE org_id = $1 AND price_list_id = $2 AND product_id = $3 \
         AND valid_from <= $4 AND (valid_to IS NULL OR valid_to >= $4) ORDER BY valid_from DESC, id DESC LIMIT 1";

    /// The price of `product` in list `id` in force on `on` (the latest `valid_from` on or
    /// before it, not past its `valid_to`).
    pub async fn price_in_force(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        product: Uuid,
        on: Option<NaiveDate>,
    ) -> Result<PriceInForce, SalesError> {
        let list = self.get_price_list(ctx, id).await?;
        let on = on.unwrap_or_else(|| self.today());
        let row: Option<PriceItemRow> = on_pool!(self.db, |p| {
            sqlx::query_as(Self::PRICE_IN_FORCE_SQL)
                .bind(ctx.org_id())
                .bind(list.id)
                .bind(product)
                .bind(date_text(on))
                .fetch_optional(p)
                .await
        })?;
        let row = row.ok_or(SalesError::NotFound("price in force"))?;
        Ok(PriceInForce {
            product_id: product,
            on,
            item: row.into(),
        })
    }

    // ------------------------------------------------------------------ orders

    /// Validates and prices `lines` inside `tx` (prices default from `list` on `on`).
    async fn priced_lines(
        &self,
        tx: &mut Tx,
        org: Uuid,
        lines: &[NewOrderLine],
        list: Option<Uuid>,
        on: NaiveDate,
        currency: &mut Option<String>,
    ) -> Result<Vec<PricedLine>, SalesError> {
        let mut errors = Vec::new();
        if lines.is_empty() {
            errors.push(FieldError::new("lines", "must have at least one line"));
        }
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            checked_money(&at("quantity"), line.quantity, true, &mut errors);
            let discount_pct = line.discount_pct.unwrap_or_default();
            let tax_pct = line.tax_pct.unwrap_or_default();
            checked_pct(&at("discount_pct"), discount_pct, &mut errors);
            checked_pct(&at("tax_pct"), tax_pct, &mut errors);
            if !self.product_exists(tx, org, line.product_id).await? {
                errors.push(FieldError::new(
                    at("product_id"),
                    "is not a product of this organisation",
                ));
                continue;
            }
            let unit_price = match line.unit_price {
                Some(price) => {
                    checked_money(&at("unit_price"), price, false, &mut errors);
                    price
                }
                None => {
                    let found: Option<PriceItemRow> = match list {
                        Some(list) => on_tx!(tx, |c| {
                            sqlx::query_as(Self::PRICE_IN_FORCE_SQL)
                                .bind(org)
                                .bind(list)
                                .bind(line.product_id)
                                .bind(date_text(on))
                                .fetch_optional(c)
                                .await
                        })?,
                        None => None,
                    };
                    let Some(found) = found else {
                        errors.push(FieldError::new(
                            at("unit_price"),
                            "is required: no price list price is in force for this product on the order date",
                        ));
                        continue;
                    };
                    match currency {
                        None => *currency = Some(found.currency.clone()),
                        Some(c) if *c != found.currency => {
                            errors.push(FieldError::new(
                                at("unit_price"),
                                format!(
                                    "the price list's price is in {}, the order in {c}",
                                    found.currency
                                ),
                            ));
                            continue;
                        }
                        Some(_) => {}
                    }
                    from_scaled(found.unit_price_scaled)
                }
            };
            out.push((
                line.product_id,
                LineInput {
                    quantity: line.quantity,
                    unit_price,
                    discount_pct,
                    tax_pct,
                },
            ));
        }
        let Some(currency) = currency.clone() else {
            errors.push(FieldError::new(
                "currency",
                "is required when no price comes from a price list",
            ));
            return Err(SalesError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let mut priced = Vec::new();
        for (i, (product_id, input)) in out.into_iter().enumerate() {
            let amounts = money::line_amounts(input, &currency)
                .filter(|a| to_scaled(a.gross).is_ok() && to_scaled(a.total).is_ok())
                .ok_or_else(|| {
                    SalesError::field(
                        &format!("lines[{i}].quantity"),
                        "the line's amount is too large",
                    )
                })?;
            priced.push(PricedLine {
                product_id,
                input,
                amounts,
            });
        }
        Ok(priced)
    }

    async fn write_lines(
        &self,
        tx: &mut Tx,
        org: Uuid,
        order: Uuid,
        lines: &[PricedLine],
    ) -> Result<Vec<OrderLine>, SalesError> {
        on_tx!(tx, |c| {
            sqlx::query("DELETE FROM sales_order_lines WHERE org_id = $1 AND order_id = $2")
                .bind(org)
                .bind(order)
                .execute(c)
                .await
                .map(|_| ())
        })?;
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let line_no = i as i32 + 1;
            let a = line.amounts;
            on_tx!(tx, |c| {
                sqlx::query(
                    "INSERT INTO sales_order_lines (org_id, order_id, line_no, product_id, quantity_scaled, unit_price_scaled, \
                     discount_pct_scaled, tax_pct_scaled, gross_scaled, discount_scaled, net_scaled, tax_scaled, total_scaled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(org)
                .bind(order)
                .bind(line_no)
                .bind(line.product_id)
                .bind(scaled(line.input.quantity))
                .bind(scaled(line.input.unit_price))
                .bind(scaled(line.input.discount_pct))
                .bind(scaled(line.input.tax_pct))
                .bind(scaled(a.gross))
                .bind(scaled(a.discount))
                .bind(scaled(a.net))
                .bind(scaled(a.tax))
                .bind(scaled(a.total))
                .execute(c)
                .await
                .map(|_| ())
            })?;
            out.push(OrderLine {
                line_no,
                product_id: line.product_id,
                quantity: line.input.quantity.normalize(),
                unit_price: from_scaled(scaled(line.input.unit_price)),
                discount_pct: line.input.discount_pct.normalize(),
                tax_pct: line.input.tax_pct.normalize(),
                gross: from_scaled(scaled(a.gross)),
                discount: from_scaled(scaled(a.discount)),
                net: from_scaled(scaled(a.net)),
                tax: from_scaled(scaled(a.tax)),
                total: from_scaled(scaled(a.total)),
            });
        }
        Ok(out)
    }

    fn totals(lines: &[PricedLine]) -> Result<money::OrderAmounts, SalesError> {
        let amounts: Vec<LineAmounts> = lines.iter().map(|l| l.amounts).collect();
        money::order_amounts(&amounts)
            .filter(|t| to_scaled(t.total).is_ok() && to_scaled(t.subtotal).is_ok())
            .ok_or_else(|| SalesError::field("lines", "the order's total is too large"))
    }

    /// A store the caller may see, read through `tx`; `Err` names `field` when it is not.
    async fn visible_store_tx(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<Option<StoreRow>, SalesError> {
        let rep = store_visibility(ctx)?;
        Ok(self
            .store_row_tx(tx, ctx.org_id(), id)
            .await?
            .filter(|r| rep.is_none() || r.assigned_rep == rep))
    }

    /// Enters a Draft order; unit prices default from the price list in force on the order
    /// date (the body's list, else the store's).
    pub async fn create_order(
        &self,
        ctx: &TenantContext,
        new: NewSalesOrder,
    ) -> Result<SalesOrder, SalesError> {
        ctx.authorize("orders:create")?;
        let mut currency = match new
            .currency
            .as_deref()
            .map(money::check_currency)
            .transpose()
        {
            Ok(c) => c,
            Err(message) => return Err(SalesError::field("currency", message)),
        };
        let order_date = new.order_date.unwrap_or_else(|| self.today());
        let mut tx = self.db.begin().await?;
        let Some(store) = self.visible_store_tx(&mut tx, ctx, new.store_id).await? else {
            return Err(SalesError::field(
                "store_id",
                "is not a store of this organisation",
            ));
        };
        let list = new.price_list_id.or(store.price_list_id);
        if let Some(l) = new.price_list_id
            && !self.price_list_exists(&mut tx, ctx.org_id(), l).await?
        {
            return Err(SalesError::field(
                "price_list_id",
                "is not a price list of this organisation",
            ));
        }
        if currency.is_none() && new.lines.iter().all(|l| l.unit_price.is_some()) {
            currency = store.credit_currency.clone();
        }
        let lines = self
            .priced_lines(
                &mut tx,
                ctx.org_id(),
                &new.lines,
                list,
                order_date,
                &mut currency,
            )
            .await?;
        let currency = currency.unwrap_or_default();
        if let Some(credit) = &store.credit_currency
            && *credit != currency
        {
            return Err(SalesError::field(
                "currency",
                format!("the store's credit limit is in {credit}; its orders must be too"),
            ));
        }
        let totals = Self::totals(&lines)?;
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let number = self.next_number(&mut tx, ctx.org_id(), "SO").await?;
        let notes = clean(new.notes);
        let created_by = ctx.actor().user_id();
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_orders (org_id, id, number, store_id, status, currency, price_list_id, order_date, subtotal_scaled, \
                 discount_scaled, tax_scaled, total_scaled, notes, created_by, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(&number)
            .bind(store.company_id)
            .bind(&currency)
            .bind(list)
            .bind(date_text(order_date))
            .bind(scaled(totals.subtotal))
            .bind(scaled(totals.discount))
            .bind(scaled(totals.tax))
            .bind(scaled(totals.total))
            .bind(&notes)
            .bind(created_by)
            .bind(now)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let written = self.write_lines(&mut tx, ctx.org_id(), id, &lines).await?;
        let order = SalesOrder {
            id,
            number,
            store_id: store.company_id,
            status: OrderStatus::Draft,
            currency,
            price_list_id: list,
            order_date,
            lines: written,
            subtotal: from_scaled(scaled(totals.subtotal)),
            discount: from_scaled(scaled(totals.discount)),
            tax: from_scaled(scaled(totals.tax)),
            total: from_scaled(scaled(totals.total)),
            notes,
            created_by,
            credit_override_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.record(
            &mut tx,
            ctx,
            "sales_order.created",
            "sales_order",
            id,
            &serde_json::Value::Null,
            &json(&order),
        )
        .await?;
        tx.commit().await?;
        Ok(order)
    }

    async fn order_row_tx(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<OrderRow, SalesError> {
        let row: Option<OrderRow> = on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM sales_orders WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(c)
            .await
        })?;
        let row = row.ok_or(SalesError::NotFound("sales order"))?;
        if self
            .visible_store_tx(tx, ctx, row.store_id)
            .await?
            .is_none()
        {
            return Err(SalesError::NotFound("sales order"));
        }
        Ok(row)
    }

    async fn lines_of(
        &self,
        org: Uuid,
        orders: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<OrderLine>>, SalesError> {
        let mut out: HashMap<Uuid, Vec<OrderLine>> = HashMap::new();
        if orders.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> = (0..orders.len()).map(|i| format!("${}", i + 2)).collect();
        let text = format!(
            "SELECT {LINE_COLUMNS} FROM sales_order_lines WHERE org_id = $1 AND order_id IN ({}) ORDER BY order_id, line_no",
            placeholders.join(", ")
        );
        let rows: Vec<LineRow> = on_pool!(self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(org);
            for id in orders {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        for row in rows {
            out.entry(row.order_id).or_default().push(row.into());
        }
        Ok(out)
    }

    async fn lines_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        order: Uuid,
    ) -> Result<Vec<OrderLine>, SalesError> {
        let rows: Vec<LineRow> = on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {LINE_COLUMNS} FROM sales_order_lines WHERE org_id = $1 AND order_id = $2 ORDER BY line_no"
            )))
            .bind(org)
            .bind(order)
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(OrderLine::from).collect())
    }

    /// One order with its lines.
    pub async fn get_order(&self, ctx: &TenantContext, id: Uuid) -> Result<SalesOrder, SalesError> {
        ctx.authorize("orders:read")?;
        let rep = store_visibility(ctx)?;
        let row: Option<OrderRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM sales_orders WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(SalesError::NotFound("sales order"))?;
        if rep.is_some() {
            self.store_row(ctx, row.store_id)
                .await
                .map_err(|_| SalesError::NotFound("sales order"))?;
        }
        let mut lines = self.lines_of(ctx.org_id(), &[id]).await?;
        Ok(row.into_order(lines.remove(&id).unwrap_or_default()))
    }

    /// Orders (`?status=`, `?store_id=`, `?sort=`), with their lines.
    pub async fn list_orders(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<SalesOrder>, SalesError> {
        ctx.authorize("orders:read")?;
        let rep = store_visibility(ctx)?;
        let plan = ORDER_LIST
            .plan(query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let mut own = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if let Some(rep) = rep {
            own.push(SqlValue::Uuid(rep));
            scope = own_stores_clause("store_id", own.len());
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {ORDER_COLUMNS} FROM sales_orders WHERE org_id = $1{scope}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<OrderRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut lines = self.lines_of(ctx.org_id(), &ids).await?;
        let orders = rows
            .into_iter()
            .map(|r| {
                let l = lines.remove(&r.id).unwrap_or_default();
                r.into_order(l)
            })
            .collect();
        Ok(plan.page(orders))
    }

    /// Changes an order: new lines (Draft only), notes, and/or a status transition.
    /// Confirming checks the store's credit limit: the open balance (unpaid invoices +
    /// confirmed or delivered orders) plus this order must not exceed it, unless the caller
    /// holds `orders:manage` and sends `override_credit_limit` with a reason — audited and
    /// announced as `sales_order.credit_override`.
    pub async fn update_order(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: SalesOrderPatch,
        expected: i64,
    ) -> Result<SalesOrder, SalesError> {
        ctx.authorize("orders:read")?;
        if patch.override_credit_limit {
            ctx.authorize("orders:manage")?;
            if clean(patch.override_reason.clone()).is_none() {
                return Err(SalesError::field(
                    "override_reason",
                    "is required to override the credit limit",
                ));
            }
        }
        let mut tx = self.db.begin().await?;
        let row = self.order_row_tx(&mut tx, ctx, id).await?;
        ctx.authorize_owned("orders:update", row.created_by)?;
        let current_lines = self.lines_tx(&mut tx, ctx.org_id(), id).await?;
        let current = row.clone().into_order(current_lines);
        if current.version != expected {
            return Err(SalesError::VersionMismatch {
                current: json(&current),
            });
        }
        let mut next = current.clone();
        let mut lines_changed = false;
        if let Some(new_lines) = &patch.lines {
            if current.status != OrderStatus::Draft {
                return Err(SalesError::field(
                    "lines",
                    "only a draft order's lines can change",
                ));
            }
            let mut currency = Some(current.currency.clone());
            let priced = self
                .priced_lines(
                    &mut tx,
                    ctx.org_id(),
                    new_lines,
                    current.price_list_id,
                    current.order_date,
                    &mut currency,
                )
                .await?;
            let totals = Self::totals(&priced)?;
            next.lines = self.write_lines(&mut tx, ctx.org_id(), id, &priced).await?;
            next.subtotal = from_scaled(scaled(totals.subtotal));
            next.discount = from_scaled(scaled(totals.discount));
            next.tax = from_scaled(scaled(totals.tax));
            next.total = from_scaled(scaled(totals.total));
            lines_changed = true;
        }
        if let Some(notes) = &patch.notes {
            next.notes = clean(Some(notes.clone()));
            lines_changed = true;
        }
        let transition = patch.status.filter(|s| *s != current.status);
        let mut override_record = None;
        if let Some(target) = transition {
            if target == OrderStatus::Invoiced {
                return Err(SalesError::field(
                    "status",
                    "an order is invoiced through POST /api/v1/sales-orders/{id}/invoice",
                ));
            }
            if !current.status.can_become(target) {
                return Err(SalesError::Conflict(format!(
                    "a {} order cannot become {}",
                    current.status.as_str(),
                    target.as_str()
                )));
            }
            if target == OrderStatus::Confirmed {
                self.lock_store(&mut tx, ctx.org_id(), current.store_id)
                    .await?;
                let store = self
                    .store_row_tx(&mut tx, ctx.org_id(), current.store_id)
                    .await?
                    .ok_or(SalesError::NotFound("store"))?;
                if let (Some(limit), Some(currency)) =
                    (store.credit_limit_scaled, &store.credit_currency)
                {
                    let (invoices, orders) = self
                        .open_amounts_tx(&mut tx, ctx.org_id(), current.store_id, currency)
                        .await?;
                    let open = invoices + orders;
                    let after = open + scaled(next.total);
                    if after > limit {
                        let detail = format!(
                            "the store's open balance {} {currency} plus this order's {} would be {}, over its credit limit of {}",
                            from_scaled(open),
                            next.total,
                            from_scaled(after),
                            from_scaled(limit)
                        );
                        if !patch.override_credit_limit {
                            return Err(SalesError::CreditLimit { detail });
                        }
                        let reason = clean(patch.override_reason.clone()).unwrap_or_default();
                        next.credit_override_reason = Some(reason.clone());
                        override_record = Some(serde_json::json!({
                            "credit_limit": from_scaled(limit),
                            "currency": currency,
                            "open_balance": from_scaled(open),
                            "order_total": next.total,
                            "balance_after": from_scaled(after),
                            "reason": reason,
                        }));
                    }
                }
            }
            next.status = target;
        }
        next.updated_at = self.clock.now();
        next.version += 1;
        let changed = on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_orders SET status = $3, subtotal_scaled = $4, discount_scaled = $5, tax_scaled = $6, total_scaled = $7, \
                 notes = $8, credit_override_reason = $9, updated_at = $10, version = version + 1 \
                 WHERE org_id = $1 AND id = $2 AND version = $11",
            )
            .bind(ctx.org_id())
            .bind(id)
            .bind(next.status.as_str())
            .bind(scaled(next.subtotal))
            .bind(scaled(next.discount))
            .bind(scaled(next.tax))
            .bind(scaled(next.total))
            .bind(&next.notes)
            .bind(&next.credit_override_reason)
            .bind(next.updated_at)
            .bind(expected)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            // Only reachable on PostgreSQL, where another transaction committed in between.
            tx.rollback().await?;
            let now = self.get_order(ctx, id).await?;
            return Err(SalesError::VersionMismatch {
                current: json(&now),
            });
        }
        let (before, after) = (json(&current), json(&next));
        if lines_changed {
            self.record(
                &mut tx,
                ctx,
                "sales_order.updated",
                "sales_order",
                id,
                &before,
                &after,
            )
            .await?;
        }
        if let Some(details) = override_record {
            record_action(
                &mut tx,
                &self.clock,
                ctx,
                "sales_order.credit_override",
                "sales_order",
                id,
                details,
            )
            .await?;
        }
        if let Some(target) = transition {
            let action = format!("sales_order.{}", target.as_str());
            self.record(&mut tx, ctx, &action, "sales_order", id, &before, &after)
                .await?;
        }
        tx.commit().await?;
        Ok(next)
    }

    // ------------------------------------------------------------------ invoices

    async fn invoice_row_tx(
        &self,
        tx: &mut Tx,
        org: Uuid,
        id: Uuid,
    ) -> Result<Option<InvoiceRow>, SalesError> {
        Ok(on_tx!(tx, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INVOICE_COLUMNS} FROM sales_invoices WHERE org_id = $1 AND id = $2"
            )))
            .bind(org)
            .bind(id)
            .fetch_optional(c)
            .await
        })?)
    }

    /// Issues the invoice of a Delivered order (numbered `INV-<year>-<n>`, gap-free per
    /// organisation and year); the order becomes Invoiced.
    pub async fn invoice_order(
        &self,
        ctx: &TenantContext,
        order_id: Uuid,
    ) -> Result<Invoice, SalesError> {
        ctx.authorize("invoices:create")?;
        let mut tx = self.db.begin().await?;
        let row = self.order_row_tx(&mut tx, ctx, order_id).await?;
        let status = OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Draft);
        if !status.can_become(OrderStatus::Invoiced) {
            return Err(SalesError::Conflict(format!(
                "only a delivered order can be invoiced; this one is {}",
                status.as_str()
            )));
        }
        self.lock_store(&mut tx, ctx.org_id(), row.store_id).await?;
        let now = self.clock.now();
        let changed = on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_orders SET status = 'invoiced', updated_at = $3, version = version + 1 \
                 WHERE org_id = $1 AND id = $2 AND status = 'delivered'",
            )
            .bind(ctx.org_id())
            .bind(order_id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(SalesError::Conflict(
                "the order was invoiced or changed meanwhile".to_owned(),
            ));
        }
        let number = self.next_number(&mut tx, ctx.org_id(), "INV").await?;
        let invoice = Invoice {
            id: Uuid::now_v7(),
            number,
            order_id,
            store_id: row.store_id,
            currency: row.currency.clone(),
            issued_on: now.date_naive(),
            subtotal: from_scaled(row.subtotal_scaled),
            discount: from_scaled(row.discount_scaled),
            tax: from_scaled(row.tax_scaled),
            total: from_scaled(row.total_scaled),
            paid: from_scaled(0),
            credited: from_scaled(0),
            balance: from_scaled(row.total_scaled),
            status: InvoiceStatus::of(from_scaled(row.total_scaled), Decimal::ZERO),
            created_at: now,
            version: 1,
        };
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_invoices (org_id, id, number, order_id, store_id, currency, issued_on, subtotal_scaled, discount_scaled, \
                 tax_scaled, total_scaled, paid_scaled, credited_scaled, status, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, $12, $13, $14, 1)",
            )
            .bind(ctx.org_id())
            .bind(invoice.id)
            .bind(&invoice.number)
            .bind(order_id)
            .bind(row.store_id)
            .bind(&row.currency)
            .bind(date_text(invoice.issued_on))
            .bind(row.subtotal_scaled)
            .bind(row.discount_scaled)
            .bind(row.tax_scaled)
            .bind(row.total_scaled)
            .bind(invoice.status.as_str())
            .bind(now)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        self.record(
            &mut tx,
            ctx,
            "sales_order.invoiced",
            "sales_order",
            order_id,
            &serde_json::json!({"status": "delivered"}),
            &serde_json::json!({"status": "invoiced", "invoice_id": invoice.id}),
        )
        .await?;
        self.record(
            &mut tx,
            ctx,
            "invoice.issued",
            "invoice",
            invoice.id,
            &serde_json::Value::Null,
            &json(&invoice),
        )
        .await?;
        tx.commit().await?;
        Ok(invoice)
    }

    /// One invoice.
    pub async fn get_invoice(&self, ctx: &TenantContext, id: Uuid) -> Result<Invoice, SalesError> {
        ctx.authorize("invoices:read")?;
        let rep = store_visibility(ctx)?;
        let row: Option<InvoiceRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INVOICE_COLUMNS} FROM sales_invoices WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(SalesError::NotFound("invoice"))?;
        if rep.is_some() {
            self.store_row(ctx, row.store_id)
                .await
                .map_err(|_| SalesError::NotFound("invoice"))?;
        }
        Ok(row.into())
    }

    /// Invoices (`?status=`, `?store_id=`, `?sort=number`).
    pub async fn list_invoices(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Invoice>, SalesError> {
        ctx.authorize("invoices:read")?;
        let rep = store_visibility(ctx)?;
        let plan = INVOICE_LIST
            .plan(query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let mut own = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if let Some(rep) = rep {
            own.push(SqlValue::Uuid(rep));
            scope = own_stores_clause("store_id", own.len());
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {INVOICE_COLUMNS} FROM sales_invoices WHERE org_id = $1{scope}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<InvoiceRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows.into_iter().map(Invoice::from).collect()))
    }

    /// Sets an invoice's paid/credited amounts and derived status inside `tx`, recording
    /// `action` with the before/after.
    #[allow(clippy::too_many_arguments)]
    async fn settle_invoice(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        row: &InvoiceRow,
        paid: i64,
        credited: i64,
        action: &str,
    ) -> Result<(), SalesError> {
        let total = from_scaled(row.total_scaled);
        let status = InvoiceStatus::of(total, from_scaled(paid + credited));
        let now = self.clock.now();
        on_tx!(tx, |c| {
            sqlx::query(
                "UPDATE sales_invoices SET paid_scaled = $3, credited_scaled = $4, status = $5, updated_at = $6, version = version + 1 \
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(ctx.org_id())
            .bind(row.id)
            .bind(paid)
            .bind(credited)
            .bind(status.as_str())
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let before = serde_json::json!({
            "paid": from_scaled(row.paid_scaled), "credited": from_scaled(row.credited_scaled),
            "balance": from_scaled(row.balance_scaled()), "status": row.status,
        });
        let after = serde_json::json!({
            "paid": from_scaled(paid), "credited": from_scaled(credited),
            "balance": from_scaled(row.total_scaled - paid - credited), "status": status.as_str(),
        });
        self.record(tx, ctx, action, "invoice", row.id, &before, &after)
            .await
    }

    // ------------------------------------------------------------------ payments

    /// Records a payment from a store and applies it to invoices. Refused (422 naming the
    /// field) when the allocations exceed the payment or an invoice's balance.
    pub async fn record_payment(
        &self,
        ctx: &TenantContext,
        new: NewPayment,
    ) -> Result<Payment, SalesError> {
        ctx.authorize("payments:create")?;
        let mut errors = Vec::new();
        let amount = checked_money("amount", new.amount, true, &mut errors);
        let currency = money::check_currency(&new.currency).unwrap_or_else(|message| {
            errors.push(FieldError::new("currency", message));
            String::new()
        });
        let mut allocated = 0_i64;
        let mut seen = std::collections::HashSet::new();
        let mut allocations = Vec::new();
        for (i, a) in new.allocations.iter().enumerate() {
            let scaled_amount = checked_money(
                &format!("allocations[{i}].amount"),
                a.amount,
                true,
                &mut errors,
            );
            if !seen.insert(a.invoice_id) {
                errors.push(FieldError::new(
                    format!("allocations[{i}].invoice_id"),
                    "appears twice",
                ));
            }
            allocated = allocated.saturating_add(scaled_amount);
            allocations.push((a.invoice_id, scaled_amount));
        }
        if errors.is_empty() && allocated > amount {
            errors.push(FieldError::new(
                "allocations",
                format!(
                    "allocate at most the payment's amount ({}); {} was allocated",
                    from_scaled(amount),
                    from_scaled(allocated)
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let received_on = new.received_on.unwrap_or_else(|| self.today());
        let mut tx = self.db.begin().await?;
        let Some(store) = self.visible_store_tx(&mut tx, ctx, new.store_id).await? else {
            return Err(SalesError::field(
                "store_id",
                "is not a store of this organisation",
            ));
        };
        self.lock_store(&mut tx, ctx.org_id(), store.company_id)
            .await?;
        let mut invoices = Vec::new();
        for (i, (invoice_id, part)) in allocations.iter().enumerate() {
            let row = self
                .invoice_row_tx(&mut tx, ctx.org_id(), *invoice_id)
                .await?
                .filter(|r| r.store_id == store.company_id);
            let Some(row) = row else {
                errors.push(FieldError::new(
                    format!("allocations[{i}].invoice_id"),
                    "is not an invoice of this store",
                ));
                continue;
            };
            if row.currency != currency {
                errors.push(FieldError::new(
                    format!("allocations[{i}].invoice_id"),
                    format!(
                        "the invoice is in {}, the payment in {currency}",
                        row.currency
                    ),
                ));
            } else if *part > row.balance_scaled() {
                errors.push(FieldError::new(
                    format!("allocations[{i}].amount"),
                    format!(
                        "exceeds the invoice's balance of {}",
                        from_scaled(row.balance_scaled())
                    ),
                ));
            }
            invoices.push((row, *part));
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let now = self.clock.now();
        let payment = PaymentRow {
            id: Uuid::now_v7(),
            store_id: store.company_id,
            amount_scaled: amount,
            allocated_scaled: allocated,
            currency: currency.clone(),
            method: new.method.as_str().to_owned(),
            received_on: date_text(received_on),
            reference: clean(new.reference),
            created_at: now,
        };
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_payments (org_id, id, store_id, amount_scaled, allocated_scaled, currency, method, received_on, reference, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(ctx.org_id())
            .bind(payment.id)
            .bind(payment.store_id)
            .bind(amount)
            .bind(allocated)
            .bind(&currency)
            .bind(&payment.method)
            .bind(&payment.received_on)
            .bind(&payment.reference)
            .bind(ctx.actor().user_id())
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let mut out_allocations = Vec::new();
        for (row, part) in &invoices {
            on_tx!(tx, |c| {
                sqlx::query(
                    "INSERT INTO sales_payment_allocations (org_id, payment_id, invoice_id, amount_scaled) VALUES ($1, $2, $3, $4)",
                )
                .bind(ctx.org_id())
                .bind(payment.id)
                .bind(row.id)
                .bind(*part)
                .execute(c)
                .await
                .map(|_| ())
            })?;
            self.settle_invoice(
                &mut tx,
                ctx,
                row,
                row.paid_scaled + part,
                row.credited_scaled,
                "invoice.payment_applied",
            )
            .await?;
            out_allocations.push(Allocation {
                invoice_id: row.id,
                amount: from_scaled(*part),
            });
        }
        let payment = payment.into_payment(out_allocations);
        self.record(
            &mut tx,
            ctx,
            "payment.recorded",
            "payment",
            payment.id,
            &serde_json::Value::Null,
            &json(&payment),
        )
        .await?;
        tx.commit().await?;
        Ok(payment)
    }

    async fn allocations_of(
        &self,
        org: Uuid,
        payments: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Allocation>>, SalesError> {
        let mut out: HashMap<Uuid, Vec<Allocation>> = HashMap::new();
        if payments.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> =
            (0..payments.len()).map(|i| format!("${}", i + 2)).collect();
        let text = format!(
            "SELECT payment_id, invoice_id, amount_scaled FROM sales_payment_allocations WHERE org_id = $1 AND payment_id IN ({}) \
             ORDER BY payment_id, invoice_id",
            placeholders.join(", ")
        );
        let rows: Vec<AllocationRow> = on_pool!(self.db, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(org);
            for id in payments {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        for r in rows {
            out.entry(r.payment_id).or_default().push(Allocation {
                invoice_id: r.invoice_id,
                amount: from_scaled(r.amount_scaled),
            });
        }
        Ok(out)
    }

    /// One payment with its allocations.
    pub async fn get_payment(&self, ctx: &TenantContext, id: Uuid) -> Result<Payment, SalesError> {
        ctx.authorize("payments:read")?;
        let rep = store_visibility(ctx)?;
        let row: Option<PaymentRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {PAYMENT_COLUMNS} FROM sales_payments WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(SalesError::NotFound("payment"))?;
        if rep.is_some() {
            self.store_row(ctx, row.store_id)
                .await
                .map_err(|_| SalesError::NotFound("payment"))?;
        }
        let mut allocations = self.allocations_of(ctx.org_id(), &[id]).await?;
        Ok(row.into_payment(allocations.remove(&id).unwrap_or_default()))
    }

    /// Payments (`?store_id=`, `?method=`).
    pub async fn list_payments(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<Payment>, SalesError> {
        ctx.authorize("payments:read")?;
        let rep = store_visibility(ctx)?;
        let plan = PAYMENT_LIST
            .plan(query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let mut own = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if let Some(rep) = rep {
            own.push(SqlValue::Uuid(rep));
            scope = own_stores_clause("store_id", own.len());
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {PAYMENT_COLUMNS} FROM sales_payments WHERE org_id = $1{scope}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<PaymentRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut allocations = self.allocations_of(ctx.org_id(), &ids).await?;
        let payments = rows
            .into_iter()
            .map(|r| {
                let a = allocations.remove(&r.id).unwrap_or_default();
                r.into_payment(a)
            })
            .collect();
        Ok(plan.page(payments))
    }

    // ------------------------------------------------------------------ credit notes

    /// Issues a credit note (a return or an allowance) against an invoice, reducing its
    /// balance; refused (422 naming `amount`) above the balance.
    pub async fn create_credit_note(
        &self,
        ctx: &TenantContext,
        new: NewCreditNote,
    ) -> Result<CreditNote, SalesError> {
        ctx.authorize("invoices:create")?;
        let mut errors = Vec::new();
        let amount = checked_money("amount", new.amount, true, &mut errors);
        let reason = clean(Some(new.reason.clone()));
        if reason.is_none() {
            errors.push(FieldError::new("reason", "is required"));
        }
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let mut tx = self.db.begin().await?;
        let row = self
            .invoice_row_tx(&mut tx, ctx.org_id(), new.invoice_id)
            .await?;
        let row = match row {
            Some(r)
                if self
                    .visible_store_tx(&mut tx, ctx, r.store_id)
                    .await?
                    .is_some() =>
            {
                r
            }
            _ => {
                return Err(SalesError::field(
                    "invoice_id",
                    "is not an invoice of this organisation",
                ));
            }
        };
        self.lock_store(&mut tx, ctx.org_id(), row.store_id).await?;
        // Re-read after the lock: a payment may have settled part of it meanwhile.
        let row = self
            .invoice_row_tx(&mut tx, ctx.org_id(), row.id)
            .await?
            .ok_or(SalesError::NotFound("invoice"))?;
        if amount > row.balance_scaled() {
            return Err(SalesError::field(
                "amount",
                format!(
                    "exceeds the invoice's balance of {}",
                    from_scaled(row.balance_scaled())
                ),
            ));
        }
        let now = self.clock.now();
        let note = CreditNote {
            id: Uuid::now_v7(),
            number: self.next_number(&mut tx, ctx.org_id(), "CN").await?,
            invoice_id: row.id,
            store_id: row.store_id,
            amount: from_scaled(amount),
            currency: row.currency.clone(),
            reason: reason.unwrap_or_default(),
            issued_on: now.date_naive(),
            created_at: now,
        };
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO sales_credit_notes (org_id, id, number, invoice_id, store_id, amount_scaled, currency, reason, issued_on, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(ctx.org_id())
            .bind(note.id)
            .bind(&note.number)
            .bind(note.invoice_id)
            .bind(note.store_id)
            .bind(amount)
            .bind(&note.currency)
            .bind(&note.reason)
            .bind(date_text(note.issued_on))
            .bind(ctx.actor().user_id())
            .bind(now)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        self.settle_invoice(
            &mut tx,
            ctx,
            &row,
            row.paid_scaled,
            row.credited_scaled + amount,
            "invoice.credited",
        )
        .await?;
        self.record(
            &mut tx,
            ctx,
            "credit_note.issued",
            "credit_note",
            note.id,
            &serde_json::Value::Null,
            &json(&note),
        )
        .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// One credit note.
    pub async fn get_credit_note(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<CreditNote, SalesError> {
        ctx.authorize("invoices:read")?;
        let rep = store_visibility(ctx)?;
        let row: Option<CreditNoteRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CREDIT_NOTE_COLUMNS} FROM sales_credit_notes WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(SalesError::NotFound("credit note"))?;
        if rep.is_some() {
            self.store_row(ctx, row.store_id)
                .await
                .map_err(|_| SalesError::NotFound("credit note"))?;
        }
        Ok(row.into())
    }

    /// Credit notes (`?invoice_id=`, `?store_id=`).
    pub async fn list_credit_notes(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<CreditNote>, SalesError> {
        ctx.authorize("invoices:read")?;
        let rep = store_visibility(ctx)?;
        let plan = CREDIT_NOTE_LIST
            .plan(query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let mut own = vec![SqlValue::Uuid(ctx.org_id())];
        let mut scope = String::new();
        if let Some(rep) = rep {
            own.push(SqlValue::Uuid(rep));
            scope = own_stores_clause("store_id", own.len());
        }
        let sql = plan.sql(own.len() + 1);
        let text = format!(
            "SELECT {CREDIT_NOTE_COLUMNS} FROM sales_credit_notes WHERE org_id = $1{scope}{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<CreditNoteRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
            let q = bind_values!(q, &own);
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows.into_iter().map(CreditNote::from).collect()))
    }
}

/// An action that is not a field change (an import, a credit override): one audit row
/// carrying `details` and one event of the same name with them as its data, in the
/// caller's transaction — the counterpart of `kernel::audit::record_change` for diffs.
// The arguments are the action itself; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_action(
    tx: &mut Tx,
    clock: &SharedClock,
    ctx: &TenantContext,
    action: &str,
    record_type: &str,
    id: Uuid,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit::append(
        tx,
        clock,
        audit::AuditEntry::by(ctx, action, record_type, Some(id.to_string()))
            .with_changes(details.clone()),
    )
    .await?;
    kernel::events::record(
        tx,
        clock,
        kernel::events::NewEvent {
            event_type: action.to_owned(),
            org_id: ctx.org_id(),
            actor: Some(ctx.actor().label()),
            record_type: record_type.to_owned(),
            record_id: id,
            data: details,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn store_search_is_trimmed_optional_and_bounded() {
        assert_eq!(store_search(&query(&[])).ok(), Some(None));
        assert_eq!(store_search(&query(&[("q", "   ")])).ok(), Some(None));
        assert_eq!(
            store_search(&query(&[("q", "  Olaya ")])).ok(),
            Some(Some("Olaya".to_owned()))
        );
        let longest = "é".repeat(MAX_STORE_SEARCH);
        assert!(store_search(&query(&[("q", &longest)])).is_ok());
        let too_long = "é".repeat(MAX_STORE_SEARCH + 1);
        match store_search(&query(&[("q", &too_long)])) {
            Err(SalesError::Validation(errors)) => assert_eq!(errors[0].field, "q"),
            other => panic!("expected a 422 naming q, got {other:?}"),
        }
    }

    #[test]
    fn ids_travel_as_one_json_array_of_hex_digits() {
        let id = Uuid::parse_str("0190c8e2-7b3a-7c4d-8e5f-a1b2c3d4e5f6").expect("uuid");
        assert_eq!(
            hex_id_list(&[id]),
            r#"["0190c8e27b3a7c4d8e5fa1b2c3d4e5f6"]"#
        );
        assert_eq!(hex_id_list(&[]), "[]");
    }
}
