//! PostgreSQL: several server instances may share one database; migrations take sqlx's advisory
//! lock so that concurrent starts apply them once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::StoreError;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}

pub(super) fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "initial".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0001_initial.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "holder_flow".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0002_holder_flow.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            3,
            "dashboard".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0003_dashboard.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            4,
            "unfinished_by_account".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0004_unfinished_by_account.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            5,
            "credential_cache".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0005_credential_cache.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            6,
            "sweeps_by_index".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0006_sweeps_by_index.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            7,
            "created_state_from_row".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0007_created_state_from_row.sql").into_sql_str(),
            false,
        ),
    ])
}
