//! The integrator's web dashboard under `/dashboard`: sign-in (email and password, optional
//! TOTP), the settings tab (API credentials, webhook secret, two-factor), sessions with their
//! images, checks and callbacks, and the trust store.
//!
//! Server-rendered with askama templates (`templates/dashboard/`), same store layer as the API
//! and the CLI. Sign-ins live in the database (`dashboard_sessions`): the cookie holds a
//! 256-bit token from the operating system's RNG and only its SHA-256 is stored. Every
//! state-changing form carries the sign-in's CSRF token. The pages load one script and one
//! style sheet from this server and carry no inline code, so the CSP forbids it.

// A handler's early exit is the page to answer with: `Result<_, Response>` throughout.
#![allow(clippy::result_large_err)]

pub mod password;
mod sessions;
mod settings;
mod signin;
pub mod totp;
mod trust;

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;

use crate::state::{AppState, DashboardConfig};
use crate::support::digest::sha256;

/// As the holder's page, but the dashboard's forms post to itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The sign-in cookie.
pub const COOKIE: &str = "pr_dashboard";
/// The sign-in form's anti-CSRF cookie (double submit), before there is a sign-in.
pub const SIGN_IN_COOKIE: &str = "pr_dashboard_signin";
/// A sign-in ends after this long whatever happens…
pub const SIGN_IN_LIFETIME_SECONDS: i64 = 8 * 3600;
/// …or after this long without a request.
pub const IDLE_SECONDS: i64 = 3600;

const DASHBOARD_JS: &str = include_str!("dashboard.js");
const DASHBOARD_CSS: &str = include_str!("dashboard.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(signin::home))
        .route("/dashboard/", get(signin::home))
        .route("/dashboard/assets/dashboard.js", get(dashboard_js))
        .route("/dashboard/assets/dashboard.css", get(dashboard_css))
        .route(
            "/dashboard/sign-in",
            get(signin::sign_in_page).post(signin::sign_in),
        )
        .route(
            "/dashboard/sign-in/two-factor",
            get(signin::second_factor_page).post(signin::second_factor),
        )
        .route("/dashboard/sign-out", post(signin::sign_out))
        .route("/dashboard/settings", get(settings::page))
        .route(
            "/dashboard/settings/credentials",
            post(settings::create_credentials),
        )
        .route(
            "/dashboard/settings/credentials/revoke",
            post(settings::revoke_credentials),
        )
        .route(
            "/dashboard/settings/webhook-secret/rotate",
            post(settings::rotate_webhook_secret),
        )
        .route(
            "/dashboard/settings/sign-out-everywhere",
            post(settings::sign_out_everywhere),
        )
        .route(
            "/dashboard/settings/two-factor",
            get(settings::two_factor_page).post(settings::enable_two_factor),
        )
        .route(
            "/dashboard/settings/two-factor/disable",
            post(settings::disable_two_factor),
        )
        .route("/dashboard/sessions", get(sessions::list))
        .route("/dashboard/sessions/{id}", get(sessions::detail))
        .route("/dashboard/sessions/{id}/portrait", get(sessions::portrait))
        .route("/dashboard/sessions/{id}/face", get(sessions::face))
        .route(
            "/dashboard/sessions/{id}/abort",
            get(sessions::abort_confirm).post(sessions::abort),
        )
        .route(
            "/dashboard/sessions/{id}/delete",
            get(sessions::delete_confirm).post(sessions::delete),
        )
        .route(
            "/dashboard/sessions/{id}/callbacks/{event}/resend",
            post(sessions::resend_callback),
        )
        .route(
            "/dashboard/trust",
            get(trust::page)
                .post(trust::import)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
}

/// The navigation bar of a signed-in page.
pub struct Nav {
    pub email: String,
    pub csrf: String,
    pub tab: &'static str,
}

/// A complete sign-in, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Signed {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub csrf: String,
}

impl Signed {
    pub fn nav(&self, tab: &'static str) -> Option<Nav> {
        Some(Nav {
            email: self.email.clone(),
            csrf: self.csrf.clone(),
            tab,
        })
    }

    /// Refuses a form without this sign-in's CSRF token.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), Response> {
        if tokens_equal(&self.csrf, presented.unwrap_or_default()) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

pub fn tokens_equal(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

pub fn csrf_refused() -> Response {
    message(
        StatusCode::FORBIDDEN,
        None,
        "Form refused",
        "This form was not sent from a current page of this dashboard (its security token is \
         missing or out of date). Go back, reload the page and try again.",
        "/dashboard",
    )
}

/// `bytes` bytes from the operating system's RNG, base64url.
pub fn os_random_token(bytes: usize) -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    // The OS RNG does not fail on supported systems; if it ever did, refuse to go on.
    #[allow(clippy::expect_used)]
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn os_random_bytes(bytes: usize) -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    #[allow(clippy::expect_used)]
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random number generator failed");
    buf
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for /dashboard only, Secure under TLS;
/// `max_age` 0 deletes it.
pub fn set_cookie(config: &DashboardConfig, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/dashboard; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The headers of every dashboard page.
pub fn private_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A rendered template as an HTML response.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            private_headers(headers);
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            let mut response =
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response();
            private_headers(response.headers_mut());
            response
        }
    }
}

/// 303 See Other to `to`.
pub fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    private_headers(response.headers_mut());
    response
}

#[derive(Template)]
#[template(path = "dashboard/message.html")]
struct MessagePage<'a> {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    title: &'a str,
    message: &'a str,
    back: &'a str,
}

/// A page that only says something (errors, not found).
pub fn message(
    status: StatusCode,
    nav: Option<Nav>,
    title: &str,
    text: &str,
    back: &str,
) -> Response {
    render(
        status,
        &MessagePage {
            nav,
            notice: None,
            error: None,
            title,
            message: text,
            back,
        },
    )
}

pub fn not_found(nav: Option<Nav>) -> Response {
    message(
        StatusCode::NOT_FOUND,
        nav,
        "Not found",
        "There is nothing here, or it is not yours.",
        "/dashboard/sessions",
    )
}

pub fn internal_error(context: &'static str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard: {context}");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Something went wrong",
        "The server could not do this. Try again; if it keeps failing, tell the server's operator.",
        "/dashboard",
    )
}

/// The client's address (honouring `trusted_proxies`), for the sign-in throttle.
pub fn client_address(
    state: &AppState,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = peer.map(|axum::Extension(ConnectInfo(addr))| addr.ip());
    crate::http::client::client_ip(peer, headers, &state.reader.trusted_proxies)
}

/// The current sign-in from the cookie: `Ok(None)` when there is none (or it ended).
/// `allow_pending` accepts a sign-in still waiting for its second factor.
pub async fn current_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    allow_pending: bool,
) -> Result<Option<(Signed, bool)>, Response> {
    let Some(token) = cookie(headers, COOKIE).filter(|t| !t.is_empty() && t.len() <= 128) else {
        return Ok(None);
    };
    let now = state.clock.now();
    let found = state
        .store
        .dashboard_session(&sha256(token.as_bytes()), now, now - IDLE_SECONDS)
        .await
        .map_err(|e| internal_error("reading the sign-in", &e))?;
    let Some((row, email)) = found else {
        return Ok(None);
    };
    if row.second_factor_pending && !allow_pending {
        return Ok(None);
    }
    if now - row.last_seen >= 60 {
        if let Err(e) = state.store.touch_dashboard_session(row.id, now).await {
            tracing::warn!(error = %e, "dashboard: cannot note the sign-in's use");
        }
    }
    Ok(Some((
        Signed {
            id: row.id,
            account_id: row.account_id,
            email,
            csrf: row.csrf_token,
        },
        row.second_factor_pending,
    )))
}

/// The complete sign-in, or a redirect to the sign-in page.
pub async fn require_sign_in(state: &AppState, headers: &HeaderMap) -> Result<Signed, Response> {
    match current_sign_in(state, headers, true).await? {
        Some((signed, false)) => Ok(signed),
        Some((_, true)) => Err(redirect("/dashboard/sign-in/two-factor")),
        None => Err(redirect("/dashboard/sign-in")),
    }
}

/// A Unix time as the dashboard shows it: `2026-12-04 17:45 UTC`.
pub fn show_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

pub fn show_opt_time(t: Option<i64>) -> String {
    t.map(show_time).unwrap_or_default()
}

/// A duration in words: `30 days`, `2 hours`, `90 seconds`.
pub fn show_duration(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if seconds >= 86400 && seconds % 86400 == 0 {
        plural(seconds / 86400, "day")
    } else if seconds >= 3600 && seconds % 3600 == 0 {
        plural(seconds / 3600, "hour")
    } else if seconds >= 60 && seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn dashboard_js() -> Response {
    asset("text/javascript; charset=utf-8", DASHBOARD_JS)
}

async fn dashboard_css() -> Response {
    asset("text/css; charset=utf-8", DASHBOARD_CSS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn cookies_are_read_from_every_header() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; pr_dashboard=tok"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn cookie_attributes_follow_the_transport() {
        let mut config = DashboardConfig::from_settings(&Settings::default());
        let plain = set_cookie(&config, COOKIE, "x", 60);
        assert_eq!(
            plain.to_str().unwrap(),
            "pr_dashboard=x; Path=/dashboard; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        let behind_proxy = Settings {
            public_url: Some(crate::config::PublicUrl::parse("https://id.example").unwrap()),
            ..Settings::default()
        };
        assert!(DashboardConfig::from_settings(&behind_proxy).secure_cookies);
        let tls = Settings {
            tls_cert: Some("cert.pem".into()),
            ..Settings::default()
        };
        assert!(DashboardConfig::from_settings(&tls).secure_cookies);
        config.secure_cookies = true;
        assert!(
            set_cookie(&config, COOKIE, "x", 60)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = os_random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, os_random_token(32));
        assert!(!tokens_equal("", ""));
        assert!(tokens_equal(&a, &a.clone()));
        assert!(!tokens_equal(&a, "x"));
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(show_duration(30 * 86400), "30 days");
        assert_eq!(show_duration(3600), "1 hour");
        assert_eq!(show_duration(90), "90 seconds");
        assert_eq!(show_time(0), "1970-01-01 00:00:00 UTC");
    }
}
