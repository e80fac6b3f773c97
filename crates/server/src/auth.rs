//! API authentication: HTTP Basic with a credential pair, and the hashing of secrets.
//!
//! A secret carries 192 random bits, so a single SHA-256 makes it safe to store and cheap to
//! check on every request; a slow password hash (argon2) is for account passwords only. The
//! credential is looked up in the database on every request, so a revocation takes effect at
//! once on every server instance.

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
