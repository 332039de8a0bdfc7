//! Helpdesk AI insights and assignment rules through HTTP: insights from rules, then
//! from the organisation's trained model; the model endpoints' tenancy and roles;
//! round-robin (also under concurrent creations), least-open and skill-based
//! auto-assignment; `ticket.assigned` with its method; team member endpoints.

use kernel::on_pool;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestServer, problem};
use crate::helpdesk::{get, patch, post, send, token_of};
use crate::http_test;
use crate::identity::{audit_actions, call, create_user, org};

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// The `ticket.assigned` events of a ticket, oldest first (their `data`).
async fn assigned_events(server: &TestServer, ticket: &str) -> Vec<Value> {
    let record = Uuid::parse_str(ticket).expect("uuid");
    let rows: Vec<String> = on_pool!(server.database.db, |p| sqlx::query_scalar(
        "SELECT CAST(data AS TEXT) FROM outbox_events WHERE event_type = 'ticket.assigned' AND record_id = $1 ORDER BY seq"
    )
    .bind(record)
    .fetch_all(p)
    .await)
    .expect("events");
    rows.iter()
        .map(|r| serde_json::from_str(r).expect("event data"))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn new_ticket(server: &TestServer, token: &str, body: Value) -> Value {
    post(server, token, "/api/v1/tickets", body).await
}

async fn resolve(server: &TestServer, token: &str, ticket: &Value) -> Value {
    patch(
        server,
        token,
        &format!("/api/v1/tickets/{}", id_of(ticket)),
        json!({"status": "Resolved", "version": ticket["version"]}),
    )
    .await
}

http_test!(
    helpdesk_ai_insights_follow_rules_then_the_trained_model,
    |server| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;

        // Rules: keywords, predicted priority, reasons and actions, on create.
        let hot = new_ticket(
        &server,
        t,
        json!({"subject": "URGENT: production is down", "description": "Nobody can log in to the portal since 9am.",
               "type": "Incident", "priority": "Low"}),
    )
    .await;
        let insights = &hot["insights"];
        assert_eq!(insights["source"], "rules", "{insights}");
        assert_eq!(insights["predicted_priority"], "Critical");
        let keywords = strings(&insights["urgency_keywords"]);
        for k in ["urgent", "down", "production"] {
            assert!(keywords.contains(&k.to_owned()), "{keywords:?}");
        }
        assert!(
            strings(&insights["ai_insights"]).contains(&"Urgency keywords detected".to_owned())
        );
        let actions: Vec<String> = insights["recommended_actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a["action"].as_str().expect("action").to_owned())
            .collect();
        assert!(
            actions.contains(&"raise_priority".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"suggest_kb_articles".to_owned()),
            "{actions:?}"
        );
        let risk = insights["escalation_risk"].as_f64().expect("risk");
        assert!((0.0..=1.0).contains(&risk));
        assert!(insights["computed_at"].is_string());

        // A message recomputes it: the mood turns, the risk rises.
        let hot_path = format!("/api/v1/tickets/{}", id_of(&hot));
        post(
            &server,
            t,
            &format!("{hot_path}/messages"),
            json!({"kind": "customer", "body": "Thanks, that is great, you are wonderful."}),
        )
        .await;
        post(
        &server,
        t,
        &format!("{hot_path}/messages"),
        json!({"kind": "customer", "body": "Still broken. This is terrible and awful, we are losing money. Horrible."}),
    )
    .await;
        let after = get(&server, t, &hot_path).await;
        let reasons = strings(&after["insights"]["ai_insights"]);
        assert!(
            reasons.contains(&"Negative sentiment trend".to_owned()),
            "{reasons:?}"
        );
        assert!(after["insights"]["escalation_risk"].as_f64().expect("risk") > risk);
        assert!(strings(&after["insights"]["urgency_keywords"]).contains(&"broken".to_owned()));
        // A priority change recomputes it: nothing left to raise.
        let raised = patch(
            &server,
            t,
            &hot_path,
            json!({"priority": "Critical", "version": after["version"]}),
        )
        .await;
        let actions = raised["insights"]["recommended_actions"].to_string();
        assert!(!actions.contains("raise_priority"), "{actions}");
        assert!(actions.contains("assign_senior_agent"), "{actions}");
        assert_ne!(raised["insights"]["computed_at"], Value::Null);

        // No model yet; training with too few closed tickets keeps the rules.
        let status = get(&server, t, "/api/v1/helpdesk/model").await;
        assert_eq!(status["source"], "rules");
        assert_eq!(status["min_closed_tickets"], 50);
        assert_eq!(status["closed_tickets"], 0);
        let report = send(
            &server,
            t,
            Method::POST,
            "/api/v1/helpdesk/model/train",
            None,
            200,
        )
        .await;
        assert_eq!(report["source"], "rules");
        assert!(report["accuracy"].is_null());
        assert!(report["reason"].is_string());

        // 60 closed tickets: outages are Critical, avatar questions Low; eight questions had
        // their priority raised before being resolved (escalated).
        for i in 0..30 {
            let outage = new_ticket(
            &server,
            t,
            json!({"subject": format!("Cluster outage in region {i}"), "description": "The storage cluster is unreachable.",
                   "type": "Incident", "priority": "Critical"}),
        )
        .await;
            resolve(&server, t, &outage).await;
            let mut question = new_ticket(
            &server,
            t,
            json!({"subject": format!("How do I change my avatar picture {i}?"), "description": "Where is the profile settings page?",
                   "type": "Question", "priority": "Low"}),
        )
        .await;
            if i < 8 {
                question = patch(
                    &server,
                    t,
                    &format!("/api/v1/tickets/{}", id_of(&question)),
                    json!({"priority": "Medium", "version": question["version"]}),
                )
                .await;
            }
            resolve(&server, t, &question).await;
        }

        // Wrong role: training needs tickets:manage; reading the state needs tickets:read.
        post(
        &server,
        t,
        "/api/v1/roles",
        json!({"name": "Level 1", "permissions": ["tickets:read", "tickets:create", "tickets:update"]}),
    )
    .await;
        create_user(&server, t, "l1@acme.test", "Level 1").await;
        let l1 = token_of(&server, "l1@acme.test").await;
        problem(
            call(
                &server,
                Method::POST,
                "/api/v1/helpdesk/model/train",
                &l1,
                None,
            )
            .await,
            403,
        )
        .await;
        get(&server, &l1, "/api/v1/helpdesk/model").await;

        let report = send(
            &server,
            t,
            Method::POST,
            "/api/v1/helpdesk/model/train",
            None,
            200,
        )
        .await;
        assert_eq!(report["source"], "model", "{report}");
        assert_eq!(report["trained_on"], 60);
        assert_eq!(
            strings(&report["classes"]),
            vec!["Critical", "Low", "Medium"]
        );
        assert!(
            report["accuracy"].as_f64().expect("accuracy") > 0.8,
            "{report}"
        );
        assert_eq!(report["escalation_model"], true);
        assert!(
            !audit_actions(&server, t, "helpdesk_model.trained")
                .await
                .is_empty()
        );
        let status = get(&server, t, "/api/v1/helpdesk/model").await;
        assert_eq!(status["source"], "model");
        assert_eq!(status["trained_on"], 60);
        assert_eq!(status["closed_tickets"], 60);

        // Open tickets were recomputed with the model; new ones use it too.
        let hot_now = get(&server, t, &hot_path).await;
        assert_eq!(hot_now["insights"]["source"], "model");
        let question = new_ticket(
        &server,
        t,
        json!({"subject": "How do I change my avatar?", "description": "The profile settings page is hard to find.",
               "type": "Question", "priority": "High"}),
    )
    .await;
        assert_eq!(question["insights"]["source"], "model");
        assert_eq!(question["insights"]["predicted_priority"], "Low");
        let outage = new_ticket(
        &server,
        t,
        json!({"subject": "Storage cluster outage", "description": "Unreachable since noon.", "type": "Incident", "priority": "Low"}),
    )
    .await;
        assert_eq!(outage["insights"]["predicted_priority"], "Critical");
        assert!(
            strings(&outage["insights"]["ai_insights"])
                .contains(&"Predicted priority above current".to_owned())
        );
        // In lists too.
        let listed = get(&server, t, "/api/v1/tickets?limit=500").await;
        assert!(
            listed
                .as_array()
                .expect("list")
                .iter()
                .all(|t| t["insights"]["source"].is_string())
        );

        // Cross-tenant: another organisation has its own (empty) model state and cannot
        // see Acme's tickets or insights.
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let theirs = get(&server, &globex.admin_token, "/api/v1/helpdesk/model").await;
        assert_eq!(theirs["source"], "rules");
        assert_eq!(theirs["closed_tickets"], 0);
        let report = send(
            &server,
            &globex.admin_token,
            Method::POST,
            "/api/v1/helpdesk/model/train",
            None,
            200,
        )
        .await;
        assert_eq!(report["trained_on"], 0);
        problem(
            call(&server, Method::GET, &hot_path, &globex.admin_token, None).await,
            404,
        )
        .await;
        // Acme's model is untouched by Globex's training.
        assert_eq!(
            get(&server, t, "/api/v1/helpdesk/model").await["source"],
            "model"
        );
    }
);

http_test!(
    helpdesk_ai_auto_assignment_round_robin_least_open_and_skills,
    |server| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let mut agents = Vec::new();
        for name in ["a", "b", "c", "d", "e"] {
            let user = create_user(&server, t, &format!("{name}@acme.test"), "Support Agent").await;
            agents.push(Uuid::parse_str(user["id"].as_str().expect("id")).expect("uuid"));
        }
        let (a, b, c, d, e) = (agents[0], agents[1], agents[2], agents[3], agents[4]);

        // A round-robin team; members with skills.
        let team = post(
            &server,
            t,
            "/api/v1/teams",
            json!({"name": "Level 1", "assignment_method": "round_robin"}),
        )
        .await;
        assert_eq!(team["assignment_method"], "round_robin");
        assert_eq!(team["assign_by_skill"], false);
        let team_id = id_of(&team);
        let members_path = format!("/api/v1/teams/{team_id}/members");
        let members = send(
            &server,
            t,
            Method::PUT,
            &members_path,
            Some(json!([
                {"user_id": c, "skills": [" Billing ", "network"]},
                {"user_id": a, "skills": ["billing"]},
                {"user_id": b, "skills": ["network"]},
            ])),
            200,
        )
        .await;
        let mut order = [a, b, c];
        order.sort();
        let listed = get(&server, t, &members_path).await;
        assert_eq!(listed, members);
        assert_eq!(listed[0]["user_id"], json!(order[0]));
        let c_entry = listed
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["user_id"] == json!(c))
            .expect("c");
        assert_eq!(strings(&c_entry["skills"]), vec!["billing", "network"]);
        let teams = get(&server, t, "/api/v1/teams").await;
        assert_eq!(teams[0]["member_ids"].as_array().map(Vec::len), Some(3));

        // Round robin: members in user-id order, deterministic.
        let mut assigned = Vec::new();
        for i in 0..6 {
            let ticket = new_ticket(
            &server,
            t,
            json!({"subject": format!("Printer {i}"), "type": "Incident", "priority": "Medium", "team_id": team_id}),
        )
        .await;
            let to =
                Uuid::parse_str(ticket["assignee_id"].as_str().expect("assigned")).expect("uuid");
            assert_eq!(to, order[i % 3], "ticket {i}");
            let events = assigned_events(&server, &id_of(&ticket)).await;
            assert_eq!(events.len(), 1);
            assert_eq!(events[0]["method"], "round_robin");
            assert_eq!(events[0]["from"], Value::Null);
            assert_eq!(events[0]["to"], json!(to));
            assert_eq!(events[0]["ticket_id"], ticket["id"]);
            assigned.push(ticket);
        }
        assert!(audit_actions(&server, t, "ticket.assigned").await.len() >= 6);

        // Concurrent creations never hand out the same turn: 6 more give each member 2.
        let mut handles = Vec::new();
        for i in 0..6 {
            let client = server.client.clone();
            let url = server.url("/api/v1/tickets");
            let token = t.clone();
            let team_id = team_id.clone();
            handles.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"subject": format!("Burst {i}"), "type": "Bug", "priority": "Low", "team_id": team_id}))
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), 201);
            let body: Value = response.json().await.expect("json");
            body["data"]["assignee_id"].as_str().expect("assigned").to_owned()
        }));
        }
        let mut burst = Vec::new();
        for h in handles {
            burst.push(h.await.expect("task"));
        }
        for member in [a, b, c] {
            assert_eq!(
                burst.iter().filter(|x| **x == member.to_string()).count(),
                2,
                "{burst:?}"
            );
        }

        // By skill: only members sharing a tag are eligible.
        let team_path = format!("/api/v1/teams/{team_id}");
        let changed = patch(&server, t, &team_path, json!({"assign_by_skill": true})).await;
        assert_eq!(changed["assign_by_skill"], true);
        assert_eq!(changed["assignment_method"], "round_robin");
        for _ in 0..3 {
            let network = new_ticket(
            &server,
            t,
            json!({"subject": "VPN", "type": "Incident", "priority": "Low", "team_id": team_id, "tags": ["Network"]}),
        )
        .await;
            let to = network["assignee_id"].clone();
            assert!(to == json!(b) || to == json!(c), "{to}");
            let billing = new_ticket(
            &server,
            t,
            json!({"subject": "Invoice", "type": "Question", "priority": "Low", "team_id": team_id, "tags": ["billing"]}),
        )
        .await;
            let to = billing["assignee_id"].clone();
            assert!(to == json!(a) || to == json!(c), "{to}");
        }

        // Least open: a team of two fresh agents; ties go to the lower user id.
        let quiet = post(
            &server,
            t,
            "/api/v1/teams",
            json!({"name": "Level 2", "member_ids": [d, e], "assignment_method": "least_open"}),
        )
        .await;
        let quiet_id = id_of(&quiet);
        let (low, high) = if d < e { (d, e) } else { (e, d) };
        let mut quiet_tickets = Vec::new();
        for expected in [low, high, low] {
            let ticket = new_ticket(
            &server,
            t,
            json!({"subject": "Disk", "type": "Incident", "priority": "High", "team_id": quiet_id}),
        )
        .await;
            assert_eq!(ticket["assignee_id"], json!(expected));
            let events = assigned_events(&server, &id_of(&ticket)).await;
            assert_eq!(events[0]["method"], "least_open");
            quiet_tickets.push(ticket);
        }
        // `low` has two open, `high` one; resolving low's two leaves `high` the busier.
        resolve(&server, t, &quiet_tickets[0]).await;
        resolve(&server, t, &quiet_tickets[2]).await;
        let next = new_ticket(
        &server,
        t,
        json!({"subject": "Disk again", "type": "Incident", "priority": "High", "team_id": quiet_id}),
    )
    .await;
        assert_eq!(next["assignee_id"], json!(low));
        // An explicit assignee wins; a manual team assigns nobody.
        let explicit = new_ticket(
        &server,
        t,
        json!({"subject": "Mine", "type": "Bug", "priority": "Low", "team_id": quiet_id, "assignee_id": a}),
    )
    .await;
        assert_eq!(explicit["assignee_id"], json!(a));
        assert_eq!(
            assigned_events(&server, &id_of(&explicit)).await[0]["method"],
            "manual"
        );
        let manual = post(
            &server,
            t,
            "/api/v1/teams",
            json!({"name": "Manual", "member_ids": [a]}),
        )
        .await;
        assert_eq!(manual["assignment_method"], "manual");
        let unassigned = new_ticket(
            &server,
            t,
            json!({"subject": "Nobody", "type": "Bug", "priority": "Low", "team_id": manual["id"]}),
        )
        .await;
        assert!(unassigned["assignee_id"].is_null());
        assert!(
            assigned_events(&server, &id_of(&unassigned))
                .await
                .is_empty()
        );

        // Reassignment: audited and announced with from, to and method.
        let first = &assigned[0];
        let moved = patch(
            &server,
            t,
            &format!("/api/v1/tickets/{}", id_of(first)),
            json!({"assignee_id": e, "version": first["version"]}),
        )
        .await;
        assert_eq!(moved["assignee_id"], json!(e));
        let events = assigned_events(&server, &id_of(first)).await;
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["from"], json!(order[0]));
        assert_eq!(events[1]["to"], json!(e));
        assert_eq!(events[1]["method"], "manual");
        let audits = audit_actions(&server, t, "ticket.assigned").await;
        assert!(
            audits
                .iter()
                .any(|row| row.to_string().contains(&e.to_string())),
            "{audits:?}"
        );

        // Bad input names the field.
        let bad = problem(
            call(
                &server,
                Method::PUT,
                &members_path,
                t,
                Some(json!([{"user_id": a}, {"user_id": a, "skills": [""]}])),
            )
            .await,
            422,
        )
        .await;
        let fields: Vec<String> = bad["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(fields.contains(&"[1].user_id".to_owned()), "{bad}");
        assert!(fields.contains(&"[1].skills[0]".to_owned()), "{bad}");
        problem(
            call(
                &server,
                Method::PATCH,
                &team_path,
                t,
                Some(json!({"assignment_method": "random"})),
            )
            .await,
            422,
        )
        .await;

        // Wrong role: a Viewer reads members but cannot change them or the team.
        create_user(&server, t, "viewer@acme.test", "Viewer").await;
        let viewer = token_of(&server, "viewer@acme.test").await;
        get(&server, &viewer, &members_path).await;
        problem(
            call(
                &server,
                Method::PUT,
                &members_path,
                &viewer,
                Some(json!([])),
            )
            .await,
            403,
        )
        .await;
        problem(
            call(
                &server,
                Method::PATCH,
                &team_path,
                &viewer,
                Some(json!({"assignment_method": "manual"})),
            )
            .await,
            403,
        )
        .await;

        // Cross-tenant: another organisation's admin finds no such team.
        let globex = org(&server, "Globex", "admin@globex.test").await;
        let g = &globex.admin_token;
        problem(
            call(&server, Method::GET, &members_path, g, None).await,
            404,
        )
        .await;
        problem(
            call(
                &server,
                Method::PUT,
                &members_path,
                g,
                Some(json!([{"user_id": a, "skills": []}])),
            )
            .await,
            404,
        )
        .await;
        problem(
            call(
                &server,
                Method::PATCH,
                &team_path,
                g,
                Some(json!({"assignment_method": "manual"})),
            )
            .await,
            404,
        )
        .await;
        // ... nor can it file tickets into it.
        problem(
            call(
                &server,
                Method::POST,
                "/api/v1/tickets",
                g,
                Some(json!({"subject": "x", "type": "Bug", "priority": "Low", "team_id": team_id})),
            )
            .await,
            422,
        )
        .await;
        // Acme's team is unchanged.
        assert_eq!(
            get(&server, t, &members_path)
                .await
                .as_array()
                .map(Vec::len),
            Some(3)
        );
    }
);
