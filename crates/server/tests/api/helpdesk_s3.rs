//! Helpdesk attachments in an S3-compatible bucket, against a real S3 server process
//! (`moto_server`, installed by bin/setup): upload, download, the object under the org's
//! prefix in the bucket, another organisation's download → 404, a malformed upload
//! refused without writing anything, a vanished object → 404, and the store down → 503
//! with no metadata row left behind.
//!
//! Outside CI a machine without `moto_server` skips these tests with a loud message;
//! under `CI=true` not being able to start it fails them.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use identity::IdentitySettings;
use kernel::{Backend, SystemClock};
use reqwest::Method;
use serde_json::Value;
use server::http::HttpSettings;

use crate::harness::{TestServer, problem};
use crate::identity::{call, org};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR s3";
const BUCKET: &str = "meridian-attachments";
const PREFIX: &str = "helpdesk/files";

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Where `moto_server` is: `$MERIDIAN_MOTO_SERVER`, then PATH, then the virtualenv
/// bin/setup creates when the system Python refuses packages.
fn moto_command() -> Option<String> {
    if let Ok(path) = std::env::var("MERIDIAN_MOTO_SERVER") {
        return Some(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|candidate| candidate.is_file())
    });
    let venv = std::env::var_os("HOME")
        .map(|home| std::path::PathBuf::from(home).join(".cache/meridian/moto/bin/moto_server"));
    on_path
        .or(venv.filter(|p| p.is_file()))
        .map(|p| p.display().to_string())
}

/// A running `moto_server` on a free port, killed on drop.
struct S3Server {
    endpoint: String,
    child: Child,
    http: reqwest::Client,
}

impl S3Server {
    /// Starts the server and waits until it answers; `None` (skip) outside CI when it
    /// cannot, a panic under CI.
    async fn start() -> Option<Self> {
        let fail = |why: String| {
            if under_ci() {
                panic!("S3 test server: {why} (CI=true; bin/setup installs moto[server])");
            }
            eprintln!(
                "\n!!! SKIPPING an S3 attachment test: {why}. Run bin/setup (it installs \
                 moto[server]) or set MERIDIAN_MOTO_SERVER. Under CI=true this fails. !!!\n"
            );
        };
        let Some(command) = moto_command() else {
            fail("moto_server is not installed".to_owned());
            return None;
        };
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("addr").port()
        };
        let child = match Command::new(&command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                fail(format!("cannot run {command}: {e}"));
                return None;
            }
        };
        // This process's reqwest clients need the TLS provider the store installs.
        helpdesk::store::install_tls_provider();
        let mut server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.http.get(&server.endpoint).send().await.is_ok() {
                return Some(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                fail(format!("{command} exited at start: {status}"));
                return None;
            }
            if Instant::now() > deadline {
                fail(format!("{command} did not answer within 30 s"));
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn create_bucket(&self, bucket: &str) {
        let response = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(
            response.status().is_success(),
            "create bucket: {response:?}"
        );
    }

    /// The keys in `bucket` starting with `prefix`, straight from the S3 API.
    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let response = self
            .http
            .get(format!(
                "{}/{bucket}?list-type=2&prefix={prefix}",
                self.endpoint
            ))
            .send()
            .await
            .expect("list objects");
        assert!(response.status().is_success(), "list: {response:?}");
        let xml = response.text().await.expect("listing");
        xml.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn s3_settings(endpoint: &str) -> helpdesk::HelpdeskSettings {
    helpdesk::HelpdeskSettings {
        attachments_s3: Some(helpdesk::S3Settings {
            bucket: BUCKET.to_owned(),
            prefix: Some(PREFIX.to_owned()),
            endpoint: Some(endpoint.to_owned()),
            region: Some("us-east-1".to_owned()),
            // moto accepts any credentials; giving them keeps the client off the
            // instance-metadata credential chain.
            access_key_id: Some("meridian-test".to_owned()),
            secret_access_key: Some("meridian-test-secret".to_owned()),
        }),
        max_attachment_bytes: 64 * 1024,
        ..helpdesk::HelpdeskSettings::default()
    }
}

async fn boot(backend: Backend, endpoint: &str) -> Option<TestServer> {
    TestServer::start_helpdesk(
        backend,
        HttpSettings::default(),
        None,
        Arc::new(SystemClock),
        IdentitySettings::default(),
        Some(s3_settings(endpoint)),
    )
    .await
}

async fn upload(
    server: &TestServer,
    token: &str,
    ticket_id: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> reqwest::Response {
    server
        .client
        .post(server.url(&format!(
            "/api/v1/tickets/{ticket_id}/attachments?filename={filename}"
        )))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("send")
}

async fn new_ticket(server: &TestServer, token: &str) -> String {
    let response = call(
        server,
        Method::POST,
        "/api/v1/tickets",
        token,
        Some(serde_json::json!({
            "subject": "Pump photo", "description": "see attached",
            "type": "Incident", "priority": "High"
        })),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    body["data"]["id"].as_str().expect("id").to_owned()
}

async fn attachment_count(server: &TestServer, token: &str, ticket_id: &str) -> usize {
    let response = call(
        server,
        Method::GET,
        &format!("/api/v1/tickets/{ticket_id}/attachments"),
        token,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["data"].as_array().map(Vec::len).expect("list")
}

async fn s3_round_trip(backend: Backend) {
    let Some(mut s3) = S3Server::start().await else {
        return;
    };
    s3.create_bucket(BUCKET).await;
    let Some(server) = boot(backend, &s3.endpoint).await else {
        return;
    };
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let globex = org(&server, "Globex", "admin@globex.test").await;
    let t = &acme.admin_token;
    let ticket = new_ticket(&server, t).await;

    // Upload, then the object is in the bucket under <prefix>/<org>/<id>.
    let uploaded = upload(&server, t, &ticket, "pump.png", "image/png", PNG).await;
    assert_eq!(uploaded.status(), 201);
    let body: Value = uploaded.json().await.expect("json");
    let id = body["data"]["id"].as_str().expect("id").to_owned();
    let key = format!("{PREFIX}/{}/{id}", acme.id);
    assert_eq!(
        s3.keys(BUCKET, &format!("{PREFIX}/{}/", acme.id)).await,
        vec![key.clone()]
    );
    // Read back with a signed request (moto refuses anonymous object reads).
    let direct = helpdesk::AttachmentStore::new(helpdesk::StoreSettings::S3(
        s3_settings(&s3.endpoint).attachments_s3.expect("s3"),
    ));
    let stored = direct
        .get(&format!("{}/{id}", acme.id))
        .await
        .expect("object in the bucket");
    assert_eq!(
        axum::body::to_bytes(stored, 1024)
            .await
            .expect("bytes")
            .as_ref(),
        PNG
    );

    // Download through the API.
    let download = call(
        &server,
        Method::GET,
        &format!("/api/v1/attachments/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), PNG);

    // Another organisation cannot download it, nor upload to the ticket.
    let theirs = &globex.admin_token;
    problem(
        call(
            &server,
            Method::GET,
            &format!("/api/v1/attachments/{id}"),
            theirs,
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        upload(&server, theirs, &ticket, "x.png", "image/png", PNG).await,
        404,
    )
    .await;

    // A malformed upload is refused and writes nothing to the bucket.
    let disguised = upload(&server, t, &ticket, "shot.png", "image/png", b"<script>").await;
    assert_eq!(problem(disguised, 422).await["errors"][0]["field"], "file");
    let wrong_type = upload(
        &server,
        t,
        &ticket,
        "a.exe",
        "application/x-msdownload",
        b"MZ",
    )
    .await;
    problem(wrong_type, 415).await;
    assert_eq!(s3.keys(BUCKET, PREFIX).await.len(), 1);
    assert_eq!(attachment_count(&server, t, &ticket).await, 1);

    // An object gone from the bucket is a 404 problem, not a 500.
    let second = upload(&server, t, &ticket, "notes.txt", "text/plain", b"gone soon").await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.expect("json");
    let second_id = second["data"]["id"].as_str().expect("id").to_owned();
    direct
        .delete(&format!("{}/{second_id}", acme.id))
        .await
        .expect("delete the object behind the API's back");
    assert_eq!(s3.keys(BUCKET, PREFIX).await.len(), 1);
    problem(
        call(
            &server,
            Method::GET,
            &format!("/api/v1/attachments/{second_id}"),
            t,
            None,
        )
        .await,
        404,
    )
    .await;

    // The store goes down: uploads and downloads are 503 problems without internals, and
    // a failed upload leaves no metadata row.
    s3.stop();
    let before = attachment_count(&server, t, &ticket).await;
    let down = problem(
        upload(&server, t, &ticket, "late.png", "image/png", PNG).await,
        503,
    )
    .await;
    let detail = down["detail"].as_str().unwrap_or_default();
    assert!(!detail.contains("127.0.0.1"), "no internals: {down}");
    assert!(!detail.contains(BUCKET), "no internals: {down}");
    assert_eq!(attachment_count(&server, t, &ticket).await, before);
    problem(
        call(
            &server,
            Method::GET,
            &format!("/api/v1/attachments/{id}"),
            t,
            None,
        )
        .await,
        503,
    )
    .await;
}

mod helpdesk_s3_attachments {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        s3_round_trip(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        s3_round_trip(Backend::Postgres).await;
    }
}

/// A bucket that does not exist behaves like a store that is down: 503, nothing kept.
async fn missing_bucket(backend: Backend) {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let Some(server) = boot(backend, &s3.endpoint).await else {
        return;
    };
    let acme = org(&server, "Acme", "admin@acme.test").await;
    let t = &acme.admin_token;
    let ticket = new_ticket(&server, t).await;
    problem(
        upload(&server, t, &ticket, "pump.png", "image/png", PNG).await,
        503,
    )
    .await;
    assert_eq!(attachment_count(&server, t, &ticket).await, 0);
}

mod helpdesk_s3_missing_bucket {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        missing_bucket(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        missing_bucket(Backend::Postgres).await;
    }
}
