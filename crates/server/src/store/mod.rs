//! The storage layer: one API over two backends, SQLite (embedded default) and PostgreSQL.
//!
//! Every query is written once, with `$N` placeholders, which both SQLite and PostgreSQL accept;
//! [`with_pool!`] expands the same code for each backend's pool. No state lives in the process:
//! every check (expiry, session state) is a statement against the database, so several server
//! instances on one PostgreSQL database stay consistent. The one exception, credentials checked
//! from memory on PostgreSQL, keeps revocation immediate by a protocol of its own
//! ([`credential_cache`]). State changes are single
//! conditional `UPDATE`s, so concurrent writers never lose an update.

use crate::config::{DatabaseLocation, Settings, redact_url};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From the SQLite writer's own connection.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("invalid value in column {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
    #[error("database commit failed: {0}")]
    Commit(String),
    #[error("the database writer could not carry out the write (its batch failed, or it stopped)")]
    WriterGone,
    /// For the other callers of a statement run for several requests at once, when it failed.
    #[error("database error in a statement shared with other requests: {0}")]
    SharedStatement(String),
    #[error(
        "the credentials are revoked, but {0} running server instance(s) have not confirmed that they dropped them from memory; they refuse them once their lease runs out"
    )]
    RevocationUnconfirmed(i64),
}

impl StoreError {
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}

/// A handle on the database; cheap to clone (it wraps connection pools).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// PostgreSQL: one pool, and the collectors that insert concurrent new sessions together and
/// read the sessions of concurrent `session.get`s together.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub pool: sqlx::PgPool,
    session_inserts: session_inserts::SessionInserts,
    session_changes: session_changes::SessionChanges,
    session_reads: session_reads::SessionReads,
    callback_ids: callbacks::CallbackIds,
}

/// SQLite: a pool of readers, and the one writer that commits writes in groups.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub pool: sqlx::SqlitePool,
    writer: sqlite_writer::SqliteWriter,
    callback_ids: callbacks::CallbackIds,
}

impl Store {
    /// The SQLite readers' pool (tests run raw SQL on it).
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match self {
            Store::Sqlite(s) => Some(&s.pool),
            Store::Postgres(_) => None,
        }
    }

    /// What SQLite's writer has done so far (benchmarks read it before and after a phase);
    /// `None` on PostgreSQL.
    pub fn sqlite_writer_stats(&self) -> Option<WriterStats> {
        match self {
            Store::Sqlite(s) => Some(s.writer.stats()),
            Store::Postgres(_) => None,
        }
    }
}

/// One migration of a backend's list (`sqlite::migrator`, `postgres::migrator`): its number, its
/// name (sqlx records both) and its SQL.
fn migration(version: i64, name: &'static str, sql: &'static str) -> sqlx::migrate::Migration {
    use sqlx::SqlSafeStr;
    sqlx::migrate::Migration::new(
        version,
        name.into(),
        sqlx::migrate::MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )
}

/// ` AND account_id + 0 = $n`: the account's guard on a statement that finds one row by its
/// id. Written as an expression that no index matches, so that the primary key is the only
/// index that can serve the statement. PostgreSQL without statistics (a table never analyzed:
/// a new deployment, or `autovacuum = off`) otherwise rates `(account_id, …)` indexes as cheap as
/// the primary key, and a generic plan made while the table was small is kept as it grows: the
/// load test found `session.get` scanning every session of the account through
/// `sessions_account_created`, and the changes below scanning its unfinished sessions through
/// `sessions_unfinished_account` (1,000 req/s fell to 500 after a few minutes). `store::plans`
/// tests the plans on both backends.
macro_rules! account_guard_sql {
    ($account:literal) => {
        concat!(" AND account_id + 0 = $", $account)
    };
}
pub(crate) use account_guard_sql;

/// The guard of a statement that changes one session by its id: the session is still unfinished
/// and not yet expired at `$now` (and, with two parameters, the account's). `expires` is a
/// `+ 0` expression for the reason given at [`account_guard_sql!`] (the partial index of
/// unfinished sessions, `sessions_unfinished_expires`, is keyed on it).
macro_rules! unfinished_by_id_sql {
    ($now:literal) => {
        concat!(
            " AND state IN ",
            crate::model::unfinished_states_sql!(),
            " AND expires + 0 > $",
            $now
        )
    };
    ($account:literal, $now:literal) => {
        concat!(
            crate::store::account_guard_sql!($account),
            crate::store::unfinished_by_id_sql!($now)
        )
    };
}
pub(crate) use unfinished_by_id_sql;

/// Runs the same code against whichever pool the store holds: for reads (on SQLite, the
/// readers' pool; the writes go through [`write_query!`]).
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            Store::Postgres(pg) => {
                let $pool = &pg.pool;
                $body
            }
        }
    };
}

/// Runs a [`Write`]: on PostgreSQL on the pool, on SQLite in the writer's next group commit.
/// `execute` gives the rows changed; `fetch_all` the rows a `RETURNING` statement gave, mapped
/// by `$map` (written once, expanded for each backend's row type: both have `try_get`).
macro_rules! write_query {
    ($store:expr, execute $write:expr) => {
        match $store {
            Store::Sqlite(sqlite) => sqlite.writer.execute($write).await,
            Store::Postgres(pg) => $write
                .into_postgres()
                .execute(&pg.pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(StoreError::from),
        }
    };
    ($store:expr, fetch_all $write:expr, |$row:ident| $map:expr) => {
        match $store {
            Store::Sqlite(sqlite) => {
                let rows = sqlite.writer.fetch_all($write).await?;
                let mut out = Vec::with_capacity(rows.len());
                for $row in &rows {
                    out.push($map);
                }
                Ok(out)
            }
            Store::Postgres(pg) => {
                let rows = $write.into_postgres().fetch_all(&pg.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for $row in &rows {
                    out.push($map);
                }
                Ok(out)
            }
        }
    };
}

/// Reads a text column holding one of the API's spellings ([`crate::model::Spelled`]); an
/// unknown spelling is [`StoreError::Corrupt`], not a silent `None`.
macro_rules! spelled_column {
    ($row:expr, $column:literal, $ty:ty) => {{
        let text: Option<String> = $row.try_get($column)?;
        match text {
            None => None,
            Some(s) => Some(<$ty>::parse(&s).ok_or(StoreError::Corrupt {
                column: $column,
                value: s.clone(),
            })?),
        }
    }};
}

/// Reads the face score, stored as the API spells it (a decimal string).
macro_rules! score_column {
    ($row:expr, $column:literal) => {{
        let text: Option<String> = $row.try_get($column)?;
        match text {
            None => None,
            Some(s) => Some(s.parse::<f64>().map_err(|_| StoreError::Corrupt {
                column: $column,
                value: s.clone(),
            })?),
        }
    }};
}

/// Binds a list of [`Bind`]s onto a query, for SQL assembled at run time.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                Bind::I64(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

enum Bind {
    I64(i64),
    Text(String),
}

#[macro_use]
mod sessions;
mod accounts;
mod callbacks;
pub mod credential_cache;
#[macro_use]
mod credentials;
pub mod dashboard;
mod holder_flow;
#[cfg(test)]
mod plans;
mod postgres;
mod session_changes;
mod session_inserts;
mod session_reads;
mod sqlite;
mod sqlite_writer;
#[cfg(test)]
mod test_schema;
mod trust;
mod write;

pub use accounts::AccountRow;
pub use callbacks::{AttemptRecord, CallbackEvent};
pub use credentials::CredentialRow;
pub use holder_flow::VerificationRecord;
pub use sessions::{HolderFlow, NewSession, SessionChange, SessionFilter, SessionRow};
pub use sqlite_writer::WriterStats;
pub use trust::TrustEntry;
pub use write::{Value, Write};

/// Result of a conditional change to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Applied,
    NotFound,
    /// The session exists but is finished (or expired), so it may no longer change.
    Finished,
}

impl Store {
    /// Opens the database `settings` point at, creating the SQLite file and folder if needed,
    /// and brings the schema up to date.
    pub async fn open(settings: &Settings) -> Result<Store, StoreError> {
        let location = settings.database_location().map_err(StoreError::Config)?;
        let store = match &location {
            DatabaseLocation::Sqlite(path) => {
                Store::Sqlite(sqlite::connect(path, settings.max_db_connections).await?)
            }
            DatabaseLocation::Postgres(url) => {
                let pool = postgres::connect(url, settings.max_db_connections).await?;
                Store::Postgres(PostgresStore {
                    session_inserts: session_inserts::SessionInserts::start(pool.clone()),
                    session_changes: session_changes::SessionChanges::start(
                        postgres::connect_for_batched_changes(url).await?,
                    ),
                    session_reads: session_reads::SessionReads::start(
                        postgres::connect_for_batched_reads(url).await?,
                    ),
                    pool,
                    callback_ids: Default::default(),
                })
            }
        };
        store.migrate().await?;
        store.load_callback_id_key().await?;
        tracing::info!(
            backend = store.backend_name(),
            location = %match &location {
                DatabaseLocation::Sqlite(p) => p.display().to_string(),
                DatabaseLocation::Postgres(u) => redact_url(u),
            },
            "database ready"
        );
        Ok(store)
    }

    /// PostgreSQL with `autovacuum = off` never gathers statistics or removes dead rows by
    /// itself: the statements that matter are written not to depend on statistics
    /// ([`account_guard_sql!`]), but the tables still grow with every change until someone runs
    /// `VACUUM ANALYZE`. Said once when the server starts, so that the operator knows.
    pub async fn warn_without_autovacuum(&self) {
        let Store::Postgres(PostgresStore { pool, .. }) = self else {
            return;
        };
        let setting: Result<String, _> = sqlx::query_scalar("SELECT current_setting('autovacuum')")
            .fetch_one(pool)
            .await;
        if matches!(setting.as_deref(), Ok("off")) {
            tracing::warn!(
                "autovacuum is off on this PostgreSQL server: dead rows of changed sessions stay \
                 until VACUUM runs and the planner has no statistics; turn it on, or run \
                 VACUUM ANALYZE regularly"
            );
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(sqlite) => sqlite::migrator().run(&sqlite.pool).await?,
            Store::Postgres(pg) => postgres::migrator().run(&pg.pool).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Store::Postgres(pg) = self {
            pg.session_reads.close().await;
            pg.session_changes.close().await;
        }
        with_pool!(self, |pool| pool.close().await)
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    /// table -> [(column, normalised type + constraints)]
    fn schema(sql: &str) -> BTreeMap<String, Vec<(String, String)>> {
        let mut tables = BTreeMap::new();
        let mut current: Option<(String, Vec<(String, String)>)> = None;
        for line in sql.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                let (table, column) = rest
                    .split_once(" ADD COLUMN ")
                    .expect("ALTER TABLE t ADD COLUMN c type;");
                let (col, ty) = column
                    .trim_end_matches(';')
                    .split_once(' ')
                    .expect("column and type");
                tables
                    .entry(table.to_owned())
                    .or_insert_with(Vec::new)
                    .push((col.to_owned(), ty.replace("BYTEA", "BLOB")));
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let name = rest.trim_end_matches('(').trim().to_owned();
                current = Some((name, Vec::new()));
            } else if line.starts_with(");") {
                if let Some((name, cols)) = current.take() {
                    tables.insert(name, cols);
                }
            } else if let Some((_, cols)) = current.as_mut() {
                let line = line.trim_end_matches(',');
                if let Some((col, rest)) = line.split_once(' ') {
                    cols.push((col.to_owned(), rest.replace("BYTEA", "BLOB")));
                }
            }
        }
        tables
    }

    #[test]
    fn sqlite_and_postgres_migrations_define_the_same_schema() {
        let sqlite = [
            include_str!("../../migrations/sqlite/0001_initial.sql"),
            include_str!("../../migrations/sqlite/0002_holder_flow.sql"),
            include_str!("../../migrations/sqlite/0003_dashboard.sql"),
            include_str!("../../migrations/sqlite/0004_unfinished_by_account.sql"),
        ]
        .concat();
        let postgres = [
            include_str!("../../migrations/postgres/0001_initial.sql"),
            include_str!("../../migrations/postgres/0002_holder_flow.sql"),
            include_str!("../../migrations/postgres/0003_dashboard.sql"),
            include_str!("../../migrations/postgres/0004_unfinished_by_account.sql"),
        ]
        .concat();
        let (sqlite, postgres) = (sqlite.as_str(), postgres.as_str());
        let (a, b) = (schema(sqlite), schema(postgres));
        assert_eq!(a, b);
        assert!(
            a.contains_key("sessions")
                && a.contains_key("trust_entries")
                && a.contains_key("callback_events")
        );
        assert!(
            a.get("sessions")
                .unwrap()
                .iter()
                .any(|(c, _)| c == "aa_challenge")
        );
        assert!(
            a.get("sessions")
                .unwrap()
                .iter()
                .any(|(c, _)| c == "portrait")
        );
        // The same migration files, in the same order, on both sides.
        assert_eq!(
            super::sqlite::migrator().migrations.len(),
            super::postgres::migrator().migrations.len()
        );
    }
}
