//! PostgreSQL: the sessions asked for by concurrent `session.get`s read by one statement.
//!
//! A `session.get` is one indexed SELECT, and what it costs on this path is mostly the round
//! trip, not the read: a send that wakes a PostgreSQL backend, its reply that wakes us. Here
//! requests hand their id to a collector, which reads every id waiting at that moment with one
//! `SELECT … WHERE id = ANY($1)`, one statement at a time, and hands each caller its own row. A
//! lone request waits for nothing: it is sent at once, a batch of one. Ids pile up only while
//! the previous statement runs.
//!
//! Each caller sees what it would have seen alone: the statement starts after the caller's
//! request reached the collector, so it reads every write committed before that request (read
//! your own writes holds); a session of another account is `None`, as the single statement's
//! account guard made it; a row that cannot be read fails only the reads of that id. A statement
//! that fails as a whole fails every read in it (not retried id by id, as the inserts are: a
//! taken key fails one row of an insert, while what fails a SELECT by primary key, the
//! connection or the database, would fail each read alike).

use std::collections::HashMap;
use std::sync::LazyLock;

use sqlx::PgPool;
use sqlx::Row;
use sqlx::postgres::PgRow;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::sessions::{SESSION_COLUMNS, SessionRow, session_from_pg_row};

/// Ids in one statement at most.
const MAX_IDS: usize = 512;

type Answer = oneshot::Sender<Result<Option<SessionRow>, StoreError>>;

struct Read {
    id: i64,
    account_id: i64,
    answer: Answer,
}

/// A handle on the collector; cheap to clone. The collector stops when the last handle goes.
#[derive(Debug, Clone)]
pub(super) struct SessionReads {
    sender: mpsc::UnboundedSender<Read>,
    /// The collector's own connection ([`super::postgres::connect_for_batched_reads`]).
    pool: PgPool,
}

impl SessionReads {
    /// Starts the collector on the current tokio runtime, reading over `pool`.
    pub(super) fn start(pool: PgPool) -> SessionReads {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(collect(pool.clone(), receiver));
        SessionReads { sender, pool }
    }

    /// Closes the collector's connection.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    /// The account's session with this id, as stored (`None` also for another account's).
    pub(super) async fn read(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.sender
            .send(Read {
                id,
                account_id,
                answer,
            })
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// The collector is gone (the runtime is shutting down).
fn stopped() -> StoreError {
    StoreError::SharedStatement("the collector of batched session reads has stopped".into())
}

async fn collect(pool: PgPool, mut receiver: mpsc::UnboundedReceiver<Read>) {
    // Every request waiting at that moment, at least one (bounded as the inserts' are).
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, MAX_IDS).await > 0 {
        run(&pool, std::mem::take(&mut batch)).await;
    }
}

/// Reads the batch's sessions and answers every caller.
async fn run(pool: &PgPool, batch: Vec<Read>) {
    let mut ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    match select(pool, &ids).await {
        Ok(rows) => {
            let mut by_id = HashMap::with_capacity(rows.len());
            for row in rows {
                if let Ok(id) = row.try_get::<i64, _>("id") {
                    by_id.insert(id, row);
                }
            }
            for read in batch {
                let _ = read
                    .answer
                    .send(own_session(by_id.get(&read.id), read.account_id));
            }
        }
        Err(error) => {
            // Not retried id by id: what fails a whole SELECT by primary key (the connection, the
            // database) would fail each read alike. Every caller gets the error.
            let text = error.to_string();
            let mut error = Some(error);
            for read in batch {
                let e = error
                    .take()
                    .unwrap_or_else(|| StoreError::SharedStatement(text.clone()));
                let _ = read.answer.send(Err(e));
            }
        }
    }
}

/// The row, if it is the account's.
fn own_session(row: Option<&PgRow>, account_id: i64) -> Result<Option<SessionRow>, StoreError> {
    match row {
        Some(row) if row.try_get::<i64, _>("account_id")? == account_id => {
            Ok(Some(session_from_pg_row(row)?))
        }
        _ => Ok(None),
    }
}

static SELECT_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ANY($1)"));

async fn select(pool: &PgPool, ids: &[i64]) -> Result<Vec<PgRow>, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(SELECT_SQL.as_str()))
        .bind(ids)
        .fetch_all(pool)
        .await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::test_schema::PostgresSchema;

    const ACCOUNT: i64 = 7;
    const OTHER_ACCOUNT: i64 = 8;

    /// A store in a schema of its own with two accounts, or `None` without PostgreSQL.
    async fn store() -> Option<PostgresSchema> {
        PostgresSchema::with_accounts("reads", "the batched read test", &[ACCOUNT, OTHER_ACCOUNT])
            .await
    }

    /// Stores sessions `first..=last` of `account` (reference `ref-<id>`).
    async fn add_sessions(pool: &PgPool, account: i64, first: i64, last: i64) {
        sqlx::query(
            "INSERT INTO sessions (id, account_id, state, reference, face_verification, \
             passport_only, created, expires, token_hash) \
             SELECT g, $1, 'CREATED', 'ref-' || g, false, false, 100, 200, \
             sha256(int8send(g)) FROM generate_series($2::BIGINT, $3::BIGINT) AS g",
        )
        .bind(account)
        .bind(first)
        .bind(last)
        .execute(pool)
        .await
        .unwrap();
    }

    fn reads(db: &PostgresSchema) -> &SessionReads {
        let Store::Postgres(pg) = &db.store else {
            unreachable!()
        };
        &pg.session_reads
    }

    /// Runs the reads as one batch; each caller's outcome, in order.
    async fn run_batch(
        pool: &PgPool,
        wanted: &[(i64, i64)],
    ) -> Vec<Result<Option<SessionRow>, StoreError>> {
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for &(account_id, id) in wanted {
            let (answer, answered) = oneshot::channel();
            batch.push(Read {
                id,
                account_id,
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

    #[tokio::test]
    async fn one_statement_answers_each_caller_with_its_own_accounts_session() {
        let Some(db) = store().await else {
            return;
        };
        add_sessions(db.pool(), ACCOUNT, 1, 5).await;
        add_sessions(db.pool(), OTHER_ACCOUNT, 6, 6).await;
        let outcomes = run_batch(
            &reads(&db).pool,
            &[
                (ACCOUNT, 3),
                (ACCOUNT, 99),      // no such session
                (ACCOUNT, 6),       // another account's
                (OTHER_ACCOUNT, 6), // ... read by its own
                (ACCOUNT, 3),       // the same id twice in one batch
                (OTHER_ACCOUNT, 1), // this account's, asked for by another
                (ACCOUNT, 5),
            ],
        )
        .await;
        let found: Vec<Option<(i64, i64, Option<String>)>> = outcomes
            .into_iter()
            .map(|o| {
                o.unwrap()
                    .map(|s| (s.id, s.account_id, s.reference.clone()))
            })
            .collect();
        assert_eq!(
            found,
            [
                Some((3, ACCOUNT, Some("ref-3".into()))),
                None,
                None,
                Some((6, OTHER_ACCOUNT, Some("ref-6".into()))),
                Some((3, ACCOUNT, Some("ref-3".into()))),
                None,
                Some((5, ACCOUNT, Some("ref-5".into()))),
            ]
        );
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn concurrent_reads_through_the_collector_each_get_their_session() {
        let Some(db) = store().await else {
            return;
        };
        add_sessions(db.pool(), ACCOUNT, 1, 300).await;
        let tasks: Vec<_> = (1..=300_i64)
            .map(|id| {
                let reads = reads(&db).clone();
                // Every third asks under the other account: not its session.
                let account = if id % 3 == 0 { OTHER_ACCOUNT } else { ACCOUNT };
                tokio::spawn(async move { (id, account, reads.read(account, id).await) })
            })
            .collect();
        for task in tasks {
            let (id, account, outcome) = task.await.unwrap();
            let found = outcome.unwrap();
            if account == ACCOUNT {
                let s = found.expect("the account's own session");
                assert_eq!((s.id, s.reference), (id, Some(format!("ref-{id}"))));
            } else {
                assert!(found.is_none(), "session {id} given to another account");
            }
        }
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn a_failed_statement_fails_every_read_in_it() {
        let Some(db) = store().await else {
            return;
        };
        add_sessions(db.pool(), ACCOUNT, 1, 3).await;
        let reads = reads(&db);
        reads.close().await;
        let outcomes = run_batch(&reads.pool, &[(ACCOUNT, 1), (ACCOUNT, 2), (ACCOUNT, 1)]).await;
        assert!(
            matches!(
                outcomes[0],
                Err(StoreError::Database(sqlx::Error::PoolClosed))
            ),
            "{outcomes:?}"
        );
        for outcome in &outcomes[1..] {
            assert!(
                matches!(outcome, Err(StoreError::SharedStatement(text)) if text.contains("closed")),
                "{outcome:?}"
            );
        }
        db.drop_schema().await;
    }

    /// The statement is planned for its ids, not once for the table as it was: a plan made
    /// while the table was tiny (a sequential scan) must not be kept once it has grown.
    #[tokio::test]
    async fn reads_use_the_primary_key_after_the_table_grew() {
        let Some(db) = store().await else {
            return;
        };
        let pool = &reads(&db).pool;
        add_sessions(db.pool(), ACCOUNT, 1, 200).await;
        // More than the five runs after which PostgreSQL may switch to a generic plan.
        for _ in 0..10 {
            let ids: Vec<i64> = (1..=12).collect();
            assert_eq!(select(pool, &ids).await.unwrap().len(), 12);
        }
        add_sessions(db.pool(), ACCOUNT, 201, 30_000).await;
        let before = db.sessions_scans(pool).await;
        for first in 0..10 {
            let ids: Vec<i64> = (first * 1000 + 1..=first * 1000 + 12).collect();
            assert_eq!(select(pool, &ids).await.unwrap().len(), 12);
        }
        let after = db.sessions_scans(pool).await;
        assert_eq!(
            after.read_sequentially, before.read_sequentially,
            "rows of sessions read by sequential scans: {before:?} → {after:?}"
        );
        assert!(
            after.by_index >= before.by_index + 10,
            "index scans: {before:?} → {after:?}"
        );
        db.drop_schema().await;
    }
}
