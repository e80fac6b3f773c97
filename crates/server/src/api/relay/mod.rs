//! The APDU relay (`GET /api/v1/reader.relay`, a WebSocket): the server runs the chip protocol
//! itself (access control, secure messaging, chip authentication, active authentication, the
//! reading) and the reading client only forwards APDUs between the server and the card. The
//! session keys never leave the server, so chip authentication is the server's own proof, and
//! the client sees only secure-messaging ciphertext after access control.
//!
//! The messages are `relay_protocol`'s; README "The APDU relay" is the contract for clients.
//! A read that fails (wrong access key, card removed, a client that misbehaves) stores nothing
//! and leaves the session waiting for another read; only a whole read is verified and ends the
//! session APPROVED or REJECTED.

pub mod transport;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use icao9303::lds::FileId;
use reader::{
    AccessKey as ChipKey, BlockSize, ChipAuthentication, ChipFiles, ReadError, ReadOptions,
};
use relay_protocol::{
    AccessKey, ClientMessage, Hello, Progress, ServerMessage, error_name, limits,
};
use tokio::sync::mpsc;

use crate::api::reader::{AA_CHALLENGE_LEN, selfie_jpeg, verify_and_finish};
use crate::http::client;
use crate::http::error::ApiError;
use crate::model::CheckResult;
use crate::state::AppState;
use crate::store::SessionRow;
use crate::support::digest::sha256;
use crate::verification::Submission;
use transport::{Incoming, RelayFailure, RelayTransport};

/// The holder's words for a progress message.
fn progress_text(p: &Progress) -> Option<String> {
    match (&p.file, p.read, p.total, &p.step) {
        (Some(file), Some(read), Some(total), _) => {
            Some(format!("Reading {file}: {read} of {total} bytes"))
        }
        (_, _, _, Some(step)) if step == "verifying" => Some("Checking the chip's data".into()),
        (_, _, _, Some(step)) => Some(format!("Chip: {step}")),
        _ => None,
    }
}

/// A relay's end: the error message sent to the client before the socket closes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RelayEnd {
    error_name: &'static str,
    message: String,
    retryable: bool,
}

impl RelayEnd {
    fn new(error_name: &'static str, message: impl Into<String>, retryable: bool) -> Self {
        RelayEnd {
            error_name,
            message: message.into(),
            retryable,
        }
    }

    fn to_message(&self) -> ServerMessage {
        ServerMessage::Error {
            error_name: self.error_name.to_owned(),
            error_message: self.message.clone(),
            retryable: self.retryable,
        }
    }
}

impl From<RelayFailure> for RelayEnd {
    fn from(f: RelayFailure) -> Self {
        RelayEnd::new(f.error_name, f.message, true)
    }
}

/// `GET /api/v1/reader.relay` (and `/api/reader.relay`): the WebSocket upgrade. A token in
/// `Authorization: Bearer` is checked before the upgrade (401 if unknown); without one, the
/// client's hello carries it.
pub async fn upgrade(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: HttpMethod,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if method != HttpMethod::GET {
        return relay_http_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "reader.relay is a WebSocket: GET with Upgrade: websocket (the other reader methods are POST)",
        );
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => {
            return relay_http_error(
                StatusCode::UPGRADE_REQUIRED,
                "reader.relay is a WebSocket: send GET with Connection: Upgrade, Upgrade: websocket and Sec-WebSocket-Version: 13",
            );
        }
    };
    let header_session = if headers.contains_key(axum::http::header::AUTHORIZATION) {
        match session_for(&state, crate::http::extract::bearer(&headers).ok()).await {
            Ok(session) => Some(session),
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    let peer = peer.map(|axum::Extension(info)| info.0.ip());
    let ip =
        client::client_ip(peer, &headers, &state.reader.trusted_proxies).map(|i| i.to_string());
    let agent = client::user_agent(&headers);
    ws.protocols([relay_protocol::SUBPROTOCOL])
        .max_message_size(limits::MAX_MESSAGE_BYTES)
        .max_frame_size(limits::MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            run(state, socket, header_session, ip, agent).await;
        })
}

fn relay_http_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "error_name": if status == StatusCode::METHOD_NOT_ALLOWED { "MethodNotAllowed" } else { "UpgradeRequired" },
        "error_message": message,
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("GET"),
        );
    } else {
        response.headers_mut().insert(
            axum::http::header::UPGRADE,
            axum::http::HeaderValue::from_static("websocket"),
        );
    }
    response
}

async fn session_for(state: &AppState, token: Option<&str>) -> Result<SessionRow, ApiError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::InvalidToken)?;
    state
        .store
        .session_by_token_hash(&sha256(token.as_bytes()), state.clock.now())
        .await?
        .ok_or(ApiError::InvalidToken)
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    socket
        .send(Message::Text(message.to_json().into()))
        .await
        .is_ok()
}

/// Ends the relay with `end`: the error message, then a normal close.
async fn finish_with(socket: &mut WebSocket, session: Option<i64>, end: &RelayEnd) {
    tracing::info!(
        session = session.unwrap_or(0),
        error = end.error_name,
        "relay ended without a verified read"
    );
    let _ = send(socket, &end.to_message()).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// The next text message, within `limit`; `None` when the client closed or went silent.
async fn next_text(socket: &mut WebSocket, limit: std::time::Duration) -> Result<String, RelayEnd> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.recv())
            .await
            .map_err(|_| {
                RelayEnd::new(
                    error_name::RELAY_TIMEOUT,
                    format!("no hello within {} s", limit.as_secs()),
                    true,
                )
            })?;
        match message {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(RelayEnd::new(
                    error_name::RELAY_PROTOCOL_ERROR,
                    "binary frames are not part of the protocol: send JSON text frames",
                    true,
                ));
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                return Err(RelayEnd::new(
                    error_name::CARD_REMOVED,
                    "the client closed the connection",
                    true,
                ));
            }
        }
    }
}

async fn run(
    state: AppState,
    mut socket: WebSocket,
    header_session: Option<SessionRow>,
    ip: Option<String>,
    agent: Option<String>,
) {
    let session_id = header_session.as_ref().map(|s| s.id);
    let prepared = match prepare(&state, &mut socket, header_session).await {
        Ok(p) => p,
        Err(end) => return finish_with(&mut socket, session_id, &end).await,
    };
    let session = prepared.session.clone();
    // The session's claim is held until the read is verified, and let go before the client
    // hears the outcome (so that a client that tries again at once is not refused).
    let outcome = match state.relays.claim(session.id) {
        None => Err(RelayEnd::new(
            error_name::RELAY_IN_USE,
            "another relay of this session is live: finish or close it first",
            true,
        )),
        Some(_live) => read_and_verify(&state, &mut socket, &prepared, ip, agent).await,
    };
    match outcome {
        Ok((final_state, rejection_reason)) => {
            let _ = send(
                &mut socket,
                &ServerMessage::Result {
                    session_id: session.id,
                    state: final_state.as_str().to_owned(),
                    rejection_reason: rejection_reason.map(|r| r.as_str().to_owned()),
                },
            )
            .await;
            let _ = socket.send(Message::Close(None)).await;
        }
        Err(end) => finish_with(&mut socket, Some(session.id), &end).await,
    }
}

/// The read over the relay, then its verification: the session's final state.
async fn read_and_verify(
    state: &AppState,
    socket: &mut WebSocket,
    prepared: &Prepared,
    ip: Option<String>,
    agent: Option<String>,
) -> Result<(crate::model::State, Option<crate::model::Reason>), RelayEnd> {
    let session = &prepared.session;
    let challenge: [u8; AA_CHALLENGE_LEN] = rand::random();
    let now = state.clock.now();
    match state
        .store
        .start_reading(session.id, &challenge, ip.as_deref(), agent.as_deref(), now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return Err(RelayEnd::new(
                error_name::SESSION_FINISHED,
                format!("session {} is finished or expired", session.id),
                false,
            ));
        }
        Err(error) => {
            tracing::error!(session = session.id, %error, "starting the relayed read failed");
            return Err(RelayEnd::new(
                error_name::INTERNAL_ERROR,
                "the server could not start the read",
                true,
            ));
        }
    }
    tracing::info!(session = session.id, "relayed read started");
    let files = relay_read(state, socket, prepared, challenge).await?;
    let verifying = Progress {
        step: Some("verifying".into()),
        file: None,
        read: None,
        total: None,
    };
    if let Some(text) = progress_text(&verifying) {
        state.relays.report(session.id, text);
    }
    let _ = send(socket, &ServerMessage::Progress(verifying)).await;
    let submission = submission_from(&files, &prepared.key, prepared.selfie.clone());
    verify_and_finish(
        state,
        session,
        submission,
        Some(challenge.to_vec()),
        ip.as_deref(),
        agent.as_deref(),
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        ApiError::SessionFinished(_) => RelayEnd::new(
            error_name::SESSION_FINISHED,
            "another read of this session started or finished while this one ran",
            false,
        ),
        _ => RelayEnd::new(
            error_name::INTERNAL_ERROR,
            "the server could not store the verification",
            false,
        ),
    })
}

/// What the hello gave: the session, the key, the selfie, the reader's abilities.
struct Prepared {
    session: SessionRow,
    key: AccessKey,
    chip_key: ChipKey,
    selfie: Option<Vec<u8>>,
    hello: Hello,
}

async fn prepare(
    state: &AppState,
    socket: &mut WebSocket,
    header_session: Option<SessionRow>,
) -> Result<Prepared, RelayEnd> {
    let text = next_text(socket, limits::HELLO_TIMEOUT).await?;
    let hello = match ClientMessage::parse(&text) {
        Ok(ClientMessage::Hello(hello)) => hello,
        Ok(_) => {
            return Err(RelayEnd::new(
                error_name::RELAY_PROTOCOL_ERROR,
                "the first message must be the hello",
                true,
            ));
        }
        Err(e) => {
            return Err(RelayEnd::new(
                error_name::RELAY_PROTOCOL_ERROR,
                format!("the hello is not valid: {e}"),
                true,
            ));
        }
    };
    let session = match header_session {
        Some(s) => s,
        None => session_for(state, hello.token.as_deref()).await.map_err(|e| match e {
            ApiError::InvalidToken => RelayEnd::new(
                error_name::INVALID_TOKEN,
                "the session token is missing or unknown: send it in Authorization: Bearer or the hello's token",
                false,
            ),
            _ => RelayEnd::new(error_name::INTERNAL_ERROR, "the server could not look up the session", true),
        })?,
    };
    if session.state.is_finished() {
        return Err(RelayEnd::new(
            error_name::SESSION_FINISHED,
            format!(
                "session {} is {}: its token is spent",
                session.id,
                session.state.as_str()
            ),
            false,
        ));
    }
    let invalid = |m: String| RelayEnd::new(error_name::INVALID_PROPERTY, m, true);
    let chip_key = match &hello.access_key {
        AccessKey::Mrz(m) => ChipKey::from_mrz_fields(
            m.document_number.trim_end_matches('<'),
            &m.date_of_birth,
            &m.date_of_expiry,
        ),
        AccessKey::Can(c) => ChipKey::can(&c.can),
    }
    .map_err(|e| invalid(format!("access_key: {e}")))?;
    let selfie = match (&hello.selfie, session.face_verification) {
        (Some(text), true) => {
            let bytes = STANDARD.decode(text.trim()).map_err(|_| {
                invalid(
                    "selfie must be a JPEG or PNG image in base64 (standard alphabet, padded)"
                        .into(),
                )
            })?;
            if bytes.len() > 4 * 1024 * 1024 {
                return Err(invalid(
                    "selfie is larger than the limit of 4194304 bytes".into(),
                ));
            }
            Some(selfie_jpeg(&bytes).map_err(|e| invalid(e.to_string()))?)
        }
        (None, true) => {
            return Err(invalid(
                "this session verifies the holder's face: the hello needs a selfie".into(),
            ));
        }
        (_, false) => None,
    };
    Ok(Prepared {
        session,
        key: hello.access_key.clone(),
        chip_key,
        selfie,
        hello,
    })
}

/// Runs the terminal over the relay until the read is over; pumps the socket meanwhile.
async fn relay_read(
    state: &AppState,
    socket: &mut WebSocket,
    prepared: &Prepared,
    challenge: [u8; AA_CHALLENGE_LEN],
) -> Result<ChipFiles, RelayEnd> {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<ServerMessage>();
    let (in_tx, in_rx) = std::sync::mpsc::channel::<Incoming>();
    let limits = state.relay_limits;
    let capabilities = prepared.hello.reader;
    let key = prepared.chip_key.clone();
    let progress_tx = out_tx.clone();
    let relays = Arc::clone(&state.relays);
    let session_id = prepared.session.id;
    let mut reading = tokio::task::spawn_blocking(move || {
        let mut transport = RelayTransport::new(out_tx, in_rx, limits, capabilities.reset);
        let options = ReadOptions {
            block_size: block_size(capabilities),
            pace: true,
            chip_authentication: true,
            active_authentication_challenge: Some(challenge),
        };
        let result = reader::read_document(&mut transport, &key, &options, &mut |p| {
            let message = progress_message(p);
            if let Some(text) = progress_text(&message) {
                relays.report(session_id, text);
            }
            let _ = progress_tx.send(ServerMessage::Progress(message));
        });
        (result, transport.failure().cloned(), transport.apdus())
    });
    let session = prepared.session.id;
    let joined = loop {
        tokio::select! {
            biased;
            // (Once the terminal is done and its senders dropped, this branch is disabled.)
            Some(message) = out_rx.recv() => {
                if !send(socket, &message).await {
                    let _ = in_tx.send(Incoming::Closed);
                }
            }
            incoming = socket.recv() => {
                let passed = match incoming {
                    Some(Ok(Message::Text(text))) => match ClientMessage::parse(&text) {
                        Ok(m) => Incoming::Message(m),
                        Err(e) => Incoming::Garbage(e),
                    },
                    Some(Ok(Message::Binary(_))) => Incoming::Garbage("a binary frame".into()),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => Incoming::Closed,
                };
                let closed = matches!(passed, Incoming::Closed);
                let _ = in_tx.send(passed);
                if closed {
                    // Nothing more will come: let the terminal fail and wait for it.
                    break (&mut reading).await;
                }
            }
            done = &mut reading => break done,
        }
    };
    // Progress sent before the end still goes out, in order.
    while let Ok(message) = out_rx.try_recv() {
        if matches!(message, ServerMessage::Progress(_)) {
            let _ = send(socket, &message).await;
        }
    }
    let (result, failure, apdus) = joined.map_err(|e| {
        tracing::error!(session, error = %e, "the relayed read's task failed");
        RelayEnd::new(error_name::INTERNAL_ERROR, "the server's read failed", true)
    })?;
    tracing::info!(session, apdus, ok = result.is_ok(), "relayed read ended");
    if let Some(failure) = failure {
        return Err(failure.into());
    }
    result.map_err(read_error_end)
}

/// The READ BINARY size the client's reader can carry: short commands without extended
/// length; with it, what fits the reader's largest response under secure messaging (the data
/// object headers, padding, DO'99', DO'8E' and the status word take at most 40 bytes).
fn block_size(reader: relay_protocol::ReaderCapabilities) -> BlockSize {
    const SHORT: usize = 223;
    const SM_OVERHEAD: usize = 40;
    match (reader.extended_length, reader.max_response_apdu) {
        (false, _) => BlockSize::Fixed(SHORT),
        (true, None) => BlockSize::Auto,
        (true, Some(max)) => {
            let max = usize::try_from(max).unwrap_or(usize::MAX);
            BlockSize::Fixed(max.saturating_sub(SM_OVERHEAD).max(SHORT))
        }
    }
}

fn read_error_end(error: ReadError) -> RelayEnd {
    let message = error.to_string();
    match error {
        ReadError::AccessDenied { .. } => RelayEnd::new(error_name::ACCESS_DENIED, message, true),
        ReadError::InvalidKey(_) => RelayEnd::new(error_name::INVALID_PROPERTY, message, true),
        e if e.is_card_removed() => RelayEnd::new(error_name::CARD_REMOVED, message, true),
        _ => RelayEnd::new(error_name::CHIP_ERROR, message, true),
    }
}

fn progress_message(p: reader::Progress) -> Progress {
    let mut out = Progress {
        step: None,
        file: None,
        read: None,
        total: None,
    };
    match p {
        reader::Progress::Step(step) => out.step = Some(step),
        reader::Progress::File { file, read, total } => {
            out.file = Some(reader::file_label(file));
            out.read = Some(read as u64);
            out.total = Some(total as u64);
        }
        reader::Progress::FileSkipped { file, reason } => {
            out.step = Some(format!("{} skipped: {reason}", reader::file_label(file)));
        }
        _ => {}
    }
    out
}

/// The verification's input from what the server read itself.
fn submission_from(files: &ChipFiles, key: &AccessKey, selfie: Option<Vec<u8>>) -> Submission {
    let data_groups: BTreeMap<u8, Vec<u8>> = files
        .files
        .iter()
        .filter_map(|(id, bytes)| match id {
            FileId::Dg(n) => Some((*n, bytes.clone())),
            _ => None,
        })
        .collect();
    let chip_authentication = match &files.chip_authentication {
        ChipAuthentication::Succeeded { .. } => CheckResult::Passed,
        ChipAuthentication::Failed { .. } => CheckResult::Failed,
        ChipAuthentication::NotSupported => CheckResult::NotSupported,
        ChipAuthentication::NotRequested => CheckResult::NotChecked,
    };
    let access_key = key.clone();
    Submission {
        // The reader ends a read without EF.COM or EF.SOD as an error; empty means absent.
        com: files
            .file(FileId::Com)
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        sod: files
            .file(FileId::Sod)
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        data_groups,
        aa_response: files
            .active_authentication
            .as_ref()
            .and_then(|aa| aa.response.as_ref().ok().cloned()),
        access_key,
        chip_authentication,
        chip_authentication_by_server: true,
        selfie,
    }
}
