//! The `callback_events` table (migration 0002): rows are inserted by the database trigger on
//! `sessions.state`; this file claims, completes, prunes and lists them.

use std::sync::LazyLock;

use sqlx::Row;

use super::{Store, StoreError, Write};

/// One row of `callback_events`: a state change to announce, and how its delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEvent {
    /// Also the `webhook-id` of every attempt.
    pub id: i64,
    pub account_id: i64,
    pub session_id: i64,
    /// The state the session entered (not the session's state at delivery time).
    pub session_state: String,
    pub session_reference: Option<String>,
    pub url: String,
    /// Written by the trigger from the database's clock.
    pub created: i64,
    pub attempts: i32,
    /// 0 (the trigger's default) means due at once.
    pub next_attempt: i64,
    pub locked_until: Option<i64>,
    pub delivered: Option<i64>,
    pub abandoned: Option<i64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

/// How one attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub id: i64,
    /// `attempts` when the event was claimed: the update applies only if no one else has
    /// recorded an attempt meanwhile.
    pub attempts_before: i32,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub delivered: Option<i64>,
    pub abandoned: Option<i64>,
    pub next_attempt: i64,
}

/// The retention eraser's deletion of finished events (every minute): through
/// `callback_events_finished`.
pub(super) const PRUNE_FINISHED_SQL: &str = "DELETE FROM callback_events WHERE created <= $1 \
     AND (delivered IS NOT NULL OR abandoned IS NOT NULL)";

/// `callback.list`: the account's events, newest first, through `callback_events_account`
/// (migration 0008), which gives them in that order: no read of other accounts' events, no sort.
pub(super) static LIST_EVENTS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS} FROM callback_events WHERE account_id = $1 \
         ORDER BY created DESC, id DESC LIMIT $2"
    )
});

/// `callback.list` of one session: through `callback_events_session` (the account is checked
/// on its few rows; `+ 0` keeps the planner from walking the account's index instead, in order,
/// over all of the account's events until it has found `$2` of this session).
pub(super) static LIST_SESSION_EVENTS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS} FROM callback_events WHERE session_id = $3{} \
         ORDER BY created DESC, id DESC LIMIT $2",
        crate::store::account_guard_sql!(1)
    )
});

const EVENT_COLUMNS: &str = "id, account_id, session_id, session_state, session_reference, url, \
    created, attempts, next_attempt, locked_until, delivered, abandoned, last_status, last_error";

macro_rules! event_from_row {
    ($r:expr) => {
        CallbackEvent {
            id: $r.try_get("id")?,
            account_id: $r.try_get("account_id")?,
            session_id: $r.try_get("session_id")?,
            session_state: $r.try_get("session_state")?,
            session_reference: $r.try_get("session_reference")?,
            url: $r.try_get("url")?,
            created: $r.try_get("created")?,
            attempts: $r.try_get("attempts")?,
            next_attempt: $r.try_get("next_attempt")?,
            locked_until: $r.try_get("locked_until")?,
            delivered: $r.try_get("delivered")?,
            abandoned: $r.try_get("abandoned")?,
            last_status: $r.try_get("last_status")?,
            last_error: $r.try_get("last_error")?,
        }
    };
}

impl Store {
    /// Leases up to `limit` due, undelivered, unabandoned events whose lease (if any) has run out,
    /// until `lease_until`. One statement, so two instances never claim the same row: PostgreSQL
    /// skips rows another transaction is claiming (`FOR UPDATE SKIP LOCKED`) and re-checks the
    /// lease on rows committed meanwhile; SQLite runs one writer at a time.
    pub async fn claim_due(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<CallbackEvent>, StoreError> {
        const DUE: &str = "SELECT id FROM callback_events WHERE delivered IS NULL AND abandoned IS NULL \
            AND next_attempt <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
            ORDER BY next_attempt, created, id LIMIT $3";
        let sql = match self {
            Store::Postgres(_) => format!(
                "UPDATE callback_events SET locked_until = $1 WHERE id IN ({DUE} FOR UPDATE SKIP LOCKED) \
                 RETURNING {EVENT_COLUMNS}"
            ),
            Store::Sqlite(_) => format!(
                "UPDATE callback_events SET locked_until = $1 WHERE id IN ({DUE}) RETURNING {EVENT_COLUMNS}"
            ),
        };
        write_query!(
            self,
            fetch_all Write::new(sql.clone())
                .bind(lease_until)
                .bind(now)
                .bind(limit),
            |r| event_from_row!(r)
        )
    }

    /// Records an attempt and releases the lease; false if the event had moved on meanwhile.
    pub async fn record_attempt(&self, a: &AttemptRecord) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(
                "UPDATE callback_events SET attempts = $1, last_status = $2, last_error = $3, \
                 delivered = $4, abandoned = $5, next_attempt = $6, locked_until = NULL \
                 WHERE id = $7 AND attempts = $8 AND delivered IS NULL AND abandoned IS NULL",
            )
            .bind(a.attempts_before.saturating_add(1))
            .bind(a.status)
            .bind(&a.error)
            .bind(a.delivered)
            .bind(a.abandoned)
            .bind(a.next_attempt)
            .bind(a.id)
            .bind(a.attempts_before))?;
            Ok(rows == 1)
        }
    }

    /// Deletes the delivered and abandoned events created at or before `created_before`; pending
    /// ones stay whatever their age. Returns how many were deleted.
    pub async fn prune_finished(&self, created_before: i64) -> Result<u64, StoreError> {
        let changed = write_query!(self, execute Write::new(PRUNE_FINISHED_SQL)
            .persistent(false)
            .bind(created_before))?;
        Ok(changed)
    }

    /// The account's events, newest first (all sessions, or one).
    pub async fn list_events(
        &self,
        account_id: i64,
        session_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CallbackEvent>, StoreError> {
        let sql = if session_id.is_some() {
            LIST_SESSION_EVENTS_SQL.as_str()
        } else {
            LIST_EVENTS_SQL.as_str()
        };
        with_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(account_id)
                .bind(limit);
            if let Some(id) = session_id {
                q = q.bind(id);
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(event_from_row!(r));
            }
            Ok(out)
        })
    }
}
