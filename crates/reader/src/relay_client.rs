//! The reading client's side of the APDU relay (`GET /api/v1/reader.relay`): the server runs
//! the chip protocol, this only carries its command APDUs to the card and the card's answers
//! back, and shows the server's progress. No key, no cryptography here.

use std::net::TcpStream;

use relay_protocol::{
    AccessKey, ClientInfo, ClientMessage, FailureReason, Hello, MrzKey, Progress,
    ReaderCapabilities, ServerMessage, apdu_bytes, apdu_hex, limits,
};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::{AccessKeyFields, Transport, TransportError};

/// What the client tells the server about itself and its reader.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The reader can carry extended-length APDUs.
    pub extended_length: bool,
    /// The client can reset the card when the server asks.
    pub can_reset: bool,
    /// The largest response APDU the reader carries, if it is known to be limited.
    pub max_response_apdu: Option<u32>,
    /// For face-verification sessions: the holder's photo (JPEG or PNG).
    pub selfie: Option<Vec<u8>>,
    pub client_name: String,
    pub client_version: String,
}

/// How the relay ended: the verified session's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayOutcome {
    pub session_id: i64,
    pub state: String,
    pub rejection_reason: Option<String>,
    /// Commands carried to the card.
    pub apdus: u64,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    #[error("cannot open the relay at {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The server ended the relay with an error (`retryable`: the session still waits for a
    /// read with the same token).
    #[error("the server ended the read: {error_name}: {error_message}")]
    Server {
        error_name: String,
        error_message: String,
        retryable: bool,
    },
    #[error("the relay broke: {0}")]
    Broken(String),
}

/// The relay's WebSocket address from the service's base URL (`http`→`ws`, `https`→`wss`).
pub fn relay_url(server: &str) -> Result<String, RelayError> {
    let base = server.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return Err(RelayError::Connect {
            url: server.to_owned(),
            detail: "the server URL must start with http:// or https://".into(),
        });
    };
    Ok(format!("{ws}/api/v1/{}", relay_protocol::PATH))
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens the relay for the session of `token` and carries the server's commands to the card on
/// `transport` until the server sends the result (or an error).
pub fn relay(
    server: &str,
    token: &str,
    key: &AccessKeyFields,
    transport: &mut dyn Transport,
    options: &RelayOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RelayOutcome, RelayError> {
    let mut socket = connect(server, token)?;
    send(&mut socket, &ClientMessage::Hello(hello(key, options)))?;
    carry(&mut socket, transport, progress)
}

/// The WebSocket upgrade, with the token as `Authorization: Bearer`.
fn connect(server: &str, token: &str) -> Result<Socket, RelayError> {
    let url = relay_url(server)?;
    let connect_error = |detail: String| RelayError::Connect {
        url: url.clone(),
        detail,
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| connect_error(e.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| connect_error("the token holds characters a header cannot".into()))?;
    request.headers_mut().insert("Authorization", bearer);
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(relay_protocol::SUBPROTOCOL),
    );
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(limits::MAX_MESSAGE_BYTES))
        .max_frame_size(Some(limits::MAX_MESSAGE_BYTES));
    let (socket, _) = tungstenite::client::connect_with_config(request, Some(config), 3).map_err(
        |e| match e {
            tungstenite::Error::Http(response) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned();
                connect_error(format!("HTTP {}: {body}", response.status()))
            }
            other => connect_error(other.to_string()),
        },
    )?;
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        let _ = stream.set_nodelay(true);
    }
    Ok(socket)
}

/// The client's opening message.
fn hello(key: &AccessKeyFields, options: &RelayOptions) -> Hello {
    Hello {
        token: None,
        access_key: match key {
            AccessKeyFields::Mrz(m) => AccessKey::Mrz(MrzKey {
                document_number: m.document_number.trim_end_matches('<').to_owned(),
                ..m.clone()
            }),
            AccessKeyFields::Can(c) => AccessKey::Can(c.clone()),
        },
        reader: ReaderCapabilities {
            extended_length: options.extended_length,
            reset: options.can_reset,
            max_response_apdu: options.max_response_apdu,
        },
        client: Some(ClientInfo {
            name: options.client_name.clone(),
            version: options.client_version.clone(),
        }),
        selfie: options.selfie.as_deref().map(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(b)
        }),
    }
}

/// Answers the server's commands and resets from the card until the result or an error.
fn carry(
    socket: &mut Socket,
    transport: &mut dyn Transport,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RelayOutcome, RelayError> {
    let mut apdus = 0;
    loop {
        let message = match socket.read() {
            Ok(Message::Text(text)) => ServerMessage::parse(&text)
                .map_err(|e| RelayError::Broken(format!("the server sent {e}")))?,
            Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => {
                return Err(RelayError::Broken(
                    "the server closed the connection without a result".into(),
                ));
            }
            Ok(_) => continue,
            Err(e) => return Err(RelayError::Broken(e.to_string())),
        };
        match message {
            ServerMessage::Command { seq, apdu } => {
                apdus += 1;
                let command = apdu_bytes(&apdu, limits::MAX_RESPONSE_APDU)
                    .map_err(|e| RelayError::Broken(format!("the server sent {e}")))?;
                let answer = match transport.transmit(&command) {
                    Ok(response) => ClientMessage::Response {
                        seq,
                        apdu: apdu_hex(&response),
                    },
                    Err(e) => failure(seq, &e),
                };
                send(socket, &answer)?;
            }
            ServerMessage::Reset { seq } => {
                let answer = match transport.reset() {
                    Ok(()) => ClientMessage::Response {
                        seq,
                        apdu: String::new(),
                    },
                    Err(e) => failure(seq, &e),
                };
                send(socket, &answer)?;
            }
            ServerMessage::Progress(p) => progress(&p),
            ServerMessage::Result {
                session_id,
                state,
                rejection_reason,
            } => {
                let _ = socket.close(None);
                return Ok(RelayOutcome {
                    session_id,
                    state,
                    rejection_reason,
                    apdus,
                });
            }
            ServerMessage::Error {
                error_name,
                error_message,
                retryable,
            } => {
                let _ = socket.close(None);
                return Err(RelayError::Server {
                    error_name,
                    error_message,
                    retryable,
                });
            }
        }
    }
}

fn failure(seq: u64, error: &TransportError) -> ClientMessage {
    let reason = match error {
        TransportError::CardRemoved | TransportError::NoCard => FailureReason::CardRemoved,
        _ => FailureReason::TransmitFailed,
    };
    ClientMessage::Failure {
        seq,
        reason,
        message: Some(error.to_string()),
    }
}

fn send(
    socket: &mut WebSocket<MaybeTlsStream<TcpStream>>,
    message: &ClientMessage,
) -> Result<(), RelayError> {
    socket
        .send(Message::Text(message.to_json().into()))
        .map_err(|e| RelayError::Broken(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn relay_urls() {
        assert_eq!(
            relay_url("http://127.0.0.1:4000").unwrap(),
            "ws://127.0.0.1:4000/api/v1/reader.relay"
        );
        assert_eq!(
            relay_url("https://id.example.com/").unwrap(),
            "wss://id.example.com/api/v1/reader.relay"
        );
        assert!(relay_url("ftp://x").is_err());
    }
}
