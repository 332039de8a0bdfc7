//! The predictions as the API serves them: a store's purchase history is gathered from
//! its sales orders (confirmed, delivered or invoiced) and from the imported sales facts
//! of the outlets linked to it (`sales_fact_outlets.store_id`; a day with a positive
//! quantity of a SKU is a purchase), then handed to the pure algorithms of this module.
//!
//! Permissions: a store's next order and upsell need `stores:read` (or `stores:read:own`
//! for the stores assigned to the caller, others are 404); the call list needs the same,
//! and another rep's list needs `stores:read`; forecasts need `sales:read`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use kernel::list::SqlValue;
use kernel::sections::CustomerSectionProvider;
use kernel::{TenantContext, bind_values, on_pool};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Purchase;
use super::deviation::{self, Severity};
use super::next_order::{self, LikelyItem, NextOrderParams};
use super::priority::{self, StoreSignals};
use super::upsell::{Assortments, Suggestion, UpsellParams};
use crate::analytics::alerts::{AlertKind, AlertPriority, NewAlert, raise_alert};
use crate::facts::{date_of_day, day_number, month_number};
use crate::model::SalesError;
use crate::service::{Sales, store_visibility};

/// How far back a store's purchases are read: a year covers every rhythm a rep acts on
/// and the 180 days the decline factor compares, and bounds the scan of the facts
/// (their primary key starts with the organisation and the day).
pub const HISTORY_DAYS: i64 = 365;

/// The order statuses that are real demand (drafts may never happen, cancellations did not).
const DEMAND_STATUSES: &str = "('confirmed', 'delivered', 'invoiced')";

// ------------------------------------------------------------------ wire types

/// A product a store will probably order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BasketLine {
    /// SKU (upper-cased).
    pub sku: String,
    /// The catalogue product with this SKU, if any.
    pub product_id: Option<Uuid>,
    /// Its name, if in the catalogue.
    pub name: Option<String>,
    /// Median quantity per order when the store ordered it.
    pub expected_qty: f64,
    /// Weighted share of the recent orders that contained it (0–1).
    pub probability: f64,
}

/// `GET /api/v1/stores/{id}/next-order`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NextOrderView {
    /// The store.
    pub store_id: Uuid,
    /// Expected order date (`null` with fewer than two order days seen).
    pub expected_on: Option<NaiveDate>,
    /// Days past `expected_on` (0 when not yet due).
    pub overdue_days: i32,
    /// The store's typical interval between orders: the median of its last 6 intervals.
    pub mean_interval_days: Option<f64>,
    /// Distinct order days seen in the last year.
    pub orders_seen: usize,
    /// `high`, `medium` or `low` (how regular the intervals are).
    pub confidence: String,
    /// Likely products, most likely first.
    pub basket: Vec<BasketLine>,
    /// How the prediction was made, in words.
    pub basis: String,
}

/// A product suggested to a store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpsellLine {
    /// SKU.
    pub sku: String,
    /// The catalogue product, if any.
    pub product_id: Option<Uuid>,
    /// Its name, if in the catalogue.
    pub name: Option<String>,
    /// Similarity-weighted share of similar stores buying it (0–1).
    pub score: f64,
    /// Its share among similar stores over its share among all stores.
    pub lift: f64,
    /// Share of the similar stores buying it (0–1).
    pub similar_stores_share: f64,
    /// Why, in words.
    pub reason: String,
}

/// `GET /api/v1/stores/{id}/upsell`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpsellView {
    /// The store.
    pub store_id: Uuid,
    /// Best first.
    pub suggestions: Vec<UpsellLine>,
}

/// One part of a call-priority score.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoreReason {
    /// `overdue`, `value`, `decline` or `open_issues`.
    pub factor: String,
    /// Points it adds.
    pub points: f64,
    /// Why, in words.
    pub detail: String,
}

/// A store on a rep's call list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallListStore {
    /// The store.
    pub store_id: Uuid,
    /// Its company's name.
    pub name: String,
    /// 0–100.
    pub score: f64,
    /// The score's parts, largest first.
    pub reasons: Vec<ScoreReason>,
    /// Expected order date.
    pub expected_on: Option<NaiveDate>,
    /// Days past it.
    pub overdue_days: i32,
    /// The 3 likeliest products.
    pub basket: Vec<BasketLine>,
    /// The 2 best upsell suggestions.
    pub upsell: Vec<UpsellLine>,
}

/// `GET /api/v1/sales/call-list`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallList {
    /// The rep.
    pub rep_id: Uuid,
    /// The day the list is for.
    pub on: NaiveDate,
    /// Highest score first.
    pub stores: Vec<CallListStore>,
}

/// One month of a series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthValue {
    /// `YYYY-MM`.
    pub month: String,
    /// Quantity.
    pub value: f64,
}

/// One forecast month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Point forecast.
    pub mean: f64,
    /// 80% interval.
    pub lower_80: f64,
    /// 80% interval.
    pub upper_80: f64,
    /// 95% interval.
    pub lower_95: f64,
    /// 95% interval.
    pub upper_95: f64,
}

/// A past month against the forecast made without it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// What happened.
    pub actual: f64,
    /// The one-month-ahead forecast from the months before.
    pub forecast: f64,
    /// actual − forecast.
    pub deviation: f64,
    /// 95% interval of the forecast.
    pub lower_95: f64,
    /// 95% interval of the forecast.
    pub upper_95: f64,
    /// `CRITICAL`, `HIGH`, `INFO` or `null` (inside the 80% interval).
    pub priority: Option<String>,
}

/// `GET /api/v1/sales/forecasts`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesForecast {
    /// The series: its filters, e.g. `sku=COLA-330;region=Central` (`all`: none).
    pub key: String,
    /// Monthly quantities up to the last complete month (zeros filled).
    pub history: Vec<MonthValue>,
    /// The months after it.
    pub forecast: Vec<ForecastMonth>,
    /// The model kept (`none`: fewer than 4 months of history).
    pub model: String,
    /// The last 3 complete months against their one-month-ahead forecasts.
    pub backtest: Vec<BacktestMonth>,
}

/// What `GET /api/v1/sales/forecasts` is asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForecastQuery {
    /// SKU.
    pub sku: Option<String>,
    /// Store / area region.
    pub region: Option<String>,
    /// Pack type.
    pub pack_type: Option<String>,
    /// Catalogue category (facts count through their SKU's linked product).
    pub category: Option<String>,
    /// Months ahead (1–24, default 3).
    pub horizon: usize,
}

impl ForecastQuery {
    /// From the query string; bad values name their field.
    pub fn parse(q: &BTreeMap<String, String>) -> Result<Self, SalesError> {
        let text = |k: &str| {
            q.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let horizon = match q.get("horizon") {
            None => 3,
            Some(h) => h
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|h| (1..=24).contains(h))
                .ok_or_else(|| {
                    SalesError::field("horizon", "must be a whole number from 1 to 24")
                })?,
        };
        Ok(Self {
            sku: text("sku").map(|s| s.to_uppercase()),
            region: text("region"),
            pack_type: text("pack_type"),
            category: text("category"),
            horizon,
        })
    }

    fn key(&self) -> String {
        let parts: Vec<String> = [
            ("sku", &self.sku),
            ("pack_type", &self.pack_type),
            ("category", &self.category),
            ("region", &self.region),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "all".to_owned()
        } else {
            parts.join(";")
        }
    }
}

// ------------------------------------------------------------------ helpers

fn month_text(month: i32) -> String {
    format!(
        "{:04}-{:02}",
        month.div_euclid(12),
        month.rem_euclid(12) + 1
    )
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn unscale(v: i64) -> f64 {
    v as f64 / 10_000.0
}

/// The SKU of a day's total in [`Sales::store_histories`]: no product has it (SKUs are
/// trimmed text; this one starts with a control character).
const DAY_TOTAL: &str = "\u{1}day total";

/// A positive sales fact as a purchase (SKUs compared upper-cased, as the orders' keys).
fn fact_purchase(day: i32, sku: &str, qty: i64, value: i64) -> Purchase {
    Purchase {
        day,
        sku: sku.trim().to_uppercase(),
        qty: unscale(qty),
        value: unscale(value),
    }
}

/// Catalogue products by SKU key: (id, name).
type Catalogue = HashMap<String, (Uuid, String)>;

fn basket_line(item: &LikelyItem, catalogue: &Catalogue) -> BasketLine {
    let product = catalogue.get(&item.sku);
    BasketLine {
        sku: item.sku.clone(),
        product_id: product.map(|p| p.0),
        name: product.map(|p| p.1.clone()),
        expected_qty: round(item.expected_qty, 2),
        probability: round(item.probability, 4),
    }
}

fn upsell_line(s: &Suggestion, catalogue: &Catalogue) -> UpsellLine {
    let product = catalogue.get(&s.sku);
    UpsellLine {
        sku: s.sku.clone(),
        product_id: product.map(|p| p.0),
        name: product.map(|p| p.1.clone()),
        score: round(s.score, 4),
        lift: round(s.lift, 2),
        similar_stores_share: round(s.similar_stores_share, 4),
        reason: s.reason(),
    }
}

fn basis(p: &next_order::NextOrder, params: &NextOrderParams) -> String {
    let Some(last) = p.last_order else {
        return format!("no order in the last {HISTORY_DAYS} days: nothing to predict from");
    };
    let rhythm = match p.interval_days {
        Some(i) => format!(
            "typical interval {i:.0} days (median of the last {} intervals)",
            params.recent_intervals.min(p.orders_seen.saturating_sub(1))
        ),
        None => "a single order day: no rhythm yet, so no expected date".to_owned(),
    };
    format!(
        "{} order days in the last {HISTORY_DAYS} days, the latest {}; {rhythm}; basket from the last {} orders, each order half as important {} orders further back",
        p.orders_seen,
        date_of_day(last),
        params.basket_orders.min(p.orders_seen),
        params.half_life_orders
    )
}

impl Sales {
    /// Wires the open-issues factor of the call priority: `provider` is the helpdesk's
    /// `tickets` section of the customer 360 view (its `open` count is used). `server`
    /// registers it; the sales crate does not depend on the helpdesk.
    pub fn with_open_issues(mut self, provider: Arc<dyn CustomerSectionProvider>) -> Self {
        self.open_issues = Some(provider);
        self
    }

    /// Order lines (confirmed, delivered, invoiced) dated `from_day` or later, per store;
    /// `stores` limits them to those stores (`None`: every store).
    async fn order_purchases(
        &self,
        org: Uuid,
        stores: Option<&[Uuid]>,
        from_day: i32,
    ) -> Result<HashMap<Uuid, Vec<Purchase>>, SalesError> {
        let mut out: HashMap<Uuid, Vec<Purchase>> = HashMap::new();
        let from = date_of_day(from_day).format("%Y-%m-%d").to_string();
        // One statement for every store, or one per chunk of the stores asked for.
        let chunks: Vec<Option<&[Uuid]>> = match stores {
            None => vec![None],
            Some(list) => list.chunks(500).map(Some).collect(),
        };
        for chunk in chunks {
            let mut binds = vec![SqlValue::Uuid(org), SqlValue::Text(from.clone())];
            let mut only = String::new();
            if let Some(ids) = chunk {
                if ids.is_empty() {
                    continue;
                }
                let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
                only = format!(" AND o.store_id IN ({})", list.join(", "));
                binds.extend(ids.iter().map(|id| SqlValue::Uuid(*id)));
            }
            let sql = format!(
                "SELECT o.store_id, o.order_date, p.sku_key, l.quantity_scaled, l.net_scaled \
                 FROM sales_orders o \
                 JOIN sales_order_lines l ON l.org_id = o.org_id AND l.order_id = o.id \
                 JOIN sales_products p ON p.org_id = l.org_id AND p.id = l.product_id \
                 WHERE o.org_id = $1 AND o.order_date >= $2 AND o.status IN {DEMAND_STATUSES}{only}"
            );
            let lines: Vec<(Uuid, String, String, i64, i64)> = on_pool!(self.db, |p| {
                let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                bind_values!(q, &binds).fetch_all(p).await
            })?;
            for (store, date, sku, qty, value) in lines {
                // Dates are written by the sales service as YYYY-MM-DD.
                let Ok(date) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") else {
                    continue;
                };
                out.entry(store).or_default().push(Purchase {
                    day: day_number(date),
                    sku,
                    qty: unscale(qty),
                    value: unscale(value),
                });
            }
        }
        Ok(out)
    }

    /// The purchases of stores (one for its next order, a rep's for the call list) from
    /// `from_day` on, for what the next-order prediction and the call score read of them —
    /// without reading a year of facts per store. Order lines are read whole. Of the
    /// imported facts, the days with a purchase and their value come from
    /// `sales_outlet_purchase_days`; only the latest [`NextOrderParams::basket_orders`]
    /// order days before `today` (the likely basket's window) and any from `today` on are
    /// read from the facts, SKU by SKU, by their primary key (day, outlet). Days before that
    /// window become one purchase of [`DAY_TOTAL`] worth the day's value: the same order
    /// days, intervals and values as the facts, without their SKUs, which nothing reads
    /// there.
    async fn store_histories(
        &self,
        org: Uuid,
        stores: &[Uuid],
        from_day: i32,
        today: i32,
        basket_orders: usize,
    ) -> Result<HashMap<Uuid, Vec<Purchase>>, SalesError> {
        let mut out = self.order_purchases(org, Some(stores), from_day).await?;
        let mut outlets_of: HashMap<Uuid, Vec<i64>> = HashMap::new();
        let mut days_of: HashMap<i64, Vec<(i32, i64)>> = HashMap::new();
        for chunk in stores.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            // `from_day` inlined (an integer we computed): see `assortment_index`.
            let sql = format!(
                "SELECT o.store_id, d.outlet_id, d.day, d.purchase_value_scaled \
                 FROM sales_outlet_purchase_days d \
                 JOIN sales_fact_outlets o ON o.id = d.outlet_id \
                 WHERE d.org_id = $1 AND d.day >= {from_day} AND o.org_id = $1 AND o.store_id IN ({})",
                list.join(", ")
            );
            let rows: Vec<(Uuid, i64, i32, i64)> = on_pool!(self.db, |p| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(org);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            for (store, outlet, day, value) in rows {
                let outlets = outlets_of.entry(store).or_default();
                if !outlets.contains(&outlet) {
                    outlets.push(outlet);
                }
                days_of.entry(outlet).or_default().push((day, value));
            }
        }
        // Per store, where the basket window starts: its `basket_orders`-th latest order
        // day before `today`, over orders and facts together.
        let mut window_start: Vec<(i64, i32)> = Vec::new();
        for (store, outlets) in &outlets_of {
            let mut days: Vec<i32> = outlets
                .iter()
                .flat_map(|o| days_of.get(o).into_iter().flatten().map(|(d, _)| *d))
                .chain(out.get(store).into_iter().flatten().map(|p| p.day))
                .filter(|d| *d < today)
                .collect();
            days.sort_unstable();
            days.dedup();
            // No order day before today: every fact day is today or later, read them all.
            let start = days
                .len()
                .checked_sub(basket_orders.max(1))
                .map_or_else(|| days.first().copied().unwrap_or(today), |i| days[i]);
            for outlet in outlets {
                window_start.push((*outlet, start));
                let entry = out.entry(*store).or_default();
                for (day, value) in days_of.get(outlet).into_iter().flatten() {
                    if *day < start {
                        entry.push(Purchase {
                            day: *day,
                            sku: DAY_TOTAL.to_owned(),
                            qty: 1.0,
                            value: unscale(*value),
                        });
                    }
                }
            }
        }
        let store_of: HashMap<i64, Uuid> = outlets_of
            .iter()
            .flat_map(|(store, outlets)| outlets.iter().map(move |o| (*o, *store)))
            .collect();
        // The window's facts: one branch per outlet naming its purchase days, so both
        // databases look them up by the primary key (org, day, outlet, SKU) prefix.
        let branches: Vec<String> = window_start
            .iter()
            .filter_map(|(outlet, start)| {
                let days: Vec<String> = days_of
                    .get(outlet)?
                    .iter()
                    .filter(|(d, _)| d >= start)
                    .map(|(d, _)| d.to_string())
                    .collect();
                // Integers we read or computed: safe to inline.
                (!days.is_empty()).then(|| {
                    format!(
                        "SELECT f.outlet_id, f.day, s.sku, f.qty_scaled, f.value_scaled \
                         FROM sales_facts f JOIN sales_fact_skus s ON s.id = f.sku_id \
                         WHERE f.org_id = $1 AND f.day IN ({}) AND f.outlet_id = {outlet} \
                         AND f.qty_scaled > 0",
                        days.join(", ")
                    )
                })
            })
            .collect();
        for chunk in branches.chunks(100) {
            let sql = chunk.join(" UNION ALL ");
            let rows: Vec<(i64, i32, String, i64, i64)> = on_pool!(self.db, |p| sqlx::query_as(
                sqlx::AssertSqlSafe(sql.clone())
            )
            .bind(org)
            .fetch_all(p)
            .await)?;
            for (outlet, day, sku, qty, value) in rows {
                if let Some(store) = store_of.get(&outlet) {
                    out.entry(*store)
                        .or_default()
                        .push(fact_purchase(day, &sku, qty, value));
                }
            }
        }
        Ok(out)
    }

    /// The upsell index: which SKUs each store bought from `from_day` to the day before
    /// `today` (stores with any purchase from `from_day` on take part, with what they
    /// bought before `today`), from the order lines and the outlet × SKU × month rollup.
    async fn assortment_index(
        &self,
        org: Uuid,
        from_day: i32,
        today: i32,
    ) -> Result<(Assortments, HashMap<Uuid, usize>), SalesError> {
        let orders = self.order_purchases(org, None, from_day).await?;
        let mut bought: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        for (store, purchases) in orders {
            bought.entry(store).or_default().extend(
                purchases
                    .into_iter()
                    .filter(|p| p.day < today)
                    .map(|p| p.sku),
            );
        }
        // A month wholly inside [from_day, today) counts when it has a purchase day; the
        // first month when its last purchase day is from `from_day` on, the month of
        // `today` when its first one is before `today`: exact, as the facts would be.
        // Grouped by store and SKU in the database (one row each instead of one a month):
        // a SKU counts when the earliest first purchase day of its qualifying months is
        // before `today`.
        // The month and day are integers we computed, inlined: PostgreSQL's generic plan
        // for them as parameters (chosen from the sixth execution of a prepared
        // statement) took 3–4 s instead of 0.2 s at 10M facts.
        let sql = format!(
            "SELECT o.store_id, s.sku, MIN(r.first_purchase_day) \
             FROM sales_outlet_sku_monthly r \
             JOIN sales_fact_outlets o ON o.id = r.outlet_id \
             JOIN sales_fact_skus s ON s.id = r.sku_id \
             WHERE r.org_id = $1 AND r.month >= {} AND r.purchase_days > 0 \
             AND r.last_purchase_day >= {from_day} AND o.store_id IS NOT NULL \
             GROUP BY o.store_id, s.sku",
            month_number(date_of_day(from_day))
        );
        let rows: Vec<(Uuid, String, i32)> = on_pool!(self.db, |p| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.clone())
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        for (store, sku, first) in rows {
            let skus = bought.entry(store).or_default();
            if first < today {
                skus.push(sku.trim().to_uppercase());
            }
        }
        let position = bought.keys().enumerate().map(|(i, id)| (*id, i)).collect();
        let baskets: Vec<Vec<String>> = bought.into_values().collect();
        Ok((Assortments::new(&baskets), position))
    }

    async fn catalogue(&self, org: Uuid) -> Result<Catalogue, SalesError> {
        let rows: Vec<(String, Uuid, String)> = on_pool!(self.db, |p| {
            sqlx::query_as("SELECT sku_key, id, name FROM sales_products WHERE org_id = $1")
                .bind(org)
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(|(k, id, n)| (k, (id, n))).collect())
    }

    /// The store's company name as the caller may see it (empty when they may not).
    async fn store_name(&self, ctx: &TenantContext, store: Uuid) -> String {
        self.crm
            .get_company(ctx, store)
            .await
            .map(|c| c.name)
            .unwrap_or_default()
    }

    /// Open tickets of the store's company, when the helpdesk is wired and the caller
    /// may read tickets; 0 otherwise (documented: the factor then adds nothing).
    async fn open_issue_count(&self, ctx: &TenantContext, store: Uuid) -> u64 {
        let Some(provider) = &self.open_issues else {
            return 0;
        };
        match provider.customer_section(ctx, store).await {
            Ok(Some(section)) => section["open"].as_u64().unwrap_or(0),
            _ => 0,
        }
    }

    /// When a store will probably order next and what (`stores:read`, or `:own`).
    pub async fn next_order(
        &self,
        ctx: &TenantContext,
        store_id: Uuid,
    ) -> Result<NextOrderView, SalesError> {
        self.store_row(ctx, store_id).await?;
        let today = day_number(self.today());
        let org = ctx.org_id();
        let params = NextOrderParams::default();
        let mut histories = self
            .store_histories(
                org,
                &[store_id],
                today - HISTORY_DAYS as i32,
                today,
                params.basket_orders,
            )
            .await?;
        let history = histories.remove(&store_id).unwrap_or_default();
        let catalogue = self.catalogue(org).await?;
        let p = next_order::predict(&history, today, &params);
        Ok(NextOrderView {
            store_id,
            expected_on: p.expected_on.map(date_of_day),
            overdue_days: p.overdue_days,
            mean_interval_days: p.interval_days.map(|i| round(i, 1)),
            orders_seen: p.orders_seen,
            confidence: p.confidence.as_str().to_owned(),
            basket: p
                .basket
                .iter()
                .map(|i| basket_line(i, &catalogue))
                .collect(),
            basis: basis(&p, &params),
        })
    }

    /// Products similar stores buy and this one does not (`stores:read`, or `:own`;
    /// `limit` 1–50).
    pub async fn upsell(
        &self,
        ctx: &TenantContext,
        store_id: Uuid,
        limit: usize,
    ) -> Result<UpsellView, SalesError> {
        if !(1..=50).contains(&limit) {
            return Err(SalesError::field("limit", "must be from 1 to 50"));
        }
        self.store_row(ctx, store_id).await?;
        let today = day_number(self.today());
        let org = ctx.org_id();
        let (index, position) = self
            .assortment_index(org, today - HISTORY_DAYS as i32, today)
            .await?;
        let catalogue = self.catalogue(org).await?;
        let suggestions = match position.get(&store_id) {
            Some(i) => index
                .suggest(*i, &UpsellParams::default())
                .iter()
                .take(limit)
                .map(|s| upsell_line(s, &catalogue))
                .collect(),
            None => Vec::new(),
        };
        Ok(UpsellView {
            store_id,
            suggestions,
        })
    }

    /// A rep's stores most worth a call on `on` (default today), best first, each with
    /// its score explained, its expected order and what to offer. `rep` defaults to the
    /// caller; another rep's list needs `stores:read` (not only `:own`).
    pub async fn call_list(
        &self,
        ctx: &TenantContext,
        rep: Option<Uuid>,
        on: Option<NaiveDate>,
        limit: usize,
    ) -> Result<CallList, SalesError> {
        let own_only = store_visibility(ctx)?;
        let caller = ctx.actor().user_id();
        let rep = match rep.or(caller) {
            Some(rep) => rep,
            None => {
                return Err(SalesError::field(
                    "rep_id",
                    "required when the caller is not a user",
                ));
            }
        };
        if own_only.is_some() && own_only != Some(rep) {
            ctx.authorize("stores:read")?;
        }
        if !(1..=200).contains(&limit) {
            return Err(SalesError::field("limit", "must be from 1 to 200"));
        }
        let on = on.unwrap_or_else(|| self.today());
        let today = day_number(on);
        let org = ctx.org_id();
        let stores: Vec<Uuid> = on_pool!(self.db, |p| {
            sqlx::query_scalar(
                "SELECT company_id FROM sales_stores WHERE org_id = $1 AND assigned_rep = $2 ORDER BY company_id",
            )
            .bind(org)
            .bind(rep)
            .fetch_all(p)
            .await
        })?;
        let params = NextOrderParams::default();
        let from_day = today - HISTORY_DAYS as i32;
        let histories = self
            .store_histories(org, &stores, from_day, today, params.basket_orders)
            .await?;
        let (index, position) = self.assortment_index(org, from_day, today).await?;
        let catalogue = self.catalogue(org).await?;
        let empty = Vec::new();
        let mut predictions = Vec::with_capacity(stores.len());
        let mut signals = Vec::with_capacity(stores.len());
        for store in &stores {
            let history = histories.get(store).unwrap_or(&empty);
            let p = next_order::predict(history, today, &params);
            let mut s = StoreSignals::from_history(history, today, p.interval_days);
            s.open_issues = self.open_issue_count(ctx, *store).await;
            predictions.push(p);
            signals.push(s);
        }
        let scores = priority::score(&signals);
        let mut ranked: Vec<usize> = (0..stores.len()).collect();
        ranked.sort_by(|a, b| {
            scores[*b]
                .score
                .total_cmp(&scores[*a].score)
                .then(stores[*a].cmp(&stores[*b]))
        });
        let mut out = Vec::new();
        for i in ranked.into_iter().take(limit) {
            let store = stores[i];
            let p = &predictions[i];
            let upsell = match position.get(&store) {
                Some(at) => index
                    .suggest(*at, &UpsellParams::default())
                    .iter()
                    .take(2)
                    .map(|s| upsell_line(s, &catalogue))
                    .collect(),
                None => Vec::new(),
            };
            out.push(CallListStore {
                store_id: store,
                name: self.store_name(ctx, store).await,
                score: scores[i].score,
                reasons: scores[i]
                    .reasons
                    .iter()
                    .map(|r| ScoreReason {
                        factor: r.factor.as_str().to_owned(),
                        points: r.points,
                        detail: r.detail.clone(),
                    })
                    .collect(),
                expected_on: p.expected_on.map(date_of_day),
                overdue_days: p.overdue_days,
                basket: p
                    .basket
                    .iter()
                    .take(3)
                    .map(|b| basket_line(b, &catalogue))
                    .collect(),
                upsell,
            });
        }
        Ok(CallList {
            rep_id: rep,
            on,
            stores: out,
        })
    }

    /// Monthly quantities of the series `q` selects, from the monthly rollup of the
    /// imported facts plus the order lines, keyed by month number.
    async fn monthly_series(
        &self,
        org: Uuid,
        q: &ForecastQuery,
    ) -> Result<BTreeMap<i32, f64>, SalesError> {
        let mut binds = vec![SqlValue::Uuid(org)];
        let mut facts_where = String::new();
        let mut orders_where = String::new();
        let mut add = |value: &Option<String>, facts: &str, orders: &str| {
            if let Some(v) = value {
                binds.push(SqlValue::Text(v.clone()));
                let n = binds.len();
                facts_where.push_str(&format!(" AND {facts} = ${n}"));
                orders_where.push_str(&format!(" AND {orders} = ${n}"));
            }
        };
        add(&q.sku, "UPPER(s.sku)", "p.sku_key");
        add(&q.region, "a.region", "st.region");
        add(&q.pack_type, "s.pack_type", "p.pack_type");
        add(&q.category, "cp.category", "p.category");
        let facts_sql = format!(
            "SELECT r.month, CAST(SUM(r.qty_scaled) AS BIGINT) FROM sales_monthly_rollup r \
             JOIN sales_fact_areas a ON a.id = r.area_id \
             JOIN sales_fact_skus s ON s.id = r.sku_id \
             LEFT JOIN sales_products cp ON cp.org_id = s.org_id AND cp.id = s.product_id \
             WHERE r.org_id = $1{facts_where} GROUP BY r.month"
        );
        let orders_sql = format!(
            "SELECT o.order_date, l.quantity_scaled FROM sales_orders o \
             JOIN sales_order_lines l ON l.org_id = o.org_id AND l.order_id = o.id \
             JOIN sales_products p ON p.org_id = l.org_id AND p.id = l.product_id \
             JOIN sales_stores st ON st.org_id = o.org_id AND st.company_id = o.store_id \
             WHERE o.org_id = $1 AND o.status IN {DEMAND_STATUSES}{orders_where}"
        );
        let months: Vec<(i32, Option<i64>)> = on_pool!(self.db, |p| {
            let query = sqlx::query_as(sqlx::AssertSqlSafe(facts_sql.clone()));
            bind_values!(query, &binds).fetch_all(p).await
        })?;
        let lines: Vec<(String, i64)> = on_pool!(self.db, |p| {
            let query = sqlx::query_as(sqlx::AssertSqlSafe(orders_sql.clone()));
            bind_values!(query, &binds).fetch_all(p).await
        })?;
        let mut series: BTreeMap<i32, f64> = BTreeMap::new();
        for (month, qty) in months {
            *series.entry(month).or_default() += unscale(qty.unwrap_or(0));
        }
        for (date, qty) in lines {
            if let Ok(date) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") {
                *series.entry(month_number(date)).or_default() += unscale(qty);
            }
        }
        Ok(series)
    }

    /// The monthly demand (quantity) of a SKU / pack type / category and region with a
    /// forecast and 80%/95% intervals, and the last months against their forecasts
    /// (`sales:read`). When the latest complete month left its forecast's 95% interval,
    /// a `sales.forecast_deviation` event is raised — once per series and month.
    pub async fn forecast(
        &self,
        ctx: &TenantContext,
        q: &ForecastQuery,
    ) -> Result<SalesForecast, SalesError> {
        ctx.authorize("sales:read")?;
        let org = ctx.org_id();
        let key = q.key();
        let series = self.monthly_series(org, q).await?;
        // The current month is incomplete: the history ends the month before.
        let last = month_number(self.today()) - 1;
        let first = series
            .keys()
            .next()
            .copied()
            .unwrap_or(last + 1)
            .min(last + 1);
        let months: Vec<i32> = (first..=last).collect();
        let y: Vec<f64> = months
            .iter()
            .map(|m| round(series.get(m).copied().unwrap_or(0.0), 4))
            .collect();
        let history = months
            .iter()
            .zip(&y)
            .map(|(m, v)| MonthValue {
                month: month_text(*m),
                value: *v,
            })
            .collect();
        let (model, forecast) = match deviation::forecast_monthly(&y, q.horizon) {
            Some(f) => (
                f.model.clone(),
                (0..q.horizon)
                    .map(|h| ForecastMonth {
                        month: month_text(last + 1 + h as i32),
                        mean: round(f.mean[h], 4),
                        lower_80: round(f.lower_80[h], 4),
                        upper_80: round(f.upper_80[h], 4),
                        lower_95: round(f.lower_95[h], 4),
                        upper_95: round(f.upper_95[h], 4),
                    })
                    .collect(),
            ),
            None => ("none".to_owned(), Vec::new()),
        };
        let checks = deviation::backtest(&y, 3);
        if let Some(latest) = checks.last().filter(|b| b.index + 1 == y.len())
            && let Some(severity) = latest.severity.filter(|s| s.is_raised())
        {
            self.raise_deviation(ctx, &key, months[latest.index], latest, severity)
                .await?;
        }
        let backtest = checks
            .iter()
            .map(|b| BacktestMonth {
                month: month_text(months[b.index]),
                actual: round(b.actual, 4),
                forecast: round(b.forecast, 4),
                deviation: round(b.deviation, 4),
                lower_95: round(b.lower_95, 4),
                upper_95: round(b.upper_95, 4),
                priority: b.severity.map(|s| s.as_str().to_owned()),
            })
            .collect();
        Ok(SalesForecast {
            key,
            history,
            forecast,
            model,
            backtest,
        })
    }

    /// Raises the deviation alert through the analytics' `raise_alert`, which logs it in
    /// `sales_alerts` keyed by (kind, series key, month): a second read raises nothing.
    async fn raise_deviation(
        &self,
        ctx: &TenantContext,
        key: &str,
        month: i32,
        check: &deviation::Backtest,
        severity: Severity,
    ) -> Result<(), SalesError> {
        let priority = match severity {
            Severity::Critical => AlertPriority::Critical,
            Severity::High => AlertPriority::High,
            Severity::Info => AlertPriority::Info,
        };
        let period = month_text(month);
        let mut tx = self.db.begin().await?;
        raise_alert(
            &mut tx,
            &self.clock,
            ctx.org_id(),
            NewAlert {
                kind: AlertKind::ForecastDeviation,
                priority,
                key: key.to_owned(),
                period: period.clone(),
                title: format!(
                    "demand of {key} in {period}: {:.2} against a forecast of {:.2} (95% interval {:.2}–{:.2})",
                    check.actual, check.forecast, check.lower_95, check.upper_95
                ),
                payload: serde_json::json!({
                    "month": period,
                    "actual": round(check.actual, 4),
                    "forecast": round(check.forecast, 4),
                    "lower_95": round(check.lower_95, 4),
                    "upper_95": round(check.upper_95, 4),
                    "deviation": round(check.deviation, 4),
                }),
                actor: Some(ctx.actor().label()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_months_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default();
        assert_eq!(date_of_day(day_number(d)), d);
        assert_eq!(
            day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap_or_default()),
            1
        );
        assert_eq!(month_text(month_number(d)), "2026-12");
        assert_eq!(month_text(month_number(d) + 1), "2027-01");
    }

    #[test]
    fn forecast_query_names_bad_fields_and_builds_its_key() {
        let q = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let parsed = ForecastQuery::parse(&q(&[("sku", " cola-1 "), ("region", "Central")]));
        let parsed = parsed.unwrap_or_default();
        assert_eq!(parsed.horizon, 3);
        assert_eq!(parsed.key(), "sku=COLA-1;region=Central");
        assert_eq!(
            ForecastQuery::parse(&q(&[])).map(|p| p.key()).ok(),
            Some("all".into())
        );
        for bad in ["0", "25", "x", "-1"] {
            match ForecastQuery::parse(&q(&[("horizon", bad)])) {
                Err(SalesError::Validation(e)) => assert_eq!(e[0].field, "horizon"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
