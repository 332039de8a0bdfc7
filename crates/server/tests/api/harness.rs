//! The one HTTP test harness: boots the real server (the same router, middleware and
//! background dispatcher `meridian serve` runs) on a random port against a fresh SQLite
//! file or a fresh PostgreSQL database.

use std::sync::Arc;

use axum::Router;
use identity::IdentitySettings;
use kernel::testing::TestDatabase;
use kernel::{Backend, SharedClock, SystemClock};
use server::http::{AppState, HttpSettings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server for one test.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client without redirects or decompression, so tests see the raw responses.
    pub client: reqwest::Client,
    /// The database behind the server.
    pub database: TestDatabase,
    /// The identity service the server runs (to create organisations, as `meridian init` does).
    pub identity: identity::Identity,
    /// The helpdesk service the server runs (tests call its SLA scan directly).
    pub helpdesk: helpdesk::Helpdesk,
    /// The attachment store of this server, removed at the end of the test.
    _attachments: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Boots the server with custom HTTP settings and extra routes (slow or panicking
    /// handlers for tests), which get the same middleware as every real route.
    pub async fn start_with(
        backend: Backend,
        http: HttpSettings,
        extra: Option<Router<AppState>>,
    ) -> Option<Self> {
        Self::start_full(
            backend,
            http,
            extra,
            Arc::new(SystemClock),
            IdentitySettings::default(),
        )
        .await
    }

    /// Boots the server with every knob: HTTP settings, extra routes, the clock and the
    /// sign-in rules.
    pub async fn start_full(
        backend: Backend,
        http: HttpSettings,
        extra: Option<Router<AppState>>,
        clock: SharedClock,
        identity: IdentitySettings,
    ) -> Option<Self> {
        Self::start_helpdesk(backend, http, extra, clock, identity, None).await
    }

    /// Boots the server with every knob, and helpdesk settings of the test's own (an S3
    /// attachment store); `None` keeps the default: a fresh folder and a 64 KiB limit.
    pub async fn start_helpdesk(
        backend: Backend,
        http: HttpSettings,
        extra: Option<Router<AppState>>,
        clock: SharedClock,
        identity: IdentitySettings,
        helpdesk: Option<helpdesk::HelpdeskSettings>,
    ) -> Option<Self> {
        let database = TestDatabase::fresh(backend, &server::MODULES).await?;
        let keys = server::keys::KeyFile::generate()
            .expect("random keys")
            .to_keys()
            .expect("generated keys are valid");
        let attachments = tempfile::tempdir().expect("attachment folder");
        let helpdesk_settings = helpdesk.unwrap_or_else(|| helpdesk::HelpdeskSettings {
            attachments_dir: attachments.path().to_path_buf(),
            // Small, so the size limit is cheap to test.
            max_attachment_bytes: 64 * 1024,
            ..helpdesk::HelpdeskSettings::default()
        });
        let state = AppState::new(database.db.clone(), clock, http, keys, identity)
            .with_helpdesk_settings(helpdesk_settings);
        let identity = state.identity.clone();
        let helpdesk = state.helpdesk.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a random port");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::http::serve(listener, state, extra, async move {
            let _ = stopped.await;
        }));
        // reqwest is built without a default TLS provider (the S3 store installs ring).
        helpdesk::store::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Some(Self {
            base,
            client,
            database,
            identity,
            helpdesk,
            _attachments: attachments,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Asks the server to shut down gracefully and waits until it has.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts `response` is a problem with `status` and returns its JSON.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:meridian:problem:"))
    );
    assert!(body["title"].is_string());
    assert!(
        body["request_id"].is_string(),
        "problem carries the request id: {body}"
    );
    body
}

/// Declares an HTTP test run against a fresh server on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! http_test {
    ($name:ident, |$server:ident| $body:block) => {
        $crate::http_test!(
            $name,
            server::http::HttpSettings::default(),
            None,
            |$server| $body
        );
    };
    ($name:ident, $settings:expr, $extra:expr, |$server:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $server = $crate::harness::TestServer::start_with(
                    kernel::Backend::Sqlite,
                    $settings,
                    $extra,
                )
                .await
                .expect("SQLite is always available");
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($server) = $crate::harness::TestServer::start_with(
                    kernel::Backend::Postgres,
                    $settings,
                    $extra,
                )
                .await
                else {
                    return;
                };
                $body
            }
        }
    };
}
