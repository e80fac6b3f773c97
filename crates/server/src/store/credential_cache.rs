//! PostgreSQL's side of checking credentials from memory (see migration 0005): the revocation
//! generation, each instance's lease and acknowledgement, the notification channel, and the wait
//! that makes a revocation return only once no live instance still holds the revoked pair.
//!
//! SQLite has none of this: there every request's credentials are read from the database.

use std::time::{Duration, Instant};

use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool};

use super::{Store, StoreError};

/// How long an instance's lease lasts past its last renewal. A revocation waits at most this
/// long for an instance that stopped answering.
pub const LEASE: Duration = Duration::from_secs(10);

/// The channel revocations are announced on; the payload is `"<schema> <generation>"`, so that
/// deployments in different schemas of one database ignore each other.
const CHANNEL: &str = "passport_reader_credentials";

/// How often a revocation looks again for instances that have not acknowledged it.
const ACK_POLL: Duration = Duration::from_millis(5);

fn lease_interval() -> String {
    format!("{} milliseconds", LEASE.as_millis())
}

/// Bumps the generation and announces it, inside the revocation's transaction (PostgreSQL
/// delivers the notification when the transaction commits).
pub(super) async fn announce_revocation(tx: &mut sqlx::PgConnection) -> Result<i64, StoreError> {
    let generation: i64 = sqlx::query_scalar(
        "UPDATE credential_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation",
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, current_schema() || ' ' || $2::text)")
        .bind(CHANNEL)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
    Ok(generation)
}

/// Waits until every instance with a live lease has acknowledged `generation`. An instance that
/// neither acknowledges nor renews drops out when its lease ends, so this returns within about
/// [`LEASE`] unless an instance keeps renewing without acknowledging.
pub(super) async fn await_acknowledgements(
    pool: &PgPool,
    generation: i64,
) -> Result<(), StoreError> {
    let give_up = Instant::now() + LEASE * 3;
    loop {
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM credential_cache_instances \
             WHERE lease_until > clock_timestamp() AND acked < $1",
        )
        .bind(generation)
        .fetch_one(pool)
        .await?;
        if behind == 0 {
            return Ok(());
        }
        if Instant::now() >= give_up {
            return Err(StoreError::RevocationUnconfirmed(behind));
        }
        tokio::time::sleep(ACK_POLL).await;
    }
}

/// One server instance's membership: its name, the schema its notifications carry, and the
/// listener that receives them.
pub struct CacheMembership {
    pool: PgPool,
    instance: String,
    schema: String,
    listener: PgListener,
}

/// What the listener brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// A revocation of this deployment with this generation.
    Revoked(i64),
    /// The listening connection was lost (and has been opened again): notifications may have
    /// been missed.
    ConnectionLost,
}

impl Store {
    /// Gives this instance's lease up (on shutdown), so that no revocation waits for it.
    pub async fn leave_credential_cache(&self, instance: &str) -> Result<(), StoreError> {
        if let Store::Postgres(super::PostgresStore { pool, .. }) = self {
            sqlx::query("DELETE FROM credential_cache_instances WHERE instance = $1")
                .bind(instance)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Joins the instances that check credentials from memory: listens first, then records a lease
    /// acknowledging the generation as it is now (an instance with nothing in memory is up to
    /// date). `None` on SQLite.
    pub async fn join_credential_cache(
        &self,
        instance: &str,
    ) -> Result<Option<(CacheMembership, i64)>, StoreError> {
        let Store::Postgres(super::PostgresStore { pool, .. }) = self else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let mut membership = CacheMembership {
            pool: pool.clone(),
            instance: instance.to_owned(),
            schema: String::new(),
            listener,
        };
        let generation = membership.register().await?;
        Ok(Some((membership, generation)))
    }
}

impl CacheMembership {
    /// Records (again) this instance's lease, acknowledging the generation as it is now, and
    /// removes the rows of instances whose leases ended over an hour ago. Call it with nothing
    /// in memory and the listener listening.
    pub async fn register(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT generation, current_schema() AS schema FROM credential_generation WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        let generation: i64 = row.try_get("generation")?;
        self.schema = row.try_get("schema")?;
        sqlx::query(
            "INSERT INTO credential_cache_instances (instance, lease_until, acked) \
             VALUES ($1, clock_timestamp() + $2::interval, $3) \
             ON CONFLICT (instance) DO UPDATE SET lease_until = EXCLUDED.lease_until, acked = EXCLUDED.acked",
        )
        .bind(&self.instance)
        .bind(lease_interval())
        .bind(generation)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM credential_cache_instances WHERE lease_until < clock_timestamp() - interval '1 hour'",
        )
        .execute(&self.pool)
        .await?;
        Ok(generation)
    }

    /// The next announcement for this deployment (others' are skipped).
    pub async fn next(&mut self) -> Result<Announcement, StoreError> {
        loop {
            let Some(n) = self.listener.try_recv().await? else {
                return Ok(Announcement::ConnectionLost);
            };
            let Some((schema, generation)) = n.payload().split_once(' ') else {
                continue;
            };
            if schema != self.schema {
                continue;
            }
            if let Ok(generation) = generation.parse::<i64>() {
                return Ok(Announcement::Revoked(generation));
            }
        }
    }

    /// Acknowledges `generation`: this instance holds nothing revoked up to it.
    pub async fn acknowledge(&self, generation: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE credential_cache_instances SET acked = GREATEST(acked, $2) WHERE instance = $1",
        )
        .bind(&self.instance)
        .bind(generation)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A handle that renews this instance's lease (used by a task of its own, so that a slow
    /// notification never delays a renewal).
    pub fn lease(&self) -> Lease {
        Lease {
            pool: self.pool.clone(),
            instance: self.instance.clone(),
        }
    }
}

/// Renews one instance's lease.
#[derive(Clone)]
pub struct Lease {
    pool: PgPool,
    instance: String,
}

impl Lease {
    /// Extends the lease by [`LEASE`] from now (as the database tells time); false if the
    /// instance's row is gone (it must register again).
    pub async fn renew(&self) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE credential_cache_instances SET lease_until = clock_timestamp() + $2::interval \
             WHERE instance = $1",
        )
        .bind(&self.instance)
        .bind(lease_interval())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
