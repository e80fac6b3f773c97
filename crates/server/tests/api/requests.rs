//! Request shapes: bodies, types, methods, paths and sizes.

use serde_json::json;
use server::Settings;

use crate::both_backends;
use crate::helpers::{assert_error, json_of, start};

both_backends!(
    body_may_be_omitted_empty_or_any_object,
    wrong_types_name_the_property_and_type,
    non_object_and_malformed_bodies_are_refused,
    unknown_class_or_method_is_json_404,
    non_post_requests_get_json_405,
    huge_body_gets_json_413,
);

async fn body_may_be_omitted_empty_or_any_object(settings: Settings) {
    let app = start(settings).await;
    let url = format!("{}/api/v1/session.create", app.base);
    let auth =
        |r: reqwest::RequestBuilder| r.basic_auth(&app.creds.public_key, Some(&app.creds.secret));
    for body in [
        None,
        Some(""),
        Some("{}"),
        Some("  {\"extra\": {\"nested\": [1, 2]}, \"reference\": \"r\"} "),
    ] {
        let mut r = auth(app.client.post(&url));
        if let Some(b) = body {
            r = r.body(b);
        }
        let (status, v) = json_of(r.send().await.unwrap()).await;
        assert_eq!(status, 200, "body {body:?}: {v}");
        assert!(v["id"].is_i64() && v["token"].is_string());
    }
    // Extraneous properties are dropped, not stored or echoed.
    let (status, v) = app
        .call("session.list", json!({"reference": "r", "bogus": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(v[0].get("extra").is_none());
    // null for an optional property is the same as leaving it out.
    let (status, v) = app
        .call(
            "session.create",
            json!({"reference": null, "callback_url": null}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

async fn wrong_types_name_the_property_and_type(settings: Settings) {
    let app = start(settings).await;
    let cases = [
        (
            "session.get",
            json!({"id": "123"}),
            "Property 'id' must be an integer",
        ),
        (
            "session.get",
            json!({"id": 1.5}),
            "Property 'id' must be an integer",
        ),
        (
            "session.state",
            json!({"id": true}),
            "Property 'id' must be an integer",
        ),
        (
            "session.create",
            json!({"face_verification": "yes"}),
            "Property 'face_verification' must be a boolean",
        ),
        (
            "session.create",
            json!({"passport_only": 1}),
            "Property 'passport_only' must be a boolean",
        ),
        (
            "session.create",
            json!({"reference": 5}),
            "Property 'reference' must be a string",
        ),
        (
            "session.create",
            json!({"callback_url": "/relative"}),
            "Property 'callback_url' must be an absolute http or https URL",
        ),
        (
            "session.create",
            json!({"callback_url": "ftp://example.com/"}),
            "Property 'callback_url' must be an absolute http or https URL",
        ),
        (
            "session.list",
            json!({"limit": "10"}),
            "Property 'limit' must be an integer",
        ),
    ];
    for (method, body, message) in cases {
        let (status, v) = app.call(method, body.clone()).await;
        assert_error(status, &v, 400, "InvalidProperty");
        assert!(
            v["error_message"].as_str().unwrap().starts_with(message),
            "{method} {body}: {v}"
        );
    }
    let (status, v) = app.call("session.get", json!({})).await;
    assert_error(status, &v, 400, "MissingProperty");
    assert_eq!(v["error_message"], "Property 'id' is required");
}

async fn non_object_and_malformed_bodies_are_refused(settings: Settings) {
    let app = start(settings).await;
    for body in [
        "[]",
        "[1,2]",
        "\"text\"",
        "42",
        "null",
        "true",
        "{",
        "{\"id\": }",
        "not json",
    ] {
        let r = app
            .client
            .post(format!("{}/api/v1/session.create", app.base))
            .basic_auth(&app.creds.public_key, Some(&app.creds.secret))
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, v) = json_of(r).await;
        assert_error(status, &v, 400, "InvalidRequest");
    }
}

async fn unknown_class_or_method_is_json_404(settings: Settings) {
    let app = start(settings).await;
    for path in [
        "/api/v1/session.frobnicate",
        "/api/v1/invoice.get",
        "/api/nodot",
        "/api/v1/debug.nothing",
        "/api/v1/%FF%FE",
    ] {
        let r = app
            .client
            .post(format!("{}{path}", app.base))
            .basic_auth(&app.creds.public_key, Some(&app.creds.secret))
            .send()
            .await
            .unwrap();
        let (status, v) = json_of(r).await;
        assert_error(status, &v, 404, "MethodNotFound");
    }
    for path in ["/", "/index.html", "/api", "/api/v2/session.get/extra"] {
        let (status, v) = json_of(
            app.client
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(status, &v, 404, "NotFound");
    }
}

async fn non_post_requests_get_json_405(settings: Settings) {
    let app = start(settings).await;
    let url = format!("{}/api/v1/session.get", app.base);
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let r = app
            .client
            .request(method.clone(), &url)
            .basic_auth(&app.creds.public_key, Some(&app.creds.secret));
        let r = r.send().await.unwrap();
        assert_eq!(r.headers().get("allow").unwrap(), "POST");
        let (status, v) = json_of(r).await;
        assert_error(status, &v, 405, "MethodNotAllowed");
        assert!(v["error_message"].as_str().unwrap().contains("POST"));
    }
}

async fn huge_body_gets_json_413(mut settings: Settings) {
    settings.max_body_bytes = 64 * 1024;
    let app = start(settings).await;
    let big = json!({"reference": "x".repeat(200 * 1024)}).to_string();
    let r = app
        .client
        .post(format!("{}/api/v1/session.create", app.base))
        .basic_auth(&app.creds.public_key, Some(&app.creds.secret))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("connection").map(|h| h.to_str().unwrap()),
        Some("close")
    );
    let (status, v) = json_of(r).await;
    assert_error(status, &v, 413, "RequestTooLarge");
    // Also when the size is not announced (chunked transfer encoding).
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", app.creds.public_key, app.creds.secret),
    );
    let mut request = format!(
        "POST /api/v1/session.create HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..40 {
        request.extend_from_slice(b"1000\r\n");
        request.extend_from_slice(&[b' '; 4096]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let response = raw_request(&app.base, &request, None).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains("\"error_name\":\"RequestTooLarge\""),
        "{response}"
    );
    // A body under the limit still works.
    let (status, _) = app
        .call("session.create", json!({"reference": "x".repeat(1000)}))
        .await;
    assert_eq!(status, 200);
}

/// Sends raw bytes over TCP (pausing for `delay` after the headers and 5 body bytes, if given) and
/// returns everything the server answers until it closes the connection.
pub async fn raw_request(base: &str, bytes: &[u8], delay: Option<std::time::Duration>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    match delay {
        None => {
            let _ = stream.write_all(bytes).await;
        }
        Some(d) => {
            let head = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4 + 5;
            let (a, b) = bytes.split_at(head);
            stream.write_all(a).await.unwrap();
            tokio::time::sleep(d).await;
            let _ = stream.write_all(b).await;
        }
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut out),
    )
    .await;
    String::from_utf8_lossy(&out).into_owned()
}
