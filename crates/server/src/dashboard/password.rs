//! Account passwords for the dashboard: Argon2id hashes (as `account create` makes them), a
//! check that costs the same whether or not the account exists, and `account password`.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::accounts::{AccountError, MIN_PASSWORD_LEN};
use crate::store::{AccountRow, Store};
use crate::support::clock::Clock;

/// An Argon2id PHC string for `password`, with a fresh salt from the OS RNG.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt_bytes = super::os_random_bytes(16);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AccountError::Hashing(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .to_string())
}

/// A hash no password matches, checked against when the email names no account so that the
/// answer takes as long as for a real account.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&super::os_random_token(24)).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000"
                .to_owned()
        })
    })
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The account whose email and password these are. The Argon2 work runs off the async
/// threads, and runs once whether the account exists or not.
pub async fn check_sign_in(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<Option<AccountRow>, AccountError> {
    let email = email.trim().to_lowercase();
    let row = if email.is_empty() || email.len() > 320 {
        None
    } else {
        store.account_by_email(&email).await?
    };
    let hash = row
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |r| r.password_hash.clone());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify(&hash, &password))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?;
    Ok(row.filter(|_| matches))
}

/// Sets the account's password (`account password --email E`) and signs it out of the
/// dashboard everywhere.
pub async fn set_password(
    store: &Store,
    clock: &Clock,
    email: &str,
    password: &str,
) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::PasswordTooShort);
    }
    let email = email.trim().to_lowercase();
    let account = store
        .account_by_email(&email)
        .await?
        .ok_or_else(|| AccountError::AccountNotFound(email.clone()))?;
    let hash = hash_password(password)?;
    store.set_password_hash(account.id, &hash).await?;
    store
        .revoke_account_dashboard_sessions(account.id, clock.now())
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let a = hash_password("correct horse battery staple").unwrap();
        let b = hash_password("correct horse battery staple").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify(&a, "correct horse battery staple"));
        assert!(!verify(&a, "wrong"));
        assert!(!verify(decoy_hash(), ""));
    }
}
