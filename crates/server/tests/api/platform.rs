//! The platform conventions every module inherits: probes, problems, limits, headers,
//! request ids, metrics, OpenAPI, web assets, events, shutdown.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use kernel::ApiJson;
use server::http::{AppState, HttpSettings};

use crate::harness::problem;
use crate::http_test;

#[derive(serde::Deserialize, serde::Serialize)]
struct Echo {
    name: String,
    qty: u32,
}

/// Routes that misbehave on purpose, mounted behind the real middleware.
fn test_routes() -> Option<Router<AppState>> {
    Some(
        Router::new()
            .route(
                "/api/v1/test/echo",
                post(|ApiJson(echo): ApiJson<Echo>| async move { axum::Json(echo) }),
            )
            .route(
                "/api/v1/test/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "done"
                }),
            )
            .route(
                "/api/v1/test/panic",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            ),
    )
}

fn small_limits() -> HttpSettings {
    HttpSettings {
        body_limit: 1024,
        request_timeout: Duration::from_millis(200),
        ..HttpSettings::default()
    }
}

http_test!(health_and_ready, |server| {
    let health = server.get("/health").await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    let ready = server.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], server.database.db.backend().name());

    // The database goes away: readiness says so, liveness does not care.
    server.database.db.close().await;
    let body = problem(server.get("/ready").await, 503).await;
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(server.get("/health").await.status(), 200);
});

http_test!(
    every_error_is_a_problem,
    small_limits(),
    test_routes(),
    |server| {
        let body = problem(server.get("/api/v1/no-such-thing").await, 404).await;
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["instance"], "/api/v1/no-such-thing");

        let body = problem(
            server
                .client
                .delete(server.url("/health"))
                .send()
                .await
                .expect("send"),
            405,
        )
        .await;
        assert_eq!(body["code"], "method_not_allowed");

        let post = |body: &'static str, content_type: &'static str| {
            server
                .client
                .post(server.url("/api/v1/test/echo"))
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let ok = post(r#"{"name":"widget","qty":3}"#, "application/json")
            .await
            .expect("send");
        assert_eq!(ok.status(), 200);

        let body = problem(
            post("{\"name\": ", "application/json").await.expect("send"),
            400,
        )
        .await;
        assert_eq!(body["code"], "malformed_json");

        let body = problem(
            post(r#"{"name":"w","qty":-1}"#, "application/json")
                .await
                .expect("send"),
            422,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "qty");

        let body = problem(
            post(r#"{"name":"w","qty":1}"#, "text/plain")
                .await
                .expect("send"),
            415,
        )
        .await;
        assert_eq!(body["code"], "unsupported_media_type");

        let big = format!(r#"{{"name":"{}","qty":1}}"#, "x".repeat(4096));
        let response = server
            .client
            .post(server.url("/api/v1/test/echo"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .expect("send");
        let body = problem(response, 413).await;
        assert_eq!(body["code"], "payload_too_large");

        let body = problem(server.get("/api/v1/test/slow").await, 503).await;
        assert_eq!(body["code"], "timeout");
    }
);

http_test!(
    a_panic_is_a_500_and_the_server_lives_on,
    HttpSettings::default(),
    test_routes(),
    |server| {
        let body = problem(server.get("/api/v1/test/panic").await, 500).await;
        assert_eq!(body["code"], "internal");
        assert!(
            !body["detail"].as_str().unwrap_or("").contains("boom"),
            "panic text is not shown"
        );
        assert_eq!(server.get("/health").await.status(), 200);
    }
);

http_test!(request_ids_and_security_headers, |server| {
    let given = server
        .client
        .get(server.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("send");
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");

    let generated = server.get("/api/v1/nothing").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID was generated: {id}");
    let headers = generated.headers().clone();
    let body = problem(generated, 404).await;
    assert_eq!(body["request_id"], id.as_str());

    for header in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(headers.contains_key(header), "{header} missing");
    }
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
});

http_test!(responses_are_compressed, |server| {
    for encoding in ["gzip", "br"] {
        let response = server
            .client
            .get(server.url("/api/v1/openapi.json"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
    }
});

http_test!(metrics_by_route_method_status, |server| {
    assert_eq!(server.get("/health").await.status(), 200);
    assert_eq!(server.get("/api/v1/missing").await.status(), 404);
    let text = server.get("/metrics").await.text().await.expect("text");
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health",status="200"}"#),
        "{text}"
    );
    assert!(text.contains(r#"route="fallback",status="404""#));
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    assert!(text.contains(r#"db_pool_connections{state="in_use""#));
    assert!(text.contains(r#"db_pool_connections{state="idle""#));
    assert!(text.contains(&format!(
        r#"meridian_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    )));
});

http_test!(openapi_and_offline_docs, |server| {
    let doc: serde_json::Value = server
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in ["/health", "/ready", "/metrics"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let docs = server.get("/api/docs/").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger"), "docs page is Swagger UI");
    // The page's scripts come from the binary, not a CDN.
    assert!(!html.contains("https://"), "no external resources: {html}");
    let bundle = server.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
});

http_test!(web_app_with_client_side_routes, |server| {
    let index = server.get("/").await;
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    // When the web app has been built (bin/test builds it before the Rust tests), the binary
    // serves it, not the "not built" page.
    let built = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist/index.html");
    if let Ok(expected) = std::fs::read_to_string(built) {
        assert_eq!(
            index.text().await.expect("html"),
            expected,
            "the embedded web app is served"
        );
    }
    let deep = server.get("/crm/deals/42").await;
    assert_eq!(deep.status(), 200, "client routes fall back to the app");
    assert!(
        deep.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    problem(server.get("/no-such-file.js").await, 404).await;
    problem(
        server
            .client
            .post(server.url("/crm"))
            .send()
            .await
            .expect("send"),
        405,
    )
    .await;
});

http_test!(committed_events_reach_subscribers, |server| {
    use kernel::events::{self, NewEvent};
    let db = &server.database.db;
    let clock: kernel::SharedClock = std::sync::Arc::new(kernel::SystemClock);
    let mut tx = db.begin().await.expect("begin");
    events::record(
        &mut tx,
        &clock,
        NewEvent {
            event_type: "system.tested".to_owned(),
            org_id: uuid::Uuid::nil(),
            actor: None,
            record_type: "system".to_owned(),
            record_id: uuid::Uuid::now_v7(),
            data: serde_json::json!({}),
        },
    )
    .await
    .expect("record");
    tx.commit().await.expect("commit");
    let mut delivered = 0i64;
    for _ in 0..100 {
        delivered = kernel::on_pool!(db, |p| sqlx::query_scalar(
            "SELECT count(*) FROM outbox_deliveries WHERE subscriber = 'event-log'"
        )
        .fetch_one(p)
        .await)
        .expect("count");
        if delivered == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        delivered, 1,
        "the running server's dispatcher delivered the event"
    );
});

http_test!(
    graceful_shutdown_finishes_in_flight_requests,
    HttpSettings::default(),
    test_routes(),
    |server| {
        let url = server.url("/api/v1/test/slow");
        let client = server.client.clone();
        let in_flight = tokio::spawn(async move { client.get(url).send().await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let base = server.base.clone();
        server.stop().await.expect("clean stop");
        let response = in_flight
            .await
            .expect("join")
            .expect("in-flight request completed");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "done");
        assert!(
            reqwest::get(format!("{base}/health")).await.is_err(),
            "no longer listening"
        );
    }
);

#[test]
fn committed_openapi_document_is_current() {
    let generated = server::http::openapi::document()
        .to_pretty_json()
        .expect("render");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../web/src/api/openapi.json"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim() == generated.trim(),
        "web/src/api/openapi.json is stale: run `meridian openapi > web/src/api/openapi.json`"
    );
}
