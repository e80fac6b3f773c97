//! The `accounts` table: who signs in, and each account's webhook secret.

use sqlx::Row;

use super::{Store, StoreError, Write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created: i64,
}

impl Store {
    /// Fails with a unique violation if the id or the email is taken.
    pub async fn insert_account(&self, account: &AccountRow) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "INSERT INTO accounts (id, email, password_hash, created) VALUES ($1, $2, $3, $4)",
            )
            .bind(account.id)
            .bind(&account.email)
            .bind(&account.password_hash)
            .bind(account.created))?;
        };
        Ok(())
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<AccountRow>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT id, email, password_hash, created FROM accounts WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some(AccountRow {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    password_hash: r.try_get("password_hash")?,
                    created: r.try_get("created")?,
                }),
            })
        })
    }

    pub async fn list_accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, email, password_hash, created FROM accounts ORDER BY email",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(AccountRow {
                        id: r.try_get("id")?,
                        email: r.try_get("email")?,
                        password_hash: r.try_get("password_hash")?,
                        created: r.try_get("created")?,
                    })
                })
                .collect()
        })
    }

    /// The account's webhook secret, if it has one.
    pub async fn webhook_secret(&self, account_id: i64) -> Result<Option<String>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query("SELECT webhook_secret FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(r) => r.try_get("webhook_secret")?,
                None => None,
            })
        })
    }

    /// Sets the account's webhook secret; with `only_if_unset`, only if it has none (so that two
    /// first uses racing each other agree on one secret). True if the row changed.
    pub async fn set_webhook_secret(
        &self,
        account_id: i64,
        secret: &str,
        only_if_unset: bool,
    ) -> Result<bool, StoreError> {
        let sql = if only_if_unset {
            "UPDATE accounts SET webhook_secret = $1 WHERE id = $2 AND webhook_secret IS NULL"
        } else {
            "UPDATE accounts SET webhook_secret = $1 WHERE id = $2"
        };
        {
            let rows = write_query!(self, execute Write::new(sql)
                .bind(secret)
                .bind(account_id))?;
            Ok(rows == 1)
        }
    }
}
