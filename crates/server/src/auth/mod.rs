//! API authentication: HTTP Basic with a credential pair, and the hashing of secrets.
//!
//! A secret carries 192 random bits, so a single SHA-256 makes it safe to store and cheap to
//! check on every request; a slow password hash (argon2) is for account passwords only. On SQLite
//! the credential is read from the database on every request; on PostgreSQL it is held in memory
//! ([`cache`]) by a protocol that keeps a revocation immediate on every server instance.

pub mod cache;

use std::collections::HashMap;
use std::sync::Mutex;

use subtle::ConstantTimeEq;

use self::cache::{CachedCredential, CredentialCache};
use crate::store::{Store, StoreError};
use crate::support::digest::sha256;

pub const PUBLIC_KEY_PREFIX: &str = "public-key-";
pub const SECRET_PREFIX: &str = "secret-";

/// The account an API request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: i64,
    pub email: String,
    pub credential_id: i64,
}

/// The caller, if the pair names an unrevoked credential and the secret matches: from memory
/// when `cache` holds the credential, else from the store (filling the cache).
pub async fn authenticate(
    store: &Store,
    cache: &CredentialCache,
    public_key: &str,
    secret: &str,
) -> Result<Option<Caller>, StoreError> {
    if !public_key.starts_with(PUBLIC_KEY_PREFIX) || !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let presented = sha256(secret.as_bytes());
    let credential = match cache.get(public_key) {
        Some(cached) => cached,
        None => {
            let permit = cache.fill_permit();
            let Some((row, email)) = store.credential_with_email(public_key).await? else {
                return Ok(None);
            };
            if row.revoked.is_some() {
                return Ok(None);
            }
            let credential = CachedCredential {
                caller: Caller {
                    account_id: row.account_id,
                    email,
                    credential_id: row.id,
                },
                secret_hash: row.secret_hash,
            };
            if let Some(permit) = permit {
                cache.fill(permit, public_key, credential.clone());
            }
            credential
        }
    };
    let matches: bool = credential.secret_hash.ct_eq(&presented).into();
    Ok(matches.then_some(credential.caller))
}

/// When this instance last recorded each credential's use (the dashboard's "last used"), so
/// that noting it costs one write a minute per credential rather than one per request.
#[derive(Debug, Default)]
pub struct LastUse(Mutex<HashMap<i64, i64>>);

impl LastUse {
    /// Seconds between two notes of one credential's use.
    pub const INTERVAL: i64 = 60;

    /// Whether the use at `now` should be written (and, if so, remembers it as written).
    pub fn due(&self, credential_id: i64, now: i64) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if last
            .get(&credential_id)
            .is_some_and(|t| now.saturating_sub(*t) < Self::INTERVAL)
        {
            return false;
        }
        if last.len() >= 100_000 {
            last.clear();
        }
        last.insert(credential_id, now);
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_noted_once_a_minute() {
        let last = LastUse::default();
        assert!(last.due(1, 1000));
        assert!(!last.due(1, 1059));
        assert!(last.due(2, 1059));
        assert!(last.due(1, 1060));
    }
}
