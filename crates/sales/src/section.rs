//! The sales module's `orders` section of the CRM's customer 360 view (served through
//! `kernel::sections`, registered by `server`): open orders, the last orders, the unpaid
//! invoice balance and the next expected order of the company's store. Each part is
//! read through the service functions the HTTP routes use, so it shows exactly what the
//! caller may see; a part the caller may not read is `null`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kernel::sections::{CustomerSectionProvider, SectionFuture};
use kernel::{Problem, TenantContext};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::model::{SalesError, SalesOrder};
use crate::money::OrderStatus;
use crate::service::Sales;

/// An order as the 360 view lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderBrief {
    /// Id.
    pub id: Uuid,
    /// Number.
    pub number: String,
    /// Status.
    pub status: OrderStatus,
    /// Order date.
    pub order_date: NaiveDate,
    /// Total.
    pub total: Decimal,
    /// Currency.
    pub currency: String,
}

impl From<&SalesOrder> for OrderBrief {
    fn from(o: &SalesOrder) -> Self {
        Self {
            id: o.id,
            number: o.number.clone(),
            status: o.status,
            order_date: o.order_date,
            total: o.total,
            currency: o.currency.clone(),
        }
    }
}

/// The next order the store is expected to place.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedOrder {
    /// Expected date (`null`: fewer than two order days seen).
    pub expected_on: Option<NaiveDate>,
    /// Days past it.
    pub overdue_days: i32,
    /// `high`, `medium` or `low`.
    pub confidence: String,
}

/// The `orders` section.
#[derive(Debug, Clone, Serialize)]
pub struct OrdersSection {
    /// The store (the company itself).
    pub store_id: Uuid,
    /// Draft, confirmed or delivered orders (at most 20; `null`: no `orders:read`).
    pub open_orders: Option<Vec<OrderBrief>>,
    /// The 5 latest orders of any status (`null`: no `orders:read`).
    pub last_orders: Option<Vec<OrderBrief>>,
    /// Unpaid invoice balance (`null`: no `invoices:read`).
    pub unpaid_invoices: Option<Decimal>,
    /// Currency of the balance.
    pub currency: Option<String>,
    /// The next expected order.
    pub next_expected_order: Option<ExpectedOrder>,
}

fn query(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

impl Sales {
    /// The `orders` section for a company; `None` when it is not a store the caller sees.
    pub async fn customer_orders(
        &self,
        ctx: &TenantContext,
        company_id: Uuid,
    ) -> Result<Option<OrdersSection>, SalesError> {
        match self.store_row(ctx, company_id).await {
            Ok(_) => {}
            Err(SalesError::NotFound(_) | SalesError::Forbidden(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        let store = company_id.to_string();
        let (open_orders, last_orders) = if ctx.can("orders:read") {
            let open = self
                .list_orders(
                    ctx,
                    &query(&[
                        ("store_id", store.clone()),
                        ("status[in]", "draft,confirmed,delivered".to_owned()),
                        ("limit", "20".to_owned()),
                    ]),
                )
                .await?;
            let last = self
                .list_orders(
                    ctx,
                    &query(&[
                        ("store_id", store.clone()),
                        ("sort", "-created_at".to_owned()),
                        ("limit", "5".to_owned()),
                    ]),
                )
                .await?;
            (
                Some(open.data.iter().map(OrderBrief::from).collect()),
                Some(last.data.iter().map(OrderBrief::from).collect()),
            )
        } else {
            (None, None)
        };
        let (unpaid_invoices, currency) = if ctx.can("invoices:read") {
            let balance = self.store_balance(ctx, company_id).await?;
            (Some(balance.open_invoices), balance.currency)
        } else {
            (None, None)
        };
        let next = self.next_order(ctx, company_id).await?;
        Ok(Some(OrdersSection {
            store_id: company_id,
            open_orders,
            last_orders,
            unpaid_invoices,
            currency,
            next_expected_order: Some(ExpectedOrder {
                expected_on: next.expected_on,
                overdue_days: next.overdue_days,
                confidence: next.confidence,
            }),
        }))
    }
}

/// The sales module's `orders` section of the customer 360 view.
impl CustomerSectionProvider for Sales {
    fn section(&self) -> &'static str {
        "orders"
    }

    fn module(&self) -> &'static str {
        "sales"
    }

    fn customer_section<'a>(
        &'a self,
        ctx: &'a TenantContext,
        company_id: Uuid,
    ) -> SectionFuture<'a> {
        Box::pin(async move {
            let Some(section) = self
                .customer_orders(ctx, company_id)
                .await
                .map_err(Problem::from)?
            else {
                return Ok(None);
            };
            Ok(Some(serde_json::to_value(&section).map_err(|e| {
                Problem::from(SalesError::Conflict(format!("orders section: {e}")))
            })?))
        })
    }
}
