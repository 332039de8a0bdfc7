//! Distributor sales through HTTP: order → invoice → payment with exact totals, the
//! credit limit and its audited override, roles, tenancy, reps scoped to their stores,
//! gap-free invoice numbers under concurrency, and bad input naming the field.

use kernel::on_pool;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::identity::{PASSWORD, audit_actions, call, create_user, login, org};
use crate::identity_test;

async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = call(server, Method::POST, path, token, Some(body)).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "POST {path}: {body}");
    body["data"].clone()
}

async fn patch(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = call(server, Method::PATCH, path, token, Some(body)).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "PATCH {path}: {body}");
    body["data"].clone()
}

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let response = call(server, Method::GET, path, token, None).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("id")
}

async fn events_of(server: &TestServer, event_type: &str, record: &str) -> i64 {
    let record = Uuid::parse_str(record).expect("uuid");
    on_pool!(server.database.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM outbox_events WHERE event_type = $1 AND record_id = $2"
    )
    .bind(event_type)
    .bind(record)
    .fetch_one(p)
    .await)
    .expect("count events")
}

/// A company made a store, with `extra` store attributes.
async fn store(server: &TestServer, token: &str, name: &str, extra: Value) -> Value {
    let company = post(server, token, "/api/v1/companies", json!({"name": name})).await;
    let mut body = json!({"company_id": company["id"], "region": "Central", "province": "Riyadh", "city": "Riyadh",
        "precision_area": "Olaya", "channel": "grocery", "latitude": 24.69, "longitude": 46.68, "visit_frequency_days": 7});
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
        json!({"sku": sku, "name": format!("Cola {sku}"), "brand": "Fizz", "category": "CSD",
               "pack_type": "330ml can", "unit_of_measure": "case"}),
    )
    .await
}

/// Moves an order through the given statuses, returning the last version of it.
async fn advance(server: &TestServer, token: &str, order: &Value, statuses: &[&str]) -> Value {
    let mut order = order.clone();
    for status in statuses {
        order = patch(
            server,
            token,
            &format!("/api/v1/sales-orders/{}", id(&order)),
            json!({"status": status, "version": order["version"]}),
        )
        .await;
    }
    order
}

identity_test!(
    sales_order_invoice_payment_flow_is_exact,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let cola = product(&server, t, "COLA-330").await;
        let water = product(&server, t, "WATER-500").await;
        // SKUs are unique per organisation, case-insensitively.
        let dup = call(
            &server,
            Method::POST,
            "/api/v1/products",
            t,
            Some(json!({"sku": "cola-330", "name": "Again"})),
        )
        .await;
        assert_eq!(problem(dup, 422).await["errors"][0]["field"], "sku");

        let list = post(
        &server,
        t,
        "/api/v1/price-lists",
        json!({"name": "Retail 2026", "items": [
            {"product_id": cola["id"], "unit_price": "11.00", "currency": "SAR", "valid_from": "2020-01-01", "valid_to": "2020-12-31"},
            {"product_id": cola["id"], "unit_price": "12.50", "currency": "SAR", "valid_from": "2021-01-01"},
        ]}),
    )
    .await;
        let in_force = get(
            &server,
            t,
            &format!(
                "/api/v1/price-lists/{}/price?product_id={}&on=2020-06-01",
                id(&list),
                id(&cola)
            ),
        )
        .await;
        assert_eq!(in_force["data"]["item"]["unit_price"], "11.00");
        let store = store(
            &server,
            t,
            "Corner Shop",
            json!({"price_list_id": list["id"],
        "credit_limit": {"amount": "5000", "currency": "SAR"}}),
        )
        .await;
        assert_eq!(store["credit_limit"]["amount"], "5000.00");
        assert_eq!(store["region"], "Central");
        assert_eq!(events_of(&server, "store.created", id(&store)).await, 1);

        // 10 × 12.50 (from the price list) − 5% + 15% tax; 3 × 3.333 + 15% tax.
        let order = post(
            &server,
            t,
            "/api/v1/sales-orders",
            json!({"store_id": store["id"], "lines": [
                {"product_id": cola["id"], "quantity": "10", "discount_pct": "5", "tax_pct": "15"},
                {"product_id": water["id"], "quantity": 3, "unit_price": "3.333", "tax_pct": "15"},
            ]}),
        )
        .await;
        assert_eq!(order["status"], "draft");
        assert_eq!(order["currency"], "SAR");
        assert!(order["number"].as_str().expect("number").starts_with("SO-"));
        let l0 = &order["lines"][0];
        assert_eq!(
            (
                &l0["unit_price"],
                &l0["gross"],
                &l0["discount"],
                &l0["net"],
                &l0["tax"],
                &l0["total"]
            ),
            (
                &json!("12.50"),
                &json!("125.00"),
                &json!("6.25"),
                &json!("118.75"),
                &json!("17.81"),
                &json!("136.56")
            )
        );
        let l1 = &order["lines"][1];
        assert_eq!(
            (&l1["gross"], &l1["tax"], &l1["total"]),
            (&json!("10.00"), &json!("1.50"), &json!("11.50"))
        );
        assert_eq!(
            (
                &order["subtotal"],
                &order["discount"],
                &order["tax"],
                &order["total"]
            ),
            (
                &json!("135.00"),
                &json!("6.25"),
                &json!("19.31"),
                &json!("148.06")
            )
        );
        // A stale version is refused with the current record.
        let stale = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/sales-orders/{}", id(&order)),
            t,
            Some(json!({"status": "confirmed", "version": 7})),
        )
        .await;
        assert_eq!(problem(stale, 412).await["current"]["version"], 1);
        // Not yet delivered: no invoice.
        let early = call(
            &server,
            Method::POST,
            &format!("/api/v1/sales-orders/{}/invoice", id(&order)),
            t,
            None,
        )
        .await;
        problem(early, 409).await;
        let order = advance(&server, t, &order, &["confirmed"]).await;
        let balance = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/balance", id(&store)),
        )
        .await;
        assert_eq!(balance["data"]["uninvoiced_orders"], "148.06");
        assert_eq!(balance["data"]["available_credit"], "4851.94");
        // Lines are frozen once confirmed; Confirmed cannot go back to Draft.
        let frozen = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/sales-orders/{}", id(&order)),
            t,
            Some(json!({"lines": [], "version": order["version"]})),
        )
        .await;
        assert_eq!(problem(frozen, 422).await["errors"][0]["field"], "lines");
        let back = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/sales-orders/{}", id(&order)),
            t,
            Some(json!({"status": "draft", "version": order["version"]})),
        )
        .await;
        problem(back, 409).await;
        let order = advance(&server, t, &order, &["delivered"]).await;
        assert_eq!(
            events_of(&server, "sales_order.confirmed", id(&order)).await,
            1
        );
        assert_eq!(
            events_of(&server, "sales_order.delivered", id(&order)).await,
            1
        );

        let invoice = post(
            &server,
            t,
            &format!("/api/v1/sales-orders/{}/invoice", id(&order)),
            json!({}),
        )
        .await;
        let year = &invoice["issued_on"].as_str().expect("date")[..4];
        assert_eq!(invoice["number"], format!("INV-{year}-00001"));
        assert_eq!(
            (&invoice["total"], &invoice["balance"], &invoice["status"]),
            (&json!("148.06"), &json!("148.06"), &json!("open"))
        );
        let order = get(&server, t, &format!("/api/v1/sales-orders/{}", id(&order))).await;
        assert_eq!(order["data"]["status"], "invoiced");
        assert_eq!(events_of(&server, "invoice.issued", id(&invoice)).await, 1);
        let twice = call(
            &server,
            Method::POST,
            &format!("/api/v1/sales-orders/{}/invoice", id(&order["data"])),
            t,
            None,
        )
        .await;
        problem(twice, 409).await;

        // A partial payment.
        let paid = post(&server, t, "/api/v1/payments", json!({"store_id": store["id"], "amount": "100", "currency": "SAR",
        "method": "bank_transfer", "reference": "TRX-1", "allocations": [{"invoice_id": invoice["id"], "amount": "100.00"}]})).await;
        assert_eq!(
            (&paid["amount"], &paid["allocated"]),
            (&json!("100.00"), &json!("100.00"))
        );
        assert_eq!(events_of(&server, "payment.recorded", id(&paid)).await, 1);
        let inv = get(&server, t, &format!("/api/v1/invoices/{}", id(&invoice))).await;
        assert_eq!(
            (
                &inv["data"]["paid"],
                &inv["data"]["balance"],
                &inv["data"]["status"]
            ),
            (&json!("100.00"), &json!("48.06"), &json!("partially_paid"))
        );
        // A return credited against it.
        let note = post(&server, t, "/api/v1/credit-notes", json!({"invoice_id": invoice["id"], "amount": "8.06", "reason": "2 dented cans returned"})).await;
        assert_eq!(note["number"], format!("CN-{year}-00001"));
        assert_eq!(events_of(&server, "credit_note.issued", id(&note)).await, 1);
        let too_much = call(
            &server,
            Method::POST,
            "/api/v1/credit-notes",
            t,
            Some(json!({"invoice_id": invoice["id"], "amount": "40.01", "reason": "x"})),
        )
        .await;
        assert_eq!(problem(too_much, 422).await["errors"][0]["field"], "amount");
        // Allocating more than the invoice owes, or more than the payment, is refused.
        let over_invoice = call(&server, Method::POST, "/api/v1/payments", t, Some(json!({"store_id": store["id"], "amount": "50",
        "currency": "SAR", "method": "cash", "allocations": [{"invoice_id": invoice["id"], "amount": "40.01"}]}))).await;
        assert_eq!(
            problem(over_invoice, 422).await["errors"][0]["field"],
            "allocations[0].amount"
        );
        let over_payment = call(&server, Method::POST, "/api/v1/payments", t, Some(json!({"store_id": store["id"], "amount": "30",
        "currency": "SAR", "method": "cash", "allocations": [{"invoice_id": invoice["id"], "amount": "40"}]}))).await;
        assert_eq!(
            problem(over_payment, 422).await["errors"][0]["field"],
            "allocations"
        );
        post(&server, t, "/api/v1/payments", json!({"store_id": store["id"], "amount": "40", "currency": "SAR",
        "method": "cash", "received_on": "2026-11-30", "allocations": [{"invoice_id": invoice["id"], "amount": "40"}]})).await;
        let inv = get(&server, t, &format!("/api/v1/invoices/{}", id(&invoice))).await;
        assert_eq!(
            (
                &inv["data"]["balance"],
                &inv["data"]["credited"],
                &inv["data"]["status"]
            ),
            (&json!("0.00"), &json!("8.06"), &json!("paid"))
        );
        let balance = get(
            &server,
            t,
            &format!("/api/v1/stores/{}/balance", id(&store)),
        )
        .await;
        assert_eq!(
            (
                &balance["data"]["open_balance"],
                &balance["data"]["available_credit"]
            ),
            (&json!("0.00"), &json!("5000.00"))
        );
        let payments = get(
            &server,
            t,
            &format!("/api/v1/payments?store_id={}", id(&store)),
        )
        .await;
        assert_eq!(payments["data"].as_array().map(Vec::len), Some(2));
        let paid_list = get(&server, t, "/api/v1/invoices?status=paid").await;
        assert_eq!(paid_list["data"][0]["number"], invoice["number"]);
    }
);

identity_test!(
    sales_credit_limit_refusal_and_audited_manager_override,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        create_user(&server, t, "rep@acme.test", "Sales Rep").await;
        create_user(&server, t, "boss@acme.test", "Manager").await;
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        let rep = token_of(&server, "rep@acme.test").await;
        let boss = token_of(&server, "boss@acme.test").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        let cola = product(&server, t, "COLA-1").await;
        let store = store(
            &server,
            t,
            "Tight Credit",
            json!({"credit_limit": {"amount": "100", "currency": "SAR"}}),
        )
        .await;
        let line = json!([{"product_id": cola["id"], "quantity": "10", "unit_price": "10", "tax_pct": "15"}]);

        // A Viewer reads but cannot enter orders; a rep can.
        let denied = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            &viewer,
            Some(json!({"store_id": store["id"], "lines": line})),
        )
        .await;
        problem(denied, 403).await;
        let order = post(
            &server,
            &rep,
            "/api/v1/sales-orders",
            json!({"store_id": store["id"], "lines": line}),
        )
        .await;
        assert_eq!(order["total"], "115.00");
        get(
            &server,
            &viewer,
            &format!("/api/v1/sales-orders/{}", id(&order)),
        )
        .await;
        // Orders in another currency than the credit limit's are refused.
        let usd = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            &rep,
            Some(json!({"store_id": store["id"], "currency": "USD", "lines": line})),
        )
        .await;
        assert_eq!(problem(usd, 422).await["errors"][0]["field"], "currency");

        let path = format!("/api/v1/sales-orders/{}", id(&order));
        let refused = call(
            &server,
            Method::PATCH,
            &path,
            &rep,
            Some(json!({"status": "confirmed", "version": 1})),
        )
        .await;
        let body = problem(refused, 422).await;
        assert_eq!(body["errors"][0]["field"], "credit_limit");
        assert!(
            body["detail"].as_str().expect("detail").contains("115.00"),
            "{body}"
        );
        // A rep cannot override; a Manager must give a reason.
        let rep_override = call(&server, Method::PATCH, &path, &rep,
        Some(json!({"status": "confirmed", "version": 1, "override_credit_limit": true, "override_reason": "good customer"}))).await;
        problem(rep_override, 403).await;
        let no_reason = call(
            &server,
            Method::PATCH,
            &path,
            &boss,
            Some(json!({"status": "confirmed", "version": 1, "override_credit_limit": true})),
        )
        .await;
        assert_eq!(
            problem(no_reason, 422).await["errors"][0]["field"],
            "override_reason"
        );
        assert!(
            audit_actions(&server, t, "sales_order.credit_override")
                .await
                .is_empty()
        );
        let confirmed = patch(&server, &boss, &path,
        json!({"status": "confirmed", "version": 1, "override_credit_limit": true, "override_reason": "seasonal stock-up, paid on time for 3 years"})).await;
        assert_eq!(confirmed["status"], "confirmed");
        assert_eq!(
            confirmed["credit_override_reason"],
            "seasonal stock-up, paid on time for 3 years"
        );
        let audited = audit_actions(&server, t, "sales_order.credit_override").await;
        assert_eq!(audited.len(), 1, "{audited:?}");
        assert_eq!(audited[0]["entity_id"], id(&order));
        assert_eq!(
            events_of(&server, "sales_order.credit_override", id(&order)).await,
            1
        );
        assert_eq!(
            events_of(&server, "sales_order.confirmed", id(&order)).await,
            1
        );

        // The confirmed order now uses the credit: even a small one is refused.
        let small = post(
            &server,
            &rep,
            "/api/v1/sales-orders",
            json!({"store_id": store["id"],
        "lines": [{"product_id": cola["id"], "quantity": "1", "unit_price": "1"}]}),
        )
        .await;
        let refused = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/sales-orders/{}", id(&small)),
            &rep,
            Some(json!({"status": "confirmed", "version": 1})),
        )
        .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "credit_limit"
        );
        // Cancelling the big one frees the credit.
        advance(&server, &boss, &confirmed, &["cancelled"]).await;
        let small = advance(&server, &rep, &small, &["confirmed"]).await;
        assert_eq!(small["status"], "confirmed");
        // Invoicing needs invoices:create, which a rep lacks.
        let small = advance(&server, &boss, &small, &["delivered"]).await;
        let denied = call(
            &server,
            Method::POST,
            &format!("/api/v1/sales-orders/{}/invoice", id(&small)),
            &rep,
            None,
        )
        .await;
        problem(denied, 403).await;
    }
);

identity_test!(
    sales_records_of_other_organisations_do_not_exist,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let g = &globex.admin_token;
        let their_product = product(&server, g, "G-1").await;
        let their_store = store(&server, g, "Globex Mart", json!({})).await;
        let their_order = post(
            &server,
            g,
            "/api/v1/sales-orders",
            json!({"store_id": their_store["id"], "currency": "SAR",
        "lines": [{"product_id": their_product["id"], "quantity": "2", "unit_price": "5"}]}),
        )
        .await;
        let their_order = advance(&server, g, &their_order, &["confirmed", "delivered"]).await;
        let their_invoice = post(
            &server,
            g,
            &format!("/api/v1/sales-orders/{}/invoice", id(&their_order)),
            json!({}),
        )
        .await;

        let t = &acme.admin_token;
        for path in [
            format!("/api/v1/stores/{}", id(&their_store)),
            format!("/api/v1/stores/{}/balance", id(&their_store)),
            format!("/api/v1/products/{}", id(&their_product)),
            format!("/api/v1/sales-orders/{}", id(&their_order)),
            format!("/api/v1/invoices/{}", id(&their_invoice)),
        ] {
            problem(call(&server, Method::GET, &path, t, None).await, 404).await;
        }
        let cancel = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/sales-orders/{}", id(&their_order)),
            t,
            Some(json!({"status": "cancelled", "version": their_order["version"]})),
        )
        .await;
        problem(cancel, 404).await;
        problem(
            call(
                &server,
                Method::POST,
                &format!("/api/v1/sales-orders/{}/invoice", id(&their_order)),
                t,
                None,
            )
            .await,
            404,
        )
        .await;
        // Their company cannot become our store; their store, product and invoice cannot be used.
        let company = call(
            &server,
            Method::POST,
            "/api/v1/stores",
            t,
            Some(json!({"company_id": their_store["company_id"]})),
        )
        .await;
        assert_eq!(
            problem(company, 422).await["errors"][0]["field"],
            "company_id"
        );
        let mine = store(&server, t, "Acme Store", json!({})).await;
        let on_theirs = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            t,
            Some(json!({"store_id": their_store["id"], "currency": "SAR",
        "lines": [{"product_id": their_product["id"], "quantity": "1", "unit_price": "1"}]})),
        )
        .await;
        assert_eq!(
            problem(on_theirs, 422).await["errors"][0]["field"],
            "store_id"
        );
        let their_line = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            t,
            Some(json!({"store_id": mine["id"], "currency": "SAR",
        "lines": [{"product_id": their_product["id"], "quantity": "1", "unit_price": "1"}]})),
        )
        .await;
        assert_eq!(
            problem(their_line, 422).await["errors"][0]["field"],
            "lines[0].product_id"
        );
        let pay = call(
            &server,
            Method::POST,
            "/api/v1/payments",
            t,
            Some(
                json!({"store_id": mine["id"], "amount": "10", "currency": "SAR",
        "method": "cash", "allocations": [{"invoice_id": their_invoice["id"], "amount": "10"}]}),
            ),
        )
        .await;
        assert_eq!(
            problem(pay, 422).await["errors"][0]["field"],
            "allocations[0].invoice_id"
        );
        let credit = call(
            &server,
            Method::POST,
            "/api/v1/credit-notes",
            t,
            Some(json!({"invoice_id": their_invoice["id"], "amount": "1", "reason": "x"})),
        )
        .await;
        assert_eq!(
            problem(credit, 422).await["errors"][0]["field"],
            "invoice_id"
        );
        for list in [
            "/api/v1/sales-orders",
            "/api/v1/invoices",
            "/api/v1/payments",
            "/api/v1/products",
            "/api/v1/credit-notes",
        ] {
            assert_eq!(
                get(&server, t, list).await["data"].as_array().map(Vec::len),
                Some(0),
                "{list}"
            );
        }
        assert_eq!(
            get(&server, t, "/api/v1/stores").await["data"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }
);

identity_test!(
    sales_rep_scoped_to_own_stores_sees_only_them,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        post(&server, t, "/api/v1/roles", json!({"name": "Territory Rep", "permissions": [
        "stores:read:own", "products:read", "orders:read", "orders:create", "orders:update:own", "invoices:read", "payments:read"]})).await;
        let rep1 = create_user(&server, t, "rep1@acme.test", "Territory Rep").await;
        let rep2 = create_user(&server, t, "rep2@acme.test", "Territory Rep").await;
        create_user(&server, t, "sales@acme.test", "Sales Rep").await;
        let rep1_token = token_of(&server, "rep1@acme.test").await;
        let sales_rep = token_of(&server, "sales@acme.test").await;
        let cola = product(&server, t, "COLA-1").await;
        let north = store(
            &server,
            t,
            "North Kiosk",
            json!({"assigned_rep": rep1["id"]}),
        )
        .await;
        let south = store(
            &server,
            t,
            "South Kiosk",
            json!({"assigned_rep": rep2["id"]}),
        )
        .await;
        store(&server, t, "Unassigned", json!({})).await;

        let listed = get(&server, &rep1_token, "/api/v1/stores").await;
        let ids: Vec<&str> = listed["data"]
            .as_array()
            .expect("list")
            .iter()
            .map(id)
            .collect();
        assert_eq!(ids, vec![id(&north)]);
        problem(
            call(
                &server,
                Method::GET,
                &format!("/api/v1/stores/{}", id(&south)),
                &rep1_token,
                None,
            )
            .await,
            404,
        )
        .await;
        get(
            &server,
            &rep1_token,
            &format!("/api/v1/stores/{}", id(&north)),
        )
        .await;
        // Orders follow the stores: none on another rep's store, and theirs stay invisible.
        let lines = json!([{"product_id": cola["id"], "quantity": "1", "unit_price": "2"}]);
        let refused = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            &rep1_token,
            Some(json!({"store_id": south["id"], "currency": "SAR", "lines": lines})),
        )
        .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "store_id"
        );
        post(
            &server,
            &rep1_token,
            "/api/v1/sales-orders",
            json!({"store_id": north["id"], "currency": "SAR", "lines": lines}),
        )
        .await;
        let theirs = post(
            &server,
            t,
            "/api/v1/sales-orders",
            json!({"store_id": south["id"], "currency": "SAR", "lines": lines}),
        )
        .await;
        problem(
            call(
                &server,
                Method::GET,
                &format!("/api/v1/sales-orders/{}", id(&theirs)),
                &rep1_token,
                None,
            )
            .await,
            404,
        )
        .await;
        let orders = get(&server, &rep1_token, "/api/v1/sales-orders").await;
        assert_eq!(orders["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(orders["data"][0]["store_id"], north["id"]);
        // The built-in Sales Rep (stores:read) sees every store; the filter still works.
        let all = get(&server, &sales_rep, "/api/v1/stores").await;
        assert_eq!(all["data"].as_array().map(Vec::len), Some(3));
        let by_rep = get(
            &server,
            &sales_rep,
            &format!("/api/v1/stores?assigned_rep={}", id(&rep2)),
        )
        .await;
        assert_eq!(by_rep["data"][0]["id"], south["id"]);
        // Only an updater may reassign a store.
        let reassign = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/stores/{}", id(&north)),
            &rep1_token,
            Some(json!({"assigned_rep": rep2["id"], "version": 1})),
        )
        .await;
        problem(reassign, 403).await;
    }
);

identity_test!(
    sales_invoice_numbers_are_gap_free_under_concurrency,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = acme.admin_token.clone();
        let cola = product(&server, &t, "COLA-1").await;
        let shop = store(&server, &t, "Busy Shop", json!({})).await;
        let mut orders = Vec::new();
        for i in 1..=8 {
            let order = post(
                &server,
                &t,
                "/api/v1/sales-orders",
                json!({"store_id": shop["id"], "currency": "SAR",
            "lines": [{"product_id": cola["id"], "quantity": i, "unit_price": "1.25"}]}),
            )
            .await;
            orders.push(advance(&server, &t, &order, &["confirmed", "delivered"]).await);
        }
        // Every order invoiced at once, the first one twice.
        let mut targets: Vec<String> = orders.iter().map(|o| id(o).to_owned()).collect();
        targets.push(targets[0].clone());
        let server = std::sync::Arc::new(server);
        let mut tasks = Vec::new();
        for order in targets {
            let server = server.clone();
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let response = call(
                    &server,
                    Method::POST,
                    &format!("/api/v1/sales-orders/{order}/invoice"),
                    &t,
                    None,
                )
                .await;
                let status = response.status().as_u16();
                let body: Value = response.json().await.expect("json");
                (status, body)
            }));
        }
        let mut numbers = Vec::new();
        let mut conflicts = 0;
        for task in tasks {
            let (status, body) = task.await.expect("task");
            match status {
                201 => numbers.push(body["data"]["number"].as_str().expect("number").to_owned()),
                409 => conflicts += 1,
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(conflicts, 1);
        numbers.sort();
        let year = &numbers[0][4..8];
        let expected: Vec<String> = (1..=8).map(|n| format!("INV-{year}-{n:05}")).collect();
        assert_eq!(numbers, expected);
        let invoices = get(&server, &t, "/api/v1/invoices?sort=number&limit=100").await;
        assert_eq!(invoices["data"].as_array().map(Vec::len), Some(8));
    }
);

identity_test!(sales_bad_input_names_the_field, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    let cola = product(&server, t, "COLA-1").await;
    let shop = store(&server, t, "Shop", json!({})).await;
    let order = |lines: Value| json!({"store_id": shop["id"], "currency": "SAR", "lines": lines});
    let cases = [
        (
            order(json!([{"product_id": cola["id"], "quantity": "-1", "unit_price": "1"}])),
            "lines[0].quantity",
        ),
        (
            order(json!([{"product_id": cola["id"], "quantity": "0", "unit_price": "1"}])),
            "lines[0].quantity",
        ),
        (
            order(json!([{"product_id": Uuid::now_v7(), "quantity": "1", "unit_price": "1"}])),
            "lines[0].product_id",
        ),
        (
            order(json!([{"product_id": cola["id"], "quantity": "12.x", "unit_price": "1"}])),
            "lines[0].quantity",
        ),
        (
            order(json!([{"product_id": cola["id"], "quantity": "1", "unit_price": "1.00001"}])),
            "lines[0].unit_price",
        ),
        (
            order(
                json!([{"product_id": cola["id"], "quantity": "1", "unit_price": "1", "discount_pct": "101"}]),
            ),
            "lines[0].discount_pct",
        ),
        (
            order(json!([{"product_id": cola["id"], "quantity": "1"}])),
            "lines[0].unit_price",
        ),
        (order(json!([])), "lines"),
        (
            json!({"store_id": shop["id"], "currency": "dollars", "lines": [{"product_id": cola["id"], "quantity": "1", "unit_price": "1"}]}),
            "currency",
        ),
    ];
    for (body, field) in cases {
        let response = call(
            &server,
            Method::POST,
            "/api/v1/sales-orders",
            t,
            Some(body.clone()),
        )
        .await;
        let p = problem(response, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let bad_store = call(
        &server,
        Method::POST,
        "/api/v1/stores",
        t,
        Some(json!({"company_id": Uuid::now_v7(), "latitude": 91})),
    )
    .await;
    assert_eq!(
        problem(bad_store, 422).await["errors"][0]["field"],
        "latitude"
    );
    let bad_limit = call(
        &server,
        Method::PATCH,
        &format!("/api/v1/stores/{}", id(&shop)),
        t,
        Some(json!({"credit_limit": {"amount": "-5", "currency": "SAR"}, "version": 1})),
    )
    .await;
    assert_eq!(
        problem(bad_limit, 422).await["errors"][0]["field"],
        "credit_limit.amount"
    );
    let bad_price = call(&server, Method::POST, "/api/v1/price-lists", t, Some(json!({"name": "L", "items": [
        {"product_id": cola["id"], "unit_price": "1", "currency": "SAR", "valid_from": "2026-02-01", "valid_to": "2026-01-01"}]}))).await;
    assert_eq!(
        problem(bad_price, 422).await["errors"][0]["field"],
        "items[0].valid_to"
    );
    let bad_payment = call(
        &server,
        Method::POST,
        "/api/v1/payments",
        t,
        Some(json!({"store_id": shop["id"], "amount": "abc", "currency": "SAR", "method": "cash"})),
    )
    .await;
    assert_eq!(
        problem(bad_payment, 422).await["errors"][0]["field"],
        "amount"
    );
    let bad_method = call(
        &server,
        Method::POST,
        "/api/v1/payments",
        t,
        Some(json!({"store_id": shop["id"], "amount": "1", "currency": "SAR", "method": "barter"})),
    )
    .await;
    assert_eq!(
        problem(bad_method, 422).await["errors"][0]["field"],
        "method"
    );
    // A store is one per company.
    let again = call(
        &server,
        Method::POST,
        "/api/v1/stores",
        t,
        Some(json!({"company_id": shop["company_id"]})),
    )
    .await;
    problem(again, 409).await;
});

/// The ids of a store list response.
fn ids_of(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| id(s).to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted_ids(stores: &[&Value]) -> Vec<String> {
    let mut ids: Vec<String> = stores.iter().map(|s| id(s).to_owned()).collect();
    ids.sort();
    ids
}

identity_test!(
    sales_store_search_matches_names_and_places_within_the_callers_stores,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let t = &acme.admin_token;
        post(
            &server,
            t,
            "/api/v1/roles",
            json!({"name": "Territory Rep",
            "permissions": ["stores:read:own", "companies:read"]}),
        )
        .await;
        post(
            &server,
            t,
            "/api/v1/roles",
            json!({"name": "Store Viewer",
            "permissions": ["stores:read"]}),
        )
        .await;
        let rep1 = create_user(&server, t, "rep1@acme.test", "Territory Rep").await;
        let rep2 = create_user(&server, t, "rep2@acme.test", "Territory Rep").await;
        create_user(&server, t, "viewer@acme.test", "Store Viewer").await;
        let rep1_token = token_of(&server, "rep1@acme.test").await;
        let viewer = token_of(&server, "viewer@acme.test").await;

        let north = store(
            &server,
            t,
            "North Kiosk",
            json!({"assigned_rep": rep1["id"]}),
        )
        .await;
        let south = store(
            &server,
            t,
            "South Kiosk",
            json!({"assigned_rep": rep2["id"]}),
        )
        .await;
        let fresh = store(
            &server,
            t,
            "100% Fresh",
            json!({"region": "West", "province": "Makkah", "city": "Jeddah", "precision_area": "Hamra"}),
        )
        .await;
        let corner = store(
            &server,
            t,
            "Corner Shop",
            json!({"region": "East", "province": "Eastern", "city": "Dammam", "precision_area": "Al_Corniche"}),
        )
        .await;
        // A company whose name matches but which is not a store.
        post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Kiosk Supplies"}),
        )
        .await;
        let theirs = store(&server, &globex.admin_token, "Globex Kiosk", json!({})).await;

        let search = |token: &str, query: &str| {
            let path = format!("/api/v1/stores?{query}");
            let token = token.to_owned();
            let server = &server;
            async move { get(server, &token, &path).await }
        };

        // Part of a name, any case; a company that is not a store is not listed.
        assert_eq!(
            ids_of(&search(t, "q=kiosk").await),
            sorted_ids(&[&north, &south])
        );
        assert_eq!(
            ids_of(&search(t, "q=RTH%20KIO").await),
            sorted_ids(&[&north])
        );
        // Region, province, city and precision area.
        assert_eq!(ids_of(&search(t, "q=jedd").await), sorted_ids(&[&fresh]));
        assert_eq!(
            ids_of(&search(t, "q=eastern").await),
            sorted_ids(&[&corner])
        );
        assert_eq!(
            ids_of(&search(t, "q=olaya").await),
            sorted_ids(&[&north, &south])
        );
        // LIKE wildcards match only themselves.
        assert_eq!(ids_of(&search(t, "q=%25").await), sorted_ids(&[&fresh]));
        assert_eq!(ids_of(&search(t, "q=_").await), sorted_ids(&[&corner]));
        assert_eq!(ids_of(&search(t, "q=%25%25").await), Vec::<String>::new());
        // A blank q is no filter.
        assert_eq!(
            search(t, "q=%20").await["data"].as_array().map(Vec::len),
            Some(4)
        );

        // Composed with the filters, the sort and the cursor.
        assert_eq!(
            ids_of(&search(t, &format!("q=kiosk&assigned_rep={}", id(&rep2))).await),
            sorted_ids(&[&south])
        );
        assert_eq!(
            ids_of(&search(t, "q=riyadh&region=West").await),
            Vec::<String>::new()
        );
        let first = search(t, "q=kiosk&limit=1&sort=city").await;
        let cursor = first["meta"]["next_cursor"].as_str().expect("a next page");
        let second = search(t, &format!("q=kiosk&limit=1&sort=city&cursor={cursor}")).await;
        assert!(second["meta"]["next_cursor"].is_null(), "{second}");
        let mut paged = vec![
            id(&first["data"][0]).to_owned(),
            id(&second["data"][0]).to_owned(),
        ];
        paged.sort();
        assert_eq!(paged, sorted_ids(&[&north, &south]));

        // A rep scoped to their own stores never finds another rep's, by name or by place.
        assert_eq!(
            ids_of(&search(&rep1_token, "q=kiosk").await),
            sorted_ids(&[&north])
        );
        assert_eq!(
            ids_of(&search(&rep1_token, "q=south").await),
            Vec::<String>::new()
        );
        assert_eq!(
            ids_of(&search(&rep1_token, "q=olaya").await),
            sorted_ids(&[&north])
        );
        // Without companies:read names are not searched (they are not shown either);
        // places still are.
        assert_eq!(
            ids_of(&search(&viewer, "q=north").await),
            Vec::<String>::new()
        );
        assert_eq!(
            ids_of(&search(&viewer, "q=dammam").await),
            sorted_ids(&[&corner])
        );

        // Another organisation's store is never found, and ours are not found by them.
        assert_eq!(ids_of(&search(t, "q=globex").await), Vec::<String>::new());
        assert_eq!(
            ids_of(&search(&globex.admin_token, "q=kiosk").await),
            sorted_ids(&[&theirs])
        );
        assert_eq!(
            ids_of(&search(&globex.admin_token, "q=north").await),
            Vec::<String>::new()
        );

        // At most 200 characters.
        search(t, &format!("q={}", "a".repeat(200))).await;
        let long = call(
            &server,
            Method::GET,
            &format!("/api/v1/stores?q={}", "a".repeat(201)),
            t,
            None,
        )
        .await;
        assert_eq!(problem(long, 422).await["errors"][0]["field"], "q");
    }
);
