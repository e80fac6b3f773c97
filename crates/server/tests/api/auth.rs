//! HTTP Basic authentication with credential pairs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use server::Settings;
use server::accounts;

use crate::both_backends;
use crate::helpers::{TestApp, assert_error, json_of, start};

both_backends!(
    missing_or_wrong_credentials_get_401,
    revoked_pair_is_refused_at_once,
    revocation_waits_for_live_leases_only,
    no_request_after_a_revocation_is_served_from_memory,
    pairs_are_prefixed_and_secret_never_listed
);

/// Waits (up to 15 s) until `app` answers from memory: on PostgreSQL its credential cache has
/// joined; on SQLite it never does, and this returns false.
async fn serving_from_memory(app: &TestApp, settings: &Settings) -> bool {
    if settings.database_url.is_none() {
        assert!(
            !app.credentials.is_serving(),
            "SQLite reads credentials from the database"
        );
        return false;
    }
    for _ in 0..300 {
        if app.credentials.is_serving() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the credential cache did not start serving within 15 s");
}

/// A connection to the test's PostgreSQL schema.
async fn pg(settings: &Settings) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(settings.database_url.as_deref().unwrap())
        .await
        .unwrap()
}

async fn missing_or_wrong_credentials_get_401(settings: Settings) {
    let app = start(settings).await;
    let url = format!("{}/api/v1/session.create", app.base);
    let wrong_secret = format!("{}x", app.creds.secret);
    let attempts: Vec<reqwest::RequestBuilder> = vec![
        app.client.post(&url),
        app.client
            .post(&url)
            .basic_auth(&app.creds.public_key, Some(&wrong_secret)),
        app.client
            .post(&url)
            .basic_auth(&app.creds.public_key, None::<&str>),
        app.client
            .post(&url)
            .basic_auth("public-key-doesnotexist", Some(&app.creds.secret)),
        // The secret as user name and the key as password: the prefixes must be intact and in place.
        app.client
            .post(&url)
            .basic_auth(&app.creds.secret, Some(&app.creds.public_key)),
        app.client.post(&url).header("authorization", "Bearer abc"),
        app.client.post(&url).header("authorization", "Basic %%%"),
    ];
    for request in attempts {
        let r = request.json(&json!({})).send().await.unwrap();
        let www = r
            .headers()
            .get("www-authenticate")
            .map(|h| h.to_str().unwrap().to_owned());
        let (status, v) = json_of(r).await;
        assert_error(status, &v, 401, "Unauthorized");
        assert!(
            www.as_deref().is_some_and(|h| h.starts_with("Basic")),
            "{www:?}"
        );
    }
    // Credentials without the prefixes stripped work (curl -u PUBLIC_KEY:SECRET).
    let (status, _) = app.call("session.create", json!({})).await;
    assert_eq!(status, 200);
}

async fn revoked_pair_is_refused_at_once(settings: Settings) {
    let settings_of_first = settings.clone();
    let app = start(settings.clone()).await;
    // A second server instance on the same database.
    let second = crate::helpers::start(settings).await;
    let id = app.create_session(json!({})).await;
    let cached = serving_from_memory(&second, &settings_of_first).await;
    let hits = second.credentials.hits();
    for _ in 0..2 {
        let (status, _) = second
            .call_as(&app.creds, "session.get", json!({"id": id}))
            .await;
        assert_eq!(status, 200);
    }
    // On PostgreSQL the second request was answered from memory.
    assert_eq!(second.credentials.hits() > hits, cached);
    // Revoked as the CLI does it: through the store, not through either server.
    accounts::revoke_credentials(&app.store, &app.clock, &app.creds.public_key)
        .await
        .unwrap();
    let (status, v) = app.call("session.get", json!({"id": id})).await;
    assert_error(status, &v, 401, "Unauthorized");
    let (status, v) = second
        .call_as(&app.creds, "session.get", json!({"id": id}))
        .await;
    assert_error(status, &v, 401, "Unauthorized");
    // Revoking twice reports that nothing was revoked.
    assert!(
        accounts::revoke_credentials(&app.store, &app.clock, &app.creds.public_key)
            .await
            .is_err()
    );
    // A new pair for the same account sees the same sessions.
    let fresh = accounts::create_credentials(&app.store, &app.clock, &app.email, None)
        .await
        .unwrap();
    let (status, v) = app.call_as(&fresh, "session.get", json!({"id": id})).await;
    assert_eq!((status, v["id"].clone()), (200, json!(id)));
}

async fn pairs_are_prefixed_and_secret_never_listed(settings: Settings) {
    let app = start(settings).await;
    assert!(app.creds.public_key.starts_with("public-key-"));
    assert!(app.creds.secret.starts_with("secret-"));
    // 128 bits or more of randomness: at least 22 base64url characters after each prefix.
    assert!(app.creds.public_key.len() - "public-key-".len() >= 22);
    assert!(app.creds.secret.len() - "secret-".len() >= 22);
    let listed = accounts::list_credentials(&app.store, &app.email)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].public_key, app.creds.public_key);
    assert!(!format!("{listed:?}").contains(&app.creds.secret));
    // Stored only as a hash.
    let row = app
        .store
        .credential_by_public_key(&app.creds.public_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.secret_hash,
        server::support::digest::sha256(app.creds.secret.as_bytes())
    );
    // Accounts: duplicate emails are refused; the password is stored as argon2.
    let again =
        accounts::create_account(&app.store, &app.clock, &app.email, "some other password").await;
    assert!(
        matches!(again, Err(accounts::AccountError::AccountExists(_))),
        "{again:?}"
    );
    let ok = accounts::verify_password(&app.store, &app.email, "correct horse battery staple")
        .await
        .unwrap();
    assert!(ok.is_some());
    let bad = accounts::verify_password(&app.store, &app.email, "wrong")
        .await
        .unwrap();
    assert!(bad.is_none());
    assert!(
        app.store
            .account_by_email(&app.email)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .starts_with("$argon2")
    );
}

both_backends!(account_get_names_the_caller);

async fn account_get_names_the_caller(settings: Settings) {
    let app = start(settings).await;
    let (status, v) = app.call("account.get", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["email"], app.email.as_str());
    assert!(v["id"].as_i64().is_some_and(|id| id > 1 << 40));
    let other = app.other_account().await;
    let (_, w) = app.call_as(&other, "account.get", json!({})).await;
    assert_ne!(v["id"], w["id"]);
}

/// A revocation waits for instances whose leases are live, and only for them: one that stopped
/// answering holds it up until its lease runs out, one whose lease has run out not at all.
async fn revocation_waits_for_live_leases_only(settings: Settings) {
    let app = start(settings.clone()).await;
    if !serving_from_memory(&app, &settings).await {
        accounts::revoke_credentials(&app.store, &app.clock, &app.creds.public_key)
            .await
            .unwrap();
        return;
    }
    let mut db = pg(&settings).await;
    // The lease is renewed: its end moves on.
    let lease = "SELECT max(lease_until)::text FROM credential_cache_instances";
    let before: String = sqlx::query_scalar(lease).fetch_one(&mut db).await.unwrap();
    let mut renewed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now: String = sqlx::query_scalar(lease).fetch_one(&mut db).await.unwrap();
        if now != before {
            renewed = true;
            break;
        }
    }
    assert!(renewed, "the lease was not renewed within 10 s");
    sqlx::query(
        "INSERT INTO credential_cache_instances (instance, lease_until, acked) VALUES \
         ('gone', clock_timestamp() - interval '1 second', 0), \
         ('stalled', clock_timestamp() + interval '1500 milliseconds', 0)",
    )
    .execute(&mut db)
    .await
    .unwrap();
    accounts::revoke_credentials(&app.store, &app.clock, &app.creds.public_key)
        .await
        .unwrap();
    // It returned only once the stalled instance's lease had run out, and the live instance
    // had acknowledged.
    let generation: i64 = sqlx::query_scalar("SELECT generation FROM credential_generation")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(generation, 1);
    let stalled_live: bool = sqlx::query_scalar(
        "SELECT lease_until > clock_timestamp() FROM credential_cache_instances WHERE instance = 'stalled'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(!stalled_live);
    let acked: i64 = sqlx::query_scalar(
        "SELECT acked FROM credential_cache_instances WHERE instance NOT IN ('gone', 'stalled')",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(acked, generation);
    let (status, v) = app.call("account.get", json!({})).await;
    assert_error(status, &v, 401, "Unauthorized");
}

/// Requests keep arriving at a second instance while the pair is revoked: none sent after the
/// revocation returned is let through (a lookup that raced the revocation must not refill the
/// cache).
async fn no_request_after_a_revocation_is_served_from_memory(settings: Settings) {
    let app = start(settings.clone()).await;
    let second = start(settings.clone()).await;
    serving_from_memory(&second, &settings).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (client, url, creds, stop) = (
            second.client.clone(),
            format!("{}/api/v1/account.get", second.base),
            app.creds.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let status = client
                    .post(&url)
                    .basic_auth(&creds.public_key, Some(&creds.secret))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                seen.push((sent, status));
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    accounts::revoke_credentials(&app.store, &app.clock, &app.creds.public_key)
        .await
        .unwrap();
    let revoked = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut before = 0;
    let mut after = 0;
    for client in clients {
        for (sent, status) in client.await.unwrap() {
            if sent < revoked {
                before += usize::from(status == 200);
            } else {
                after += 1;
                assert_eq!(
                    status, 401,
                    "a request sent after the revocation was let through"
                );
            }
        }
    }
    assert!(
        before > 0 && after > 0,
        "{before} requests before, {after} after"
    );
}
