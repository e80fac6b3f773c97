//! The retention eraser: personal data past `personal_data_retention_seconds` is erased (the
//! session kept), and finished callback events as old are deleted.

/// Erases personal data older than the retention period; returns how many sessions.
pub async fn erase_expired_personal_data(
    store: &crate::store::Store,
    retention_seconds: u64,
    now: i64,
) -> Result<u64, crate::store::StoreError> {
    let retention = i64::try_from(retention_seconds).unwrap_or(i64::MAX);
    store
        .erase_personal_data(now.saturating_sub(retention), now)
        .await
}

/// Erases personal data past its retention period, and deletes finished callback events as old,
/// now and then every minute, until aborted.
pub fn spawn_retention_eraser(
    store: crate::store::Store,
    clock: crate::support::clock::Clock,
    retention_seconds: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            ticks.tick().await;
            match erase_expired_personal_data(&store, retention_seconds, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "personal data erased after retention"),
                Err(error) => tracing::warn!(%error, "erasing personal data failed"),
            }
            match crate::callbacks::prune_finished(&store, retention_seconds, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    events = n,
                    "finished callback events deleted after retention"
                ),
                Err(error) => tracing::warn!(%error, "deleting old callback events failed"),
            }
        }
    })
}
