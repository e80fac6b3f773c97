//! API authentication: HTTP Basic with a credential pair, and the hashing of secrets.
//!
//! A secret carries 192 random bits, so a single SHA-256 makes it safe to store and cheap to
//! check on every request; a slow password hash (argon2) is for account passwords only. The
//! credential is looked up in the database on every request, so a revocation takes effect at
//! once on every server instance.

use std::collections::HashMap;
use std::sync::Mutex;

use subtle::ConstantTimeEq;

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

/// The caller, if the pair names an unrevoked credential and the secret matches.
pub async fn authenticate(
    store: &Store,
    public_key: &str,
    secret: &str,
) -> Result<Option<Caller>, StoreError> {
    if !public_key.starts_with(PUBLIC_KEY_PREFIX) || !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let presented = sha256(secret.as_bytes());
    let Some((credential, email)) = store.credential_with_email(public_key).await? else {
        return Ok(None);
    };
    let matches: bool = credential.secret_hash.ct_eq(&presented).into();
    if !matches || credential.revoked.is_some() {
        return Ok(None);
    }
    Ok(Some(Caller {
        account_id: credential.account_id,
        email,
        credential_id: credential.id,
    }))
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
