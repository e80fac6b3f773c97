//! Credentials held in memory on PostgreSQL, so that authenticating a request costs no database
//! round trip, with a revoked pair still refused at once on every instance.
//!
//! The protocol (the store's side is [`crate::store::credential_cache`]):
//! - the cache serves only while this instance's lease is valid (renewed every
//!   [`RENEW_EVERY`]) and its LISTEN connection is up; otherwise every request reads the
//!   database, as on SQLite;
//! - a revocation bumps a generation and notifies it; this instance empties its cache, then
//!   acknowledges the generation; the revocation returns only when every live lease has
//!   acknowledged, so a request that arrives after it returns finds nothing in memory;
//! - a lookup started before an invalidation never fills the cache after it: each fill carries
//!   the cache's epoch from before its read, and an invalidation moves the epoch on.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Caller;
use crate::store::credential_cache::{Announcement, CacheMembership, LEASE};
use crate::store::{Store, StoreError};

/// How often the lease is renewed.
pub const RENEW_EVERY: Duration = Duration::from_millis(2500);

/// The lease as this instance counts it: shorter than the database's by this margin (and
/// counted from before the renewal was sent), so that the cache stops serving before any
/// revocation stops waiting for this instance.
const MARGIN: Duration = Duration::from_secs(2);

/// Entries at most; past it the cache starts again empty.
const CAPACITY: usize = 100_000;

/// An unrevoked credential as a request needs it.
#[derive(Debug, Clone)]
pub struct CachedCredential {
    pub caller: Caller,
    pub secret_hash: Vec<u8>,
}

#[derive(Debug, Default)]
struct Inner {
    /// This instance listens and has registered its lease.
    member: bool,
    /// Until when the lease (as counted here) is valid.
    deadline: Option<Instant>,
    /// Moves on at every invalidation; fills from an older epoch are dropped.
    epoch: u64,
    entries: HashMap<String, CachedCredential>,
}

impl Inner {
    fn serving(&self, now: Instant) -> bool {
        self.member && self.deadline.is_some_and(|d| now < d)
    }

    fn invalidate(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        self.entries.clear();
    }
}

/// The credentials this instance holds in memory (empty and unused on SQLite).
#[derive(Debug, Default)]
pub struct CredentialCache {
    inner: RwLock<Inner>,
    hits: AtomicU64,
}

/// Permission to fill the cache with what a lookup is about to read.
#[derive(Debug, Clone, Copy)]
pub struct Fill(u64);

impl CredentialCache {
    /// The credential, if the cache is serving and holds it.
    pub fn get(&self, public_key: &str) -> Option<CachedCredential> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if !inner.serving(Instant::now()) {
            return None;
        }
        let found = inner.entries.get(public_key).cloned();
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Taken before a lookup in the database; `None` when the cache is not serving.
    pub fn fill_permit(&self) -> Option<Fill> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.serving(Instant::now()).then_some(Fill(inner.epoch))
    }

    /// Keeps what the lookup read, unless an invalidation came in between.
    pub fn fill(&self, permit: Fill, public_key: &str, credential: CachedCredential) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.epoch != permit.0 || !inner.serving(Instant::now()) {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(public_key.to_owned(), credential);
    }

    /// Whether requests are being answered from memory now.
    pub fn is_serving(&self) -> bool {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.serving(Instant::now())
    }

    /// Requests answered from memory so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn invalidate(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.invalidate();
    }

    /// Stops serving (listening connection lost, or shutting down).
    fn leave(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.member = false;
        inner.invalidate();
    }

    /// Starts serving: registered with a lease that was sent at `sent`.
    fn join(&self, sent: Instant) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.invalidate();
        inner.member = true;
        inner.deadline = Some(sent + LEASE - MARGIN);
    }

    /// The lease was renewed by a request sent at `sent`. If it had lapsed meanwhile, revocations
    /// may have stopped waiting for this instance: what it held is dropped.
    fn renewed(&self, sent: Instant) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.deadline.is_none_or(|d| Instant::now() >= d) {
            inner.invalidate();
        }
        inner.deadline = Some(sent + LEASE - MARGIN);
    }

    /// Keeps this instance a member on PostgreSQL for as long as it runs: listens, registers,
    /// renews its lease, empties the cache and acknowledges each revocation. Returns at once on
    /// SQLite. A failure makes the cache stop serving and is retried after a second.
    pub async fn maintain(self: std::sync::Arc<Self>, store: Store, instance: String) {
        loop {
            let started = Instant::now();
            match store.join_credential_cache(&instance).await {
                Ok(None) => return,
                Ok(Some((mut membership, _))) => {
                    self.join(started);
                    // Renewed beside the listener, so that a slow notification never delays a
                    // renewal; stopped when the listener fails.
                    let _renewer =
                        AbortOnDrop(tokio::spawn(self.clone().renew(membership.lease())));
                    let e = self.follow(&mut membership).await;
                    tracing::warn!(error = %e, "credentials are read from the database until the notification listener is back");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for credential revocations; credentials are read from the database");
                }
            }
            self.leave();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Handles announcements until one cannot be handled.
    async fn follow(&self, membership: &mut CacheMembership) -> StoreError {
        loop {
            match membership.next().await {
                Ok(Announcement::Revoked(generation)) => {
                    self.invalidate();
                    if let Err(e) = membership.acknowledge(generation).await {
                        return e;
                    }
                }
                Ok(Announcement::ConnectionLost) => {
                    // Notifications may have been missed: start again from an empty cache,
                    // acknowledging the generation as it is now.
                    self.leave();
                    let started = Instant::now();
                    if let Err(e) = membership.register().await {
                        return e;
                    }
                    self.join(started);
                }
                Err(e) => return e,
            }
        }
    }

    async fn renew(self: std::sync::Arc<Self>, lease: crate::store::credential_cache::Lease) {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let sent = Instant::now();
            match lease.renew().await {
                Ok(true) => self.renewed(sent),
                // The row is gone (pruned, or the database was restored): the listener's next
                // registration brings it back; until then the lease lapses here too.
                Ok(false) => tracing::warn!("this instance's credential-cache lease is gone"),
                Err(e) => tracing::warn!(error = %e, "cannot renew the credential-cache lease"),
            }
        }
    }
}

/// The lease's renewal task, stopped with the task that started it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn credential(id: i64) -> CachedCredential {
        CachedCredential {
            caller: Caller {
                account_id: 1,
                email: "a@example.com".into(),
                credential_id: id,
            },
            secret_hash: vec![0; 32],
        }
    }

    #[test]
    fn serves_only_as_a_member_with_a_valid_lease() {
        let cache = CredentialCache::default();
        assert!(cache.fill_permit().is_none());
        cache.join(Instant::now());
        let permit = cache.fill_permit().unwrap();
        cache.fill(permit, "k", credential(1));
        assert_eq!(cache.get("k").unwrap().caller.credential_id, 1);
        assert_eq!(cache.hits(), 1);
        // A lease counted from long ago has lapsed.
        cache.inner.write().unwrap().deadline = Some(Instant::now());
        assert!(cache.get("k").is_none());
        assert!(!cache.is_serving());
        // Renewed after lapsing: what it held is gone.
        cache.renewed(Instant::now());
        assert!(cache.is_serving());
        assert!(cache.get("k").is_none());
        cache.leave();
        assert!(cache.fill_permit().is_none());
    }

    #[test]
    fn a_lookup_from_before_an_invalidation_does_not_fill() {
        let cache = CredentialCache::default();
        cache.join(Instant::now());
        let permit = cache.fill_permit().unwrap();
        cache.invalidate();
        cache.fill(permit, "k", credential(1));
        assert!(cache.get("k").is_none());
        let permit = cache.fill_permit().unwrap();
        cache.fill(permit, "k", credential(2));
        assert_eq!(cache.get("k").unwrap().caller.credential_id, 2);
        cache.invalidate();
        assert!(cache.get("k").is_none());
    }
}
