//! Group commit for SQLite: one task owns the one connection that writes. Writes that arrive
//! while it is busy wait in its queue and then share one transaction, so they share one fsync
//! (`synchronous = FULL`): a write is acknowledged only after the commit that holds it has
//! returned, so an acknowledged write survives `kill -9` and power loss exactly as before.
//! Every write is one statement, and SQLite undoes a statement that breaks a constraint (a unique
//! violation, a lost race) alone, leaving the transaction open: so one such failure is that
//! write's error and the others of its batch still commit, with no savepoint per write (each
//! statement is a hop to sqlx's SQLite thread and back; savepoints tripled them). Any other error
//! may have ended the transaction, so it fails the whole batch and nothing of it is stored.
//! Readers keep their own connections (WAL: they never wait on the writer).

use std::future::Future;
use std::pin::Pin;

use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Connection, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// A statement with its arguments bound, owning everything it needs.
pub type OwnedQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Most writes one transaction takes: enough to amortise the fsync, few enough that the first
/// of a batch does not wait long behind the others.
const MAX_BATCH: usize = 256;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// Hands a job's result to its caller once the batch's commit has succeeded or failed.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs one write on the writer's connection; the error, if it failed in a way that may have
/// ended the batch's transaction.
type Job = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (Option<String>, Finish)> + Send,
>;

/// The handle the store keeps; cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

impl SqliteWriter {
    /// Starts the writer task on `connection` (opened with the store's options).
    pub fn spawn(connection: SqliteConnection) -> SqliteWriter {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(connection, queue));
        SqliteWriter { jobs }
    }

    /// Runs an `INSERT`/`UPDATE`/`DELETE` in the next batch; the rows it changed.
    pub async fn execute(&self, query: OwnedQuery) -> Result<u64, StoreError> {
        self.submit(move |conn| {
            Box::pin(async move { query.execute(conn).await.map(|d| d.rows_affected()) })
        })
        .await
    }

    /// Runs a statement with `RETURNING` in the next batch; the rows it returned.
    pub async fn fetch_all(&self, query: OwnedQuery) -> Result<Vec<SqliteRow>, StoreError> {
        self.submit(move |conn| Box::pin(async move { query.fetch_all(conn).await }))
            .await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
        + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let broke = match &result {
                    Err(e) if !undone_alone(e) => Some(e.to_string()),
                    _ => None,
                };
                let finish: Finish = Box::new(move |commit| {
                    let outcome = match commit {
                        Ok(()) => result.map_err(StoreError::from),
                        Err(e) => Err(StoreError::Commit(e)),
                    };
                    let _ = reply.send(outcome);
                });
                (broke, finish)
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run(mut conn: SqliteConnection, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let finishes = commit_batch(&mut conn, batch.drain(..)).await;
        let (finishes, outcome) = match finishes {
            Ok(f) => (f, Ok(())),
            Err((f, e)) => (f, Err(e)),
        };
        for finish in finishes {
            finish(outcome.clone());
        }
    }
    let _ = conn.close().await;
}

/// Whether SQLite undid just the failing statement, leaving the transaction as it was: a
/// constraint it broke.
fn undone_alone(e: &sqlx::Error) -> bool {
    use sqlx::error::ErrorKind;
    match e {
        sqlx::Error::Database(d) => matches!(
            d.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ),
        _ => false,
    }
}

/// Runs the jobs in one transaction. `Err` (with every job's finisher) if the transaction itself
/// failed: then nothing of the batch is stored.
async fn commit_batch(
    conn: &mut SqliteConnection,
    jobs: impl Iterator<Item = Job>,
) -> Result<Vec<Finish>, (Vec<Finish>, String)> {
    let mut finishes = Vec::new();
    let mut failure = sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .err()
        .map(|e| e.to_string());
    for job in jobs {
        if failure.is_some() {
            // The transaction is gone: the write is dropped unrun, and its caller told so.
            drop(job);
            continue;
        }
        let (broke, finish) = job(&mut *conn).await;
        finishes.push(finish);
        failure = broke;
    }
    let commit = match failure {
        None => sqlx::raw_sql("COMMIT")
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Some(e) => Err(e),
    };
    match commit {
        Ok(()) => Ok(finishes),
        Err(e) => {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            tracing::error!(error = %e, "a batch of SQLite writes failed to commit");
            Err((finishes, e))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::str::FromStr;

    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    use super::*;

    async fn writer_on(dir: &std::path::Path) -> (SqliteWriter, SqliteConnection) {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .unwrap()
            .filename(dir.join("w.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let mut reader = options.connect().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .execute(&mut reader)
            .await
            .unwrap();
        (
            SqliteWriter::spawn(options.connect().await.unwrap()),
            reader,
        )
    }

    fn insert(k: i64, v: Option<&str>) -> OwnedQuery {
        sqlx::query("INSERT INTO t (k, v) VALUES ($1, $2)")
            .bind(k)
            .bind(v.map(str::to_owned))
    }

    /// Writes sent together share batches; the ones that break a constraint fail alone.
    #[tokio::test]
    async fn a_broken_constraint_fails_its_write_only() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, mut reader) = writer_on(dir.path()).await;
        let mut pending = Vec::new();
        for k in 0..50_i64 {
            let writer = writer.clone();
            pending.push(tokio::spawn(async move {
                // Every tenth repeats the key before it; every fifteenth has no value.
                let key = if k % 10 == 9 { k - 1 } else { k };
                let value = (k % 15 != 14).then_some("x");
                (k, writer.execute(insert(key, value)).await)
            }));
        }
        let mut failed = Vec::new();
        for p in pending {
            let (k, result) = p.await.unwrap();
            match result {
                Ok(n) => assert_eq!(n, 1),
                Err(e) => {
                    assert!(matches!(e, StoreError::Database(_)), "{e}");
                    failed.push(k);
                }
            }
        }
        failed.sort_unstable();
        // 9, 19, 29, 39, 49 repeat a key; 14, 29, 44 have no value.
        assert_eq!(failed, vec![9, 14, 19, 29, 39, 44, 49]);
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut reader)
            .await
            .unwrap();
        assert_eq!(stored, 43);
    }

    /// An error that is not a broken constraint fails the whole batch, and nothing of it stays.
    #[tokio::test]
    async fn another_error_fails_the_batch_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, mut reader) = writer_on(dir.path()).await;
        let good = writer.clone();
        let bad = writer.clone();
        let (a, b) = tokio::join!(
            good.execute(insert(1, Some("x"))),
            bad.execute(sqlx::query("INSERT INTO missing_table VALUES (1)")),
        );
        assert!(b.is_err());
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut reader)
            .await
            .unwrap();
        // Either the good write committed in a batch of its own, or it failed with the bad one's.
        assert_eq!(stored, i64::from(a.is_ok()));
        // The writer goes on.
        writer.execute(insert(2, Some("y"))).await.unwrap();
    }
}
