//! One log line per request (target `access`, level info): method, path, status and duration.
//! Nothing else of the request is logged: no query string (the holder's page carries the session
//! token there), no headers (credentials and bearer tokens), no body, no client address (personal
//! data under the retention rules). Paths are cut to 120 characters.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Longest path logged, in characters.
const MAX_PATH_CHARS: usize = 120;

pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(MAX_PATH_CHARS).collect();
    let response = next.run(request).await;
    tracing::info!(
        target: "access",
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = %format_args!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn logs_method_path_and_status_but_no_query_or_headers() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/open", get(|| async { "page" }))
            .layer(axum::middleware::from_fn(log_request));
        let request = Request::builder()
            .uri("/open?token=SECRET-TOKEN-123&redirect_url=https://example.com/x")
            .header("authorization", "Basic c2VjcmV0LWtleTpzZWNyZXQ=")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let missing = Request::builder()
            .uri(format!("/{}", "x".repeat(500)))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(missing).await.unwrap().status(), 404);

        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        println!("{log}");
        assert!(log.contains("method=GET path=/open status=200"), "{log}");
        assert!(log.contains("status=404"), "{log}");
        for secret in [
            "SECRET-TOKEN-123",
            "c2VjcmV0",
            "example.com",
            &"x".repeat(121),
        ] {
            assert!(!log.contains(secret), "{secret} leaked: {log}");
        }
    }
}
