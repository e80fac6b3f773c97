//! The integrator-facing HTTP API: `POST /api/{class}.{method}` (also under `/api/v1/`), HTTP
//! Basic authentication, JSON in and out, also for every error.

pub mod error;
pub mod spec;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method as HttpMethod, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::{self, Caller};
use crate::clock::Clock;
use crate::config::Settings;
use crate::sessions::{
    self, CreateSession, model::SessionFilter, model::SessionRow, model::State as SessionState,
};
use crate::store::Store;
use error::ApiError;
use spec::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Props, format_timestamp};

/// What every handler shares. No per-process session or credential state lives here.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub session_ttl_seconds: i64,
    pub max_body_bytes: usize,
    pub enable_panic_route: bool,
    /// The reader API's settings and trust store cache.
    pub reader: Arc<crate::reader_api::ReaderConfig>,
    pub web: crate::web::PageSettings,
    /// The APDU relay's limits, and the relays live on this process (one per session).
    pub relay: crate::relay::RelaySettings,
    pub relays: Arc<crate::relay::LiveRelays>,
    /// The web dashboard's settings (cookies, the server values it shows).
    pub dashboard: Arc<crate::dashboard::DashboardConfig>,
    openapi: Arc<Value>,
}

impl AppState {
    pub fn new(store: Store, settings: &Settings) -> AppState {
        AppState {
            store,
            clock: settings.clock.clone(),
            session_ttl_seconds: i64::try_from(settings.session_ttl_seconds).unwrap_or(i64::MAX),
            max_body_bytes: settings.max_body_bytes,
            enable_panic_route: settings.enable_panic_route,
            reader: Arc::new(crate::reader_api::ReaderConfig::from_settings(settings)),
            web: crate::web::PageSettings::new(settings),
            relay: crate::relay::RelaySettings {
                limits: crate::relay::transport::RelayLimits {
                    apdu_timeout: Duration::from_secs(settings.relay_apdu_timeout_seconds),
                    read_timeout: Duration::from_secs(settings.relay_read_timeout_seconds),
                    ..crate::relay::transport::RelayLimits::default()
                },
            },
            relays: Arc::default(),
            dashboard: Arc::new(crate::dashboard::DashboardConfig::from_settings(settings)),
            openapi: Arc::new(crate::openapi::document()),
        }
    }
}

/// The API router with its timeout and panic layers.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/api/openapi.json", any(openapi_json))
        .route("/api/reader.relay", any(crate::relay::upgrade))
        .route("/api/v1/reader.relay", any(crate::relay::upgrade))
        .route("/api/{method}", any(call))
        .route("/api/v1/{method}", any(call))
        .merge(crate::web::routes())
        .merge(crate::dashboard::routes())
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn_with_state(request_timeout, timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::access_log::log_request))
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

async fn openapi_json(State(state): State<AppState>, method: HttpMethod) -> Response {
    if method != HttpMethod::GET && method != HttpMethod::HEAD {
        return Response::builder()
            .status(axum::http::StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                ApiError::MethodNotAllowed
                    .body()
                    .to_string()
                    .replace("POST", "GET"),
            ))
            .unwrap_or_else(|_| ApiError::Internal.into_response());
    }
    Json(state.openapi.as_ref().clone()).into_response()
}

async fn call(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    method: HttpMethod,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
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
    if spec.class == "reader" {
        // The holder's reading client: the session token, not the integrator's credentials.
        let peer = peer.map(|axum::Extension(info)| info.0.ip());
        return crate::reader_api::call(&state, spec, &headers, body, peer).await;
    }
    let caller = authenticate(&state, &headers).await?;
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    let props = Props::extract(spec, spec::parse_body(&body)?)?;
    let now = state.clock.now();
    let store = &state.store;
    let account = caller.account_id;
    let result = match (spec.class, spec.method) {
        ("account", "get") => json!({ "id": caller.account_id, "email": caller.email }),
        ("session", "create") => {
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
        ("session", "get") => {
            session_json(&sessions::get(store, account, props.required_int("id")?, now).await?)
        }
        ("session", "state") => {
            let session = sessions::get(store, account, props.required_int("id")?, now).await?;
            json!({ "state": session.state.as_str() })
        }
        ("session", "list") => {
            let filter = list_filter(&props)?;
            Value::Array(
                sessions::list(store, account, &filter, now)
                    .await?
                    .iter()
                    .map(session_json)
                    .collect(),
            )
        }
        ("session", "update") => session_json(
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
        ("session", "abort") => {
            session_json(&sessions::abort(store, account, props.required_int("id")?, now).await?)
        }
        ("session", "delete") => {
            sessions::delete(store, account, props.required_int("id")?).await?;
            json!({})
        }
        ("callback", "list") => {
            let limit = props.int("limit").unwrap_or(DEFAULT_LIST_LIMIT);
            if !(1..=MAX_LIST_LIMIT).contains(&limit) {
                return Err(ApiError::InvalidProperty(format!(
                    "Property 'limit' must be an integer from 1 to {MAX_LIST_LIMIT}"
                )));
            }
            let events =
                crate::callbacks::list(store, account, props.int("session_id"), limit, now).await?;
            Value::Array(events.iter().map(crate::callbacks::event_json).collect())
        }
        _ => return Err(ApiError::MethodNotFound(name)),
    };
    Ok(Json(result).into_response())
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or(ApiError::Unauthorized(
            "API requests need HTTP Basic authentication: the public key as user name, the secret as password",
        ))?;
    let (public_key, secret) = auth::parse_basic(header).ok_or(ApiError::Unauthorized(
        "The Authorization header must be HTTP Basic: base64(public key + ':' + secret)",
    ))?;
    let caller = auth::authenticate(&state.store, &public_key, &secret)
        .await?
        .ok_or(ApiError::Unauthorized("Invalid or revoked API credentials"))?;
    // "Last used" on the dashboard; a failure to note it does not fail the request.
    if let Err(e) = state
        .store
        .touch_credential(caller.credential_id, state.clock.now())
        .await
    {
        tracing::warn!(error = %e, "cannot note the credential's last use");
    }
    Ok(caller)
}

pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))
}

fn list_filter(props: &Props) -> Result<SessionFilter, ApiError> {
    let limit = props.int("limit").unwrap_or(DEFAULT_LIST_LIMIT);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidProperty(format!(
            "Property 'limit' must be an integer from 1 to {MAX_LIST_LIMIT}"
        )));
    }
    Ok(SessionFilter {
        state: props.str("state").and_then(SessionState::parse),
        reference: props.str("reference").map(str::to_owned),
        created_after: props.timestamp("created_after"),
        created_before: props.timestamp("created_before"),
        after_id: props.int("after_id"),
        limit,
    })
}

/// A session as the API shows it: flat, the fields of [`spec::SESSION_FIELDS`] in order.
pub fn session_json(s: &SessionRow) -> Value {
    let bytes = |b: &Option<Vec<u8>>| b.as_ref().map(|b| STANDARD.encode(b));
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("id", json!(s.id));
    put("created", json!(format_timestamp(s.created)));
    put("expires", json!(format_timestamp(s.expires)));
    put("state", json!(s.state.as_str()));
    put("state_reason", json!(s.state_reason));
    put("reference", json!(s.reference));
    put("callback_url", json!(s.callback_url));
    put("face_verification", json!(s.face_verification));
    put("passport_only", json!(s.passport_only));
    put("user_ip", json!(s.user_ip));
    put("user_agent", json!(s.user_agent));
    put("given_names", json!(s.given_names));
    put("surname", json!(s.surname));
    put("nationality", json!(s.nationality));
    put("sex", json!(s.sex.map(|x| x.as_str())));
    put("date_of_birth", json!(s.date_of_birth));
    put("personal_number", json!(s.personal_number));
    put("document_type", json!(s.document_type.map(|x| x.as_str())));
    put("document_number", json!(s.document_number));
    put("expiry_date", json!(s.expiry_date));
    put("issuing_country", json!(s.issuing_country));
    put("issuer", json!(s.issuer));
    put("portrait", json!(bytes(&s.portrait)));
    put("face", json!(bytes(&s.face)));
    let flow = &s.holder_flow;
    put("passive_authentication", json!(flow.passive_authentication));
    put("active_authentication", json!(flow.active_authentication));
    put("chip_authentication", json!(flow.chip_authentication));
    put("clone_check", json!(flow.clone_check));
    put("face_match", json!(flow.face_match));
    put("face_match_score", json!(flow.face_match_score));
    put("rejection_reason", json!(flow.rejection_reason));
    put("document_signer", json!(flow.document_signer));
    put("verified", json!(flow.verified.map(format_timestamp)));
    put(
        "personal_data_erased",
        json!(flow.personal_data_erased.map(format_timestamp)),
    );
    Value::Object(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sessions::model::{DocumentType, Sex};

    #[test]
    fn session_json_has_exactly_the_documented_fields() {
        let row = SessionRow {
            id: 1,
            account_id: 2,
            state: SessionState::Completed,
            state_reason: None,
            reference: Some("r".into()),
            callback_url: None,
            face_verification: true,
            passport_only: false,
            created: 0,
            expires: 3600,
            user_ip: None,
            user_agent: None,
            given_names: Some("ANNA".into()),
            surname: None,
            nationality: Some("NL".into()),
            sex: Some(Sex::Female),
            date_of_birth: Some("1990-01-01".into()),
            personal_number: None,
            document_type: Some(DocumentType::Passport),
            document_number: None,
            expiry_date: None,
            issuing_country: None,
            issuer: None,
            portrait: Some(vec![1, 2, 3]),
            face: None,
            holder_flow: Default::default(),
        };
        let v = session_json(&row);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let documented: Vec<&str> = spec::SESSION_FIELDS.iter().map(|f| f.name).collect();
        let (mut a, mut b) = (keys.clone(), documented.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        assert_eq!(v["created"], "1970-01-01T00:00:00Z");
        assert_eq!(v["sex"], "FEMALE");
        assert_eq!(v["portrait"], "AQID");
        assert!(
            v.as_object()
                .unwrap()
                .values()
                .all(|x| !x.is_object() && !x.is_array())
        );
    }
}
