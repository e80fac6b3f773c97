//! The `credentials` table: API key pairs, the secret stored as its SHA-256.

use sqlx::Row;

use super::{Store, StoreError, Write};

macro_rules! credential_from_row {
    ($r:expr) => {
        CredentialRow {
            id: $r.try_get("id")?,
            account_id: $r.try_get("account_id")?,
            public_key: $r.try_get("public_key")?,
            secret_hash: $r.try_get("secret_hash")?,
            name: $r.try_get("name")?,
            created: $r.try_get("created")?,
            revoked: $r.try_get("revoked")?,
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: i64,
    pub account_id: i64,
    pub public_key: String,
    /// SHA-256 of the secret.
    pub secret_hash: Vec<u8>,
    pub name: Option<String>,
    pub created: i64,
    pub revoked: Option<i64>,
}

impl Store {
    pub async fn insert_credential(&self, c: &CredentialRow) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "INSERT INTO credentials (id, account_id, public_key, secret_hash, name, created, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(c.id)
            .bind(c.account_id)
            .bind(&c.public_key)
            .bind(&c.secret_hash)
            .bind(&c.name)
            .bind(c.created)
            .bind(c.revoked))?;
        };
        Ok(())
    }

    /// The credential with this public key, revoked or not.
    pub async fn credential_by_public_key(
        &self,
        public_key: &str,
    ) -> Result<Option<CredentialRow>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT id, account_id, public_key, secret_hash, name, created, revoked \
                 FROM credentials WHERE public_key = $1",
            )
            .bind(public_key)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some(credential_from_row!(r)),
            })
        })
    }

    /// The credential with this public key and its account's email, in one round trip: what
    /// every API request's authentication reads.
    pub async fn credential_with_email(
        &self,
        public_key: &str,
    ) -> Result<Option<(CredentialRow, String)>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT c.id, c.account_id, c.public_key, c.secret_hash, c.name, c.created, c.revoked, a.email \
                 FROM credentials c JOIN accounts a ON a.id = c.account_id WHERE c.public_key = $1",
            )
            .bind(public_key)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some((credential_from_row!(r), r.try_get("email")?)),
            })
        })
    }

    pub async fn list_credentials(
        &self,
        account_id: i64,
    ) -> Result<Vec<CredentialRow>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, account_id, public_key, secret_hash, name, created, revoked \
                 FROM credentials WHERE account_id = $1 ORDER BY created, id",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(credential_from_row!(r))).collect()
        })
    }

    /// Marks the credential revoked; false if there is no such unrevoked credential. On
    /// PostgreSQL it returns once no running server instance holds the pair in memory any more
    /// (see [`super::credential_cache`]), so the pair is refused everywhere from then on.
    pub async fn revoke_credential(&self, public_key: &str, now: i64) -> Result<bool, StoreError> {
        const REVOKE: &str =
            "UPDATE credentials SET revoked = $1 WHERE public_key = $2 AND revoked IS NULL";
        match self {
            Store::Sqlite(sqlite) => {
                let rows = sqlite
                    .writer
                    .execute(Write::new(REVOKE).bind(now).bind(public_key))
                    .await?;
                Ok(rows == 1)
            }
            Store::Postgres(super::PostgresStore { pool, .. }) => {
                let mut tx = pool.begin().await?;
                let rows = sqlx::query(REVOKE)
                    .bind(now)
                    .bind(public_key)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if rows != 1 {
                    return Ok(false);
                }
                let generation = super::credential_cache::announce_revocation(&mut tx).await?;
                tx.commit().await?;
                super::credential_cache::await_acknowledgements(pool, generation).await?;
                Ok(true)
            }
        }
    }
}
