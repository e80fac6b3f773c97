//! The plans of the statements that change one session by its id, on both backends: each must
//! find its row through the primary key, however many unfinished sessions the account has and
//! whether or not the database has statistics (see [`unfinished_by_id_sql!`]). PostgreSQL runs
//! when `TEST_DATABASE_URL` names a database (in a schema of its own, never analyzed, as a new
//! deployment's is).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{AssertSqlSafe, Row};

use super::holder_flow::{ABORT_BY_HOLDER_SQL, BEGIN_VERIFICATION_SQL, START_READING_SQL};
use super::sessions::{ABORT_SESSION_SQL, UPDATE_SESSION_SQL};
use super::{Store, StoreError};
use crate::config::Settings;

const ACCOUNT: i64 = 7_000_000_001;
/// Unfinished sessions of that one account: enough that scanning them is not cheaper than the
/// primary key, as in a load test that leaves most of its sessions CREATED.
const SESSIONS: i64 = 3000;
const NOW: i64 = 1_800_000_000;

#[derive(Clone, Copy)]
enum Param {
    I64(i64),
    Text(&'static str),
    Bytes(&'static [u8]),
}

/// Each statement with parameters of its types (values that match no row: only the plan counts).
fn statements() -> Vec<(&'static str, &'static str, Vec<Param>)> {
    use Param::*;
    let id = I64(5);
    vec![
        (
            "session.update",
            UPDATE_SESSION_SQL,
            vec![Text("r"), Text("https://x"), id, I64(ACCOUNT), I64(NOW)],
        ),
        (
            "session.abort",
            ABORT_SESSION_SQL,
            vec![Text("ABORTED_BY_INTEGRATOR"), id, I64(ACCOUNT), I64(NOW)],
        ),
        (
            "reader.start",
            START_READING_SQL,
            vec![Bytes(b"challenge"), Text("ip"), Text("agent"), id, I64(NOW)],
        ),
        (
            "reader.submit",
            BEGIN_VERIFICATION_SQL,
            vec![Text("ip"), Text("agent"), id, I64(NOW), Bytes(b"challenge")],
        ),
        (
            "holder abort",
            ABORT_BY_HOLDER_SQL,
            vec![Text("ABORTED_BY_HOLDER"), id, I64(NOW)],
        ),
    ]
}

async fn fill(store: &Store) -> Result<(), StoreError> {
    let account = format!(
        "INSERT INTO accounts (id, email, password_hash, created) VALUES ({ACCOUNT}, 'plans@example.com', 'x', {NOW})"
    );
    // One account with SESSIONS unfinished, unexpired sessions (ids 1000..), in one statement.
    let sessions = match store {
        Store::Sqlite(_) => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
             INSERT INTO sessions (id, account_id, state, face_verification, passport_only, created, expires, token_hash) \
             SELECT i, {ACCOUNT}, 'CREATED', 0, 0, {NOW}, {expires}, randomblob(32) FROM n",
            last = 1000 + SESSIONS - 1,
            expires = NOW + 3600,
        ),
        Store::Postgres(_) => format!(
            "INSERT INTO sessions (id, account_id, state, face_verification, passport_only, created, expires, token_hash) \
             SELECT i, {ACCOUNT}, 'CREATED', false, false, {NOW}, {expires}, int8send(i) \
             FROM generate_series(1000, {last}) AS i",
            last = 1000 + SESSIONS - 1,
            expires = NOW + 3600,
        ),
    };
    for sql in [account, sessions] {
        write_query!(store, execute sqlx::query(AssertSqlSafe(sql)))?;
    }
    Ok(())
}

/// The plan's text, one line per row of EXPLAIN (QUERY PLAN).
async fn plan(store: &Store, sql: &str, params: &[Param]) -> String {
    let explain = match store {
        Store::Sqlite(_) => format!("EXPLAIN QUERY PLAN {sql}"),
        Store::Postgres(_) => format!("EXPLAIN {sql}"),
    };
    let rows = with_pool!(store, |pool| {
        let mut query = sqlx::query(AssertSqlSafe(explain.clone()));
        for p in params {
            query = match *p {
                Param::I64(v) => query.bind(v),
                Param::Text(v) => query.bind(v),
                Param::Bytes(v) => query.bind(v),
            };
        }
        query
            .fetch_all(pool)
            .await
            .expect("EXPLAIN")
            .iter()
            .map(|row| match store {
                // SQLite: id, parent, notused, detail.
                Store::Sqlite(_) => row.get::<String, _>(3),
                Store::Postgres(_) => row.get::<String, _>(0),
            })
            .collect::<Vec<_>>()
    });
    rows.join("\n")
}

async fn check(store: Store) {
    fill(&store).await.expect("fill");
    let by_key = match store {
        // `id BIGINT PRIMARY KEY` is not a rowid alias: its key is SQLite's automatic index.
        Store::Sqlite(_) => "sqlite_autoindex_sessions_1 (id=?)",
        Store::Postgres(_) => "sessions_pkey",
    };
    for (name, sql, params) in statements() {
        let plan = plan(&store, sql, &params).await;
        assert!(
            plan.contains(by_key) && !plan.contains("sessions_unfinished"),
            "{} ({name}) does not find its session by the primary key:\n{plan}",
            store.backend_name()
        );
    }
}

#[tokio::test]
async fn changes_by_id_use_the_primary_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Settings::for_test(dir.path())).await.unwrap();
    check(store).await;
}

#[tokio::test]
async fn changes_by_id_use_the_primary_key_on_postgres() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("NOTICE: TEST_DATABASE_URL is not set; the PostgreSQL plan test is skipped");
        return;
    };
    let schema = format!(
        "plans_{}",
        crate::support::ids::random_token(9)
            .to_lowercase()
            .replace('-', "_")
    );
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&admin)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_test(dir.path());
    let sep = if base.contains('?') { '&' } else { '?' };
    settings.database_url = Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"));
    let store = Store::open(&settings).await.unwrap();
    check(store).await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
