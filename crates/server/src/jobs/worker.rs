//! The background task of `serve`: every second it delivers due callbacks, and every
//! `session_sweep_seconds` it ends the sessions past `expires` on all accounts, so that their
//! ABORTED/EXPIRED callback goes out even if no one asks about them.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::callbacks::{BATCH, Sender, deliver_due};
use crate::store::Store;
use crate::support::clock::Clock;

/// How often due callbacks are looked for.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Worker {
    pub sender: Sender,
    pub sweep_interval: Duration,
}

/// A verification takes well under a second; one still COMPLETED after this long was interrupted.
const INTERRUPTED_VERIFICATION_SECONDS: i64 = 300;

impl Worker {
    /// Runs until the handle is aborted. Errors are logged and the next round tries again.
    pub fn spawn(self, store: Store, clock: Clock) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_sweep: Option<tokio::time::Instant> = None;
            loop {
                ticks.tick().await;
                if last_sweep.is_none_or(|t| t.elapsed() >= self.sweep_interval) {
                    last_sweep = Some(tokio::time::Instant::now());
                    match store.expire_all_sessions(clock.now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(sessions = n, "expired sessions ended"),
                        Err(e) => tracing::error!(error = %e, "expiring sessions failed"),
                    }
                    let stale = clock.now().saturating_sub(INTERRUPTED_VERIFICATION_SECONDS);
                    match store.fail_interrupted_verifications(stale).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::warn!(sessions = n, "interrupted verifications ended FAILED")
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "ending interrupted verifications failed")
                        }
                    }
                }
                loop {
                    match deliver_due(&store, &self.sender, &clock).await {
                        // A full batch: there may be more due at once.
                        Ok(n) if i64::try_from(n).unwrap_or(i64::MAX) >= BATCH => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "callback delivery round failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}
