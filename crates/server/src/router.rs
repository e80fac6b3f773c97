//! The whole HTTP surface in one place: each area's routes, and the layers every request goes
//! through (access log, panic guard, time limit).

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The integrator API, the holder's reader API and relay, and the holder's pages.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::web::routes())
        .merge(crate::dashboard::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn_with_state(request_timeout, timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::http::access_log::log_request))
        .with_state(state)
}

async fn timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs(), "request timed out");
            ApiError::Timeout(limit.as_secs()).into_response()
        }
    }
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    // The panic message may hold request data; it is already printed by the panic hook.
    tracing::error!("a request handler panicked");
    ApiError::Internal.into_response()
}
