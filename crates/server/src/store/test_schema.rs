//! For the store's own tests on PostgreSQL: a store in a schema of its own (so tests running at
//! once never see each other's rows), dropped at the end.
#![allow(clippy::unwrap_used)]

use sqlx::{AssertSqlSafe, PgPool};

use super::Store;
use crate::config::Settings;

pub(crate) struct PostgresSchema {
    pub store: Store,
    admin: PgPool,
    name: String,
    _dir: tempfile::TempDir,
}

impl PostgresSchema {
    /// A fresh schema named `<prefix>_<random>` with the migrated store in it; `None`, with a
    /// notice that `what` is skipped, when `TEST_DATABASE_URL` is not set.
    pub async fn open(prefix: &str, what: &str) -> Option<PostgresSchema> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("NOTICE: TEST_DATABASE_URL is not set; {what} is skipped");
            return None;
        };
        let name = format!(
            "{prefix}_{}",
            crate::support::ids::random_token(9)
                .to_lowercase()
                .replace('-', "_")
        );
        let admin = PgPool::connect(&base).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&admin)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_test(dir.path());
        settings.database_url = Some(Settings::test_database_url_in_schema(&base, &name));
        let store = Store::open(&settings).await.unwrap();
        Some(PostgresSchema {
            store,
            admin,
            name,
            _dir: dir,
        })
    }

    /// The store's pool.
    pub fn pool(&self) -> &PgPool {
        match &self.store {
            Store::Postgres(pg) => &pg.pool,
            Store::Sqlite(_) => unreachable!("opened on PostgreSQL"),
        }
    }

    /// [`PostgresSchema::open`] with an account of each of these ids (`<id>@example.com`).
    pub async fn with_accounts(prefix: &str, what: &str, ids: &[i64]) -> Option<PostgresSchema> {
        let db = PostgresSchema::open(prefix, what).await?;
        sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, created) \
             SELECT id, id || '@example.com', 'x', 0 FROM UNNEST($1::BIGINT[]) AS id",
        )
        .bind(ids)
        .execute(db.pool())
        .await
        .unwrap();
        Some(db)
    }

    /// How `sessions` has been read, counting what `reporting` (a pool of one connection) has
    /// done up to now. Other connections report on their own schedule (at the latest after ten
    /// idle seconds): the schema's migrations, for one, may report their index builds later, each
    /// a sequential scan of the then empty table. So a test that no statement read the grown
    /// table sequentially compares the rows read that way, not the scans.
    pub async fn sessions_scans(&self, reporting: &PgPool) -> SessionsScans {
        // A connection reports its counts at its next opportunity.
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(reporting)
            .await
            .unwrap();
        sqlx::query("SELECT 1").execute(reporting).await.unwrap();
        let (read_sequentially, by_index) = sqlx::query_as(
            "SELECT seq_tup_read, COALESCE(idx_scan, 0) FROM pg_stat_user_tables \
             WHERE relid = 'sessions'::regclass",
        )
        .fetch_one(self.pool())
        .await
        .unwrap();
        SessionsScans {
            read_sequentially,
            by_index,
        }
    }

    pub async fn drop_schema(self) {
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
    }
}

/// PostgreSQL's counts of the reads of `sessions` (`pg_stat_user_tables`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionsScans {
    /// Rows read by sequential scans.
    pub read_sequentially: i64,
    /// Index scans.
    pub by_index: i64,
}

/// Runs `check` on a fresh, migrated SQLite store in a temporary folder.
pub(crate) async fn on_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    check(Store::open(&Settings::for_test(dir.path())).await.unwrap()).await;
}

/// Runs `check` on a fresh, migrated PostgreSQL store in a schema of its own ([`PostgresSchema`],
/// `prefix` and `what` as there), dropped afterwards; skipped with a notice without
/// `TEST_DATABASE_URL`.
pub(crate) async fn on_postgres<F, Fut>(prefix: &str, what: &str, check: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = PostgresSchema::open(prefix, what).await else {
        return;
    };
    check(db.store.clone()).await;
    db.drop_schema().await;
}
