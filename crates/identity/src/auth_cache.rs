//! What authentication reads on every request (membership, role, session; API keys),
//! cached in process so an authenticated request costs no database round trip.
//!
//! Correctness rules:
//! - every write in this process that can change what a credential may do (role change,
//!   deactivation, logout, refresh-token reuse, role deletion, key revocation) bumps the
//!   generation, which invalidates every entry: the change applies to the next request;
//! - entries also expire after a short TTL (2 s), which bounds how long a change made by
//!   another process (the CLI, another server instance) can go unseen.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kernel::tenancy::{PermissionSet, Scope};
use uuid::Uuid;

/// How long an entry may be used without re-reading the database.
pub const TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; the map is cleared when it grows past this.
const MAX_ENTRIES: usize = 100_000;

/// A user session's authorisation, as read from the database.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    /// Role name.
    pub role: String,
    /// Permissions of the role.
    pub permissions: PermissionSet,
    /// Site/division limits.
    pub scope: Scope,
}

/// An API key, as read from the database.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    /// Organisation.
    pub org_id: Uuid,
    /// Key id.
    pub id: Uuid,
    /// Key name.
    pub name: String,
    /// SHA-256 hex of the secret.
    pub secret_hash: String,
    /// Granted permissions.
    pub permissions: PermissionSet,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation.
    pub revoked: bool,
    /// Last recorded use.
    pub last_used_at: Option<DateTime<Utc>>,
}

struct Entry<T> {
    value: T,
    generation: u64,
    loaded: Instant,
}

/// The cache.
#[derive(Default)]
pub struct AuthCache {
    generation: AtomicU64,
    sessions: RwLock<HashMap<(Uuid, Uuid, Uuid), Entry<SessionGrant>>>,
    keys: RwLock<HashMap<String, Entry<KeyGrant>>>,
}

impl AuthCache {
    /// Forgets everything (call after any write that changes what a credential may do).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn fresh<T: Clone>(&self, entry: Option<&Entry<T>>) -> Option<T> {
        let entry = entry?;
        (entry.generation == self.generation.load(Ordering::SeqCst) && entry.loaded.elapsed() < TTL)
            .then(|| entry.value.clone())
    }

    /// The cached grant of (org, user, session), if fresh.
    pub fn session(&self, key: (Uuid, Uuid, Uuid)) -> Option<SessionGrant> {
        let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        self.fresh(map.get(&key))
    }

    /// Remembers a grant read at `generation` (taken before the read, so a concurrent
    /// invalidation is never lost).
    pub fn store_session(&self, key: (Uuid, Uuid, Uuid), value: SessionGrant, generation: u64) {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                value,
                generation,
                loaded: Instant::now(),
            },
        );
    }

    /// The cached API key with this prefix, if fresh.
    pub fn key(&self, prefix: &str) -> Option<KeyGrant> {
        let map = self.keys.read().unwrap_or_else(|p| p.into_inner());
        self.fresh(map.get(prefix))
    }

    /// Remembers an API key read at `generation`.
    pub fn store_key(&self, prefix: &str, value: KeyGrant, generation: u64) {
        let mut map = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            prefix.to_owned(),
            Entry {
                value,
                generation,
                loaded: Instant::now(),
            },
        );
    }

    /// The current generation, to pass to `store_*` after a read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_and_stale_generation() {
        let cache = AuthCache::default();
        let key = (Uuid::nil(), Uuid::nil(), Uuid::nil());
        let grant = SessionGrant {
            role: "Viewer".to_owned(),
            permissions: PermissionSet::new(["users:read"]),
            scope: Scope::default(),
        };
        let before = cache.generation();
        cache.store_session(key, grant.clone(), before);
        assert!(cache.session(key).is_some());
        cache.invalidate();
        assert!(cache.session(key).is_none(), "invalidated");
        // A value read before an invalidation must not be served after it.
        cache.store_session(key, grant, before);
        assert!(
            cache.session(key).is_none(),
            "stored with an old generation"
        );
    }
}
