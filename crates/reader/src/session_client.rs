//! The reading client's side of the server's reader API (`reader.start`, `reader.submit`,
//! `reader.abort`): a session token in, the session's outcome out.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use icao9303::lds::FileId;
use relay_protocol::reader_api::{AbortResponse, StartResponse, SubmitRequest, SubmitResponse};
use serde_json::Value;

use crate::{ChipAuthentication, ChipFiles};

/// What `reader.start` tells the client about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    pub session_id: i64,
    pub state: String,
    pub face_verification: bool,
    pub passport_only: bool,
    /// The server's challenge for INTERNAL AUTHENTICATE.
    pub aa_challenge: [u8; 8],
}

/// The session's state after `reader.submit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    pub state: String,
    pub rejection_reason: Option<String>,
}

/// The access key the holder gave, sent for the server's consistency check with DG1: the wire
/// type of the reader API and the relay.
pub use relay_protocol::AccessKey as AccessKeyFields;
pub use relay_protocol::{CanKey, MrzKey};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionClientError {
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    /// The server answered with an API error (`error_name`, `error_message`).
    #[error("the server refused {method}: {name}: {message} (HTTP {status})")]
    Api {
        method: &'static str,
        status: u16,
        name: String,
        message: String,
    },
    #[error("unexpected answer to {method}: {detail}")]
    BadResponse {
        method: &'static str,
        detail: String,
    },
}

/// A client of one session, authenticated by its token.
#[derive(Debug, Clone)]
pub struct SessionClient {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl SessionClient {
    /// `server` is the service's base URL, e.g. `http://127.0.0.1:4000`.
    pub fn new(server: &str, token: &str) -> Result<SessionClient, SessionClientError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("passport-reader/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| SessionClientError::Unreachable {
                url: server.to_owned(),
                source,
            })?;
        Ok(SessionClient {
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// Starts the session (it becomes INITIATED) and fetches the server's AA challenge.
    pub fn start(&self) -> Result<SessionStart, SessionClientError> {
        let answer: StartResponse = self.call("reader.start", &serde_json::json!({}))?;
        let bad = |detail: &str| SessionClientError::BadResponse {
            method: "reader.start",
            detail: detail.to_owned(),
        };
        let challenge =
            hex::decode(&answer.aa_challenge).map_err(|_| bad("aa_challenge is not hex"))?;
        Ok(SessionStart {
            session_id: answer.session_id,
            state: answer.state,
            face_verification: answer.face_verification,
            passport_only: answer.passport_only,
            aa_challenge: <[u8; 8]>::try_from(challenge.as_slice())
                .map_err(|_| bad("aa_challenge is not 8 bytes"))?,
        })
    }

    /// Hands the chip's files, the chip's AA response, the access key and an optional selfie
    /// (JPEG or PNG) to the server, which verifies them and answers with the session's outcome.
    pub fn submit(
        &self,
        chip: &ChipFiles,
        access_key: &AccessKeyFields,
        selfie: Option<&[u8]>,
    ) -> Result<SubmitOutcome, SessionClientError> {
        let body = submit_body(chip, access_key, selfie);
        let answer: SubmitResponse = self.call("reader.submit", &body)?;
        Ok(SubmitOutcome {
            state: answer.state,
            rejection_reason: answer.rejection_reason,
        })
    }

    /// The holder gives up: the session becomes ABORTED.
    pub fn abort(&self) -> Result<String, SessionClientError> {
        let answer: AbortResponse = self.call("reader.abort", &serde_json::json!({}))?;
        Ok(answer.state)
    }

    fn call<T: serde::de::DeserializeOwned>(
        &self,
        full_method: &'static str,
        body: &impl serde::Serialize,
    ) -> Result<T, SessionClientError> {
        let url = format!("{}/api/v1/{full_method}", self.base);
        let response = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .map_err(|source| SessionClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|source| SessionClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let value: Value =
            serde_json::from_str(&text).map_err(|_| SessionClientError::BadResponse {
                method: full_method,
                detail: format!("HTTP {status} with a body that is not JSON"),
            })?;
        if !status.is_success() {
            let field = |name: &str| {
                value
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            return Err(SessionClientError::Api {
                method: full_method,
                status: status.as_u16(),
                name: field("error_name"),
                message: field("error_message"),
            });
        }
        serde_json::from_value(value).map_err(|e| SessionClientError::BadResponse {
            method: full_method,
            detail: e.to_string(),
        })
    }
}

/// The flat `reader.submit` body: each file base64 under its property name.
fn submit_body(
    chip: &ChipFiles,
    access_key: &AccessKeyFields,
    selfie: Option<&[u8]>,
) -> SubmitRequest {
    let encode = |bytes: &[u8]| Some(BASE64.encode(bytes));
    let mut body = SubmitRequest::default();
    for (id, bytes) in &chip.files {
        let slot = match id {
            FileId::Com => &mut body.com,
            FileId::Sod => &mut body.sod,
            FileId::Dg(1) => &mut body.dg1,
            FileId::Dg(2) => &mut body.dg2,
            FileId::Dg(7) => &mut body.dg7,
            FileId::Dg(11) => &mut body.dg11,
            FileId::Dg(12) => &mut body.dg12,
            FileId::Dg(14) => &mut body.dg14,
            FileId::Dg(15) => &mut body.dg15,
            // The server takes no other file.
            _ => continue,
        };
        *slot = encode(bytes);
    }
    body.card_access = chip.card_access.as_deref().and_then(encode);
    if let Some(aa) = &chip.active_authentication
        && let Ok(response) = &aa.response
    {
        // Hex, like the challenge the server issued.
        body.aa_response = Some(hex::encode_upper(response));
    }
    body.selfie = selfie.and_then(encode);
    body.set_access_key(access_key);
    body.chip_authentication = match &chip.chip_authentication {
        ChipAuthentication::Succeeded { .. } => Some("PASSED".to_owned()),
        ChipAuthentication::Failed { .. } => Some("FAILED".to_owned()),
        ChipAuthentication::NotSupported => Some("NOT_SUPPORTED".to_owned()),
        _ => None,
    };
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_body_is_flat_base64_with_the_access_key() {
        let mut files = std::collections::BTreeMap::new();
        files.insert(FileId::Com, vec![0x60, 0x00]);
        files.insert(FileId::Dg(15), vec![0x6F, 0x00]);
        let chip = ChipFiles {
            card_access: Some(vec![0x31, 0x00]),
            files,
            skipped: Vec::new(),
            access_control: crate::AccessControl::Bac,
            chip_authentication: ChipAuthentication::NotSupported,
            active_authentication: None,
            block_size: 223,
        };
        let key = AccessKeyFields::Can(CanKey {
            can: "123456".into(),
        });
        let body = serde_json::to_value(submit_body(&chip, &key, Some(b"jpeg"))).unwrap();
        assert_eq!(body["com"], "YAA=");
        assert_eq!(body["dg15"], "bwA=");
        assert_eq!(body["card_access"], "MQA=");
        assert_eq!(body["selfie"], "anBlZw==");
        assert_eq!(body["access_can"], "123456");
        assert_eq!(body["chip_authentication"], "NOT_SUPPORTED");
        let body = body.as_object().unwrap();
        assert!(
            body.values().all(|v| v.is_string() || v.is_null()),
            "flat: {body:?}"
        );
        assert!(!body.contains_key("aa_response"));
    }
}
