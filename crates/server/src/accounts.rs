//! Accounts and their API credentials: the layer behind the CLI's `account` and `credentials`
//! commands, and later the web dashboard's settings tab.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;

use crate::auth::{PUBLIC_KEY_PREFIX, SECRET_PREFIX};
use crate::store::{AccountRow, CredentialRow, Store, StoreError};
use crate::support::clock::Clock;
use crate::support::digest::sha256;
use crate::support::ids::{random_id, random_token};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("no account with email {0}")]
    AccountNotFound(String),
    #[error("an account with email {0} already exists")]
    AccountExists(String),
    #[error("invalid email address: {0:?}")]
    InvalidEmail(String),
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters")]
    PasswordTooShort,
    #[error("no unrevoked credentials with public key {0}")]
    CredentialsNotFound(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub const MIN_PASSWORD_LEN: usize = 12;

/// An account as shown to its owner (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub created: i64,
}

/// A credential pair as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CredentialInfo {
    pub public_key: String,
    pub name: Option<String>,
    pub created: i64,
    pub revoked: Option<i64>,
}

/// A freshly made pair; the only moment the secret exists outside the caller's hands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewCredentials {
    pub public_key: String,
    pub secret: String,
}

fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace)
    });
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail(email))
    }
}

/// A password of 24 random characters, for `account create` without one on stdin.
pub fn generate_password() -> String {
    random_token(18)
}

pub async fn create_account(
    store: &Store,
    clock: &Clock,
    email: &str,
    password: &str,
) -> Result<Account, AccountError> {
    let email = normalise_email(email)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::PasswordTooShort);
    }
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AccountError::Hashing(e.to_string()))?;
    let password_hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .to_string();
    for _ in 0..5 {
        let row = AccountRow {
            id: random_id(),
            email: email.clone(),
            password_hash: password_hash.clone(),
            created: clock.now(),
        };
        match store.insert_account(&row).await {
            Ok(()) => {
                return Ok(Account {
                    id: row.id,
                    email: row.email,
                    created: row.created,
                });
            }
            Err(e) if e.is_unique_violation() => {
                if store.account_by_email(&email).await?.is_some() {
                    return Err(AccountError::AccountExists(email));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AccountError::Hashing(
        "could not draw a free account id".into(),
    ))
}

pub async fn list_accounts(store: &Store) -> Result<Vec<Account>, AccountError> {
    Ok(store
        .list_accounts()
        .await?
        .into_iter()
        .map(|a| Account {
            id: a.id,
            email: a.email,
            created: a.created,
        })
        .collect())
}

/// Checks an account's password (argon2); for the dashboard's sign-in.
pub async fn verify_password(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<Option<Account>, AccountError> {
    let email = normalise_email(email)?;
    let Some(row) = store.account_by_email(&email).await? else {
        return Ok(None);
    };
    let parsed =
        PasswordHash::new(&row.password_hash).map_err(|e| AccountError::Hashing(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        .then_some(Account {
            id: row.id,
            email: row.email,
            created: row.created,
        }))
}

async fn account(store: &Store, email: &str) -> Result<AccountRow, AccountError> {
    let email = normalise_email(email)?;
    store
        .account_by_email(&email)
        .await?
        .ok_or(AccountError::AccountNotFound(email))
}

/// Makes a new pair for the account: `public-key-` + 128 random bits, `secret-` + 192 random
/// bits. Only the SHA-256 of the secret is stored.
pub async fn create_credentials(
    store: &Store,
    clock: &Clock,
    email: &str,
    name: Option<&str>,
) -> Result<NewCredentials, AccountError> {
    let account = account(store, email).await?;
    for _ in 0..5 {
        let pair = NewCredentials {
            public_key: format!("{PUBLIC_KEY_PREFIX}{}", random_token(16)),
            secret: format!("{SECRET_PREFIX}{}", random_token(24)),
        };
        let row = CredentialRow {
            id: random_id(),
            account_id: account.id,
            public_key: pair.public_key.clone(),
            secret_hash: sha256(pair.secret.as_bytes()),
            name: name.map(str::to_owned),
            created: clock.now(),
            revoked: None,
        };
        match store.insert_credential(&row).await {
            Ok(()) => return Ok(pair),
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AccountError::Hashing(
        "could not draw a free credential id".into(),
    ))
}

pub async fn list_credentials(
    store: &Store,
    email: &str,
) -> Result<Vec<CredentialInfo>, AccountError> {
    let account = account(store, email).await?;
    Ok(store
        .list_credentials(account.id)
        .await?
        .into_iter()
        .map(|c| CredentialInfo {
            public_key: c.public_key,
            name: c.name,
            created: c.created,
            revoked: c.revoked,
        })
        .collect())
}

/// The account's `whsec_…` secret that signs its callbacks (Standard Webhooks), created on
/// first use; `rotate` replaces it, and callbacks sent from then on are signed with the new one.
pub async fn webhook_secret(
    store: &Store,
    email: &str,
    rotate: bool,
) -> Result<String, AccountError> {
    let account = account(store, email).await?;
    Ok(crate::callbacks::account_secret(store, account.id, rotate).await?)
}

/// Revokes the pair; requests with it fail from the next one on, on every instance.
pub async fn revoke_credentials(
    store: &Store,
    clock: &Clock,
    public_key: &str,
) -> Result<(), AccountError> {
    if store.revoke_credential(public_key, clock.now()).await? {
        Ok(())
    } else {
        Err(AccountError::CredentialsNotFound(public_key.to_owned()))
    }
}
