//! Callbacks: signed POSTs on session state changes, retried, surviving a restart, sent once by
//! several instances, fired by expiry; and `callback.list`. A small axum server on port 0 plays
//! the integrator's receiver and checks each signature with its own HMAC (OpenSSL).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use server::callbacks::{self, Sender};
use server::{Settings, Store, accounts};

use crate::both_backends;
use crate::helpers::{TestApp, assert_error, start};

both_backends!(
    state_changes_are_posted_signed_with_the_flat_body,
    failures_are_retried_with_backoff_then_delivered_or_abandoned,
    pending_callbacks_survive_a_restart,
    two_instances_send_each_callback_once,
    expiry_fires_the_callback_without_any_call,
    the_holders_flow_fires_one_callback_per_state,
    finished_callbacks_are_deleted_after_the_retention_period,
);

/// What the receiver answers to one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 200 after this long (longer than the sender's timeout: a timeout).
    After(Duration),
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: Bytes,
}

#[derive(Default)]
struct ReceiverState {
    received: Mutex<Vec<Received>>,
    /// Replies for the next requests; 200 once empty.
    script: Mutex<VecDeque<Reply>>,
    /// Delay before every answer.
    delay: Mutex<Duration>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .route("/cb", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, state }
    }

    fn script(&self, replies: &[Reply]) {
        self.state.script.lock().unwrap().extend(replies);
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "expected {n} callbacks, got {}: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body,
    });
    let reply = state.script.lock().unwrap().pop_front();
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    match reply {
        Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap(),
        Some(Reply::After(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK
        }
        None => StatusCode::OK,
    }
}

/// The receiver's check, as an integrator would write it: HMAC-SHA256 over
/// `{webhook-id}.{webhook-timestamp}.{body}` with the base64-decoded part of `whsec_…`.
fn signature_is_valid(secret: &str, r: &Received) -> bool {
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let pkey = PKey::hmac(&key).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &pkey).unwrap();
    signer
        .update(format!("{}.{}.", r.id, r.timestamp).as_bytes())
        .unwrap();
    signer.update(&r.body).unwrap();
    let expected = format!("v1,{}", STANDARD.encode(signer.sign_to_vec().unwrap()));
    // The header is a space-separated list of signatures; one must match.
    r.signature.split(' ').any(|s| s == expected)
}

fn sender(settings: &Settings) -> Sender {
    Sender::from_settings(settings).unwrap()
}

async fn secret(app: &TestApp) -> String {
    accounts::webhook_secret(&app.store, &app.email, false)
        .await
        .unwrap()
}

async fn events(app: &TestApp, session_id: i64) -> Vec<Value> {
    let (status, v) = app
        .call("callback.list", json!({ "session_id": session_id }))
        .await;
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Sets a session's state directly, as the reader API will (it is written in parallel).
async fn set_state(store: &Store, id: i64, state: &str) {
    let sql = "UPDATE sessions SET state = $1 WHERE id = $2";
    let rows = match store {
        Store::Sqlite(sqlite) => sqlx::query(sql)
            .bind(state)
            .bind(id)
            .execute(&sqlite.pool)
            .await
            .map(|d| d.rows_affected()),
        Store::Postgres(server::store::PostgresStore { pool, .. }) => sqlx::query(sql)
            .bind(state)
            .bind(id)
            .execute(pool)
            .await
            .map(|d| d.rows_affected()),
    };
    assert_eq!(rows.unwrap(), 1);
}

async fn state_changes_are_posted_signed_with_the_flat_body(settings: Settings) {
    let app = start(settings.clone()).await;
    let receiver = Receiver::start().await;
    let sender = sender(&settings);
    let id = app
        .create_session(json!({"reference": "order-1", "callback_url": receiver.url}))
        .await;
    // Creation is not a state change: nothing is queued.
    assert_eq!(
        callbacks::deliver_due(&app.store, &sender, &app.clock)
            .await
            .unwrap(),
        0
    );
    assert!(events(&app, id).await.is_empty());

    set_state(&app.store, id, "INITIATED").await;
    assert_eq!(
        callbacks::deliver_due(&app.store, &sender, &app.clock)
            .await
            .unwrap(),
        1
    );
    let (status, aborted) = app.call("session.abort", json!({"id": id})).await;
    assert_eq!(status, 200, "{aborted}");
    assert_eq!(
        callbacks::deliver_due(&app.store, &sender, &app.clock)
            .await
            .unwrap(),
        1
    );

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let secret = secret(&app).await;
    assert!(STANDARD.decode(&secret[6..]).unwrap().len() >= 24);
    for (r, state) in got.iter().zip(["INITIATED", "ABORTED"]) {
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap(),
            json!({"session_id": id, "session_state": state, "session_reference": "order-1"})
        );
        assert_eq!(r.content_type, "application/json");
        assert!(signature_is_valid(&secret, r), "{r:?}");
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!((ts - app.clock.now()).abs() <= 5, "{ts}");
        // A body or timestamp changed in transit no longer verifies.
        let mut forged = r.clone();
        forged.body = Bytes::from(r.body.iter().rev().copied().collect::<Vec<u8>>());
        assert!(!signature_is_valid(&secret, &forged));
        let mut replayed = r.clone();
        replayed.timestamp = (ts + 1).to_string();
        assert!(!signature_is_valid(&secret, &replayed));
    }
    assert_ne!(got[0].id, got[1].id);

    // callback.list: flat objects, the webhook-id as id. (Newest first by `created`, which has
    // whole seconds: these two may share one.)
    let listed = events(&app, id).await;
    assert_eq!(listed.len(), 2);
    let latest = listed
        .iter()
        .find(|e| e["session_state"] == "ABORTED")
        .unwrap()
        .as_object()
        .unwrap();
    let mut keys: Vec<&str> = latest.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "abandoned",
            "attempts",
            "created",
            "delivered",
            "id",
            "last_error",
            "last_status",
            "next_attempt",
            "session_id",
            "session_state",
            "url"
        ]
    );
    assert_eq!(latest["id"].as_i64().unwrap().to_string(), got[1].id);
    assert_eq!(latest["session_id"], id);
    assert_eq!(latest["session_state"], "ABORTED");
    assert_eq!(latest["url"], receiver.url);
    assert_eq!(latest["attempts"], 1);
    assert_eq!(latest["last_status"], 200);
    assert!(latest["last_error"].is_null() && latest["abandoned"].is_null());
    assert!(latest["next_attempt"].is_null());
    for key in ["created", "delivered"] {
        let t = latest[key].as_str().unwrap();
        assert!(
            server::api::spec::parse_timestamp(t).is_some(),
            "{key}: {t}"
        );
    }
    assert!(latest.values().all(|v| !v.is_object() && !v.is_array()));
    let (status, all) = app.call("callback.list", json!({})).await;
    assert_eq!((status, all.as_array().unwrap().len()), (200, 2));
    let (status, one) = app.call("callback.list", json!({"limit": 1})).await;
    assert_eq!((status, one.as_array().unwrap().len()), (200, 1));
    let (status, v) = app.call("callback.list", json!({"limit": 0})).await;
    assert_error(status, &v, 400, "InvalidProperty");

    // Another account sees neither the session nor its callbacks.
    let other = app.other_account().await;
    let (status, v) = app
        .call_as(&other, "callback.list", json!({"session_id": id}))
        .await;
    assert_error(status, &v, 404, "SessionNotFound");
    let (status, v) = app.call_as(&other, "callback.list", json!({})).await;
    assert_eq!((status, v), (200, json!([])));

    // The secret is stable until rotated; later callbacks are signed with the new one.
    assert_eq!(
        accounts::webhook_secret(&app.store, &app.email, false)
            .await
            .unwrap(),
        secret
    );
    let rotated = accounts::webhook_secret(&app.store, &app.email, true)
        .await
        .unwrap();
    assert_ne!(rotated, secret);
    let second = app
        .create_session(json!({"callback_url": receiver.url}))
        .await;
    app.call("session.abort", json!({"id": second})).await;
    callbacks::deliver_due(&app.store, &sender, &app.clock)
        .await
        .unwrap();
    let got = receiver.wait_for(3).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&got[2].body).unwrap(),
        json!({"session_id": second, "session_state": "ABORTED", "session_reference": null})
    );
    assert!(signature_is_valid(&rotated, &got[2]));
    assert!(!signature_is_valid(&secret, &got[2]));

    // The method is in the OpenAPI document.
    let doc: Value = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/callback.list"]["post"].is_object());
}

async fn failures_are_retried_with_backoff_then_delivered_or_abandoned(mut settings: Settings) {
    // Generous next to a loaded CI machine's loopback round trip, short enough for a test.
    settings.callback_timeout_seconds = 2;
    let app = start(settings.clone()).await;
    let receiver = Receiver::start().await;
    let sender = sender(&settings);
    let deliver = || callbacks::deliver_due(&app.store, &sender, &app.clock);
    receiver.script(&[Reply::Status(500), Reply::After(Duration::from_secs(6))]);
    let id = app
        .create_session(json!({"callback_url": receiver.url}))
        .await;
    app.call("session.abort", json!({"id": id})).await;

    assert_eq!(deliver().await.unwrap(), 1);
    let e = &events(&app, id).await[0];
    assert_eq!(
        (e["attempts"].clone(), e["last_status"].clone()),
        (json!(1), json!(500))
    );
    assert_eq!(e["last_error"], "HTTP 500 Internal Server Error");
    let due = server::api::spec::parse_timestamp(e["next_attempt"].as_str().unwrap()).unwrap();
    assert!(
        (due - app.clock.now() - 2).abs() <= 1,
        "retry after 2 s: {e}"
    );
    assert_eq!(deliver().await.unwrap(), 0, "not due before its time");

    app.clock.advance(2);
    assert_eq!(deliver().await.unwrap(), 1);
    let e = &events(&app, id).await[0];
    assert_eq!(e["attempts"], 2);
    assert!(e["last_status"].is_null());
    assert_eq!(e["last_error"], "no answer within 2 seconds");
    let due = server::api::spec::parse_timestamp(e["next_attempt"].as_str().unwrap()).unwrap();
    assert!(
        (due - app.clock.now() - 4).abs() <= 1,
        "retry after 4 s: {e}"
    );
    // Times are whole seconds: stop two seconds short of the due time (not one), so that a
    // second boundary passing in real time cannot make the event due early.
    let short = due - app.clock.now() - 2;
    if short > 0 {
        app.clock.advance(short);
    }
    assert_eq!(deliver().await.unwrap(), 0);
    app.clock.advance((due - app.clock.now()).max(0));
    assert_eq!(deliver().await.unwrap(), 1);

    let e = &events(&app, id).await[0];
    assert_eq!(
        (e["attempts"].clone(), e["last_status"].clone()),
        (json!(3), json!(200))
    );
    assert!(e["delivered"].is_string() && e["next_attempt"].is_null());
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    let secret = secret(&app).await;
    for r in &got {
        assert_eq!(r.id, got[0].id, "every attempt carries the same webhook-id");
        assert_eq!(r.body, got[0].body);
        assert!(signature_is_valid(&secret, r));
    }
    let stamps: Vec<i64> = got.iter().map(|r| r.timestamp.parse().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    app.clock.advance(3600);
    assert_eq!(deliver().await.unwrap(), 0, "delivered means done");
    assert_eq!(receiver.received().len(), 3);

    // A refused connection, until the attempts run out: abandoned.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/cb", closed.local_addr().unwrap());
    drop(closed);
    let id = app.create_session(json!({"callback_url": dead_url})).await;
    app.call("session.abort", json!({"id": id})).await;
    let two_tries = Sender::new(2, Duration::from_secs(1)).unwrap();
    let deliver = || callbacks::deliver_due(&app.store, &two_tries, &app.clock);
    assert_eq!(deliver().await.unwrap(), 1);
    let e = &events(&app, id).await[0];
    assert_eq!(e["attempts"], 1);
    assert!(e["last_status"].is_null());
    assert!(
        e["last_error"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect"),
        "{e}"
    );
    app.clock.advance(2);
    assert_eq!(deliver().await.unwrap(), 1);
    let e = &events(&app, id).await[0];
    assert_eq!(e["attempts"], 2);
    assert!(e["abandoned"].is_string() && e["delivered"].is_null());
    assert!(e["next_attempt"].is_null());
    app.clock.advance(86_400);
    assert_eq!(deliver().await.unwrap(), 0, "abandoned means done");
}

async fn finished_callbacks_are_deleted_after_the_retention_period(settings: Settings) {
    let retention = settings.personal_data_retention_seconds;
    let app = start(settings.clone()).await;
    let receiver = Receiver::start().await;
    let sender = sender(&settings);
    // One delivered event, and one still pending (the receiver fails it once).
    receiver.script(&[Reply::Status(200), Reply::Status(500)]);
    // A session aborted, its callback attempted once.
    let aborted_and_attempted = || async {
        let id = app
            .create_session(json!({"callback_url": receiver.url}))
            .await;
        app.call("session.abort", json!({"id": id})).await;
        assert_eq!(
            callbacks::deliver_due(&app.store, &sender, &app.clock)
                .await
                .unwrap(),
            1
        );
        id
    };
    let delivered = aborted_and_attempted().await;
    let pending = aborted_and_attempted().await;
    assert!(events(&app, delivered).await[0]["delivered"].is_string());
    assert!(events(&app, pending).await[0]["delivered"].is_null());

    let prune = |now| callbacks::prune_finished(&app.store, retention, now);
    assert_eq!(prune(app.clock.now()).await.unwrap(), 0, "kept while young");
    let later = app.clock.now() + i64::try_from(retention).unwrap() + 1;
    assert_eq!(prune(later).await.unwrap(), 1);
    assert!(events(&app, delivered).await.is_empty());
    assert_eq!(events(&app, pending).await.len(), 1, "pending events stay");
    assert_eq!(prune(later).await.unwrap(), 0);
}

async fn pending_callbacks_survive_a_restart(settings: Settings) {
    let receiver = Receiver::start().await;
    let first = start(settings.clone()).await;
    let id = first
        .create_session(json!({"reference": "r", "callback_url": receiver.url}))
        .await;
    first.call("session.abort", json!({"id": id})).await;
    // Stopped before any delivery (this instance runs no background task).
    first.handle.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty());

    let mut settings = settings;
    settings.background_tasks = true;
    let second = start(settings).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&got[0].body).unwrap(),
        json!({"session_id": id, "session_state": "ABORTED", "session_reference": "r"})
    );
    let secret = accounts::webhook_secret(&second.store, &first.email, false)
        .await
        .unwrap();
    assert!(signature_is_valid(&secret, &got[0]));
    // The receiver has answered; the outcome is recorded right after.
    let as_first = first_on(&second, &first);
    let started = Instant::now();
    let e = loop {
        let e = events(&as_first, id).await.remove(0);
        if e["delivered"].is_string() || started.elapsed() > Duration::from_secs(10) {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(e["id"].as_i64().unwrap().to_string(), got[0].id);
    assert!(e["delivered"].is_string(), "{e}");
    assert_eq!(e["attempts"], 1);
}

/// `first`'s account, spoken to through `second`'s server.
fn first_on(second: &TestApp, first: &TestApp) -> TestApp {
    TestApp {
        base: second.base.clone(),
        client: second.client.clone(),
        store: second.store.clone(),
        clock: second.clock.clone(),
        email: first.email.clone(),
        creds: first.creds.clone(),
        handle: second.handle.clone(),
        credentials: second.credentials.clone(),
    }
}

async fn two_instances_send_each_callback_once(settings: Settings) {
    let receiver = Receiver::start().await;
    *receiver.state.delay.lock().unwrap() = Duration::from_millis(30);
    let one = start(settings.clone()).await;
    let two = start(settings.clone()).await;
    const SESSIONS: usize = 40;
    for i in 0..SESSIONS {
        let id = one
            .create_session(json!({"reference": format!("s{i}"), "callback_url": receiver.url}))
            .await;
        one.call("session.abort", json!({"id": id})).await;
    }
    // Three delivery loops per instance, all at once, until nothing is due.
    let mut loops = tokio::task::JoinSet::new();
    for app in [&one, &two, &one, &two, &one, &two] {
        let (store, clock, sender) = (app.store.clone(), app.clock.clone(), sender(&settings));
        loops.spawn(async move {
            let mut sent = 0;
            loop {
                match callbacks::deliver_due(&store, &sender, &clock)
                    .await
                    .unwrap()
                {
                    0 => return sent,
                    n => sent += n,
                }
            }
        });
    }
    let mut attempted = 0;
    while let Some(n) = loops.join_next().await {
        attempted += n.unwrap();
    }
    let got = receiver.received();
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for r in &got {
        *per_id.entry(r.id.as_str()).or_default() += 1;
    }
    assert_eq!(per_id.len(), SESSIONS);
    assert!(per_id.values().all(|&n| n == 1), "{per_id:?}");
    assert_eq!((got.len(), attempted), (SESSIONS, SESSIONS));

    // The same with two servers' own background workers polling side by side.
    let mut with_worker = settings.clone();
    with_worker.background_tasks = true;
    let three = start(with_worker.clone()).await;
    let _four = start(with_worker).await;
    for _ in 0..SESSIONS {
        let id = three
            .create_session(json!({"callback_url": receiver.url}))
            .await;
        three.call("session.abort", json!({"id": id})).await;
    }
    let got = receiver.wait_for(2 * SESSIONS).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_later = receiver.received();
    assert_eq!(got_later.len(), got.len(), "no event is sent twice");
    let ids: std::collections::HashSet<&str> = got_later.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 2 * SESSIONS);
}

async fn expiry_fires_the_callback_without_any_call(mut settings: Settings) {
    settings.background_tasks = true;
    settings.session_sweep_seconds = 1;
    let receiver = Receiver::start().await;
    let app = start(settings.clone()).await;
    let id = app
        .create_session(json!({"reference": "late", "callback_url": receiver.url}))
        .await;
    app.clock
        .advance(i64::try_from(settings.session_ttl_seconds).unwrap() + 1);
    let got = receiver.wait_for(1).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&got[0].body).unwrap(),
        json!({"session_id": id, "session_state": "ABORTED", "session_reference": "late"})
    );
    assert!(signature_is_valid(&secret(&app).await, &got[0]));
    let (status, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (s["state"].clone(), s["state_reason"].clone()),
        (json!("ABORTED"), json!("EXPIRED"))
    );
}

async fn the_holders_flow_fires_one_callback_per_state(settings: Settings) {
    use crate::verification::{new_session, now, read_and_submit, trust_csca};
    let app = start(settings.clone()).await;
    let receiver = Receiver::start().await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(
        &app,
        json!({"reference": "genuine", "callback_url": receiver.url}),
    )
    .await;
    let (status, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!((status, answer["state"].clone()), (200, json!("APPROVED")));
    callbacks::deliver_due(&app.store, &sender(&settings), &app.clock)
        .await
        .unwrap();
    let got = receiver.received();
    let secret = secret(&app).await;
    let mut states: Vec<String> = got
        .iter()
        .map(|r| {
            assert!(signature_is_valid(&secret, r));
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(
                (
                    body["session_id"].clone(),
                    body["session_reference"].clone()
                ),
                (json!(id), json!("genuine"))
            );
            body["session_state"].as_str().unwrap().to_owned()
        })
        .collect();
    states.sort();
    assert_eq!(states, ["APPROVED", "COMPLETED", "INITIATED"]);
}
