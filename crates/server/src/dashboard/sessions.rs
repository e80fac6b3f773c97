//! The sessions tab: the list (filters and pages as `session.list`), one session's page with
//! its state history, identity, images, checks and callbacks, and abort / delete.

use askama::Template;
use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::signin::CsrfForm;
use super::{
    Nav, Signed, internal_error, message, not_found, private_headers, redirect, render,
    require_sign_in, show_opt_time, show_time,
};
use crate::model::{CheckResult, CloneCheck, FaceMatch, State as SessionState};
use crate::sessions::{self, SessionError};
use crate::state::AppState;
use crate::store::{SessionFilter, SessionRow};

pub const PAGE_SIZE: i64 = 25;

pub struct SessionLine {
    pub id: i64,
    pub state: &'static str,
    pub reference: String,
    pub created: String,
    pub name: String,
}

/// The filter as typed into the form, echoed back.
#[derive(Default)]
pub struct FilterForm {
    pub state: String,
    pub created_after: String,
    pub created_before: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "dashboard/sessions.html")]
struct ListPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    /// (state, selected)
    states: Vec<(&'static str, bool)>,
    filter: FilterForm,
    sessions: Vec<SessionLine>,
    next_page: Option<String>,
}

pub struct SessionView {
    pub id: i64,
    pub state: &'static str,
    pub state_reason: String,
    pub rejection_reason: String,
    pub has_portrait: bool,
    pub has_face: bool,
    pub erased: String,
    pub document_signer: String,
    pub face_score: String,
    pub verified: String,
    pub reference: String,
    pub callback_url: String,
    pub expires: String,
    pub user_ip: String,
    pub user_agent: String,
    pub can_abort: bool,
}

pub struct HistoryLine {
    pub state: String,
    pub state_reason: Option<String>,
    pub at: String,
}

pub struct CallbackLine {
    pub id: i64,
    pub state: String,
    pub created: String,
    pub attempts: i32,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "dashboard/session.html")]
struct DetailPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    s: SessionView,
    identity: Vec<(&'static str, String)>,
    /// (check, result, css class)
    checks: Vec<(&'static str, String, &'static str)>,
    history: Vec<HistoryLine>,
    callbacks: Vec<CallbackLine>,
}

#[derive(Template)]
#[template(path = "dashboard/confirm.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    title: String,
    message: String,
    action: String,
    button: &'static str,
    back: String,
}

/// `YYYY-MM-DD` as the Unix time of that day's start (UTC).
fn parse_day(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

fn parse_filter(query: Option<&str>) -> (FilterForm, SessionFilter) {
    let mut form = FilterForm::default();
    let mut after_id = None;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let v = v.chars().take(200).collect::<String>();
        match &*k {
            "state" => form.state = v,
            "created_after" => form.created_after = v,
            "created_before" => form.created_before = v,
            "reference" => form.reference = v,
            "after_id" => after_id = v.parse::<i64>().ok(),
            _ => {}
        }
    }
    let state = SessionState::parse(&form.state);
    if state.is_none() {
        form.state.clear();
    }
    let filter = SessionFilter {
        state,
        reference: Some(form.reference.trim().to_owned()).filter(|r| !r.is_empty()),
        // The days are inclusive: after the start of the first, before the end of the last.
        created_after: parse_day(&form.created_after).map(|t| t - 1),
        created_before: parse_day(&form.created_before).map(|t| t + 86400),
        after_id,
        limit: PAGE_SIZE,
    };
    (form, filter)
}

fn full_name(s: &SessionRow) -> String {
    [s.given_names.as_deref(), s.surname.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (form, filter) = parse_filter(query.as_deref());
    let now = state.clock.now();
    let (rows, error) = match sessions::list(&state.store, signed.account_id, &filter, now).await {
        Ok(rows) => (rows, None),
        Err(SessionError::NotFound(_)) => (
            Vec::new(),
            Some("That page no longer exists; start from the first.".to_owned()),
        ),
        Err(e) => return internal_error("listing sessions", &e),
    };
    let next_page = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|last| last.id))
        .flatten()
        .map(|last_id| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("state", &form.state),
                ("created_after", &form.created_after),
                ("created_before", &form.created_before),
                ("reference", &form.reference),
            ] {
                if !v.is_empty() {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("after_id", &last_id.to_string());
            format!("/dashboard/sessions?{}", q.finish())
        });
    render(
        StatusCode::OK,
        &ListPage {
            nav: signed.nav("sessions"),
            notice: None,
            error,
            states: SessionState::ALL
                .iter()
                .map(|s| (s.as_str(), s.as_str() == form.state))
                .collect(),
            filter: form,
            sessions: rows
                .iter()
                .map(|s| SessionLine {
                    id: s.id,
                    state: s.state.as_str(),
                    reference: s.reference.clone().unwrap_or_default(),
                    created: show_time(s.created),
                    name: full_name(s),
                })
                .collect(),
            next_page,
        },
    )
}

async fn own_session(state: &AppState, signed: &Signed, id: &str) -> Result<SessionRow, Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found(signed.nav("sessions")));
    };
    match sessions::get(&state.store, signed.account_id, id, state.clock.now()).await {
        Ok(s) => Ok(s),
        Err(SessionError::NotFound(_)) => Err(not_found(signed.nav("sessions"))),
        Err(e) => Err(internal_error("reading a session", &e)),
    }
}

fn result_class(value: Option<&str>) -> &'static str {
    match value {
        Some("PASSED" | "PROVEN") => "passed",
        Some("FAILED") => "failed",
        Some(_) => "other",
        None => "none",
    }
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    s: SessionRow,
    notice: Option<String>,
) -> Response {
    let mut history: Vec<HistoryLine> = match state.store.session_state_changes(s.id).await {
        Ok(h) => h
            .into_iter()
            .map(|c| HistoryLine {
                state: c.state,
                state_reason: c.state_reason,
                at: show_time(c.at),
            })
            .collect(),
        Err(e) => return internal_error("reading a session's history", &e),
    };
    // A session from before the history was kept (migration 3) has only its creation: its
    // present state is known, not when it was entered.
    if history
        .last()
        .is_none_or(|last| last.state != s.state.as_str())
    {
        history.push(HistoryLine {
            state: s.state.as_str().to_owned(),
            state_reason: s.state_reason.map(|r| r.as_str().to_owned()),
            at: String::from("(time not recorded)"),
        });
    }
    let events = match crate::callbacks::list(
        &state.store,
        signed.account_id,
        Some(s.id),
        100,
        state.clock.now(),
    )
    .await
    {
        Ok(list) => list,
        Err(e) => return internal_error("listing callbacks", &e),
    };
    let callbacks = events.iter().map(callback_line).collect();
    let (identity, checks, view) = (identity_lines(&s), check_lines(&s), session_view(&s));
    render(
        StatusCode::OK,
        &DetailPage {
            nav: signed.nav("sessions"),
            notice,
            error: None,
            csrf: signed.csrf.clone(),
            s: view,
            identity,
            checks,
            history,
            callbacks,
        },
    )
}

/// How a callback delivery went, in words.
fn callback_line(e: &crate::store::CallbackEvent) -> CallbackLine {
    CallbackLine {
        id: e.id,
        state: e.session_state.clone(),
        created: show_time(e.created),
        attempts: e.attempts,
        outcome: if let Some(t) = e.delivered {
            format!("Delivered {}", show_time(t))
        } else if let Some(t) = e.abandoned {
            format!(
                "Abandoned {}{}",
                show_time(t),
                e.last_error
                    .as_deref()
                    .map(|x| format!(": {x}"))
                    .unwrap_or_default()
            )
        } else if e.attempts == 0 {
            "Pending".to_owned()
        } else {
            format!(
                "Retrying{}",
                match (e.last_status, e.last_error.as_deref()) {
                    (Some(status), _) => format!(" (last answer HTTP {status})"),
                    (None, Some(err)) => format!(" ({err})"),
                    _ => String::new(),
                }
            )
        },
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The identity fields, labelled.
fn identity_lines(s: &SessionRow) -> Vec<(&'static str, String)> {
    vec![
        ("Given names", opt(&s.given_names)),
        ("Surname", opt(&s.surname)),
        ("Nationality", opt(&s.nationality)),
        (
            "Sex",
            s.sex.map(|x| x.as_str().to_owned()).unwrap_or_default(),
        ),
        ("Date of birth", opt(&s.date_of_birth)),
        ("Personal number", opt(&s.personal_number)),
        (
            "Document type",
            s.document_type
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default(),
        ),
        ("Document number", opt(&s.document_number)),
        ("Expiry date", opt(&s.expiry_date)),
        ("Issuing country", opt(&s.issuing_country)),
        ("Issuer", opt(&s.issuer)),
    ]
}

/// Each check with its result and the style of that result.
fn check_lines(s: &SessionRow) -> Vec<(&'static str, String, &'static str)> {
    let flow = &s.holder_flow;
    let check = |name: &'static str, v: Option<&'static str>| {
        (
            name,
            v.map_or_else(|| "not done".to_owned(), str::to_owned),
            result_class(v),
        )
    };
    let mut checks = vec![
        check(
            "Passive authentication",
            flow.passive_authentication.map(CheckResult::as_str),
        ),
        check(
            "Active authentication",
            flow.active_authentication.map(CheckResult::as_str),
        ),
        check(
            "Chip authentication",
            flow.chip_authentication.map(CheckResult::as_str),
        ),
        check("Clone check", flow.clone_check.map(CloneCheck::as_str)),
    ];
    if s.face_verification {
        checks.push(check("Face match", flow.face_match.map(FaceMatch::as_str)));
    }
    checks
}

fn session_view(s: &SessionRow) -> SessionView {
    let flow = &s.holder_flow;
    SessionView {
        id: s.id,
        state: s.state.as_str(),
        state_reason: s
            .state_reason
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        rejection_reason: flow
            .rejection_reason
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        has_portrait: s.portrait.is_some(),
        has_face: s.face.is_some(),
        erased: show_opt_time(flow.personal_data_erased),
        document_signer: opt(&flow.document_signer),
        face_score: flow
            .face_match_score
            .map(crate::model::format_face_score)
            .unwrap_or_default(),
        verified: show_opt_time(flow.verified),
        reference: opt(&s.reference),
        callback_url: opt(&s.callback_url),
        expires: show_time(s.expires),
        user_ip: opt(&s.user_ip),
        user_agent: opt(&s.user_agent),
        can_abort: !s.state.is_finished(),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let notice = (query.as_deref() == Some("resent"))
        .then(|| "The callback was queued to be sent again.".to_owned());
    match own_session(&state, &signed, &id).await {
        Ok(s) => detail_page(&state, &signed, s, notice).await,
        Err(r) => r,
    }
}

/// An image from the database, for the signed-in account's own session only.
fn image_response(bytes: Vec<u8>) -> Response {
    let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else {
        "application/octet-stream"
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    private_headers(headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    response
}

async fn image(state: AppState, headers: HeaderMap, id: String, portrait: bool) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        // An image request gets a status, not a sign-in page.
        Err(_) => {
            let mut r = (StatusCode::UNAUTHORIZED, "Sign in first").into_response();
            private_headers(r.headers_mut());
            return r;
        }
    };
    let s = match own_session(&state, &signed, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let bytes = if portrait { s.portrait } else { s.face };
    match bytes {
        Some(bytes) => image_response(bytes),
        None => not_found(signed.nav("sessions")),
    }
}

pub async fn portrait(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    image(state, headers, id, true).await
}

pub async fn face(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    image(state, headers, id, false).await
}

fn confirm_page(signed: &Signed, s: &SessionRow, delete: bool) -> Response {
    let (title, text, button, action) = if delete {
        (
            format!("Delete session {}?", s.id),
            "The session and every piece of personal data it holds (names, document details, \
             portrait, selfie) are erased for good. This cannot be undone.",
            "Delete and erase",
            "delete",
        )
    } else {
        (
            format!("Abort session {}?", s.id),
            "The holder can no longer finish this check; the session ends as ABORTED.",
            "Abort the session",
            "abort",
        )
    };
    render(
        StatusCode::OK,
        &ConfirmPage {
            nav: signed.nav("sessions"),
            notice: None,
            error: None,
            csrf: signed.csrf.clone(),
            title,
            message: text.to_owned(),
            action: format!("/dashboard/sessions/{}/{action}", s.id),
            button,
            back: format!("/dashboard/sessions/{}", s.id),
        },
    )
}

pub async fn abort_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match own_session(&state, &signed, &id).await {
        Ok(s) => confirm_page(&signed, &s, false),
        Err(r) => r,
    }
}

pub async fn delete_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match own_session(&state, &signed, &id).await {
        Ok(s) => confirm_page(&signed, &s, true),
        Err(r) => r,
    }
}

pub async fn abort(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let s = match own_session(&state, &signed, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match sessions::abort(&state.store, signed.account_id, s.id, state.clock.now()).await {
        Ok(s) => {
            detail_page(
                &state,
                &signed,
                s,
                Some("The session was aborted.".to_owned()),
            )
            .await
        }
        Err(SessionError::Finished(_)) => message(
            StatusCode::CONFLICT,
            signed.nav("sessions"),
            "Already finished",
            "This session is finished and can no longer be aborted.",
            &format!("/dashboard/sessions/{}", s.id),
        ),
        Err(SessionError::NotFound(_)) => not_found(signed.nav("sessions")),
        Err(e) => internal_error("aborting a session", &e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let s = match own_session(&state, &signed, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match sessions::delete(&state.store, signed.account_id, s.id).await {
        Ok(()) => message(
            StatusCode::OK,
            signed.nav("sessions"),
            "Session deleted",
            &format!("Session {} and its personal data were erased.", s.id),
            "/dashboard/sessions",
        ),
        Err(SessionError::NotFound(_)) => not_found(signed.nav("sessions")),
        Err(e) => internal_error("deleting a session", &e),
    }
}

pub async fn resend_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, event)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let s = match own_session(&state, &signed, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(event) = event.parse::<i64>() else {
        return not_found(signed.nav("sessions"));
    };
    match state
        .store
        // The event must be this session's (and so this account's): the statement checks both.
        .resend_callback(signed.account_id, s.id, event, state.clock.now())
        .await
    {
        Ok(Some(_)) => redirect(&format!("/dashboard/sessions/{}?resent", s.id)),
        Ok(None) => not_found(signed.nav("sessions")),
        Err(e) => internal_error("queueing a callback again", &e),
    }
}
