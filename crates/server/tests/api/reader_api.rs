//! The reader API's token handling and session life: start, abort, state, one submit only,
//! expiry, malformed files, the client's address, retention.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use server::Settings;

use crate::both_backends;
use crate::helpers::{assert_error, start};
use crate::verification::{new_session, now, read_and_submit, reader, submit_body, trust_csca};

both_backends!(
    start_issues_a_fresh_challenge_and_initiates,
    tokens_act_on_their_own_session_only,
    a_second_submit_is_refused_and_the_token_is_useless_after,
    aborted_and_expired_sessions_refuse_the_token,
    submit_checks_every_file_is_well_formed,
    forwarded_for_is_believed_only_from_trusted_proxies,
    personal_data_is_erased_after_the_retention_period,
    an_interrupted_verification_ends_failed,
);

async fn start_issues_a_fresh_challenge_and_initiates(settings: Settings) {
    let app = start(settings).await;
    let (id, token) = new_session(&app, json!({"passport_only": true})).await;
    let (status, v) = reader(&app, &token, "reader.state", json!({})).await;
    assert_eq!(
        (status, v),
        (200, json!({"state": "CREATED", "state_reason": null}))
    );
    let (status, first) = reader(&app, &token, "reader.start", json!({})).await;
    assert_eq!(status, 200, "{first}");
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "aa_challenge",
            "expires",
            "face_verification",
            "passport_only",
            "session_id",
            "state"
        ]
    );
    assert_eq!(first["session_id"], id);
    assert_eq!(first["state"], "INITIATED");
    assert_eq!(first["passport_only"], true);
    assert_eq!(first["face_verification"], false);
    let challenge = first["aa_challenge"].as_str().unwrap();
    assert_eq!(hex::decode(challenge).unwrap().len(), 8);
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "INITIATED");
    assert_eq!(s["user_ip"], "127.0.0.1");
    // Starting again (a reload) issues a new challenge.
    let (_, again) = reader(&app, &token, "reader.start", json!({})).await;
    assert_ne!(again["aa_challenge"], first["aa_challenge"]);
    // Also served under /api/ without v1.
    let r = app
        .client
        .post(format!("{}/api/reader.state", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, v) = crate::helpers::json_of(r).await;
    assert_eq!((status, &v["state"]), (200, &json!("INITIATED")));
    // Documented in the OpenAPI document.
    let doc: Value = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for m in [
        "reader.start",
        "reader.submit",
        "reader.abort",
        "reader.state",
    ] {
        let op = &doc["paths"][format!("/api/v1/{m}")]["post"];
        assert_eq!(op["security"], json!([{"sessionToken": []}]), "{m}");
    }
    let submit = &doc["paths"]["/api/v1/reader.submit"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert!(submit["properties"]["aa_response"].is_object());
    assert_eq!(submit["required"], json!(["com", "sod", "dg1", "dg2"]));
}

async fn tokens_act_on_their_own_session_only(settings: Settings) {
    let app = start(settings).await;
    let (_, token) = new_session(&app, json!({})).await;
    // No token, another scheme, an unknown token.
    let r = app
        .client
        .post(format!("{}/api/v1/reader.start", app.base))
        .send()
        .await
        .unwrap();
    let (status, v) = crate::helpers::json_of(r).await;
    assert_error(status, &v, 401, "Unauthorized");
    let r = app
        .client
        .post(format!("{}/api/v1/reader.start", app.base))
        .basic_auth(&app.creds.public_key, Some(&app.creds.secret))
        .send()
        .await
        .unwrap();
    let (status, v) = crate::helpers::json_of(r).await;
    assert_error(status, &v, 401, "Unauthorized");
    let (status, v) = reader(&app, "not-a-token", "reader.start", json!({})).await;
    assert_error(status, &v, 401, "InvalidToken");
    let (status, v) = reader(&app, &format!("{token}x"), "reader.state", json!({})).await;
    assert_error(status, &v, 401, "InvalidToken");
    // The session token is no integrator credential.
    let (status, v) = reader(&app, &token, "session.list", json!({})).await;
    assert_error(status, &v, 401, "Unauthorized");
    // Each token moves its own session only.
    let (other_id, other_token) = new_session(&app, json!({})).await;
    let (status, _) = reader(&app, &token, "reader.abort", json!({})).await;
    assert_eq!(status, 200);
    let (_, s) = app.call("session.get", json!({"id": other_id})).await;
    assert_eq!(s["state"], "CREATED");
    let (status, v) = reader(&app, &other_token, "reader.state", json!({})).await;
    assert_eq!((status, &v["state"]), (200, &json!("CREATED")));
}

async fn a_second_submit_is_refused_and_the_token_is_useless_after(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({})).await;
    // Submit before start.
    let (status, v) = reader(
        &app,
        &token,
        "reader.submit",
        submit_body(&document, "0011223344556677"),
    )
    .await;
    assert_error(status, &v, 400, "SessionNotStarted");
    let (status, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(
        (status, &answer["state"]),
        (200, &json!("APPROVED")),
        "{answer}"
    );
    let body = submit_body(&document, "0011223344556677");
    let (status, v) = reader(&app, &token, "reader.submit", body).await;
    assert_error(status, &v, 400, "SessionFinished");
    for method in ["reader.start", "reader.abort"] {
        let (status, v) = reader(&app, &token, method, json!({})).await;
        assert_error(status, &v, 400, "SessionFinished");
    }
    // The state can still be asked, and nothing else.
    let (status, v) = reader(&app, &token, "reader.state", json!({})).await;
    assert_eq!(
        (status, v),
        (200, json!({"state": "APPROVED", "state_reason": null}))
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "APPROVED");
}

async fn aborted_and_expired_sessions_refuse_the_token(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;

    let (id, token) = new_session(&app, json!({})).await;
    reader(&app, &token, "reader.start", json!({})).await;
    let (status, v) = reader(&app, &token, "reader.abort", json!({})).await;
    assert_eq!((status, v), (200, json!({"state": "ABORTED"})));
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "ABORTED");
    assert_eq!(s["state_reason"], "ABORTED_BY_HOLDER");
    let (status, v) = reader(
        &app,
        &token,
        "reader.submit",
        submit_body(&document, "0011223344556677"),
    )
    .await;
    assert_error(status, &v, 400, "SessionFinished");
    let (status, v) = reader(&app, &token, "reader.start", json!({})).await;
    assert_error(status, &v, 400, "SessionFinished");

    // Aborted by the integrator while the holder reads.
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    app.call("session.abort", json!({"id": id})).await;
    let body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (status, v) = reader(&app, &token, "reader.submit", body).await;
    assert_error(status, &v, 400, "SessionFinished");

    // Expired between start and submit.
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    app.clock.advance(3601);
    let body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (status, v) = reader(&app, &token, "reader.submit", body).await;
    assert_error(status, &v, 400, "SessionFinished");
    let (status, v) = reader(&app, &token, "reader.state", json!({})).await;
    assert_eq!(
        (status, v),
        (200, json!({"state": "ABORTED", "state_reason": "EXPIRED"}))
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "ABORTED");
    assert!(s["verified"].is_null());
}

async fn submit_checks_every_file_is_well_formed(mut settings: Settings) {
    // reader.submit has its own, larger limit than the other methods.
    settings.max_body_bytes = 8 * 1024;
    settings.max_submit_bytes = 128 * 1024;
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    let good = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    assert!(good.to_string().len() > 8 * 1024);
    let bad_cases: Vec<(&str, Value, &str)> = vec![
        ("sod", Value::Null, "MissingProperty"),
        ("dg2", Value::Null, "MissingProperty"),
        ("dg1", json!("!!!"), "InvalidProperty"),
        (
            "dg1",
            json!(STANDARD.encode(b"\x61\x03abc")),
            "InvalidProperty",
        ),
        ("sod", json!(STANDARD.encode(b"garbage")), "InvalidProperty"),
        (
            "com",
            json!(STANDARD.encode(b"\x61\x01\x00")),
            "InvalidProperty",
        ),
        (
            "dg15",
            json!(STANDARD.encode([0x6F, 0x01, 0x00])),
            "InvalidProperty",
        ),
        ("dg14", json!(STANDARD.encode(b"junk")), "InvalidProperty"),
        (
            "dg1",
            json!(STANDARD.encode(vec![0u8; 5000])),
            "InvalidProperty",
        ),
        ("aa_response", json!("xyz"), "InvalidProperty"),
        (
            "access_date_of_birth",
            json!("1987-06-21"),
            "InvalidProperty",
        ),
        ("access_document_number", Value::Null, "InvalidProperty"),
        ("chip_authentication", json!("MAYBE"), "InvalidProperty"),
        ("dg2", json!(12), "InvalidProperty"),
    ];
    for (name, value, error) in bad_cases {
        let mut body = good.clone();
        body[name] = value;
        let (status, v) = reader(&app, &token, "reader.submit", body).await;
        assert_error(status, &v, 400, error);
        assert!(
            v["error_message"].as_str().unwrap().contains(name)
                || v["error_message"].as_str().unwrap().contains("access key"),
            "{name}: {v}"
        );
    }
    // Refused submits leave the session waiting for a correct one.
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "INITIATED");
    // The CAN instead of the MRZ data.
    let mut with_can = good.clone();
    for k in [
        "access_document_number",
        "access_date_of_birth",
        "access_date_of_expiry",
    ] {
        with_can[k] = Value::Null;
    }
    with_can["access_can"] = json!("123456");
    let (status, v) = reader(&app, &token, "reader.submit", with_can).await;
    assert_eq!((status, &v["state"]), (200, &json!("APPROVED")), "{v}");

    // A body above max_submit_bytes.
    let (_, token) = new_session(&app, json!({})).await;
    reader(&app, &token, "reader.start", json!({})).await;
    let mut huge = good;
    huge["selfie"] = json!("A".repeat(200 * 1024));
    let (status, v) = reader(&app, &token, "reader.submit", huge).await;
    assert_error(status, &v, 413, "RequestTooLarge");
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(settings: Settings) {
    let trusting = Settings {
        trusted_proxies: vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
        ..settings.clone()
    };
    let app = start(trusting).await;
    let (id, token) = new_session(&app, json!({})).await;
    let r = app
        .client
        .post(format!("{}/api/v1/reader.start", app.base))
        .bearer_auth(&token)
        .header("x-forwarded-for", "192.0.2.1, 198.51.100.7, 10.1.1.1")
        .header("user-agent", "HolderBrowser/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["user_ip"], "198.51.100.7");
    assert_eq!(s["user_agent"], "HolderBrowser/1.0");
    app.handle.shutdown();

    let app = start(settings).await;
    let (id, token) = new_session(&app, json!({})).await;
    app.client
        .post(format!("{}/api/v1/reader.start", app.base))
        .bearer_auth(&token)
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["user_ip"], "127.0.0.1");
}

async fn personal_data_is_erased_after_the_retention_period(settings: Settings) {
    let retention = settings.personal_data_retention_seconds;
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({})).await;
    read_and_submit(&app, &token, &document, |_| {}).await;
    let erase = |app: &crate::helpers::TestApp| {
        let store = app.store.clone();
        let now = app.clock.now();
        async move {
            server::jobs::retention::erase_expired_personal_data(&store, retention, now)
                .await
                .unwrap()
        }
    };
    assert_eq!(erase(&app).await, 0);
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["surname"], "VAN DER STEEN");
    app.clock.advance(i64::try_from(retention).unwrap() + 1);
    assert_eq!(erase(&app).await, 1);
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "APPROVED");
    assert_eq!(s["passive_authentication"], "PASSED");
    assert!(s["personal_data_erased"].is_string(), "{s}");
    for field in [
        "given_names",
        "surname",
        "nationality",
        "sex",
        "date_of_birth",
        "personal_number",
        "document_type",
        "document_number",
        "expiry_date",
        "issuing_country",
        "issuer",
        "portrait",
        "face",
        "user_ip",
        "user_agent",
    ] {
        assert!(s[field].is_null(), "{field}: {s}");
    }
    assert_eq!(erase(&app).await, 0);
}

/// A process that dies between COMPLETED and the outcome leaves the session COMPLETED; the
/// sweep in `serve` ends it FAILED (VERIFICATION_INTERRUPTED) once it is clearly stale.
async fn an_interrupted_verification_ends_failed(settings: Settings) {
    let app = start(settings).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    let challenge = hex::decode(started["aa_challenge"].as_str().unwrap()).unwrap();
    let now = app.clock.now();
    // What a submit does first, without the verification that would follow it.
    assert!(
        app.store
            .begin_verification(id, Some(&challenge), None, None, now)
            .await
            .unwrap()
    );
    assert_eq!(
        app.store.fail_interrupted_verifications(now).await.unwrap(),
        0,
        "not stale yet"
    );
    let (_, s) = app.call("session.state", json!({"id": id})).await;
    assert_eq!(s["state"], "COMPLETED");
    assert_eq!(
        app.store
            .fail_interrupted_verifications(now + 1)
            .await
            .unwrap(),
        1
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(
        (s["state"].as_str(), s["state_reason"].as_str()),
        (Some("FAILED"), Some("VERIFICATION_INTERRUPTED"))
    );
}
