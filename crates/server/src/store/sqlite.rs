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
    ])
}
