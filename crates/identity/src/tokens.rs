//! Access tokens (HS256 JWT), refresh tokens and API key secrets.
//!
//! The JWT is written here with `hmac` + `sha2` rather than the `jsonwebtoken` crate: we only
//! ever issue and accept HS256 from ourselves, and `jsonwebtoken`'s required crypto
//! backend pulls RSA, P-256/P-384 and Ed25519 plus a second generation of the RustCrypto
//! digests into every build (see docs/ARCHITECTURE.md). The header is compared byte for
//! byte, so `alg: none` or algorithm confusion cannot be accepted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, base64url.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: Uuid,
    /// Organisation id.
    pub org: Uuid,
    /// Sign-in session (refresh token family); revoking it ends the token early.
    pub fam: Uuid,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we issued, or tampered with.
    #[error("the access token is invalid")]
    Invalid,
    /// Past its expiry.
    #[error("the access token has expired; refresh it")]
    Expired,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Signs `claims` with `secret`.
pub fn sign_access(claims: &AccessClaims, secret: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{HEADER}.{payload}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies signature and expiry of an access token.
pub fn verify_access(
    token: &str,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<AccessClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    if header != HEADER {
        return Err(TokenError::Invalid);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Invalid)?;
    let mut m = mac(secret);
    m.update(header.as_bytes());
    m.update(b".");
    m.update(payload.as_bytes());
    m.verify_slice(&signature)
        .map_err(|_| TokenError::Invalid)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Invalid)?;
    let claims: AccessClaims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)?;
    if claims.exp <= now.timestamp() {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// SHA-256 hex of a high-entropy secret (refresh tokens, API keys, recovery codes):
/// enough for random 256-bit secrets, and fast enough to check on every request.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new refresh token: `rt_` + 256 random bits.
pub fn new_refresh_token() -> String {
    format!("rt_{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A new API key: (`prefix`, full secret `mk_<prefix>_<256 random bits>`).
pub fn new_api_key() -> (String, String) {
    let prefix: String = random_bytes::<6>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = format!(
        "mk_{prefix}_{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    );
    (prefix, secret)
}

/// The prefix of an API key secret, if it looks like one.
pub fn api_key_prefix(secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix("mk_")?;
    let (prefix, tail) = rest.split_once('_')?;
    (prefix.len() == 12 && !tail.is_empty()).then_some(prefix)
}

/// A random 256-bit secret, base64 (for generated signing keys).
pub fn new_signing_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            sub: Uuid::now_v7(),
            org: Uuid::now_v7(),
            fam: Uuid::now_v7(),
            iat: 0,
            exp,
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("valid")
    }

    #[test]
    fn round_trip_and_expiry() {
        let c = claims(1000);
        let token = sign_access(&c, b"secret");
        assert_eq!(verify_access(&token, b"secret", at(999)), Ok(c));
        assert_eq!(
            verify_access(&token, b"secret", at(1000)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify_access(&token, b"other", at(0)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn tampering_and_alg_none_are_refused() {
        let token = sign_access(&claims(1000), b"secret");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9999)).expect("json"));
        parts[1] = &forged;
        assert_eq!(
            verify_access(&parts.join("."), b"secret", at(0)),
            Err(TokenError::Invalid)
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{forged}.");
        assert_eq!(
            verify_access(&unsigned, b"secret", at(0)),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify_access("garbage", b"secret", at(0)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn api_keys_have_a_findable_prefix() {
        let (prefix, secret) = new_api_key();
        assert_eq!(api_key_prefix(&secret), Some(prefix.as_str()));
        assert_eq!(api_key_prefix("mk_short_x"), None);
        assert_eq!(api_key_prefix("eyJhbGciOi.x.y"), None);
        assert_ne!(new_refresh_token(), new_refresh_token());
        assert_eq!(secret_hash("abc").len(), 64);
    }
}
