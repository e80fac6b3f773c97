//! The `callback_events` table (migration 0002): rows are inserted by the database trigger on
//! `sessions.state`; this file claims, completes, prunes and lists them.
//!
//! An event's id is stored as the database counted it (migration 0011) and shown everywhere
//! outside the store as its keyed permutation ([`PermutedIds`]): every event this file gives
//! out carries the shown id, and every id it is given is a shown one.

use std::sync::{Arc, LazyLock, OnceLock};

use sqlx::Row;

use super::{Store, StoreError, Write};
use crate::support::permuted_ids::PermutedIds;

/// One row of `callback_events`: a state change to announce, and how its delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEvent {
    /// The shown id: also the `webhook-id` of every attempt.
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

/// The permutation of this database's callback event ids, read from `callback_event_id_key`
/// once the schema is up to date ([`Store::open`]).
#[derive(Debug, Clone, Default)]
pub(super) struct CallbackIds(Arc<OnceLock<PermutedIds>>);

impl Store {
    fn callback_id_cell(&self) -> &OnceLock<PermutedIds> {
        match self {
            Store::Sqlite(s) => &s.callback_ids.0,
            Store::Postgres(p) => &p.callback_ids.0,
        }
    }

    /// The permutation between stored and shown callback event ids.
    pub(super) fn callback_ids(&self) -> Result<&PermutedIds, StoreError> {
        self.callback_id_cell().get().ok_or_else(|| {
            StoreError::Config("the callback event ids' key has not been read".to_owned())
        })
    }

    /// Reads the key of the callback event ids' permutation (after the migrations).
    pub(super) async fn load_callback_id_key(&self) -> Result<(), StoreError> {
        let key: Vec<u8> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT key FROM callback_event_id_key WHERE one = 1")
                .fetch_one(pool)
                .await?
        });
        if key.len() < 16 {
            return Err(StoreError::Corrupt {
                column: "callback_event_id_key.key",
                value: format!("{} bytes", key.len()),
            });
        }
        // Already set if the store was opened before (`set` keeps the first: the key never
        // changes once drawn).
        let _ = self.callback_id_cell().set(PermutedIds::new(&key));
        Ok(())
    }

    /// The events as shown outside: their ids permuted.
    fn shown_events(
        &self,
        mut events: Vec<CallbackEvent>,
    ) -> Result<Vec<CallbackEvent>, StoreError> {
        let ids = self.callback_ids()?;
        for e in &mut events {
            e.id = ids.shown(e.id);
        }
        Ok(events)
    }

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
        let events: Result<Vec<CallbackEvent>, StoreError> = write_query!(
            self,
            fetch_all Write::new(sql.clone())
                .bind(lease_until)
                .bind(now)
                .bind(limit),
            |r| event_from_row!(r)
        );
        self.shown_events(events?)
    }

    /// Records an attempt and releases the lease; false if the event had moved on meanwhile.
    pub async fn record_attempt(&self, a: &AttemptRecord) -> Result<bool, StoreError> {
        let id = self.callback_ids()?.stored(a.id);
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
            .bind(id)
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
        let events = with_pool!(self, |pool| {
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
            out
        });
        self.shown_events(events)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::model::Reason;
    use crate::store::accounts::AccountRow;
    use crate::store::sessions::NewSession;
    use crate::store::test_schema::{on_postgres, on_sqlite};
    use crate::support::permuted_ids::COUNTED_END;

    /// An event written before migration 11, with a random id.
    const OLD_ID: i64 = 4_503_599_627_370_497;

    async fn aborted_session(store: &Store, id: i64) {
        store
            .insert_session(&NewSession {
                id,
                account_id: 7,
                reference: None,
                callback_url: Some("https://integrator.example/callback".into()),
                face_verification: false,
                passport_only: false,
                created: 1_000,
                expires: 1_000 + 3_600,
                token_hash: id.to_be_bytes().repeat(4),
            })
            .await
            .unwrap();
        store
            .abort_session(7, id, Reason::AbortedByIntegrator, 1_001)
            .await
            .unwrap();
    }

    async fn stored_ids(store: &Store) -> Vec<i64> {
        with_pool!(store, |pool| {
            sqlx::query_scalar("SELECT id FROM callback_events ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap()
        })
    }

    /// Events are stored with counted ids and shown permuted, everywhere the store gives them
    /// out; a shown id finds its event again; the counter never goes back, not even when the
    /// newest events are deleted; an event of before keeps its random id.
    async fn check(store: Store) {
        store
            .insert_account(&AccountRow {
                id: 7,
                email: "callback-ids@example.com".into(),
                password_hash: "x".into(),
                created: 0,
            })
            .await
            .unwrap();
        aborted_session(&store, 31).await;
        aborted_session(&store, 32).await;
        assert_eq!(stored_ids(&store).await, vec![1, 2]);

        let listed = store.list_events(7, None, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        let ids = store.callback_ids().unwrap();
        let mut shown: Vec<i64> = listed.iter().map(|e| e.id).collect();
        shown.sort_unstable();
        let mut expected = vec![ids.shown(1), ids.shown(2)];
        expected.sort_unstable();
        assert_eq!(shown, expected);
        assert!(
            shown.iter().all(|&id| id > 2 && id < COUNTED_END),
            "{shown:?}"
        );

        // Claimed for delivery: the same shown ids (the `webhook-id`), and an attempt recorded
        // under one reaches its row.
        let claimed = store.claim_due(2_000, 2_030, 10).await.unwrap();
        let mut claimed_ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
        claimed_ids.sort_unstable();
        assert_eq!(claimed_ids, expected);
        let first = &claimed[0];
        assert!(
            store
                .record_attempt(&AttemptRecord {
                    id: first.id,
                    attempts_before: first.attempts,
                    status: Some(200),
                    error: None,
                    delivered: Some(2_001),
                    abandoned: None,
                    next_attempt: 0,
                })
                .await
                .unwrap()
        );
        let after = store
            .list_events(7, Some(first.session_id), 10)
            .await
            .unwrap();
        assert_eq!(after[0].delivered, Some(2_001));

        // Resent by its shown id: a new event with the next counted id.
        let resent = store
            .resend_callback(7, first.session_id, first.id, 3_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.callback_ids().unwrap().stored(resent), 3);
        assert_eq!(
            store
                .resend_callback(8, first.session_id, first.id, 3_000)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .resend_callback(7, first.session_id, 3, 3_000)
                .await
                .unwrap(),
            None,
            "a stored id is not a shown one"
        );

        // The newest events deleted: the next one still gets a new id.
        with_pool!(&store, |pool| {
            sqlx::query("DELETE FROM callback_events WHERE id >= 2")
                .execute(pool)
                .await
                .map(drop)
                .unwrap()
        });
        aborted_session(&store, 33).await;
        assert_eq!(stored_ids(&store).await, vec![1, 4]);

        // An event of before: shown and found by its random id.
        with_pool!(&store, |pool| {
            sqlx::query(
                "INSERT INTO callback_events (id, account_id, session_id, session_state, url, created) \
                 VALUES ($1, 7, 31, 'ABORTED', 'https://integrator.example/callback', 500)",
            )
            .bind(OLD_ID)
            .execute(pool)
            .await
            .map(drop)
            .unwrap()
        });
        let listed = store.list_events(7, Some(31), 10).await.unwrap();
        assert!(listed.iter().any(|e| e.id == OLD_ID), "{listed:?}");
        let resent = store
            .resend_callback(7, 31, OLD_ID, 3_001)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.callback_ids().unwrap().stored(resent), 5);
        assert_eq!(stored_ids(&store).await, vec![1, 4, 5, OLD_ID]);
    }

    #[tokio::test]
    async fn callback_ids_are_counted_and_shown_permuted_on_sqlite() {
        on_sqlite(check).await;
    }

    #[tokio::test]
    async fn callback_ids_are_counted_and_shown_permuted_on_postgres() {
        on_postgres("callback_ids", "the PostgreSQL callback id test", check).await;
    }

    /// Each database draws its own key: the same counted id is shown differently.
    #[tokio::test]
    async fn each_database_has_its_own_key() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = Store::open(&Settings::for_test(a.path())).await.unwrap();
        let b = Store::open(&Settings::for_test(b.path())).await.unwrap();
        let (a, b) = (a.callback_ids().unwrap(), b.callback_ids().unwrap());
        assert!((1..100).filter(|&n| a.shown(n) == b.shown(n)).count() < 3);
    }
}
