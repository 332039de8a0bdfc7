//! Sales predictions through HTTP: next order on a hand-built history (orders and
//! imported facts), the rep's call list with explained scores, reps scoped to their own
//! stores, upsell from similar stores, forecasts with the deviation alert raised once,
//! the customer 360 `orders` section, tenancy and roles.

use chrono::{Datelike, Duration, NaiveDate};
use kernel::clock::Clock;
use kernel::on_pool;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use sales::facts::{FactRow, day_number, write_facts};

use crate::harness::{TestServer, problem};
use crate::helpdesk::{get, patch, post};
use crate::identity::{PASSWORD, call, create_user, login, org};
use crate::identity_test;

async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn store(server: &TestServer, token: &str, name: &str, extra: Value) -> Value {
    let company = post(server, token, "/api/v1/companies", json!({"name": name})).await;
    let mut body = json!({"company_id": company["id"], "region": "Central", "channel": "grocery"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    post(server, token, "/api/v1/stores", body).await
}

async fn product(server: &TestServer, token: &str, sku: &str) -> Value {
    post(
        server,
        token,
        "/api/v1/products",
        json!({"sku": sku, "name": format!("Product {sku}"), "category": "Drinks",
               "pack_type": "can", "unit_of_measure": "case"}),
    )
    .await
}

/// An order of `lines` (product, quantity, unit price) on `date`, moved to `status`
/// (`draft` leaves it as created).
async fn order_on(
    server: &TestServer,
    token: &str,
    store: &Value,
    date: NaiveDate,
    lines: &[(&Value, &str, &str)],
    status: &str,
) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q, price)| json!({"product_id": p["id"], "quantity": q, "unit_price": price}))
        .collect();
    let order = post(
        server,
        token,
        "/api/v1/sales-orders",
        json!({"store_id": store["id"], "currency": "SAR", "order_date": date, "lines": lines}),
    )
    .await;
    if status == "draft" {
        return order;
    }
    patch(
        server,
        token,
        &format!("/api/v1/sales-orders/{}", id(&order)),
        json!({"status": status, "version": order["version"]}),
    )
    .await
}

fn today(clock: &kernel::clock::FixedClock) -> NaiveDate {
    clock.now().date_naive()
}

async fn status_of(server: &TestServer, token: &str, path: &str) -> u16 {
    call(server, Method::GET, path, token, None)
        .await
        .status()
        .as_u16()
}

identity_test!(
    sales_next_order_from_orders_and_facts_is_exact,
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let today = today(&clock);
        let cola = product(&server, t, "COLA-1").await;
        let water = product(&server, t, "WATER-1").await;
        let chips = product(&server, t, "CHIPS-1").await;
        let kiosk = store(&server, t, "Kiosk", json!({})).await;
        let day = |n: i64| today - Duration::days(n);
        // Confirmed orders 44 and 34 days ago, then the store's outlet bought through the
        // distributor's data 24 and 14 days ago: a 10-day rhythm, due 4 days ago.
        order_on(
            &server,
            t,
            &kiosk,
            day(44),
            &[(&cola, "10", "2"), (&chips, "1", "3")],
            "confirmed",
        )
        .await;
        order_on(
            &server,
            t,
            &kiosk,
            day(34),
            &[(&cola, "10", "2")],
            "confirmed",
        )
        .await;
        // Drafts and cancelled orders are not demand.
        order_on(&server, t, &kiosk, day(2), &[(&chips, "50", "3")], "draft").await;
        order_on(
            &server,
            t,
            &kiosk,
            day(5),
            &[(&chips, "50", "3")],
            "cancelled",
        )
        .await;
        let org_id = acme.id;
        let store_id = Uuid::parse_str(&id(&kiosk)).expect("uuid");
        // The distributor's data, through the facts writer; then the outlet is linked to
        // the store. (days ago, sku, qty): a zero quantity is a visit without a purchase.
        let facts = [
            (24, "cola-1", 10),
            (24, "water-1", 5),
            (14, "cola-1", 10),
            (14, "water-1", 5),
            (9, "cola-1", 0),
        ];
        let rows: Vec<FactRow> = facts
            .iter()
            .map(|(ago, sku, qty)| FactRow {
                day: day_number(day(*ago)),
                region: "Central".into(),
                province: "Riyadh".into(),
                precision_area: "Olaya".into(),
                outlet_code: "K-1".into(),
                outlet_name: "Kiosk".into(),
                channel: "grocery".into(),
                pack_type: "can".into(),
                sku: (*sku).into(),
                qty_scaled: qty * 10_000,
                value_scaled: qty * 20_000,
            })
            .collect();
        let db = &server.database.db;
        let mut tx = db.begin().await.expect("tx");
        write_facts(&mut tx, org_id, Uuid::now_v7(), &rows)
            .await
            .expect("facts");
        tx.commit().await.expect("commit");
        // The analyst links the spreadsheet's outlet code to the store.
        let linked = call(
            &server,
            Method::PUT,
            &format!("/api/v1/stores/{}/outlets", id(&kiosk)),
            t,
            Some(json!({"outlet_codes": ["K-1"]})),
        )
        .await;
        assert_eq!(linked.status(), 200);
        let linked: Value = linked.json().await.expect("json");
        assert_eq!(linked["data"][0]["outlet_code"], "K-1");
        assert_eq!(linked["data"][0]["store_id"], json!(store_id));

        let next = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/next-order", id(&kiosk)),
        )
        .await;
        assert_eq!(next["store_id"], json!(id(&kiosk)));
        assert_eq!(next["orders_seen"], 4);
        assert_eq!(next["mean_interval_days"], 10.0);
        assert_eq!(next["expected_on"], json!(day(4)));
        assert_eq!(next["overdue_days"], 4);
        assert_eq!(next["confidence"], "medium");
        // COLA in all 4 orders; WATER in the last 2 (weights 1 and 2^-1/4 of 3.1426);
        // CHIPS only in the oldest (0.19 < 0.3).
        let basket = next["basket"].as_array().expect("basket");
        assert_eq!(basket.len(), 2, "{next}");
        assert_eq!(basket[0]["sku"], "COLA-1");
        assert_eq!(basket[0]["product_id"], cola["id"]);
        assert_eq!(basket[0]["name"], "Product COLA-1");
        assert_eq!(basket[0]["expected_qty"], 10.0);
        assert_eq!(basket[0]["probability"], 1.0);
        assert_eq!(basket[1]["sku"], "WATER-1");
        assert_eq!(basket[1]["expected_qty"], 5.0);
        assert_eq!(basket[1]["probability"], 0.5858);
        assert!(
            next["basis"]
                .as_str()
                .expect("basis")
                .contains("4 order days")
        );

        // The monthly demand adds the facts (through the monthly rollup) to the orders;
        // the current, incomplete month is left out.
        let month_start = today.with_day(1).expect("first of the month");
        let expected: f64 = [44, 34, 24, 14]
            .iter()
            .filter(|ago| day(**ago) < month_start)
            .map(|_| 10.0)
            .sum();
        let demand = get(
            &server,
            t,
            "/api/v1/sales/forecasts?sku=COLA-1&region=Central",
        )
        .await;
        let total: f64 = demand["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|m| m["value"].as_f64())
            .sum();
        assert_eq!(total, expected, "{demand}");

        // A store that never ordered: nothing to predict, no error.
        let new = store(&server, t, "New", json!({})).await;
        let empty = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/next-order", id(&new)),
        )
        .await;
        assert_eq!(empty["expected_on"], Value::Null);
        assert_eq!(empty["orders_seen"], 0);
        assert_eq!(empty["confidence"], "low");

        // Another organisation cannot see the store; a helpdesk agent lacks stores:read.
        let other = org(&server, "Other", "admin@other.test").await;
        for path in [
            format!("/api/v1/stores/{}/next-order", id(&kiosk)),
            format!("/api/v1/stores/{}/upsell", id(&kiosk)),
        ] {
            problem(
                call(&server, Method::GET, &path, &other.admin_token, None).await,
                404,
            )
            .await;
        }
        create_user(&server, t, "agent@acme.test", "Support Agent").await;
        let agent = token_of(&server, "agent@acme.test").await;
        problem(
            call(
                &server,
                Method::GET,
                &format!("/api/v1/stores/{}/next-order", id(&kiosk)),
                &agent,
                None,
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::GET,
                "/api/v1/sales/call-list",
                &agent,
                None,
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::GET,
                "/api/v1/sales/forecasts",
                &agent,
                None,
            )
            .await,
            403,
        )
        .await;
        // Bad input names the field.
        let bad = call(
            &server,
            Method::GET,
            &format!("/api/v1/stores/{}/upsell?limit=x", id(&kiosk)),
            t,
            None,
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "limit");
        let bad = call(
            &server,
            Method::GET,
            "/api/v1/sales/call-list?on=yesterday",
            t,
            None,
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "on");
        let bad = call(
            &server,
            Method::GET,
            "/api/v1/sales/call-list?rep_id=nope",
            t,
            None,
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "rep_id");

        // The customer 360 view carries the sales section.
        let view = get(&server, t, &format!("/api/v1/customers/{}/360", id(&kiosk))).await;
        let orders = &view["orders"];
        assert_eq!(orders["available"], true, "{view}");
        assert_eq!(orders["data"]["store_id"], json!(id(&kiosk)));
        // The draft is open; the confirmed orders are too until delivered.
        assert_eq!(
            orders["data"]["open_orders"].as_array().map(Vec::len),
            Some(3)
        );
        assert_eq!(
            orders["data"]["last_orders"].as_array().map(Vec::len),
            Some(4)
        );
        assert_eq!(orders["data"]["unpaid_invoices"], "0.00");
        assert_eq!(
            orders["data"]["next_expected_order"]["expected_on"],
            json!(day(4))
        );
        assert_eq!(orders["data"]["next_expected_order"]["overdue_days"], 4);
    }
);

identity_test!(
    sales_call_list_ranks_and_explains_and_scopes_reps,
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let today = today(&clock);
        let day = |n: i64| today - Duration::days(n);
        post(
            &server,
            t,
            "/api/v1/roles",
            json!({"name": "Territory Rep", "permissions": [
        "stores:read:own", "companies:read", "products:read", "orders:read", "sales:read"]}),
        )
        .await;
        let rep = create_user(&server, t, "rep1@acme.test", "Territory Rep").await;
        let rep2 = create_user(&server, t, "rep2@acme.test", "Territory Rep").await;
        let rep_token = token_of(&server, "rep1@acme.test").await;
        let mine = json!({"assigned_rep": rep["id"]});
        let cola = product(&server, t, "COLA-1").await;
        let overdue = store(&server, t, "Overdue Mart", mine.clone()).await;
        let fresh = store(&server, t, "Fresh Grocer", mine.clone()).await;
        let declining = store(&server, t, "Declining Deli", mine.clone()).await;
        let silent = store(&server, t, "Silent Shop", mine.clone()).await;
        let elsewhere = store(
            &server,
            t,
            "Other Rep's Store",
            json!({"assigned_rep": rep2["id"]}),
        )
        .await;
        // Overdue: every 10 days, last 20 days ago (40 points), 400 in the last 90 days.
        for ago in [50, 40, 30, 20] {
            order_on(
                &server,
                t,
                &overdue,
                day(ago),
                &[(&cola, "10", "10")],
                "confirmed",
            )
            .await;
        }
        // Fresh: every 10 days, last 2 days ago, the biggest buyer (2,000).
        for ago in [32, 22, 12, 2] {
            order_on(
                &server,
                t,
                &fresh,
                day(ago),
                &[(&cola, "50", "10")],
                "confirmed",
            )
            .await;
        }
        // Declining: 1,000 five months ago, 50 last month (−95%: 19 points).
        order_on(
            &server,
            t,
            &declining,
            day(150),
            &[(&cola, "100", "10")],
            "confirmed",
        )
        .await;
        order_on(
            &server,
            t,
            &declining,
            day(30),
            &[(&cola, "5", "10")],
            "confirmed",
        )
        .await;
        order_on(
            &server,
            t,
            &elsewhere,
            day(20),
            &[(&cola, "5", "10")],
            "confirmed",
        )
        .await;

        let list = get(&server, &rep_token, "/api/v1/sales/call-list").await;
        assert_eq!(list["rep_id"], rep["id"]);
        assert_eq!(list["on"], json!(today));
        let stores = list["stores"].as_array().expect("stores");
        let names: Vec<&str> = stores
            .iter()
            .map(|s| s["name"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(
            names,
            vec![
                "Overdue Mart",
                "Declining Deli",
                "Fresh Grocer",
                "Silent Shop"
            ]
        );
        // Value percentiles (mid-rank) among the four: 400 → 0.625, 2,000 → 0.875, 50 → 0.375, 0 → 0.
        let scores: Vec<f64> = stores
            .iter()
            .map(|s| s["score"].as_f64().unwrap_or(-1.0))
            .collect();
        assert_eq!(scores, vec![58.8, 30.3, 26.3, 0.0]);
        let top = &stores[0];
        assert_eq!(top["store_id"], overdue["id"]);
        assert_eq!(top["reasons"][0]["factor"], "overdue");
        assert_eq!(top["reasons"][0]["points"], 40.0);
        assert_eq!(top["reasons"].as_array().map(Vec::len), Some(4));
        assert_eq!(top["expected_on"], json!(day(10)));
        assert_eq!(top["overdue_days"], 10);
        assert_eq!(top["basket"][0]["sku"], "COLA-1");
        assert_eq!(stores[1]["reasons"][0]["factor"], "decline");
        assert_eq!(stores[1]["reasons"][0]["points"], 19.0);
        // The rep has no tickets:read: open issues count 0 for them.
        assert!(
            stores
                .iter()
                .all(|s| s["reasons"].as_array().is_some_and(|r| r
                    .iter()
                    .any(|r| r["factor"] == "open_issues" && r["points"] == 0.0)))
        );

        // The manager sees the same rep's list, with the open ticket of Fresh Grocer counted.
        post(
            &server,
            t,
            "/api/v1/tickets",
            json!({"subject": "Fridge broken", "description": "d",
        "type": "Incident", "priority": "High", "company_id": fresh["id"]}),
        )
        .await;
        let managed = get(
            &server,
            t,
            &format!("/api/v1/sales/call-list?rep_id={}&limit=2", id(&rep)),
        )
        .await;
        let stores = managed["stores"].as_array().expect("stores");
        assert_eq!(stores.len(), 2);
        assert_eq!(stores[1]["name"], "Fresh Grocer");
        assert_eq!(stores[1]["score"], 31.3);
        // The list for a past day reads only the history before it.
        let earlier = get(
            &server,
            t,
            &format!("/api/v1/sales/call-list?rep_id={}&on={}", id(&rep), day(31)),
        )
        .await;
        let overdue_then = earlier["stores"]
            .as_array()
            .expect("stores")
            .iter()
            .find(|s| s["store_id"] == overdue["id"])
            .cloned()
            .unwrap_or_default();
        assert_eq!(overdue_then["expected_on"], json!(day(30)));

        // Scoped: another rep's list is forbidden, their store is not found.
        problem(
            call(
                &server,
                Method::GET,
                &format!("/api/v1/sales/call-list?rep_id={}", id(&rep2)),
                &rep_token,
                None,
            )
            .await,
            403,
        )
        .await;
        assert_eq!(
            status_of(
                &server,
                &rep_token,
                &format!("/api/v1/stores/{}/next-order", id(&elsewhere))
            )
            .await,
            404
        );
        assert_eq!(
            status_of(
                &server,
                &rep_token,
                &format!("/api/v1/stores/{}/next-order", id(&overdue))
            )
            .await,
            200
        );
        // Another organisation's admin sees none of these stores for this rep id.
        let other = org(&server, "Other", "admin@other.test").await;
        let foreign = get(
            &server,
            &other.admin_token,
            &format!("/api/v1/sales/call-list?rep_id={}", id(&rep)),
        )
        .await;
        assert_eq!(foreign["stores"].as_array().map(Vec::len), Some(0));
    }
);

identity_test!(
    sales_upsell_suggests_what_similar_stores_buy,
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let when = today(&clock) - Duration::days(10);
        let cola = product(&server, t, "COLA-1").await;
        let water = product(&server, t, "WATER-1").await;
        let nuts = product(&server, t, "NUTS-1").await;
        let soap = product(&server, t, "SOAP-1").await;
        let target = store(&server, t, "Target", json!({})).await;
        order_on(
            &server,
            t,
            &target,
            when,
            &[(&cola, "1", "1"), (&water, "1", "1")],
            "confirmed",
        )
        .await;
        for name in ["Peer 1", "Peer 2", "Peer 3"] {
            let peer = store(&server, t, name, json!({})).await;
            order_on(
                &server,
                t,
                &peer,
                when,
                &[(&cola, "1", "1"), (&water, "1", "1"), (&nuts, "1", "1")],
                "confirmed",
            )
            .await;
        }
        let unrelated = store(&server, t, "Unrelated", json!({})).await;
        order_on(
            &server,
            t,
            &unrelated,
            when,
            &[(&soap, "1", "1")],
            "confirmed",
        )
        .await;

        let up = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/upsell?limit=5", id(&target)),
        )
        .await;
        assert_eq!(up["store_id"], target["id"]);
        let s = up["suggestions"].as_array().expect("suggestions");
        assert_eq!(s.len(), 1, "{up}");
        assert_eq!(s[0]["sku"], "NUTS-1");
        assert_eq!(s[0]["product_id"], nuts["id"]);
        assert_eq!(s[0]["name"], "Product NUTS-1");
        assert_eq!(s[0]["similar_stores_share"], 1.0);
        // 3 of 3 similar stores against 3 of 5 stores overall.
        assert_eq!(s[0]["lift"], 1.67);
        assert!(
            s[0]["reason"]
                .as_str()
                .expect("reason")
                .contains("3 of the 3")
        );
        let bad = call(
            &server,
            Method::GET,
            &format!("/api/v1/stores/{}/upsell?limit=0", id(&target)),
            t,
            None,
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "limit");
    }
);

identity_test!(
    sales_forecast_has_nested_intervals_and_raises_deviation_once,
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let today = today(&clock);
        let cola = product(&server, t, "COLA-1").await;
        let shop = store(&server, t, "Shop", json!({})).await;
        // 14 complete months of about 20 units, then last month 200.
        let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 10).expect("date");
        for back in (1..=15).rev() {
            let date = first - chrono::Months::new(back);
            let qty = if back == 1 {
                "200"
            } else if back % 2 == 0 {
                "20"
            } else {
                "22"
            };
            order_on(&server, t, &shop, date, &[(&cola, qty, "1")], "confirmed").await;
        }
        let path = "/api/v1/sales/forecasts?sku=cola-1&region=Central&horizon=3";
        let f = get(&server, t, path).await;
        assert_eq!(f["key"], "sku=COLA-1;region=Central");
        let history = f["history"].as_array().expect("history");
        assert_eq!(history.len(), 15);
        let last_month = first - chrono::Months::new(1);
        assert_eq!(
            history[14]["month"],
            format!("{:04}-{:02}", last_month.year(), last_month.month())
        );
        assert_eq!(history[14]["value"], 200.0);
        let forecast = f["forecast"].as_array().expect("forecast");
        assert_eq!(forecast.len(), 3);
        assert_ne!(f["model"], "none");
        for m in forecast {
            let v = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            assert!(
                v("lower_95") <= v("lower_80") && v("lower_80") <= v("mean"),
                "{m}"
            );
            assert!(
                v("mean") <= v("upper_80") && v("upper_80") <= v("upper_95"),
                "{m}"
            );
        }
        let backtest = f["backtest"].as_array().expect("backtest");
        let latest = backtest.last().expect("latest");
        assert_eq!(latest["actual"], 200.0);
        assert_eq!(latest["priority"], "CRITICAL");
        // Read again: the same month's deviation is not raised twice.
        get(&server, t, path).await;
        let events: Vec<Value> = on_pool!(server.database.db, |p| sqlx::query_scalar::<_, String>(
        "SELECT CAST(data AS TEXT) FROM outbox_events WHERE org_id = $1 AND event_type = 'sales.forecast_deviation'"
    )
    .bind(acme.id)
    .fetch_all(p)
    .await)
    .expect("events")
    .iter()
    .map(|d| serde_json::from_str(d).unwrap_or_default())
    .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["priority"], "CRITICAL");
        assert_eq!(events[0]["key"], "sku=COLA-1;region=Central");
        assert_eq!(events[0]["actual"], 200.0);

        // Another region has no sales: an empty history, no forecast, no event.
        let none = get(
            &server,
            t,
            "/api/v1/sales/forecasts?sku=COLA-1&region=North",
        )
        .await;
        assert_eq!(none["model"], "none");
        assert_eq!(none["forecast"].as_array().map(Vec::len), Some(0));
        // Another organisation sees none of it.
        let other = org(&server, "Other", "admin@other.test").await;
        let foreign = get(&server, &other.admin_token, path).await;
        assert_eq!(foreign["history"].as_array().map(Vec::len), Some(0));
        let bad = call(
            &server,
            Method::GET,
            "/api/v1/sales/forecasts?horizon=99",
            t,
            None,
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "horizon");
    }
);

/// Facts of `outlets` (code, name) for one day, written as an import would.
async fn facts_of_outlets(
    server: &TestServer,
    org_id: Uuid,
    on: NaiveDate,
    outlets: &[(&str, &str)],
) {
    let rows: Vec<FactRow> = outlets
        .iter()
        .map(|(code, name)| FactRow {
            day: day_number(on),
            region: "Central".into(),
            province: "Riyadh".into(),
            precision_area: "Olaya".into(),
            outlet_code: (*code).into(),
            outlet_name: (*name).into(),
            channel: "grocery".into(),
            pack_type: "can".into(),
            sku: "COLA-1".into(),
            qty_scaled: 10_000,
            value_scaled: 20_000,
        })
        .collect();
    let mut tx = server.database.db.begin().await.expect("tx");
    write_facts(&mut tx, org_id, Uuid::now_v7(), &rows)
        .await
        .expect("facts");
    tx.commit().await.expect("commit");
}

async fn put_links(
    server: &TestServer,
    token: &str,
    store: &Value,
    codes: Value,
) -> reqwest::Response {
    call(
        server,
        Method::PUT,
        &format!("/api/v1/stores/{}/outlets", id(store)),
        token,
        Some(json!({ "outlet_codes": codes })),
    )
    .await
}

identity_test!(sales_outlets_link_to_stores_by_code, |server, clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    let on = today(&clock) - Duration::days(3);
    facts_of_outlets(
        &server,
        acme.id,
        on,
        &[
            ("K-1", "Kiosk Olaya"),
            ("K-2", "Kiosk Malaz"),
            ("M_9", "Mega 50%"),
        ],
    )
    .await;
    let kiosk = store(&server, t, "Kiosk", json!({})).await;
    let mega = store(&server, t, "Mega", json!({})).await;

    // The outlet list: search by code or name, wildcards taken literally.
    let all = get(&server, t, "/api/v1/sales/outlets").await;
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");
    assert_eq!(all[0]["outlet_code"], "K-1");
    assert_eq!(all[0]["store_id"], Value::Null);
    let kiosks = get(&server, t, "/api/v1/sales/outlets?q=kiosk").await;
    assert_eq!(kiosks.as_array().map(Vec::len), Some(2));
    let percent = get(&server, t, "/api/v1/sales/outlets?q=%25").await;
    assert_eq!(percent.as_array().map(Vec::len), Some(1), "{percent}");
    assert_eq!(percent[0]["outlet_code"], "M_9");
    let underscore = get(&server, t, "/api/v1/sales/outlets?q=_").await;
    assert_eq!(underscore.as_array().map(Vec::len), Some(1));
    let page = get(&server, t, "/api/v1/sales/outlets?limit=2&after=K-1").await;
    assert_eq!(page[0]["outlet_code"], "K-2");

    // Link two codes; the list and the store show them.
    let linked = put_links(&server, t, &kiosk, json!(["K-1", " K-2 "])).await;
    assert_eq!(linked.status(), 200);
    let store_outlets = get(
        &server,
        t,
        &format!("/api/v1/stores/{}/outlets", id(&kiosk)),
    )
    .await;
    let codes: Vec<&str> = store_outlets
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["outlet_code"].as_str())
        .collect();
    assert_eq!(codes, ["K-1", "K-2"]);
    let unlinked = get(&server, t, "/api/v1/sales/outlets?linked=false").await;
    assert_eq!(unlinked.as_array().map(Vec::len), Some(1));
    // The history now holds K-1's and K-2's purchase of that day.
    let next = get(
        &server,
        t,
        &format!("/api/v1/stores/{}/next-order", id(&kiosk)),
    )
    .await;
    assert_eq!(next["orders_seen"], 1, "{next}");

    // Every bad code is named; nothing changes.
    let bad = problem(
        put_links(&server, t, &mega, json!(["M_9", "NOPE", "K-1", ""])).await,
        422,
    )
    .await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["outlet_codes[1]", "outlet_codes[2]", "outlet_codes[3]"],
        "{bad}"
    );
    let mega_outlets = get(&server, t, &format!("/api/v1/stores/{}/outlets", id(&mega))).await;
    assert_eq!(mega_outlets.as_array().map(Vec::len), Some(0));

    // Replacing the set unlinks what is left out; K-2 can then move to Mega.
    assert_eq!(
        put_links(&server, t, &kiosk, json!(["K-1"])).await.status(),
        200
    );
    assert_eq!(
        put_links(&server, t, &mega, json!(["M_9", "K-2"]))
            .await
            .status(),
        200
    );
    let events: i64 = on_pool!(server.database.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox_events WHERE org_id = $1 AND event_type = 'store.outlets_linked'"
        )
        .bind(acme.id)
        .fetch_one(p)
        .await)
        .expect("events");
    assert_eq!(events, 3);

    // Another organisation: the store is not found, its outlets are not listed, and
    // its own store cannot take this organisation's outlet codes.
    let other = org(&server, "Other", "admin@other.test").await;
    problem(
        put_links(&server, &other.admin_token, &kiosk, json!([])).await,
        404,
    )
    .await;
    let foreign = get(&server, &other.admin_token, "/api/v1/sales/outlets").await;
    assert_eq!(foreign.as_array().map(Vec::len), Some(0));
    let theirs = store(&server, &other.admin_token, "Theirs", json!({})).await;
    problem(
        put_links(&server, &other.admin_token, &theirs, json!(["K-1"])).await,
        422,
    )
    .await;

    // Wrong role: a rep with read-only stores cannot link; a helpdesk agent cannot
    // even list outlets.
    call(
            &server,
            Method::POST,
            "/api/v1/roles",
            t,
            Some(json!({"name": "Reader", "permissions": ["stores:read", "companies:read", "sales:read"]})),
        )
        .await;
    create_user(&server, t, "reader@acme.test", "Reader").await;
    let reader = token_of(&server, "reader@acme.test").await;
    problem(put_links(&server, &reader, &kiosk, json!([])).await, 403).await;
    create_user(&server, t, "agent@acme.test", "Support Agent").await;
    let agent = token_of(&server, "agent@acme.test").await;
    problem(
        call(&server, Method::GET, "/api/v1/sales/outlets", &agent, None).await,
        403,
    )
    .await;
    // Bad parameters name themselves.
    let bad = problem(
        call(
            &server,
            Method::GET,
            "/api/v1/sales/outlets?linked=maybe",
            t,
            None,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "linked");
});

/// Facts of one outlet: (days ago, SKU, quantity).
async fn outlet_facts(
    server: &TestServer,
    org_id: Uuid,
    today: NaiveDate,
    outlet: &str,
    rows: &[(i64, &str, i64)],
) {
    let rows: Vec<FactRow> = rows
        .iter()
        .map(|(ago, sku, qty)| FactRow {
            day: day_number(today - Duration::days(*ago)),
            region: "Central".into(),
            province: "Riyadh".into(),
            precision_area: "Olaya".into(),
            outlet_code: outlet.into(),
            outlet_name: format!("Outlet {outlet}"),
            channel: "grocery".into(),
            pack_type: "can".into(),
            sku: (*sku).into(),
            qty_scaled: qty * 10_000,
            value_scaled: qty * 30_000,
        })
        .collect();
    let mut tx = server.database.db.begin().await.expect("tx");
    write_facts(&mut tx, org_id, Uuid::now_v7(), &rows)
        .await
        .expect("facts");
    tx.commit().await.expect("commit");
}

identity_test!(
    sales_call_list_and_upsell_from_rollups_match_the_facts,
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let today = today(&clock);
        let me = get(&server, t, "/api/v1/auth/me").await;
        let mine = json!({"assigned_rep": me["user"]["id"]});
        // A weekly buyer over 14 weeks: COLA every time, CHIPS only long ago (before the
        // basket's window of the latest 10 order days), WATER in the latest 3, a visit
        // without a purchase, and SOAP 366 days ago (outside the year the upsell reads).
        let mut rows: Vec<(i64, &str, i64)> = Vec::new();
        for week in 0..14 {
            let ago = 100 - 7 * week;
            rows.push((ago, "COLA-1", 5 + week % 3));
            if week < 3 {
                rows.push((ago, "CHIPS-1", 2));
            }
            if week >= 11 {
                rows.push((ago, "WATER-1", 4));
            }
        }
        rows.push((5, "COLA-1", 0));
        rows.push((366, "SOAP-1", 1));
        outlet_facts(&server, acme.id, today, "F-1", &rows).await;
        // Two peers: COLA, WATER and SOAP in the year; JUICE on its first day (inside);
        // NUTS the day before it (outside); FUTURE today (not before today).
        for outlet in ["P-A", "P-B"] {
            outlet_facts(
                &server,
                acme.id,
                today,
                outlet,
                &[
                    (20, "COLA-1", 3),
                    (20, "WATER-1", 3),
                    (20, "SOAP-1", 3),
                    (365, "JUICE-1", 1),
                    (366, "NUTS-1", 1),
                    (0, "FUTURE-1", 1),
                ],
            )
            .await;
        }
        let mart = store(&server, t, "Facts Mart", mine.clone()).await;
        // An order too, two days ago: orders and facts make one history.
        let cola = product(&server, t, "COLA-1").await;
        order_on(
            &server,
            t,
            &mart,
            today - Duration::days(2),
            &[(&cola, "4", "3")],
            "confirmed",
        )
        .await;
        for (s, code) in [(&mart, "F-1")] {
            assert_eq!(put_links(&server, t, s, json!([code])).await.status(), 200);
        }
        for (name, code) in [("Peer A", "P-A"), ("Peer B", "P-B")] {
            let peer = store(&server, t, name, json!({})).await;
            assert_eq!(
                put_links(&server, t, &peer, json!([code])).await.status(),
                200
            );
        }

        // The store's page and the call list (purchase-day rollup + the basket window's
        // facts) predict exactly what the pure algorithm does over every purchase of the
        // year, built here from the rows written above.
        let mut full: Vec<sales::predict::Purchase> = rows
            .iter()
            .filter(|(ago, _, qty)| *qty > 0 && *ago <= 365)
            .map(|(ago, sku, qty)| sales::predict::Purchase {
                day: day_number(today - Duration::days(*ago)),
                sku: (*sku).to_owned(),
                qty: *qty as f64,
                value: *qty as f64 * 3.0,
            })
            .collect();
        full.push(sales::predict::Purchase {
            day: day_number(today - Duration::days(2)),
            sku: "COLA-1".to_owned(),
            qty: 4.0,
            value: 12.0,
        });
        let expected = sales::predict::next_order::predict(
            &full,
            day_number(today),
            &sales::predict::next_order::NextOrderParams::default(),
        );
        let next = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/next-order", id(&mart)),
        )
        .await;
        assert_eq!(next["orders_seen"], 15, "{next}");
        assert_eq!(expected.orders_seen, 15);
        assert_eq!(
            next["expected_on"],
            json!(expected.expected_on.map(sales::facts::date_of_day)),
            "{next}"
        );
        assert_eq!(next["overdue_days"], json!(expected.overdue_days));
        let expected_basket: Vec<String> = expected.basket.iter().map(|b| b.sku.clone()).collect();
        let page_basket: Vec<String> = next["basket"]
            .as_array()
            .expect("basket")
            .iter()
            .filter_map(|b| b["sku"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(page_basket, expected_basket, "{next}");
        for (line, item) in next["basket"]
            .as_array()
            .expect("basket")
            .iter()
            .zip(&expected.basket)
        {
            let rounded = (item.expected_qty * 100.0).round() / 100.0;
            assert_eq!(line["expected_qty"], json!(rounded), "{line}");
        }
        let list = get(&server, t, "/api/v1/sales/call-list").await;
        let entry = list["stores"]
            .as_array()
            .expect("stores")
            .iter()
            .find(|s| s["store_id"] == mart["id"])
            .expect("the mart is on the list")
            .clone();
        assert_eq!(
            entry["expected_on"], next["expected_on"],
            "{entry} vs {next}"
        );
        assert_eq!(entry["overdue_days"], next["overdue_days"]);
        let skus = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("basket")
                .iter()
                .take(3)
                .filter_map(|b| b["sku"].as_str().map(str::to_owned))
                .collect()
        };
        assert_eq!(skus(&entry["basket"]), skus(&next["basket"]));
        assert!(
            skus(&next["basket"]).contains(&"WATER-1".to_owned()),
            "{next}"
        );
        assert!(
            !skus(&next["basket"]).contains(&"CHIPS-1".to_owned()),
            "{next}"
        );
        let value = entry["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["factor"] == "value")
            .expect("value reason")
            .clone();
        // The value factor is explained (from the purchase days' values).
        assert!(value["detail"].as_str().is_some(), "{value}");

        // Upsell from the outlet × SKU × month rollup: SOAP (the mart's purchase is 366
        // days old) and JUICE (the peers' first day of the year), not NUTS (a day too old)
        // nor FUTURE (today).
        let up = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/upsell?limit=10", id(&mart)),
        )
        .await;
        let mut suggested: Vec<&str> = up["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .filter_map(|s| s["sku"].as_str())
            .collect();
        suggested.sort_unstable();
        assert_eq!(suggested, ["JUICE-1", "SOAP-1"], "{up}");
    }
);
