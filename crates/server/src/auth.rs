//! API authentication: HTTP Basic with a credential pair, and the hashing of secrets.
//!
//! A secret carries 192 random bits, so a single SHA-256 makes it safe to store and cheap to
//! check on every request; a slow password hash (argon2) is for account passwords only. The
//! credential is looked up in the database on every request, so a revocation takes effect at
//! once on every server instance.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{Store, StoreError};

pub const PUBLIC_KEY_PREFIX: &str = "public-key-";
pub const SECRET_PREFIX: &str = "secret-";

/// The account an API request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: i64,
    pub email: String,
    pub credential_id: i64,
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Splits an `Authorization: Basic base64(public_key:secret)` header value.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_header() {
        let h = format!("Basic {}", STANDARD.encode("public-key-abc:secret-x:y"));
        assert_eq!(
            parse_basic(&h),
            Some(("public-key-abc".into(), "secret-x:y".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}
