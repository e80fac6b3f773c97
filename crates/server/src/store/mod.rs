//! The storage layer: one API over two backends, SQLite (embedded default) and PostgreSQL.
//!
//! Every query is written once, with `$N` placeholders, which both SQLite and PostgreSQL accept;
//! [`with_pool!`] expands the same code for each backend's pool. No state lives in the process:
//! every check (revocation, expiry, session state) is a statement against the database, so
//! several server instances on one PostgreSQL database stay consistent. State changes are single
//! conditional `UPDATE`s, so concurrent writers never lose an update.

mod postgres;
mod sqlite;

use sqlx::{AssertSqlSafe, Row};

use crate::config::{DatabaseLocation, Settings, redact_url};
use crate::sessions::model::{
    DocumentType, HolderFlow, NewSession, SessionFilter, SessionRow, Sex, State,
};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("invalid value in column {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

impl StoreError {
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// A handle on the database; cheap to clone (it wraps a connection pool).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs the same code against whichever pool the store holds.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Binds a list of [`Bind`]s onto a query, for SQL assembled at run time.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                Bind::I64(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

enum Bind {
    I64(i64),
    Text(String),
}

const SESSION_COLUMNS: &str = "id, account_id, state, state_reason, reference, callback_url, \
    face_verification, passport_only, created, expires, user_ip, user_agent, given_names, surname, \
    nationality, sex, date_of_birth, personal_number, document_type, document_number, expiry_date, \
    issuing_country, issuer, portrait, face, aa_challenge, passive_authentication, \
    active_authentication, chip_authentication, clone_check, face_match, face_match_score, rejection_reason, document_signer, \
    verified, personal_data_erased";

macro_rules! session_from_row {
    ($row:expr) => {{
        let row = &$row;
        let state: String = row.try_get("state")?;
        let sex: Option<String> = row.try_get("sex")?;
        let document_type: Option<String> = row.try_get("document_type")?;
        SessionRow {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            state: State::parse(&state).ok_or(StoreError::Corrupt {
                column: "state",
                value: state.clone(),
            })?,
            state_reason: row.try_get("state_reason")?,
            reference: row.try_get("reference")?,
            callback_url: row.try_get("callback_url")?,
            face_verification: row.try_get("face_verification")?,
            passport_only: row.try_get("passport_only")?,
            created: row.try_get("created")?,
            expires: row.try_get("expires")?,
            user_ip: row.try_get("user_ip")?,
            user_agent: row.try_get("user_agent")?,
            given_names: row.try_get("given_names")?,
            surname: row.try_get("surname")?,
            nationality: row.try_get("nationality")?,
            sex: match sex {
                None => None,
                Some(s) => Some(Sex::parse(&s).ok_or(StoreError::Corrupt {
                    column: "sex",
                    value: s.clone(),
                })?),
            },
            date_of_birth: row.try_get("date_of_birth")?,
            personal_number: row.try_get("personal_number")?,
            document_type: match document_type {
                None => None,
                Some(s) => Some(DocumentType::parse(&s).ok_or(StoreError::Corrupt {
                    column: "document_type",
                    value: s.clone(),
                })?),
            },
            document_number: row.try_get("document_number")?,
            expiry_date: row.try_get("expiry_date")?,
            issuing_country: row.try_get("issuing_country")?,
            issuer: row.try_get("issuer")?,
            portrait: row.try_get("portrait")?,
            face: row.try_get("face")?,
            holder_flow: HolderFlow {
                aa_challenge: row.try_get("aa_challenge")?,
                passive_authentication: row.try_get("passive_authentication")?,
                active_authentication: row.try_get("active_authentication")?,
                chip_authentication: row.try_get("chip_authentication")?,
                clone_check: row.try_get("clone_check")?,
                face_match: row.try_get("face_match")?,
                face_match_score: row.try_get("face_match_score")?,
                rejection_reason: row.try_get("rejection_reason")?,
                document_signer: row.try_get("document_signer")?,
                verified: row.try_get("verified")?,
                personal_data_erased: row.try_get("personal_data_erased")?,
            },
        }
    }};
}

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
pub struct AccountRow {
    pub id: i64,
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created: i64,
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

mod holder_flow;
pub use holder_flow::VerificationRecord;
pub mod dashboard;

/// Result of a conditional change to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Applied,
    NotFound,
    /// The session exists but is finished (or expired), so it may no longer change.
    Finished,
}

impl Store {
    /// Opens the database `settings` point at, creating the SQLite file and folder if needed,
    /// and brings the schema up to date.
    pub async fn open(settings: &Settings) -> Result<Store, StoreError> {
        let location = settings.database_location().map_err(StoreError::Config)?;
        let store = match &location {
            DatabaseLocation::Sqlite(path) => {
                Store::Sqlite(sqlite::connect(path, settings.max_db_connections).await?)
            }
            DatabaseLocation::Postgres(url) => {
                Store::Postgres(postgres::connect(url, settings.max_db_connections).await?)
            }
        };
        store.migrate().await?;
        tracing::info!(
            backend = store.backend_name(),
            location = %match &location {
                DatabaseLocation::Sqlite(p) => p.display().to_string(),
                DatabaseLocation::Postgres(u) => redact_url(u),
            },
            "database ready"
        );
        Ok(store)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool) => sqlite::migrator().run(pool).await?,
            Store::Postgres(pool) => postgres::migrator().run(pool).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    // ---- accounts ----

    /// Fails with a unique violation if the id or the email is taken.
    pub async fn insert_account(&self, account: &AccountRow) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO accounts (id, email, password_hash, created) VALUES ($1, $2, $3, $4)",
            )
            .bind(account.id)
            .bind(&account.email)
            .bind(&account.password_hash)
            .bind(account.created)
            .execute(pool)
            .await?;
        });
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

    // ---- credentials ----

    pub async fn insert_credential(&self, c: &CredentialRow) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO credentials (id, account_id, public_key, secret_hash, name, created, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(c.id)
            .bind(c.account_id)
            .bind(&c.public_key)
            .bind(&c.secret_hash)
            .bind(&c.name)
            .bind(c.created)
            .bind(c.revoked)
            .execute(pool)
            .await?;
        });
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

    /// Marks the credential revoked; false if there is no such unrevoked credential.
    pub async fn revoke_credential(&self, public_key: &str, now: i64) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE credentials SET revoked = $1 WHERE public_key = $2 AND revoked IS NULL",
            )
            .bind(now)
            .bind(public_key)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    // ---- sessions ----

    /// Fails with a unique violation if the id (or token hash) is taken; the caller retries.
    pub async fn insert_session(&self, s: &NewSession) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (id, account_id, state, reference, callback_url, face_verification, \
                 passport_only, created, expires, token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(s.id)
            .bind(s.account_id)
            .bind(State::Created.as_str())
            .bind(&s.reference)
            .bind(&s.callback_url)
            .bind(s.face_verification)
            .bind(s.passport_only)
            .bind(s.created)
            .bind(s.expires)
            .bind(&s.token_hash)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Turns the account's unfinished sessions past `expires` into ABORTED/EXPIRED (only the one
    /// with `id`, if given). A conditional UPDATE, so every instance sees the same outcome.
    pub async fn expire_sessions(
        &self,
        account_id: i64,
        id: Option<i64>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut sql = String::from(
            "UPDATE sessions SET state = 'ABORTED', state_reason = 'EXPIRED' \
             WHERE account_id = $1 AND state IN ('CREATED', 'INITIATED') AND expires <= $2",
        );
        let mut binds = vec![Bind::I64(account_id), Bind::I64(now)];
        if let Some(id) = id {
            sql.push_str(" AND id = $3");
            binds.push(Bind::I64(id));
        }
        with_pool!(self, |pool| {
            let q = bind_all!(sqlx::query(AssertSqlSafe(sql)), &binds);
            Ok(q.execute(pool).await?.rows_affected())
        })
    }

    /// Ends every account's unfinished sessions past `expires` (ABORTED/EXPIRED): the sweep
    /// that `serve` runs, so that their callbacks fire without anyone asking about them.
    pub async fn expire_all_sessions(&self, now: i64) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sessions SET state = 'ABORTED', state_reason = 'EXPIRED' \
                 WHERE state IN ('CREATED', 'INITIATED') AND expires <= $1",
            )
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// The account's session with this id, expiry applied; `None` also for another account's.
    pub async fn get_session(
        &self,
        account_id: i64,
        id: i64,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let found = self.select_session(account_id, id).await?;
        match found {
            // Only a session that looks expired costs a write; the conditional UPDATE decides
            // (another instance may have finished it meanwhile), then the row is read again.
            Some(s) if !s.state.is_finished() && s.expires <= now => {
                self.expire_sessions(account_id, Some(id), now).await?;
                self.select_session(account_id, id).await
            }
            other => Ok(other),
        }
    }

    async fn select_session(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1 AND account_id = $2");
        with_pool!(self, |pool| {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(account_id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                None => None,
                Some(r) => Some(session_from_row!(r)),
            })
        })
    }

    /// Whether the account has unfinished sessions past `expires` (a read, so that listing does
    /// not take SQLite's write lock when there is nothing to expire).
    async fn has_expired_sessions(&self, account_id: i64, now: i64) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT 1 AS one FROM sessions WHERE account_id = $1 AND state IN ('CREATED', 'INITIATED') \
                 AND expires <= $2 LIMIT 1",
            )
            .bind(account_id)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            Ok(row.is_some())
        })
    }

    /// The session whose token hashes to `token_hash`, expiry applied (for the holder's flow).
    pub async fn session_by_token_hash(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        let found = with_pool!(self, |pool| {
            let row = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(token_hash)
                .fetch_optional(pool)
                .await?;
            match row {
                None => None,
                Some(r) => Some(session_from_row!(r)),
            }
        });
        match found {
            Some(s) if !s.state.is_finished() && s.expires <= now => {
                self.get_session(s.account_id, s.id, now).await
            }
            other => Ok(other),
        }
    }

    /// The account's sessions matching `filter`, newest first (by `created`, then `id`).
    /// `Ok(None)` if `after_id` names no session of this account.
    pub async fn list_sessions(
        &self,
        account_id: i64,
        filter: &SessionFilter,
        now: i64,
    ) -> Result<Option<Vec<SessionRow>>, StoreError> {
        if self.has_expired_sessions(account_id, now).await? {
            self.expire_sessions(account_id, None, now).await?;
        }
        let mut sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = $1");
        let mut binds = vec![Bind::I64(account_id)];
        let mut push = |cond: &str, bind: Bind, sql: &mut String| {
            binds.push(bind);
            sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(state) = filter.state {
            push(
                " AND state = ?",
                Bind::Text(state.as_str().to_owned()),
                &mut sql,
            );
        }
        if let Some(reference) = &filter.reference {
            push(
                " AND reference = ?",
                Bind::Text(reference.clone()),
                &mut sql,
            );
        }
        if let Some(t) = filter.created_after {
            push(" AND created > ?", Bind::I64(t), &mut sql);
        }
        if let Some(t) = filter.created_before {
            push(" AND created < ?", Bind::I64(t), &mut sql);
        }
        if let Some(after_id) = filter.after_id {
            let Some(cursor) = self.get_session(account_id, after_id, now).await? else {
                return Ok(None);
            };
            push(" AND (created < ?", Bind::I64(cursor.created), &mut sql);
            push(" OR (created = ?", Bind::I64(cursor.created), &mut sql);
            push(" AND id < ?))", Bind::I64(cursor.id), &mut sql);
        }
        push(
            " ORDER BY created DESC, id DESC LIMIT ?",
            Bind::I64(filter.limit),
            &mut sql,
        );
        with_pool!(self, |pool| {
            let rows = bind_all!(sqlx::query(AssertSqlSafe(sql)), &binds)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(session_from_row!(r));
            }
            Ok(Some(out))
        })
    }

    /// Sets `reference` / `callback_url` (those given) on an unfinished, unexpired session.
    pub async fn update_session(
        &self,
        account_id: i64,
        id: i64,
        reference: Option<&str>,
        callback_url: Option<&str>,
        now: i64,
    ) -> Result<Change, StoreError> {
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE sessions SET reference = COALESCE($1, reference), callback_url = COALESCE($2, callback_url) \
                 WHERE id = $3 AND account_id = $4 AND state IN ('CREATED', 'INITIATED') AND expires > $5",
            )
            .bind(reference)
            .bind(callback_url)
            .bind(id)
            .bind(account_id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        self.change_outcome(done, account_id, id, now).await
    }

    /// Moves an unfinished, unexpired session to ABORTED with `reason`.
    pub async fn abort_session(
        &self,
        account_id: i64,
        id: i64,
        reason: &str,
        now: i64,
    ) -> Result<Change, StoreError> {
        let done = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE sessions SET state = 'ABORTED', state_reason = $1 \
                 WHERE id = $2 AND account_id = $3 AND state IN ('CREATED', 'INITIATED') AND expires > $4",
            )
            .bind(reason)
            .bind(id)
            .bind(account_id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        self.change_outcome(done, account_id, id, now).await
    }

    async fn change_outcome(
        &self,
        rows: u64,
        account_id: i64,
        id: i64,
        now: i64,
    ) -> Result<Change, StoreError> {
        if rows == 1 {
            return Ok(Change::Applied);
        }
        Ok(match self.get_session(account_id, id, now).await? {
            None => Change::NotFound,
            Some(_) => Change::Finished,
        })
    }

    /// Deletes the session and with it every piece of personal data it holds.
    pub async fn delete_session(&self, account_id: i64, id: i64) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    // ---- trust store ----

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
            let id = crate::ids::random_id();
            let result = with_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO trust_entries (id, kind, der, sha256, description, created) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(id)
                .bind(kind)
                .bind(der)
                .bind(sha256)
                .bind(description)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            });
            match result {
                Ok(rows) => return Ok(rows == 1),
                Err(e) => {
                    let e = StoreError::from(e);
                    if !e.is_unique_violation() {
                        return Err(e);
                    }
                }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    /// table -> [(column, normalised type + constraints)]
    fn schema(sql: &str) -> BTreeMap<String, Vec<(String, String)>> {
        let mut tables = BTreeMap::new();
        let mut current: Option<(String, Vec<(String, String)>)> = None;
        for line in sql.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                let (table, column) = rest
                    .split_once(" ADD COLUMN ")
                    .expect("ALTER TABLE t ADD COLUMN c type;");
                let (col, ty) = column
                    .trim_end_matches(';')
                    .split_once(' ')
                    .expect("column and type");
                tables
                    .entry(table.to_owned())
                    .or_insert_with(Vec::new)
                    .push((col.to_owned(), ty.replace("BYTEA", "BLOB")));
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let name = rest.trim_end_matches('(').trim().to_owned();
                current = Some((name, Vec::new()));
            } else if line.starts_with(");") {
                if let Some((name, cols)) = current.take() {
                    tables.insert(name, cols);
                }
            } else if let Some((_, cols)) = current.as_mut() {
                let line = line.trim_end_matches(',');
                if let Some((col, rest)) = line.split_once(' ') {
                    cols.push((col.to_owned(), rest.replace("BYTEA", "BLOB")));
                }
            }
        }
        tables
    }

    #[test]
    fn sqlite_and_postgres_migrations_define_the_same_schema() {
        let sqlite = [
            include_str!("../../migrations/sqlite/0001_initial.sql"),
            include_str!("../../migrations/sqlite/0002_holder_flow.sql"),
            include_str!("../../migrations/sqlite/0003_dashboard.sql"),
        ]
        .concat();
        let postgres = [
            include_str!("../../migrations/postgres/0001_initial.sql"),
            include_str!("../../migrations/postgres/0002_holder_flow.sql"),
            include_str!("../../migrations/postgres/0003_dashboard.sql"),
        ]
        .concat();
        let (sqlite, postgres) = (sqlite.as_str(), postgres.as_str());
        let (a, b) = (schema(sqlite), schema(postgres));
        assert_eq!(a, b);
        assert!(
            a.contains_key("sessions")
                && a.contains_key("trust_entries")
                && a.contains_key("callback_events")
        );
        assert!(
            a.get("sessions")
                .unwrap()
                .iter()
                .any(|(c, _)| c == "aa_challenge")
        );
        assert!(
            a.get("sessions")
                .unwrap()
                .iter()
                .any(|(c, _)| c == "portrait")
        );
        // The same migration files, in the same order, on both sides.
        assert_eq!(
            super::sqlite::migrator().migrations.len(),
            super::postgres::migrator().migrations.len()
        );
    }
}
