//! The dashboard's tables (migration 0003): sign-in sessions, the failed sign-in throttle,
//! TOTP two-factor and recovery codes, credentials' last use, session state history, and the
//! re-sending of a callback.

use sqlx::Row;

use super::{CredentialRow, Store, StoreError, Write};

/// A dashboard sign-in. The cookie carries a 256-bit token; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSessionRow {
    pub id: i64,
    pub account_id: i64,
    pub token_hash: Vec<u8>,
    /// The anti-CSRF token every form of this sign-in carries.
    pub csrf_token: String,
    /// Signed in with the password; the TOTP code (or a recovery code) is still due.
    pub second_factor_pending: bool,
    pub created: i64,
    pub expires: i64,
    pub last_seen: i64,
}

/// An account's TOTP secret; `enabled` is set once a code from it was confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    pub secret: Vec<u8>,
    pub enabled: Option<i64>,
    pub last_step: Option<i64>,
}

/// One entry of a session's state history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub state: String,
    pub state_reason: Option<String>,
    pub at: i64,
}

impl Store {
    // ---- dashboard sign-ins ----

    pub async fn insert_dashboard_session(
        &self,
        s: &DashboardSessionRow,
    ) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "INSERT INTO dashboard_sessions (id, account_id, token_hash, csrf_token, \
                 second_factor_pending, created, expires, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(s.id)
            .bind(s.account_id)
            .bind(&s.token_hash)
            .bind(&s.csrf_token)
            .bind(s.second_factor_pending)
            .bind(s.created)
            .bind(s.expires)
            .bind(s.last_seen))?;
        };
        Ok(())
    }

    /// The unrevoked, unexpired sign-in whose token hashes to `token_hash`, not idle since
    /// `idle_since`, with its account's email.
    pub async fn dashboard_session(
        &self,
        token_hash: &[u8],
        now: i64,
        idle_since: i64,
    ) -> Result<Option<(DashboardSessionRow, String)>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT d.id, d.account_id, d.token_hash, d.csrf_token, d.second_factor_pending, \
                 d.created, d.expires, d.last_seen, a.email FROM dashboard_sessions d \
                 JOIN accounts a ON a.id = d.account_id \
                 WHERE d.token_hash = $1 AND d.revoked IS NULL AND d.expires > $2 AND d.last_seen > $3",
            )
            .bind(token_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some((
                    DashboardSessionRow {
                        id: r.try_get("id")?,
                        account_id: r.try_get("account_id")?,
                        token_hash: r.try_get("token_hash")?,
                        csrf_token: r.try_get("csrf_token")?,
                        second_factor_pending: r.try_get("second_factor_pending")?,
                        created: r.try_get("created")?,
                        expires: r.try_get("expires")?,
                        last_seen: r.try_get("last_seen")?,
                    },
                    r.try_get("email")?,
                )),
            })
        })
    }

    pub async fn touch_dashboard_session(&self, id: i64, now: i64) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new("UPDATE dashboard_sessions SET last_seen = $1 WHERE id = $2")
                .bind(now)
                .bind(id))?;
        };
        Ok(())
    }

    /// The second factor was given: the sign-in is complete.
    pub async fn complete_second_factor(&self, id: i64) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new("UPDATE dashboard_sessions SET second_factor_pending = $1 WHERE id = $2")
                .bind(false)
                .bind(id))?;
        };
        Ok(())
    }

    pub async fn revoke_dashboard_session(&self, id: i64, now: i64) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "UPDATE dashboard_sessions SET revoked = $1 WHERE id = $2 AND revoked IS NULL",
            )
            .bind(now)
            .bind(id))?;
        };
        Ok(())
    }

    /// Signs the account out everywhere (after a password change, for one).
    pub async fn revoke_account_dashboard_sessions(
        &self,
        account_id: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        {
            Ok(write_query!(self, execute Write::new(
                "UPDATE dashboard_sessions SET revoked = $1 WHERE account_id = $2 AND revoked IS NULL",
            )
            .bind(now)
            .bind(account_id))?)
        }
    }

    /// Deletes sign-ins that ended before `before`, and failures older than it.
    pub async fn prune_dashboard(&self, before: i64) -> Result<(), StoreError> {
        write_query!(
            self,
            execute Write::new(
                "DELETE FROM dashboard_sessions WHERE expires < $1 OR (revoked IS NOT NULL AND revoked < $1)",
            )
            .bind(before)
        )?;
        write_query!(
            self,
            execute Write::new("DELETE FROM dashboard_sign_in_failures WHERE at < $1").bind(before)
        )?;
        Ok(())
    }

    // ---- throttle ----

    pub async fn record_sign_in_failure(&self, subject: &str, now: i64) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "INSERT INTO dashboard_sign_in_failures (id, subject, at) VALUES ($1, $2, $3)",
            )
            .bind(crate::support::ids::random_id())
            .bind(subject)
            .bind(now))?;
        };
        Ok(())
    }

    pub async fn count_sign_in_failures(
        &self,
        subject: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM dashboard_sign_in_failures WHERE subject = $1 AND at > $2",
            )
            .bind(subject)
            .bind(since)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>("n")?)
        })
    }

    pub async fn clear_sign_in_failures(&self, subject: &str) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new("DELETE FROM dashboard_sign_in_failures WHERE subject = $1")
                .bind(subject))?;
        };
        Ok(())
    }

    // ---- passwords ----

    pub async fn set_password_hash(
        &self,
        account_id: i64,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(account_id))?;
            Ok(rows == 1)
        }
    }

    // ---- TOTP ----

    pub async fn totp(&self, account_id: i64) -> Result<Option<TotpRow>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT secret, enabled, last_step FROM account_totp WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some(TotpRow {
                    secret: r.try_get("secret")?,
                    enabled: r.try_get("enabled")?,
                    last_step: r.try_get("last_step")?,
                }),
            })
        })
    }

    /// A new, not yet enabled secret; refused (false) while one is enabled.
    pub async fn set_pending_totp(
        &self,
        account_id: i64,
        secret: &[u8],
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM account_totp WHERE account_id = $1 AND enabled IS NULL")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO account_totp (account_id, secret) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING",
            )
            .bind(account_id)
            .bind(secret)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(inserted == 1)
        })
    }

    /// Enables the pending secret, records the step of the code that confirmed it and stores
    /// the recovery codes' hashes (replacing any).
    pub async fn enable_totp(
        &self,
        account_id: i64,
        step: i64,
        recovery_code_hashes: &[Vec<u8>],
        now: i64,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE account_totp SET enabled = $1, last_step = $2 WHERE account_id = $3 AND enabled IS NULL",
            )
            .bind(now)
            .bind(step)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM account_recovery_codes WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            for hash in recovery_code_hashes {
                sqlx::query(
                    "INSERT INTO account_recovery_codes (id, account_id, code_hash) VALUES ($1, $2, $3)",
                )
                .bind(crate::support::ids::random_id())
                .bind(account_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn disable_totp(&self, account_id: i64) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM account_totp WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM account_recovery_codes WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Takes a TOTP time step: true only if no code of this or a later step was used before
    /// (a code works once).
    pub async fn use_totp_step(&self, account_id: i64, step: i64) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(
                "UPDATE account_totp SET last_step = $1 WHERE account_id = $2 AND enabled IS NOT NULL \
                 AND (last_step IS NULL OR last_step < $1)",
            )
            .bind(step)
            .bind(account_id))?;
            Ok(rows == 1)
        }
    }

    /// Spends a recovery code; true if it was an unused code of this account.
    pub async fn use_recovery_code(
        &self,
        account_id: i64,
        code_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(
                "UPDATE account_recovery_codes SET used = $1 \
                 WHERE account_id = $2 AND code_hash = $3 AND used IS NULL",
            )
            .bind(now)
            .bind(account_id)
            .bind(code_hash))?;
            Ok(rows == 1)
        }
    }

    pub async fn unused_recovery_codes(&self, account_id: i64) -> Result<i64, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM account_recovery_codes WHERE account_id = $1 AND used IS NULL",
            )
            .bind(account_id)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>("n")?)
        })
    }

    // ---- credentials' last use ----

    /// Notes an API request made with the credential; written at most once a minute.
    pub async fn touch_credential(&self, credential_id: i64, now: i64) -> Result<(), StoreError> {
        {
            write_query!(self, execute Write::new(
                "UPDATE credentials SET last_used = $1 WHERE id = $2 \
                 AND (last_used IS NULL OR last_used < $3)",
            )
            .bind(now)
            .bind(credential_id)
            .bind(now.saturating_sub(60)))?;
        };
        Ok(())
    }

    /// The account's credentials with their last use, oldest first.
    pub async fn credentials_with_last_use(
        &self,
        account_id: i64,
    ) -> Result<Vec<(CredentialRow, Option<i64>)>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, account_id, public_key, secret_hash, name, created, revoked, last_used \
                 FROM credentials WHERE account_id = $1 ORDER BY created, id",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((credential_from_row!(r), r.try_get("last_used")?)))
                .collect()
        })
    }

    // ---- sessions ----

    /// The states the session went through, in order. The first, CREATED at the session's
    /// `created`, and the current one, at its `state_changed`, come from the session's own row;
    /// the states between from `session_state_changes`. Sessions from before migration 13 have no
    /// `state_changed` and their current state stored instead; from before migration 7, their
    /// CREATED too (read instead); from before migration 3, no stored states. Empty if there is no
    /// such session.
    pub async fn session_state_changes(
        &self,
        session_id: i64,
    ) -> Result<Vec<StateChange>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT state, state_reason, at FROM session_state_changes WHERE session_id = $1 \
                 UNION ALL \
                 SELECT 'CREATED', NULL, created FROM sessions WHERE id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM session_state_changes WHERE session_id = $1 AND state = 'CREATED') \
                 UNION ALL \
                 SELECT state, state_reason, state_changed FROM sessions \
                 WHERE id = $1 AND state_changed IS NOT NULL",
            )
            .bind(session_id)
            .fetch_all(pool)
            .await?;
            let mut out = rows
                .iter()
                .map(|r| {
                    Ok(StateChange {
                        state: r.try_get("state")?,
                        state_reason: r.try_get("state_reason")?,
                        at: r.try_get("at")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // States only move forward, so within one second the lifecycle gives the order.
            let rank = |s: &str| match s {
                "CREATED" => 0,
                "INITIATED" => 1,
                "COMPLETED" => 2,
                _ => 3,
            };
            out.sort_by_key(|c| (c.at, rank(&c.state)));
            Ok(out)
        })
    }

    /// Queues the callback event `event_id` (a shown id) of the account's session `session_id`
    /// once more, as a new event (same session, state and URL, the next counted id) due at once;
    /// the new event's shown id, or `None` if that session has no such event.
    pub async fn resend_callback(
        &self,
        account_id: i64,
        session_id: i64,
        event_id: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let ids = self.callback_ids()?;
        let next_id = match self {
            Store::Sqlite(_) => "(SELECT last + 1 FROM callback_event_counter)",
            Store::Postgres(_) => "nextval('callback_event_counter')",
        };
        let rows: Result<Vec<i64>, StoreError> = write_query!(
            self,
            fetch_all Write::new(format!(
                "INSERT INTO callback_events (id, account_id, session_id, session_state, \
                 session_reference, url, created) \
                 SELECT {next_id}, account_id, session_id, session_state, session_reference, url, $1 \
                 FROM callback_events WHERE id = $2 AND account_id = $3 AND session_id = $4 \
                 RETURNING id"
            ))
            .bind(now)
            .bind(ids.stored(event_id))
            .bind(account_id)
            .bind(session_id),
            |r| {
                let id: i64 = r.try_get("id")?;
                id
            }
        );
        Ok(rows?.first().map(|&id| ids.shown(id)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::Reason;
    use crate::store::accounts::AccountRow;
    use crate::store::sessions::NewSession;
    use crate::store::test_schema::{on_postgres, on_sqlite};

    /// Times far from the database's own clock, so that a CREATED stamped by the database (as the
    /// insert trigger before migration 7 did) cannot pass for the session's `created`.
    const CREATED: i64 = 1_000;
    const ABORTED: i64 = 2_000;

    fn change(state: &str, reason: Option<&str>, at: i64) -> StateChange {
        StateChange {
            state: state.to_owned(),
            state_reason: reason.map(str::to_owned),
            at,
        }
    }

    /// Runs `sql` (with `$1` bound to `value`) on the store's database.
    async fn exec(store: &Store, sql: &'static str, value: i64) {
        with_pool!(store, |pool| {
            sqlx::query(sql)
                .bind(value)
                .execute(pool)
                .await
                .map(drop)
                .unwrap()
        });
    }

    /// The stored history rows of `session`: (state, at).
    async fn stored(store: &Store, session: i64) -> Vec<(String, i64)> {
        with_pool!(store, |pool| {
            sqlx::query_as(
                "SELECT state, at FROM session_state_changes WHERE session_id = $1 ORDER BY id",
            )
            .bind(session)
            .fetch_all(pool)
            .await
            .unwrap()
        })
    }

    async fn new_session(store: &Store, id: i64) {
        store
            .insert_session(&NewSession {
                id,
                account_id: 7,
                reference: None,
                callback_url: None,
                face_verification: false,
                passport_only: false,
                created: CREATED,
                expires: CREATED + 3_600,
                token_hash: id.to_be_bytes().repeat(4),
            })
            .await
            .unwrap();
    }

    /// CREATED comes from the session row, later states from the stored changes; a CREATED stored
    /// by the old insert trigger is read once, not twice; an unknown session has no history.
    async fn check(store: Store) {
        store
            .insert_account(&AccountRow {
                id: 7,
                email: "history@example.com".into(),
                password_hash: "x".into(),
                created: 0,
            })
            .await
            .unwrap();
        new_session(&store, 11).await;
        assert_eq!(
            store.session_state_changes(11).await.unwrap(),
            vec![change("CREATED", None, CREATED)]
        );

        store
            .abort_session(7, 11, Reason::AbortedByIntegrator, CREATED + 1)
            .await
            .unwrap();
        let history = store.session_state_changes(11).await.unwrap();
        assert_eq!(history.len(), 2, "{history:?}");
        assert_eq!(history[0], change("CREATED", None, CREATED));
        assert_eq!(history[1].state, "ABORTED");
        assert_eq!(
            history[1].state_reason.as_deref(),
            Some(Reason::AbortedByIntegrator.as_str())
        );
        // Leaving CREATED stores nothing: ABORTED and its time are the row's (migration 13).
        assert_eq!(stored(&store, 11).await, vec![]);

        // A state between the first and the current is stored when the session leaves it, with
        // the time it began.
        new_session(&store, 14).await;
        exec(
            &store,
            "UPDATE sessions SET state = 'INITIATED' WHERE id = $1",
            14,
        )
        .await;
        let initiated = store.session_state_changes(14).await.unwrap();
        assert_eq!(initiated.len(), 2, "{initiated:?}");
        assert_eq!(initiated[1].state, "INITIATED");
        assert_eq!(stored(&store, 14).await, vec![]);
        store
            .abort_session(7, 14, Reason::AbortedByIntegrator, CREATED + 1)
            .await
            .unwrap();
        let history = store.session_state_changes(14).await.unwrap();
        let states: Vec<&str> = history.iter().map(|c| c.state.as_str()).collect();
        assert_eq!(states, ["CREATED", "INITIATED", "ABORTED"]);
        assert_eq!(history[1], initiated[1]);
        assert_eq!(
            stored(&store, 14).await,
            vec![("INITIATED".to_owned(), initiated[1].at)]
        );

        // A session changed before migration 13: its current state stored, no `state_changed`.
        // Its next change stores nothing for the state it leaves, and each state is read once.
        new_session(&store, 15).await;
        exec(
            &store,
            "UPDATE sessions SET state = 'INITIATED' WHERE id = $1",
            15,
        )
        .await;
        exec(
            &store,
            "UPDATE sessions SET state_changed = NULL WHERE id = $1",
            15,
        )
        .await;
        exec(
            &store,
            "INSERT INTO session_state_changes (id, session_id, state, state_reason, at) \
             VALUES (1015, $1, 'INITIATED', NULL, 1500)",
            15,
        )
        .await;
        assert_eq!(
            store.session_state_changes(15).await.unwrap(),
            vec![
                change("CREATED", None, CREATED),
                change("INITIATED", None, 1_500)
            ]
        );
        store
            .abort_session(7, 15, Reason::AbortedByIntegrator, CREATED + 1)
            .await
            .unwrap();
        let states: Vec<String> = store
            .session_state_changes(15)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.state)
            .collect();
        assert_eq!(states, ["CREATED", "INITIATED", "ABORTED"]);
        assert_eq!(
            stored(&store, 15).await,
            vec![("INITIATED".to_owned(), 1_500)]
        );

        // A session inserted before migration 7: its CREATED was stored, at the database's time.
        new_session(&store, 12).await;
        with_pool!(&store, |pool| {
            sqlx::query(
                "INSERT INTO session_state_changes (id, session_id, state, state_reason, at) \
                 VALUES (1012, 12, 'CREATED', NULL, $1)",
            )
            .bind(ABORTED)
            .execute(pool)
            .await
            .map(drop)
            .unwrap()
        });
        assert_eq!(
            store.session_state_changes(12).await.unwrap(),
            vec![change("CREATED", None, ABORTED)]
        );

        assert_eq!(store.session_state_changes(13).await.unwrap(), vec![]);
    }

    /// Each stored history row gets the id after the one before (migration 10), also once a
    /// random id written by an older version is there. (A row is stored when a session leaves a
    /// state other than CREATED: here INITIATED, when it is aborted.)
    async fn check_ids_in_order(store: Store) {
        store
            .insert_account(&AccountRow {
                id: 7,
                email: "history-ids@example.com".into(),
                password_hash: "x".into(),
                created: 0,
            })
            .await
            .unwrap();
        new_session(&store, 20).await;
        with_pool!(&store, |pool| {
            sqlx::query(
                "INSERT INTO session_state_changes (id, session_id, state, state_reason, at) \
                 VALUES (4503599627370496, 20, 'INITIATED', NULL, 1)",
            )
            .execute(pool)
            .await
            .map(drop)
            .unwrap()
        });
        let mut ids = Vec::new();
        for session in [23, 21, 22] {
            new_session(&store, session).await;
            exec(
                &store,
                "UPDATE sessions SET state = 'INITIATED' WHERE id = $1",
                session,
            )
            .await;
            store
                .abort_session(7, session, Reason::AbortedByIntegrator, CREATED + 1)
                .await
                .unwrap();
            let id: i64 = with_pool!(&store, |pool| {
                sqlx::query_scalar("SELECT id FROM session_state_changes WHERE session_id = $1")
                    .bind(session)
                    .fetch_one(pool)
                    .await
                    .unwrap()
            });
            ids.push(id);
        }
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
        assert!(ids.iter().all(|&id| id != 4503599627370496), "{ids:?}");
    }

    #[tokio::test]
    async fn history_ids_follow_the_order_of_changes_on_sqlite() {
        on_sqlite(check_ids_in_order).await;
    }

    #[tokio::test]
    async fn history_ids_follow_the_order_of_changes_on_postgres() {
        on_postgres(
            "history_ids",
            "the PostgreSQL history id test",
            check_ids_in_order,
        )
        .await;
    }

    #[tokio::test]
    async fn history_starts_with_the_sessions_own_creation_on_sqlite() {
        on_sqlite(check).await;
    }

    #[tokio::test]
    async fn history_starts_with_the_sessions_own_creation_on_postgres() {
        on_postgres("history", "the PostgreSQL history test", check).await;
    }
}
