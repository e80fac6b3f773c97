//! The relays running on this server process, by session (at most one per session), with the
//! last progress each reported, for the holder's page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The relays live on this server process, by session id (one at a time per session), with
/// the last progress each reported, for the holder's page.
#[derive(Debug, Default)]
pub struct LiveRelays(Mutex<HashMap<i64, Option<String>>>);

/// Holds a session's place in [`LiveRelays`] until dropped.
pub struct LiveRelay {
    relays: Arc<LiveRelays>,
    session: i64,
}

impl LiveRelays {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Option<String>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn claim(self: &Arc<Self>, session: i64) -> Option<LiveRelay> {
        let mut live = self.live();
        if live.contains_key(&session) {
            return None;
        }
        live.insert(session, None);
        Some(LiveRelay {
            relays: Arc::clone(self),
            session,
        })
    }

    pub fn report(&self, session: i64, progress: String) {
        if let Some(slot) = self.live().get_mut(&session) {
            *slot = Some(progress);
        }
    }

    /// What a relay of `session` on this process last reported (`None`: no relay here, or
    /// nothing reported yet).
    pub fn progress(&self, session: i64) -> Option<String> {
        self.live().get(&session).cloned().flatten()
    }
}

impl Drop for LiveRelay {
    fn drop(&mut self) {
        self.relays.live().remove(&self.session);
    }
}
