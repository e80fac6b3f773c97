//! SQLite: one file, WAL journal with `synchronous = FULL`, so an acknowledged write survives a
//! `kill -9` of the server (and a power cut), not only a clean exit.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::sqlite_writer::SqliteWriter;
use super::{SqliteStore, StoreError};

/// How long a connection waits for another's lock (the writer's for the few writes made
/// outside it, a checkpoint) before it fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn connect(path: &Path, max_connections: u32) -> Result<SqliteStore, StoreError> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        // The database holds personal data: a new data folder is readable by its owner only.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|source| StoreError::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        // A file the process opened does not go away like a network connection: no ping before
        // each use (sqlx's default, a round trip to the connection's worker thread per acquire).
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    // The one connection that writes (see `sqlite_writer`), opened once the pool has created
    // the file in WAL mode.
    let writer = SqliteWriter::open(path, BUSY_TIMEOUT)?;
    Ok(SqliteStore {
        pool,
        writer,
        callback_ids: Default::default(),
    })
}

pub(super) fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        super::migration(
            1,
            "initial",
            include_str!("../../migrations/sqlite/0001_initial.sql"),
        ),
        super::migration(
            2,
            "holder_flow",
            include_str!("../../migrations/sqlite/0002_holder_flow.sql"),
        ),
        super::migration(
            3,
            "dashboard",
            include_str!("../../migrations/sqlite/0003_dashboard.sql"),
        ),
        super::migration(
            4,
            "unfinished_by_account",
            include_str!("../../migrations/sqlite/0004_unfinished_by_account.sql"),
        ),
        super::migration(
            5,
            "credential_cache",
            include_str!("../../migrations/sqlite/0005_credential_cache.sql"),
        ),
        super::migration(
            6,
            "sweeps_by_index",
            include_str!("../../migrations/sqlite/0006_sweeps_by_index.sql"),
        ),
        super::migration(
            7,
            "created_state_from_row",
            include_str!("../../migrations/sqlite/0007_created_state_from_row.sql"),
        ),
        super::migration(
            8,
            "callback_events_by_account",
            include_str!("../../migrations/sqlite/0008_callback_events_by_account.sql"),
        ),
        super::migration(
            9,
            "unfinished_by_expiry_only",
            include_str!("../../migrations/sqlite/0009_unfinished_by_expiry_only.sql"),
        ),
        super::migration(
            10,
            "history_ids_in_order",
            include_str!("../../migrations/sqlite/0010_history_ids_in_order.sql"),
        ),
        super::migration(
            11,
            "callback_ids_in_order",
            include_str!("../../migrations/sqlite/0011_callback_ids_in_order.sql"),
        ),
        super::migration(
            12,
            "history_and_events_keyed_by_rowid",
            include_str!("../../migrations/sqlite/0012_history_and_events_keyed_by_rowid.sql"),
        ),
        super::migration(
            13,
            "current_state_from_row",
            include_str!("../../migrations/sqlite/0013_current_state_from_row.sql"),
        ),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use sqlx::Row;
    use sqlx::sqlite::SqlitePool;

    /// Every row of `table`, ordered by id, as text.
    async fn rows(pool: &SqlitePool, table: &str) -> Vec<String> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT quote(id) || '|' || quote(session_id) || '|' || quote(at) || '|' || \
             quote(state) AS r FROM {table} ORDER BY id"
        )))
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("r"))
        .collect()
    }

    /// Every callback event, ordered by id, as text.
    async fn events(pool: &SqlitePool) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT quote(id) || '|' || session_state || '|' || attempts || '|' || quote(delivered) \
             FROM callback_events ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    }

    /// Whether `table`'s `id` is its rowid (declared `INTEGER PRIMARY KEY`), not an index beside it.
    async fn id_is_rowid(pool: &SqlitePool, table: &str) -> bool {
        let indexes: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_index_list('{table}') WHERE origin = 'pk'"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        let declared: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT type FROM pragma_table_info('{table}') WHERE name = 'id'"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        indexes.is_empty() && declared == "INTEGER"
    }

    /// Migration 12 rebuilds the history and the callback outbox keyed by their ids: the rows of a
    /// database made before it keep their ids and values, the indexes and triggers are all there
    /// again, and a change of state still writes both rows with the next ids.
    #[tokio::test]
    async fn history_and_events_keep_their_rows_when_keyed_by_rowid() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::connect(&dir.path().join("db.sqlite"), 2)
            .await
            .unwrap();
        let pool = &store.pool;
        let all = super::migrator();
        let before = sqlx::migrate::Migrator::with_migrations(all.migrations[..11].to_vec());
        before.run(pool).await.unwrap();
        assert!(!id_is_rowid(pool, "session_state_changes").await);
        assert!(!id_is_rowid(pool, "callback_events").await);

        for sql in [
            "INSERT INTO accounts (id, email, password_hash, created) VALUES (1, 'a@example.com', 'x', 0)",
            "INSERT INTO sessions (id, account_id, state, callback_url, face_verification, \
             passport_only, created, expires, token_hash) \
             VALUES (7, 1, 'CREATED', 'https://example.com/cb', 0, 0, 100, 99999999999, x'01'), \
                    (8, 1, 'CREATED', 'https://example.com/cb', 0, 0, 100, 99999999999, x'02')",
            // A random id from before migration 10, and a counted one.
            "INSERT INTO session_state_changes (id, session_id, state, at) \
             VALUES (4503599627370497, 7, 'INITIATED', 200)",
            "UPDATE sessions SET state = 'ABORTED', state_reason = 'USER' WHERE id = 7",
            // A random event id from before migration 11, and the one the trigger counted.
            "INSERT INTO callback_events (id, account_id, session_id, session_state, url, created, \
             attempts, delivered) VALUES (2199023255553, 1, 7, 'INITIATED', 'https://example.com/cb', 200, 1, 201)",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        let history = rows(pool, "session_state_changes").await;
        let events_before = events(pool).await;
        assert_eq!((history.len(), events_before.len()), (2, 2));

        all.run(pool).await.unwrap();
        assert!(id_is_rowid(pool, "session_state_changes").await);
        assert!(id_is_rowid(pool, "callback_events").await);
        assert_eq!(rows(pool, "session_state_changes").await, history);
        let events_after = events(pool).await;
        assert_eq!(events_after, events_before);
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('session_state_changes', 'callback_events') ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(
            indexes,
            [
                "callback_events_account",
                "callback_events_due",
                "callback_events_finished",
                "callback_events_session",
                "session_state_changes_session",
            ]
        );

        // The triggers are back: changes of state write their events with the next counted
        // ids, and a history row with the next id (for INITIATED, once the session leaves it:
        // migration 13).
        for state in ["INITIATED", "ABORTED"] {
            sqlx::query("UPDATE sessions SET state = $1 WHERE id = 8")
                .bind(state)
                .execute(pool)
                .await
                .unwrap();
        }
        let history_ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM session_state_changes WHERE session_id = 8")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(history_ids, [4_503_599_627_370_499]);
        let event_ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM callback_events WHERE session_id = 8")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(event_ids, [2, 3]);
        // A session deleted takes its history with it (the reference to sessions is kept).
        sqlx::query("DELETE FROM sessions WHERE id = 7")
            .execute(pool)
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM session_state_changes")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(left, 1); // session 8's INITIATED
    }
}
