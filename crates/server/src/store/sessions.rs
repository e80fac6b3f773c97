//! The `sessions` table as the integrator's API sees it: create, read, list, change, delete.

use std::sync::LazyLock;

use sqlx::{AssertSqlSafe, Row};

use super::{Bind, Store, StoreError, Write};
use crate::model::unfinished_states_sql;
use crate::model::{CheckResult, CloneCheck, DocumentType, FaceMatch, Reason, Sex, State};

/// One session of an account by its id (`$1` the id, `$2` the account).
pub(super) fn select_session_sql() -> String {
    format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1{}",
        account_guard_sql!(2)
    )
}

/// `session.delete` (`$1` the id, `$2` the account).
pub(super) const DELETE_SESSION_SQL: &str =
    concat!("DELETE FROM sessions WHERE id = $1", account_guard_sql!(2));

/// `session.update`: the reference and callback URL given, on an unfinished, unexpired session.
pub(super) const UPDATE_SESSION_SQL: &str = concat!(
    "UPDATE sessions SET reference = COALESCE($1, reference), callback_url = COALESCE($2, callback_url) \
     WHERE id = $3",
    unfinished_by_id_sql!(4, 5)
);

/// `session.abort`: an unfinished, unexpired session to ABORTED.
pub(super) const ABORT_SESSION_SQL: &str = concat!(
    "UPDATE sessions SET state = 'ABORTED', state_reason = $1 WHERE id = $2",
    unfinished_by_id_sql!(3, 4)
);

/// [`UPDATE_SESSION_SQL`] and [`ABORT_SESSION_SQL`] giving back the changed session, so that
/// the answer needs no second read: on SQLite (PostgreSQL makes concurrent changes together, with
/// the statements of `session_changes`).
static UPDATE_SESSION_RETURNING_SQL: LazyLock<String> =
    LazyLock::new(|| format!("{UPDATE_SESSION_SQL} RETURNING {SESSION_COLUMNS}"));
static ABORT_SESSION_RETURNING_SQL: LazyLock<String> =
    LazyLock::new(|| format!("{ABORT_SESSION_SQL} RETURNING {SESSION_COLUMNS}"));

/// The start of every statement that ends sessions past their expiry.
macro_rules! expire_sessions_sql {
    () => {
        "UPDATE sessions SET state = 'ABORTED', state_reason = 'EXPIRED' WHERE "
    };
}

/// Unfinished sessions past their expiry at `$now`: what `sessions_unfinished_expires`, the
/// expiry sweep's partial index, holds and is read by.
macro_rules! expired_unfinished_sql {
    ($now:literal) => {
        concat!(
            "state IN ",
            unfinished_states_sql!(),
            " AND expires <= $",
            $now
        )
    };
}

/// The expiry sweep (every `session_sweep_seconds`): through `sessions_unfinished_expires`.
///
/// The sweeps run unprepared (`persistent(false)`): planned each time with their values and the
/// tables as they are, not with a generic plan PostgreSQL made once on an empty table and kept
/// (which, for this one, scanned every unfinished session through `sessions_unfinished_account`,
/// an index dropped since by migration 9).
pub(super) const EXPIRE_ALL_SESSIONS_SQL: &str =
    concat!(expire_sessions_sql!(), expired_unfinished_sql!(1));

/// An account's unfinished sessions past their expiry, which `session.list` ends before it
/// answers: found through `sessions_unfinished_expires`, the sweep's index, among every
/// account's expired, not yet swept sessions (a few seconds' worth: the sweep runs every
/// `session_sweep_seconds`), the account checked on each ([`account_guard_sql!`]: not through an
/// index of the account's sessions, which would read all of them). Migration 9 says why there is
/// no index of the account's unfinished sessions any more.
pub(super) const EXPIRED_EXIST_SQL: &str = concat!(
    "SELECT 1 AS one FROM sessions WHERE ",
    expired_unfinished_sql!(2),
    account_guard_sql!(1),
    " LIMIT 1"
);
pub(super) const EXPIRE_ACCOUNT_SESSIONS_SQL: &str = concat!(
    expire_sessions_sql!(),
    expired_unfinished_sql!(2),
    account_guard_sql!(1)
);
/// One session of the account, if it is past its expiry and unfinished: by its id.
pub(super) const EXPIRE_SESSION_SQL: &str = concat!(
    expire_sessions_sql!(),
    "id = $3",
    account_guard_sql!(1),
    " AND state IN ",
    unfinished_states_sql!(),
    " AND expires + 0 <= $2"
);

/// The outcome of a conditional change to one session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionChange {
    /// Changed; the session as it is now.
    Applied(Box<SessionRow>),
    NotFound,
    /// The session exists but is finished (or expired), so it may no longer change.
    Finished,
}

/// One session row. Times are Unix seconds (UTC); dates are `YYYY-MM-DD` text. Everything the
/// holder's flow fills in later is `None` until then.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: i64,
    pub account_id: i64,
    pub state: State,
    pub state_reason: Option<Reason>,
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub face_verification: bool,
    pub passport_only: bool,
    pub created: i64,
    pub expires: i64,
    pub user_ip: Option<String>,
    pub user_agent: Option<String>,
    pub given_names: Option<String>,
    pub surname: Option<String>,
    /// ISO 3166 alpha-2.
    pub nationality: Option<String>,
    pub sex: Option<Sex>,
    pub date_of_birth: Option<String>,
    pub personal_number: Option<String>,
    pub document_type: Option<DocumentType>,
    pub document_number: Option<String>,
    pub expiry_date: Option<String>,
    /// ISO 3166 alpha-2.
    pub issuing_country: Option<String>,
    pub issuer: Option<String>,
    /// Image bytes as read from the chip (DG2).
    pub portrait: Option<Vec<u8>>,
    /// Image bytes of the holder's live face capture.
    pub face: Option<Vec<u8>>,
    /// What the reader API and the verification wrote (migration 0002).
    pub holder_flow: HolderFlow,
}

/// The holder's flow on a session: the server's active-authentication challenge and the
/// verification outcome. Check results are `PASSED`, `FAILED`, `NOT_SUPPORTED` or
/// `NOT_CHECKED`; times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HolderFlow {
    /// The challenge issued by `reader.start`; never shown by the API.
    pub aa_challenge: Option<Vec<u8>>,
    pub passive_authentication: Option<CheckResult>,
    pub active_authentication: Option<CheckResult>,
    pub chip_authentication: Option<CheckResult>,
    pub clone_check: Option<CloneCheck>,
    /// Selfie against the chip's portrait: PASSED, FAILED, NO_FACE, MULTIPLE_FACES, NOT_CHECKED.
    pub face_match: Option<FaceMatch>,
    /// Distance between the two faces' descriptors, a decimal string (lower is more alike).
    pub face_match_score: Option<f64>,
    pub rejection_reason: Option<Reason>,
    /// Subject of the Document Signer certificate.
    pub document_signer: Option<String>,
    pub verified: Option<i64>,
    pub personal_data_erased: Option<i64>,
}

/// What `session.create` stores.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: i64,
    pub account_id: i64,
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub face_verification: bool,
    pub passport_only: bool,
    pub created: i64,
    pub expires: i64,
    /// SHA-256 of the session token; the token itself is never stored.
    pub token_hash: Vec<u8>,
}

/// Filters and cursor of `session.list`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub state: Option<State>,
    pub reference: Option<String>,
    /// Exclusive bounds on `created`, Unix seconds.
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    /// Continue after this session (newest first).
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub(super) const SESSION_COLUMNS: &str = "id, account_id, state, state_reason, reference, callback_url, \
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
            state_reason: spelled_column!(row, "state_reason", Reason),
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
                passive_authentication: spelled_column!(row, "passive_authentication", CheckResult),
                active_authentication: spelled_column!(row, "active_authentication", CheckResult),
                chip_authentication: spelled_column!(row, "chip_authentication", CheckResult),
                clone_check: spelled_column!(row, "clone_check", CloneCheck),
                face_match: spelled_column!(row, "face_match", FaceMatch),
                face_match_score: score_column!(row, "face_match_score"),
                rejection_reason: spelled_column!(row, "rejection_reason", Reason),
                document_signer: row.try_get("document_signer")?,
                verified: row.try_get("verified")?,
                personal_data_erased: row.try_get("personal_data_erased")?,
            },
        }
    }};
}

/// Runs a change that returns the changed session (`… RETURNING` [`SESSION_COLUMNS`]) on the
/// SQLite writer; the session, or `None` if the guard let no row change.
async fn changed_on_sqlite(
    sqlite: &super::SqliteStore,
    write: Write,
) -> Result<Option<SessionRow>, StoreError> {
    match sqlite.writer.fetch_all(write).await?.first() {
        Some(row) => Ok(Some(session_from_row!(row))),
        None => Ok(None),
    }
}

/// A row of [`SESSION_COLUMNS`] read from PostgreSQL.
pub(super) fn session_from_pg_row(row: &sqlx::postgres::PgRow) -> Result<SessionRow, StoreError> {
    Ok(session_from_row!(row))
}

impl Store {
    /// Fails with a unique violation if the id (or token hash) is taken; the caller retries.
    pub async fn insert_session(&self, s: &NewSession) -> Result<(), StoreError> {
        match self {
            // Concurrent inserts share one statement and one commit (see `session_inserts`).
            Store::Postgres(pg) => pg.session_inserts.insert(s.clone()).await,
            Store::Sqlite(sqlite) => {
                sqlite
                    .writer
                    .execute(
                        Write::new(
                            "INSERT INTO sessions (id, account_id, state, reference, callback_url, \
                             face_verification, passport_only, created, expires, token_hash) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
                        .bind(&s.token_hash),
                    )
                    .await?;
                Ok(())
            }
        }
    }

    /// Turns the account's unfinished sessions past `expires` into ABORTED/EXPIRED (only the one
    /// with `id`, if given). A conditional UPDATE, so every instance sees the same outcome.
    pub async fn expire_sessions(
        &self,
        account_id: i64,
        id: Option<i64>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let write = match id {
            Some(id) => Write::new(EXPIRE_SESSION_SQL)
                .bind(account_id)
                .bind(now)
                .bind(id),
            None => Write::new(EXPIRE_ACCOUNT_SESSIONS_SQL)
                .bind(account_id)
                .bind(now),
        };
        write_query!(self, execute write)
    }

    /// Ends every account's unfinished sessions past `expires` (ABORTED/EXPIRED): the sweep
    /// that `serve` runs, so that their callbacks fire without anyone asking about them.
    pub async fn expire_all_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let changed = write_query!(self, execute Write::new(EXPIRE_ALL_SESSIONS_SQL)
            .persistent(false)
            .bind(now))?;
        Ok(changed)
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
        match self {
            // Concurrent reads share one statement (see `session_reads`).
            Store::Postgres(pg) => pg.session_reads.read(account_id, id).await,
            Store::Sqlite(sqlite) => {
                let row = sqlx::query(AssertSqlSafe(select_session_sql()))
                    .bind(id)
                    .bind(account_id)
                    .fetch_optional(&sqlite.pool)
                    .await?;
                Ok(match row {
                    None => None,
                    Some(r) => Some(session_from_row!(r)),
                })
            }
        }
    }

    /// Whether the account has unfinished sessions past `expires` (a read, so that listing does
    /// not take SQLite's write lock when there is nothing to expire).
    async fn has_expired_sessions(&self, account_id: i64, now: i64) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(EXPIRED_EXIST_SQL)
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

    /// `session.update`: the reference and callback URL given, on an unfinished, unexpired
    /// session; the session as it is now.
    pub async fn update_session(
        &self,
        account_id: i64,
        id: i64,
        reference: Option<&str>,
        callback_url: Option<&str>,
        now: i64,
    ) -> Result<SessionChange, StoreError> {
        let changed = match self {
            // Concurrent updates share one statement and one commit (see `session_changes`).
            Store::Postgres(pg) => {
                pg.session_changes
                    .update(account_id, id, reference, callback_url, now)
                    .await?
            }
            Store::Sqlite(sqlite) => {
                let write = Write::new(UPDATE_SESSION_RETURNING_SQL.as_str())
                    .bind(reference)
                    .bind(callback_url)
                    .bind(id)
                    .bind(account_id)
                    .bind(now);
                changed_on_sqlite(sqlite, write).await?
            }
        };
        self.change_outcome(changed, account_id, id, now).await
    }

    /// Moves an unfinished, unexpired session to ABORTED with `reason`; the session as it is now.
    pub async fn abort_session(
        &self,
        account_id: i64,
        id: i64,
        reason: Reason,
        now: i64,
    ) -> Result<SessionChange, StoreError> {
        let changed = match self {
            // Concurrent aborts share one statement and one commit (see `session_changes`).
            Store::Postgres(pg) => {
                pg.session_changes
                    .abort(account_id, id, reason, now)
                    .await?
            }
            Store::Sqlite(sqlite) => {
                let write = Write::new(ABORT_SESSION_RETURNING_SQL.as_str())
                    .bind(reason.as_str())
                    .bind(id)
                    .bind(account_id)
                    .bind(now);
                changed_on_sqlite(sqlite, write).await?
            }
        };
        self.change_outcome(changed, account_id, id, now).await
    }

    /// The changed row if the change applied (its statement gave it back: no second read), else
    /// why not.
    async fn change_outcome(
        &self,
        changed: Option<SessionRow>,
        account_id: i64,
        id: i64,
        now: i64,
    ) -> Result<SessionChange, StoreError> {
        if let Some(row) = changed {
            return Ok(SessionChange::Applied(Box::new(row)));
        }
        Ok(match self.get_session(account_id, id, now).await? {
            None => SessionChange::NotFound,
            Some(_) => SessionChange::Finished,
        })
    }

    /// Deletes the session and with it every piece of personal data it holds.
    pub async fn delete_session(&self, account_id: i64, id: i64) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(DELETE_SESSION_SQL)
                .bind(id)
                .bind(account_id))?;
            Ok(rows == 1)
        }
    }
}
