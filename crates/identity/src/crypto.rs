//! The server's secrets as identity uses them: PII encryption of user fields, the blind
//! index used to find a user by email, and the access-token signing key.

use std::sync::Arc;

use kernel::pii::DataKeyRing;

use crate::model::IdentityError;

/// Keys loaded at start (see the server's key configuration).
pub struct Keys {
    ring: Arc<DataKeyRing>,
    jwt_secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

pub use kernel::pii::normalise_email;

impl Keys {
    /// Wraps a key ring and the JWT signing secret.
    pub fn new(ring: Arc<DataKeyRing>, jwt_secret: Vec<u8>) -> Self {
        Self { ring, jwt_secret }
    }

    /// The key ring (for rotation, and shared with other modules' PII fields).
    pub fn ring(&self) -> &Arc<DataKeyRing> {
        &self.ring
    }

    /// Encrypts a field value bound to its place (`aad`, e.g. `users:<id>:email`).
    pub fn encrypt(&self, value: &str, aad: &str) -> Result<String, IdentityError> {
        self.ring
            .encrypt(value, aad.as_bytes())
            .map_err(|e| IdentityError::Crypto(e.to_string()))
    }

    /// Decrypts a field value stored by [`Keys::encrypt`] with the same `aad`.
    pub fn decrypt(&self, token: &str, aad: &str) -> Result<String, IdentityError> {
        self.ring
            .decrypt(token, aad.as_bytes())
            .map_err(|e| IdentityError::Crypto(e.to_string()))
    }

    /// Blind index of an email, for exact lookup without storing it in clear.
    pub fn email_index(&self, email: &str) -> String {
        self.ring.blind_index("user-email", &normalise_email(email))
    }

    /// HS256 signing secret of access tokens.
    pub fn jwt_secret(&self) -> &[u8] {
        &self.jwt_secret
    }
}
