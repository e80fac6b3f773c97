//! The `trust_entries` table: CSCAs, master lists and CRLs as imported.

use sqlx::Row;

use super::{Store, StoreError, Write};

/// A certificate or list the verification trusts (CSCA, master list, CRL, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    pub id: i64,
    pub kind: String,
    pub der: Vec<u8>,
    /// Hex SHA-256 of `der`; unique, so adding the same entry twice is a no-op.
    pub sha256: String,
    pub description: String,
    pub created: i64,
}

impl Store {
    /// Adds an entry unless one with the same `sha256` exists; true if it was inserted.
    pub async fn add_trust_entry(
        &self,
        kind: &str,
        der: &[u8],
        sha256: &str,
        description: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        for _ in 0..5 {
            let id = crate::support::ids::random_id();
            let result = write_query!(
                self,
                execute Write::new(
                    "INSERT INTO trust_entries (id, kind, der, sha256, description, created) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(id)
                .bind(kind.to_owned())
                .bind(der.to_vec())
                .bind(sha256.to_owned())
                .bind(description.to_owned())
                .bind(now)
            );
            match result {
                Ok(rows) => return Ok(rows == 1),
                Err(e) if e.is_unique_violation() => {}
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Config(
            "could not draw a free trust entry id".into(),
        ))
    }

    pub async fn list_trust_entries(&self) -> Result<Vec<TrustEntry>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, kind, der, sha256, description, created FROM trust_entries ORDER BY created, id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(TrustEntry {
                        id: r.try_get("id")?,
                        kind: r.try_get("kind")?,
                        der: r.try_get("der")?,
                        sha256: r.try_get("sha256")?,
                        description: r.try_get("description")?,
                        created: r.try_get("created")?,
                    })
                })
                .collect()
        })
    }
}
