//! Configuration: command-line flags > environment variables > `meridian.toml` > defaults.
//!
//! Flags and environment variables are read by clap (each flag names its variable); this
//! module fills what they left unset from the TOML file and then from the defaults, and
//! validates the result. Every bad value is reported as one line naming the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Default database: an SQLite file under `./data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/meridian.db";
/// Default request body limit (2 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Default handler timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default sustained requests per second per caller.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 100;
/// Default burst per caller.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 200;
/// Default PostgreSQL pool size.
pub const DEFAULT_PG_POOL: u32 = 16;
/// Default SQLite pool size (readers in parallel under WAL; writes queue on one lock).
pub const DEFAULT_SQLITE_POOL: u32 = 8;

/// A setting that could not be used; `Display` is the one-line message shown at start.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct ConfigError {
    /// The setting, as the user would write it (`--addr / MERIDIAN_ADDR / addr`).
    pub setting: String,
    /// Why it was refused.
    pub reason: String,
}

impl ConfigError {
    fn new(setting: &str, reason: impl Into<String>) -> Self {
        Self {
            setting: setting.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The optional `meridian.toml`; every key is optional and unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Listen address.
    pub addr: Option<String>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Pool size.
    pub db_max_connections: Option<u32>,
    /// Body limit (`2MiB`, `512KiB`, bytes).
    pub body_limit: Option<String>,
    /// Handler timeout (`30s`, `500ms`, `2m`).
    pub request_timeout: Option<String>,
    /// `text` or `json`.
    pub log_format: Option<LogFormat>,
    /// Log filter (`info`, `meridian=debug,sqlx=warn`).
    pub log: Option<String>,
    /// Serve the web UI from this folder instead of the embedded build.
    pub web_dir: Option<PathBuf>,
    /// Requests per second per caller.
    pub rate_limit: Option<u32>,
    /// Burst per caller.
    pub rate_limit_burst: Option<u32>,
    /// Folder of the helpdesk's attachment store.
    pub attachments_dir: Option<PathBuf>,
    /// Largest helpdesk attachment (`10MiB`, bytes).
    pub attachment_limit: Option<String>,
    /// Where attachments are kept: `local` (the folder) or `s3`.
    pub attachments_store: Option<String>,
    /// Bucket of the S3 attachment store.
    pub attachments_s3_bucket: Option<String>,
    /// Key prefix inside the bucket.
    pub attachments_s3_prefix: Option<String>,
    /// Endpoint URL of an S3-compatible server (`http://127.0.0.1:9000`).
    pub attachments_s3_endpoint: Option<String>,
    /// Region of the bucket (default `us-east-1`).
    pub attachments_s3_region: Option<String>,
    /// Folder of sales files (`.csv`, `.xlsx`) that `serve` imports on a schedule.
    pub sales_watch_dir: Option<PathBuf>,
    /// Organisation (id or slug) the watched sales files belong to.
    pub sales_watch_org: Option<String>,
    /// Time between scans of the watched folder (`5m`, `30s`; default 1m).
    pub sales_watch_interval: Option<String>,
    /// Column mapping of the watched files (default `sheet6`).
    pub sales_watch_mapping: Option<String>,
}

/// Loads the TOML file. An explicitly named file must exist; the default
/// `./meridian.toml` is optional.
pub fn load_file(path: Option<&Path>) -> Result<FileSettings, ConfigError> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("meridian.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(FileSettings::default());
        }
        Err(e) => {
            return Err(ConfigError::new(
                "--config / MERIDIAN_CONFIG",
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    toml::from_str(&text).map_err(|e| {
        let message = e.message().to_owned();
        ConfigError::new(&path.display().to_string(), message)
    })
}

/// Parses a size: bytes, or a number with `KiB`/`MiB`/`GiB` (also `KB`/`MB`/`GB`, read as
/// binary units).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 2MiB or 1048576"))?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown size unit `{other}` (use KiB, MiB, GiB)")),
    };
    match n.checked_mul(factor) {
        Some(0) => Err("must be greater than zero".to_owned()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

/// Parses a duration: `30s`, `500ms`, `2m`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 30s or 500ms"))?;
    let duration = match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        other => return Err(format!("unknown duration unit `{other}` (use ms, s, m, h)")),
    };
    if duration.is_zero() {
        return Err("must be greater than zero".to_owned());
    }
    Ok(duration)
}

/// Resolves the listen address.
pub fn resolve_addr(flag: Option<&str>, file: &FileSettings) -> Result<SocketAddr, ConfigError> {
    let text = flag.or(file.addr.as_deref()).unwrap_or(DEFAULT_ADDR);
    text.parse().map_err(|_| {
        ConfigError::new(
            "--addr / MERIDIAN_ADDR / addr",
            format!("`{text}` is not an address like 127.0.0.1:8080"),
        )
    })
}

/// Resolves the database URL and checks its scheme.
pub fn resolve_database_url(
    flag: Option<&str>,
    file: &FileSettings,
) -> Result<String, ConfigError> {
    let url = flag
        .or(file.database_url.as_deref())
        .unwrap_or(DEFAULT_DATABASE_URL)
        .to_owned();
    let known = ["sqlite:", "postgres:", "postgresql:"];
    if known.iter().any(|scheme| url.starts_with(scheme)) {
        Ok(url)
    } else {
        Err(ConfigError::new(
            "--database-url / DATABASE_URL / database_url",
            format!(
                "`{}` is not a sqlite:// or postgres:// URL",
                kernel::db::redact_url(&url)
            ),
        ))
    }
}

/// Resolves the pool settings for `database_url`.
pub fn resolve_pool(
    flag: Option<u32>,
    file: &FileSettings,
    database_url: &str,
) -> Result<kernel::db::PoolSettings, ConfigError> {
    let chosen = flag.or(file.db_max_connections);
    if chosen == Some(0) {
        return Err(ConfigError::new(
            "--db-max-connections / MERIDIAN_DB_MAX_CONNECTIONS / db_max_connections",
            "must be at least 1",
        ));
    }
    let mut pool = kernel::db::PoolSettings::default();
    if database_url.starts_with("sqlite:") {
        pool.sqlite_max_connections = chosen.unwrap_or(DEFAULT_SQLITE_POOL);
    } else {
        pool.postgres_max_connections = chosen.unwrap_or(DEFAULT_PG_POOL);
    }
    Ok(pool)
}

/// Resolves the body limit in bytes.
pub fn resolve_body_limit(flag: Option<&str>, file: &FileSettings) -> Result<usize, ConfigError> {
    match flag.or(file.body_limit.as_deref()) {
        None => Ok(DEFAULT_BODY_LIMIT),
        Some(text) => parse_size(text)
            .map_err(|e| ConfigError::new("--body-limit / MERIDIAN_BODY_LIMIT / body_limit", e)),
    }
}

/// Resolves the handler timeout.
pub fn resolve_request_timeout(
    flag: Option<&str>,
    file: &FileSettings,
) -> Result<Duration, ConfigError> {
    match flag.or(file.request_timeout.as_deref()) {
        None => Ok(DEFAULT_REQUEST_TIMEOUT),
        Some(text) => parse_duration(text).map_err(|e| {
            ConfigError::new(
                "--request-timeout / MERIDIAN_REQUEST_TIMEOUT / request_timeout",
                e,
            )
        }),
    }
}

/// Resolves a positive number setting.
pub fn resolve_positive(
    flag: Option<u32>,
    file: Option<u32>,
    default: u32,
    setting: &str,
) -> Result<u32, ConfigError> {
    match flag.or(file).unwrap_or(default) {
        0 => Err(ConfigError::new(setting, "must be at least 1")),
        n => Ok(n),
    }
}

/// Resolves the folder to serve the web UI from, if any; it must contain `index.html`.
pub fn resolve_web_dir(
    flag: Option<&Path>,
    file: &FileSettings,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = flag.map(Path::to_path_buf).or_else(|| file.web_dir.clone()) else {
        return Ok(None);
    };
    if dir.join("index.html").is_file() {
        Ok(Some(dir))
    } else {
        Err(ConfigError::new(
            "--web-dir / MERIDIAN_WEB_DIR / web_dir",
            format!("{} has no index.html", dir.display()),
        ))
    }
}

/// Default time between scans of the sales watch folder.
pub const DEFAULT_SALES_WATCH_INTERVAL: Duration = Duration::from_secs(60);

/// The sales watch folder as configured: folder, organisation (id or slug, resolved
/// against the database later), scan interval and mapping; `None` when no folder is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesWatch {
    /// The folder.
    pub dir: PathBuf,
    /// Organisation id or slug.
    pub org: String,
    /// Time between scans.
    pub interval: Duration,
    /// Mapping name.
    pub mapping: String,
}

/// Resolves the sales watch folder settings (flags and environment first, then the file).
pub fn resolve_sales_watch(
    dir: Option<&Path>,
    org: Option<&str>,
    interval: Option<&str>,
    file: &FileSettings,
) -> Result<Option<SalesWatch>, ConfigError> {
    let Some(dir) = dir
        .map(Path::to_path_buf)
        .or_else(|| file.sales_watch_dir.clone())
    else {
        return Ok(None);
    };
    if !dir.is_dir() {
        return Err(ConfigError::new(
            "--sales-watch-dir / MERIDIAN_SALES_WATCH_DIR / sales_watch_dir",
            format!("{} is not a folder", dir.display()),
        ));
    }
    let org = org
        .map(str::to_owned)
        .or_else(|| file.sales_watch_org.clone())
        .filter(|o| !o.trim().is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                "--sales-watch-org / MERIDIAN_SALES_WATCH_ORG / sales_watch_org",
                "a watched sales folder needs the organisation its files belong to",
            )
        })?;
    let interval = match interval.or(file.sales_watch_interval.as_deref()) {
        Some(text) => parse_duration(text).map_err(|reason| {
            ConfigError::new(
                "--sales-watch-interval / MERIDIAN_SALES_WATCH_INTERVAL / sales_watch_interval",
                reason,
            )
        })?,
        None => DEFAULT_SALES_WATCH_INTERVAL,
    };
    Ok(Some(SalesWatch {
        dir,
        org,
        interval,
        mapping: file
            .sales_watch_mapping
            .clone()
            .unwrap_or_else(|| "sheet6".to_owned()),
    }))
}

/// The attachment settings given as flags or environment variables (clap fills them).
#[derive(Debug, Default, Clone)]
pub struct AttachmentFlags {
    /// `--attachments-dir / MERIDIAN_ATTACHMENTS_DIR`.
    pub dir: Option<PathBuf>,
    /// `--attachment-limit / MERIDIAN_ATTACHMENT_LIMIT`.
    pub limit: Option<String>,
    /// `--attachments-store / MERIDIAN_ATTACHMENTS_STORE`.
    pub store: Option<String>,
    /// `--attachments-s3-bucket / MERIDIAN_ATTACHMENTS_S3_BUCKET`.
    pub s3_bucket: Option<String>,
    /// `--attachments-s3-prefix / MERIDIAN_ATTACHMENTS_S3_PREFIX`.
    pub s3_prefix: Option<String>,
    /// `--attachments-s3-endpoint / MERIDIAN_ATTACHMENTS_S3_ENDPOINT`.
    pub s3_endpoint: Option<String>,
    /// `--attachments-s3-region / MERIDIAN_ATTACHMENTS_S3_REGION`.
    pub s3_region: Option<String>,
    /// `MERIDIAN_S3_ACCESS_KEY_ID` (environment only; `AWS_ACCESS_KEY_ID` otherwise).
    pub s3_access_key_id: Option<String>,
    /// `MERIDIAN_S3_SECRET_ACCESS_KEY` (environment only; `AWS_SECRET_ACCESS_KEY` otherwise).
    pub s3_secret_access_key: Option<String>,
}

const STORE_SETTING: &str = "--attachments-store / MERIDIAN_ATTACHMENTS_STORE / attachments_store";

/// Resolves the helpdesk settings: the attachment store (a folder or an S3-compatible
/// bucket) and the size limit.
pub fn resolve_helpdesk(
    flags: &AttachmentFlags,
    file: &FileSettings,
) -> Result<helpdesk::HelpdeskSettings, ConfigError> {
    let mut settings = helpdesk::HelpdeskSettings::default();
    if let Some(dir) = flags.dir.clone().or_else(|| file.attachments_dir.clone()) {
        settings.attachments_dir = dir;
    }
    if let Some(text) = flags.limit.as_deref().or(file.attachment_limit.as_deref()) {
        settings.max_attachment_bytes = parse_size(text).map_err(|e| {
            ConfigError::new(
                "--attachment-limit / MERIDIAN_ATTACHMENT_LIMIT / attachment_limit",
                e,
            )
        })?;
    }
    let pick = |flag: &Option<String>, file: &Option<String>| {
        flag.as_deref()
            .or(file.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let store = pick(&flags.store, &file.attachments_store).unwrap_or_else(|| "local".to_owned());
    match store.to_ascii_lowercase().as_str() {
        "local" => {}
        "s3" => {
            let bucket = pick(&flags.s3_bucket, &file.attachments_s3_bucket).ok_or_else(|| {
                ConfigError::new(
                    "--attachments-s3-bucket / MERIDIAN_ATTACHMENTS_S3_BUCKET / attachments_s3_bucket",
                    "is required when attachments_store is s3",
                )
            })?;
            let endpoint = pick(&flags.s3_endpoint, &file.attachments_s3_endpoint);
            if let Some(url) = &endpoint
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError::new(
                    "--attachments-s3-endpoint / MERIDIAN_ATTACHMENTS_S3_ENDPOINT / attachments_s3_endpoint",
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
            let prefix = pick(&flags.s3_prefix, &file.attachments_s3_prefix)
                .map(|p| p.trim_matches('/').to_owned())
                .filter(|p| !p.is_empty());
            let secret = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
            let (key, secret) = (
                secret(&flags.s3_access_key_id),
                secret(&flags.s3_secret_access_key),
            );
            if key.is_some() != secret.is_some() {
                return Err(ConfigError::new(
                    "MERIDIAN_S3_ACCESS_KEY_ID / MERIDIAN_S3_SECRET_ACCESS_KEY",
                    "give both or neither",
                ));
            }
            let s3 = helpdesk::S3Settings {
                bucket,
                prefix,
                endpoint,
                region: pick(&flags.s3_region, &file.attachments_s3_region),
                access_key_id: key,
                secret_access_key: secret,
            };
            helpdesk::AttachmentStore::check(&helpdesk::StoreSettings::S3(s3.clone()))
                .map_err(|e| ConfigError::new(STORE_SETTING, e))?;
            settings.attachments_s3 = Some(s3);
        }
        other => {
            return Err(ConfigError::new(
                STORE_SETTING,
                format!("`{other}` is not a store; use local or s3"),
            ));
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("512 KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let file = FileSettings {
            addr: Some("127.0.0.1:9000".to_owned()),
            ..FileSettings::default()
        };
        assert_eq!(
            resolve_addr(Some("0.0.0.0:1"), &file).expect("ok").port(),
            1
        );
        assert_eq!(resolve_addr(None, &file).expect("ok").port(), 9000);
        assert_eq!(
            resolve_addr(None, &FileSettings::default())
                .expect("ok")
                .port(),
            8080
        );
        let err = resolve_addr(Some("localhost"), &file).expect_err("bad");
        assert!(err.to_string().contains("--addr / MERIDIAN_ADDR"), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn database_url_scheme_is_checked_and_password_hidden() {
        let err = resolve_database_url(Some("mysql://u:pw@h/db"), &FileSettings::default())
            .expect_err("mysql");
        assert!(err.to_string().contains("DATABASE_URL"));
        assert!(!err.to_string().contains("pw"), "{err}");
        let pool = resolve_pool(Some(3), &FileSettings::default(), "postgres://x").expect("ok");
        assert_eq!(pool.postgres_max_connections, 3);
        assert!(resolve_pool(Some(0), &FileSettings::default(), "sqlite://x").is_err());
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meridian.toml");
        std::fs::write(&path, "adr = \"1.2.3.4:5\"\n").expect("write");
        let err = load_file(Some(&path)).expect_err("typo");
        assert!(err.to_string().contains("adr"), "{err}");
        std::fs::write(&path, "addr = \"127.0.0.1:9\"\nbody_limit = \"1MiB\"\n").expect("write");
        let file = load_file(Some(&path)).expect("valid");
        assert_eq!(resolve_body_limit(None, &file).expect("ok"), 1024 * 1024);
        assert!(load_file(Some(&dir.path().join("missing.toml"))).is_err());
    }

    #[test]
    fn helpdesk_settings() {
        let file = FileSettings {
            attachments_dir: Some(PathBuf::from("/srv/files")),
            attachment_limit: Some("1MiB".to_owned()),
            ..FileSettings::default()
        };
        let flags = AttachmentFlags {
            dir: Some(PathBuf::from("/flag")),
            ..AttachmentFlags::default()
        };
        let s = resolve_helpdesk(&flags, &file).expect("ok");
        assert_eq!(s.attachments_dir, PathBuf::from("/flag"));
        assert_eq!(s.max_attachment_bytes, 1024 * 1024);
        assert!(s.attachments_s3.is_none());
        let d =
            resolve_helpdesk(&AttachmentFlags::default(), &FileSettings::default()).expect("ok");
        assert_eq!(d.attachments_dir, PathBuf::from("./data/attachments"));
        let huge = AttachmentFlags {
            limit: Some("huge".to_owned()),
            ..AttachmentFlags::default()
        };
        let err = resolve_helpdesk(&huge, &file).expect_err("bad size");
        assert!(
            err.to_string().contains("MERIDIAN_ATTACHMENT_LIMIT"),
            "{err}"
        );
    }

    #[test]
    fn s3_attachment_store_settings() {
        let file = FileSettings {
            attachments_store: Some("s3".to_owned()),
            attachments_s3_bucket: Some("from-file".to_owned()),
            attachments_s3_prefix: Some("/helpdesk/files/".to_owned()),
            attachments_s3_endpoint: Some("http://127.0.0.1:9000".to_owned()),
            ..FileSettings::default()
        };
        let flags = AttachmentFlags {
            s3_bucket: Some("from-flag".to_owned()),
            s3_access_key_id: Some("key".to_owned()),
            s3_secret_access_key: Some("secret".to_owned()),
            ..AttachmentFlags::default()
        };
        let s3 = resolve_helpdesk(&flags, &file)
            .expect("ok")
            .attachments_s3
            .expect("s3 chosen");
        assert_eq!(s3.bucket, "from-flag");
        assert_eq!(s3.prefix.as_deref(), Some("helpdesk/files"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.access_key_id.as_deref(), Some("key"));

        let no_bucket = FileSettings {
            attachments_store: Some("s3".to_owned()),
            ..FileSettings::default()
        };
        let err = resolve_helpdesk(&AttachmentFlags::default(), &no_bucket).expect_err("bucket");
        assert!(err.to_string().contains("attachments_s3_bucket"), "{err}");
        let half = AttachmentFlags {
            s3_access_key_id: Some("key".to_owned()),
            ..AttachmentFlags::default()
        };
        let err = resolve_helpdesk(&half, &file).expect_err("half a credential");
        assert!(
            err.to_string().contains("MERIDIAN_S3_SECRET_ACCESS_KEY"),
            "{err}"
        );
        assert!(!err.to_string().contains("key\n"));
        let bad_url = FileSettings {
            attachments_s3_endpoint: Some("127.0.0.1:9000".to_owned()),
            ..file
        };
        assert!(resolve_helpdesk(&AttachmentFlags::default(), &bad_url).is_err());
        let ftp = AttachmentFlags {
            store: Some("ftp".to_owned()),
            ..AttachmentFlags::default()
        };
        let err = resolve_helpdesk(&ftp, &FileSettings::default()).expect_err("unknown store");
        assert!(
            err.to_string().contains("MERIDIAN_ATTACHMENTS_STORE"),
            "{err}"
        );
    }
}
