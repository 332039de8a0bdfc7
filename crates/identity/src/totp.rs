//! TOTP second factor (RFC 6238) and recovery codes.
//!
//! Codes are what every authenticator app expects: HMAC-SHA1, 6 digits, 30-second
//! steps. A code is accepted in the current step and one step either side, so a phone
//! clock up to ~30 s off (plus the time to type) still works. Time is always passed
//! in (`unix_time`), never read here.
//!
//! RFC 6238 §5.2 says a code must be accepted only once: [`verify_step`] returns the
//! matched step so the caller can store it and refuse any code whose step is not later
//! than the last one used.
//!
//! Recovery codes are one-time passwords for when the phone is lost: 12 characters
//! from Crockford's base32 alphabet (60 bits from the CSPRNG), shown once as
//! `abcd-efgh-jkmn`, stored only as [`hash_recovery_code`] (SHA-256: with 60 random
//! bits a slow hash adds nothing a rate limit does not).

use kernel::pii::Secret;
use rand::Rng as _;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};

use crate::model::IdentityError;

/// Issuer shown in authenticator apps.
pub const DEFAULT_ISSUER: &str = "Meridian";
/// Digits per code.
pub const DIGITS: usize = 6;
/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted on either side of the current one.
pub const SKEW_STEPS: u16 = 1;
/// Secret length in bytes: 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// Characters of a recovery code: Crockford's base32 (no i, l, o, u), lowercase.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters per recovery code, without the dashes.
const RECOVERY_CHARS: usize = 12;
/// A dash after every this many characters.
const RECOVERY_GROUP: usize = 4;

/// A new random TOTP secret (160 bits from the CSPRNG), base32 without padding, as
/// stored (encrypted) for the user and embedded in the otpauth URI.
pub fn generate_secret() -> Secret<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(totp_rs::Secret::from(bytes).to_base32())
}

/// The `otpauth://totp/...` URI to show as a QR code when the user enrols, e.g.
/// `otpauth://totp/Meridian:john%40acme.com?secret=...&issuer=Meridian`.
///
/// Fails if the secret is not valid base32 or the account or issuer contains `:`
/// (the label separator, which authenticator apps cannot escape).
pub fn otpauth_uri(
    secret: &Secret<String>,
    account_email: &str,
    issuer: &str,
) -> Result<String, IdentityError> {
    let bytes = decode_secret(secret)?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_step_duration(STEP_SECONDS)
        .with_skew(SKEW_STEPS)
        .with_secret(bytes)
        .with_account_name(account_email)
        .with_issuer(Some(issuer))
        .build()
        .and_then(|totp| totp.to_url())
        .map_err(|e| IdentityError::OtpAuthUri(e.to_string()))
}

/// True if `code` is valid for `secret` at `unix_time` (± one step).
/// Spaces in the code are ignored (`123 456`, as apps display it).
pub fn verify(secret: &Secret<String>, code: &str, unix_time: u64) -> bool {
    verify_step(secret, code, unix_time).is_some()
}

/// Like [`verify`], returning the time step the code belongs to, so the caller can
/// reject a replay (a step not later than the last accepted one).
pub fn verify_step(secret: &Secret<String>, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret).ok()?;
    totp.check(&code, unix_time)
}

/// `n` new recovery codes like `7k2m-x9qa-bd4e`, to show once and store hashed.
pub fn generate_recovery_codes(n: usize) -> Vec<Secret<String>> {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CHARS];
            rng.fill_bytes(&mut bytes);
            let mut code = String::with_capacity(RECOVERY_CHARS + RECOVERY_CHARS / RECOVERY_GROUP);
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 && i % RECOVERY_GROUP == 0 {
                    code.push('-');
                }
                // 256 is a multiple of 32, so the low 5 bits are uniform.
                code.push(char::from(RECOVERY_ALPHABET[usize::from(b & 31)]));
            }
            Secret::new(code)
        })
        .collect()
}

/// The form a recovery code is compared in: lowercase, without dashes or spaces, with
/// the look-alikes Crockford's alphabet leaves out read as what they resemble
/// (`o` → `0`, `i`/`l` → `1`), so a code read aloud or retyped still matches.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

/// SHA-256 (lowercase hex) of the normalised recovery code: what is stored, and what
/// a submitted code is looked up by.
pub fn hash_recovery_code(code: &str) -> String {
    let digest = Sha256::digest(normalise_recovery_code(code).as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 0x0f)]));
    }
    out
}

fn decode_secret(secret: &Secret<String>) -> Result<Vec<u8>, IdentityError> {
    // Accept what users and other systems write: lowercase, spaces, `=` padding.
    let cleaned: String = secret
        .expose()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    totp_rs::Secret::try_from_base32(cleaned)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| IdentityError::TotpSecret)
}

fn totp(secret: &Secret<String>) -> Result<Totp, IdentityError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_step_duration(STEP_SECONDS)
        .with_skew(SKEW_STEPS)
        .with_secret(decode_secret(secret)?)
        .build()
        .map_err(|_| IdentityError::TotpSecret)
}

/// The code an authenticator app shows for `secret` at `unix_time` (for tests and for
/// operators checking a device's clock).
pub fn code_at(secret: &Secret<String>, unix_time: u64) -> Result<String, IdentityError> {
    Ok(totp(secret)?.generate(unix_time).to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashSet;

    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII "12345678901234567890".
    fn rfc_secret() -> Secret<String> {
        Secret::new(totp_rs::Secret::from(*b"12345678901234567890").to_base32())
    }

    /// RFC 6238 Appendix B SHA-1 vectors (8 digits); 6-digit codes are the last 6.
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc6238_vectors() {
        let secret = rfc_secret();
        assert_eq!(secret.expose(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (time, code8) in RFC_VECTORS {
            let code = &code8[2..];
            assert!(verify(&secret, code, time), "t={time}");
            assert_eq!(verify_step(&secret, code, time), Some(time / 30));
            // the app shows "123 456"
            let spaced = format!("{} {}", &code[..3], &code[3..]);
            assert!(verify(&secret, &spaced, time));
            // the 8-digit form is not a 6-digit code
            assert!(!verify(&secret, code8, time));
        }
    }

    #[test]
    fn skew_edges() {
        let secret = rfc_secret();
        // "287082" belongs to step 1 (t = 30..=59); accepted in steps 0..=2 (t = 0..=89)
        let code = "287082";
        assert_eq!(verify_step(&secret, code, 0), Some(1));
        assert!(verify(&secret, code, 29));
        assert!(verify(&secret, code, 30));
        assert!(verify(&secret, code, 89));
        assert!(!verify(&secret, code, 90));
        // step 37037036 (t = 1111111080..=1111111109): accepted 1111111050..=1111111139
        let code = "081804";
        assert!(!verify(&secret, code, 1_111_111_049));
        assert!(verify(&secret, code, 1_111_111_050));
        assert_eq!(verify_step(&secret, code, 1_111_111_139), Some(37_037_036));
        assert!(!verify(&secret, code, 1_111_111_140));
    }

    #[test]
    fn wrong_codes_and_secrets() {
        let secret = rfc_secret();
        for bad in [
            "",
            "28708",
            "2870820",
            "28708a",
            "+87082",
            "-87082",
            "287083",
            "２８７０８２",
        ] {
            assert!(!verify(&secret, bad, 59), "{bad:?}");
        }
        assert!(!verify(&generate_secret(), "287082", 59));
        // unusable secrets never verify
        for s in ["", "not base32!", "GEZDGNBV"] {
            assert!(!verify(&Secret::new(s.to_owned()), "287082", 59), "{s}");
        }
        // lowercase, spaced and padded forms of the secret are accepted
        let loose = Secret::new("gezd gnbv gy3t qojq gezd gnbv gy3t qojq====".to_owned());
        assert!(verify(&loose, "287082", 59));
    }

    #[test]
    fn generated_secret() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a.expose(), b.expose());
        // 160 bits = 32 base32 characters, no padding
        assert_eq!(a.expose().len(), 32);
        assert!(
            a.expose()
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        assert_eq!(format!("{a:?}"), "***");
        // a code computed the way an app does it verifies
        let app = Builder::new()
            .with_secret(decode_secret(&a).unwrap())
            .build()
            .unwrap();
        let now = 1_764_000_000;
        assert!(verify(&a, &app.generate(now).to_string(), now));
        assert!(verify(&a, &app.generate(now - 30).to_string(), now));
        assert!(!verify(&a, &app.generate(now - 60).to_string(), now));
    }

    #[test]
    fn otpauth() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "john.doe@acme.com", DEFAULT_ISSUER).unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/Meridian:john.doe%40acme.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Meridian"
        );
        // an app parsing it gets the same codes
        let parsed = Totp::from_url(&uri).unwrap();
        assert_eq!(parsed.generate(59).to_string(), "287082");
        assert_eq!(parsed.issuer(), Some("Meridian"));
        assert_eq!(parsed.account_name(), "john.doe@acme.com");

        let spaced = otpauth_uri(&secret, "j@x.io", "Meridian Staging").unwrap();
        assert!(spaced.starts_with("otpauth://totp/Meridian%20Staging:j%40x.io?"));
        assert!(otpauth_uri(&secret, "a:b@x.io", DEFAULT_ISSUER).is_err());
        assert!(otpauth_uri(&secret, "a@x.io", "Bad:Issuer").is_err());
        assert!(otpauth_uri(&Secret::new("!!".into()), "a@x.io", DEFAULT_ISSUER).is_err());
    }

    #[test]
    fn recovery_codes() {
        let codes = generate_recovery_codes(10);
        assert_eq!(codes.len(), 10);
        let unique: HashSet<&String> = codes.iter().map(Secret::expose).collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            let c = code.expose();
            assert_eq!(c.len(), 14, "{c}");
            let groups: Vec<&str> = c.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups.iter().all(|g| g.len() == 4));
            assert!(
                c.bytes()
                    .all(|b| b == b'-' || RECOVERY_ALPHABET.contains(&b))
            );
            // the normal form of a generated code is itself without dashes
            assert_eq!(normalise_recovery_code(c), c.replace('-', ""));
        }
        assert!(generate_recovery_codes(0).is_empty());
    }

    #[test]
    fn recovery_code_hashing() {
        let h = hash_recovery_code("abcd-efgh-jkmn");
        // SHA-256("abcdefghjkmn")
        assert_eq!(
            h,
            "ff25e0a8f930ea31f7d2fdefc87340e34d7f6849d0781d0cd87701a5301722c0"
        );
        assert_eq!(h.len(), 64);
        // typed differently, same hash
        for variant in [
            "ABCD-EFGH-JKMN",
            "abcdefghjkmn",
            " abcd efgh jkmn ",
            "abcd-efgh-jkmn\n",
        ] {
            assert_eq!(hash_recovery_code(variant), h, "{variant:?}");
        }
        // look-alikes
        assert_eq!(
            hash_recovery_code("o1l0-iiii-0000"),
            hash_recovery_code("0110-1111-0000")
        );
        assert_ne!(hash_recovery_code("abcd-efgh-jkmp"), h);
    }
}
