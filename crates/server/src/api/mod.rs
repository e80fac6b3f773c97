//! The integrator-facing HTTP API: `POST /api/{class}.{method}` (also under `/api/v1/`), HTTP
//! Basic authentication, JSON in and out, also for every error. The holder's reader API shares
//! the path scheme ([`reader`]), and the APDU relay is its WebSocket ([`relay`]).

pub mod openapi;
pub mod reader;
pub mod relay;
pub mod spec;
pub mod views;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method as HttpMethod};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::extract::{Authenticated, read_body};
use crate::model::State as SessionState;
use crate::sessions::{self, CreateSession};
use crate::state::AppState;
use crate::store::SessionFilter;
use spec::{ApiMethod, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Props};
use views::{event_json, session_json};

/// `/api/…` and `/api/v1/…`: the methods, the relay and the OpenAPI document.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", any(openapi::serve))
        .route("/api/reader.relay", any(relay::upgrade))
        .route("/api/v1/reader.relay", any(relay::upgrade))
        .route("/api/{method}", any(call))
        .route("/api/v1/{method}", any(call))
}

async fn call(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    method: HttpMethod,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    caller: Result<Authenticated, ApiError>,
    body: Body,
) -> Result<Response, ApiError> {
    if method != HttpMethod::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    // A path that does not decode (e.g. invalid percent-encoding) names no method either.
    let name = name.map(|Path(n)| n).unwrap_or_default();
    if state.enable_panic_route && name == "debug.panic" {
        panic!("debug.panic called");
    }
    let spec = spec::find(&name).ok_or_else(|| ApiError::MethodNotFound(name.clone()))?;
    if spec.id.is_reader() {
        // The holder's reading client: the session token, not the integrator's credentials.
        let peer = peer.map(|axum::Extension(info)| info.0.ip());
        return reader::call(&state, spec, &headers, body, peer).await;
    }
    let Authenticated(caller) = caller?;
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    let props = Props::extract(spec, spec::parse_body(&body)?)?;
    let now = state.clock.now();
    let store = &state.store;
    let account = caller.account_id;
    let result = match spec.id {
        ApiMethod::AccountGet => json!({ "id": caller.account_id, "email": caller.email }),
        ApiMethod::SessionCreate => {
            let created = sessions::create(
                store,
                account,
                CreateSession {
                    reference: props.str("reference").map(str::to_owned),
                    callback_url: props.str("callback_url").map(str::to_owned),
                    face_verification: props.bool("face_verification").unwrap_or(false),
                    passport_only: props.bool("passport_only").unwrap_or(false),
                },
                state.session_ttl_seconds,
                now,
            )
            .await?;
            json!({ "id": created.id, "token": created.token })
        }
        ApiMethod::SessionGet => {
            session_json(&sessions::get(store, account, props.required_int("id")?, now).await?)
        }
        ApiMethod::SessionState => {
            let session = sessions::get(store, account, props.required_int("id")?, now).await?;
            json!({ "state": session.state.as_str() })
        }
        ApiMethod::SessionList => {
            let filter = list_filter(&props)?;
            Value::Array(
                sessions::list(store, account, &filter, now)
                    .await?
                    .iter()
                    .map(session_json)
                    .collect(),
            )
        }
        ApiMethod::SessionUpdate => session_json(
            &sessions::update(
                store,
                account,
                props.required_int("id")?,
                props.str("reference"),
                props.str("callback_url"),
                now,
            )
            .await?,
        ),
        ApiMethod::SessionAbort => {
            session_json(&sessions::abort(store, account, props.required_int("id")?, now).await?)
        }
        ApiMethod::SessionDelete => {
            sessions::delete(store, account, props.required_int("id")?).await?;
            json!({})
        }
        ApiMethod::CallbackList => {
            let limit = list_limit(&props)?;
            let events =
                crate::callbacks::list(store, account, props.int("session_id"), limit, now).await?;
            Value::Array(events.iter().map(event_json).collect())
        }
        ApiMethod::ReaderStart
        | ApiMethod::ReaderSubmit
        | ApiMethod::ReaderAbort
        | ApiMethod::ReaderState => unreachable!("reader methods are handled above"),
    };
    Ok(Json(result).into_response())
}

fn list_limit(props: &Props) -> Result<i64, ApiError> {
    let limit = props.int("limit").unwrap_or(DEFAULT_LIST_LIMIT);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidProperty(format!(
            "Property 'limit' must be an integer from 1 to {MAX_LIST_LIMIT}"
        )));
    }
    Ok(limit)
}

fn list_filter(props: &Props) -> Result<SessionFilter, ApiError> {
    Ok(SessionFilter {
        state: props.str("state").and_then(SessionState::parse),
        reference: props.str("reference").map(str::to_owned),
        created_after: props.timestamp("created_after"),
        created_before: props.timestamp("created_before"),
        after_id: props.int("after_id"),
        limit: list_limit(props)?,
    })
}
