//! The holder's web pages: `GET /open?token=…[&redirect_url=…]`, the link integrators send their
//! users to, with the live state it follows (`GET /open/state?token=…`) and its static script and
//! style. Server-rendered HTML; the script only polls.

pub mod html;
pub mod page;
pub mod qr;

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::{AppState, PageSettings};
use crate::store::SessionRow;
use crate::store::StoreError;
use page::{HolderPage, Redirect};

/// No inline script or style, nothing from elsewhere; the page may not be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Session tokens are 43 characters; anything much longer is not worth a database look-up.
const MAX_TOKEN_LEN: usize = 128;

const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// `public_url` if set, else this request's `Host` (or the listen address) with the scheme
/// this server speaks.
fn base_url(settings: &PageSettings, headers: &HeaderMap) -> String {
    if let Some(u) = &settings.public_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_plausible_host(h))
        .unwrap_or(&settings.listen);
    format!("{}://{host}", settings.scheme)
}

/// A `Host` header fit to be shown and linked to: a name or address and a port, nothing else.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open", get(open_page))
        .route("/open/state", get(open_state))
        .route("/open/app.js", get(app_js))
        .route("/open/app.css", get(app_css))
}

/// `token` and `redirect_url` from the query; never a rejection, whatever the query holds.
fn query_params(query: Option<&str>) -> (Option<String>, Option<String>) {
    let (mut token, mut redirect) = (None, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "token" if token.is_none() => token = Some(v.into_owned()),
            "redirect_url" if redirect.is_none() => redirect = Some(v.into_owned()),
            _ => {}
        }
    }
    (token, redirect)
}

async fn session_for(
    state: &AppState,
    token: Option<&str>,
) -> Result<Option<SessionRow>, StoreError> {
    let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN) else {
        return Ok(None);
    };
    state
        .store
        .session_by_token_hash(
            &crate::support::digest::sha256(token.as_bytes()),
            state.clock.now(),
        )
        .await
}

/// Headers of everything under /open that carries the token or session state.
fn private_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    private_headers(headers);
    response
}

async fn open_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (token, redirect) = query_params(query.as_deref());
    let redirect = Redirect::parse(redirect.as_deref());
    let session = match session_for(&state, token.as_deref()).await {
        Ok(Some(s)) => s,
        Ok(None) => return html(StatusCode::NOT_FOUND, page::not_found_page()),
        Err(e) => {
            tracing::error!(error = %e, "storage failure on the holder's page");
            return html(StatusCode::INTERNAL_SERVER_ERROR, page::error_page());
        }
    };
    let text = page::describe(session.state, session.state_reason);
    if page::ends_flow(session.state) {
        return html(
            StatusCode::GONE,
            page::ended_page(text, session.state, &redirect),
        );
    }
    let base_url = base_url(&state.web, &headers);
    html(
        StatusCode::OK,
        page::holder_page(&HolderPage {
            state: session.state,
            text,
            face_verification: session.face_verification,
            passport_only: session.passport_only,
            token: token.as_deref().unwrap_or_default(),
            base_url: &base_url,
            redirect: &redirect,
        }),
    )
}

/// `{"state", "finished", "title", "message", "progress"}`: what the page shows, and no
/// personal data.
async fn open_state(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let (token, _) = query_params(query.as_deref());
    let (status, body) = match session_for(&state, token.as_deref()).await {
        Ok(Some(s)) => {
            let text = page::describe(s.state, s.state_reason);
            (
                StatusCode::OK,
                json!({
                    "state": s.state.as_str(),
                    "finished": page::ends_flow(s.state),
                    "title": text.title,
                    "message": text.message,
                    // A relay's progress, when the read runs on this server instance.
                    "progress": if page::ends_flow(s.state) { None } else { state.relays.progress(s.id) },
                }),
            )
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            json!({ "error_name": "SessionNotFound", "error_message": "No session found with this token" }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "storage failure on the holder's state");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error_name": "InternalError", "error_message": "Internal error" }),
            )
        }
    };
    let mut response = (status, Json(body)).into_response();
    private_headers(response.headers_mut());
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated on each use, so a new version of the server never runs an old script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::config::{PublicUrl, Settings};

    #[test]
    fn public_url_must_be_an_absolute_http_base() {
        assert_eq!(
            PublicUrl::parse("https://id.example/").unwrap().as_str(),
            "https://id.example"
        );
        assert_eq!(
            PublicUrl::parse("https://id.example/pr/").unwrap().as_str(),
            "https://id.example/pr"
        );
        for bad in [
            "id.example",
            "ftp://id.example",
            "https://id.example/?a=b",
            "/x",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_url_from_setting_then_host_then_listen() {
        let mut settings = Settings::default();
        let mut headers = HeaderMap::new();
        assert_eq!(
            base_url(&PageSettings::new(&settings), &headers),
            "http://127.0.0.1:4000"
        );
        headers.insert(header::HOST, HeaderValue::from_static("id.example:8443"));
        assert_eq!(
            base_url(&PageSettings::new(&settings), &headers),
            "http://id.example:8443"
        );
        headers.insert(header::HOST, HeaderValue::from_static("a\"b"));
        assert_eq!(
            base_url(&PageSettings::new(&settings), &headers),
            "http://127.0.0.1:4000"
        );
        settings.public_url = Some(PublicUrl::parse("https://id.example/").unwrap());
        assert_eq!(
            base_url(&PageSettings::new(&settings), &headers),
            "https://id.example"
        );
    }

    #[test]
    fn query_takes_the_first_of_each_and_never_fails() {
        assert_eq!(
            query_params(Some("token=a%2Bb&redirect_url=https%3A%2F%2Fx&token=c")),
            (Some("a+b".into()), Some("https://x".into()))
        );
        assert_eq!(
            query_params(Some("%zz&=&token")),
            (Some(String::new()), None)
        );
        assert_eq!(query_params(None), (None, None));
    }
}
