//! Identity through HTTP: sign-in, tokens, roles, API keys, tenancy, audit, PII.

use std::sync::Arc;

use chrono::{Duration, Utc};
use identity::IdentitySettings;
use kernel::clock::FixedClock;
use kernel::{Backend, SharedClock};
use serde_json::{Value, json};
use server::http::HttpSettings;
use uuid::Uuid;

use crate::harness::{TestServer, problem};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// An organisation with its admin signed in.
pub(crate) struct Org {
    pub(crate) id: Uuid,
    pub(crate) admin_token: String,
}

pub(crate) async fn org(server: &TestServer, name: &str, admin_email: &str) -> Org {
    let (id, _) = server
        .identity
        .create_org(name, admin_email, "Admin Person", PASSWORD)
        .await
        .expect("create organisation");
    let tokens = login(server, admin_email, PASSWORD, Some(&id.to_string())).await;
    Org {
        id,
        admin_token: tokens["access_token"].as_str().expect("token").to_owned(),
    }
}

async fn login_response(
    server: &TestServer,
    email: &str,
    password: &str,
    org: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"email": email, "password": password});
    if let Some(org) = org {
        body["org"] = json!(org);
    }
    server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("send")
}

pub(crate) async fn login(
    server: &TestServer,
    email: &str,
    password: &str,
    org: Option<&str>,
) -> Value {
    let response = login_response(server, email, password, org).await;
    assert_eq!(response.status(), 200, "login of {email}");
    response.json().await.expect("tokens")
}

pub(crate) async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server
        .client
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("send")
}

pub(crate) async fn create_user(
    server: &TestServer,
    admin: &str,
    email: &str,
    role: &str,
) -> Value {
    let response = call(
        server,
        reqwest::Method::POST,
        "/api/v1/users",
        admin,
        Some(json!({"email": email, "name": "Jon Smith", "password": PASSWORD, "role": role})),
    )
    .await;
    assert_eq!(response.status(), 201, "create {email}");
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

pub(crate) async fn audit_actions(server: &TestServer, token: &str, action: &str) -> Vec<Value> {
    let response = call(
        server,
        reqwest::Method::GET,
        &format!("/api/v1/audit?action={action}"),
        token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["data"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(Utc::now()))
}

pub(crate) async fn start(backend: Backend, clock: Arc<FixedClock>) -> Option<TestServer> {
    let clock: SharedClock = clock;
    TestServer::start_full(
        backend,
        HttpSettings::default(),
        None,
        clock,
        IdentitySettings::default(),
    )
    .await
}

/// Declares a test run on a fresh server with a fixed clock, on SQLite and PostgreSQL.
#[macro_export]
macro_rules! identity_test {
    ($name:ident, |$server:ident, $clock:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables)]
            async fn run($server: $crate::harness::TestServer, $clock: std::sync::Arc<kernel::clock::FixedClock>) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let clock = $crate::identity::fixed_clock();
                let server = $crate::identity::start(kernel::Backend::Sqlite, clock.clone())
                    .await
                    .expect("SQLite is always available");
                run(server, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let clock = $crate::identity::fixed_clock();
                let Some(server) = $crate::identity::start(kernel::Backend::Postgres, clock.clone()).await else {
                    return;
                };
                run(server, clock).await;
            }
        }
    };
}

identity_test!(sign_in_me_and_generic_errors, |server, _clock| {
    let acme = org(&server, "Acme Sugar", "admin@acme.test").await;
    let me = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/auth/me",
        &acme.admin_token,
        None,
    )
    .await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["data"]["user"]["email"], "admin@acme.test");
    assert_eq!(me["data"]["role"], "Admin");
    assert_eq!(me["data"]["org"]["id"], acme.id.to_string());
    assert_eq!(me["data"]["permissions"], json!(["*"]));

    // Unknown email and wrong password are indistinguishable.
    let unknown = problem(
        login_response(&server, "nobody@acme.test", PASSWORD, None).await,
        401,
    )
    .await;
    let wrong = problem(
        login_response(&server, "admin@acme.test", "not the password!", None).await,
        401,
    )
    .await;
    assert_eq!(unknown["detail"], wrong["detail"]);
    assert_eq!(unknown["code"], wrong["code"]);

    // No token, a garbage token: 401 problems.
    problem(server.get("/api/v1/users").await, 401).await;
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users",
            "garbage",
            None,
        )
        .await,
        401,
    )
    .await;
});

identity_test!(cross_tenant_ids_answer_404, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let globex = org(&server, "Globex", "admin@globex.test").await;
    let theirs = create_user(&server, &globex.admin_token, "worker@globex.test", "Viewer").await;
    let their_id = theirs["id"].as_str().expect("id");
    let role = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/roles",
        &globex.admin_token,
        Some(json!({"name": "Auditor", "permissions": ["audit:read"]})),
    )
    .await;
    let role: Value = role.json().await.expect("json");
    let role_id = role["data"]["id"].as_str().expect("id");
    let key = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/api-keys",
        &globex.admin_token,
        Some(json!({"name": "ERP", "permissions": ["users:read"]})),
    )
    .await;
    let key: Value = key.json().await.expect("json");
    let key_id = key["data"]["id"].as_str().expect("id");

    // Acme's admin has every permission, yet Globex's records do not exist for them.
    let t = &acme.admin_token;
    problem(
        call(
            &server,
            reqwest::Method::GET,
            &format!("/api/v1/users/{their_id}"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{their_id}"),
            t,
            Some(json!({"role": "Admin", "version": 1})),
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::POST,
            &format!("/api/v1/users/{their_id}/deactivate"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::DELETE,
            &format!("/api/v1/roles/{role_id}"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    // A random id and a malformed id answer the same.
    let random = Uuid::now_v7();
    problem(
        call(
            &server,
            reqwest::Method::GET,
            &format!("/api/v1/users/{random}"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users/not-a-uuid",
            t,
            None,
        )
        .await,
        404,
    )
    .await;
    // Lists only show one's own organisation.
    let list: Value = call(&server, reqwest::Method::GET, "/api/v1/users", t, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    // Nothing changed on Globex's side.
    let still: Value = call(
        &server,
        reqwest::Method::GET,
        &format!("/api/v1/users/{their_id}"),
        &globex.admin_token,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(still["data"]["active"], true);
    assert_eq!(still["data"]["role"], "Viewer");
});

identity_test!(
    wrong_role_is_403_with_an_audit_row_and_role_changes_apply_at_once,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let viewer = create_user(&server, &acme.admin_token, "viewer@acme.test", "Viewer").await;
        let tokens = login(&server, "viewer@acme.test", PASSWORD, None).await;
        let viewer_token = tokens["access_token"].as_str().expect("token");

        let denied = call(
            &server,
            reqwest::Method::POST,
            "/api/v1/users",
            viewer_token,
            Some(
                json!({"email": "x@acme.test", "name": "X", "password": PASSWORD, "role": "Admin"}),
            ),
        )
        .await;
        let body = problem(denied, 403).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("users:manage")
        );
        let rows = audit_actions(&server, &acme.admin_token, "permission.denied").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            rows[0]["actor"],
            format!("user:{}", viewer["id"].as_str().expect("id"))
        );
        assert!(
            rows[0]["entity_id"]
                .as_str()
                .unwrap_or("")
                .contains("POST /api/v1/users")
        );

        // Promote the viewer: the same access token now may act.
        let promote = call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{}", viewer["id"].as_str().expect("id")),
            &acme.admin_token,
            Some(json!({"role": "Manager", "version": viewer["version"]})),
        )
        .await;
        assert_eq!(promote.status(), 200);
        let list = call(
            &server,
            reqwest::Method::GET,
            "/api/v1/audit",
            viewer_token,
            None,
        )
        .await;
        assert_eq!(
            list.status(),
            200,
            "Manager reads the audit log with the old token"
        );
        assert_eq!(
            audit_actions(&server, &acme.admin_token, "role.changed")
                .await
                .len(),
            1
        );

        // A stale version is refused with the current record.
        let stale = call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{}", viewer["id"].as_str().expect("id")),
            &acme.admin_token,
            Some(json!({"role": "Viewer", "version": viewer["version"]})),
        )
        .await;
        let body = problem(stale, 412).await;
        assert_eq!(body["current"]["role"], "Manager");
        // No version at all is a validation problem naming it.
        let missing = call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{}", viewer["id"].as_str().expect("id")),
            &acme.admin_token,
            Some(json!({"role": "Viewer"})),
        )
        .await;
        assert_eq!(problem(missing, 422).await["errors"][0]["field"], "version");
    }
);

identity_test!(deactivated_users_live_token_is_refused, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let rep = create_user(&server, &acme.admin_token, "rep@acme.test", "Sales Rep").await;
    let tokens = login(&server, "rep@acme.test", PASSWORD, None).await;
    let token = tokens["access_token"].as_str().expect("token");
    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/me",
            token,
            None
        )
        .await
        .status(),
        200
    );
    let off = call(
        &server,
        reqwest::Method::POST,
        &format!(
            "/api/v1/users/{}/deactivate",
            rep["id"].as_str().expect("id")
        ),
        &acme.admin_token,
        None,
    )
    .await;
    assert_eq!(off.status(), 200);
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/me",
            token,
            None,
        )
        .await,
        401,
    )
    .await;
    let refresh = server
        .client
        .post(server.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .expect("send");
    problem(refresh, 401).await;
    problem(
        login_response(&server, "rep@acme.test", PASSWORD, None).await,
        401,
    )
    .await;
    assert_eq!(
        audit_actions(&server, &acme.admin_token, "user.deactivated")
            .await
            .len(),
        1
    );
});

identity_test!(refresh_token_reuse_revokes_the_family, |server, _clock| {
    let _acme = org(&server, "Acme", "admin@acme.test").await;
    let first = login(&server, "admin@acme.test", PASSWORD, None).await;
    let refresh = |token: Value| {
        server
            .client
            .post(server.url("/api/v1/auth/refresh"))
            .json(&json!({"refresh_token": token}))
            .send()
    };
    let second: Value = refresh(first["refresh_token"].clone())
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(second["access_token"].is_string());
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    // Someone replays the first refresh token: the whole session dies.
    problem(
        refresh(first["refresh_token"].clone()).await.expect("send"),
        401,
    )
    .await;
    problem(
        refresh(second["refresh_token"].clone())
            .await
            .expect("send"),
        401,
    )
    .await;
    let token = second["access_token"].as_str().expect("token");
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/me",
            token,
            None,
        )
        .await,
        401,
    )
    .await;
    // Another session of the same user is unaffected.
    let other = login(&server, "admin@acme.test", PASSWORD, None).await;
    let other_token = other["access_token"].as_str().expect("token");
    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/me",
            other_token,
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        audit_actions(&server, other_token, "auth.refresh_reuse")
            .await
            .len(),
        1
    );
    // Logout ends a session and its access token.
    let out = server
        .client
        .post(server.url("/api/v1/auth/logout"))
        .json(&json!({"refresh_token": other["refresh_token"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(out.status(), 204);
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/me",
            other_token,
            None,
        )
        .await,
        401,
    )
    .await;
});

identity_test!(
    lockout_after_five_failures_and_its_expiry,
    |server, clock| {
        let _acme = org(&server, "Acme", "admin@acme.test").await;
        for _ in 0..4 {
            problem(
                login_response(&server, "admin@acme.test", "wrong password!!", None).await,
                401,
            )
            .await;
        }
        // The fifth failure locks the account.
        let locked = login_response(&server, "admin@acme.test", "wrong password!!", None).await;
        let retry_after: u64 = locked.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert_eq!(retry_after, 900);
        problem(locked, 429).await;
        // Even the right password waits.
        let still = login_response(&server, "admin@acme.test", PASSWORD, None).await;
        assert!(still.headers().contains_key("retry-after"));
        problem(still, 429).await;
        clock.advance(Duration::minutes(14));
        problem(
            login_response(&server, "admin@acme.test", PASSWORD, None).await,
            429,
        )
        .await;
        clock.advance(Duration::minutes(1) + Duration::seconds(1));
        let tokens = login(&server, "admin@acme.test", PASSWORD, None).await;
        let token = tokens["access_token"].as_str().expect("token");
        assert_eq!(audit_actions(&server, token, "auth.lockout").await.len(), 1);
        assert_eq!(
            audit_actions(&server, token, "auth.login_failed")
                .await
                .len(),
            5
        );
    }
);

identity_test!(api_key_can_do_exactly_its_subset, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let created = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/api-keys",
        &acme.admin_token,
        Some(json!({"name": "Payroll sync", "permissions": ["users:read"]})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let secret = created["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let key_id = created["data"]["id"].as_str().expect("id").to_owned();
    // The list never shows the secret.
    let listed = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/api-keys",
        &acme.admin_token,
        None,
    )
    .await
    .text()
    .await
    .expect("text");
    assert!(!listed.contains(&secret));

    assert_eq!(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users",
            &secret,
            None
        )
        .await
        .status(),
        200
    );
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/roles",
            &secret,
            None,
        )
        .await,
        403,
    )
    .await;
    problem(
        call(&server, reqwest::Method::POST, "/api/v1/users", &secret, Some(json!({"email": "k@acme.test", "name": "K", "password": PASSWORD, "role": "Viewer"}))).await,
        403,
    )
    .await;
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/audit",
            &secret,
            None,
        )
        .await,
        403,
    )
    .await;
    // Unknown permissions are refused by name.
    let bad = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/api-keys",
        &acme.admin_token,
        Some(json!({"name": "Bad", "permissions": ["users:read", "usres:read"]})),
    )
    .await;
    assert_eq!(
        problem(bad, 422).await["errors"][0]["field"],
        "permissions[1]"
    );
    // Revoked: refused at once.
    let revoke = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/api/v1/api-keys/{key_id}"),
        &acme.admin_token,
        None,
    )
    .await;
    assert_eq!(revoke.status(), 200);
    problem(
        call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users",
            &secret,
            None,
        )
        .await,
        401,
    )
    .await;
    assert_eq!(
        audit_actions(&server, &acme.admin_token, "api_key.created")
            .await
            .len(),
        1
    );
    assert_eq!(
        audit_actions(&server, &acme.admin_token, "api_key.revoked")
            .await
            .len(),
        1
    );
});

identity_test!(
    pii_is_masked_for_viewers_and_validation_names_fields,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        create_user(&server, &acme.admin_token, "viewer@acme.test", "Viewer").await;
        let viewer = login(&server, "viewer@acme.test", PASSWORD, None).await;
        let viewer_token = viewer["access_token"].as_str().expect("token");
        let list: Value = call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users?sort=created_at",
            viewer_token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
        let admin_row = &list["data"][0];
        assert_eq!(admin_row["email"], "a***@acme.test");
        assert_ne!(admin_row["name"], "Admin Person");
        // One's own record is not masked.
        let own = &list["data"][1];
        assert_eq!(own["email"], "viewer@acme.test");
        // The admin (pii:read) sees everything.
        let full: Value = call(
            &server,
            reqwest::Method::GET,
            "/api/v1/users",
            &acme.admin_token,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
        assert!(
            full["data"]
                .as_array()
                .expect("list")
                .iter()
                .any(|u| u["email"] == "viewer@acme.test")
        );

        let bad = call(
            &server,
            reqwest::Method::POST,
            "/api/v1/users",
            &acme.admin_token,
            Some(
                json!({"email": "new@acme.test", "name": "", "password": "short", "role": "Admin"}),
            ),
        )
        .await;
        let body = problem(bad, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(
            fields.contains(&"name") && fields.contains(&"password"),
            "{fields:?}"
        );
        let bad_role = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &acme.admin_token,
        Some(json!({"email": "new@acme.test", "name": "N", "password": PASSWORD, "role": "Wizard"})),
    )
    .await;
        assert_eq!(problem(bad_role, 422).await["errors"][0]["field"], "role");
        let dup = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &acme.admin_token,
        Some(json!({"email": "VIEWER@acme.test", "name": "V", "password": PASSWORD, "role": "Viewer"})),
    )
    .await;
        problem(dup, 409).await;
    }
);

#[tokio::test]
async fn pii_is_not_in_the_sqlite_file() {
    let clock = fixed_clock();
    let server = start(Backend::Sqlite, clock).await.expect("sqlite");
    let acme = org(&server, "Acme", "admin@acme.test").await;
    create_user(
        &server,
        &acme.admin_token,
        "jonathan.smithers@example.org",
        "Viewer",
    )
    .await;
    let url = server.database.url.clone();
    let path = url.trim_start_matches("sqlite://").to_owned();
    // Everything committed is in the main file or its WAL.
    let mut bytes = std::fs::read(&path).expect("database file");
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        haystack.contains("acme"),
        "the file is readable at all (org slug)"
    );
    for secret in [
        "jonathan.smithers@example.org",
        "jonathan.smithers",
        "Jon Smith",
        "admin@acme.test",
    ] {
        assert!(
            !haystack.contains(secret),
            "{secret} found in the database file"
        );
    }
}

identity_test!(sites_divisions_and_scope, |server, _clock| {
    let acme = org(&server, "Acme Sugar", "admin@acme.test").await;
    let site = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/orgs/current/sites",
        &acme.admin_token,
        Some(json!({"name": "Plant North", "kind": "plant"})),
    )
    .await;
    assert_eq!(site.status(), 201);
    let site: Value = site.json().await.expect("json");
    let site_id = site["data"]["id"].as_str().expect("id").to_owned();
    let division = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/orgs/current/divisions",
        &acme.admin_token,
        Some(json!({"name": "Ethanol"})),
    )
    .await;
    assert_eq!(division.status(), 201);
    let bad = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/orgs/current/sites",
        &acme.admin_token,
        Some(json!({"name": "X", "kind": "castle"})),
    )
    .await;
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "kind");

    let engineer = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &acme.admin_token,
        Some(json!({"email": "eng@acme.test", "name": "Eng", "password": PASSWORD, "role": "Engineer", "site_ids": [site_id]})),
    )
    .await;
    assert_eq!(engineer.status(), 201);
    let tokens = login(&server, "eng@acme.test", PASSWORD, None).await;
    let me: Value = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/auth/me",
        tokens["access_token"].as_str().expect("t"),
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(me["data"]["scope"]["site_ids"], json!([site_id]));
    let org_view: Value = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/orgs/current",
        &acme.admin_token,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(org_view["data"]["sites"][0]["name"], "Plant North");
    assert_eq!(org_view["data"]["divisions"][0]["name"], "Ethanol");
    let unknown_site = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &acme.admin_token,
        Some(json!({"email": "e2@acme.test", "name": "E2", "password": PASSWORD, "role": "Engineer", "site_ids": [Uuid::now_v7()]})),
    )
    .await;
    assert_eq!(
        problem(unknown_site, 422).await["errors"][0]["field"],
        "site_ids[0]"
    );
});

identity_test!(several_organisations_and_totp, |server, clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let globex = org(&server, "Globex", "boss@globex.test").await;
    // The Acme admin also joins Globex.
    let joined = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &globex.admin_token,
        Some(json!({"email": "admin@acme.test", "name": "ignored", "password": "ignored for existing people", "role": "Viewer"})),
    )
    .await;
    assert_eq!(joined.status(), 201);
    let choose = problem(
        login_response(&server, "admin@acme.test", PASSWORD, None).await,
        422,
    )
    .await;
    assert_eq!(choose["errors"][0]["field"], "org");
    assert_eq!(choose["current"].as_array().map(Vec::len), Some(2));
    let into_globex = login(&server, "admin@acme.test", PASSWORD, Some("globex")).await;
    let me: Value = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/auth/me",
        into_globex["access_token"].as_str().expect("t"),
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(me["data"]["org"]["id"], globex.id.to_string());
    assert_eq!(me["data"]["role"], "Viewer");

    // TOTP: enrol, confirm with a real code, then sign-in needs it.
    let enrol: Value = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/auth/totp/enroll",
        &acme.admin_token,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    let secret =
        kernel::pii::Secret::new(enrol["data"]["secret"].as_str().expect("secret").to_owned());
    assert!(
        enrol["data"]["otpauth_uri"]
            .as_str()
            .unwrap_or("")
            .starts_with("otpauth://totp/")
    );
    let now = kernel::Clock::now(&*clock).timestamp() as u64;
    let code = identity::totp::code_at(&secret, now).expect("code");
    let wrong = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/auth/totp/confirm",
        &acme.admin_token,
        Some(json!({"code": "000000"})),
    )
    .await;
    if code != "000000" {
        assert_eq!(problem(wrong, 422).await["errors"][0]["field"], "code");
    }
    let confirmed: Value = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/auth/totp/confirm",
        &acme.admin_token,
        Some(json!({"code": code})),
    )
    .await
    .json()
    .await
    .expect("json");
    let recovery: Vec<String> = confirmed["data"]["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(recovery.len(), 10);
    let needs = problem(
        login_response(&server, "admin@acme.test", PASSWORD, Some("acme")).await,
        401,
    )
    .await;
    assert_eq!(needs["code"], "totp_required");
    let with_code = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD, "org": "acme", "totp_code": code}))
        .send()
        .await
        .expect("send");
    assert_eq!(with_code.status(), 200);
    let with_recovery = |code: String| {
        server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"email": "admin@acme.test", "password": PASSWORD, "org": "acme", "totp_code": code}))
            .send()
    };
    assert_eq!(
        with_recovery(recovery[0].clone())
            .await
            .expect("send")
            .status(),
        200
    );
    problem(with_recovery(recovery[0].clone()).await.expect("send"), 401).await;
});

mod rate_limit {
    use super::*;

    async fn run(server: TestServer) {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let response = call(
                &server,
                reqwest::Method::GET,
                "/api/v1/auth/check",
                &acme.admin_token,
                None,
            )
            .await;
            statuses.push(response.status().as_u16());
            if response.status() == 429 {
                assert!(response.headers().contains_key("retry-after"));
                let body = problem(response, 429).await;
                assert_eq!(body["code"], "rate_limited");
            }
        }
        assert_eq!(
            statuses,
            vec![200, 200, 200, 429],
            "burst of 3, then refused"
        );
        // Another caller has a bucket of its own (wait for one token to create the key).
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let key = call(
            &server,
            reqwest::Method::POST,
            "/api/v1/api-keys",
            &acme.admin_token,
            Some(json!({"name": "sync", "permissions": ["users:read"]})),
        )
        .await;
        let key: Value = key.json().await.expect("json");
        let secret = key["data"]["secret"].as_str().expect("secret");
        let status = call(
            &server,
            reqwest::Method::GET,
            "/api/v1/auth/check",
            secret,
            None,
        )
        .await
        .status();
        assert_eq!(status, 200, "an API key has its own bucket");
    }

    fn limited() -> HttpSettings {
        HttpSettings {
            rate_limit_per_second: 1,
            rate_limit_burst: 3,
            ..HttpSettings::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let server = TestServer::start_full(
            Backend::Sqlite,
            limited(),
            None,
            fixed_clock(),
            IdentitySettings::default(),
        )
        .await
        .expect("sqlite");
        run(server).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(server) = TestServer::start_full(
            Backend::Postgres,
            limited(),
            None,
            fixed_clock(),
            IdentitySettings::default(),
        )
        .await
        else {
            return;
        };
        run(server).await;
    }
}

identity_test!(every_invalid_field_is_reported_at_once, |server, _clock| {
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let bad = call(
        &server,
        reqwest::Method::POST,
        "/api/v1/users",
        &acme.admin_token,
        Some(json!({"email": "nope", "name": " ", "password": "short", "role": "Wizard", "site_ids": [Uuid::now_v7()]})),
    )
    .await;
    let body = problem(bad, 422).await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.dedup();
    assert_eq!(fields, ["email", "role", "site_ids[0]", "name", "password"]);
    let catalogue: Value = call(
        &server,
        reqwest::Method::GET,
        "/api/v1/permissions",
        &acme.admin_token,
        None,
    )
    .await
    .json()
    .await
    .expect("json");
    assert!(
        catalogue["data"]["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r == "deals")
    );
    assert!(
        catalogue["data"]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a == "update")
    );
});

identity_test!(
    custom_roles_change_and_holders_feel_it_at_once,
    |server, _clock| {
        let acme = org(&server, "Acme", "admin@acme.test").await;
        let t = &acme.admin_token;
        let role: Value = call(
            &server,
            reqwest::Method::POST,
            "/api/v1/roles",
            t,
            Some(json!({"name": "Auditor", "permissions": ["users:read"]})),
        )
        .await
        .json()
        .await
        .expect("json");
        let role_id = role["data"]["id"].as_str().expect("id").to_owned();
        create_user(&server, t, "aud@acme.test", "Auditor").await;
        let aud = login(&server, "aud@acme.test", PASSWORD, None).await;
        let aud_token = aud["access_token"].as_str().expect("token");
        problem(
            call(
                &server,
                reqwest::Method::GET,
                "/api/v1/audit",
                aud_token,
                None,
            )
            .await,
            403,
        )
        .await;
        let changed = call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/roles/{role_id}"),
            t,
            Some(json!({"permissions": ["users:read", "audit:read"], "version": 1})),
        )
        .await;
        assert_eq!(changed.status(), 200);
        assert_eq!(
            call(
                &server,
                reqwest::Method::GET,
                "/api/v1/audit",
                aud_token,
                None
            )
            .await
            .status(),
            200,
            "same token, new permission"
        );
        problem(
            call(
                &server,
                reqwest::Method::PATCH,
                &format!("/api/v1/roles/{role_id}"),
                t,
                Some(json!({"name": "X", "version": 1})),
            )
            .await,
            412,
        )
        .await;
        let bad = call(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/v1/roles/{role_id}"),
            t,
            Some(json!({"permissions": ["audit:reed"], "version": 2})),
        )
        .await;
        assert_eq!(
            problem(bad, 422).await["errors"][0]["field"],
            "permissions[0]"
        );
        let roles: Value = call(&server, reqwest::Method::GET, "/api/v1/roles", t, None)
            .await
            .json()
            .await
            .expect("json");
        let admin_id = roles["data"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["name"] == "Admin")
            .expect("admin")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        problem(
            call(
                &server,
                reqwest::Method::PATCH,
                &format!("/api/v1/roles/{admin_id}"),
                t,
                Some(json!({"name": "Boss", "version": 1})),
            )
            .await,
            409,
        )
        .await;
    }
);
