//! The whole HTTP surface in one place: each area's routes, and the layers every request goes
//! through (access log, panic guard, load shedding with the time limit).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::support::throttle::Throttle;

/// The integrator API, the holder's reader API and relay, and the holder's pages.
/// At most `max_in_flight` requests are handled at once; the others are shed.
pub fn router(state: AppState, request_timeout: Duration, max_in_flight: usize) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::web::routes())
        .merge(crate::dashboard::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn_with_state(
            Admission {
                timeout: request_timeout,
                in_flight: InFlight::new(max_in_flight),
            },
            admit,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::http::access_log::log_request))
        .with_state(state)
}

/// The requests being handled, against their limit.
#[derive(Debug, Clone)]
struct InFlight {
    permits: Arc<Semaphore>,
    limit: usize,
    shed: Arc<Throttle>,
}

impl InFlight {
    fn new(limit: usize) -> InFlight {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        InFlight {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            shed: Arc::new(Throttle::default()),
        }
    }

    fn note_shed(&self) {
        if let Some(shed) = self.shed.count() {
            tracing::warn!(
                limit = self.limit,
                shed_so_far = shed,
                "requests shed: the server is handling max_requests_in_flight already (503 ServerBusy)"
            );
        }
    }
}

/// The limits every request is admitted under: how many at once, and for how long.
#[derive(Debug, Clone)]
struct Admission {
    timeout: Duration,
    in_flight: InFlight,
}

/// Load shedding: a request beyond the limit is answered at once (503, `Retry-After`) instead
/// of waiting in memory, so that far past capacity the requests admitted still finish in time.
/// The permit is held until the response is produced (a WebSocket's only until its upgrade).
/// Then the time limit: past it, 503 `Timeout`. (One layer for both: a layer is a box and a
/// clone per request, measurable on the cheapest requests.)
async fn admit(State(limits): State<Admission>, request: Request, next: Next) -> Response {
    let in_flight = &limits.in_flight;
    let Ok(_permit) = in_flight.permits.clone().try_acquire_owned() else {
        in_flight.note_shed();
        return ApiError::Busy(in_flight.limit).into_response();
    };
    let limit = limits.timeout;

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
