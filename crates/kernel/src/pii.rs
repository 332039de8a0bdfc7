//! Protection of personal data (PII) for every module: encryption at rest, blind
//! indexes for exact-match search, a [`Secret`] wrapper that cannot leak into logs or
//! JSON, and masking for callers without `pii:read`.
//!
//! # Encryption at rest
//!
//! A field marked PII is stored as a self-describing text token
//! `enc:v1:<key_id>:<base64url(nonce || ciphertext || tag)>` produced by
//! [`DataKeyRing::encrypt`]: AES-256-GCM with a fresh random 96-bit nonce per call.
//! `key_id` is the first 8 hex characters of SHA-256 of the key, so a reader knows
//! which key of the ring to use and a rotation job knows which rows are still under an
//! old key ([`DataKeyRing::needs_rotation`], [`DataKeyRing::rotate`]).
//!
//! The additional authenticated data (AAD) binds a value to its place. Callers pass
//! something like `b"<org_id>:contacts:email"` (see [`aad`]); a token copied to another
//! organisation, table or column then fails to decrypt instead of silently showing the
//! wrong person's data. Do not put the row id in the AAD unless rows never move between
//! ids (archival copies, merges), or the copy will become unreadable.
//!
//! # Blind indexes
//!
//! Encrypted values cannot be searched. [`DataKeyRing::blind_index`] computes a keyed
//! HMAC-SHA256 of a normalised value, stored in a separate indexed column, so
//! `WHERE email_bidx = $1` finds a row without the plaintext in the database.
//! The HMAC key is a separate *index key* given to the constructor, deliberately not
//! derived from the data keys: the data key rotates, and a blind index computed under
//! a rotated key would no longer match the stored ones, so every index would have to be
//! rebuilt from decrypted plaintext on each rotation. The index key is long-lived;
//! changing it is a separate, explicit re-index job.
//!
//! # Masking
//!
//! [`mask_email`], [`mask_phone`] and [`mask_text`] turn a value into something a
//! caller without `pii:read` may see. All of them work on `char`s, never on bytes, so
//! they never split a multibyte character.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Prefix of every token produced by [`DataKeyRing::encrypt`] (format version 1).
pub const TOKEN_PREFIX: &str = "enc:v1:";

/// Length in bytes of a data key or index key (AES-256).
const KEY_LEN: usize = 32;
/// Length in bytes of the AES-GCM nonce (96 bits, the size GCM is designed for).
const NONCE_LEN: usize = 12;
/// Length in bytes of the AES-GCM authentication tag.
const TAG_LEN: usize = 16;
/// Length of a key id in hex characters.
const KEY_ID_LEN: usize = 8;

/// Errors of PII encryption. None of them ever carries a plaintext or a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PiiError {
    /// A configured key is not valid base64 of exactly 32 bytes, or is reused wrongly.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Two different configured keys have the same 8-hex-character key id.
    #[error("two different data keys share the key id {0}; generate a new key")]
    KeyIdCollision(String),
    /// The stored value is not an `enc:v1:` token (or is truncated or corrupted).
    #[error("malformed encrypted value")]
    Malformed,
    /// The token was encrypted under a key that is not in the ring.
    #[error("value encrypted under unknown key {0}")]
    UnknownKey(String),
    /// Authentication failed: wrong key, wrong AAD (value moved to another place), or
    /// tampered ciphertext.
    #[error("encrypted value failed authentication")]
    Decrypt,
    /// The cipher refused to encrypt (input longer than AES-GCM allows).
    #[error("encryption failed")]
    Encrypt,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
}

/// One AES-256-GCM key with its fingerprint.
struct DataKey {
    id: String,
    cipher: Aes256Gcm,
}

impl DataKey {
    fn new(raw: &[u8; KEY_LEN]) -> Self {
        Self {
            id: key_id(raw),
            cipher: Aes256Gcm::new(&(*raw).into()),
        }
    }
}

/// The data keys (current + previous) and the blind-index key of a deployment.
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
pub struct DataKeyRing {
    current: DataKey,
    /// Keys that were current before a rotation, only used for reading.
    previous: Vec<DataKey>,
    /// HMAC-SHA256 keyed with the index key; cloned per call so the key schedule
    /// (the padded inner/outer key hashes) is computed once, at construction.
    index_mac: Hmac<Sha256>,
}

impl fmt::Debug for DataKeyRing {
    // Key ids only: they are public fingerprints, the keys are not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyRing")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl DataKeyRing {
    /// Builds a ring from base64 (standard alphabet, as printed by
    /// [`DataKeyRing::generate_key`]) keys of 32 bytes each.
    ///
    /// - `current` encrypts everything new;
    /// - `previous` are keys that were current before a rotation, used to read old
    ///   values until `meridian keys rotate` has re-encrypted them (a previous key equal
    ///   to the current one is ignored, so a config may list the current key among them);
    /// - `index_key` keys the blind indexes. It is separate on purpose (see the
    ///   module documentation) and must not be one of the data keys.
    ///
    /// Surrounding whitespace (e.g. the newline at the end of a key file) is ignored.
    pub fn from_base64(
        current: &str,
        previous: &[&str],
        index_key: &str,
    ) -> Result<Self, PiiError> {
        let current_raw = decode_key(current)?;
        let current = DataKey::new(&current_raw);
        let mut previous_keys: Vec<DataKey> = Vec::with_capacity(previous.len());
        let mut previous_raw: Vec<[u8; KEY_LEN]> = Vec::with_capacity(previous.len());
        for encoded in previous {
            let raw = decode_key(encoded)?;
            if raw == current_raw || previous_raw.contains(&raw) {
                continue;
            }
            let key = DataKey::new(&raw);
            if key.id == current.id || previous_keys.iter().any(|k| k.id == key.id) {
                return Err(PiiError::KeyIdCollision(key.id));
            }
            previous_raw.push(raw);
            previous_keys.push(key);
        }
        let index_raw = decode_key(index_key)?;
        if index_raw == current_raw || previous_raw.contains(&index_raw) {
            return Err(PiiError::InvalidKey(
                "the index key must differ from every data key",
            ));
        }
        let index_mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&index_raw)
            .map_err(|_| PiiError::InvalidKey("index key rejected by HMAC"))?;
        Ok(Self {
            current,
            previous: previous_keys,
            index_mac,
        })
    }

    /// A new random 32-byte key from the operating system's CSPRNG, base64-encoded
    /// (standard alphabet, padded): what `MERIDIAN_DATA_KEY` or a key file holds.
    pub fn generate_key() -> Result<String, PiiError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(|_| PiiError::Random)?;
        Ok(STANDARD.encode(key))
    }

    /// Id (fingerprint) of the current key, as embedded in new tokens.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext` under the current key, bound to `aad` (see [`aad`]).
    ///
    /// Two calls with the same input give different tokens (random nonce), so equal
    /// values cannot be spotted in the database; use [`DataKeyRing::blind_index`] for
    /// lookups. Fails only if the OS random generator fails.
    pub fn encrypt(&self, plaintext: &str, aad: &[u8]) -> Result<String, PiiError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| PiiError::Random)?;
        let sealed = self
            .current
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .map_err(|_| PiiError::Encrypt)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        let mut token = String::with_capacity(
            TOKEN_PREFIX.len() + KEY_ID_LEN + 1 + (blob.len() * 4).div_ceil(3),
        );
        token.push_str(TOKEN_PREFIX);
        token.push_str(&self.current.id);
        token.push(':');
        URL_SAFE_NO_PAD.encode_string(&blob, &mut token);
        Ok(token)
    }

    /// Decrypts a token produced by [`DataKeyRing::encrypt`] with the same `aad`, under
    /// whichever key of the ring it names.
    pub fn decrypt(&self, token: &str, aad: &[u8]) -> Result<String, PiiError> {
        let (key_id, blob) = parse_token(token)?;
        let key = self
            .key(key_id)
            .ok_or_else(|| PiiError::UnknownKey(key_id.to_owned()))?;
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| PiiError::Malformed)?;
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
            .map_err(|_| PiiError::Decrypt)?;
        // Only reachable if someone encrypted non-UTF-8 bytes under our key and AAD.
        String::from_utf8(plain).map_err(|_| PiiError::Malformed)
    }

    /// True if `token` is an encrypted token that names a key other than the current
    /// one, i.e. the rotation job still has to re-encrypt it. False for current-key
    /// tokens and for anything that is not a token (use [`is_encrypted`] to find
    /// plaintext left over from before a column was encrypted).
    pub fn needs_rotation(&self, token: &str) -> bool {
        match parse_token(token) {
            Ok((key_id, _)) => key_id != self.current.id,
            Err(_) => false,
        }
    }

    /// Re-encrypts `token` under the current key if it is under a previous one:
    /// `Ok(Some(new_token))` to write back, `Ok(None)` if it is already current.
    /// The value is authenticated (decrypted with `aad`) before anything is written.
    pub fn rotate(&self, token: &str, aad: &[u8]) -> Result<Option<String>, PiiError> {
        let (key_id, _) = parse_token(token)?;
        if key_id == self.current.id {
            return Ok(None);
        }
        let plain = self.decrypt(token, aad)?;
        self.encrypt(&plain, aad).map(Some)
    }

    /// Keyed HMAC-SHA256 of `normalised_value` for exact-match search on an encrypted
    /// field, as 64 lowercase hex characters.
    ///
    /// `purpose` names the field (e.g. `"contacts.email"`) and separates domains: the
    /// same email gives different indexes in different fields, so index columns cannot
    /// be joined to correlate people across tables. Normalise first (e.g.
    /// [`normalise_email`]), or `John@x.com` and `john@x.com` will not match.
    pub fn blind_index(&self, purpose: &str, normalised_value: &str) -> String {
        let mut mac = self.index_mac.clone();
        // Length-prefix the purpose so ("a", "bc") and ("ab", "c") cannot collide.
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(normalised_value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    fn key(&self, key_id: &str) -> Option<&DataKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
    }
}

/// The conventional AAD for a PII column: `<org_id>:<table>:<column>`.
pub fn aad(org_id: &impl fmt::Display, table: &str, column: &str) -> Vec<u8> {
    format!("{org_id}:{table}:{column}").into_bytes()
}

/// True if `value` looks like a token from [`DataKeyRing::encrypt`] (it is not checked
/// cryptographically). For migrations that encrypt existing plaintext columns.
pub fn is_encrypted(value: &str) -> bool {
    parse_token(value).is_ok()
}

/// Normal form of an email address for blind indexes: trimmed and lowercased.
///
/// The whole address is lowercased; strictly the local part is case-sensitive, but no
/// mail system in use treats it so and users type it either way.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn decode_key(encoded: &str) -> Result<[u8; KEY_LEN], PiiError> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| PiiError::InvalidKey("not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| PiiError::InvalidKey("a key must be exactly 32 bytes"))
}

fn key_id(raw: &[u8; KEY_LEN]) -> String {
    let digest = Sha256::digest(raw);
    let mut id = hex(&digest[..KEY_ID_LEN / 2]);
    id.truncate(KEY_ID_LEN);
    id
}

/// Splits a token into its key id and decoded `nonce || ciphertext || tag`.
fn parse_token(token: &str) -> Result<(&str, Vec<u8>), PiiError> {
    let rest = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(PiiError::Malformed)?;
    let (key_id, body) = rest.split_once(':').ok_or(PiiError::Malformed)?;
    if key_id.len() != KEY_ID_LEN
        || !key_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(PiiError::Malformed);
    }
    let blob = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| PiiError::Malformed)?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(PiiError::Malformed);
    }
    Ok((key_id, blob))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A value that must not leak: passwords, tokens, TOTP secrets, decrypted PII.
///
/// `Debug` and `Display` print `***`, and `Serialize` writes the string `"***"`
/// (it redacts rather than fails, so logging or auditing a struct that holds a secret
/// still works and shows that a value was there). `Deserialize` reads the real value,
/// so request bodies can carry secrets straight into this type. The value is reached
/// only through [`Secret::expose`] / [`Secret::into_exposed`], which makes every use
/// visible in review. Modelled on hyperswitch's `masking::Secret`.
#[derive(Clone, Default)]
pub struct Secret<T>(T);

/// What a [`Secret`] prints and serialises as.
pub const REDACTED: &str = "***";

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the secret value.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// Masks an email for callers without `pii:read`: `john.doe@acme.com` → `j***@acme.com`.
///
/// The domain stays visible (it says which company, which support staff need); the
/// local part is masked like [`mask_text`]. Without an `@` the whole value is masked
/// like a name; an empty value stays empty.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let local = mask_text(local);
            // An empty local part still gets stars: `@acme.com` is not a useful display.
            let local = if local.is_empty() { REDACTED } else { &local };
            format!("{local}@{domain}")
        }
        None => mask_text(email),
    }
}

/// Masks a name or other short text: first character + `***` (`Mohammed` → `M***`).
///
/// A one-character value becomes `***` (showing its first character would show it
/// all); an empty or blank value stays empty. Leading and trailing whitespace is
/// dropped. The number of stars is fixed so the length is not revealed.
pub fn mask_text(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => String::new(),
        (Some(_), None) => REDACTED.to_owned(),
        (Some(first), Some(_)) => {
            let mut out = String::with_capacity(first.len_utf8() + REDACTED.len());
            out.push(first);
            out.push_str(REDACTED);
            out
        }
    }
}

/// Masks a phone number: `+966 512 345 612` → `+966 5** *** *12`.
///
/// Digits (any alphanumeric character, so Arabic-Indic digits and stray letters are
/// covered too) are replaced by `*` except the first 4 and the last 2; separators and
/// the leading `+` stay, so the shape of the number is kept. A number with fewer than
/// 8 digits shows at most half of them (first, then last), so something is always
/// masked: `12345` → `1***5`, `1` → `*`.
pub fn mask_phone(phone: &str) -> String {
    let total = phone.chars().filter(|c| c.is_alphanumeric()).count();
    let (keep_first, keep_last) = if total >= 8 {
        (4, 2)
    } else {
        let visible = total / 2;
        let last = visible / 2;
        (visible - last, last)
    };
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= keep_first || seen > total - keep_last {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; KEY_LEN])
    }

    fn ring(current: u8, previous: &[u8]) -> DataKeyRing {
        let previous: Vec<String> = previous.iter().map(|b| key(*b)).collect();
        let previous: Vec<&str> = previous.iter().map(String::as_str).collect();
        DataKeyRing::from_base64(&key(current), &previous, &key(0xEE)).unwrap()
    }

    const AAD: &[u8] = b"0190b3c4-0000-7000-8000-000000000001:contacts:email";

    #[test]
    fn shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<DataKeyRing>();
        assert_send_sync::<Secret<String>>();
    }

    #[test]
    fn round_trip() {
        let ring = ring(1, &[]);
        for plain in [
            "john.doe@acme.com",
            "",
            "محمد بن سلمان",
            "🙂 emoji",
            "a:b:c",
        ] {
            let token = ring.encrypt(plain, AAD).unwrap();
            assert!(token.starts_with(&format!("enc:v1:{}:", ring.current_key_id())));
            assert!(is_encrypted(&token));
            assert_eq!(ring.decrypt(&token, AAD).unwrap(), plain);
        }
    }

    #[test]
    fn token_shape_and_key_id() {
        let ring = ring(1, &[]);
        let token = ring.encrypt("x", AAD).unwrap();
        let parts: Vec<&str> = token.split(':').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(&parts[..2], &["enc", "v1"]);
        // key id = first 8 hex chars of SHA-256 of the raw key
        let expected = hex(&Sha256::digest([1u8; KEY_LEN]))[..8].to_owned();
        assert_eq!(parts[2], expected);
        assert_eq!(ring.current_key_id(), expected);
        // nonce(12) + 1 byte + tag(16), base64url without padding
        let blob = URL_SAFE_NO_PAD.decode(parts[3]).unwrap();
        assert_eq!(blob.len(), NONCE_LEN + 1 + TAG_LEN);
    }

    #[test]
    fn nonces_differ_per_call() {
        let ring = ring(1, &[]);
        let a = ring.encrypt("same", AAD).unwrap();
        let b = ring.encrypt("same", AAD).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            ring.decrypt(&a, AAD).unwrap(),
            ring.decrypt(&b, AAD).unwrap()
        );
    }

    #[test]
    fn wrong_aad_fails() {
        let ring = ring(1, &[]);
        let token = ring.encrypt("john.doe@acme.com", AAD).unwrap();
        for other in [
            &b"0190b3c4-0000-7000-8000-000000000002:contacts:email"[..],
            b"0190b3c4-0000-7000-8000-000000000001:contacts:phone",
            b"0190b3c4-0000-7000-8000-000000000001:users:email",
            b"",
        ] {
            assert_eq!(ring.decrypt(&token, other), Err(PiiError::Decrypt));
        }
        let org = "org-1";
        assert_eq!(aad(&org, "contacts", "email"), b"org-1:contacts:email");
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let ring = ring(1, &[]);
        let token = ring.encrypt("john.doe@acme.com", AAD).unwrap();
        let (head, body) = token.rsplit_once(':').unwrap();
        let blob = URL_SAFE_NO_PAD.decode(body).unwrap();
        // flip one bit in every position: nonce, ciphertext and tag are all covered
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let bad_token = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&bad));
            assert_eq!(
                ring.decrypt(&bad_token, AAD),
                Err(PiiError::Decrypt),
                "byte {i}"
            );
        }
        // truncated
        let short = format!(
            "{head}:{}",
            URL_SAFE_NO_PAD.encode(&blob[..NONCE_LEN + TAG_LEN - 1])
        );
        assert_eq!(ring.decrypt(&short, AAD), Err(PiiError::Malformed));
        // extended
        let mut long = blob.clone();
        long.push(0);
        let long = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&long));
        assert_eq!(ring.decrypt(&long, AAD), Err(PiiError::Decrypt));
    }

    #[test]
    fn malformed_tokens() {
        let ring = ring(1, &[]);
        let good = ring.encrypt("x", AAD).unwrap();
        let id = ring.current_key_id().to_owned();
        for bad in [
            "",
            "john.doe@acme.com",
            "enc:v1:",
            "enc:v2:00000000:AAAA",
            &format!("enc:v1:{id}"),
            &format!("enc:v1:{id}:not base64!"),
            &format!("enc:v1:ABCDEF12:{}", good.rsplit_once(':').unwrap().1),
            &format!("enc:v1:{id}x:{}", good.rsplit_once(':').unwrap().1),
        ] {
            assert_eq!(ring.decrypt(bad, AAD), Err(PiiError::Malformed), "{bad}");
            assert!(!ring.needs_rotation(bad));
            assert!(!is_encrypted(bad));
        }
        let unknown = good.replacen(&id, "00000000", 1);
        assert_eq!(
            ring.decrypt(&unknown, AAD),
            Err(PiiError::UnknownKey("00000000".into()))
        );
        assert_eq!(ring.rotate("plain", AAD), Err(PiiError::Malformed));
    }

    #[test]
    fn plaintext_never_in_token() {
        let ring = ring(1, &[]);
        let plain = "john.doe@acme.com";
        let token = ring.encrypt(plain, AAD).unwrap();
        assert!(!token.contains(plain));
        assert!(!token.contains("john"));
        assert!(!token.contains("acme"));
        let blob = URL_SAFE_NO_PAD
            .decode(token.rsplit_once(':').unwrap().1)
            .unwrap();
        assert!(!blob.windows(4).any(|w| w == b"john" || w == b"acme"));
        // nor in any error message
        let err = ring.decrypt(&token, b"other").unwrap_err();
        assert!(!err.to_string().contains("john"));
    }

    #[test]
    fn rotation() {
        let old = ring(1, &[]);
        let token = old.encrypt("+966 512 345 612", AAD).unwrap();
        assert!(!old.needs_rotation(&token));
        assert_eq!(old.rotate(&token, AAD), Ok(None));

        // key 2 becomes current, key 1 is kept for reading
        let new = ring(2, &[1]);
        assert_ne!(new.current_key_id(), old.current_key_id());
        assert!(new.needs_rotation(&token));
        assert_eq!(new.decrypt(&token, AAD).unwrap(), "+966 512 345 612");

        // rotating with the wrong AAD refuses to write anything
        assert_eq!(new.rotate(&token, b"elsewhere"), Err(PiiError::Decrypt));

        let rotated = new.rotate(&token, AAD).unwrap().unwrap();
        assert!(!new.needs_rotation(&rotated));
        assert!(rotated.contains(new.current_key_id()));
        assert_eq!(new.decrypt(&rotated, AAD).unwrap(), "+966 512 345 612");
        assert_eq!(new.rotate(&rotated, AAD), Ok(None));

        // once key 1 is dropped, old tokens are unreadable but rotated ones still work
        let newest = ring(2, &[]);
        assert_eq!(
            newest.decrypt(&token, AAD),
            Err(PiiError::UnknownKey(old.current_key_id().to_owned()))
        );
        assert_eq!(newest.decrypt(&rotated, AAD).unwrap(), "+966 512 345 612");
        // the old ring cannot read values written under the new key
        assert!(old.decrypt(&rotated, AAD).is_err());
    }

    #[test]
    fn key_validation() {
        let ok = key(1);
        let k2 = key(2);
        let idx = key(0xEE);
        assert!(matches!(
            DataKeyRing::from_base64("not base64", &[], &idx),
            Err(PiiError::InvalidKey(_))
        ));
        let short = STANDARD.encode([1u8; 16]);
        assert!(matches!(
            DataKeyRing::from_base64(&short, &[], &idx),
            Err(PiiError::InvalidKey(_))
        ));
        assert!(matches!(
            DataKeyRing::from_base64(&ok, &[short.as_str()], &idx),
            Err(PiiError::InvalidKey(_))
        ));
        // the index key must be its own key
        assert!(matches!(
            DataKeyRing::from_base64(&ok, &[], &ok),
            Err(PiiError::InvalidKey(_))
        ));
        assert!(matches!(
            DataKeyRing::from_base64(&ok, &[k2.as_str()], &k2),
            Err(PiiError::InvalidKey(_))
        ));
        // a key file's trailing newline is fine; the current key among previous is ignored
        let ring = DataKeyRing::from_base64(
            &format!("{ok}\n"),
            &[ok.as_str(), k2.as_str(), k2.as_str()],
            &idx,
        )
        .unwrap();
        assert_eq!(ring.previous.len(), 1);
        // Debug shows key ids, never key material
        let debug = format!("{ring:?}");
        assert!(debug.contains(ring.current_key_id()));
        assert!(!debug.contains(&ok));
    }

    #[test]
    fn generated_keys_are_usable_and_distinct() {
        let a = DataKeyRing::generate_key().unwrap();
        let b = DataKeyRing::generate_key().unwrap();
        let i = DataKeyRing::generate_key().unwrap();
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a).unwrap().len(), KEY_LEN);
        let ring = DataKeyRing::from_base64(&a, &[b.as_str()], &i).unwrap();
        let t = ring.encrypt("hello", b"x").unwrap();
        assert_eq!(ring.decrypt(&t, b"x").unwrap(), "hello");
    }

    #[test]
    fn blind_index() {
        let ring1 = ring(1, &[]);
        let a = ring1.blind_index("contacts.email", "john.doe@acme.com");
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // deterministic, and independent of the data key (survives rotation)
        assert_eq!(a, ring1.blind_index("contacts.email", "john.doe@acme.com"));
        assert_eq!(
            a,
            ring(2, &[1]).blind_index("contacts.email", "john.doe@acme.com")
        );
        // depends on value, purpose and index key
        assert_ne!(a, ring1.blind_index("contacts.email", "jane.doe@acme.com"));
        assert_ne!(a, ring1.blind_index("users.email", "john.doe@acme.com"));
        let other_index = DataKeyRing::from_base64(&key(1), &[], &key(0xEF)).unwrap();
        assert_ne!(
            a,
            other_index.blind_index("contacts.email", "john.doe@acme.com")
        );
        // purpose/value boundary is unambiguous
        assert_ne!(ring1.blind_index("ab", "c"), ring1.blind_index("a", "bc"));
        // it is a keyed MAC, not a bare hash of the value
        assert_ne!(a, hex(&Sha256::digest(b"john.doe@acme.com")));
        // normalisation makes case and spaces irrelevant
        assert_eq!(
            ring1.blind_index("e", &normalise_email("  John.Doe@ACME.com ")),
            ring1.blind_index("e", &normalise_email("john.doe@acme.com"))
        );
    }

    #[test]
    fn secret_redacts() {
        let s = Secret::new(String::from("hunter2hunter2"));
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2hunter2");

        #[derive(Serialize, Deserialize, Debug)]
        struct Login {
            email: String,
            password: Secret<String>,
        }
        let login: Login =
            serde_json::from_str(r#"{"email":"a@b.c","password":"hunter2hunter2"}"#).unwrap();
        assert_eq!(login.password.expose(), "hunter2hunter2");
        let debug = format!("{login:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let json = serde_json::to_string(&login).unwrap();
        assert_eq!(json, r#"{"email":"a@b.c","password":"***"}"#);
        assert_eq!(login.password.into_exposed(), "hunter2hunter2");
        let from: Secret<u32> = 7.into();
        assert_eq!(*from.expose(), 7);
    }

    #[test]
    fn email_masking() {
        for (input, expected) in [
            ("john.doe@acme.com", "j***@acme.com"),
            ("j@acme.com", "***@acme.com"),
            ("@acme.com", "***@acme.com"),
            ("jo@acme.com", "j***@acme.com"),
            ("élodie@exemple.fr", "é***@exemple.fr"),
            ("محمد@شركة.السعودية", "م***@شركة.السعودية"),
            ("😀smile@x.io", "😀***@x.io"),
            ("\"a@b\"@x.io", "\"***@x.io"),
            ("no-at-sign", "n***"),
            ("", ""),
        ] {
            assert_eq!(mask_email(input), expected, "{input}");
        }
    }

    #[test]
    fn text_masking() {
        for (input, expected) in [
            ("Mohammed", "M***"),
            ("  Mohammed Al-Saud ", "M***"),
            ("Jo", "J***"),
            ("J", "***"),
            ("", ""),
            ("   ", ""),
            ("Émile", "É***"),
            ("عبدالله", "ع***"),
            ("山田太郎", "山***"),
        ] {
            assert_eq!(mask_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn phone_masking() {
        for (input, expected) in [
            ("+966 512 345 612", "+966 5** *** *12"),
            ("+966512345612", "+9665******12"),
            ("0512345612", "0512****12"),
            ("+1 (415) 555-0100", "+1 (415) ***-**00"),
            ("12345678", "1234**78"),
            ("1234567", "12****7"),
            ("12345", "1***5"),
            ("1234", "1**4"),
            ("123", "1**"),
            ("12", "1*"),
            ("1", "*"),
            ("+", "+"),
            ("", ""),
            // Arabic-Indic digits are digits too; multibyte chars are never split
            ("+٩٦٦ ٥١٢ ٣٤٥ ٦١٢", "+٩٦٦ ٥** *** *١٢"),
            ("call me maybe", "call ** ***be"),
        ] {
            assert_eq!(mask_phone(input), expected, "{input:?}");
        }
        // never reveals more than 6 characters of a long number
        let masked = mask_phone("+44 20 7946 0958 1234");
        assert_eq!(masked.chars().filter(|c| c.is_ascii_digit()).count(), 6);
    }
}
