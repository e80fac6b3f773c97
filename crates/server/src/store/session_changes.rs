//! PostgreSQL: the changes of concurrent `session.abort`s, and of concurrent `session.update`s,
//! each made by one statement.
//!
//! On its own, a change is one `UPDATE … RETURNING` in a transaction of its own: PostgreSQL
//! pays a statement, a commit and a WAL flush for it, and for an abort its two triggers' set-up
//! (the history entry, the callback event). Under load that, not the rows, is what limits these
//! endpoints: pgbench on this schema aborted 6.5k sessions a second one statement each and
//! 19.6k a second twenty to a statement. As with the inserts ([`super::session_inserts`]),
//! requests hand their change to a collector (one for aborts, one for updates), which sends
//! every change waiting at that moment as one `UPDATE … FROM UNNEST(…)`, one statement at a
//! time. A lone request waits for nothing: it is sent at once, a batch of one.
//!
//! Each caller gets what its own statement would have given it:
//! - the changed session, if its guard held (its account's, unfinished, not expired at the
//!   caller's `now`, each row checked with its own values), else nothing, and the caller reads
//!   the session to tell "not found" from "finished", as after a statement of its own;
//! - one statement changes a session at most once: of several changes of the same session in a
//!   batch, the first goes in the statement and the others in the next one, in the order they
//!   came (so a second abort finds the session finished, and two updates both apply);
//! - a statement that fails as a whole is run again change by change, so that a caller gets the
//!   error of its own change only;
//! - a caller is answered after the commit: an acknowledged change is as durable as one made
//!   alone. The triggers run for each row as they do for a single-row statement.
//!
//! The collectors run on two connections of their own
//! ([`super::postgres::connect_for_batched_changes`] and [`change_guard_sql!`] say how their
//! statements always find sessions through the primary key), and send each statement's changes
//! in the order of their ids, so that the two collectors' statements never deadlock each other.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::query::Query;
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::sessions::{SESSION_COLUMNS, SessionRow, session_from_pg_row};
use crate::model::{Reason, unfinished_states_sql};

/// Changes in one statement at most (the arrays are sent as parameters; this bounds their size).
const MAX_CHANGES: usize = 512;

/// What one kind of change sends: its statement, and its own columns bound after the common
/// ones (`$1` ids, `$2` accounts, `$3` each caller's `now`).
trait Change: Send + Sync + Sized + 'static {
    fn sql() -> &'static str;
    fn bind_own<'q>(
        query: Query<'q, Postgres, PgArguments>,
        changes: &[Request<Self>],
    ) -> Query<'q, Postgres, PgArguments>;
}

/// `session.abort`: to ABORTED, with this reason.
pub(super) struct Abort {
    pub(super) reason: Reason,
}

/// `session.update`: the reference and callback URL given (`None` keeps the stored one).
pub(super) struct Update {
    pub(super) reference: Option<String>,
    pub(super) callback_url: Option<String>,
}

/// The guard of every change, on the row of `UNNEST` it is joined with: the common columns
/// `change_id`, `change_account` and `change_now`. The sessions are found through their primary
/// key (`id = ANY($1)`) whatever plan the connection keeps for the statement: the other columns
/// are compared as expressions (`+ 0`, `|| ''`, as [`account_guard_sql!`] says), which no index
/// answers. Plainly compared, `state IN …` matched the predicate of `sessions_unfinished_expires`,
/// and the plan made on an empty table read that whole index, every unfinished session: in a
/// 10-minute load test (7347a32) `session.abort` went from 2 to 11 ms at the median as the
/// table grew. See [`super::postgres::connect_for_batched_changes`] for the sequential scan.
macro_rules! change_guard_sql {
    () => {
        concat!(
            " WHERE id = ANY($1) AND id = c.change_id AND account_id + 0 = c.change_account \
             AND state || '' IN ",
            unfinished_states_sql!(),
            " AND expires + 0 > c.change_now RETURNING "
        )
    };
}

static ABORT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE sessions SET state = 'ABORTED', state_reason = c.change_reason \
         FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[]) \
         AS c (change_id, change_account, change_now, change_reason){}{SESSION_COLUMNS}",
        change_guard_sql!()
    )
});

static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE sessions SET reference = COALESCE(c.change_reference, reference), \
         callback_url = COALESCE(c.change_callback_url, callback_url) \
         FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[]) \
         AS c (change_id, change_account, change_now, change_reference, change_callback_url){}{SESSION_COLUMNS}",
        change_guard_sql!()
    )
});

impl Change for Abort {
    fn sql() -> &'static str {
        ABORT_SQL.as_str()
    }

    fn bind_own<'q>(
        query: Query<'q, Postgres, PgArguments>,
        changes: &[Request<Abort>],
    ) -> Query<'q, Postgres, PgArguments> {
        query.bind(column(changes, |c| c.change.reason.as_str()))
    }
}

impl Change for Update {
    fn sql() -> &'static str {
        UPDATE_SQL.as_str()
    }

    fn bind_own<'q>(
        query: Query<'q, Postgres, PgArguments>,
        changes: &[Request<Update>],
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(column(changes, |c| c.change.reference.clone()))
            .bind(column(changes, |c| c.change.callback_url.clone()))
    }
}

/// One array parameter: a value of each change.
fn column<C, T>(changes: &[Request<C>], value: impl Fn(&Request<C>) -> T) -> Vec<T> {
    changes.iter().map(value).collect()
}

/// The changed session, or `None` if the guard did not hold.
type Answer = oneshot::Sender<Result<Option<SessionRow>, StoreError>>;

struct Request<C> {
    id: i64,
    account_id: i64,
    now: i64,
    change: C,
    answer: Answer,
}

/// Handles on the two collectors; cheap to clone. A collector stops when its last handle goes.
#[derive(Debug, Clone)]
pub(super) struct SessionChanges {
    aborts: mpsc::UnboundedSender<Request<Abort>>,
    updates: mpsc::UnboundedSender<Request<Update>>,
    /// The collectors' own connections, one each, which never read the whole table
    /// ([`super::postgres::connect_for_batched_changes`] says why).
    pool: PgPool,
}

impl SessionChanges {
    /// Starts the collectors on the current tokio runtime, changing over `pool`.
    pub(super) fn start(pool: PgPool) -> SessionChanges {
        SessionChanges {
            aborts: start(pool.clone()),
            updates: start(pool.clone()),
            pool,
        }
    }

    /// Closes the collectors' connections.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    /// Aborts the account's session if it is unfinished and not expired at `now`; the session
    /// as it is then, or `None` if it was not changed.
    pub(super) async fn abort(
        &self,
        account_id: i64,
        id: i64,
        reason: Reason,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        send(&self.aborts, account_id, id, now, Abort { reason }).await
    }

    /// Updates the account's session if it is unfinished and not expired at `now`; the session
    /// as it is then, or `None` if it was not changed.
    pub(super) async fn update(
        &self,
        account_id: i64,
        id: i64,
        reference: Option<&str>,
        callback_url: Option<&str>,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let change = Update {
            reference: reference.map(str::to_owned),
            callback_url: callback_url.map(str::to_owned),
        };
        send(&self.updates, account_id, id, now, change).await
    }
}

fn start<C: Change>(pool: PgPool) -> mpsc::UnboundedSender<Request<C>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(collect(pool, receiver));
    sender
}

async fn send<C: Change>(
    collector: &mpsc::UnboundedSender<Request<C>>,
    account_id: i64,
    id: i64,
    now: i64,
    change: C,
) -> Result<Option<SessionRow>, StoreError> {
    let (answer, answered) = oneshot::channel();
    collector
        .send(Request {
            id,
            account_id,
            now,
            change,
            answer,
        })
        .map_err(|_| StoreError::WriterGone)?;
    answered.await.map_err(|_| StoreError::WriterGone)?
}

async fn collect<C: Change>(pool: PgPool, mut receiver: mpsc::UnboundedReceiver<Request<C>>) {
    // Every change waiting at that moment, at least one. The pending requests are counted by
    // the channel itself: the memory they hold is bounded by the server's limit on requests in
    // flight, not here.
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, MAX_CHANGES).await > 0 {
        run(&pool, std::mem::take(&mut batch)).await;
    }
}

/// Makes the batch's changes and answers every caller: a statement for the first change of
/// each session, then one for the next changes of sessions already changed, and so on.
async fn run<C: Change>(pool: &PgPool, mut batch: Vec<Request<C>>) {
    while !batch.is_empty() {
        let mut seen = HashSet::with_capacity(batch.len());
        let (mut now, later): (Vec<_>, Vec<_>) = batch.into_iter().partition(|c| seen.insert(c.id));
        // In the order of their ids, the order in which the primary key finds them: two
        // statements in flight at once (an abort's and an update's) then lock the sessions they
        // share in the same order, and neither waits for the other in a deadlock.
        now.sort_unstable_by_key(|c| c.id);
        run_distinct(pool, now).await;
        batch = later;
    }
}

/// Makes changes of distinct sessions, in one statement or, if it fails as a whole, one by one.
async fn run_distinct<C: Change>(pool: &PgPool, changes: Vec<Request<C>>) {
    match change_all(pool, &changes).await {
        Ok(rows) => answer_all(changes, rows),
        Err(error) if changes.len() == 1 => {
            if let Some(change) = changes.into_iter().next() {
                let _ = change.answer.send(Err(error));
            }
        }
        Err(error) => {
            tracing::debug!(changes = changes.len(), %error, "batched session change failed; changing one by one");
            for change in changes {
                let one = std::slice::from_ref(&change);
                match change_all(pool, one).await {
                    Ok(rows) => answer_all(vec![change], rows),
                    Err(error) => {
                        let _ = change.answer.send(Err(error));
                    }
                }
            }
        }
    }
}

/// Hands each caller the row its change gave back, or `None`.
fn answer_all<C>(changes: Vec<Request<C>>, rows: Vec<PgRow>) {
    let mut by_id = HashMap::with_capacity(rows.len());
    for row in rows {
        if let Ok(id) = row.try_get::<i64, _>("id") {
            by_id.insert(id, row);
        }
    }
    for change in changes {
        let outcome = by_id.get(&change.id).map(session_from_pg_row).transpose();
        let _ = change.answer.send(outcome);
    }
}

/// One statement: every change is made, or none. The rows changed, each once.
async fn change_all<C: Change>(
    pool: &PgPool,
    changes: &[Request<C>],
) -> Result<Vec<PgRow>, StoreError> {
    let query = sqlx::query(sqlx::AssertSqlSafe(C::sql()))
        .bind(column(changes, |c| c.id))
        .bind(column(changes, |c| c.account_id))
        .bind(column(changes, |c| c.now));
    Ok(C::bind_own(query, changes).fetch_all(pool).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::State;
    use crate::store::Store;
    use crate::store::test_schema::PostgresSchema;

    const ACCOUNT: i64 = 7;
    const OTHER_ACCOUNT: i64 = 8;
    /// Every caller's `now`; the sessions expire at 200 unless said otherwise.
    const NOW: i64 = 150;

    /// A store in a schema of its own with two accounts, or `None` without PostgreSQL.
    async fn store() -> Option<PostgresSchema> {
        PostgresSchema::with_accounts(
            "changes",
            "the batched change test",
            &[ACCOUNT, OTHER_ACCOUNT],
        )
        .await
    }

    /// Stores sessions `first..=last` of `account`, expiring at `expires` (reference
    /// `ref-<id>`; a callback URL on even ids).
    async fn add_sessions(pool: &PgPool, account: i64, first: i64, last: i64, expires: i64) {
        sqlx::query(
            "INSERT INTO sessions (id, account_id, state, reference, callback_url, \
             face_verification, passport_only, created, expires, token_hash) \
             SELECT g, $1, 'CREATED', 'ref-' || g, \
             CASE WHEN g % 2 = 0 THEN 'https://example.com/cb' END, false, false, 100, $4, \
             sha256(int8send(g)) FROM generate_series($2::BIGINT, $3::BIGINT) AS g",
        )
        .bind(account)
        .bind(first)
        .bind(last)
        .bind(expires)
        .execute(pool)
        .await
        .unwrap();
    }

    fn abort(id: i64, account_id: i64) -> (i64, i64, Abort) {
        (
            id,
            account_id,
            Abort {
                reason: Reason::AbortedByIntegrator,
            },
        )
    }

    fn update(id: i64, reference: &str) -> (i64, i64, Update) {
        (
            id,
            ACCOUNT,
            Update {
                reference: Some(reference.into()),
                callback_url: None,
            },
        )
    }

    /// Runs the changes as one batch, each at [`NOW`]; each caller's outcome, in order.
    async fn run_batch<C: Change>(
        pool: &PgPool,
        changes: Vec<(i64, i64, C)>,
    ) -> Vec<Result<Option<SessionRow>, StoreError>> {
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for (id, account_id, change) in changes {
            let (answer, answered) = oneshot::channel();
            batch.push(Request {
                id,
                account_id,
                now: NOW,
                change,
                answer,
            });
            answers.push(answered);
        }
        run(pool, batch).await;
        let mut out = Vec::new();
        for answered in answers {
            out.push(answered.await.expect("every caller is answered"));
        }
        out
    }

    /// Each stored session's id, state and reference, by id.
    async fn stored(pool: &PgPool) -> Vec<(i64, String, Option<String>)> {
        sqlx::query_as("SELECT id, state, reference FROM sessions ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// The aborted sessions whose change of state was recorded (its time in the row, by the
    /// history's trigger), and those with callback events.
    async fn written_for(pool: &PgPool) -> (Vec<i64>, Vec<i64>) {
        let history = sqlx::query_scalar(
            "SELECT id FROM sessions WHERE state = 'ABORTED' AND state_changed IS NOT NULL ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let events = sqlx::query_scalar(
            "SELECT session_id FROM callback_events WHERE session_state = 'ABORTED' ORDER BY session_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        (history, events)
    }

    #[tokio::test]
    async fn one_statement_aborts_a_batch_and_answers_each_caller_for_its_own_session() {
        let Some(db) = store().await else {
            return;
        };
        let pool = db.pool();
        add_sessions(pool, ACCOUNT, 1, 10, 200).await;
        add_sessions(pool, OTHER_ACCOUNT, 11, 11, 200).await;
        add_sessions(pool, ACCOUNT, 12, 12, NOW).await; // expired at NOW
        add_sessions(pool, ACCOUNT, 13, 13, 200).await;
        sqlx::query("UPDATE sessions SET state = 'COMPLETED' WHERE id = 13")
            .execute(pool)
            .await
            .unwrap();

        let mut changes: Vec<_> = (1..=10).map(|id| abort(id, ACCOUNT)).collect();
        changes.extend([
            abort(11, ACCOUNT), // another account's
            abort(12, ACCOUNT), // expired
            abort(13, ACCOUNT), // finished
            abort(99, ACCOUNT), // no such session
        ]);
        let outcomes = run_batch(pool, changes).await;
        for (i, outcome) in outcomes.iter().enumerate().take(10) {
            let row = outcome.as_ref().unwrap().as_ref().expect("aborted");
            assert_eq!(row.id, i as i64 + 1);
            assert_eq!(row.state, State::Aborted);
            assert_eq!(row.state_reason, Some(Reason::AbortedByIntegrator));
            assert_eq!(
                row.reference.as_deref(),
                Some(format!("ref-{}", i + 1).as_str())
            );
        }
        for outcome in &outcomes[10..] {
            assert!(matches!(outcome, Ok(None)), "{outcome:?}");
        }

        let states: Vec<String> = stored(pool).await.into_iter().map(|r| r.1).collect();
        let mut expected = vec!["ABORTED".to_owned(); 10];
        expected.extend(["CREATED", "CREATED", "COMPLETED"].map(str::to_owned));
        assert_eq!(states, expected);
        // The triggers ran for each aborted row: its time of change recorded, and a callback
        // event for each one with a callback URL.
        let (history, events) = written_for(pool).await;
        assert_eq!(history, (1..=10).collect::<Vec<i64>>());
        assert_eq!(events, [2, 4, 6, 8, 10]);
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn changes_of_one_session_in_a_batch_are_made_in_turn() {
        let Some(db) = store().await else {
            return;
        };
        let pool = db.pool();
        add_sessions(pool, ACCOUNT, 1, 3, 200).await;

        // Two updates of session 1 both apply, in the order they came; the last one stays.
        let outcomes = run_batch(
            pool,
            vec![update(1, "first"), update(2, "two"), update(1, "second")],
        )
        .await;
        let references: Vec<String> = outcomes
            .iter()
            .map(|o| {
                o.as_ref()
                    .unwrap()
                    .as_ref()
                    .unwrap()
                    .reference
                    .clone()
                    .unwrap()
            })
            .collect();
        assert_eq!(references, ["first", "two", "second"]);
        let stored_references: Vec<Option<String>> =
            stored(pool).await.into_iter().map(|r| r.2).collect();
        assert_eq!(
            stored_references,
            [
                Some("second".into()),
                Some("two".into()),
                Some("ref-3".into())
            ]
        );

        // Of two aborts of session 2, the first aborts it and the second finds it finished:
        // one history entry, one callback event.
        let outcomes = run_batch(
            pool,
            vec![abort(2, ACCOUNT), abort(3, ACCOUNT), abort(2, ACCOUNT)],
        )
        .await;
        assert!(
            matches!(&outcomes[0], Ok(Some(row)) if row.id == 2 && row.state == State::Aborted)
        );
        assert!(matches!(&outcomes[1], Ok(Some(row)) if row.id == 3));
        assert!(matches!(&outcomes[2], Ok(None)), "{:?}", outcomes[2]);
        let (history, events) = written_for(pool).await;
        assert_eq!(history, [2, 3]);
        assert_eq!(events, [2]);
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn a_change_that_fails_the_statement_fails_alone() {
        let Some(db) = store().await else {
            return;
        };
        let pool = db.pool();
        add_sessions(pool, ACCOUNT, 1, 3, 200).await;
        // A trigger of this test's own that refuses any change of session 2.
        sqlx::raw_sql(
            "CREATE FUNCTION refuse_two() RETURNS trigger AS $$ BEGIN \
             IF NEW.id = 2 THEN RAISE EXCEPTION 'session 2 is refused'; END IF; RETURN NEW; \
             END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_two BEFORE UPDATE ON sessions \
             FOR EACH ROW EXECUTE FUNCTION refuse_two();",
        )
        .execute(pool)
        .await
        .unwrap();

        let outcomes = run_batch(
            pool,
            vec![abort(1, ACCOUNT), abort(2, ACCOUNT), abort(3, ACCOUNT)],
        )
        .await;
        assert!(
            matches!(&outcomes[0], Ok(Some(row)) if row.id == 1),
            "{:?}",
            outcomes[0]
        );
        assert!(
            matches!(&outcomes[2], Ok(Some(row)) if row.id == 3),
            "{:?}",
            outcomes[2]
        );
        let error = outcomes[1].as_ref().unwrap_err();
        assert!(
            error.to_string().contains("session 2 is refused"),
            "{error}"
        );
        let states: Vec<String> = stored(pool).await.into_iter().map(|r| r.1).collect();
        assert_eq!(states, ["ABORTED", "CREATED", "ABORTED"]);
        let (history, _) = written_for(pool).await;
        assert_eq!(history, [1, 3]);
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn concurrent_changes_all_land_through_the_collectors() {
        let Some(db) = store().await else {
            return;
        };
        let Store::Postgres(pg) = &db.store else {
            unreachable!()
        };
        add_sessions(&pg.pool, ACCOUNT, 1, 400, 200).await;
        // Sessions 1..=200 are aborted and 201..=400 updated, all at once.
        let mut tasks = Vec::new();
        for id in 1..=400 {
            let changes = pg.session_changes.clone();
            tasks.push(tokio::spawn(async move {
                if id <= 200 {
                    changes
                        .abort(ACCOUNT, id, Reason::AbortedByIntegrator, NOW)
                        .await
                } else {
                    let reference = format!("new-{id}");
                    changes
                        .update(ACCOUNT, id, Some(&reference), None, NOW)
                        .await
                }
            }));
        }
        for task in tasks {
            let row = task.await.unwrap().unwrap().expect("changed");
            assert!(
                row.state == State::Aborted || row.reference == Some(format!("new-{}", row.id))
            );
        }
        let rows = stored(&pg.pool).await;
        assert_eq!(rows.iter().filter(|r| r.1 == "ABORTED").count(), 200);
        assert!(
            rows[200..]
                .iter()
                .all(|r| r.1 == "CREATED" && r.2 == Some(format!("new-{}", r.0)))
        );
        let (history, events) = written_for(&pg.pool).await;
        assert_eq!(history.len(), 200);
        assert_eq!(events.len(), 100);
        db.drop_schema().await;
    }

    /// Each statement finds its sessions through the primary key, also with the plan that
    /// the connection keeps after five runs on an empty table, once the table has grown: never
    /// by reading the whole table, nor the whole index of unfinished sessions.
    #[tokio::test]
    async fn changes_use_the_primary_key_after_the_table_grew() {
        let Some(db) = store().await else {
            return;
        };
        // One connection as the collectors' are, so that every statement runs where a kept
        // plan would be.
        let options = (*db.pool().connect_options()).clone();
        let pool = crate::store::postgres::with_setting(
            1,
            crate::store::postgres::BATCHED_CHANGES_SETTING,
        )
        .connect_with(options)
        .await
        .unwrap();
        let updates = |first: i64| (first..first + 12).map(|id| update(id, "again")).collect();
        // More than the five runs after which PostgreSQL may switch to a generic plan, on the
        // empty table of a new deployment.
        for _ in 0..10 {
            let outcomes = run_batch(&pool, updates(1)).await;
            assert!(
                outcomes.iter().all(|o| matches!(o, Ok(None))),
                "{outcomes:?}"
            );
        }
        add_sessions(&pool, ACCOUNT, 1, 30_000, 200).await;
        let index_scans = || async {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT indexrelname::TEXT, idx_scan FROM pg_stat_user_indexes \
                 WHERE relid = 'sessions'::regclass ORDER BY 1",
            )
            .fetch_all(db.pool())
            .await
            .unwrap()
        };
        let before = (db.sessions_scans(&pool).await, index_scans().await);
        for first in 0..10 {
            let outcomes = run_batch(&pool, updates(first * 1000 + 1)).await;
            assert!(
                outcomes.iter().all(|o| matches!(o, Ok(Some(_)))),
                "{outcomes:?}"
            );
        }
        let after = (db.sessions_scans(&pool).await, index_scans().await);
        assert_eq!(
            after.0.read_sequentially, before.0.read_sequentially,
            "rows of sessions read by sequential scans: {before:?} → {after:?}"
        );
        // Only the primary key was searched (PostgreSQL counts a search for each id of an
        // `= ANY` array).
        let searched: Vec<(String, i64)> = after
            .1
            .iter()
            .zip(&before.1)
            .map(|((index, a), (_, b))| (index.clone(), a - b))
            .filter(|(_, scans)| *scans > 0)
            .collect();
        assert!(
            matches!(searched.as_slice(), [(index, scans)] if index == "sessions_pkey" && *scans >= 10),
            "{before:?} → {after:?}"
        );
        pool.close().await;
        db.drop_schema().await;
    }
}
