//! The attachment store: where attachment bytes live, behind the `object_store` crate's
//! one trait. Two kinds:
//!
//! - **local** (default): a folder, laid out `<dir>/<org_id>/<attachment_id>`;
//! - **s3**: a bucket on any S3-compatible server (AWS, MinIO, Ceph, ...), laid out
//!   `[<prefix>/]<org_id>/<attachment_id>`, addressed path-style (what MinIO-like servers
//!   expect), with credentials from the settings or the standard `AWS_*` variables.
//!
//! The store is opened on first use, so a server with an unreachable or misconfigured
//! store still starts; every failure is a [`StoreError::Unavailable`] (a 503 problem),
//! and a missing object is [`StoreError::NotFound`] (a 404).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::sync::OnceCell;

/// Default region for the S3 store (what most S3-compatible servers accept).
pub const DEFAULT_S3_REGION: &str = "us-east-1";

/// How to reach an S3-compatible bucket.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// Bucket name (required).
    pub bucket: String,
    /// Key prefix inside the bucket (`helpdesk/attachments`), without slashes at the ends.
    pub prefix: Option<String>,
    /// Endpoint URL for non-AWS servers (`http://127.0.0.1:9000`); `None` means AWS.
    /// An `http://` endpoint allows plain HTTP.
    pub endpoint: Option<String>,
    /// Region (default `us-east-1`).
    pub region: Option<String>,
    /// Access key id; `None` falls back to `AWS_ACCESS_KEY_ID` and the AWS credential chain.
    pub access_key_id: Option<String>,
    /// Secret access key; `None` falls back to `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "***"))
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// Which store holds the attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSettings {
    /// A local folder.
    Local(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Settings),
}

/// A store failure as the service sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object under that key.
    #[error("object not found: {0}")]
    NotFound(String),
    /// The store could not be reached or refused the request; the reason is for the log.
    #[error("attachment store unavailable: {0}")]
    Unavailable(String),
}

impl From<object_store::Error> for StoreError {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { path, .. } => StoreError::NotFound(path),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// The attachment store: opened lazily, shared by clones of the service.
#[derive(Clone)]
pub struct AttachmentStore {
    settings: StoreSettings,
    opened: Arc<OnceCell<Arc<dyn ObjectStore>>>,
}

impl std::fmt::Debug for AttachmentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentStore")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AttachmentStore {
    /// A store for `settings`; nothing is touched until the first call.
    pub fn new(settings: StoreSettings) -> Self {
        install_tls_provider();
        Self {
            settings,
            opened: Arc::new(OnceCell::new()),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// Checks the settings without contacting the store (for start-up validation): the
    /// bucket is named and the S3 client can be built from them.
    pub fn check(settings: &StoreSettings) -> Result<(), String> {
        match settings {
            StoreSettings::Local(_) => Ok(()),
            StoreSettings::S3(s3) => build_s3(s3).map(|_| ()),
        }
    }

    async fn inner(&self) -> Result<&Arc<dyn ObjectStore>, StoreError> {
        self.opened
            .get_or_try_init(|| async {
                let store: Arc<dyn ObjectStore> = match &self.settings {
                    StoreSettings::Local(dir) => {
                        tokio::fs::create_dir_all(dir).await.map_err(|e| {
                            StoreError::Unavailable(format!("{}: {e}", dir.display()))
                        })?;
                        Arc::new(
                            LocalFileSystem::new_with_prefix(dir)
                                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
                        )
                    }
                    StoreSettings::S3(s3) => {
                        Arc::new(build_s3(s3).map_err(StoreError::Unavailable)?)
                    }
                };
                Ok(store)
            })
            .await
    }

    /// Where `key` (`<org>/<id>`) lives in the store.
    fn location(&self, key: &str) -> ObjectPath {
        match &self.settings {
            StoreSettings::S3(S3Settings {
                prefix: Some(prefix),
                ..
            }) => ObjectPath::from(format!("{prefix}/{key}")),
            _ => ObjectPath::from(key),
        }
    }

    /// The full object key of `key` (with the S3 prefix), for logs and tests.
    pub fn object_key(&self, key: &str) -> String {
        self.location(key).to_string()
    }

    /// Stores `bytes` under `key`, atomically (all or nothing). Every failure is
    /// `Unavailable`, a missing bucket included.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let store = self.inner().await?;
        store
            .put(&self.location(key), PutPayload::from(bytes))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Streams the object under `key`. The store is asked before this returns, so a
    /// missing object or an unreachable store is an error here, not a cut-off body.
    pub async fn get(&self, key: &str) -> Result<Body, StoreError> {
        let store = self.inner().await?;
        let found = store.get(&self.location(key)).await?;
        Ok(Body::from_stream(found.into_stream()))
    }

    /// Removes the object under `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let store = self.inner().await?;
        match store.delete(&self.location(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

/// Builds the S3 client. Retries are few and short, so a store that is down turns into a
/// 503 within seconds instead of holding the request for minutes.
fn build_s3(s3: &S3Settings) -> Result<object_store::aws::AmazonS3, String> {
    if s3.bucket.trim().is_empty() {
        return Err("the S3 store needs a bucket".to_owned());
    }
    install_tls_provider();
    // The standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    // AWS_SESSION_TOKEN, ...) fill whatever the settings leave open.
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&s3.bucket)
        .with_region(s3.region.as_deref().unwrap_or(DEFAULT_S3_REGION))
        .with_virtual_hosted_style_request(false)
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(5))
                .with_timeout(Duration::from_secs(60))
                .with_allow_http(
                    s3.endpoint
                        .as_deref()
                        .is_some_and(|e| e.starts_with("http://")),
                ),
        )
        .with_retry(RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
            ..RetryConfig::default()
        });
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(key) = &s3.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &s3.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Installs `ring` as the process-wide rustls crypto provider, which every reqwest client
/// in the process needs (reqwest is built with `rustls-no-provider`, so building a client
/// without one panics). [`AttachmentStore::new`] calls it; installing twice is harmless
/// (the first provider stays).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_keeps_the_layout() {
        let dir = std::env::temp_dir().join(format!("meridian-store-{}", uuid::Uuid::now_v7()));
        let store = AttachmentStore::new(StoreSettings::Local(dir.clone()));
        store
            .put("org/file", Bytes::from_static(b"hello"))
            .await
            .expect("put");
        assert_eq!(
            std::fs::read(dir.join("org").join("file")).expect("on disk"),
            b"hello"
        );
        let body = store.get("org/file").await.expect("get");
        let bytes = axum::body::to_bytes(body, 100).await.expect("bytes");
        assert_eq!(bytes.as_ref(), b"hello");
        assert!(matches!(
            store.get("org/missing").await,
            Err(StoreError::NotFound(_))
        ));
        store.delete("org/file").await.expect("delete");
        store.delete("org/file").await.expect("delete twice");
        assert!(!dir.join("org").join("file").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn s3_settings_are_checked_and_secrets_hidden() {
        let s3 = S3Settings {
            bucket: "files".to_owned(),
            prefix: Some("helpdesk".to_owned()),
            endpoint: Some("http://127.0.0.1:9".to_owned()),
            access_key_id: Some("AKIA".to_owned()),
            secret_access_key: Some("very-secret".to_owned()),
            ..S3Settings::default()
        };
        assert!(AttachmentStore::check(&StoreSettings::S3(s3.clone())).is_ok());
        assert!(!format!("{s3:?}").contains("very-secret"));
        let store = AttachmentStore::new(StoreSettings::S3(s3));
        assert_eq!(store.object_key("org/id"), "helpdesk/org/id");
        let nameless = S3Settings::default();
        assert!(AttachmentStore::check(&StoreSettings::S3(nameless)).is_err());
    }
}
