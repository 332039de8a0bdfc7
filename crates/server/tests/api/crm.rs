//! CRM through HTTP: tenancy, roles and ownership, versioned board moves, PII.

use std::sync::Arc;

use kernel::clock::FixedClock;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::identity::{PASSWORD, audit_actions, call, create_user, fixed_clock, login, org, start};
use crate::identity_test;

async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = call(server, Method::POST, path, token, Some(body)).await;
    assert_eq!(response.status(), 201, "POST {path}");
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let response = call(server, Method::GET, path, token, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("json")
}

async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

identity_test!(
    crm_records_of_other_organisations_do_not_exist,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let company = post(
            &server,
            &globex.admin_token,
            "/api/v1/companies",
            json!({"name": "Initech"}),
        )
        .await;
        let contact = post(
            &server,
            &globex.admin_token,
            "/api/v1/contacts",
            json!({"first_name": "Peter", "last_name": "Gibbons", "company_id": company["id"]}),
        )
        .await;
        let deal = post(
            &server,
            &globex.admin_token,
            "/api/v1/deals",
            json!({"title": "TPS reports", "amount": "1000", "currency": "USD"}),
        )
        .await;
        let t = &acme.admin_token;
        for (path, id) in [
            ("companies", &company),
            ("contacts", &contact),
            ("deals", &deal),
        ] {
            problem(
                call(
                    &server,
                    Method::GET,
                    &format!("/api/v1/{path}/{}", id["id"].as_str().expect("id")),
                    t,
                    None,
                )
                .await,
                404,
            )
            .await;
        }
        problem(
            call(
                &server,
                Method::PATCH,
                &format!("/api/v1/companies/{}", company["id"].as_str().expect("id")),
                t,
                Some(json!({"name": "Mine", "version": 1})),
            )
            .await,
            404,
        )
        .await;
        problem(
            call(
                &server,
                Method::PATCH,
                &format!("/api/v1/deals/{}", deal["id"].as_str().expect("id")),
                t,
                Some(json!({"title": "Mine", "version": 1})),
            )
            .await,
            404,
        )
        .await;
        // Another organisation's company cannot be linked either.
        let linked = call(
            &server,
            Method::POST,
            "/api/v1/contacts",
            t,
            Some(json!({"first_name": "X", "company_id": company["id"]})),
        )
        .await;
        assert_eq!(
            problem(linked, 422).await["errors"][0]["field"],
            "company_id"
        );
        // Another organisation's stage cannot be used.
        let pipelines = get(&server, &globex.admin_token, "/api/v1/pipelines").await;
        let their_stage = pipelines["data"][0]["stages"][1]["id"].clone();
        let stolen = call(
            &server,
            Method::POST,
            "/api/v1/deals",
            t,
            Some(json!({"title": "X", "amount": 1, "currency": "USD", "stage_id": their_stage})),
        )
        .await;
        assert_eq!(problem(stolen, 422).await["errors"][0]["field"], "stage_id");
        let listed = get(&server, t, "/api/v1/companies").await;
        assert_eq!(listed["data"].as_array().map(Vec::len), Some(0));
    }
);

identity_test!(crm_roles_and_own_records, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    create_user(&server, &acme.admin_token, "viewer@acme.test", "Viewer").await;
    create_user(&server, &acme.admin_token, "rep1@acme.test", "Sales Rep").await;
    create_user(&server, &acme.admin_token, "rep2@acme.test", "Sales Rep").await;
    create_user(&server, &acme.admin_token, "boss@acme.test", "Manager").await;
    let viewer = token_of(&server, "viewer@acme.test").await;
    let rep1 = token_of(&server, "rep1@acme.test").await;
    let rep2 = token_of(&server, "rep2@acme.test").await;
    let boss = token_of(&server, "boss@acme.test").await;

    problem(
        call(
            &server,
            Method::POST,
            "/api/v1/companies",
            &viewer,
            Some(json!({"name": "Nope"})),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(
        audit_actions(&server, &acme.admin_token, "permission.denied")
            .await
            .len(),
        1
    );
    let deal = post(
        &server,
        &rep1,
        "/api/v1/deals",
        json!({"title": "Rep one's deal", "amount": "500.25", "currency": "eur"}),
    )
    .await;
    assert_eq!(deal["amount"], "500.25");
    assert_eq!(deal["currency"], "EUR");
    let path = format!("/api/v1/deals/{}", deal["id"].as_str().expect("id"));
    // Everyone on the team can read it; only its owner (or a manager) changes it.
    assert_eq!(
        call(&server, Method::GET, &path, &rep2, None)
            .await
            .status(),
        200
    );
    let body = problem(
        call(
            &server,
            Method::PATCH,
            &path,
            &rep2,
            Some(json!({"title": "Mine now", "version": 1})),
        )
        .await,
        403,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("own"),
        "{body}"
    );
    let own = call(
        &server,
        Method::PATCH,
        &path,
        &rep1,
        Some(json!({"title": "Renamed", "version": 1})),
    )
    .await;
    assert_eq!(own.status(), 200);
    let managed = call(
        &server,
        Method::PATCH,
        &path,
        &boss,
        Some(json!({"amount": "750", "version": 2})),
    )
    .await;
    assert_eq!(managed.status(), 200);
    let managed: Value = managed.json().await.expect("json");
    assert_eq!(managed["data"]["amount"], "750.00");
    assert_eq!(managed["data"]["version"], 3);
});

identity_test!(
    board_moves_are_versioned_and_emit_events,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let pipelines = get(&server, t, "/api/v1/pipelines").await;
        let pipeline = &pipelines["data"][0];
        let stages: Vec<Value> = pipeline["stages"].as_array().expect("stages").clone();
        assert_eq!(stages.len(), 6);
        let stage =
            |name: &str| stages.iter().find(|s| s["name"] == name).expect("stage")["id"].clone();
        let a = post(
            &server,
            t,
            "/api/v1/deals",
            json!({"title": "A", "amount": "100", "currency": "USD"}),
        )
        .await;
        let b = post(
            &server,
            t,
            "/api/v1/deals",
            json!({"title": "B", "amount": "200.50", "currency": "USD"}),
        )
        .await;
        let c = post(&server, t, "/api/v1/deals", json!({"title": "C", "amount": "300", "currency": "SAR", "stage_id": stage("Proposal")})).await;
        assert_eq!(
            (a["position"].as_i64(), b["position"].as_i64()),
            (Some(0), Some(1))
        );
        assert_eq!(c["probability"], 50);

        // Drag B to the top of Proposal.
        let moved = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/deals/{}", b["id"].as_str().expect("id")),
            t,
            Some(json!({"stage_id": stage("Proposal"), "position": 0, "version": 1})),
        )
        .await;
        assert_eq!(moved.status(), 200);
        let moved: Value = moved.json().await.expect("json");
        assert_eq!(moved["data"]["probability"], 50);
        assert_eq!(moved["data"]["version"], 2);
        // A second drag based on the old version is refused with the current record.
        let stale = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/deals/{}", b["id"].as_str().expect("id")),
            t,
            Some(json!({"stage_id": stage("Won"), "version": 1})),
        )
        .await;
        let body = problem(stale, 412).await;
        assert_eq!(body["current"]["stage_id"], stage("Proposal"));
        // If-Match works as well as a body version.
        let won = server
            .client
            .patch(server.url(&format!("/api/v1/deals/{}", a["id"].as_str().expect("id"))))
            .bearer_auth(t)
            .header("if-match", "\"1\"")
            .json(&json!({"stage_id": stage("Won")}))
            .send()
            .await
            .expect("send");
        assert_eq!(won.status(), 200);
        let won: Value = won.json().await.expect("json");
        assert_eq!(won["data"]["status"], "won");

        let board = get(
            &server,
            t,
            &format!(
                "/api/v1/pipelines/{}/board",
                pipeline["id"].as_str().expect("id")
            ),
        )
        .await;
        let columns = board["data"]["columns"].as_array().expect("columns");
        let proposal = columns
            .iter()
            .find(|col| col["stage"]["name"] == "Proposal")
            .expect("proposal");
        let titles: Vec<&str> = proposal["deals"]
            .as_array()
            .expect("deals")
            .iter()
            .filter_map(|d| d["title"].as_str())
            .collect();
        assert_eq!(titles, ["B", "C"], "B dragged above C");
        assert_eq!(proposal["count"], 2);
        let usd = proposal["totals"]
            .as_array()
            .expect("totals")
            .iter()
            .find(|x| x["currency"] == "USD")
            .expect("usd");
        assert_eq!(usd["amount"], "200.50");
        assert_eq!(usd["weighted"], "100.25");
        let won_column = columns
            .iter()
            .find(|col| col["stage"]["name"] == "Won")
            .expect("won");
        assert_eq!(won_column["count"], 1);

        // The events a moving deal emits, committed with the change.
        let db = &server.database.db;
        let types: Vec<String> = kernel::on_pool!(db, |p| sqlx::query_scalar(
            "SELECT event_type FROM outbox_events WHERE record_type = 'deal' ORDER BY seq"
        )
        .fetch_all(p)
        .await)
        .expect("events");
        assert_eq!(
            types.iter().filter(|t| *t == "deal.stage_changed").count(),
            2
        );
        assert_eq!(types.iter().filter(|t| *t == "deal.won").count(), 1);
        assert_eq!(types.iter().filter(|t| *t == "deal.created").count(), 3);
    }
);

identity_test!(board_totals_follow_every_deal_write, |server, _clock| {
    // The board's totals are kept by the deal writes (`deal_stage_totals`), not summed
    // on each load: after creates, moves, amount and currency edits (and another
    // organisation's deals) they must equal the sums over the deals themselves.
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let other = org(&server, "Other", "admin@other.test").await;
    let t = &acme.admin_token;
    let pipelines = get(&server, t, "/api/v1/pipelines").await;
    let pipeline = pipelines["data"][0]["id"].as_str().expect("id").to_owned();
    let stages: Vec<Value> = pipelines["data"][0]["stages"]
        .as_array()
        .expect("stages")
        .clone();
    let stage = |i: usize| stages[i]["id"].clone();
    let mut deals = Vec::new();
    for (i, (amount, currency)) in [
        ("100", "USD"),
        ("200.50", "USD"),
        ("0.01", "USD"),
        ("333.33", "EUR"),
        ("999999.99", "SAR"),
        ("7", "EUR"),
    ]
    .into_iter()
    .enumerate()
    {
        deals.push(
                post(&server, t, "/api/v1/deals",
                    json!({"title": format!("D{i}"), "amount": amount, "currency": currency, "stage_id": stage(i % 3)}),
                )
                .await,
            );
    }
    post(
        &server,
        &other.admin_token,
        "/api/v1/deals",
        json!({"title": "Theirs", "amount": "5000", "currency": "USD"}),
    )
    .await;
    for (deal, patch) in [
        (0, json!({"stage_id": stage(3)})),
        (1, json!({"amount": "210.75"})),
        (2, json!({"currency": "EUR", "stage_id": stage(4)})),
        (3, json!({"stage_id": stage(5), "lost_reason": "price"})),
        (4, json!({"title": "renamed only"})),
        (0, json!({"stage_id": stage(2), "position": 0})),
    ] {
        let id = deals[deal]["id"].as_str().expect("id").to_owned();
        let current = get(&server, t, &format!("/api/v1/deals/{id}")).await;
        let mut body = patch;
        body["version"] = current["data"]["version"].clone();
        let moved = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            t,
            Some(body),
        )
        .await;
        assert_eq!(moved.status(), 200);
    }
    // A refused (stale) move changes nothing.
    let id = deals[5]["id"].as_str().expect("id");
    let stale = call(
        &server,
        Method::PATCH,
        &format!("/api/v1/deals/{id}"),
        t,
        Some(json!({"stage_id": stage(4), "version": 99})),
    )
    .await;
    assert_eq!(stale.status(), 412);

    let board = get(&server, t, &format!("/api/v1/pipelines/{pipeline}/board")).await;
    let mut shown: Vec<(String, String, i64, i64, i64)> = Vec::new();
    for column in board["data"]["columns"].as_array().expect("columns") {
        let mut count = 0;
        for total in column["totals"].as_array().expect("totals") {
            let scaled = |v: &Value| {
                (v.as_str().expect("amount").parse::<f64>().expect("number") * 10_000.0).round()
                    as i64
            };
            shown.push((
                column["stage"]["id"].as_str().expect("id").to_owned(),
                total["currency"].as_str().expect("currency").to_owned(),
                0,
                scaled(&total["amount"]),
                scaled(&total["weighted"]),
            ));
            count += 1;
        }
        assert!(column["count"].as_i64().expect("count") >= count);
    }
    let db = &server.database.db;
    let org_id = acme.id;
    let summed: Vec<(Uuid, String, i64, i64, i64)> = kernel::on_pool!(db, |p| sqlx::query_as(
        "SELECT stage_id, currency, COUNT(*), CAST(SUM(amount_scaled) AS BIGINT), \
             CAST(SUM(amount_scaled * probability / 100) AS BIGINT) FROM deals WHERE org_id = $1 \
             GROUP BY stage_id, currency"
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
    .expect("sums");
    let mut expected: Vec<(String, String, i64, i64, i64)> = summed
        .iter()
        .map(|(stage, currency, _, amount, weighted)| {
            (stage.to_string(), currency.clone(), 0, *amount, *weighted)
        })
        .collect();
    expected.sort();
    shown.sort();
    assert_eq!(shown, expected);
    // Counts per column, from the same sums.
    for column in board["data"]["columns"].as_array().expect("columns") {
        let id = Uuid::parse_str(column["stage"]["id"].as_str().expect("id")).expect("uuid");
        let deals: i64 = summed.iter().filter(|s| s.0 == id).map(|s| s.2).sum();
        assert_eq!(
            column["count"].as_i64(),
            Some(deals),
            "{}",
            column["stage"]["name"]
        );
    }
    // The organisation's board cannot be read by another organisation.
    let theirs = call(
        &server,
        Method::GET,
        &format!("/api/v1/pipelines/{pipeline}/board"),
        &other.admin_token,
        None,
    )
    .await;
    assert_eq!(theirs.status(), 404);
});

identity_test!(
    contact_pii_is_masked_and_searchable_blind,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let company = post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Saudi Sugar Co", "industry": "Food"}),
        )
        .await;
        let contact = post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "John", "last_name": "Smith", "email": "John.Smith@Example.com",
        "phone": "+966 512 345 612", "company_id": company["id"]}),
        )
        .await;
        assert_eq!(contact["email"], "john.smith@example.com");
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        let seen = get(
            &server,
            &viewer,
            &format!("/api/v1/contacts/{}", contact["id"].as_str().expect("id")),
        )
        .await;
        assert_eq!(seen["data"]["email"], "j***@example.com");
        assert_eq!(seen["data"]["phone"], "+966 5** *** *12");
        // Exact search on the encrypted email, case-insensitively, through the blind index.
        let found = get(&server, t, "/api/v1/contacts?email=JOHN.smith@example.com").await;
        assert_eq!(found["data"].as_array().map(Vec::len), Some(1));
        let none = get(&server, t, "/api/v1/contacts?email=jane@example.com").await;
        assert_eq!(none["data"].as_array().map(Vec::len), Some(0));
        let by_company = get(
            &server,
            t,
            &format!(
                "/api/v1/contacts?company_id={}",
                company["id"].as_str().expect("id")
            ),
        )
        .await;
        assert_eq!(by_company["data"].as_array().map(Vec::len), Some(1));

        let bad = call(
            &server,
            Method::POST,
            "/api/v1/deals",
            t,
            Some(json!({"title": "", "amount": "1.00001", "currency": "EURO"})),
        )
        .await;
        let body = problem(bad, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["title", "amount", "currency"]);
        let bad_contact = call(
            &server,
            Method::POST,
            "/api/v1/contacts",
            t,
            Some(json!({"first_name": "X", "email": "not-an-email", "phone": "12"})),
        )
        .await;
        let body = problem(bad_contact, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["email", "phone"]);

        // Sorted lists page with cursors.
        for name in ["alpha", "Bravo", "charlie"] {
            post(&server, t, "/api/v1/companies", json!({"name": name})).await;
        }
        let first = get(&server, t, "/api/v1/companies?limit=2&sort=name").await;
        let names: Vec<&str> = first["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["alpha", "Bravo"]);
        let cursor = first["meta"]["next_cursor"].as_str().expect("cursor");
        let second = get(
            &server,
            t,
            &format!("/api/v1/companies?limit=2&sort=name&cursor={cursor}"),
        )
        .await;
        let names: Vec<&str> = second["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["charlie", "Saudi Sugar Co"]);
    }
);

#[tokio::test]
async fn contact_pii_is_not_in_the_sqlite_file() {
    let clock: Arc<FixedClock> = fixed_clock();
    let server = start(kernel::Backend::Sqlite, clock).await.expect("sqlite");
    let acme = org(&server, "Acme", "admin@acme.test").await;
    post(&server, &acme.admin_token, "/api/v1/contacts", json!({"first_name": "Zed", "email": "zed.unique.person@example.org", "phone": "+44 20 7946 0958"})).await;
    let path = server
        .database
        .url
        .trim_start_matches("sqlite://")
        .to_owned();
    let mut bytes = std::fs::read(&path).expect("database file");
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        haystack.contains("Zed"),
        "names are not PII here and are readable"
    );
    for secret in ["zed.unique.person", "7946 0958", "79460958"] {
        assert!(
            !haystack.contains(secret),
            "{secret} found in the database file"
        );
    }
    let _ = Uuid::nil();
}

async fn count(server: &TestServer, table: &str) -> i64 {
    let db = &server.database.db;
    let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
    kernel::on_pool!(db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(
        sql.0.clone()
    ))
    .fetch_one(p)
    .await)
    .expect("count")
}

identity_test!(lead_conversion_is_all_or_nothing, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    let lead = post(
        &server,
        t,
        "/api/v1/leads",
        json!({"first_name": "Maria", "last_name": "Lopez", "company_name": "Lopez Bottling",
        "email": "maria@lopez.example", "phone": "+34 600 123 456", "source": "trade fair"}),
    )
    .await;
    assert_eq!(lead["status"], "New");
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().expect("id"));
    let qualified = call(
        &server,
        Method::PATCH,
        &path,
        t,
        Some(json!({"status": "Qualified", "version": 1})),
    )
    .await;
    assert_eq!(qualified.status(), 200);
    let wrong = call(
        &server,
        Method::PATCH,
        &path,
        t,
        Some(json!({"status": "Converted", "version": 2})),
    )
    .await;
    assert_eq!(problem(wrong, 422).await["errors"][0]["field"], "status");

    // A conversion whose deal is invalid leaves nothing behind: no company, no contact.
    let (companies, contacts, deals) = (
        count(&server, "companies").await,
        count(&server, "contacts").await,
        count(&server, "deals").await,
    );
    let failed = call(&server, Method::POST, &format!("{path}/convert"), t,
        Some(json!({"version": 2, "deal": {"title": "First order", "amount": "100", "currency": "USD", "stage_id": Uuid::now_v7()}}))).await;
    assert_eq!(
        problem(failed, 422).await["errors"][0]["field"],
        "deal.stage_id"
    );
    assert_eq!(
        (
            count(&server, "companies").await,
            count(&server, "contacts").await,
            count(&server, "deals").await
        ),
        (companies, contacts, deals)
    );
    assert_eq!(get(&server, t, &path).await["data"]["status"], "Qualified");

    let converted = call(&server, Method::POST, &format!("{path}/convert"), t,
        Some(json!({"version": 2, "deal": {"title": "First order", "amount": "2400.00", "currency": "EUR"}}))).await;
    assert_eq!(converted.status(), 200);
    let converted: Value = converted.json().await.expect("json");
    let result = &converted["data"];
    assert_eq!(result["lead"]["status"], "Converted");
    assert_eq!(result["company"]["name"], "Lopez Bottling");
    assert_eq!(result["contact"]["email"], "maria@lopez.example");
    assert_eq!(result["contact"]["company_id"], result["company"]["id"]);
    assert_eq!(result["deal"]["company_id"], result["company"]["id"]);
    assert_eq!(result["lead"]["deal_id"], result["deal"]["id"]);
    // Twice: refused, clearly.
    let again = call(
        &server,
        Method::POST,
        &format!("{path}/convert"),
        t,
        Some(json!({"version": 3})),
    )
    .await;
    let body = problem(again, 422).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("already converted"),
        "{body}"
    );

    // The contact's timeline shows its creation; an activity joins it.
    let contact_id = result["contact"]["id"].as_str().expect("id");
    post(&server, t, "/api/v1/activities", json!({"kind": "call", "subject": "Intro call", "record_type": "contact", "record_id": contact_id})).await;
    let timeline = get(
        &server,
        t,
        &format!("/api/v1/contacts/{contact_id}/timeline"),
    )
    .await;
    let summaries: Vec<&str> = timeline["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["summary"].as_str())
        .collect();
    assert!(
        summaries.contains(&"call: Intro call") && summaries.contains(&"contact.created"),
        "{summaries:?}"
    );
    let lead_timeline = get(&server, t, &format!("{path}/timeline")).await;
    let actions: Vec<&str> = lead_timeline["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["summary"].as_str())
        .collect();
    assert_eq!(
        actions.first(),
        Some(&"lead.converted"),
        "newest first: {actions:?}"
    );

    let bad = call(&server, Method::POST, "/api/v1/activities", t, Some(json!({"kind": "telegram", "subject": "", "record_type": "deal", "record_id": Uuid::now_v7()}))).await;
    let body = problem(bad, 422).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["kind", "subject", "record_id"]);
    // Another organisation's record cannot be annotated, nor its timeline read.
    let globex = org(&server, "Globex", "admin@globex.test").await;
    let stranger = call(&server, Method::POST, "/api/v1/activities", &globex.admin_token,
        Some(json!({"kind": "note", "subject": "Hi", "record_type": "contact", "record_id": contact_id}))).await;
    assert_eq!(
        problem(stranger, 422).await["errors"][0]["field"],
        "record_id"
    );
    problem(
        call(
            &server,
            Method::GET,
            &format!("/api/v1/contacts/{contact_id}/timeline"),
            &globex.admin_token,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            Method::POST,
            &format!("{path}/convert"),
            &globex.admin_token,
            Some(json!({"version": 3})),
        )
        .await,
        404,
    )
    .await;
});

identity_test!(
    search_is_typo_tolerant_and_blind_for_pii,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let company = post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Smithfield Beverages"}),
        )
        .await;
        post(&server, t, "/api/v1/contacts", json!({"first_name": "John", "last_name": "Smith", "email": "j.smith@smithfield.example", "company_id": company["id"]})).await;
        post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Maria", "last_name": "Lopez", "phone": "+34 600 123 456"}),
        )
        .await;
        post(&server, t, "/api/v1/leads", json!({"first_name": "Johanna", "last_name": "Schmidt", "company_name": "Schmidt GmbH"})).await;
        post(
            &server,
            t,
            "/api/v1/deals",
            json!({"title": "Smithfield summer promo", "amount": "5000", "currency": "USD"}),
        )
        .await;

        let hits = get(&server, t, "/api/v1/search?q=jon%20smth").await;
        let first = &hits["data"][0];
        assert_eq!(first["record_type"], "contact", "{hits}");
        assert_eq!(first["title"], "John Smith");
        // Prefix, across types.
        let hits = get(&server, t, "/api/v1/search?q=smithf").await;
        let types: Vec<&str> = hits["data"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|h| h["record_type"].as_str())
            .collect();
        assert!(
            types.contains(&"company") && types.contains(&"deal"),
            "{hits}"
        );
        // By email and by phone digits, though neither is stored in clear.
        let hits = get(&server, t, "/api/v1/search?q=j.smith@smithfield").await;
        assert_eq!(hits["data"][0]["title"], "John Smith", "{hits}");
        let hits = get(&server, t, "/api/v1/search?q=600123456").await;
        assert_eq!(hits["data"][0]["title"], "Maria Lopez", "{hits}");
        // The index follows writes: a renamed contact is found by its new name only, a
        // merged-away one not at all; and no table holds a searchable form of PII.
        let maria = hits["data"][0]["id"].as_str().expect("id").to_owned();
        let renamed = patch(
            &server,
            t,
            &format!("/api/v1/contacts/{maria}"),
            json!({"last_name": "Fernandez", "version": 1}),
        )
        .await;
        assert_eq!(renamed.status(), 200);
        let hits = get(&server, t, "/api/v1/search?q=fernandes").await;
        assert_eq!(hits["data"][0]["title"], "Maria Fernandez", "{hits}");
        let hits = get(&server, t, "/api/v1/search?q=lopez").await;
        assert!(
            !hits["data"]
                .as_array()
                .expect("hits")
                .iter()
                .any(|h| h["id"] == maria.as_str()),
            "{hits}"
        );
        let tables: i64 = kernel::on_pool!(server.database.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM search_grams"
        )
        .fetch_one(p)
        .await)
        .unwrap_or(-1);
        assert_eq!(tables, -1, "the posting table is gone");
        // Nothing from another organisation, nothing for a one-letter query.
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let none = get(
            &server,
            &globex.admin_token,
            "/api/v1/search?q=john%20smith",
        )
        .await;
        assert_eq!(none["data"].as_array().map(Vec::len), Some(0));
        assert_eq!(
            problem(
                call(&server, Method::GET, "/api/v1/search?q=j", t, None).await,
                422
            )
            .await["errors"][0]["field"],
            "q"
        );
        // Only what the caller may read.
        create_user(&server, t, "eng@acme.test", "Engineer").await;
        let engineer = token_of(&server, "eng@acme.test").await;
        problem(
            call(
                &server,
                Method::GET,
                "/api/v1/search?q=smith",
                &engineer,
                None,
            )
            .await,
            403,
        )
        .await;
    }
);

identity_test!(customer_360_composes_the_crm_records, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    let company = post(
        &server,
        t,
        "/api/v1/companies",
        json!({"name": "Gulf Retail"}),
    )
    .await;
    let cid = company["id"].as_str().expect("id");
    let contact = post(
        &server,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Omar", "last_name": "Haddad", "company_id": cid}),
    )
    .await;
    let open = post(
        &server,
        t,
        "/api/v1/deals",
        json!({"title": "Q3 listing", "amount": "1200", "currency": "SAR", "company_id": cid}),
    )
    .await;
    let pipelines = get(&server, t, "/api/v1/pipelines").await;
    let won_stage = pipelines["data"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["kind"] == "won")
        .expect("won")["id"]
        .clone();
    post(&server, t, "/api/v1/deals", json!({"title": "Q2 listing", "amount": "800.50", "currency": "SAR", "company_id": cid, "stage_id": won_stage})).await;
    post(&server, t, "/api/v1/activities", json!({"kind": "meeting", "subject": "Buyer visit", "record_type": "contact", "record_id": contact["id"]})).await;
    let view = get(&server, t, &format!("/api/v1/customers/{cid}/360")).await;
    let data = &view["data"];
    assert_eq!(data["company"]["name"], "Gulf Retail");
    assert_eq!(data["contacts"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["open_deals"][0]["id"], open["id"]);
    assert_eq!(data["closed_deals"][0]["amount"], "800.50");
    assert_eq!(data["recent_activities"][0]["subject"], "Buyer visit");
    // The helpdesk serves the tickets section (none yet); sales serves the orders
    // section, empty for a company that is not a store.
    assert_eq!(data["tickets"]["available"], true);
    assert_eq!(data["tickets"]["data"]["open"], 0);
    assert_eq!(data["orders"]["available"], true);
    assert_eq!(data["orders"]["data"], serde_json::Value::Null);
    assert_eq!(data["health"]["available"], false);
    let globex = org(&server, "Globex", "admin@globex.test").await;
    problem(
        call(
            &server,
            Method::GET,
            &format!("/api/v1/customers/{cid}/360"),
            &globex.admin_token,
            None,
        )
        .await,
        404,
    )
    .await;
});

async fn upload(
    server: &TestServer,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    server
        .client
        .post(server.url(&format!("/api/v1/imports/contacts{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send")
}

identity_test!(
    contact_import_reports_every_bad_row_and_commits_all_or_nothing,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Existing", "email": "dup@example.com"}),
        )
        .await;
        let csv = "First Name,Last Name,E-mail,Phone,Company\n\
               Ann,Lee,ann@example.com,+1 555 010 0001,Lee Foods\n\
               ,Nobody,nobody@example.com,,\n\
               Bob,Ray,not-an-email,12,Lee Foods\n\
               Cara,Diaz,dup@example.com,,Diaz Markets\n\
               Dan,Wu,ann@example.com,,\n";
        let before = count(&server, "contacts").await;
        let report = upload(&server, t, "", "text/csv", csv.as_bytes().to_vec()).await;
        assert_eq!(report.status(), 200);
        let report: Value = report.json().await.expect("json");
        let r = &report["data"];
        assert_eq!(
            (
                r["total_rows"].as_u64(),
                r["valid_rows"].as_u64(),
                r["invalid_rows"].as_u64(),
                r["imported"].as_u64()
            ),
            (Some(5), Some(3), Some(2), Some(0))
        );
        let errors: Vec<(u64, &str)> = r["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap_or(0),
                    e["column"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            errors,
            [(3, "First Name"), (4, "E-mail"), (4, "Phone")],
            "{r}"
        );
        assert_eq!(
            count(&server, "contacts").await,
            before,
            "all or nothing: nothing written"
        );
        let duplicates = r["duplicates"].as_array().expect("duplicates");
        assert!(
            duplicates
                .iter()
                .any(|d| d["row"] == 5 && d["existing_id"].is_string()),
            "{r}"
        );
        assert!(
            duplicates
                .iter()
                .any(|d| d["row"] == 6 && d["same_as_row"] == 2),
            "{r}"
        );

        // Dry run of the same file with bad rows skipped: still nothing written.
        let dry: Value = upload(
            &server,
            t,
            "?dry_run=true&skip_invalid=true",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(dry["data"]["imported"], 0);
        assert_eq!(count(&server, "contacts").await, before);
        // Skipping bad rows: the three valid ones are imported, companies created once.
        let done: Value = upload(
            &server,
            t,
            "?skip_invalid=true",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(done["data"]["imported"], 3);
        assert_eq!(count(&server, "contacts").await, before + 3);
        // Duplicates are judged against the organisation as it was before the import
        // (the search runs while the rows are written): row 5 matches the contact that
        // existed, row 6 an earlier row; the rows just written match nothing.
        let flagged: Vec<(u64, bool, Option<u64>)> = done["data"]["duplicates"]
            .as_array()
            .expect("duplicates")
            .iter()
            .map(|d| {
                (
                    d["row"].as_u64().unwrap_or(0),
                    d["existing_id"].is_string(),
                    d["same_as_row"].as_u64(),
                )
            })
            .collect();
        assert_eq!(flagged, [(5, true, None), (6, false, Some(2))], "{done}");
        let lee = get(&server, t, "/api/v1/companies?name[contains]=lee").await;
        assert_eq!(lee["data"].as_array().map(Vec::len), Some(1));

        // XLSX, with an explicit mapping.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, head) in ["Given", "Family", "Mail"].iter().enumerate() {
            sheet.write_string(0, col as u16, *head).expect("cell");
        }
        sheet.write_string(1, 0, "Eve").expect("cell");
        sheet.write_string(1, 1, "Stone").expect("cell");
        sheet.write_string(1, 2, "eve@example.com").expect("cell");
        sheet.write_string(2, 1, "NoFirst").expect("cell");
        let bytes = book.save_to_buffer().expect("xlsx");
        let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        let report: Value = upload(
            &server,
            t,
            "?map[first_name]=Given&map[last_name]=Family",
            xlsx_type,
            bytes.clone(),
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(report["data"]["errors"][0]["row"], 3, "{report}");
        assert_eq!(report["data"]["errors"][0]["column"], "Given");
        let report: Value = upload(
            &server,
            t,
            "?map[first_name]=Given&map[last_name]=Family&skip_invalid=true",
            xlsx_type,
            bytes,
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(report["data"]["imported"], 1);
        assert_eq!(report["data"]["mapping"]["email"], "Mail");

        // A saved mapping does the same by name.
        let saved = call(
            &server,
            Method::POST,
            "/api/v1/import-mappings",
            t,
            Some(json!({"name": "Partner export", "object": "contacts",
        "columns": {"first_name": "Given", "last_name": "Family"}})),
        )
        .await;
        assert_eq!(saved.status(), 201);
        let bad_saved = call(
            &server,
            Method::POST,
            "/api/v1/import-mappings",
            t,
            Some(json!({"name": "X", "object": "contacts", "columns": {"shoe_size": "S"}})),
        )
        .await;
        assert_eq!(
            problem(bad_saved, 422).await["errors"][0]["field"],
            "columns.shoe_size"
        );
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, head) in ["Given", "Family", "Mail"].iter().enumerate() {
            sheet.write_string(0, col as u16, *head).expect("cell");
        }
        sheet.write_string(1, 0, "Finn").expect("cell");
        sheet.write_string(1, 2, "finn@example.com").expect("cell");
        let by_name: Value = upload(
            &server,
            t,
            "?mapping=Partner%20export&dry_run=true",
            xlsx_type,
            book.save_to_buffer().expect("xlsx"),
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(by_name["data"]["valid_rows"], 1, "{by_name}");
        assert_eq!(by_name["data"]["mapping"]["first_name"], "Given");
        let unknown = problem(
            upload(
                &server,
                t,
                "?mapping=Nope",
                "text/csv",
                csv.as_bytes().to_vec(),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(unknown["errors"][0]["field"], "mapping");

        // Wrong type, bad mapping, wrong role.
        problem(
            upload(&server, t, "", "application/json", b"{}".to_vec()).await,
            415,
        )
        .await;
        let bad_map = problem(
            upload(
                &server,
                t,
                "?map[nickname]=X",
                "text/csv",
                csv.as_bytes().to_vec(),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(bad_map["errors"][0]["field"], "map[nickname]");
        create_user(&server, t, "rep@acme.test", "Sales Rep").await;
        let rep = token_of(&server, "rep@acme.test").await;
        problem(
            upload(&server, &rep, "", "text/csv", csv.as_bytes().to_vec()).await,
            403,
        )
        .await;

        // Export: masked for a Viewer, full for the admin.
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        problem(
            call(
                &server,
                Method::GET,
                "/api/v1/exports/contacts.csv",
                &viewer,
                None,
            )
            .await,
            403,
        )
        .await;
        let full = call(
            &server,
            Method::GET,
            "/api/v1/exports/contacts.csv",
            t,
            None,
        )
        .await;
        assert_eq!(full.headers()["content-type"], "text/csv; charset=utf-8");
        let text = full.text().await.expect("csv");
        assert!(text.starts_with("id,first_name,last_name,email"));
        assert!(text.contains("eve@example.com"));
        assert_eq!(text.lines().count(), 1 + (before as usize) + 3 + 1);
    }
);

identity_test!(
    duplicates_are_found_and_merged_without_losing_history,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let company = post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Harbor Foods"}),
        )
        .await;
        let keep = post(&server, t, "/api/v1/contacts", json!({"first_name": "Jonathan", "last_name": "Smith", "email": "jsmith@harbor.example", "company_id": company["id"]})).await;
        // Creating a look-alike is refused with the existing contact named, unless asked.
        let refused = call(
            &server,
            Method::POST,
            "/api/v1/contacts",
            t,
            Some(json!({"first_name": "Jon", "last_name": "Smith", "email": "JSmith@harbor.example"})),
        )
        .await;
        let refused = problem(refused, 409).await;
        assert_eq!(refused["code"], "possible_duplicate");
        assert_eq!(refused["duplicates"][0]["id"], keep["id"]);
        assert_eq!(refused["duplicates"][0]["matched_on"], "email");
        assert_eq!(refused["duplicates"][0]["name"], "Jonathan Smith");
        let similar_refused = call(
            &server,
            Method::POST,
            "/api/v1/contacts",
            t,
            Some(json!({"first_name": "Jonathon", "last_name": "Smith", "company_id": company["id"]})),
        )
        .await;
        assert_eq!(
            problem(similar_refused, 409).await["duplicates"][0]["matched_on"],
            "name_at_company"
        );
        let same_email = post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Jon", "last_name": "Smith", "email": "JSmith@harbor.example", "allow_duplicate": true}),
        )
        .await;
        let similar = post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Jonathon", "last_name": "Smith", "company_id": company["id"], "allow_duplicate": true}),
        )
        .await;
        post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Maria", "last_name": "Lopez", "company_id": company["id"]}),
        )
        .await;
        let keep_id = keep["id"].as_str().expect("id");
        let found = get(
            &server,
            t,
            &format!("/api/v1/contacts/{keep_id}/duplicates"),
        )
        .await;
        let mut reasons: Vec<(String, String)> = found["data"]
            .as_array()
            .expect("list")
            .iter()
            .map(|d| {
                (
                    d["contact"]["id"].as_str().unwrap_or("").to_owned(),
                    d["reason"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        reasons.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            reasons,
            vec![
                (
                    same_email["id"].as_str().expect("id").to_owned(),
                    "same email".to_owned()
                ),
                (
                    similar["id"].as_str().expect("id").to_owned(),
                    "similar name at the same company".to_owned()
                ),
            ],
            "Maria is not a duplicate"
        );
        // Merge: the duplicate's activity moves over, the duplicate disappears.
        let dup_id = same_email["id"].as_str().expect("id");
        post(&server, t, "/api/v1/activities", json!({"kind": "call", "subject": "Called Jon", "record_type": "contact", "record_id": dup_id})).await;
        let merged = call(
            &server,
            Method::POST,
            &format!("/api/v1/contacts/{keep_id}/merge"),
            t,
            Some(json!({"duplicate_id": dup_id, "version": 1})),
        )
        .await;
        assert_eq!(merged.status(), 200);
        problem(
            call(
                &server,
                Method::GET,
                &format!("/api/v1/contacts/{dup_id}"),
                t,
                None,
            )
            .await,
            404,
        )
        .await;
        let activities = get(
            &server,
            t,
            &format!("/api/v1/activities?record_type=contact&record_id={keep_id}"),
        )
        .await;
        assert_eq!(activities["data"][0]["subject"], "Called Jon");
        let stale = call(
            &server,
            Method::POST,
            &format!("/api/v1/contacts/{keep_id}/merge"),
            t,
            Some(json!({"duplicate_id": similar["id"], "version": 1})),
        )
        .await;
        problem(stale, 412).await;
        let itself = call(
            &server,
            Method::POST,
            &format!("/api/v1/contacts/{keep_id}/merge"),
            t,
            Some(json!({"duplicate_id": keep_id, "version": 2})),
        )
        .await;
        assert_eq!(
            problem(itself, 422).await["errors"][0]["field"],
            "duplicate_id"
        );
        let hits = get(&server, t, "/api/v1/search?q=jon%20smith").await;
        assert!(
            hits["data"]
                .as_array()
                .expect("hits")
                .iter()
                .all(|h| h["id"] != dup_id),
            "the merged contact is gone from search"
        );
    }
);

identity_test!(segments_have_live_membership, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    for (name, industry) in [
        ("Gulf Retail", "Retail"),
        ("Gulf Catering", "Hospitality"),
        ("Atlas Foods", "Retail"),
        ("Pioneer Hotels", "Hospitality"),
    ] {
        post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": name, "industry": industry}),
        )
        .await;
    }
    let all = post(&server, t, "/api/v1/segments", json!({"name": "Gulf retailers", "object": "companies", "filters": {"industry": "Retail", "name[contains]": "gulf"}})).await;
    let any = post(&server, t, "/api/v1/segments", json!({"name": "Gulf or retail", "object": "companies", "match": "any", "filters": {"industry": "Retail", "name[contains]": "gulf"}})).await;
    let names = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect()
    };
    let members = get(
        &server,
        t,
        &format!(
            "/api/v1/segments/{}/members",
            all["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(names(&members), ["Gulf Retail"]);
    let members = get(
        &server,
        t,
        &format!(
            "/api/v1/segments/{}/members?sort=name",
            any["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(
        names(&members),
        ["Atlas Foods", "Gulf Catering", "Gulf Retail"]
    );
    // Live: a new matching company joins at once.
    post(
        &server,
        t,
        "/api/v1/companies",
        json!({"name": "Gulf Markets", "industry": "Retail"}),
    )
    .await;
    let members = get(
        &server,
        t,
        &format!(
            "/api/v1/segments/{}/members",
            all["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(names(&members).len(), 2);
    // Bad conditions are named; other organisations see nothing.
    let bad = call(
        &server,
        Method::POST,
        "/api/v1/segments",
        t,
        Some(json!({"name": "Bad", "object": "companies", "filters": {"colour": "red"}})),
    )
    .await;
    assert_eq!(
        problem(bad, 422).await["errors"][0]["field"],
        "filters.colour"
    );
    let bad = call(
        &server,
        Method::POST,
        "/api/v1/segments",
        t,
        Some(json!({"name": "Bad", "object": "planets", "filters": {"x": "y"}})),
    )
    .await;
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "object");
    let globex = org(&server, "Globex", "admin@globex.test").await;
    problem(
        call(
            &server,
            Method::GET,
            &format!(
                "/api/v1/segments/{}/members",
                all["id"].as_str().expect("id")
            ),
            &globex.admin_token,
            None,
        )
        .await,
        404,
    )
    .await;
    let listed = get(&server, &globex.admin_token, "/api/v1/segments").await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0));
});

identity_test!(leads_filter_and_page_by_name, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    for (first, last) in [
        ("Zoe", "Adams"),
        ("anna", "Berg"),
        ("Carl", "Berg"),
        ("Dina", "Cruz"),
    ] {
        post(
            &server,
            t,
            "/api/v1/leads",
            json!({"first_name": first, "last_name": last}),
        )
        .await;
    }
    let page1 = get(&server, t, "/api/v1/leads?sort=name&limit=2").await;
    let names = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|l| l["first_name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(&page1), ["anna", "Carl"]);
    let cursor = page1["meta"]["next_cursor"].as_str().expect("more pages");
    let page2 = get(
        &server,
        t,
        &format!("/api/v1/leads?sort=name&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(names(&page2), ["Dina", "Zoe"]);
    let berg = get(&server, t, "/api/v1/leads?name[contains]=BERG").await;
    assert_eq!(berg["data"].as_array().map(Vec::len), Some(2));
    // A missing required field is named, not reported as "body".
    let missing = call(
        &server,
        Method::POST,
        "/api/v1/companies",
        t,
        Some(json!({"industry": "Retail"})),
    )
    .await;
    let body = problem(missing, 422).await;
    assert_eq!(body["errors"][0]["field"], "name");
});

identity_test!(
    contacts_are_edited_with_versions_and_reindexed,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let contact = post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Lena", "last_name": "Ortiz", "email": "lena@old.example"}),
        )
        .await;
        let path = format!("/api/v1/contacts/{}", contact["id"].as_str().expect("id"));
        let edited = call(&server, Method::PATCH, &path, t, Some(json!({"last_name": "Ortiz-Berg", "email": "Lena@New.example", "phone": "+49 30 1234 5678", "version": 1}))).await;
        assert_eq!(edited.status(), 200);
        let edited: Value = edited.json().await.expect("json");
        assert_eq!(edited["data"]["email"], "lena@new.example");
        assert_eq!(edited["data"]["version"], 2);
        // The blind indexes follow: the new email finds her, the old one no longer does.
        assert_eq!(
            get(&server, t, "/api/v1/contacts?email=lena@new.example").await["data"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            get(&server, t, "/api/v1/contacts?email=lena@old.example").await["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        assert_eq!(
            get(&server, t, "/api/v1/search?q=ortiz-berg").await["data"][0]["title"],
            "Lena Ortiz-Berg"
        );
        problem(
            call(
                &server,
                Method::PATCH,
                &path,
                t,
                Some(json!({"first_name": "X", "version": 1})),
            )
            .await,
            412,
        )
        .await;
        let cleared: Value = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"phone": "", "version": 2})),
        )
        .await
        .json()
        .await
        .expect("json");
        assert_eq!(cleared["data"]["phone"], Value::Null);
        let bad = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"email": "nope", "first_name": " ", "version": 3})),
        )
        .await;
        let body = problem(bad, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["first_name", "email"]);
        let globex = org(&server, "Globex", "admin@globex.test").await;
        problem(
            call(
                &server,
                Method::PATCH,
                &path,
                &globex.admin_token,
                Some(json!({"first_name": "Mine", "version": 3})),
            )
            .await,
            404,
        )
        .await;
    }
);

async fn patch(server: &TestServer, token: &str, path: &str, body: Value) -> reqwest::Response {
    call(server, Method::PATCH, path, token, Some(body)).await
}

fn names_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["first_name"].as_str().unwrap_or("").to_owned())
        .collect()
}

identity_test!(
    custom_fields_are_typed_validated_filtered_and_sorted,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let t = &acme.admin_token;
        create_user(&server, t, "rep@acme.test", "Sales Rep").await;
        let rep = token_of(&server, "rep@acme.test").await;

        // Definitions are validated field by field.
        let bad = call(
            &server,
            Method::POST,
            "/api/v1/custom-fields",
            t,
            Some(json!({"object": "contacts", "key": "Bad Key", "label": "", "kind": "select"})),
        )
        .await;
        let bad = problem(bad, 422).await;
        let fields: Vec<&str> = bad["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["key", "label", "options"]);
        let no_target = call(
            &server,
            Method::POST,
            "/api/v1/custom-fields",
            t,
            Some(json!({"object": "contacts", "key": "acct", "label": "Account", "kind": "link"})),
        )
        .await;
        assert_eq!(
            problem(no_target, 422).await["errors"][0]["field"],
            "link_object"
        );
        // A Sales Rep reads but does not define fields.
        problem(
            call(
                &server,
                Method::POST,
                "/api/v1/custom-fields",
                &rep,
                Some(json!({"object": "contacts", "key": "x", "label": "X", "kind": "text"})),
            )
            .await,
            403,
        )
        .await;

        let define = |key: &'static str, kind: &'static str, extra: Value| {
            let mut body = json!({"object": "contacts", "key": key, "label": key.to_uppercase(), "kind": kind});
            if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                b.extend(e.clone());
            }
            body
        };
        for body in [
            define("region", "select", json!({"options": ["North", "South"]})),
            define("score", "number", json!({})),
            define("since", "date", json!({})),
            define("vip", "boolean", json!({})),
            define(
                "tags",
                "multi_select",
                json!({"options": ["gold", "silver", "bronze"]}),
            ),
            define("budget", "currency", json!({})),
            define("account", "link", json!({"link_object": "companies"})),
        ] {
            post(&server, t, "/api/v1/custom-fields", body).await;
        }
        let taken = call(
            &server,
            Method::POST,
            "/api/v1/custom-fields",
            t,
            Some(define("score", "text", json!({}))),
        )
        .await;
        assert_eq!(problem(taken, 422).await["errors"][0]["field"], "key");
        let defs = get(&server, &rep, "/api/v1/custom-fields?object=contacts").await;
        assert_eq!(defs["data"].as_array().expect("defs").len(), 7);
        // Another organisation sees none of them.
        let theirs = get(&server, &globex.admin_token, "/api/v1/custom-fields").await;
        assert_eq!(theirs["data"].as_array().expect("defs").len(), 0);
        let region_id = defs["data"][0]["id"].as_str().expect("id").to_owned();
        problem(
            patch(
                &server,
                &globex.admin_token,
                &format!("/api/v1/custom-fields/{region_id}"),
                json!({"label": "Stolen", "version": 1}),
            )
            .await,
            404,
        )
        .await;

        // Values are checked against their definitions, each error named.
        let acme_co = post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Acme Retail"}),
        )
        .await;
        let globex_co = post(
            &server,
            &globex.admin_token,
            "/api/v1/companies",
            json!({"name": "Globex Retail"}),
        )
        .await;
        let invalid = call(
            &server,
            Method::POST,
            "/api/v1/contacts",
            t,
            Some(json!({"first_name": "Bad", "custom_fields": {
                "region": "East", "score": "high", "since": "31/12/2025", "vip": "yes",
                "tags": ["gold", "platinum"], "budget": {"amount": "1.23456", "currency": "USD"},
                "account": globex_co["id"], "nickname": "x"}})),
        )
        .await;
        let invalid = problem(invalid, 422).await;
        let mut named: Vec<&str> = invalid["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "custom_fields.account",
                "custom_fields.budget",
                "custom_fields.nickname",
                "custom_fields.region",
                "custom_fields.score",
                "custom_fields.since",
                "custom_fields.tags",
                "custom_fields.vip"
            ]
        );

        for (name, region, score, vip, tags, amount) in [
            ("Ann", "North", 5, true, json!(["gold"]), "100.50"),
            ("Bob", "South", 30, false, json!(["silver", "gold"]), "20"),
            ("Cid", "North", 12, false, json!([]), "3000"),
            ("Dee", "South", 18, true, json!(["bronze"]), "7.25"),
        ] {
            let contact = post(
                &server,
                t,
                "/api/v1/contacts",
                json!({"first_name": name, "last_name": "Cf", "custom_fields": {
                    "region": region, "score": score, "vip": vip, "tags": tags, "since": "2025-01-31",
                    "budget": {"amount": amount, "currency": "usd"}, "account": acme_co["id"]}}),
            )
            .await;
            assert_eq!(contact["custom_fields"]["region"], region);
            assert_eq!(contact["custom_fields"]["budget"]["currency"], "USD");
        }
        let page = get(
            &server,
            t,
            "/api/v1/contacts?cf.score[gte]=10&sort=-cf.score",
        )
        .await;
        assert_eq!(names_of(&page), ["Bob", "Dee", "Cid"]);
        let page = get(&server, t, "/api/v1/contacts?cf.region=North&sort=cf.score").await;
        assert_eq!(names_of(&page), ["Ann", "Cid"]);
        let page = get(&server, t, "/api/v1/contacts?cf.vip=true&sort=name").await;
        assert_eq!(names_of(&page), ["Ann", "Dee"]);
        let page = get(
            &server,
            t,
            "/api/v1/contacts?cf.tags[contains]=gold&sort=name",
        )
        .await;
        assert_eq!(names_of(&page), ["Ann", "Bob"]);
        let page = get(
            &server,
            t,
            "/api/v1/contacts?cf.budget[gt]=50&sort=-cf.budget",
        )
        .await;
        assert_eq!(names_of(&page), ["Cid", "Ann"]);
        // Keyset pages through a custom sort visit every row once, in order.
        let mut seen = Vec::new();
        let mut path = "/api/v1/contacts?sort=cf.score&limit=1&name[contains]=cf".to_owned();
        loop {
            let page = get(&server, t, &path).await;
            seen.extend(names_of(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!(
                        "/api/v1/contacts?sort=cf.score&limit=1&name[contains]=cf&cursor={cursor}"
                    )
                }
                None => break,
            }
        }
        assert_eq!(seen, ["Ann", "Cid", "Dee", "Bob"]);
        // Filters on lists and unknown custom fields are refused, naming the parameter.
        let bad_filter = call(
            &server,
            Method::GET,
            "/api/v1/contacts?cf.tags=gold&cf.nope=1",
            t,
            None,
        )
        .await;
        let bad_filter = problem(bad_filter, 422).await;
        let mut named: Vec<&str> = bad_filter["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        named.sort_unstable();
        assert_eq!(named, ["cf.nope", "cf.tags"]);

        // PATCH merges; null removes a value.
        let ann = get(&server, t, "/api/v1/contacts?cf.score=5").await["data"][0].clone();
        let ann_id = ann["id"].as_str().expect("id");
        let changed = patch(
            &server,
            t,
            &format!("/api/v1/contacts/{ann_id}"),
            json!({"version": ann["version"], "custom_fields": {"score": 50, "region": null}}),
        )
        .await;
        assert_eq!(changed.status(), 200);
        let changed: Value = changed.json().await.expect("json");
        assert_eq!(changed["data"]["custom_fields"]["score"], 50);
        assert!(changed["data"]["custom_fields"].get("region").is_none());
        assert_eq!(changed["data"]["custom_fields"]["vip"], true);

        // A required deal field must be given on create.
        post(
            &server,
            t,
            "/api/v1/custom-fields",
            json!({"object": "deals", "key": "po_number", "label": "PO number", "kind": "text", "required": true}),
        )
        .await;
        let missing = call(
            &server,
            Method::POST,
            "/api/v1/deals",
            t,
            Some(json!({"title": "No PO", "amount": "10", "currency": "USD"})),
        )
        .await;
        assert_eq!(
            problem(missing, 422).await["errors"][0]["field"],
            "custom_fields.po_number"
        );
        let deal = post(
            &server,
            t,
            "/api/v1/deals",
            json!({"title": "With PO", "amount": "10", "currency": "USD", "custom_fields": {"po_number": "PO-7"}}),
        )
        .await;
        let found = get(&server, t, "/api/v1/deals?cf.po_number=PO-7").await;
        assert_eq!(found["data"][0]["id"], deal["id"]);

        // Segments may use custom fields too.
        let segment = post(
            &server,
            t,
            "/api/v1/segments",
            json!({"name": "High scorers", "object": "contacts", "filters": {"cf.score[gte]": "18"}}),
        )
        .await;
        let members = get(
            &server,
            t,
            &format!(
                "/api/v1/segments/{}/members",
                segment["id"].as_str().expect("id")
            ),
        )
        .await;
        let mut members = names_of(&members);
        members.sort_unstable();
        assert_eq!(members, ["Ann", "Bob", "Dee"]);

        // Archived fields leave validation and lists.
        let archived = call(
            &server,
            Method::DELETE,
            &format!("/api/v1/custom-fields/{region_id}"),
            t,
            None,
        )
        .await;
        assert_eq!(archived.status(), 204);
        let after = get(&server, t, "/api/v1/custom-fields?object=contacts").await;
        assert_eq!(after["data"].as_array().expect("defs").len(), 6);
    }
);

identity_test!(deals_link_their_contacts, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let globex = org(&server, "Globex", "admin@globex.test").await;
    let t = &acme.admin_token;
    let a = post(
        &server,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Alma", "last_name": "Ruiz"}),
    )
    .await;
    let b = post(
        &server,
        t,
        "/api/v1/contacts",
        json!({"first_name": "Bert", "last_name": "Nye"}),
    )
    .await;
    let theirs = post(
        &server,
        &globex.admin_token,
        "/api/v1/contacts",
        json!({"first_name": "Gus"}),
    )
    .await;
    let refused = call(
        &server,
        Method::POST,
        "/api/v1/deals",
        t,
        Some(json!({"title": "X", "amount": "1", "currency": "USD", "contact_ids": [a["id"], theirs["id"]]})),
    )
    .await;
    assert_eq!(
        problem(refused, 422).await["errors"][0]["field"],
        "contact_ids[1]"
    );
    let deal = post(
        &server,
        t,
        "/api/v1/deals",
        json!({"title": "Coolers", "amount": "500", "currency": "USD", "contact_ids": [a["id"], b["id"], a["id"]]}),
    )
    .await;
    assert_eq!(deal["contact_ids"], json!([a["id"], b["id"]]));
    let id = deal["id"].as_str().expect("id");
    let changed = patch(
        &server,
        t,
        &format!("/api/v1/deals/{id}"),
        json!({"version": deal["version"], "contact_ids": [b["id"]]}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let read = get(&server, t, &format!("/api/v1/deals/{id}")).await;
    assert_eq!(read["data"]["contact_ids"], json!([b["id"]]));
    let listed = get(&server, t, "/api/v1/deals?title=Coolers").await;
    assert_eq!(listed["data"][0]["contact_ids"], json!([b["id"]]));
    // Merging a contact into another carries its deal links.
    let merged = call(
        &server,
        Method::POST,
        &format!("/api/v1/contacts/{}/merge", a["id"].as_str().expect("id")),
        t,
        Some(json!({"duplicate_id": b["id"], "version": a["version"]})),
    )
    .await;
    assert_eq!(merged.status(), 200);
    let read = get(&server, t, &format!("/api/v1/deals/{id}")).await;
    assert_eq!(read["data"]["contact_ids"], json!([a["id"]]));
});

identity_test!(
    large_imports_run_in_the_background_with_progress_and_export_to_xlsx,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let t = &acme.admin_token;
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Old", "phone": "+1 555 999 9999"}),
        )
        .await;
        let mut csv = String::from("First Name,Last Name,Email,Phone,Company\n");
        for i in 0..3000 {
            csv.push_str(&format!(
                "P{i},Bulk,p{i}@bulk.example,+1 555 {:03} {:04},Company {}\n",
                i / 10_000,
                i % 10_000,
                i % 40
            ));
        }
        csv.push_str("Twin,Bulk,p1@bulk.example,+1 555 999 9999,\n");
        let started = upload(&server, t, "?background=true", "text/csv", csv.into_bytes()).await;
        assert_eq!(started.status(), 202);
        let job: Value = started.json().await.expect("json");
        let job_id = job["data"]["id"].as_str().expect("id").to_owned();
        let path = format!("/api/v1/imports/{job_id}");
        problem(
            call(&server, Method::GET, &path, &globex.admin_token, None).await,
            404,
        )
        .await;
        problem(call(&server, Method::GET, &path, &viewer, None).await, 403).await;
        let mut finished = Value::Null;
        // Generous: a debug build on a busy 2-core machine.
        for _ in 0..1200 {
            let job = get(&server, t, &path).await;
            finished = job.clone();
            let processed = job["data"]["processed_rows"].as_u64().unwrap_or(0);
            assert!(
                processed <= job["data"]["total_rows"].as_u64().unwrap_or(0)
                    || job["data"]["total_rows"] == 0
            );
            if job["data"]["status"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(finished["data"]["status"], "done", "{finished}");
        let report = &finished["data"]["report"];
        assert_eq!(report["imported"], 3001);
        let mut flagged: Vec<(u64, String)> = report["duplicates"]
            .as_array()
            .expect("duplicates")
            .iter()
            .map(|d| {
                (
                    d["row"].as_u64().unwrap_or(0),
                    d["field"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        flagged.sort();
        // Row 3002: the same email as row 3 of the file and the same phone as "Old".
        assert_eq!(
            flagged,
            [(3002, "email".to_owned()), (3002, "phone".to_owned())]
        );
        assert_eq!(
            finished["data"]["processed_rows"],
            finished["data"]["total_rows"]
        );
        let companies = get(
            &server,
            t,
            "/api/v1/companies?name[contains]=company&limit=100",
        )
        .await;
        assert_eq!(companies["data"].as_array().expect("list").len(), 40);
        // The imported contacts are searchable.
        let found = get(&server, t, "/api/v1/search?q=p2999").await;
        assert!(
            found["data"]
                .as_array()
                .expect("hits")
                .iter()
                .any(|h| h["title"].as_str().unwrap_or("").contains("P2999")),
            "{found}"
        );

        // XLSX export of a filtered list, read back as an import dry run.
        let xlsx = server
            .client
            .get(server.url("/api/v1/exports/contacts.xlsx?name[contains]=p29"))
            .bearer_auth(t)
            .send()
            .await
            .expect("send");
        assert_eq!(xlsx.status(), 200);
        assert_eq!(
            xlsx.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let bytes = xlsx.bytes().await.expect("bytes").to_vec();
        assert_eq!(&bytes[..2], b"PK");
        let dry = upload(
            &server,
            t,
            "?dry_run=true",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
        .await;
        assert_eq!(dry.status(), 200);
        let dry: Value = dry.json().await.expect("json");
        // P29, P290..P299, P2900..P2999: 111 contacts, all already there.
        assert_eq!(dry["data"]["total_rows"], 111);
        assert_eq!(
            dry["data"]["duplicates"].as_array().expect("dups").len(),
            222
        );
    }
);

identity_test!(
    imports_fill_custom_fields_and_name_their_bad_cells,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let company = post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Linked Co"}),
        )
        .await;
        for body in [
            json!({"object": "contacts", "key": "region", "label": "Sales Region", "kind": "select", "options": ["North", "South"], "required": true}),
            json!({"object": "contacts", "key": "score", "label": "Score", "kind": "number"}),
            json!({"object": "contacts", "key": "tags", "label": "Tags", "kind": "multi_select", "options": ["gold", "silver"]}),
            json!({"object": "contacts", "key": "budget", "label": "Budget", "kind": "currency"}),
            json!({"object": "contacts", "key": "account", "label": "Account", "kind": "link", "link_object": "companies"}),
        ] {
            post(&server, t, "/api/v1/custom-fields", body).await;
        }
        let linked = company["id"].as_str().expect("id");
        let missing = Uuid::now_v7();
        let csv = format!(
            "First Name,Sales Region,Score,Tags,Budget,Account\n\
         Ann,north,7,gold;silver,12.50 USD,{linked}\n\
         Bob,East,x,bronze,12,\n\
         Cid,,3,,,\n\
         Dee,South,1,,USD 3,{missing}\n"
        );
        let report = upload(
            &server,
            t,
            "?dry_run=true",
            "text/csv",
            csv.clone().into_bytes(),
        )
        .await;
        assert_eq!(report.status(), 200);
        let report: Value = report.json().await.expect("json");
        let errors: Vec<(u64, String)> = report["data"]["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap_or(0),
                    e["column"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            errors,
            [
                (3, "Sales Region".to_owned()),
                (3, "Score".to_owned()),
                (3, "Tags".to_owned()),
                (3, "Budget".to_owned()),
                (4, "Sales Region".to_owned()),
                (5, "Account".to_owned()),
            ]
        );
        assert_eq!(report["data"]["mapping"]["cf.region"], "Sales Region");
        let done = upload(
            &server,
            t,
            "?skip_invalid=true",
            "text/csv",
            csv.into_bytes(),
        )
        .await;
        let done: Value = done.json().await.expect("json");
        assert_eq!(done["data"]["imported"], 1);
        let ann = get(&server, t, "/api/v1/contacts?cf.region=North").await;
        let values = &ann["data"][0]["custom_fields"];
        assert_eq!(values["region"], "North");
        assert_eq!(values["score"], 7.0);
        assert_eq!(values["tags"], json!(["gold", "silver"]));
        assert_eq!(
            values["budget"],
            json!({"amount": "12.5", "currency": "USD"})
        );
        assert_eq!(values["account"], company["id"]);
    }
);

identity_test!(concurrent_creates_never_fail, |server, _clock| {
    // A write transaction that waited for a second pool connection while holding SQLite's
    // write lock made concurrent creates fail with 500 "database is locked".
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = acme.admin_token.clone();
    post(
        &server,
        &t,
        "/api/v1/custom-fields",
        json!({"object": "deals", "key": "po", "label": "PO", "kind": "text"}),
    )
    .await;
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for k in 0..16 {
        let (server, t) = (server.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..6 {
                let deal = call(&server, Method::POST, "/api/v1/deals", &t,
                    Some(json!({"title": format!("D{k}-{i}"), "amount": "10", "currency": "USD", "custom_fields": {"po": "x"}}))).await;
                statuses.push(deal.status().as_u16());
                let contact = call(&server, Method::POST, "/api/v1/contacts", &t,
                    Some(json!({"first_name": format!("C{k}"), "last_name": format!("N{i}"), "email": format!("c{k}.{i}@x.example")}))).await;
                statuses.push(contact.status().as_u16());
            }
            statuses
        }));
    }
    for task in tasks {
        for status in task.await.expect("task") {
            assert_eq!(status, 201);
        }
    }
});

identity_test!(
    site_limited_users_page_through_their_sites_companies,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let mut sites = Vec::new();
        for name in ["North", "South"] {
            let site = post(
                &server,
                t,
                "/api/v1/orgs/current/sites",
                json!({"name": name, "kind": "branch"}),
            )
            .await;
            sites.push(site["id"].as_str().expect("site id").to_owned());
        }
        // Three companies of the other site come first in creation order.
        for (name, site) in [
            ("South 1", &sites[1]),
            ("South 2", &sites[1]),
            ("South 3", &sites[1]),
            ("North 1", &sites[0]),
            ("North 2", &sites[0]),
            ("North 3", &sites[0]),
        ] {
            post(
                &server,
                t,
                "/api/v1/companies",
                json!({"name": name, "site_id": site}),
            )
            .await;
        }
        post(
            &server,
            t,
            "/api/v1/companies",
            json!({"name": "Head Office"}),
        )
        .await;
        let created = call(
            &server,
            Method::POST,
            "/api/v1/users",
            t,
            Some(
                json!({"email": "north@acme.test", "name": "North Rep", "password": PASSWORD,
                "role": "Sales Rep", "site_ids": [sites[0]]}),
            ),
        )
        .await;
        assert_eq!(created.status(), 201);
        let north = token_of(&server, "north@acme.test").await;
        let mut seen = Vec::new();
        let mut path = "/api/v1/companies?limit=2&sort=created_at".to_owned();
        for _ in 0..10 {
            let page = get(&server, &north, &path).await;
            let names: Vec<String> = page["data"]
                .as_array()
                .expect("list")
                .iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_owned())
                .collect();
            assert!(names.len() <= 2, "{page}");
            seen.extend(names);
            match page["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/api/v1/companies?limit=2&sort=created_at&cursor={cursor}")
                }
                None => break,
            }
        }
        assert_eq!(seen, ["North 1", "North 2", "North 3", "Head Office"]);
        // The admin (no site limit) sees all seven.
        let all = get(&server, t, "/api/v1/companies?limit=50").await;
        assert_eq!(all["data"].as_array().map(Vec::len), Some(7));
    }
);

identity_test!(
    board_pages_each_column_and_loads_more_of_one,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let pipelines = get(&server, t, "/api/v1/pipelines").await;
        let pipeline = &pipelines["data"][0];
        let pipeline_id = pipeline["id"].as_str().expect("id").to_owned();
        let stages: Vec<Value> = pipeline["stages"].as_array().expect("stages").clone();
        let (first, second) = (
            stages[0]["id"].as_str().expect("id").to_owned(),
            stages[1]["id"].as_str().expect("id").to_owned(),
        );
        let buyer = post(
            &server,
            t,
            "/api/v1/contacts",
            json!({"first_name": "Ann", "last_name": "Buyer"}),
        )
        .await;
        for (title, stage) in [
            ("First 1", &first),
            ("Second 1", &second),
            ("First 2", &first),
            ("First 3", &first),
            ("Second 2", &second),
        ] {
            let mut body =
                json!({"title": title, "amount": "10", "currency": "USD", "stage_id": stage});
            if title == "First 3" {
                body["contact_ids"] = json!([buyer["id"]]);
            }
            post(&server, t, "/api/v1/deals", body).await;
        }
        let titles = |column: &Value| -> Vec<String> {
            column["deals"]
                .as_array()
                .expect("deals")
                .iter()
                .map(|d| d["title"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        let board = get(
            &server,
            t,
            &format!("/api/v1/pipelines/{pipeline_id}/board?per_stage=2"),
        )
        .await;
        let columns = board["data"]["columns"].as_array().expect("columns");
        assert_eq!(columns.len(), stages.len());
        assert_eq!(titles(&columns[0]), ["First 1", "First 2"]);
        assert_eq!(columns[0]["count"], 3);
        assert_eq!(titles(&columns[1]), ["Second 1", "Second 2"]);
        assert!(columns[2..].iter().all(|c| titles(c).is_empty()));
        // "Load more" in the first column: its third deal, with its contact.
        let more = get(
            &server,
            t,
            &format!("/api/v1/pipelines/{pipeline_id}/board?per_stage=2&stage_id={first}&offset=2"),
        )
        .await;
        let columns = more["data"]["columns"].as_array().expect("columns");
        assert_eq!(columns.len(), 1);
        assert_eq!(titles(&columns[0]), ["First 3"]);
        assert_eq!(columns[0]["deals"][0]["contact_ids"], json!([buyer["id"]]));
        // Another organisation's board of this pipeline does not exist.
        let other = org(&server, "Other", "admin@other.test").await;
        let response = call(
            &server,
            Method::GET,
            &format!("/api/v1/pipelines/{pipeline_id}/board"),
            &other.admin_token,
            None,
        )
        .await;
        problem(response, 404).await;
    }
);
