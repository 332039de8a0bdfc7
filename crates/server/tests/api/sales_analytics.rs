//! Sales analytics through HTTP, on hand-made facts: the gap thresholds at exactly 40% and
//! 60%, the default period, recommendations naming the zero-sales outlets, trend growth
//! against hand-computed numbers, market totals (bad rows, replace, share, erosion),
//! alerts raised once, roles and tenancy.

use chrono::NaiveDate;
use kernel::on_pool;
use reqwest::Method;
use sales::analytics::alerts::{AlertKind, AlertPriority, NewAlert, raise_alert};
use sales::facts::{FactRow, day_number, write_facts};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::identity::{PASSWORD, call, create_user, login, org};
use crate::identity_test;

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let response = call(server, Method::GET, path, token, None).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "GET {path}: {body}");
    body["data"].clone()
}

async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn day(date: &str) -> i32 {
    day_number(NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"))
}

/// One fact: an outlet of Olaya (Riyadh, Central) unless `region` says otherwise.
fn fact(day: i32, region: &str, outlet: &str, pack: &str, qty: i64, value: i64) -> FactRow {
    FactRow {
        day,
        region: region.to_owned(),
        province: format!("{region} Province"),
        precision_area: format!("{region} Area"),
        outlet_code: outlet.to_owned(),
        outlet_name: format!("Shop {outlet}"),
        channel: "grocery".to_owned(),
        pack_type: pack.to_owned(),
        sku: format!("SKU-{pack}"),
        qty_scaled: qty * 10_000,
        value_scaled: value * 10_000,
    }
}

/// `total` outlets of `region` recording `pack` on `day`, the first `zero` selling none.
fn outlets(day: i32, region: &str, pack: &str, total: usize, zero: usize) -> Vec<FactRow> {
    (1..=total)
        .map(|i| {
            let sold = if i <= zero { 0 } else { 3 };
            fact(
                day,
                region,
                &format!("{pack}-{i:02}"),
                pack,
                sold,
                sold * 10,
            )
        })
        .collect()
}

async fn write(server: &TestServer, org: Uuid, rows: Vec<FactRow>) {
    let mut tx = server.database.db.begin().await.expect("begin");
    write_facts(&mut tx, org, Uuid::now_v7(), &rows)
        .await
        .expect("write facts");
    tx.commit().await.expect("commit");
}

fn row<'a>(report: &'a Value, pack: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["pack_type"] == pack)
        .unwrap_or_else(|| panic!("no row for {pack}: {report}"))
}

/// The threshold fixture on 2026-11-30: 40% exactly, 5 of 12, 60% exactly, 8 of 13; and
/// an older day 30 days before, outside the default period.
async fn gap_fixture(server: &TestServer, org: Uuid) {
    let last = day("2026-11-30");
    let mut rows = Vec::new();
    rows.extend(outlets(last, "Central", "P40", 10, 4));
    rows.extend(outlets(last, "Central", "P41", 12, 5));
    rows.extend(outlets(last, "Central", "P60", 10, 6));
    rows.extend(outlets(last, "Central", "P61", 13, 8));
    // 29 days before the last day: inside the default 30 days.
    rows.extend(outlets(last - 29, "Central", "P40", 10, 4));
    // 30 days before: outside; all zero, so it would move every share if counted.
    rows.extend(outlets(last - 30, "Central", "P41", 12, 12));
    write(server, org, rows).await;
}

identity_test!(
    sales_analytics_gap_thresholds_period_and_recommendation,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        gap_fixture(&server, acme.id).await;

        let report = get(&server, t, "/api/v1/sales/distribution-gaps").await;
        // Default period: the 30 days ending at the latest imported day.
        assert_eq!(report["period"]["from"], "2026-11-01", "{report}");
        assert_eq!(report["period"]["to"], "2026-11-30");
        assert_eq!(report["period"]["default"], true);

        let p40 = row(&report, "P40");
        assert_eq!(p40["total_records"], 20, "both P40 days are inside");
        assert_eq!(p40["zero_records"], 8);
        assert_eq!(p40["zero_share"], 0.4);
        assert_eq!(p40["flagged"], false, "exactly 40% is not a gap");
        assert_eq!(p40["urgency"], Value::Null);
        assert_eq!(p40["recommendation"], Value::Null);

        let p41 = row(&report, "P41");
        assert_eq!(p41["total_records"], 12, "the day 30 days back is outside");
        assert_eq!(p41["flagged"], true, "5 of 12 is above 40%");
        assert_eq!(p41["urgency"], "MEDIUM");

        let p60 = row(&report, "P60");
        assert_eq!(p60["zero_share"], 0.6);
        assert_eq!(p60["flagged"], true);
        assert_eq!(p60["urgency"], "MEDIUM", "exactly 60% is MEDIUM");

        let p61 = row(&report, "P61");
        assert_eq!(p61["urgency"], "HIGH", "8 of 13 is above 60%");
        assert_eq!(p61["region"], "Central");
        assert_eq!(p61["province"], "Central Province");
        assert_eq!(p61["precision_area"], "Central Area");
        // The recommendation names the zero-sales outlets and the pack type, not sellers.
        let text = p61["recommendation"].as_str().expect("recommendation");
        assert!(text.contains("P61"), "{text}");
        for zero in ["Shop P61-01", "Shop P61-02", "Shop P61-03"] {
            assert!(text.contains(zero), "{zero} in {text}");
        }
        assert!(text.contains("5 more outlets"), "{text}");
        for seller in ["P61-09", "P61-13"] {
            assert!(!text.contains(seller), "{seller} sold; {text}");
        }

        // Highest share first; summary over the rows.
        let order: Vec<&str> = report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["pack_type"].as_str().expect("pack"))
            .collect();
        assert_eq!(order, vec!["P61", "P60", "P41", "P40"]);
        assert_eq!(report["summary"]["total_records"], 20 + 12 + 10 + 13);
        assert_eq!(report["summary"]["zero_records"], 8 + 5 + 6 + 8);
        assert_eq!(report["summary"]["flagged"], 3);
        assert_eq!(report["summary"]["high"], 1);

        // flagged_only, an explicit period and a filter.
        let flagged = get(
            &server,
            t,
            "/api/v1/sales/distribution-gaps?flagged_only=true&pack_type=P40",
        )
        .await;
        assert_eq!(flagged["rows"].as_array().expect("rows").len(), 0);
        let older = get(
            &server,
            t,
            "/api/v1/sales/distribution-gaps?from=2026-10-31&to=2026-10-31",
        )
        .await;
        assert_eq!(older["period"]["default"], false);
        assert_eq!(row(&older, "P41")["zero_share"], 1.0);
        assert_eq!(row(&older, "P41")["urgency"], "HIGH");

        // The heat map: region × pack type, the same rule per cell.
        let heat = get(
            &server,
            t,
            "/api/v1/sales/distribution-gaps/heatmap?rows=region&columns=pack_type",
        )
        .await;
        assert_eq!(heat["row_labels"], json!(["Central"]));
        assert_eq!(heat["column_labels"], json!(["P40", "P41", "P60", "P61"]));
        let cell = |pack: &str| {
            heat["cells"]
                .as_array()
                .expect("cells")
                .iter()
                .find(|c| c["column"] == pack)
                .cloned()
                .expect("cell")
        };
        assert_eq!(cell("P40")["urgency"], Value::Null);
        assert_eq!(cell("P60")["urgency"], "MEDIUM");
        assert_eq!(cell("P61")["urgency"], "HIGH");

        // Bad input names the parameter.
        for (query, field) in [
            ("from=2026-13-01", "from"),
            ("from=2026-11-30&to=2026-11-01", "from"),
            ("flagged_only=maybe", "flagged_only"),
        ] {
            let response = call(
                &server,
                Method::GET,
                &format!("/api/v1/sales/distribution-gaps?{query}"),
                t,
                None,
            )
            .await;
            assert_eq!(problem(response, 422).await["errors"][0]["field"], field);
        }
        let response = call(
            &server,
            Method::GET,
            "/api/v1/sales/distribution-gaps/heatmap?rows=city",
            t,
            None,
        )
        .await;
        assert_eq!(problem(response, 422).await["errors"][0]["field"], "rows");

        // Another organisation sees none of it, and its default period is its own.
        let other = org(&server, "Other", "admin@other.test").await;
        let theirs = get(
            &server,
            &other.admin_token,
            "/api/v1/sales/distribution-gaps",
        )
        .await;
        assert_eq!(theirs["rows"], json!([]));
        assert_eq!(theirs["summary"]["total_records"], 0);
    }
);

identity_test!(
    sales_analytics_trends_match_hand_computed_growth,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // North: Jan 2025 100, Dec 2025 200, Jan 2026 300 (two facts in January 2026).
        // South: Jan 2025 50, Dec 2025 100, Jan 2026 80.
        let rows = vec![
            fact(day("2025-01-10"), "North", "N1", "can", 10, 100),
            fact(day("2025-12-05"), "North", "N1", "can", 20, 200),
            fact(day("2026-01-03"), "North", "N1", "can", 10, 100),
            fact(day("2026-01-20"), "North", "N2", "bottle", 20, 200),
            fact(day("2025-01-10"), "South", "S1", "can", 5, 50),
            fact(day("2025-12-05"), "South", "S1", "can", 10, 100),
            fact(day("2026-01-03"), "South", "S1", "can", 8, 80),
        ];
        write(&server, acme.id, rows).await;

        let report = get(
            &server,
            t,
            "/api/v1/sales/trends?by=region&measure=value&from=2025-12&to=2026-01",
        )
        .await;
        assert_eq!(report["months"], json!(["2025-12", "2026-01"]));
        let series = |key: &str| {
            report["series"]
                .as_array()
                .expect("series")
                .iter()
                .find(|s| s["key"] == key)
                .cloned()
                .unwrap_or_else(|| panic!("no {key}: {report}"))
        };
        let north = series("North");
        assert_eq!(north["values"], json!(["200", "300"]));
        // December's month before (November) is zero: no growth; January: 300/200 − 1.
        assert_eq!(north["mom_growth"], json!([null, 0.5]));
        assert_eq!(north["yoy_growth"], json!([null, 2.0]));
        let south = series("South");
        assert_eq!(south["mom_growth"], json!([null, -0.2]));
        assert_eq!(south["yoy_growth"], json!([null, 0.6]));
        assert_eq!(report["total"]["values"], json!(["300", "380"]));
        assert_eq!(report["total"]["mom_growth"][1], 0.266667);
        assert_eq!(report["total"]["yoy_growth"][1], 1.533333);
        assert_eq!(report["movers"]["top"][0]["key"], "North");
        assert_eq!(report["movers"]["bottom"][0]["key"], "South");
        assert_eq!(report["movers"]["bottom"][0]["previous"], "100");
        // Largest in the last month first.
        assert_eq!(report["series"][0]["key"], "North");

        // Quantity by pack type, filtered to North.
        let qty = get(
            &server,
            t,
            "/api/v1/sales/trends?by=pack_type&measure=qty&from=2026-01&to=2026-01&region=North",
        )
        .await;
        let keys: Vec<(String, String)> = qty["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|s| {
                (
                    s["key"].as_str().unwrap_or("").to_owned(),
                    s["values"][0].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("bottle".to_owned(), "20".to_owned()),
                ("can".to_owned(), "10".to_owned())
            ]
        );
        // Seasonality over Jan 2025 .. Jan 2026 of the total: January is (150 + 380) / 2
        // over the mean of the 13 months from the first with sales.
        let mean = (150.0 + 300.0 + 380.0) / 13.0;
        let january = report["seasonality"][0]["index"].as_f64().expect("index");
        assert!((january - (265.0 / mean)).abs() < 1e-5, "{january}");
        assert_eq!(report["seasonality"][11]["month_of_year"], 12);

        for (query, field) in [
            ("by=city", "by"),
            ("measure=litres", "measure"),
            ("from=2026-1", "from"),
            ("from=2026-02&to=2026-01", "from"),
        ] {
            let response = call(
                &server,
                Method::GET,
                &format!("/api/v1/sales/trends?{query}"),
                t,
                None,
            )
            .await;
            assert_eq!(problem(response, 422).await["errors"][0]["field"], field);
        }
        let other = org(&server, "Other", "admin@other.test").await;
        let theirs = get(
            &server,
            &other.admin_token,
            "/api/v1/sales/trends?from=2025-12&to=2026-01",
        )
        .await;
        assert_eq!(theirs["series"], json!([]));
        assert_eq!(theirs["total"]["values"], json!(["0", "0"]));
    }
);

async fn post_totals(
    server: &TestServer,
    token: &str,
    body: &str,
    content_type: &str,
) -> reqwest::Response {
    server
        .client
        .post(server.url("/api/v1/sales/market-totals"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("send")
}

identity_test!(
    sales_analytics_market_totals_share_and_erosion,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // North can: 30, 29, 28, 27 of a market of 100 each month (30% → 27%: eroding).
        // South can: 50, 50, 50, 49 (50% → 49%: not eroding). North bottle has no market total.
        let mut rows = Vec::new();
        for (i, month) in ["2025-10", "2025-11", "2025-12", "2026-01"]
            .iter()
            .enumerate()
        {
            let d = day(&format!("{month}-15"));
            rows.push(fact(d, "North", "N1", "can", 1, 30 - i as i64));
            rows.push(fact(
                d,
                "South",
                "S1",
                "can",
                1,
                if i == 3 { 49 } else { 50 },
            ));
            rows.push(fact(d, "North", "N2", "bottle", 1, 500));
        }
        write(&server, acme.id, rows).await;

        // Every bad row is reported by row and column; nothing is written.
        let bad = "month,region,pack_type,market_value\n2025-10,North,can,100\n2025-13,North,can,100\n2025-11,,can,x\n";
        let response = post_totals(&server, t, bad, "text/csv").await;
        let body = problem(response, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field"))
            .collect();
        assert_eq!(
            fields,
            vec!["rows[3].month", "rows[4].region", "rows[4].market_value"]
        );
        let stored: i64 = on_pool!(server.database.db, |p| sqlx::query_scalar(
            "SELECT count(*) FROM sales_market_totals"
        )
        .fetch_one(p)
        .await)
        .expect("count");
        assert_eq!(stored, 0, "all or nothing");

        // A first upload with a wrong figure for January, then the right one replaces it.
        let mut csv = "month,region,pack_type,market_value,market_qty\n".to_owned();
        for month in ["2025-10", "2025-11", "2025-12"] {
            csv.push_str(&format!(
                "{month},North,can,100,10\n{month},South,can,100,\n"
            ));
        }
        csv.push_str("2026-01,North,can,90,\n2026-01,South,can,100,\n");
        let response = post_totals(&server, t, &csv, "text/csv").await;
        assert_eq!(response.status(), 200);
        let first: Value = response.json().await.expect("json");
        assert_eq!(first["data"]["inserted"], 8);
        let fix = json!({"rows": [{"month": "2026-01", "region": "North", "pack_type": "can", "market_value": "100"}]});
        let response = post_totals(&server, t, &fix.to_string(), "application/json").await;
        assert_eq!(response.status(), 200);
        let second: Value = response.json().await.expect("json");
        assert_eq!(second["data"]["replaced"], 1);
        assert_eq!(second["data"]["inserted"], 0);

        let share = get(
            &server,
            t,
            "/api/v1/sales/market-share?by=region&from=2025-10&to=2026-01",
        )
        .await;
        let north = &share["series"][0];
        assert_eq!(north["key"], "North");
        // Bottles have no market total: not counted in North's share.
        assert_eq!(north["our_value"], json!(["30", "29", "28", "27"]));
        assert_eq!(north["share"], json!([0.3, 0.29, 0.28, 0.27]));
        assert_eq!(north["change"], -0.03);
        assert_eq!(north["eroding"], true);
        let south = &share["series"][1];
        assert_eq!(south["key"], "South");
        assert_eq!(south["eroding"], false);
        // By pack type: can = North + South.
        let by_pack = get(
            &server,
            t,
            "/api/v1/sales/market-share?by=pack_type&from=2026-01&to=2026-01",
        )
        .await;
        assert_eq!(by_pack["series"][0]["key"], "can");
        assert_eq!(by_pack["series"][0]["share"], json!([0.38]));

        // A Sales Rep reads but may not import; a Viewer may not either.
        create_user(&server, t, "rep@acme.test", "Sales Rep").await;
        let rep = token_of(&server, "rep@acme.test").await;
        let response = post_totals(&server, &rep, &fix.to_string(), "application/json").await;
        problem(response, 403).await;
        get(&server, &rep, "/api/v1/sales/market-share").await;
        let response = post_totals(&server, t, "{}", "application/json").await;
        assert_eq!(problem(response, 422).await["errors"][0]["field"], "rows");
        let response = post_totals(&server, t, "a;b", "text/plain").await;
        assert_eq!(
            problem(response, 422).await["errors"][0]["field"],
            "content-type"
        );

        // Another organisation sees no share.
        let other = org(&server, "Other", "admin@other.test").await;
        let theirs = get(&server, &other.admin_token, "/api/v1/sales/market-share").await;
        assert_eq!(theirs["series"], json!([]));
    }
);

async fn alert_events(server: &TestServer, event_type: &str) -> i64 {
    on_pool!(server.database.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM outbox_events WHERE event_type = $1"
    )
    .bind(event_type)
    .fetch_one(p)
    .await)
    .expect("count events")
}

identity_test!(sales_analytics_alerts_are_raised_once, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    gap_fixture(&server, acme.id).await;

    // A Viewer reads alerts but may not scan.
    create_user(&server, t, "viewer@acme.test", "Viewer").await;
    let viewer = token_of(&server, "viewer@acme.test").await;
    let response = call(
        &server,
        Method::POST,
        "/api/v1/sales/alerts/scan",
        &viewer,
        None,
    )
    .await;
    problem(response, 403).await;

    let response = call(&server, Method::POST, "/api/v1/sales/alerts/scan", t, None).await;
    assert_eq!(response.status(), 200);
    let scan: Value = response.json().await.expect("json");
    let raised = scan["data"]["raised"].as_array().expect("raised");
    assert_eq!(raised.len(), 3, "P41, P60, P61: {scan}");
    assert_eq!(alert_events(&server, "sales.distribution_gap").await, 3);
    let p61 = raised
        .iter()
        .find(|a| a["key"] == "Central/Central Province/Central Area/P61")
        .expect("P61 alert");
    assert_eq!(p61["priority"], "CRITICAL", "HIGH urgency is CRITICAL");
    assert_eq!(p61["period"], "2026-11");
    let p60 = raised
        .iter()
        .find(|a| a["key"] == "Central/Central Province/Central Area/P60")
        .expect("P60 alert");
    assert_eq!(p60["priority"], "HIGH");

    // The event carries the priority.
    let data: Value = on_pool!(server.database.db, |p| sqlx::query_scalar::<_, sqlx::types::Json<Value>>(
        "SELECT data FROM outbox_events WHERE event_type = 'sales.distribution_gap' AND record_id = $1"
    )
    .bind(Uuid::parse_str(p61["id"].as_str().expect("id")).expect("uuid"))
    .fetch_one(p)
    .await)
    .expect("event")
    .0;
    assert_eq!(data["priority"], "CRITICAL");
    assert_eq!(data["pack_type"], "P61");

    // A re-scan of the same data emits nothing new.
    let response = call(&server, Method::POST, "/api/v1/sales/alerts/scan", t, None).await;
    let again: Value = response.json().await.expect("json");
    assert_eq!(again["data"]["raised"], json!([]));
    assert_eq!(again["data"]["gaps_flagged"], 3);
    assert_eq!(alert_events(&server, "sales.distribution_gap").await, 3);

    let listed = call(
        &server,
        Method::GET,
        "/api/v1/sales/alerts?priority=CRITICAL&kind=sales.distribution_gap",
        &viewer,
        None,
    )
    .await;
    let listed: Value = listed.json().await.expect("json");
    assert_eq!(listed["data"].as_array().expect("alerts").len(), 1);
    let response = call(
        &server,
        Method::GET,
        "/api/v1/sales/alerts?priority=urgent",
        t,
        None,
    )
    .await;
    assert_eq!(
        problem(response, 422).await["errors"][0]["field"],
        "priority"
    );

    // The prediction work raises forecast deviations through `raise_alert`: once.
    let clock: kernel::SharedClock = _clock.clone();
    for expected_new in [true, false] {
        let mut tx = server.database.db.begin().await.expect("begin");
        let raised = raise_alert(
            &mut tx,
            &clock,
            acme.id,
            NewAlert {
                kind: AlertKind::ForecastDeviation,
                priority: AlertPriority::Info,
                key: "SKU-P61/Central".to_owned(),
                period: "2026-11".to_owned(),
                title: "Sales 12% below forecast".to_owned(),
                payload: json!({"deviation": -0.12}),
                actor: Some("system".to_owned()),
            },
        )
        .await
        .expect("raise");
        tx.commit().await.expect("commit");
        assert_eq!(raised.is_some(), expected_new);
    }
    assert_eq!(alert_events(&server, "sales.forecast_deviation").await, 1);

    // Another organisation has no alerts, and its scan raises none.
    let other = org(&server, "Other", "admin@other.test").await;
    let theirs = call(
        &server,
        Method::GET,
        "/api/v1/sales/alerts",
        &other.admin_token,
        None,
    )
    .await;
    let theirs: Value = theirs.json().await.expect("json");
    assert_eq!(theirs["data"], json!([]));
    let response = call(
        &server,
        Method::POST,
        "/api/v1/sales/alerts/scan",
        &other.admin_token,
        None,
    )
    .await;
    let none: Value = response.json().await.expect("json");
    assert_eq!(none["data"]["raised"], json!([]));
});
