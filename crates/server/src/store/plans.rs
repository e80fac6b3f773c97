//! The plans of the statements that read or change one session by its id, on both backends: each
//! must find its row through the primary key, however many sessions the account has and whether
//! or not the database has statistics (see [`account_guard_sql!`]). On PostgreSQL (when
//! `TEST_DATABASE_URL` names a database; in a schema of its own, never analyzed, as a new
//! deployment's is) each statement's generic plan is made while the table is empty and explained
//! once it holds thousands of the account's sessions: what a server's connection that prepared
//! it at start-up goes on using.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{AssertSqlSafe, Row};

use super::holder_flow::{ABORT_BY_HOLDER_SQL, BEGIN_VERIFICATION_SQL, START_READING_SQL};
use super::sessions::{
    ABORT_SESSION_SQL, DELETE_SESSION_SQL, UPDATE_SESSION_SQL, select_session_sql,
};
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
fn statements() -> Vec<(&'static str, String, Vec<Param>)> {
    use Param::*;
    let id = I64(5);
    let statements: Vec<(&'static str, &'static str, Vec<Param>)> = vec![
        ("session.delete", DELETE_SESSION_SQL, vec![id, I64(ACCOUNT)]),
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
    ];
    let mut all = vec![("session.get", select_session_sql(), vec![id, I64(ACCOUNT)])];
    all.extend(
        statements
            .into_iter()
            .map(|(name, sql, params)| (name, sql.to_owned(), params)),
    );
    all
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

/// SQLite's plan, one line per row of EXPLAIN QUERY PLAN (id, parent, notused, detail).
async fn sqlite_plan(pool: &sqlx::SqlitePool, sql: &str, params: &[Param]) -> String {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(AssertSqlSafe(explain));
    for p in params {
        query = match *p {
            Param::I64(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
            Param::Bytes(v) => query.bind(v),
        };
    }
    let rows = query.fetch_all(pool).await.expect("EXPLAIN QUERY PLAN");
    rows.iter()
        .map(|row| row.get::<String, _>(3))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A parameter as a PostgreSQL literal, for `EXECUTE`.
fn literal(p: Param) -> String {
    match p {
        Param::I64(v) => v.to_string(),
        Param::Text(v) => format!("'{v}'"),
        Param::Bytes(v) => format!("'\\x{}'::bytea", hex::encode(v)),
    }
}

fn assert_by_key(backend: &str, name: &str, plan: &str, by_key: &str) {
    assert!(
        plan.contains(by_key)
            && !plan.contains("sessions_unfinished")
            && !plan.contains("sessions_account"),
        "{backend} ({name}) does not find its session by the primary key:\n{plan}"
    );
}

async fn check_sqlite(store: Store) {
    fill(&store).await.expect("fill");
    let Store::Sqlite(sqlite) = &store else {
        unreachable!()
    };
    for (name, sql, params) in statements() {
        let plan = sqlite_plan(&sqlite.pool, &sql, &params).await;
        // `id BIGINT PRIMARY KEY` is not a rowid alias: its key is SQLite's automatic index.
        assert_by_key("sqlite", name, &plan, "sqlite_autoindex_sessions_1 (id=?)");
    }
}

async fn check_postgres(store: Store) {
    let Store::Postgres(pool) = &store else {
        unreachable!()
    };
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    let statements = statements();
    for (i, (_, sql, _)) in statements.iter().enumerate() {
        // Planned now, on the empty table, and kept (EXPLAIN EXECUTE reuses the generic plan).
        let prepare = format!("PREPARE s{i} AS {sql}");
        sqlx::raw_sql(AssertSqlSafe(prepare))
            .execute(&mut *conn)
            .await
            .unwrap();
        let args: Vec<String> = statements[i].2.iter().map(|p| literal(*p)).collect();
        let explain = format!("EXPLAIN EXECUTE s{i}({})", args.join(", "));
        sqlx::raw_sql(AssertSqlSafe(explain))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    fill(&store).await.expect("fill");
    for (i, (name, _, params)) in statements.iter().enumerate() {
        let args: Vec<String> = params.iter().map(|p| literal(*p)).collect();
        let explain = format!("EXPLAIN EXECUTE s{i}({})", args.join(", "));
        let rows = sqlx::query(AssertSqlSafe(explain))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let plan = rows
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect::<Vec<_>>()
            .join("\n");
        assert_by_key("postgres", name, &plan, "sessions_pkey");
    }
}

#[tokio::test]
async fn changes_by_id_use_the_primary_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Settings::for_test(dir.path())).await.unwrap();
    check_sqlite(store).await;
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
    check_postgres(store).await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
