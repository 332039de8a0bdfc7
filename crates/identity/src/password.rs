//! Password hashing (Argon2id) and the password policy.
//!
//! # Parameters
//!
//! Argon2id, version 0x13, **m = 19456 KiB (19 MiB), t = 2, p = 1**, 16-byte random
//! salt, 32-byte output: the first of the equivalent configurations recommended by the
//! OWASP Password Storage Cheat Sheet ("a minimum configuration of 19 MiB of memory, an
//! iteration count of 2, and 1 degree of parallelism"), which is also the `argon2`
//! crate's default and RFC 9106's memory-constrained profile scaled for servers.
//! Why this point on the curve: p = 1 because a login must not take more than one core
//! of our 2-core machines (the rest of the server keeps serving); 19 MiB per hash keeps
//! 64 concurrent logins under 1.3 GiB; t = 2 then brings one hash to tens of
//! milliseconds in a release build, slow enough to make offline guessing expensive and
//! fast enough for an interactive login. The parameters are stored in every PHC string,
//! so raising them later only needs [`needs_rehash`] on successful logins.
//!
//! Hashing runs on `tokio::task::spawn_blocking`: tens of milliseconds of CPU would
//! otherwise stall every other request on the same async worker.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use kernel::pii::Secret;

use crate::model::IdentityError;

/// Argon2 memory cost in KiB (19 MiB).
pub const ARGON2_M_COST_KIB: u32 = 19_456;
/// Argon2 iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2 lanes (degree of parallelism).
pub const ARGON2_P_COST: u32 = 1;

/// Minimum password length, in characters (not bytes: `é` counts once).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A local part shorter than this is only refused as the whole password, not as a
/// substring (`jo@x.com` must not forbid every password containing "jo").
const MIN_LOCAL_PART_SUBSTRING: usize = 3;

// Checked at compile time: invalid parameters fail the build, not a login.
const PARAMS: Params = match Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid Argon2 parameters"),
};

/// Hash of a random, forgotten password under the current parameters, verified
/// against by [`dummy_verify`] so an unknown email costs as much as a wrong password.
/// A test checks it still matches the parameters above.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$zZl4ToHbQ+jlop+/rOP1Sw$b4WxnH1STVParH//Ghm4OHjgv5V7p6nzogLuS/MGHKE";

/// The bundled list of common passwords (see `data/README.md`), lowercased.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

/// Hashes a password with Argon2id and a random salt into a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) for storage.
pub async fn hash_password(password: Secret<String>) -> Result<String, IdentityError> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| IdentityError::PasswordHash(e.to_string()))
    })
    .await
    .map_err(|e| IdentityError::Task(e.to_string()))?
}

/// True if `password` matches the stored PHC string. A malformed or unsupported hash,
/// or a failed task, is a mismatch: a login never succeeds by accident.
///
/// The cost parameters are read from the PHC string, so hashes made under older
/// parameters keep verifying (see [`needs_rehash`]).
pub async fn verify_password(password: Secret<String>, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(password.expose(), &phc))
        .await
        .unwrap_or(false)
}

/// Spends the time of one password verification and returns nothing.
///
/// Call it with the submitted password when the email is unknown (or the account
/// cannot sign in), then answer with the same generic error as for a wrong password:
/// the response time no longer tells an attacker which emails have accounts.
pub async fn dummy_verify(password: Secret<String>) {
    let _ = verify_password(password, DUMMY_PHC.to_owned()).await;
}

/// True if a stored hash was made with another algorithm or other parameters than the
/// current ones (or cannot be parsed): after a successful login, hash the password
/// again and store the new PHC string.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return true;
    };
    hash.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str()
        || hash.version != Some(Version::V0x13.into())
        || params.m_cost() != ARGON2_M_COST_KIB
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// Checks a new password against the policy; on refusal, every reason, each a
/// sentence fit to show the user.
///
/// Rules (NIST SP 800-63B style: length and a blocklist, no composition rules):
/// - at least [`MIN_PASSWORD_CHARS`] characters;
/// - not in the bundled list of common passwords (case-insensitive);
/// - not the email address or its local part, and not containing the local part
///   (when that is at least 3 characters; a `+tag` is also checked without the tag).
pub fn check_password_policy(password: &str, email: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        problems.push(format!(
            "Password must be at least {MIN_PASSWORD_CHARS} characters long."
        ));
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lowered.trim()) {
        problems.push("Password is too common; choose one that is harder to guess.".to_owned());
    }
    if contains_email(&lowered, email) {
        problems.push("Password must not contain your email address.".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether the (lowercased) password is, or contains, the email or its local part.
fn contains_email(password: &str, email: &str) -> bool {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return false;
    }
    let local = email
        .rsplit_once('@')
        .map_or(email.as_str(), |(local, _)| local);
    let untagged = local.split_once('+').map_or(local, |(base, _)| base);
    let trimmed = password.trim();
    if trimmed == email || trimmed == local || (!untagged.is_empty() && trimmed == untagged) {
        return true;
    }
    [local, untagged]
        .iter()
        .any(|part| part.chars().count() >= MIN_LOCAL_PART_SUBSTRING && password.contains(part))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let phc = hash_password(secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(!needs_rehash(&phc));
        assert!(verify_password(secret("correct horse battery staple"), phc.clone()).await);
        assert!(!verify_password(secret("correct horse battery stapl"), phc.clone()).await);
        assert!(!verify_password(secret(""), phc.clone()).await);
        // same password, new salt, different hash
        let again = hash_password(secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_ne!(phc, again);
    }

    #[tokio::test]
    async fn malformed_hash_never_verifies() {
        for phc in [
            "",
            "plaintext",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$2b$12$abc",
        ] {
            assert!(!verify_password(secret("x"), phc.to_owned()).await, "{phc}");
            assert!(needs_rehash(phc));
        }
    }

    #[tokio::test]
    async fn old_parameters_still_verify_but_need_rehash() {
        // a hash made with cheaper parameters, as if from an older release
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"an old password here")
        .unwrap()
        .to_string();
        assert!(verify_password(secret("an old password here"), old.clone()).await);
        assert!(needs_rehash(&old));
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, PARAMS)
            .hash_password(b"x")
            .unwrap()
            .to_string();
        assert!(needs_rehash(&argon2i));
    }

    #[tokio::test]
    async fn dummy_hash_costs_the_same_as_a_real_one() {
        // Same algorithm and cost parameters as real hashes: same work per verify.
        assert!(
            !needs_rehash(DUMMY_PHC),
            "regenerate DUMMY_PHC for the new parameters"
        );
        let real = hash_password(secret("some password 123")).await.unwrap();
        let dummy = PasswordHash::new(DUMMY_PHC).unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.salt.unwrap().len(), real.salt.unwrap().len());
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
        // and it completes (does not short-circuit on a parse error)
        assert!(!verify_blocking("x", DUMMY_PHC));
        dummy_verify(secret("whatever")).await;
    }

    #[test]
    fn policy_length_counts_characters() {
        assert!(check_password_policy("Zq8#mW2!pL5x", "a@b.c").is_ok());
        let err = check_password_policy("Zq8#mW2!pL5", "a@b.c").unwrap_err();
        assert_eq!(err, vec!["Password must be at least 12 characters long."]);
        // 11 two-byte characters are 22 bytes but still too short
        assert!(check_password_policy("ééééééééééé", "a@b.c").is_err());
        assert!(check_password_policy("éééééééééééé", "a@b.c").is_ok());
        assert!(check_password_policy("", "a@b.c").is_err());
    }

    #[test]
    fn policy_common_passwords() {
        assert!(COMMON_PASSWORDS.len() > 10_000);
        for common in [
            "1qaz2wsx3edc",
            "QWERTY123456",
            "Qwerty123456",
            "123456789987654321",
        ] {
            let err = check_password_policy(common, "a@b.c").unwrap_err();
            assert!(err.iter().any(|e| e.contains("too common")), "{common}");
        }
        // short common passwords report both problems
        assert_eq!(
            check_password_policy("password", "a@b.c")
                .unwrap_err()
                .len(),
            2
        );
        assert!(check_password_policy("purple-otter-canoe", "a@b.c").is_ok());
    }

    #[test]
    fn policy_email() {
        let email = "John.Doe@acme.com";
        for bad in [
            "john.doe@acme.com",
            "JOHN.DOE@ACME.COM",
            "john.doe2024!!",
            "my-john.doe-password",
        ] {
            let err = check_password_policy(bad, email).unwrap_err();
            assert!(err.iter().any(|e| e.contains("email")), "{bad}");
        }
        assert!(check_password_policy("johnny-be-good-2024", email).is_ok());
        // short local parts only block equality
        assert!(check_password_policy("enjoy the quiet hills", "jo@acme.com").is_ok());
        // +tags are stripped for the substring check
        assert!(check_password_policy("maryjane is my name", "maryjane+crm@acme.com").is_err());
        // no email, or a blank one, blocks nothing
        assert!(check_password_policy("purple-otter-canoe", "").is_ok());
        // every problem is reported at once
        assert_eq!(
            check_password_policy("xq7bob", "xq7bob@acme.com")
                .unwrap_err()
                .len(),
            2
        );
    }
}
