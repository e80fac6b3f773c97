//! session.create / get / state / list / update / abort / delete.

use serde_json::{Value, json};
use server::Settings;

use crate::both_backends;
use crate::helpers::{assert_error, start};

both_backends!(
    create_then_get_returns_every_field,
    state_answers_only_the_state,
    ids_are_large_random_and_distinct,
    update_changes_reference_and_callback,
    abort_and_finished_sessions,
    delete_removes_the_session,
    expired_session_reads_as_aborted,
    list_filters_and_paginates_newest_first,
    another_accounts_session_is_not_found,
);

const SESSION_KEYS: &[&str] = &[
    "id",
    "created",
    "expires",
    "state",
    "state_reason",
    "reference",
    "callback_url",
    "face_verification",
    "passport_only",
    "user_ip",
    "user_agent",
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
    "passive_authentication",
    "active_authentication",
    "chip_authentication",
    "clone_check",
    "face_match_score",
    "face_match",
    "rejection_reason",
    "document_signer",
    "verified",
    "personal_data_erased",
];

fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 20 && s.ends_with('Z') && server::api::spec::parse_timestamp(s).is_some()
}

async fn create_then_get_returns_every_field(settings: Settings) {
    let app = start(settings).await;
    let (status, created) = app
        .call(
            "session.create",
            json!({"reference": "order-1", "callback_url": "https://example.com/cb", "face_verification": true}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let mut keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "token"]);
    let id = created["id"].as_i64().unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(token.len() >= 22, "token has at least 128 bits: {token}");

    let (status, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 200, "{s}");
    let obj = s.as_object().unwrap();
    let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = SESSION_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    assert!(
        obj.values().all(|v| !v.is_object() && !v.is_array()),
        "flat: {s}"
    );
    assert_eq!(s["id"], id);
    assert_eq!(s["state"], "CREATED");
    assert_eq!(s["reference"], "order-1");
    assert_eq!(s["callback_url"], "https://example.com/cb");
    assert_eq!(s["face_verification"], true);
    assert_eq!(s["passport_only"], false);
    assert!(
        is_timestamp(&s["created"]) && is_timestamp(&s["expires"]),
        "{s}"
    );
    let created_at = server::api::spec::parse_timestamp(s["created"].as_str().unwrap()).unwrap();
    let expires_at = server::api::spec::parse_timestamp(s["expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires_at - created_at,
        3600,
        "default lifetime is one hour"
    );
    for k in [
        "given_names",
        "surname",
        "sex",
        "document_type",
        "portrait",
        "face",
        "user_ip",
        "state_reason",
    ] {
        assert!(s[k].is_null(), "{k} not yet known: {s}");
    }
    // The token is stored only hashed; it is never in a response.
    assert!(!s.to_string().contains(token));

    // The unversioned path serves the same API.
    let r = app
        .client
        .post(format!("{}/api/session.get", app.base))
        .basic_auth(&app.creds.public_key, Some(&app.creds.secret))
        .body(format!("{{\"id\": {id}}}"))
        .send()
        .await
        .unwrap();
    let (status, same) = crate::helpers::json_of(r).await;
    assert_eq!(status, 200);
    assert_eq!(same, s);
}

async fn state_answers_only_the_state(settings: Settings) {
    let app = start(settings).await;
    let id = app.create_session(json!({})).await;
    let (status, v) = app.call("session.state", json!({"id": id})).await;
    assert_eq!((status, v), (200, json!({"state": "CREATED"})));
    let (status, v) = app.call("session.state", json!({"id": 123})).await;
    assert_eq!(status, 404);
    assert_eq!(
        v,
        json!({"error_message": "No session found with id: 123", "error_name": "SessionNotFound"})
    );
}

async fn ids_are_large_random_and_distinct(settings: Settings) {
    let app = start(settings).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(app.create_session(json!({})).await);
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "distinct");
    assert!(ids.iter().all(|&id| id > 1 << 40), "large: {ids:?}");
    // Not a sequence: consecutive ids do not differ by small steps.
    assert!(
        ids.windows(2).any(|w| (w[1] - w[0]).abs() > 1_000_000),
        "{ids:?}"
    );
    assert_ne!(
        ids, sorted,
        "creation order is not id order (fails with odds 1/12!)"
    );
}

async fn update_changes_reference_and_callback(settings: Settings) {
    let app = start(settings).await;
    let id = app.create_session(json!({"reference": "a"})).await;
    let (status, v) = app
        .call("session.update", json!({"id": id, "reference": "b"}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["reference"], "b");
    assert!(v["callback_url"].is_null());
    let (status, v) = app
        .call(
            "session.update",
            json!({"id": id, "callback_url": "http://localhost:9000/x"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["reference"].clone(), v["callback_url"].clone()),
        (json!("b"), json!("http://localhost:9000/x"))
    );
    let (status, v) = app
        .call(
            "session.update",
            json!({"id": id, "callback_url": "not a url"}),
        )
        .await;
    assert_error(status, &v, 400, "InvalidProperty");
    assert!(
        v["error_message"]
            .as_str()
            .unwrap()
            .contains("callback_url")
    );
    let (status, v) = app
        .call("session.update", json!({"id": 42, "reference": "x"}))
        .await;
    assert_error(status, &v, 404, "SessionNotFound");
    let (status, v) = app.call("session.get", json!({"id": id})).await;
    assert_eq!((status, v["reference"].clone()), (200, json!("b")));
}

async fn abort_and_finished_sessions(settings: Settings) {
    let app = start(settings).await;
    let id = app.create_session(json!({})).await;
    let (status, v) = app.call("session.abort", json!({"id": id})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "ABORTED");
    assert_eq!(v["state_reason"], "ABORTED_BY_INTEGRATOR");
    let (status, v) = app
        .call("session.update", json!({"id": id, "reference": "late"}))
        .await;
    assert_error(status, &v, 400, "SessionFinished");
    let (status, v) = app.call("session.abort", json!({"id": id})).await;
    assert_error(status, &v, 400, "SessionFinished");
}

async fn delete_removes_the_session(settings: Settings) {
    let app = start(settings).await;
    let id = app.create_session(json!({"reference": "to-delete"})).await;
    let (status, v) = app.call("session.delete", json!({"id": id})).await;
    assert_eq!((status, v), (200, json!({})));
    let (status, v) = app.call("session.get", json!({"id": id})).await;
    assert_error(status, &v, 404, "SessionNotFound");
    let (status, v) = app.call("session.delete", json!({"id": id})).await;
    assert_error(status, &v, 404, "SessionNotFound");
    let (_, list) = app
        .call("session.list", json!({"reference": "to-delete"}))
        .await;
    assert_eq!(list, json!([]));
}

async fn expired_session_reads_as_aborted(settings: Settings) {
    let app = start(settings).await;
    let id = app.create_session(json!({})).await;
    let finished = app.create_session(json!({})).await;
    app.call("session.abort", json!({"id": finished})).await;
    app.clock.advance(3601);
    let (status, v) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (v["state"].clone(), v["state_reason"].clone()),
        (json!("ABORTED"), json!("EXPIRED"))
    );
    let (_, v) = app.call("session.get", json!({"id": finished})).await;
    assert_eq!(
        v["state_reason"], "ABORTED_BY_INTEGRATOR",
        "a finished session does not expire"
    );
    let (status, v) = app
        .call("session.update", json!({"id": id, "reference": "x"}))
        .await;
    assert_error(status, &v, 400, "SessionFinished");
    // Expiry is applied in the store, so list sees it too without a prior get.
    let other = app.create_session(json!({"reference": "later"})).await;
    app.clock.advance(3601);
    let (_, list) = app
        .call(
            "session.list",
            json!({"state": "ABORTED", "reference": "later"}),
        )
        .await;
    assert_eq!(list[0]["id"], other);
    assert_eq!(list[0]["state_reason"], "EXPIRED");
}

async fn list_filters_and_paginates_newest_first(settings: Settings) {
    let app = start(settings).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_session(json!({"reference": if i % 2 == 0 { "even" } else { "odd" }}))
                .await,
        );
        // Distinct creation seconds for part of the set, so ordering by time is visible.
        if i == 1 {
            app.clock.advance(10);
        }
    }
    let (status, all) = app.call("session.list", json!({})).await;
    assert_eq!(status, 200, "{all}");
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|s| {
        s.as_object()
            .unwrap()
            .values()
            .all(|v| !v.is_object() && !v.is_array())
    }));
    // Newest first: the three created after the clock jump come before the first two.
    let order: Vec<i64> = all.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let newest: std::collections::HashSet<i64> = ids[2..].iter().copied().collect();
    assert!(
        order[..3].iter().all(|id| newest.contains(id)),
        "{order:?} vs {ids:?}"
    );
    let created: Vec<i64> = all
        .iter()
        .map(|s| server::api::spec::parse_timestamp(s["created"].as_str().unwrap()).unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));

    // Pages of two, following after_id, give the same order without gaps or repeats.
    let mut paged = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let body = match after {
            Some(a) => json!({"limit": 2, "after_id": a}),
            None => json!({"limit": 2}),
        };
        let (status, page) = app.call("session.list", body).await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        paged.extend(page.iter().map(|s| s["id"].as_i64().unwrap()));
        after = paged.last().copied();
    }
    assert_eq!(paged, order);

    let (_, even) = app.call("session.list", json!({"reference": "even"})).await;
    assert_eq!(even.as_array().unwrap().len(), 3);
    let (_, created_state) = app.call("session.list", json!({"state": "CREATED"})).await;
    assert_eq!(created_state.as_array().unwrap().len(), 5);
    let (_, none) = app.call("session.list", json!({"state": "APPROVED"})).await;
    assert_eq!(none, json!([]));
    let cut = server::api::spec::format_timestamp(created[3]);
    let (_, after_cut) = app
        .call("session.list", json!({"created_after": cut}))
        .await;
    assert_eq!(after_cut.as_array().unwrap().len(), 3);
    let cut = server::api::spec::format_timestamp(created[2]);
    let (_, before_cut) = app
        .call("session.list", json!({"created_before": cut}))
        .await;
    assert_eq!(before_cut.as_array().unwrap().len(), 2);

    let (status, v) = app.call("session.list", json!({"limit": 0})).await;
    assert_error(status, &v, 400, "InvalidProperty");
    let (status, v) = app.call("session.list", json!({"limit": 101})).await;
    assert_error(status, &v, 400, "InvalidProperty");
    let (status, v) = app.call("session.list", json!({"state": "DONE"})).await;
    assert_error(status, &v, 400, "InvalidProperty");
    let (status, v) = app
        .call("session.list", json!({"created_after": "yesterday"}))
        .await;
    assert_error(status, &v, 400, "InvalidProperty");
    assert!(
        v["error_message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DDTHH:MM:SSZ")
    );
    let (status, v) = app.call("session.list", json!({"after_id": 7})).await;
    assert_error(status, &v, 404, "SessionNotFound");
}

async fn another_accounts_session_is_not_found(settings: Settings) {
    let app = start(settings).await;
    let mine = app.create_session(json!({"reference": "private"})).await;
    let other = app.other_account().await;
    let missing = mine ^ 1;
    for method in [
        "session.get",
        "session.state",
        "session.update",
        "session.abort",
        "session.delete",
    ] {
        let (s1, v1) = app.call_as(&other, method, json!({"id": mine})).await;
        let (s2, v2) = app.call_as(&other, method, json!({"id": missing})).await;
        assert_error(s1, &v1, 404, "SessionNotFound");
        assert_eq!(s1, s2);
        assert_eq!(
            v1["error_message"]
                .as_str()
                .unwrap()
                .replace(&mine.to_string(), "ID"),
            v2["error_message"]
                .as_str()
                .unwrap()
                .replace(&missing.to_string(), "ID"),
        );
    }
    let (_, list) = app.call_as(&other, "session.list", json!({})).await;
    assert_eq!(list, json!([]));
    let (status, v) = app
        .call_as(&other, "session.list", json!({"after_id": mine}))
        .await;
    assert_error(status, &v, 404, "SessionNotFound");
    // Still there for its owner.
    let (status, v) = app.call("session.get", json!({"id": mine})).await;
    assert_eq!((status, v["reference"].clone()), (200, json!("private")));
}

both_backends!(token_finds_its_session_until_expiry);

async fn token_finds_its_session_until_expiry(settings: Settings) {
    let app = start(settings).await;
    let (_, created) = app
        .call("session.create", json!({"reference": "holder"}))
        .await;
    let token = created["token"].as_str().unwrap();
    let hash = server::support::digest::sha256(token.as_bytes());
    let found = app
        .store
        .session_by_token_hash(&hash, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(json!(found.id), created["id"]);
    assert_eq!(found.reference.as_deref(), Some("holder"));
    let wrong = server::support::digest::sha256(b"not the token");
    assert!(
        app.store
            .session_by_token_hash(&wrong, app.clock.now())
            .await
            .unwrap()
            .is_none()
    );
    app.clock.advance(3600);
    let expired = app
        .store
        .session_by_token_hash(&hash, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expired.state, server::model::State::Aborted);
    assert_eq!(expired.state_reason.map(|r| r.as_str()), Some("EXPIRED"));
}
