//! Group commit for SQLite: one task owns the one connection that writes. Writes that arrive
//! while it is busy wait in its queue and then share one transaction, so they share one fsync
//! (`synchronous = FULL`): a write is acknowledged only after the commit that holds it has
//! returned, so an acknowledged write survives `kill -9` and power loss exactly as before.
//! Each write runs inside its own SAVEPOINT, so one that fails (a unique violation, a lost
//! race) is rolled back alone and the others of its batch still commit. Readers keep their own
//! connections (WAL: they never wait on the writer).

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
/// Runs one write on the writer's connection; `true` if it succeeded.
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

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
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit| {
                    let outcome = match commit {
                        Ok(()) => result.map_err(StoreError::from),
                        Err(e) => Err(StoreError::Commit(e)),
                    };
                    let _ = reply.send(outcome);
                });
                (ok, finish)
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

/// Runs the jobs in one transaction, each inside a savepoint. `Err` (with every job's
/// finisher) if the transaction itself failed: then nothing of the batch is stored.
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
        if failure.is_none()
            && let Err(e) = sqlx::raw_sql("SAVEPOINT write").execute(&mut *conn).await
        {
            failure = Some(e.to_string());
        }
        if failure.is_some() {
            // The transaction is gone: the write is dropped unrun, and its caller told so.
            drop(job);
            continue;
        }
        let (ok, finish) = job(&mut *conn).await;
        finishes.push(finish);
        let end = if ok {
            "RELEASE write"
        } else {
            "ROLLBACK TO write; RELEASE write"
        };
        if let Err(e) = sqlx::raw_sql(end).execute(&mut *conn).await {
            failure = Some(e.to_string());
        }
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
