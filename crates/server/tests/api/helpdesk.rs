//! Helpdesk through HTTP: SLA clocks on business calendars, pauses, breach events once,
//! tenancy and roles, uploads, numbering, transitions and versions.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use identity::IdentitySettings;
use kernel::clock::FixedClock;
use kernel::{Backend, SharedClock, on_pool};
use reqwest::Method;
use serde_json::{Value, json};
use server::http::HttpSettings;
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::identity::{PASSWORD, call, create_user, login, org};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid instant")
        .with_timezone(&Utc)
}

fn instant(value: &Value) -> DateTime<Utc> {
    at(value
        .as_str()
        .unwrap_or_else(|| panic!("not an instant: {value}")))
}

/// Boots a server whose clock stands at `start`; access tokens live for 30 days so tests
/// can move the clock without signing in again.
pub(crate) async fn start_at(
    backend: Backend,
    start: &str,
) -> Option<(TestServer, Arc<FixedClock>)> {
    let clock = Arc::new(FixedClock::new(at(start)));
    let shared: SharedClock = clock.clone();
    let server = TestServer::start_full(
        backend,
        HttpSettings::default(),
        None,
        shared,
        IdentitySettings {
            access_ttl: Duration::days(30),
            ..IdentitySettings::default()
        },
    )
    .await?;
    Some((server, clock))
}

/// A helpdesk test on both backends, with a fixed clock starting at `$start`.
macro_rules! helpdesk_test {
    ($name:ident, $start:expr, |$server:ident, $clock:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables)]
            async fn run($server: TestServer, $clock: Arc<FixedClock>) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (server, clock) = start_at(kernel::Backend::Sqlite, $start)
                    .await
                    .expect("SQLite is always available");
                run(server, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some((server, clock)) = start_at(kernel::Backend::Postgres, $start).await else {
                    return;
                };
                run(server, clock).await;
            }
        }
    };
}

pub(crate) use helpdesk_test;

pub(crate) async fn send(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let response = call(server, method.clone(), path, token, body).await;
    let got = response.status().as_u16();
    let json: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{method} {path}: {json}");
    json["data"].clone()
}

pub(crate) async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    send(server, token, Method::POST, path, Some(body), 201).await
}

pub(crate) async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    send(server, token, Method::GET, path, None, 200).await
}

pub(crate) async fn patch(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    send(server, token, Method::PATCH, path, Some(body), 200).await
}

async fn ticket(
    server: &TestServer,
    token: &str,
    subject: &str,
    kind: &str,
    priority: &str,
) -> Value {
    post(
        server,
        token,
        "/api/v1/tickets",
        json!({"subject": subject, "description": "details", "type": kind, "priority": priority}),
    )
    .await
}

pub(crate) async fn token_of(server: &TestServer, email: &str) -> String {
    login(server, email, PASSWORD, None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn upload(
    server: &TestServer,
    token: &str,
    ticket_id: &str,
    filename: Option<&str>,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let mut url = server.url(&format!("/api/v1/tickets/{ticket_id}/attachments"));
    if let Some(name) = filename {
        url.push_str(&format!("?filename={name}"));
    }
    server
        .client
        .post(url)
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("send")
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

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

// Friday 2026-12-04, 16:00 in Berlin.
helpdesk_test!(
    helpdesk_business_hours_deadlines_skip_weekend_and_holiday,
    "2026-12-04T15:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // A new organisation starts on seed 000's policy and a 24×7 calendar.
        let policies = get(&server, t, "/api/v1/sla-policies").await;
        assert_eq!(policies[0]["name"], "Default");
        assert_eq!(policies[0]["is_default"], true);
        assert_eq!(policies[0]["targets"]["Critical"]["response_minutes"], 60);
        assert_eq!(policies[0]["targets"]["Low"]["resolution_minutes"], 72 * 60);
        assert_eq!(policies[0]["type_multipliers"]["Bug"], 0.8);
        let calendars = get(&server, t, "/api/v1/calendars").await;
        assert_eq!(calendars[0]["time_zone"], "UTC");
        assert_eq!(calendars[0]["weekly_hours"]["sun"][0]["end"], "24:00");

        // On 24×7, a High ticket is due 2 h / 8 h later.
        let always = ticket(&server, t, "Printer", "Incident", "High").await;
        assert_eq!(
            instant(&always["sla"]["response_due_at"]),
            at("2026-12-04T17:00:00Z")
        );
        assert_eq!(
            instant(&always["sla"]["resolution_due_at"]),
            at("2026-12-04T23:00:00Z")
        );

        // Office hours in Berlin, Monday 2026-12-07 off.
        let day = json!([{"start": "09:00", "end": "17:00"}]);
        let office = post(
            &server,
            t,
            "/api/v1/calendars",
            json!({
                "name": "Berlin office", "time_zone": "Europe/Berlin",
                "weekly_hours": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
                "holidays": ["2026-12-07"]
            }),
        )
        .await;
        let policy = post(
            &server,
            t,
            "/api/v1/sla-policies",
            json!({
                "name": "Business hours", "calendar_id": office["id"], "is_default": true
            }),
        )
        .await;
        assert_eq!(policy["targets"]["High"]["resolution_minutes"], 8 * 60);
        let policies = get(&server, t, "/api/v1/sla-policies").await;
        let defaults: Vec<&Value> = policies
            .as_array()
            .expect("list")
            .iter()
            .filter(|p| p["is_default"] == true)
            .collect();
        assert_eq!(defaults.len(), 1);
        assert_eq!(defaults[0]["id"], policy["id"]);

        // High: 1 h left on Friday, weekend and Monday's holiday skipped: response (2 h) due
        // Tuesday 10:00 Berlin, resolution (8 h) Tuesday 16:00 Berlin.
        let tkt = ticket(&server, t, "Line 3 stopped", "Incident", "High").await;
        assert_eq!(tkt["sla"]["policy"]["name"], "Business hours");
        assert_eq!(
            instant(&tkt["sla"]["response_due_at"]),
            at("2026-12-08T09:00:00Z")
        );
        assert_eq!(
            instant(&tkt["sla"]["resolution_due_at"]),
            at("2026-12-08T15:00:00Z")
        );
        assert_eq!(tkt["sla"]["status"], "On Track");
        // Bug resolution × 0.8: Medium 24 h → 19.2 h = 1 h Friday + 2 × 8 h + 2.2 h → Thursday 11:12.
        let bug = ticket(&server, t, "Crash", "Bug", "Medium").await;
        assert_eq!(bug["sla"]["resolution_target_minutes"], 1152);
        assert_eq!(
            instant(&bug["sla"]["resolution_due_at"]),
            at("2026-12-10T10:12:00Z")
        );

        // A calendar edit applies only after an explicit recompute.
        let version = office["version"].as_i64().expect("version");
        patch(
            &server,
            t,
            &format!("/api/v1/calendars/{}", office["id"].as_str().expect("id")),
            json!({"holidays": [], "version": version}),
        )
        .await;
        let same = get(
            &server,
            t,
            &format!("/api/v1/tickets/{}", tkt["id"].as_str().expect("id")),
        )
        .await;
        assert_eq!(
            instant(&same["sla"]["response_due_at"]),
            at("2026-12-08T09:00:00Z")
        );
        let report = post_ok(
            &server,
            t,
            &format!(
                "/api/v1/sla-policies/{}/recompute",
                policy["id"].as_str().expect("id")
            ),
        )
        .await;
        assert_eq!(report["tickets"], 2);
        let moved = get(
            &server,
            t,
            &format!("/api/v1/tickets/{}", tkt["id"].as_str().expect("id")),
        )
        .await;
        assert_eq!(
            instant(&moved["sla"]["response_due_at"]),
            at("2026-12-07T09:00:00Z")
        );

        // Bad calendars name the field.
        let bad = call(
            &server,
            Method::POST,
            "/api/v1/calendars",
            t,
            Some(json!({
                "name": "Mars", "time_zone": "Mars/Olympus", "weekly_hours": {"mon": day}
            })),
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "time_zone");
        let bad = call(&server, Method::POST, "/api/v1/calendars", t, Some(json!({
        "name": "Odd", "time_zone": "UTC", "weekly_hours": {"tue": [{"start": "18:00", "end": "09:00"}]}
    }))).await;
        assert_eq!(
            problem(bad, 422).await["errors"][0]["field"],
            "weekly_hours.tue[0]"
        );
    }
);

async fn post_ok(server: &TestServer, token: &str, path: &str) -> Value {
    send(server, token, Method::POST, path, None, 200).await
}

// Monday 2026-12-07 09:00 UTC, default 24×7 calendar.
helpdesk_test!(
    helpdesk_waiting_on_customer_pauses_the_clock,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let tkt = ticket(&server, t, "How do I export?", "Question", "Medium").await;
        let path = format!("/api/v1/tickets/{}", tkt["id"].as_str().expect("id"));
        assert_eq!(
            instant(&tkt["sla"]["response_due_at"]),
            at("2026-12-07T13:00:00Z")
        );
        assert_eq!(
            instant(&tkt["sla"]["resolution_due_at"]),
            at("2026-12-08T09:00:00Z")
        );

        // First agent reply after 30 min: the response target is met.
        clock.advance(Duration::minutes(30));
        post(
            &server,
            t,
            &format!("{path}/messages"),
            json!({"kind": "note", "body": "checking"}),
        )
        .await;
        let still = get(&server, t, &path).await;
        assert!(
            still["sla"]["first_response_at"].is_null(),
            "a note is not a response"
        );
        post(
            &server,
            t,
            &format!("{path}/messages"),
            json!({"kind": "reply", "body": "Which format?"}),
        )
        .await;
        let replied = get(&server, t, &path).await;
        assert_eq!(
            instant(&replied["sla"]["first_response_at"]),
            at("2026-12-07T09:30:00Z")
        );

        // Waiting on Customer at 10:00 stops the clock.
        clock.advance(Duration::minutes(30));
        let waiting = patch(
            &server,
            t,
            &path,
            json!({"status": "Waiting on Customer", "version": replied["version"]}),
        )
        .await;
        assert_eq!(waiting["sla"]["paused"], true);
        assert!(waiting["sla"]["resolution_due_at"].is_null());
        let paused_list = get(&server, t, "/api/v1/tickets").await;
        assert_eq!(paused_list[0]["id"], tkt["id"]);

        // The customer answers 3 h later: back to In Progress, due 3 h later than before.
        clock.advance(Duration::hours(3));
        post(
            &server,
            t,
            &format!("{path}/messages"),
            json!({"kind": "customer", "body": "CSV please"}),
        )
        .await;
        let resumed = get(&server, t, &path).await;
        assert_eq!(resumed["status"], "In Progress");
        assert_eq!(resumed["sla"]["paused"], false);
        assert_eq!(
            instant(&resumed["sla"]["resolution_due_at"]),
            at("2026-12-08T12:00:00Z")
        );

        // Pause and resume by hand: another hour later.
        let waiting = patch(
            &server,
            t,
            &path,
            json!({"status": "Waiting on Customer", "version": resumed["version"]}),
        )
        .await;
        clock.advance(Duration::hours(1));
        let resumed = patch(
            &server,
            t,
            &path,
            json!({"status": "In Progress", "version": waiting["version"]}),
        )
        .await;
        assert_eq!(
            instant(&resumed["sla"]["resolution_due_at"]),
            at("2026-12-08T13:00:00Z")
        );

        // Resolved in time: On Track, and the due time stays visible.
        let resolved = patch(
            &server,
            t,
            &path,
            json!({"status": "Resolved", "version": resumed["version"]}),
        )
        .await;
        assert_eq!(resolved["sla"]["status"], "On Track");
        assert_eq!(
            instant(&resolved["sla"]["resolution_due_at"]),
            at("2026-12-08T13:00:00Z")
        );
        assert_eq!(
            events_of(
                &server,
                "ticket.status_changed",
                tkt["id"].as_str().expect("id")
            )
            .await,
            5
        );
    }
);

helpdesk_test!(
    helpdesk_sla_events_fire_exactly_once,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        // Critical: response 1 h, resolution 4 h; at risk under max(20 %, 1 h) left.
        let tkt = ticket(&server, t, "Site down", "Incident", "Critical").await;
        let id = tkt["id"].as_str().expect("id").to_owned();
        let calm = ticket(&server, t, "Typo on page", "Question", "Low").await;

        // 3 h 30 min later: response breached, resolution at risk.
        clock.advance(Duration::minutes(210));
        for _ in 0..2 {
            server.helpdesk.scan_sla().await.expect("scan");
        }
        assert_eq!(events_of(&server, "ticket.sla_breached", &id).await, 1);
        assert_eq!(events_of(&server, "ticket.sla_at_risk", &id).await, 1);
        let now = get(&server, t, &format!("/api/v1/tickets/{id}")).await;
        assert_eq!(now["sla"]["status"], "Response Breached");
        let at_risk = get(&server, t, "/api/v1/tickets?view=at_risk").await;
        assert_eq!(at_risk.as_array().map(Vec::len), Some(1));
        let breached = get(&server, t, "/api/v1/tickets?view=breached").await;
        assert_eq!(breached[0]["id"], tkt["id"]);
        assert_eq!(breached.as_array().map(Vec::len), Some(1));

        // Past 4 h: resolution breached too, once, however often the scan runs.
        clock.advance(Duration::minutes(31));
        for _ in 0..3 {
            server.helpdesk.scan_sla().await.expect("scan");
        }
        assert_eq!(events_of(&server, "ticket.sla_breached", &id).await, 2);
        assert_eq!(events_of(&server, "ticket.sla_at_risk", &id).await, 1);
        let now = get(&server, t, &format!("/api/v1/tickets/{id}")).await;
        assert_eq!(now["sla"]["status"], "Resolution Breached");
        // The calm ticket (Low: 8 h / 72 h) is untouched.
        assert_eq!(
            events_of(
                &server,
                "ticket.sla_breached",
                calm["id"].as_str().expect("id")
            )
            .await,
            0
        );
        assert_eq!(calm["sla"]["status"], "On Track");
        // The inbox puts the most urgent deadline first.
        let inbox = get(&server, t, "/api/v1/tickets").await;
        assert_eq!(inbox[0]["id"], tkt["id"]);
        assert_eq!(inbox[1]["id"], calm["id"]);
    }
);

helpdesk_test!(
    helpdesk_other_organisations_and_wrong_roles,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let theirs = ticket(&server, &globex.admin_token, "Secret", "Incident", "High").await;
        let their_id = theirs["id"].as_str().expect("id");
        let uploaded = upload(
            &server,
            &globex.admin_token,
            their_id,
            Some("shot.png"),
            "image/png",
            PNG.to_vec(),
        )
        .await;
        assert_eq!(uploaded.status(), 201);
        let attachment: Value = uploaded.json().await.expect("json");
        let attachment_id = attachment["data"]["id"].as_str().expect("id");

        let t = &acme.admin_token;
        for path in [
            format!("/api/v1/tickets/{their_id}"),
            format!("/api/v1/tickets/{their_id}/messages"),
            format!("/api/v1/tickets/{their_id}/attachments"),
            format!("/api/v1/attachments/{attachment_id}"),
        ] {
            problem(call(&server, Method::GET, &path, t, None).await, 404).await;
        }
        problem(
            call(
                &server,
                Method::PATCH,
                &format!("/api/v1/tickets/{their_id}"),
                t,
                Some(json!({"priority": "Low", "version": 1})),
            )
            .await,
            404,
        )
        .await;
        problem(
            call(
                &server,
                Method::POST,
                &format!("/api/v1/tickets/{their_id}/messages"),
                t,
                Some(json!({"kind": "note", "body": "mine now"})),
            )
            .await,
            404,
        )
        .await;
        problem(
            upload(
                &server,
                t,
                their_id,
                Some("x.png"),
                "image/png",
                PNG.to_vec(),
            )
            .await,
            404,
        )
        .await;
        let listed = get(&server, t, "/api/v1/tickets").await;
        assert_eq!(listed.as_array().map(Vec::len), Some(0));
        // Their owner still gets the file.
        let download = call(
            &server,
            Method::GET,
            &format!("/api/v1/attachments/{attachment_id}"),
            &globex.admin_token,
            None,
        )
        .await;
        assert_eq!(download.status(), 200);
        assert_eq!(download.headers()["content-type"], "image/png");
        assert_eq!(download.bytes().await.expect("bytes").as_ref(), PNG);

        // A Viewer reads but cannot create or change; a Support Agent can.
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        create_user(&server, t, "agent@acme.test", "Support Agent").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        let agent = token_of(&server, "agent@acme.test").await;
        let mine = ticket(&server, &agent, "Agent's", "Bug", "Low").await;
        let path = format!("/api/v1/tickets/{}", mine["id"].as_str().expect("id"));
        get(&server, &viewer, &path).await;
        problem(
            call(
                &server,
                Method::POST,
                "/api/v1/tickets",
                &viewer,
                Some(json!({"subject": "x", "type": "Bug", "priority": "Low"})),
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::PATCH,
                &path,
                &viewer,
                Some(json!({"priority": "High", "version": 1})),
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::POST,
                &format!("{path}/messages"),
                &viewer,
                Some(json!({"kind": "reply", "body": "hi"})),
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::POST,
                "/api/v1/sla-policies",
                &agent,
                Some(json!({"name": "Mine"})),
            )
            .await,
            403,
        )
        .await;
        // Assignment: audited and announced.
        let me = call(&server, Method::GET, "/api/v1/auth/me", &agent, None).await;
        let me: Value = me.json().await.expect("json");
        let agent_user = me["data"]["user"]["id"].clone();
        let assigned = patch(
            &server,
            t,
            &path,
            json!({"assignee_id": agent_user, "version": 1}),
        )
        .await;
        assert_eq!(assigned["assignee_id"], agent_user);
        assert_eq!(
            events_of(&server, "ticket.assigned", mine["id"].as_str().expect("id")).await,
            1
        );
        let for_agent = get(&server, &agent, "/api/v1/tickets?view=mine").await;
        assert_eq!(for_agent.as_array().map(Vec::len), Some(1));
        let unassigned = get(&server, &agent, "/api/v1/tickets?view=unassigned").await;
        assert_eq!(unassigned.as_array().map(Vec::len), Some(0));
        let bad_view = call(
            &server,
            Method::GET,
            "/api/v1/tickets?view=everything",
            &agent,
            None,
        )
        .await;
        assert_eq!(problem(bad_view, 422).await["errors"][0]["field"], "view");
    }
);

helpdesk_test!(
    helpdesk_uploads_are_checked,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let tkt = ticket(&server, t, "Broken pump", "Maintenance", "High").await;
        let id = tkt["id"].as_str().expect("id");

        let wrong_type = upload(
            &server,
            t,
            id,
            Some("tool.exe"),
            "application/x-msdownload",
            b"MZ\x90\x00".to_vec(),
        )
        .await;
        assert_eq!(
            problem(wrong_type, 415).await["errors"][0]["field"],
            "Content-Type"
        );
        let disguised = upload(
            &server,
            t,
            id,
            Some("shot.png"),
            "image/png",
            b"<script>alert(1)</script>".to_vec(),
        )
        .await;
        assert_eq!(problem(disguised, 422).await["errors"][0]["field"], "file");
        let too_big = upload(
            &server,
            t,
            id,
            Some("log.txt"),
            "text/plain",
            vec![b'a'; 64 * 1024 + 1],
        )
        .await;
        assert_eq!(problem(too_big, 413).await["errors"][0]["field"], "file");
        let nameless = upload(&server, t, id, None, "image/png", PNG.to_vec()).await;
        assert_eq!(
            problem(nameless, 422).await["errors"][0]["field"],
            "filename"
        );

        let ok = upload(
            &server,
            t,
            id,
            Some("..%2Fpump.pdf"),
            "application/pdf",
            b"%PDF-1.7 body".to_vec(),
        )
        .await;
        assert_eq!(ok.status(), 201);
        let listed = get(&server, t, &format!("/api/v1/tickets/{id}/attachments")).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        assert_eq!(listed[0]["filename"], "pump.pdf");
        assert_eq!(listed[0]["size_bytes"], 13);
    }
);

helpdesk_test!(
    helpdesk_numbers_transitions_and_versions,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let t = &acme.admin_token;
        let mut numbers = Vec::new();
        for i in 0..3 {
            numbers.push(
                ticket(&server, t, &format!("T{i}"), "Incident", "Low").await["number"].clone(),
            );
        }
        assert_eq!(
            numbers,
            vec![
                json!("TKT-2026-00001"),
                json!("TKT-2026-00002"),
                json!("TKT-2026-00003")
            ]
        );
        assert_eq!(
            ticket(&server, &globex.admin_token, "G", "Incident", "Low").await["number"],
            "TKT-2026-00001"
        );
        // A new year starts a new sequence.
        clock.advance(Duration::days(26));
        assert_eq!(
            ticket(&server, t, "New year", "Incident", "Low").await["number"],
            "TKT-2027-00001"
        );

        let tkt = ticket(&server, t, "Flow", "Incident", "Medium").await;
        let path = format!("/api/v1/tickets/{}", tkt["id"].as_str().expect("id"));
        // Open → Closed is not allowed.
        let illegal = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"status": "Closed", "version": 1})),
        )
        .await;
        let body = problem(illegal, 422).await;
        assert_eq!(body["errors"][0]["field"], "status");
        // Unknown values name the field too.
        let unknown = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"priority": "Urgent", "version": 1})),
        )
        .await;
        assert_eq!(
            problem(unknown, 422).await["errors"][0]["field"],
            "priority"
        );
        let progress = patch(
            &server,
            t,
            &path,
            json!({"status": "In Progress", "version": 1}),
        )
        .await;
        assert_eq!(progress["version"], 2);
        // A stale version is refused with the current record.
        let stale = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"priority": "High", "version": 1})),
        )
        .await;
        let body = problem(stale, 412).await;
        assert_eq!(body["current"]["version"], 2);
        // If-Match works as well as the body's version.
        let response = server
            .client
            .patch(server.url(&path))
            .bearer_auth(t)
            .header("if-match", "\"2\"")
            .json(&json!({"priority": "Critical", "tags": ["VIP", "vip", "line-3"]}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["data"]["priority"], "Critical");
        assert_eq!(body["data"]["tags"], json!(["vip", "line-3"]));
        assert_eq!(body["data"]["sla"]["response_target_minutes"], 60);
        let resolved = patch(
            &server,
            t,
            &path,
            json!({"status": "Resolved", "version": 3}),
        )
        .await;
        let closed = patch(
            &server,
            t,
            &path,
            json!({"status": "Closed", "version": resolved["version"]}),
        )
        .await;
        let reopen = call(
            &server,
            Method::PATCH,
            &path,
            t,
            Some(json!({"status": "Open", "version": closed["version"]})),
        )
        .await;
        assert_eq!(problem(reopen, 422).await["errors"][0]["field"], "status");

        // Internal notes never reach the customer's view.
        let other = ticket(&server, t, "Notes", "Question", "Low").await;
        let messages = format!(
            "/api/v1/tickets/{}/messages",
            other["id"].as_str().expect("id")
        );
        post(
            &server,
            t,
            &messages,
            json!({"kind": "customer", "body": "Hello"}),
        )
        .await;
        post(
            &server,
            t,
            &messages,
            json!({"kind": "note", "body": "VIP, be nice"}),
        )
        .await;
        post(
            &server,
            t,
            &messages,
            json!({"kind": "reply", "body": "Hi!"}),
        )
        .await;
        let all = get(&server, t, &messages).await;
        assert_eq!(all.as_array().map(Vec::len), Some(3));
        // Customer messages carry VADER scores; agents' messages do not.
        assert_eq!(all[0]["sentiment"]["label"], "neutral");
        assert!(all[1]["sentiment"].is_null());
        post(
            &server,
            t,
            &messages,
            json!({"kind": "customer", "body": "This is terrible, nothing works and I am angry!"}),
        )
        .await;
        post(
            &server,
            t,
            &messages,
            json!({"kind": "customer", "body": "Still broken. Awful, useless support."}),
        )
        .await;
        let mood = get(
            &server,
            t,
            &format!("/api/v1/tickets/{}", other["id"].as_str().expect("id")),
        )
        .await;
        assert_eq!(mood["sentiment"]["label"], "negative");
        let compound = mood["sentiment"]["compound"].as_f64().expect("compound");
        assert!(compound < -0.5, "{compound}");
        let expected =
            insight::sentiment::polarity_scores("Still broken. Awful, useless support.").compound;
        assert!((compound - expected).abs() < 1e-9);
        assert!(
            mood["sentiment"]["trend"].as_f64().expect("trend") < 0.0,
            "getting worse"
        );
        let customer = get(&server, t, &format!("{messages}?audience=customer")).await;
        let kinds: Vec<&str> = customer
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|m| m["kind"].as_str())
            .collect();
        assert_eq!(kinds, vec!["customer", "reply", "customer", "customer"]);
        let empty = call(
            &server,
            Method::POST,
            &messages,
            t,
            Some(json!({"kind": "reply", "body": "  "})),
        )
        .await;
        assert_eq!(problem(empty, 422).await["errors"][0]["field"], "body");

        // Validation on create names the fields.
        let bad = call(
            &server,
            Method::POST,
            "/api/v1/tickets",
            t,
            Some(json!({"subject": "x", "type": "Rant", "priority": "Low"})),
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "type");
        let bad = call(
            &server,
            Method::POST,
            "/api/v1/tickets",
            t,
            Some(json!({"subject": " ", "type": "Bug", "priority": "Low"})),
        )
        .await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "subject");
        let bad = call(&server, Method::POST, "/api/v1/tickets", t, Some(json!({"subject": "x", "type": "Bug", "priority": "Low", "team_id": Uuid::now_v7()}))).await;
        assert_eq!(problem(bad, 422).await["errors"][0]["field"], "team_id");
        let team = post(&server, t, "/api/v1/teams", json!({"name": "Level 2"})).await;
        let teamed = post(
            &server,
            t,
            "/api/v1/tickets",
            json!({"subject": "x", "type": "Bug", "priority": "Low", "team_id": team["id"]}),
        )
        .await;
        assert_eq!(teamed["team_id"], team["id"]);
    }
);

helpdesk_test!(
    helpdesk_restricted_team_tickets_need_membership,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        post(
            &server,
            t,
            "/api/v1/roles",
            json!({"name": "Level 1", "permissions": ["tickets:read", "tickets:create", "tickets:update"]}),
        )
        .await;
        let member = create_user(&server, t, "member@acme.test", "Level 1").await;
        create_user(&server, t, "outsider@acme.test", "Level 1").await;
        create_user(&server, t, "lead@acme.test", "Support Agent").await;
        let team = post(
            &server,
            t,
            "/api/v1/teams",
            json!({"name": "Security", "restricted": true, "member_ids": [member["id"]]}),
        )
        .await;
        assert_eq!(team["restricted"], true);
        let secret = post(
            &server,
            t,
            "/api/v1/tickets",
            json!({"subject": "Breach", "type": "Incident", "priority": "Critical", "team_id": team["id"]}),
        )
        .await;
        let open = ticket(&server, t, "Password reset", "Question", "Low").await;
        let path = format!("/api/v1/tickets/{}", secret["id"].as_str().expect("id"));

        let outsider = token_of(&server, "outsider@acme.test").await;
        for p in [
            path.clone(),
            format!("{path}/messages"),
            format!("{path}/attachments"),
        ] {
            problem(call(&server, Method::GET, &p, &outsider, None).await, 404).await;
        }
        problem(
            call(
                &server,
                Method::PATCH,
                &path,
                &outsider,
                Some(json!({"priority": "Low", "version": 1})),
            )
            .await,
            404,
        )
        .await;
        problem(
            call(
                &server,
                Method::POST,
                &format!("{path}/messages"),
                &outsider,
                Some(json!({"kind": "note", "body": "x"})),
            )
            .await,
            404,
        )
        .await;
        let seen = get(&server, &outsider, "/api/v1/tickets").await;
        let ids: Vec<&Value> = seen
            .as_array()
            .expect("list")
            .iter()
            .map(|t| &t["id"])
            .collect();
        assert_eq!(ids, vec![&open["id"]]);

        // Members and holders of tickets:manage (Support Agent) see it.
        let member_token = token_of(&server, "member@acme.test").await;
        get(&server, &member_token, &path).await;
        let seen = get(&server, &member_token, "/api/v1/tickets").await;
        assert_eq!(seen.as_array().map(Vec::len), Some(2));
        let lead = token_of(&server, "lead@acme.test").await;
        get(&server, &lead, &path).await;
    }
);

helpdesk_test!(
    helpdesk_company_summary_for_the_360_view,
    "2026-12-07T09:00:00Z",
    |server, clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let t = &acme.admin_token;
        let company = Uuid::now_v7();
        let urgent = post(&server, t, "/api/v1/tickets", json!({"subject": "Down", "type": "Incident", "priority": "Critical", "company_id": company})).await;
        post(&server, t, "/api/v1/tickets", json!({"subject": "Slow", "type": "Incident", "priority": "Low", "company_id": company})).await;
        let done = post(&server, t, "/api/v1/tickets", json!({"subject": "Done", "type": "Question", "priority": "Low", "company_id": company})).await;
        patch(
            &server,
            t,
            &format!("/api/v1/tickets/{}", done["id"].as_str().expect("id")),
            json!({"status": "Resolved", "version": 1}),
        )
        .await;
        post(
            &server,
            t,
            &format!(
                "/api/v1/tickets/{}/messages",
                urgent["id"].as_str().expect("id")
            ),
            json!({"kind": "customer", "body": "This outage is a disaster"}),
        )
        .await;
        ticket(&server, t, "No company", "Incident", "Low").await;
        clock.advance(Duration::minutes(90));

        let ctx = kernel::TenantContext::system(acme.id);
        let summary = server
            .helpdesk
            .company_tickets(&ctx, company)
            .await
            .expect("summary");
        assert_eq!(summary.open, 2);
        assert_eq!(summary.breached, 1);
        assert_eq!(
            summary.tickets[0].id.to_string(),
            urgent["id"].as_str().expect("id")
        );
        assert!(summary.sentiment.expect("scored") < 0.0);
        // Another organisation sees nothing of it.
        let theirs = kernel::TenantContext::system(globex.id);
        assert_eq!(
            server
                .helpdesk
                .company_tickets(&theirs, company)
                .await
                .expect("summary")
                .open,
            0
        );
    }
);
