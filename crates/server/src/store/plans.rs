//! The plans of the statements that must never read the whole table, on both backends:
//!
//! - those that read or change one session by its id must find their row through the primary key,
//!   however many sessions the account has and whether or not the database has statistics (see
//!   [`account_guard_sql!`]);
//! - the background sweeps (expiry, interrupted verifications, retention) must search their own
//!   index: on SQLite they run on the one writer connection, so a scan held up every write, and
//!   it read every stored portrait on the way;
//! - `callback.list` must read the account's (or the session's) events from their index, not
//!   every account's events.
//!
//! On PostgreSQL (when `TEST_DATABASE_URL` names a database; in a schema of its own, never
//! analyzed, as a new deployment's is) each statement's generic plan is made while the tables are
//! empty and explained once they hold thousands of rows: what a server's connection that
//! prepared it at start-up goes on using.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{AssertSqlSafe, Row};

use super::callbacks::{LIST_EVENTS_SQL, LIST_SESSION_EVENTS_SQL, PRUNE_FINISHED_SQL};
use super::holder_flow::{
    ABORT_BY_HOLDER_SQL, BEGIN_VERIFICATION_SQL, ERASE_PERSONAL_DATA_SQL, FAIL_INTERRUPTED_SQL,
    START_READING_SQL,
};
use super::sessions::{
    ABORT_SESSION_SQL, DELETE_SESSION_SQL, EXPIRE_ACCOUNT_SESSIONS_SQL, EXPIRE_ALL_SESSIONS_SQL,
    EXPIRE_SESSION_SQL, EXPIRED_EXIST_SQL, UPDATE_SESSION_SQL, select_session_sql,
};
use super::test_schema::{on_postgres, on_sqlite};
use super::{Store, StoreError, Write};

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

/// A statement, parameters of its types (values that match no row: only the plan counts), and
/// what its plan must show on each backend.
struct Statement {
    name: &'static str,
    sql: String,
    params: Vec<Param>,
    sqlite_uses: &'static str,
    postgres_uses: &'static str,
    /// What neither backend's plan may show.
    never: &'static [&'static str],
    /// Run as a prepared statement (PostgreSQL may keep a generic plan); the sweeps are not.
    prepared: bool,
    /// PostgreSQL's plan is right only once the table has statistics (autovacuum's ANALYZE):
    /// without them it expects a third of the rows to match and prefers the scan.
    postgres_needs_statistics: bool,
}

/// By id: the primary key, not an index of the account's sessions.
const NOT_THE_ACCOUNTS: &[&str] = &["sessions_unfinished", "sessions_account"];
/// `id BIGINT PRIMARY KEY` is not a rowid alias: its key is SQLite's automatic index.
const SQLITE_KEY: &str = "sqlite_autoindex_sessions_1 (id=?)";
/// Sweeps: a search of their index, never a scan of a table (or of a whole index).
const NO_SCAN: &[&str] = &["SCAN ", "Seq Scan"];

fn statements() -> Vec<Statement> {
    use Param::*;
    let id = I64(5);
    let by_id = |name, sql: &str, params| Statement {
        name,
        sql: sql.to_owned(),
        params,
        sqlite_uses: SQLITE_KEY,
        postgres_uses: "sessions_pkey",
        never: NOT_THE_ACCOUNTS,
        prepared: true,
        postgres_needs_statistics: false,
    };
    let sweep = |name, sql: &str, params, index| Statement {
        name,
        sql: sql.to_owned(),
        params,
        sqlite_uses: index,
        postgres_uses: index,
        never: NO_SCAN,
        prepared: false,
        postgres_needs_statistics: false,
    };
    let account_expiry = |name, sql: &str| Statement {
        name,
        sql: sql.to_owned(),
        params: vec![I64(ACCOUNT), I64(NOW)],
        sqlite_uses: "sessions_unfinished_expires (expires<?)",
        postgres_uses: "sessions_unfinished_expires",
        never: &["SCAN sessions", "sessions_account", "Seq Scan"],
        prepared: true,
        postgres_needs_statistics: false,
    };
    vec![
        by_id("session.get", &select_session_sql(), vec![id, I64(ACCOUNT)]),
        by_id("session.delete", DELETE_SESSION_SQL, vec![id, I64(ACCOUNT)]),
        by_id(
            "session.update",
            UPDATE_SESSION_SQL,
            vec![Text("r"), Text("https://x"), id, I64(ACCOUNT), I64(NOW)],
        ),
        by_id(
            "session.abort",
            ABORT_SESSION_SQL,
            vec![Text("ABORTED_BY_INTEGRATOR"), id, I64(ACCOUNT), I64(NOW)],
        ),
        by_id(
            "session.get's expiry",
            EXPIRE_SESSION_SQL,
            vec![I64(ACCOUNT), I64(NOW), id],
        ),
        by_id(
            "reader.start",
            START_READING_SQL,
            vec![Bytes(b"challenge"), Text("ip"), Text("agent"), id, I64(NOW)],
        ),
        by_id(
            "reader.submit",
            BEGIN_VERIFICATION_SQL,
            vec![Text("ip"), Text("agent"), id, I64(NOW), Bytes(b"challenge")],
        ),
        by_id(
            "holder abort",
            ABORT_BY_HOLDER_SQL,
            vec![Text("ABORTED_BY_HOLDER"), id, I64(NOW)],
        ),
        sweep(
            "expiry sweep",
            EXPIRE_ALL_SESSIONS_SQL,
            vec![I64(NOW - 7200)],
            "sessions_unfinished_expires",
        ),
        sweep(
            "interrupted verifications",
            FAIL_INTERRUPTED_SQL,
            vec![I64(NOW - 300)],
            "sessions_verifying",
        ),
        sweep(
            "personal data retention",
            ERASE_PERSONAL_DATA_SQL,
            vec![I64(NOW), I64(NOW - 30 * 86400)],
            "sessions_personal_data_kept",
        ),
        // session.list's expiry: among every account's expired unfinished sessions (the sweep's
        // index), never through an index of all the account's sessions.
        account_expiry("session.list's expiry check", EXPIRED_EXIST_SQL),
        account_expiry("session.list's expiry", EXPIRE_ACCOUNT_SESSIONS_SQL),
        // The account's events come in the order asked for from their index: neither every
        // account's events read nor the account's sorted.
        Statement {
            name: "callback.list",
            sql: LIST_EVENTS_SQL.clone(),
            params: vec![I64(ACCOUNT), I64(100)],
            sqlite_uses: "callback_events_account (account_id=?)",
            postgres_uses: "callback_events_account",
            never: &["SCAN callback_events", "TEMP B-TREE", "Seq Scan", "Sort"],
            prepared: true,
            postgres_needs_statistics: false,
        },
        Statement {
            name: "callback.list of a session",
            sql: LIST_SESSION_EVENTS_SQL.clone(),
            params: vec![I64(ACCOUNT), I64(100), id],
            sqlite_uses: "callback_events_session (session_id=?)",
            postgres_uses: "callback_events_session",
            never: &[
                "SCAN callback_events",
                "callback_events_account",
                "Seq Scan",
            ],
            prepared: true,
            postgres_needs_statistics: false,
        },
        Statement {
            postgres_needs_statistics: true,
            ..sweep(
                "callback event retention",
                PRUNE_FINISHED_SQL,
                vec![I64(NOW - 30 * 86400)],
                "callback_events_finished",
            )
        },
    ]
}

async fn fill(store: &Store) -> Result<(), StoreError> {
    let account = format!(
        "INSERT INTO accounts (id, email, password_hash, created) VALUES ({ACCOUNT}, 'plans@example.com', 'x', {NOW})"
    );
    // One account with SESSIONS unfinished, unexpired sessions (ids 1000..), in one statement,
    // none of them erased, none verifying.
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
    // And as many delivered callback events, one per session.
    let events = format!(
        "INSERT INTO callback_events (id, account_id, session_id, session_state, url, created, delivered) \
         SELECT id, account_id, id, 'ABORTED', 'https://x', {NOW}, {NOW} FROM sessions"
    );
    for sql in [account, sessions, events] {
        write_query!(store, execute Write::new(sql))?;
    }
    Ok(())
}

/// SQLite's plan, one line per row of EXPLAIN QUERY PLAN (id, parent, notused, detail).
async fn sqlite_plan(pool: &sqlx::SqlitePool, sql: &str, params: &[Param]) -> String {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let query = bind_params(sqlx::query(AssertSqlSafe(explain)), params);
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

/// Why `plan` is not what `statement` needs on `backend` (which must use `uses`), if it is not.
fn wrong_plan(backend: &str, statement: &Statement, uses: &str, plan: &str) -> Option<String> {
    let shown: Vec<&&str> = statement
        .never
        .iter()
        .filter(|n| plan.contains(**n))
        .collect();
    (!plan.contains(uses) || !shown.is_empty()).then(|| {
        format!(
            "{backend} ({}) should use {uses} and show none of {:?}:\n{plan}",
            statement.name, statement.never
        )
    })
}

fn assert_all_right(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

async fn check_sqlite(store: Store) {
    fill(&store).await.expect("fill");
    let Store::Sqlite(sqlite) = &store else {
        unreachable!()
    };
    let mut wrong = Vec::new();
    for statement in statements() {
        let plan = sqlite_plan(&sqlite.pool, &statement.sql, &statement.params).await;
        wrong.extend(wrong_plan(
            "sqlite",
            &statement,
            statement.sqlite_uses,
            &plan,
        ));
    }
    assert_all_right(wrong);
}

async fn check_postgres(store: Store) {
    let Store::Postgres(super::PostgresStore { pool, .. }) = &store else {
        unreachable!()
    };
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    let statements = statements();
    let execute = |i: usize, statement: &Statement| {
        let args: Vec<String> = statement.params.iter().map(|p| literal(*p)).collect();
        format!("EXPLAIN EXECUTE s{i}({})", args.join(", "))
    };
    for (i, statement) in statements.iter().enumerate().filter(|(_, s)| s.prepared) {
        // Planned now, on the empty tables, and kept (EXPLAIN EXECUTE reuses the generic plan).
        let prepare = format!("PREPARE s{i} AS {}", statement.sql);
        sqlx::raw_sql(AssertSqlSafe(prepare))
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::raw_sql(AssertSqlSafe(execute(i, statement)))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    fill(&store).await.expect("fill");
    let mut wrong = Vec::new();
    for analyzed in [false, true] {
        if analyzed {
            sqlx::raw_sql("ANALYZE sessions; ANALYZE callback_events")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let due = statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.postgres_needs_statistics == analyzed);
        for (i, statement) in due {
            let rows = if statement.prepared {
                sqlx::query(AssertSqlSafe(execute(i, statement)))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap()
            } else {
                // As the store runs it: unprepared, planned with its values.
                let explain = format!("EXPLAIN {}", statement.sql);
                bind_params(sqlx::query(AssertSqlSafe(explain)), &statement.params)
                    .persistent(false)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap()
            };
            let plan = rows
                .iter()
                .map(|row| row.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("\n");
            wrong.extend(wrong_plan(
                "postgres",
                statement,
                statement.postgres_uses,
                &plan,
            ));
        }
    }
    assert_all_right(wrong);
}

fn bind_params<'q, DB: sqlx::Database>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    params: &[Param],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for p in params {
        query = match *p {
            Param::I64(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
            Param::Bytes(v) => query.bind(v),
        };
    }
    query
}

#[tokio::test]
async fn statements_search_their_index_on_sqlite() {
    on_sqlite(check_sqlite).await;
}

#[tokio::test]
async fn statements_search_their_index_on_postgres() {
    on_postgres("plans", "the PostgreSQL plan test", check_postgres).await;
}
