//! HTTP Basic authentication with credential pairs.

use serde_json::json;
use server::Settings;
use server::accounts;

use crate::both_backends;
use crate::helpers::{assert_error, json_of, start};

both_backends!(
    missing_or_wrong_credentials_get_401,
    revoked_pair_is_refused_at_once,
    pairs_are_prefixed_and_secret_never_listed
);

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
    let app = start(settings.clone()).await;
    // A second server instance on the same database.
    let second = crate::helpers::start(settings).await;
    let id = app.create_session(json!({})).await;
    let (status, _) = second
        .call_as(&app.creds, "session.get", json!({"id": id}))
        .await;
    assert_eq!(status, 200);
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
