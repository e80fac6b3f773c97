//! PostgreSQL: several server instances may share one database; migrations take sqlx's advisory
//! lock so that concurrent starts apply them once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

use super::StoreError;

/// A pooled connection idle at least this long is pinged before it is handed out. sqlx's default
/// pings every connection on every acquire: a second round trip for each statement, which the
/// database pays as much as the statement itself (`session.get` is one SELECT). A connection in
/// steady use is not pinged; one left idle, which a firewall or a restarted database may have
/// dropped unseen, is, and replaced if the ping fails.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = pool_options(max_connections, PING_IF_IDLE_FOR)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// One connection for the batched reads of [`super::session_reads`], which plans each of its
/// statements for the ids it is given (`plan_cache_mode = force_custom_plan`). A prepared
/// `id = ANY($1)` otherwise gets a generic plan after five runs, made for the table as its
/// statistics describe it then: once autovacuum has analysed a new deployment's small table,
/// that plan is a sequential scan, and the connection keeps it until the statistics next change
/// while the table grows (in the bench, 1 ms statements became 17 ms within 20 seconds, every
/// read a scan of the whole table). Planned for its ids, it sees the table's real size and uses
/// the primary key. Planning costs PostgreSQL a little CPU per statement, shared by the reads of
/// a batch; the statement stays prepared (one round trip). Set by a statement once connected,
/// not as a startup option, which connection poolers such as PgBouncer refuse by default.
pub(super) async fn connect_for_batched_reads(url: &str) -> Result<PgPool, StoreError> {
    connect_setting(url, 1, "SET plan_cache_mode = force_custom_plan").await
}

/// Two connections for the batched changes of [`super::session_changes`] (one per collector),
/// on which PostgreSQL finds rows by an index, never by reading the whole table
/// (`enable_seqscan = off`). Their two statements change sessions by id (`id = ANY($1)`), which
/// the primary key answers at any size of the table; but the generic plan that PostgreSQL makes
/// of such a statement after five runs and keeps, made while the table is small, is a
/// sequential scan (`EXPLAIN` with 200 sessions), which the connection would keep while the
/// table grows, as the batched reads did. Planning each statement for its values, as the reads
/// do, also avoids it, at a cost: alternated in the bench, `session.update` 0.30 / 0.32 of
/// `account.get` planned each time against 0.35 / 0.36 with kept plans. These connections run
/// nothing else; the settings of the others are PostgreSQL's own.
pub(super) async fn connect_for_batched_changes(url: &str) -> Result<PgPool, StoreError> {
    connect_setting(url, 2, BATCHED_CHANGES_SETTING).await
}

/// A pool of `connections` on which `setting` is run once each connects.
async fn connect_setting(
    url: &str,
    connections: u32,
    setting: &'static str,
) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    Ok(with_setting(connections, setting)
        .connect_with(options)
        .await?)
}

/// Pool options whose connections run `setting` once connected.
pub(super) fn with_setting(connections: u32, setting: &'static str) -> PgPoolOptions {
    pool_options(connections, PING_IF_IDLE_FOR).after_connect(move |connection, _| {
        Box::pin(async move {
            connection.execute(setting).await?;
            Ok(())
        })
    })
}

/// What [`connect_for_batched_changes`] runs on each connection.
pub(super) const BATCHED_CHANGES_SETTING: &str = "SET enable_seqscan = off";

fn pool_options(max_connections: u32, ping_if_idle_for: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(move |connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= ping_if_idle_for {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

pub(super) fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        super::migration(
            1,
            "initial",
            include_str!("../../migrations/postgres/0001_initial.sql"),
        ),
        super::migration(
            2,
            "holder_flow",
            include_str!("../../migrations/postgres/0002_holder_flow.sql"),
        ),
        super::migration(
            3,
            "dashboard",
            include_str!("../../migrations/postgres/0003_dashboard.sql"),
        ),
        super::migration(
            4,
            "unfinished_by_account",
            include_str!("../../migrations/postgres/0004_unfinished_by_account.sql"),
        ),
        super::migration(
            5,
            "credential_cache",
            include_str!("../../migrations/postgres/0005_credential_cache.sql"),
        ),
        super::migration(
            6,
            "sweeps_by_index",
            include_str!("../../migrations/postgres/0006_sweeps_by_index.sql"),
        ),
        super::migration(
            7,
            "created_state_from_row",
            include_str!("../../migrations/postgres/0007_created_state_from_row.sql"),
        ),
        super::migration(
            8,
            "callback_events_by_account",
            include_str!("../../migrations/postgres/0008_callback_events_by_account.sql"),
        ),
        super::migration(
            9,
            "unfinished_by_expiry_only",
            include_str!("../../migrations/postgres/0009_unfinished_by_expiry_only.sql"),
        ),
        super::migration(
            10,
            "history_ids_in_order",
            include_str!("../../migrations/postgres/0010_history_ids_in_order.sql"),
        ),
        super::migration(
            11,
            "callback_ids_in_order",
            include_str!("../../migrations/postgres/0011_callback_ids_in_order.sql"),
        ),
        super::migration(
            12,
            "history_and_events_keyed_by_rowid",
            include_str!("../../migrations/postgres/0012_history_and_events_keyed_by_rowid.sql"),
        ),
        super::migration(
            13,
            "current_state_from_row",
            include_str!("../../migrations/postgres/0013_current_state_from_row.sql"),
        ),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Connections the database dropped while they sat idle are found out by the ping and
    /// replaced: the next statements run as if nothing happened.
    #[tokio::test]
    async fn connections_dropped_while_idle_are_replaced_unseen() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("NOTICE: TEST_DATABASE_URL is not set; the idle-ping test is skipped");
            return;
        };
        let idle = Duration::from_millis(200);
        let pool = pool_options(2, idle)
            .connect_with(PgConnectOptions::from_str(&url).unwrap())
            .await
            .unwrap();
        let pids = |pool: PgPool| async move {
            let (a, b) = tokio::join!(
                sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid() FROM pg_sleep(0.05)")
                    .fetch_one(&pool),
                sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid() FROM pg_sleep(0.05)")
                    .fetch_one(&pool),
            );
            vec![a.unwrap(), b.unwrap()]
        };
        let before = pids(pool.clone()).await;
        assert_eq!(pool.size(), 2);

        let admin = PgPool::connect(&url).await.unwrap();
        for pid in &before {
            let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&admin)
                .await
                .unwrap();
            assert!(ended, "backend {pid}");
        }
        tokio::time::sleep(idle * 2).await;

        let after = pids(pool.clone()).await;
        assert!(
            after.iter().all(|pid| !before.contains(pid)),
            "{before:?} -> {after:?}"
        );
    }
}
