//! Group commit for SQLite: one thread owns the one connection that writes. Writes that arrive
//! while it is busy wait in its queue and then share one transaction, so they share one fsync
//! (`synchronous = FULL`): a write is acknowledged only after the commit that holds it has
//! returned, so an acknowledged write survives `kill -9` and power loss exactly as before.
//! The thread runs a whole batch synchronously on its own connection (rusqlite, on the same
//! SQLite library as sqlx's readers): a write costs one hand-over to the thread and one answer
//! back, not a hop to a database worker thread and back for every statement (BEGIN, each write,
//! COMMIT), which was most of `session.create`'s time.
//! Every write is one statement, and SQLite undoes a statement that breaks a constraint (a unique
//! violation, a lost race) alone, leaving the transaction open: so one such failure is that
//! write's error and the others of its batch still commit, with no savepoint per write. Any other
//! error may have ended the transaction, so it fails the whole batch and nothing of it is stored.
//! Readers keep their own connections (WAL: they never wait on the writer).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::types::{FromSql, Value as Column};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::write::Write;

/// Most writes one transaction takes: enough to amortise the fsync, few enough that the first
/// of a batch does not wait long behind the others.
const MAX_BATCH: usize = 256;

/// Statements the writer keeps prepared (every write statement of the store, with room).
const PREPARED_STATEMENTS: usize = 128;

/// A row a `RETURNING` statement gave.
#[derive(Debug, Clone)]
pub struct WrittenRow {
    names: Arc<[String]>,
    values: Vec<Column>,
}

impl WrittenRow {
    /// The column `name`, converted as the readers' rows are (`try_get`).
    pub fn try_get<T: FromSql>(&self, name: &str) -> Result<T, StoreError> {
        let index = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(name.to_owned()))?;
        let value = self
            .values
            .get(index)
            .ok_or(rusqlite::Error::InvalidColumnIndex(index))?;
        T::column_result(value.into()).map_err(|e| {
            StoreError::from(rusqlite::Error::FromSqlConversionFailure(
                index,
                value.data_type(),
                Box::new(e),
            ))
        })
    }
}

/// What a write did: the rows it changed, and the rows a `RETURNING` gave.
struct Done {
    changed: u64,
    rows: Vec<WrittenRow>,
}

struct Job {
    write: Write,
    returning: bool,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// Log pages after which the writer checkpoints itself (see [`SqliteWriter::open`]); normally
/// the checkpointer's thread has done it before.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 8_000;
/// The checkpointer's pause after each checkpoint (the log pages written meanwhile are copied
/// by the next one, each page once however often it changed).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// The handle the store keeps; cheap to clone. The thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct SqliteWriter {
    jobs: mpsc::UnboundedSender<Job>,
    counters: Arc<Counters>,
}

/// What the writer has done since it started, for benchmarks and diagnostics: the difference
/// of two readings tells how busy it was in between, and what a write cost it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions run (one a batch).
    pub batches: u64,
    /// Writes run, in all the batches.
    pub writes: u64,
    /// Time spent on batches, from `BEGIN` to the last answer (commit and its fsync included):
    /// near the time elapsed, the writer is what limits the writes.
    pub busy: Duration,
    /// The thread's time on a core and its time waiting for one, as Linux counts them
    /// (`/proc/…/schedstat`); `None` where the system does not tell.
    pub cpu: Option<Duration>,
    pub run_queue: Option<Duration>,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    writes: AtomicU64,
    busy_nanos: AtomicU64,
    /// The writer thread's `schedstat` file, set by the thread itself (Linux).
    schedstat: OnceLock<PathBuf>,
}

impl Counters {
    fn batch_done(&self, writes: usize, busy: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        let nanos = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl SqliteWriter {
    /// Opens the writer's connection on the database file at `path` (which the readers' pool has
    /// created and set to WAL) and starts its thread.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<SqliteWriter, StoreError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(busy_timeout)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Config(format!(
                "SQLite would not use its write-ahead log (journal mode {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A batch runs many statements in one transaction, so SQLite keeps a statement journal
        // (the pages each statement changes, to undo that statement alone on a constraint
        // error); in memory rather than in a temporary file, where writing it took a fifth of
        // this thread's time. It is never needed after the statement, so durability is untouched.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoints (copying the log back into the database file, then an fsync) run on the
        // checkpointer's thread (below), not after this thread's commits: SQLite's default, a
        // checkpoint here whenever the log holds 1,000 pages, ran several times a second under
        // load, copying the same hot index pages each time while writes waited. This thread
        // checkpoints only if the log reaches 8,000 pages (about 32 MB; SQLite then reuses it
        // from its start). Durability does not depend on it: a commit is durable once the log
        // is synced.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
        let checkpointer = rusqlite::Connection::open(path)?;
        checkpointer.busy_timeout(busy_timeout)?;
        checkpointer.pragma_update(None, "synchronous", "FULL")?;
        // Capacity 1: a nudge sent while one is pending is dropped (one checkpoint serves both).
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpointer".into())
            .spawn(move || checkpoint(checkpointer, nudged))
            .map_err(|e| {
                StoreError::Config(format!("cannot start the SQLite checkpointer: {e}"))
            })?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let counted = counters.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                // `/proc/thread-self` names this thread as `<pid>/task/<tid>`.
                if let Ok(task) = std::fs::read_link("/proc/thread-self") {
                    let _ = counted
                        .schedstat
                        .set(Path::new("/proc").join(task).join("schedstat"));
                }
                run(conn, queue, nudge, &counted);
            })
            .map_err(|e| StoreError::Config(format!("cannot start the SQLite writer: {e}")))?;
        Ok(SqliteWriter { jobs, counters })
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        let c = &self.counters;
        // "<ns on a core> <ns waiting for one> <timeslices>"
        let sched: Option<Vec<u64>> = c
            .schedstat
            .get()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| {
                text.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            });
        let field = |i: usize| {
            sched
                .as_ref()
                .and_then(|f| f.get(i))
                .map(|&ns| Duration::from_nanos(ns))
        };
        WriterStats {
            batches: c.batches.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            busy: Duration::from_nanos(c.busy_nanos.load(Ordering::Relaxed)),
            cpu: field(0),
            run_queue: field(1),
        }
    }

    /// Runs an `INSERT`/`UPDATE`/`DELETE` in the next batch; the rows it changed.
    pub async fn execute(&self, write: Write) -> Result<u64, StoreError> {
        Ok(self.submit(write, false).await?.changed)
    }

    /// Runs a statement with `RETURNING` in the next batch; the rows it returned.
    pub async fn fetch_all(&self, write: Write) -> Result<Vec<WrittenRow>, StoreError> {
        Ok(self.submit(write, true).await?.rows)
    }

    async fn submit(&self, write: Write, returning: bool) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                write,
                returning,
                reply,
            })
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

fn run(
    mut conn: rusqlite::Connection,
    mut queue: mpsc::UnboundedReceiver<Job>,
    nudge: std::sync::mpsc::SyncSender<()>,
    counters: &Counters,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut names = ColumnNames::default();
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (writes, started) = (batch.len(), Instant::now());
        commit_batch(&mut conn, &mut batch, &mut names);
        counters.batch_done(writes, started.elapsed());
        let _ = nudge.try_send(());
    }
    // Dropping `nudge` ends the checkpointer.
}

/// The checkpointer's thread: after writes, copies the log back into the database file with
/// its own connection (a passive checkpoint, which never blocks the writer or the readers), at
/// most every [`CHECKPOINT_INTERVAL`], so that writes do not wait for checkpoints. The writer's
/// own checkpoint at [`WAL_AUTOCHECKPOINT_PAGES`] remains as a bound on the log: a passive
/// checkpoint that runs while the writer keeps appending never finishes the log, and SQLite
/// reuses the log from its start only after a checkpoint that did.
fn checkpoint(conn: rusqlite::Connection, nudged: std::sync::mpsc::Receiver<()>) {
    while nudged.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "SQLite checkpoint failed; the writer's own checkpoints continue");
        }
        std::thread::sleep(CHECKPOINT_INTERVAL);
    }
}

/// Whether SQLite undid just the failing statement, leaving the transaction as it was: a
/// constraint it broke (unique, primary key, foreign key, not null, check).
fn undone_alone(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

/// Runs the batch's jobs in one transaction and answers each. If the transaction itself fails,
/// nothing of the batch is stored and every job is told so.
fn commit_batch(conn: &mut rusqlite::Connection, batch: &mut Vec<Job>, names: &mut ColumnNames) {
    let mut failure = conn
        .execute_batch("BEGIN IMMEDIATE")
        .err()
        .map(|e| e.to_string());
    let mut results = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        if failure.is_some() {
            // The transaction is gone: the rest is not run.
            results.push(None);
            continue;
        }
        let result = run_one(conn, &job.write, job.returning, names);
        if let Err(e) = &result
            && !undone_alone(e)
        {
            failure = Some(e.to_string());
        }
        results.push(Some(result));
    }
    let commit = match failure {
        None => conn.execute_batch("COMMIT").map_err(|e| e.to_string()),
        Some(e) => Err(e),
    };
    if let Err(e) = &commit {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        tracing::error!(error = %e, "a batch of SQLite writes failed to commit");
    }
    for (job, result) in batch.drain(..).zip(results) {
        let answer = match (&commit, result) {
            (Ok(()), Some(result)) => result,
            (Err(e), _) => Err(StoreError::Commit(e.clone())),
            // Not run, yet committed: cannot happen (a job is skipped only after a failure).
            (Ok(()), None) => Err(StoreError::WriterGone),
        };
        let _ = job.reply.send(answer);
    }
}

/// The column names of the `RETURNING` statements the writer keeps prepared, by their SQL:
/// made once per statement, not once per write (a session's row has dozens of columns).
#[derive(Default)]
struct ColumnNames(std::collections::HashMap<String, Arc<[String]>>);

impl ColumnNames {
    fn of(&mut self, sql: &str, statement: &rusqlite::Statement<'_>, keep: bool) -> Arc<[String]> {
        if let Some(names) = self.0.get(sql) {
            return names.clone();
        }
        let names: Arc<[String]> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if keep && self.0.len() < PREPARED_STATEMENTS {
            self.0.insert(sql.to_owned(), names.clone());
        }
        names
    }
}

/// Runs one statement, its `$N` placeholders bound by name (so a placeholder used twice, or
/// out of order, gets its own value).
fn run_one(
    conn: &rusqlite::Connection,
    write: &Write,
    returning: bool,
    names: &mut ColumnNames,
) -> Result<Done, StoreError> {
    let mut cached;
    let mut fresh;
    let statement: &mut rusqlite::Statement<'_> = if write.persistent {
        cached = conn.prepare_cached(&write.sql)?;
        &mut cached
    } else {
        // Not kept: a one-off (the sweeps) would only push a hot statement out of the cache.
        fresh = conn.prepare(&write.sql)?;
        &mut fresh
    };
    for index in 1..=statement.parameter_count() {
        let value = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| write.values.get(n))
            .ok_or_else(|| {
                StoreError::Config(format!(
                    "parameter {index} of a write has no value: {}",
                    write.sql
                ))
            })?;
        statement.raw_bind_parameter(index, value)?;
    }
    if !returning {
        let changed = statement.raw_execute()?;
        return Ok(Done {
            changed: changed as u64,
            rows: Vec::new(),
        });
    }
    let names = names.of(&write.sql, statement, write.persistent);
    let width = names.len();
    let mut rows = Vec::new();
    let mut cursor = statement.raw_query();
    while let Some(row) = cursor.next()? {
        let values = (0..width)
            .map(|i| row.get::<_, Column>(i))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(WrittenRow {
            names: names.clone(),
            values,
        });
    }
    drop(cursor);
    Ok(Done {
        changed: conn.changes(),
        rows,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn writer_on(dir: &Path) -> (SqliteWriter, rusqlite::Connection) {
        let path = dir.join("w.db");
        let reader = rusqlite::Connection::open(&path).unwrap();
        reader
            .execute_batch(
                "PRAGMA journal_mode = WAL; \
                 CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER)",
            )
            .unwrap();
        (
            SqliteWriter::open(&path, Duration::from_secs(5)).unwrap(),
            reader,
        )
    }

    fn insert(k: i64, v: Option<&str>) -> Write {
        Write::new("INSERT INTO t (k, v) VALUES ($1, $2)")
            .bind(k)
            .bind(v)
    }

    fn count(reader: &rusqlite::Connection) -> i64 {
        reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Writes sent together share batches; the ones that break a constraint fail alone.
    #[tokio::test]
    async fn a_broken_constraint_fails_its_write_only() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer_on(dir.path());
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
                    assert!(matches!(e, StoreError::Sqlite(_)), "{e}");
                    if k % 10 == 9 && k % 15 != 14 {
                        assert!(e.is_unique_violation(), "{e}");
                    }
                    failed.push(k);
                }
            }
        }
        failed.sort_unstable();
        // 9, 19, 29, 39, 49 repeat a key; 14, 29, 44 have no value.
        assert_eq!(failed, vec![9, 14, 19, 29, 39, 44, 49]);
        assert_eq!(count(&reader), 43);
    }

    /// An error that is not a broken constraint fails the whole batch, and nothing of it stays.
    #[tokio::test]
    async fn another_error_fails_the_batch_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer_on(dir.path());
        let good = writer.clone();
        let bad = writer.clone();
        let (a, b) = tokio::join!(
            good.execute(insert(1, Some("x"))),
            bad.execute(Write::new("INSERT INTO missing_table VALUES (1)")),
        );
        assert!(b.is_err());
        // Either the good write committed in a batch of its own, or it failed with the bad one's.
        assert_eq!(count(&reader), i64::from(a.is_ok()));
        // The writer goes on.
        writer.execute(insert(2, Some("y"))).await.unwrap();
        assert_eq!(count(&reader), 1 + i64::from(a.is_ok()));
    }

    /// Placeholders are bound by their number, wherever and however often they appear; a
    /// placeholder without a value is an error, not a NULL.
    #[tokio::test]
    async fn placeholders_bind_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer_on(dir.path());
        let write = Write::new("INSERT INTO t (n, v, k) VALUES ($2 + $2, $1, $3)")
            .bind("one")
            .bind(20_i64)
            .bind(7_i64);
        assert_eq!(writer.execute(write).await.unwrap(), 1);
        let (v, n): (String, i64) = reader
            .query_row("SELECT v, n FROM t WHERE k = 7", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((v.as_str(), n), ("one", 40));
        let short = Write::new("INSERT INTO t (k, v) VALUES ($1, $2)").bind(8_i64);
        assert!(writer.execute(short).await.is_err());
        assert_eq!(count(&reader), 1);
    }

    /// `RETURNING` rows come back with their columns by name; NULLs, booleans and blobs too.
    #[tokio::test]
    async fn returning_rows_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, _reader) = writer_on(dir.path());
        for k in 1..=3_i64 {
            writer.execute(insert(k, Some("x"))).await.unwrap();
        }
        let rows = writer
            .fetch_all(
                Write::new("UPDATE t SET n = $1 WHERE k >= $2 RETURNING k, v, n, NULL AS gone")
                    .bind(true)
                    .bind(2_i64),
            )
            .await
            .unwrap();
        let mut keys: Vec<i64> = rows.iter().map(|r| r.try_get("k").unwrap()).collect();
        keys.sort_unstable();
        assert_eq!(keys, vec![2, 3]);
        for row in &rows {
            assert_eq!(row.try_get::<String>("v").unwrap(), "x");
            assert!(row.try_get::<bool>("n").unwrap());
            assert_eq!(row.try_get::<Option<i64>>("gone").unwrap(), None);
            assert!(row.try_get::<i64>("gone").is_err());
            assert!(row.try_get::<i64>("missing").is_err());
        }
        let blob = Write::new("UPDATE t SET v = $1 WHERE k = 1 RETURNING v").bind(vec![1_u8, 2]);
        let rows = writer.fetch_all(blob).await.unwrap();
        assert_eq!(rows[0].try_get::<Vec<u8>>("v").unwrap(), vec![1, 2]);
    }

    /// A kept statement's column names are made once and shared by its rows, in this write
    /// and the next; a one-off's are not kept.
    #[test]
    fn column_names_are_made_once_per_kept_statement() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut names = ColumnNames::default();
        let sql = "SELECT 1 AS a, 2 AS b";
        let statement = conn.prepare(sql).unwrap();
        let first = names.of(sql, &statement, true);
        assert_eq!(&*first, ["a".to_owned(), "b".to_owned()]);
        assert!(Arc::ptr_eq(&first, &names.of(sql, &statement, true)));
        let once = "SELECT 3 AS c";
        let statement = conn.prepare(once).unwrap();
        let made = names.of(once, &statement, false);
        assert_eq!(&*made, ["c".to_owned()]);
        assert!(!Arc::ptr_eq(&made, &names.of(once, &statement, false)));
        assert_eq!(names.0.len(), 1);
    }

    /// The checkpointer copies what the writer committed into the database file itself, without
    /// the writer checkpointing (its own threshold is far above these few pages) and while
    /// every connection stays open (SQLite checkpoints by itself when the last one closes).
    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = writer_on(dir.path());
        for k in 0..100 {
            writer
                .execute(insert(k, Some("checkpointed")))
                .await
                .unwrap();
        }
        assert_eq!(count(&reader), 100);
        // The database file alone (a copy without its log) holds the rows once checkpointed.
        let in_file = || {
            let copy = dir.path().join("copy.db");
            std::fs::copy(dir.path().join("w.db"), &copy).unwrap();
            let conn = rusqlite::Connection::open(&copy).unwrap();
            let n = conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap_or(0);
            drop(conn);
            let _ = std::fs::remove_file(dir.path().join("copy.db-wal"));
            n
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while in_file() != 100 {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(reader);
    }

    /// The counters a benchmark reads: every write, in batches, with the time they took.
    #[tokio::test]
    async fn stats_count_writes_and_batches() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, _reader) = writer_on(dir.path());
        assert_eq!(writer.stats().writes, 0);
        let pending: Vec<_> = (0..40_i64)
            .map(|k| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.execute(insert(k, Some("x"))).await })
            })
            .collect();
        for p in pending {
            p.await.unwrap().unwrap();
        }
        let stats = writer.stats();
        assert_eq!(stats.writes, 40);
        assert!((1..=40).contains(&stats.batches), "{stats:?}");
        assert!(stats.busy > Duration::ZERO, "{stats:?}");
        if cfg!(target_os = "linux") {
            assert!(stats.cpu.is_some_and(|t| t > Duration::ZERO), "{stats:?}");
            assert!(stats.run_queue.is_some(), "{stats:?}");
        }
    }
}
