//! PostgreSQL: the new sessions of concurrent `session.create`s inserted by one statement.
//!
//! One insert per request costs PostgreSQL a statement, a transaction and a WAL flush each; under
//! load that, not the network, is what limits `session.create`. Here requests hand their row to
//! a collector, which sends every row waiting at that moment as one `INSERT … SELECT FROM UNNEST`
//! (one statement, one commit), one statement at a time. A lone request waits for nothing: it is
//! sent at once, a batch of one. Rows pile up only while the previous statement runs, which is
//! when sharing a commit pays; a slower database or a longer round trip makes bigger batches, not
//! a longer queue.
//!
//! One statement at a time, not several: with 64 clients, four statements in flight made batches
//! of about 7 rows and one makes batches of about 26, so what a statement costs (its commit, its
//! memory, a backend woken, a send from here) is paid a third as often. perf over the bench's
//! create phase: PostgreSQL 67 → 41 µs of CPU per session, our process 120 → 93 µs. The A/B
//! figures are in README ("Statements in flight").
//!
//! Every caller still gets its own outcome. A statement that fails as a whole (an id or token
//! hash taken, an account deleted meanwhile, the connection lost) is retried row by row, so that
//! each caller gets the error of its own row (a taken key is a unique violation: the caller draws
//! again) and no row fails because of another's. A caller is answered only after the commit: an
//! acknowledged session is as durable as one inserted alone.
//!
//! The statement is a plain `INSERT`, not `ON CONFLICT DO NOTHING`: a conflict needs two random
//! 63-bit ids or 256-bit tokens to meet, so it is not worth its price on every row. `ON CONFLICT`
//! makes PostgreSQL search both unique indexes for each row before inserting it (the plain insert
//! finds a duplicate on the same descent that enters the row): perf over the bench's create phase
//! put that search at 6% of the whole machine's CPU, a sixth of PostgreSQL's.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::{NewSession, StoreError};
use crate::model::State;

/// Rows in one statement at most (the arrays are sent as parameters; this bounds their size).
const MAX_ROWS: usize = 512;

const INSERT_SQL: &str = "INSERT INTO sessions (id, account_id, state, reference, callback_url, \
     face_verification, passport_only, created, expires, token_hash) \
     SELECT id, account_id, $10, reference, callback_url, face_verification, passport_only, \
     created, expires, token_hash \
     FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BOOLEAN[], \
     $6::BOOLEAN[], $7::BIGINT[], $8::BIGINT[], $9::BYTEA[]) \
     AS t (id, account_id, reference, callback_url, face_verification, passport_only, created, \
     expires, token_hash)";

type Answer = oneshot::Sender<Result<(), StoreError>>;

/// A handle on the collector; cheap to clone. The collector stops when the last handle goes.
#[derive(Debug, Clone)]
pub(super) struct SessionInserts {
    sender: mpsc::UnboundedSender<(NewSession, Answer)>,
}

impl SessionInserts {
    /// Starts the collector on the current tokio runtime.
    pub(super) fn start(pool: PgPool) -> SessionInserts {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(collect(pool, receiver));
        SessionInserts { sender }
    }

    /// Inserts the row; a unique violation if its id or token hash is taken.
    pub(super) async fn insert(&self, session: NewSession) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        self.sender
            .send((session, answer))
            .map_err(|_| StoreError::WriterGone)?;
        answered.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn collect(pool: PgPool, mut receiver: mpsc::UnboundedReceiver<(NewSession, Answer)>) {
    // Every request waiting at that moment, at least one. The pending requests are counted by
    // the channel itself: the memory they hold is bounded by the server's limit on requests in
    // flight, not here.
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, MAX_ROWS).await > 0 {
        run(&pool, std::mem::take(&mut batch)).await;
    }
}

/// Inserts the batch and answers every caller.
async fn run(pool: &PgPool, batch: Vec<(NewSession, Answer)>) {
    let (rows, answers): (Vec<NewSession>, Vec<Answer>) = batch.into_iter().unzip();
    match insert_all(pool, &rows).await {
        Ok(()) => {
            for answer in answers {
                let _ = answer.send(Ok(()));
            }
        }
        Err(error) if rows.len() == 1 => {
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(Err(error));
            }
        }
        Err(error) => {
            tracing::debug!(rows = rows.len(), %error, "batched session insert failed; inserting row by row");
            for (row, answer) in rows.iter().zip(answers) {
                let _ = answer.send(insert_all(pool, std::slice::from_ref(row)).await);
            }
        }
    }
}

/// One statement: every row goes in, or none.
async fn insert_all(pool: &PgPool, rows: &[NewSession]) -> Result<(), StoreError> {
    // One array parameter per column.
    fn column<T>(rows: &[NewSession], value: impl Fn(&NewSession) -> T) -> Vec<T> {
        rows.iter().map(value).collect()
    }
    sqlx::query(INSERT_SQL)
        .bind(column(rows, |r| r.id))
        .bind(column(rows, |r| r.account_id))
        .bind(column(rows, |r| r.reference.clone()))
        .bind(column(rows, |r| r.callback_url.clone()))
        .bind(column(rows, |r| r.face_verification))
        .bind(column(rows, |r| r.passport_only))
        .bind(column(rows, |r| r.created))
        .bind(column(rows, |r| r.expires))
        .bind(column(rows, |r| r.token_hash.clone()))
        .bind(State::Created.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::test_schema::PostgresSchema;

    const ACCOUNT: i64 = 7;

    /// A store in a schema of its own with one account, or `None` without PostgreSQL.
    async fn store() -> Option<PostgresSchema> {
        PostgresSchema::with_accounts("inserts", "the batched insert test", &[ACCOUNT]).await
    }

    fn session(id: i64, token: u8) -> NewSession {
        NewSession {
            id,
            account_id: ACCOUNT,
            reference: (id % 2 == 0).then(|| format!("ref-{id}")),
            callback_url: None,
            face_verification: id % 3 == 0,
            passport_only: false,
            created: 100,
            expires: 200,
            token_hash: vec![token; 32],
        }
    }

    /// Runs `rows` as one batch; each caller's outcome, in order.
    async fn run_batch(pool: &PgPool, rows: Vec<NewSession>) -> Vec<Result<(), StoreError>> {
        let mut batch = Vec::new();
        let mut answers = Vec::new();
        for row in rows {
            let (answer, answered) = oneshot::channel();
            batch.push((row, answer));
            answers.push(answered);
        }
        run(pool, batch).await;
        let mut out = Vec::new();
        for answered in answers {
            out.push(answered.await.expect("every caller is answered"));
        }
        out
    }

    async fn stored(pool: &PgPool) -> Vec<(i64, Vec<u8>, Option<String>, bool, String)> {
        sqlx::query_as(
            "SELECT id, token_hash, reference, face_verification, state FROM sessions ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn one_statement_inserts_a_batch_and_answers_each_caller_for_its_own_row() {
        let Some(db) = store().await else {
            return;
        };
        let pool = db.pool();
        let outcomes = run_batch(pool, (1..=40).map(|i| session(i, i as u8)).collect()).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let rows = stored(pool).await;
        assert_eq!(rows.len(), 40);
        assert_eq!(
            rows[1],
            (
                2,
                vec![2; 32],
                Some("ref-2".into()),
                false,
                "CREATED".into()
            )
        );
        assert_eq!(rows[2], (3, vec![3; 32], None, true, "CREATED".into()));

        // A taken id (stored, or earlier in the same batch) and a taken token hash fail alone.
        let outcomes = run_batch(
            pool,
            vec![
                session(100, 100),
                session(5, 101), // id stored already
                session(102, 102),
                session(100, 103), // id earlier in this batch
                session(104, 7),   // token hash stored already
                session(105, 105),
            ],
        )
        .await;
        let conflicts: Vec<bool> = outcomes
            .iter()
            .map(|o| o.as_ref().is_err_and(StoreError::is_unique_violation))
            .collect();
        assert_eq!(
            conflicts,
            [false, true, false, true, true, false],
            "{outcomes:?}"
        );
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok() && outcomes[5].is_ok());
        let rows = stored(pool).await;
        assert_eq!(rows.len(), 43);
        assert!(rows.contains(&(
            100,
            vec![100; 32],
            Some("ref-100".into()),
            false,
            "CREATED".into()
        )));
        assert_eq!(rows.iter().filter(|r| r.0 == 5).count(), 1);
        assert_eq!(rows.iter().find(|r| r.0 == 5).unwrap().1, vec![5; 32]);
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn a_row_that_fails_the_statement_fails_alone() {
        let Some(db) = store().await else {
            return;
        };
        let pool = db.pool();
        let mut orphan = session(2, 2);
        orphan.account_id = 999; // no such account: the foreign key refuses the whole statement
        let outcomes = run_batch(pool, vec![session(1, 1), orphan, session(3, 3)]).await;
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
        let error = outcomes[1].as_ref().unwrap_err();
        assert!(matches!(error, StoreError::Database(_)), "{error:?}");
        assert!(!error.is_unique_violation());
        let ids: Vec<i64> = stored(pool).await.iter().map(|r| r.0).collect();
        assert_eq!(ids, [1, 3]);
        db.drop_schema().await;
    }

    #[tokio::test]
    async fn concurrent_inserts_all_land_through_the_collector() {
        let Some(db) = store().await else {
            return;
        };
        let Store::Postgres(pg) = &db.store else {
            unreachable!()
        };
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let inserts = pg.session_inserts.clone();
                let mut row = session(i + 1, 0);
                row.token_hash = (i as u32).to_be_bytes().repeat(8);
                tokio::spawn(async move { inserts.insert(row).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // And a taken id through the collector is a unique violation, as from a lone INSERT.
        let again = pg.session_inserts.insert(session(1, 0xee)).await;
        assert!(
            again.as_ref().is_err_and(StoreError::is_unique_violation),
            "{again:?}"
        );
        assert_eq!(stored(&pg.pool).await.len(), 300);
        db.drop_schema().await;
    }
}
