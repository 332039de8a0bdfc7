//! The server's secrets: the PII data key (current + previous, for rotation), the blind
//! index key, and the access-token signing secret.
//!
//! Sources, first found wins: environment variables (`MERIDIAN_DATA_KEY`,
//! `MERIDIAN_DATA_KEYS_PREVIOUS` comma-separated, `MERIDIAN_INDEX_KEY`,
//! `MERIDIAN_JWT_SECRET`), then a key file (`--key-file` / `MERIDIAN_KEY_FILE`, TOML with
//! `data_key`, `previous_data_keys`, `index_key`, `jwt_secret`). In production
//! (`MERIDIAN_ENV=production`) the server refuses to start without them; otherwise a key
//! file is generated once next to the default database (`./data/meridian-keys.toml`,
//! mode 0600) so a developer's data stays readable across restarts.

use std::path::{Path, PathBuf};

use kernel::pii::DataKeyRing;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The contents of a key file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// Current AES-256 data key, base64.
    pub data_key: String,
    /// Older data keys still needed to read data written before a rotation.
    #[serde(default)]
    pub previous_data_keys: Vec<String>,
    /// Key of the blind indexes (never rotated with the data key).
    pub index_key: String,
    /// HS256 signing secret of access tokens.
    pub jwt_secret: String,
}

impl KeyFile {
    /// A fresh set of random keys.
    pub fn generate() -> Result<Self, ConfigError> {
        let random = |what: &str| {
            DataKeyRing::generate_key().map_err(|e| ConfigError {
                setting: what.to_owned(),
                reason: format!("cannot generate a key: {e}"),
            })
        };
        Ok(Self {
            data_key: random("data_key")?,
            previous_data_keys: Vec::new(),
            index_key: random("index_key")?,
            jwt_secret: identity::tokens::new_signing_secret(),
        })
    }

    /// Builds the identity key set.
    pub fn to_keys(&self) -> Result<identity::crypto::Keys, ConfigError> {
        let previous: Vec<&str> = self.previous_data_keys.iter().map(String::as_str).collect();
        let ring =
            DataKeyRing::from_base64(&self.data_key, &previous, &self.index_key).map_err(|e| {
                ConfigError {
                    setting: "MERIDIAN_DATA_KEY / MERIDIAN_INDEX_KEY / key file".to_owned(),
                    reason: e.to_string(),
                }
            })?;
        if self.jwt_secret.len() < 32 {
            return Err(ConfigError {
                setting: "MERIDIAN_JWT_SECRET / key file jwt_secret".to_owned(),
                reason: "must be at least 32 characters".to_owned(),
            });
        }
        Ok(identity::crypto::Keys::new(
            std::sync::Arc::new(ring),
            self.jwt_secret.as_bytes().to_vec(),
        ))
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether `MERIDIAN_ENV=production`.
pub fn production() -> bool {
    env("MERIDIAN_ENV").is_some_and(|v| v.eq_ignore_ascii_case("production"))
}

fn read_file(path: &Path) -> Result<KeyFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        setting: "--key-file / MERIDIAN_KEY_FILE".to_owned(),
        reason: format!("cannot read {}: {e}", path.display()),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError {
        setting: path.display().to_string(),
        reason: e.message().to_owned(),
    })
}

/// Writes a key file readable by its owner only.
pub fn write_file(path: &Path, keys: &KeyFile) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError {
        setting: path.display().to_string(),
        reason: format!("cannot write the key file: {e}"),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let text = toml::to_string(keys).map_err(|e| ConfigError {
        setting: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)
}

/// Resolves the key set (see the module documentation).
pub fn resolve(key_file: Option<&Path>) -> Result<KeyFile, ConfigError> {
    if let Some(data_key) = env("MERIDIAN_DATA_KEY") {
        let missing = |name: &str| ConfigError {
            setting: name.to_owned(),
            reason: "must be set together with MERIDIAN_DATA_KEY".to_owned(),
        };
        return Ok(KeyFile {
            data_key,
            previous_data_keys: env("MERIDIAN_DATA_KEYS_PREVIOUS")
                .map(|v| {
                    v.split(',')
                        .map(|k| k.trim().to_owned())
                        .filter(|k| !k.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            index_key: env("MERIDIAN_INDEX_KEY").ok_or_else(|| missing("MERIDIAN_INDEX_KEY"))?,
            jwt_secret: env("MERIDIAN_JWT_SECRET").ok_or_else(|| missing("MERIDIAN_JWT_SECRET"))?,
        });
    }
    if let Some(path) = key_file {
        return read_file(path);
    }
    if production() {
        return Err(ConfigError {
            setting: "MERIDIAN_DATA_KEY / --key-file".to_owned(),
            reason:
                "production mode needs explicit keys; create them with `meridian keys generate`"
                    .to_owned(),
        });
    }
    let path = PathBuf::from("data/meridian-keys.toml");
    if path.exists() {
        return read_file(&path);
    }
    let keys = KeyFile::generate()?;
    write_file(&path, &keys)?;
    tracing::warn!(path = %path.display(), "generated development keys; set MERIDIAN_ENV=production and explicit keys for real data");
    Ok(keys)
}
