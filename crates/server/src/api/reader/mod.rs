//! The reader API: what the holder's reading client (the web page, the `reader` crate) calls with
//! the session's token, `Authorization: Bearer <token>`, instead of the integrator's Basic
//! credentials. A token acts on its own session only, and only until that session is finished.
//!
//! `reader.start` (CREATED → INITIATED, a fresh active-authentication challenge), `reader.submit`
//! (the chip's files → COMPLETED while verified → APPROVED / REJECTED, or FAILED on our side),
//! `reader.abort` (→ ABORTED), `reader.state`. Tokens, files and personal data are never logged.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use icao9303::lds::sod::Sod;
use icao9303::lds::{CardAccess, Dg1, Dg2, Dg7, Dg11, Dg12, Dg14, Dg15, EfCom};
use icao9303::pki::TrustStore;
use time::OffsetDateTime;

use crate::api::spec::{self, ApiMethod, Method, Props, format_timestamp};
use crate::http::client;
use crate::http::error::ApiError;
use crate::http::extract::{bearer, read_body};
use crate::model::{CheckResult, Reason, State};
use crate::state::AppState;
use crate::store::VerificationRecord;
use crate::store::{SessionRow, StoreError};
use crate::support::digest::sha256;
use crate::verification::{self, Requirements, Submission};
use relay_protocol::AccessKey;
use relay_protocol::reader_api::{
    AbortResponse, StartResponse, StateResponse, SubmitRequest, SubmitResponse,
};

/// Length of the active-authentication challenge (ICAO 9303 Part 11 §6.1: 8 bytes).
pub const AA_CHALLENGE_LEN: usize = 8;

/// The selfie as the JPEG the API shows: a JPEG as sent, a PNG transcoded.
pub(crate) fn selfie_jpeg(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let refuse = |e: String| {
        ApiError::InvalidProperty(format!(
            "Property 'selfie' must be a JPEG or PNG image: {e}"
        ))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return face::RgbImage::decode(bytes)
            .and_then(|image| image.to_jpeg(90))
            .map_err(|e| refuse(e.to_string()));
    }
    icao9303::portrait::jpeg_from_image(bytes).map_err(|e| refuse(e.to_string()))
}

/// Handles `reader.*`; `method` comes from [`spec::METHODS`].
pub async fn call(
    state: &AppState,
    method: &'static Method,
    headers: &HeaderMap,
    body: Body,
    peer: Option<IpAddr>,
) -> Result<Response, ApiError> {
    let token = bearer(headers)?;
    let now = state.clock.now();
    let session = state
        .store
        .session_by_token_hash(&sha256(token.as_bytes()), now)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let limit = if method.id == ApiMethod::ReaderSubmit {
        state.reader.max_submit_bytes
    } else {
        state.max_body_bytes
    };
    let body = read_body(headers, body, limit).await?;
    let props = Props::extract(method, spec::parse_body(&body)?)?;
    let ip = client::client_ip(peer, headers, &state.reader.trusted_proxies).map(|i| i.to_string());
    let agent = client::user_agent(headers);
    let result = match method.id {
        ApiMethod::ReaderState => json_of(StateResponse {
            state: session.state.as_str().to_owned(),
            state_reason: session.state_reason.map(|r| r.as_str().to_owned()),
        }),
        ApiMethod::ReaderStart => {
            json_of(start(state, &session, ip.as_deref(), agent.as_deref(), now).await?)
        }
        ApiMethod::ReaderAbort => {
            refuse_finished(&session)?;
            if !state
                .store
                .abort_by_holder(session.id, Reason::AbortedByHolder, now)
                .await?
            {
                return Err(ApiError::SessionFinished(session.id));
            }
            json_of(AbortResponse {
                state: State::Aborted.as_str().to_owned(),
            })
        }
        ApiMethod::ReaderSubmit => {
            let request: SubmitRequest = props.decode()?;
            json_of(
                submit(
                    state,
                    &session,
                    &request,
                    ip.as_deref(),
                    agent.as_deref(),
                    now,
                )
                .await?,
            )
        }
        ApiMethod::AccountGet
        | ApiMethod::SessionCreate
        | ApiMethod::SessionGet
        | ApiMethod::SessionState
        | ApiMethod::SessionList
        | ApiMethod::SessionUpdate
        | ApiMethod::SessionAbort
        | ApiMethod::SessionDelete
        | ApiMethod::CallbackList => return Err(ApiError::MethodNotFound(method.path_name())),
    };
    Ok(Json(result).into_response())
}

/// A wire type as the JSON the API sends (through a `Value`, so keys come out sorted as the
/// rest of the API's).
fn json_of(body: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}

pub(crate) fn refuse_finished(session: &SessionRow) -> Result<(), ApiError> {
    if session.state.is_finished() {
        Err(ApiError::SessionFinished(session.id))
    } else {
        Ok(())
    }
}

async fn start(
    state: &AppState,
    session: &SessionRow,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<StartResponse, ApiError> {
    refuse_finished(session)?;
    let challenge: [u8; AA_CHALLENGE_LEN] = rand::random();
    if !state
        .store
        .start_reading(session.id, &challenge, ip, agent, now)
        .await?
    {
        return Err(ApiError::SessionFinished(session.id));
    }
    Ok(StartResponse {
        session_id: session.id,
        state: State::Initiated.as_str().to_owned(),
        face_verification: session.face_verification,
        passport_only: session.passport_only,
        aa_challenge: hex::encode(challenge),
        expires: format_timestamp(session.expires),
    })
}

/// A submitted file: its property, what it is, and the largest decoded size accepted.
struct FileProperty {
    name: &'static str,
    what: &'static str,
    limit: usize,
}

const fn file(name: &'static str, what: &'static str, limit: usize) -> FileProperty {
    FileProperty { name, what, limit }
}

const KIB: usize = 1024;

/// The base64 file in `text`, decoded and within its limit (`None` if absent).
fn decode_file(text: Option<&String>, p: &FileProperty) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let name = p.name;
    let bytes = STANDARD.decode(text.trim()).map_err(|_| {
        ApiError::InvalidProperty(format!(
            "Property '{name}' must be the file's bytes in base64 (standard alphabet, padded)"
        ))
    })?;
    if bytes.len() > p.limit {
        return Err(ApiError::InvalidProperty(format!(
            "Property '{name}' is larger than the limit of {} bytes",
            p.limit
        )));
    }
    Ok(Some(bytes))
}

/// A required file, decoded and parsed with `parse`.
fn required_file<T, E: std::fmt::Display>(
    text: Option<&String>,
    p: &FileProperty,
    parse: impl Fn(&[u8]) -> Result<T, E>,
) -> Result<Vec<u8>, ApiError> {
    let bytes = decode_file(text, p)?.ok_or(ApiError::MissingProperty(p.name))?;
    parse(&bytes).map_err(|e| malformed(p.name, p.what, e))?;
    Ok(bytes)
}

fn malformed(name: &str, what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidProperty(format!(
        "Property '{name}' is not a well-formed {what}: {error}"
    ))
}

/// `reader.submit`'s body decoded and checked exactly as [`call`] does before anything is stored:
/// the JSON object, its properties, each file's base64, size limit and parser, the access key and
/// the selfie. A pure function of the bytes (the fuzz target in `crates/server/fuzz` feeds it);
/// `face_verification` is the session's, which makes the selfie required.
pub fn decode_submission(body: &[u8], face_verification: bool) -> Result<Submission, ApiError> {
    let method = spec::find("reader.submit").ok_or(ApiError::Internal)?;
    let request: SubmitRequest = Props::extract(method, spec::parse_body(body)?)?.decode()?;
    parse_submission(&request, face_verification)
}

type Check = fn(&[u8]) -> Result<(), String>;

/// The optional data groups the server takes: number, property and parser.
const OPTIONAL_DATA_GROUPS: [(u8, FileProperty, Check); 5] = [
    (7, file("dg7", "DG7", 1024 * KIB), |b| {
        Dg7::parse(b).map(drop).map_err(|e| e.to_string())
    }),
    (11, file("dg11", "DG11", 64 * KIB), |b| {
        Dg11::parse(b).map(drop).map_err(|e| e.to_string())
    }),
    (12, file("dg12", "DG12", 2 * 1024 * KIB), |b| {
        Dg12::parse(b).map(drop).map_err(|e| e.to_string())
    }),
    (14, file("dg14", "DG14", 64 * KIB), |b| {
        Dg14::parse(b).map(drop).map_err(|e| e.to_string())
    }),
    (15, file("dg15", "DG15", 16 * KIB), |b| {
        Dg15::parse(b).map(drop).map_err(|e| e.to_string())
    }),
];

/// Decodes and checks every property of `reader.submit`; nothing is stored yet, so a client
/// whose submit is refused here can correct it and submit again.
fn parse_submission(r: &SubmitRequest, face_verification: bool) -> Result<Submission, ApiError> {
    let com = required_file(
        r.com.as_ref(),
        &file("com", "EF.COM", 4 * KIB),
        EfCom::parse,
    )?;
    let sod = required_file(r.sod.as_ref(), &file("sod", "EF.SOD", 64 * KIB), Sod::parse)?;
    let dg1 = required_file(r.dg1.as_ref(), &file("dg1", "DG1", 4 * KIB), Dg1::parse)?;
    let dg2 = required_file(
        r.dg2.as_ref(),
        &file("dg2", "DG2", 4 * 1024 * KIB),
        Dg2::parse,
    )?;
    let mut data_groups = std::collections::BTreeMap::from([(1u8, dg1), (2u8, dg2)]);
    for (number, p, check) in &OPTIONAL_DATA_GROUPS {
        let text = match number {
            7 => r.dg7.as_ref(),
            11 => r.dg11.as_ref(),
            12 => r.dg12.as_ref(),
            14 => r.dg14.as_ref(),
            _ => r.dg15.as_ref(),
        };
        if let Some(bytes) = decode_file(text, p)? {
            check(&bytes).map_err(|e| malformed(p.name, p.what, e))?;
            data_groups.insert(*number, bytes);
        }
    }
    let card_access = file("card_access", "EF.CardAccess", 16 * KIB);
    if let Some(bytes) = decode_file(r.card_access.as_ref(), &card_access)? {
        CardAccess::parse(&bytes).map_err(|e| malformed("card_access", "EF.CardAccess", e))?;
    }
    let aa_response =
        match &r.aa_response {
            None => None,
            Some(text) => Some(hex::decode(text.trim()).map_err(|_| {
                ApiError::InvalidProperty("Property 'aa_response' must be hex".into())
            })?),
        };
    let access_key = r.access_key().ok_or_else(|| {
        ApiError::InvalidProperty(
            "The access key is required: access_document_number, access_date_of_birth and \
             access_date_of_expiry (MRZ data), or access_can"
                .into(),
        )
    })?;
    if let AccessKey::Mrz(m) = &access_key {
        for (name, value) in [
            ("access_date_of_birth", &m.date_of_birth),
            ("access_date_of_expiry", &m.date_of_expiry),
        ] {
            if !icao9303::mrz::is_mrz_date(value) {
                return Err(ApiError::InvalidProperty(format!(
                    "Property '{name}' must be a date YYMMDD, as in the MRZ"
                )));
            }
        }
    }
    let selfie_property = file("selfie", "image", 4 * 1024 * KIB);
    let selfie = match decode_file(r.selfie.as_ref(), &selfie_property)? {
        Some(bytes) => Some(selfie_jpeg(&bytes)?),
        None if face_verification => return Err(ApiError::MissingProperty("selfie")),
        None => None,
    };
    Ok(Submission {
        com,
        sod,
        data_groups,
        aa_response,
        access_key,
        chip_authentication: r
            .chip_authentication
            .as_deref()
            .and_then(CheckResult::parse)
            .unwrap_or(CheckResult::NotChecked),
        chip_authentication_by_server: false,
        selfie,
    })
}

async fn submit(
    state: &AppState,
    session: &SessionRow,
    request: &SubmitRequest,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<SubmitResponse, ApiError> {
    match session.state {
        State::Created => return Err(ApiError::SessionNotStarted(session.id)),
        State::Initiated => {}
        _ => return Err(ApiError::SessionFinished(session.id)),
    }
    let submission = parse_submission(request, session.face_verification)?;
    let challenge = session.holder_flow.aa_challenge.clone();
    let (final_state, rejection_reason) =
        verify_and_finish(state, session, submission, challenge, ip, agent, now).await?;
    Ok(SubmitResponse {
        state: final_state.as_str().to_owned(),
        rejection_reason: rejection_reason.map(|r| r.as_str().to_owned()),
    })
}

/// INITIATED → COMPLETED (only if `challenge` is still the session's: a newer read replaced
/// it otherwise), the verification, then → APPROVED / REJECTED (or FAILED on our side), as
/// `reader.submit` and the relay both end. Returns the final state and rejection reason.
pub(crate) async fn verify_and_finish(
    state: &AppState,
    session: &SessionRow,
    submission: Submission,
    challenge: Option<Vec<u8>>,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<(State, Option<Reason>), ApiError> {
    // The trust store's version is read while the session is claimed: on PostgreSQL that is one
    // round trip to the database fewer on the holder's wait.
    let (begun, trust) = tokio::join!(
        state
            .store
            .begin_verification(session.id, challenge.as_deref(), ip, agent, now),
        state.reader.trust.current(&state.store),
    );
    if !begun? {
        return Err(ApiError::SessionFinished(session.id));
    }
    let requirements = Requirements {
        passport_only: session.passport_only,
        face_verification: session.face_verification,
        require_proven_clone_check: state.reader.require_proven_clone_check,
        face_match_threshold: state.reader.face_match_threshold,
    };
    let record = match run_verification(state, trust, submission, challenge, requirements).await {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(session = session.id, %error, "verification could not be carried out");
            failed_record(state.clock.now())
        }
    };
    let final_state = record.state.unwrap_or(State::Failed);
    match state.store.finish_verification(session.id, &record).await {
        Ok(true) => {}
        // Nothing else moves a COMPLETED session; refuse rather than report a state not stored.
        Ok(false) => return Err(ApiError::Internal),
        Err(error) => {
            // Do not leave the session COMPLETED for ever: one attempt to end it FAILED.
            tracing::error!(session = session.id, %error, "storing the verification failed");
            let failed = failed_record(state.clock.now());
            if let Err(error) = state.store.finish_verification(session.id, &failed).await {
                tracing::error!(session = session.id, %error, "ending the session FAILED failed");
            }
            return Err(ApiError::Internal);
        }
    }
    tracing::info!(
        session = session.id,
        state = final_state.as_str(),
        reason = record.rejection_reason.map_or("", Reason::as_str),
        "session verified"
    );
    Ok((final_state, record.rejection_reason))
}

/// A verification that could not be carried out on our side.
fn failed_record(now: i64) -> VerificationRecord {
    VerificationRecord {
        state: Some(State::Failed),
        state_reason: Some(Reason::VerificationError),
        rejection_reason: Some(Reason::VerificationError),
        verified: now,
        ..VerificationRecord::default()
    }
}

async fn run_verification(
    state: &AppState,
    trust: Result<Arc<TrustStore>, StoreError>,
    submission: Submission,
    challenge: Option<Vec<u8>>,
    requirements: Requirements,
) -> Result<VerificationRecord, String> {
    let trust = trust.map_err(|e| e.to_string())?;
    let at = OffsetDateTime::from_unix_timestamp(state.clock.now()).map_err(|e| e.to_string())?;
    let face_engine = Arc::clone(&state.reader.face_engine);
    tokio::task::spawn_blocking(move || {
        let engine = requirements.face_verification.then(|| {
            face_engine
                .get_or_init(|| face::FaceEngine::new().map_err(|e| e.to_string()))
                .as_ref()
        });
        let engine = match engine {
            Some(Err(e)) => return Err(format!("face models: {e}")),
            Some(Ok(engine)) => Some(engine),
            None => None,
        };
        Ok(verification::verify_submission(
            &submission,
            challenge.as_deref(),
            &trust,
            engine,
            requirements,
            at,
        ))
    })
    .await
    .map_err(|e| format!("verification task: {e}"))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn body(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        for (name, bytes) in files {
            map.insert((*name).to_owned(), STANDARD.encode(bytes).into());
        }
        for (name, value) in [
            ("access_document_number", "XX0000000"),
            ("access_date_of_birth", "740812"),
            ("access_date_of_expiry", "300101"),
        ] {
            map.insert(name.to_owned(), value.into());
        }
        serde_json::to_vec(&serde_json::Value::Object(map)).unwrap()
    }

    /// The short deterministic run of the `reader_submit` fuzz target (crates/server/fuzz, which
    /// is outside the workspace): a valid body is decoded, and bodies with mutated files, cut
    /// JSON and broken base64 are refused without a panic.
    #[test]
    fn decode_submission_survives_mutated_bodies() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let (_, document) = testdoc::issue_specimen(now).unwrap();
        let files: Vec<(&str, Vec<u8>)> = [
            ("com", testdoc::FileId::Com),
            ("sod", testdoc::FileId::Sod),
            ("dg1", testdoc::FileId::Dg1),
            ("dg2", testdoc::FileId::Dg2),
            ("dg14", testdoc::FileId::Dg14),
            ("dg15", testdoc::FileId::Dg15),
            ("card_access", testdoc::FileId::CardAccess),
        ]
        .into_iter()
        .map(|(name, id)| (name, document.file(id).unwrap().to_vec()))
        .collect();
        let valid = body(&files);
        let submission = decode_submission(&valid, false).unwrap();
        assert_eq!(submission.data_groups.len(), 4);
        assert!(matches!(
            decode_submission(&valid, true),
            Err(ApiError::MissingProperty("selfie"))
        ));
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut files = files.clone();
            let which = (next() % files.len() as u64) as usize;
            let file = &mut files[which].1;
            let at = (next() % file.len() as u64) as usize;
            match next() % 4 {
                0 => file[at] ^= 1 << (next() % 8),
                1 => file.truncate(at),
                2 => file.splice(at..at, [0x84, 0x80, 0, 0, 0]).for_each(drop),
                _ => file[at] = [0x00, 0x80, 0x81, 0x82, 0xFF][(next() % 5) as usize],
            }
            let _ = decode_submission(&body(&files), next() % 2 == 0);
        }
        for cut in (0..valid.len()).step_by(499) {
            assert!(decode_submission(&valid[..cut], false).is_err());
        }
        for broken in [
            &br#"{"com": "!!!", "sod": 1}"#[..],
            b"[1]",
            b"null",
            b"{\"dg2\": \"AAAA\"}",
        ] {
            assert!(decode_submission(broken, false).is_err());
        }
    }
}
