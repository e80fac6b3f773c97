//! Callbacks: at every state change of a session that has a `callback_url`, a signed POST of
//! `{"session_id", "session_state", "session_reference"}` to that URL.
//!
//! Delivery is at least once. The database trigger of migration 0002 queues an event in the
//! transaction that changes the state; [`deliver_due`] claims due events (a lease, so that of
//! several instances on one database only one sends a given event), sends them and records the
//! outcome, retrying with [`backoff_seconds`] until [`Sender::max_attempts`] and then
//! abandoning. The [`worker`] calls it every second inside `serve`; tests call it directly and
//! move the [`Clock`] instead of sleeping.

pub mod signing;

use std::time::Duration;

use crate::config::Settings;
use crate::sessions::SessionError;
pub use crate::store::CallbackEvent;
use crate::store::{Store, StoreError};
use crate::support::clock::Clock;

/// Events claimed (and sent concurrently) per round of [`deliver_due`].
pub const BATCH: i64 = 16;
/// Longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 300;

/// Seconds to wait after the `attempts`-th failed attempt: 2, 4, 8 and 16 seconds as the API
/// reference recommends to clients retrying, then 1, 5 and 15 minutes, 1, 3 and 6 hours, then
/// every 12 hours.
pub fn backoff_seconds(attempts: i32) -> i64 {
    match attempts {
        i32::MIN..=1 => 2,
        2 => 4,
        3 => 8,
        4 => 16,
        5 => 60,
        6 => 300,
        7 => 900,
        8 => 3_600,
        9 => 3 * 3_600,
        10 => 6 * 3_600,
        _ => 12 * 3_600,
    }
}

/// What sends callbacks: an HTTP client (rustls, no redirects followed) and the retry policy.
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    /// Attempts before an event is abandoned.
    pub max_attempts: u32,
    /// Limit of one attempt, connection included.
    pub timeout: Duration,
}

impl Sender {
    pub fn new(max_attempts: u32, timeout: Duration) -> Result<Sender, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("passport-reader/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            http,
            max_attempts: max_attempts.max(1),
            timeout,
        })
    }

    pub fn from_settings(settings: &Settings) -> Result<Sender, reqwest::Error> {
        Sender::new(
            settings.callback_max_attempts,
            Duration::from_secs(settings.callback_timeout_seconds.max(1)),
        )
    }

    /// The lease taken on a claimed event: longer than an attempt can last, so that no other
    /// instance takes it over while it is being sent.
    fn lease_seconds(&self) -> i64 {
        i64::try_from(self.timeout.as_secs()).unwrap_or(i64::MAX / 4) + 30
    }
}

/// The body of a callback: flat, as PassportReader's clients parse it.
pub fn body(event: &CallbackEvent) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        session_id: i64,
        session_state: &'a str,
        session_reference: Option<&'a str>,
    }
    serde_json::to_vec(&Body {
        session_id: event.session_id,
        session_state: &event.session_state,
        session_reference: event.session_reference.as_deref(),
    })
    .unwrap_or_default()
}

/// The account's `whsec_…` secret, created on first use (concurrent first uses agree on one);
/// with `rotate`, a new one replaces it. Callbacks are signed with the secret current when
/// they are sent.
pub async fn account_secret(
    store: &Store,
    account_id: i64,
    rotate: bool,
) -> Result<String, StoreError> {
    if rotate {
        let secret = signing::generate_secret();
        store.set_webhook_secret(account_id, &secret, false).await?;
        return Ok(secret);
    }
    if let Some(secret) = store.webhook_secret(account_id).await? {
        return Ok(secret);
    }
    store
        .set_webhook_secret(account_id, &signing::generate_secret(), true)
        .await?;
    store
        .webhook_secret(account_id)
        .await?
        .ok_or_else(|| StoreError::Config(format!("account {account_id} does not exist")))
}

/// One delivery round: claims up to [`BATCH`] due events, sends them concurrently and records
/// each outcome. Returns how many events were attempted.
pub async fn deliver_due(
    store: &Store,
    sender: &Sender,
    clock: &Clock,
) -> Result<usize, StoreError> {
    let now = clock.now();
    let claimed = store
        .claim_due(now, now.saturating_add(sender.lease_seconds()), BATCH)
        .await?;
    let count = claimed.len();
    let mut tasks = tokio::task::JoinSet::new();
    for event in claimed {
        let (store, sender, clock) = (store.clone(), sender.clone(), clock.clone());
        tasks.spawn(async move { deliver_one(&store, &sender, &clock, &event).await });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "recording a callback attempt failed");
                first_error.get_or_insert(e);
            }
            Err(e) => tracing::error!(error = %e, "a callback delivery task failed"),
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(count),
    }
}

async fn deliver_one(
    store: &Store,
    sender: &Sender,
    clock: &Clock,
    event: &CallbackEvent,
) -> Result<(), StoreError> {
    let outcome = match account_secret(store, event.account_id, false).await {
        Ok(secret) => match signing::secret_key(&secret) {
            Ok(key) => send(sender, clock, event, &key).await,
            Err(e) => Err((
                None,
                format!("the account's webhook secret is unusable: {e}"),
            )),
        },
        // The account is gone: nothing can sign the callback, so the attempt fails (and the
        // event is abandoned in due course). Other errors leave the lease to run out, and the
        // event is tried again then.
        Err(StoreError::Config(e)) => Err((None, e)),
        Err(e) => return Err(e),
    };
    let now = clock.now();
    let attempts = event.attempts.saturating_add(1);
    let mut record = crate::store::AttemptRecord {
        id: event.id,
        attempts_before: event.attempts,
        status: None,
        error: None,
        delivered: None,
        abandoned: None,
        next_attempt: event.next_attempt,
    };
    match outcome {
        Ok(status) => {
            record.status = Some(status);
            record.delivered = Some(now);
            tracing::info!(
                event = event.id,
                session = event.session_id,
                status,
                "callback delivered"
            );
        }
        Err((status, error)) => {
            record.status = status;
            record.error = Some(error.chars().take(MAX_ERROR_CHARS).collect());
            if u32::try_from(attempts).unwrap_or(u32::MAX) >= sender.max_attempts {
                record.abandoned = Some(now);
                tracing::warn!(event = event.id, session = event.session_id, attempts, %error, "callback abandoned");
            } else {
                record.next_attempt = now.saturating_add(backoff_seconds(attempts));
                tracing::info!(event = event.id, session = event.session_id, attempts, %error, "callback failed; will retry");
            }
        }
    }
    if !store.record_attempt(&record).await? {
        tracing::warn!(
            event = event.id,
            "callback event changed while it was being sent"
        );
    }
    Ok(())
}

/// One signed POST. `Ok(status)` for a 2xx answer; otherwise the status (if any) and why.
async fn send(
    sender: &Sender,
    clock: &Clock,
    event: &CallbackEvent,
    key: &[u8],
) -> Result<i32, (Option<i32>, String)> {
    let body = body(event);
    let webhook_id = event.id.to_string();
    let timestamp = clock.now();
    let signature = signing::sign(key, &webhook_id, timestamp, &body);
    let response = sender
        .http
        .post(&event.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, describe(&e, sender.timeout)))?;
    let status = response.status();
    let code = i32::from(status.as_u16());
    if status.is_success() {
        Ok(code)
    } else {
        Err((Some(code), format!("HTTP {status}")))
    }
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return format!("no answer within {} seconds", timeout.as_secs());
    }
    let mut text = if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Deletes callback events delivered or abandoned that were created more than `retention_seconds`
/// before `now` (the personal-data retention: `callback.list` shows a session's deliveries as
/// long as its data is kept). Returns how many were deleted.
pub async fn prune_finished(
    store: &Store,
    retention_seconds: u64,
    now: i64,
) -> Result<u64, StoreError> {
    let retention = i64::try_from(retention_seconds).unwrap_or(i64::MAX);
    store.prune_finished(now.saturating_sub(retention)).await
}

/// The account's callback events, newest first; those of one session if `session_id` is given
/// (not found, like `session.get`, if the session is not the account's).
pub async fn list(
    store: &Store,
    account_id: i64,
    session_id: Option<i64>,
    limit: i64,
    now: i64,
) -> Result<Vec<CallbackEvent>, SessionError> {
    if let Some(id) = session_id {
        if store.get_session(account_id, id, now).await?.is_none() {
            return Err(SessionError::NotFound(id));
        }
    }
    Ok(store.list_events(account_id, session_id, limit).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api::views::event_json;
    use serde_json::Value;

    #[test]
    fn backoff_starts_as_the_reference_recommends_and_grows() {
        let schedule: Vec<i64> = (1..=5).map(backoff_seconds).collect();
        assert_eq!(schedule, [2, 4, 8, 16, 60]);
        assert!((1..30).all(|n| backoff_seconds(n) <= backoff_seconds(n + 1)));
        assert_eq!(backoff_seconds(100), 12 * 3600);
    }

    #[test]
    fn body_is_flat_and_keeps_a_missing_reference() {
        let mut e = CallbackEvent {
            id: 1,
            account_id: 2,
            session_id: 3,
            session_state: "ABORTED".into(),
            session_reference: None,
            url: "https://example.com/cb".into(),
            created: 0,
            attempts: 0,
            next_attempt: 0,
            locked_until: None,
            delivered: None,
            abandoned: None,
            last_status: None,
            last_error: None,
        };
        assert_eq!(
            String::from_utf8(body(&e)).unwrap(),
            r#"{"session_id":3,"session_state":"ABORTED","session_reference":null}"#
        );
        e.session_reference = Some("order-1".into());
        let v: Value = serde_json::from_slice(&body(&e)).unwrap();
        assert_eq!(v["session_reference"], "order-1");
        let listed = event_json(&e);
        assert_eq!(listed["next_attempt"], "1970-01-01T00:00:00Z");
        assert!(
            listed
                .as_object()
                .unwrap()
                .values()
                .all(|v| !v.is_object() && !v.is_array())
        );
    }
}
