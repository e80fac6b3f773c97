//! The reading client's protocol with the server, in one place for both: the reader API's JSON
//! bodies ([`reader_api`]) and the APDU relay's messages.
//!
//! The APDU relay: the server drives the chip, the reading client only forwards
//! command APDUs to the card and the card's answers back (README "The APDU relay" is the
//! contract; this crate is its one definition in code, used by the server and our client).
//!
//! Every message is one WebSocket text frame holding one JSON object with a `type`. APDUs are
//! hex strings (upper or lower case). Text JSON rather than binary frames: a read is a few
//! hundred small round trips whose cost is the link's latency, not the bytes, and JSON is what
//! every phone, kiosk and browser platform reads and logs without a custom decoder.

use serde::{Deserialize, Serialize};

pub mod reader_api;

/// The WebSocket path, under `/api/v1/` (and `/api/`).
pub const PATH: &str = "reader.relay";

/// The WebSocket subprotocol a client may ask for (`Sec-WebSocket-Protocol`); the server
/// answers with it when asked.
pub const SUBPROTOCOL: &str = "passport-reader.relay.v1";

/// Limits the server enforces (the README repeats them).
pub mod limits {
    use std::time::Duration;

    /// From the upgrade to the `hello` message.
    pub const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
    /// From a `command` (or `reset`) to its `response`.
    pub const APDU_TIMEOUT: Duration = Duration::from_secs(15);
    /// From `hello` to the last response of the read.
    pub const READ_TIMEOUT: Duration = Duration::from_secs(180);
    /// Commands per read.
    pub const MAX_APDUS: u64 = 4_000;
    /// Response bytes per read (all responses together).
    pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
    /// One response APDU: 65 536 data bytes and the status word.
    pub const MAX_RESPONSE_APDU: usize = 65_538;
    /// One WebSocket message (the `hello` may carry a selfie of up to 4 MiB in base64).
    pub const MAX_MESSAGE_BYTES: usize = 6 * 1024 * 1024;
}

/// A message from the reading client to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message, once, right after the upgrade.
    Hello(Hello),
    /// The card's answer to `command` (or, with an empty `apdu`, the end of a `reset`) number
    /// `seq`.
    Response { seq: u64, apdu: String },
    /// The command (or reset) number `seq` could not be carried to the card.
    Failure {
        seq: u64,
        reason: FailureReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

/// Why the client could not carry a command to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The card left the field (Android `TagLostException`, iOS tag connection lost, PC/SC
    /// removed card).
    CardRemoved,
    /// The reader or phone could not transmit this command (e.g. too long for it).
    TransmitFailed,
    /// The client cannot reset the card.
    ResetUnsupported,
}

/// The client's opening message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The session token, when the upgrade request had no `Authorization: Bearer` header
    /// (browsers cannot set one on a WebSocket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The key that opens the chip, as the holder typed or scanned it.
    pub access_key: AccessKey,
    /// What the card reader (or phone) can carry.
    #[serde(default)]
    pub reader: ReaderCapabilities,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    /// For face-verification sessions: the holder's photo, JPEG or PNG, base64 (standard
    /// alphabet, padded), at most 4 MiB decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfie: Option<String>,
}

/// The access key: the MRZ's document number and dates (BAC or PACE), or the CAN (PACE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AccessKey {
    Mrz(MrzKey),
    Can(CanKey),
}

/// The MRZ fields that open the chip, as printed (document number without filler `<`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MrzKey {
    pub document_number: String,
    /// YYMMDD.
    pub date_of_birth: String,
    /// YYMMDD.
    pub date_of_expiry: String,
}

/// The Card Access Number printed on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanKey {
    pub can: String,
}

/// What the card reader can carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderCapabilities {
    /// Extended-length APDUs (Android: `IsoDep.isExtendedLengthApduSupported()`; iOS: yes).
    #[serde(default)]
    pub extended_length: bool,
    /// Whether the client can answer `reset` (PC/SC: yes; phones: usually no).
    #[serde(default)]
    pub reset: bool,
    /// The largest response APDU the reader can carry, in bytes, data and status word (Android:
    /// `IsoDep.getMaxTransceiveLength()`); absent: 258 without extended length, 65 538 with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_apdu: Option<u32>,
}

/// The client's name and version, for the operator's logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    pub name: String,
    pub version: String,
}

/// A message from the server to the reading client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// Send `apdu` to the card and answer with `response` number `seq`.
    Command { seq: u64, apdu: String },
    /// Reset the card (PC/SC reconnect with reset; a phone reconnects to the tag), then answer
    /// `response` with this `seq` and an empty `apdu`. Sent only to clients that announced
    /// `reset`.
    Reset { seq: u64 },
    /// Something to show the holder.
    Progress(Progress),
    /// The read is over and verified: the session's state. The server closes the socket.
    Result {
        session_id: i64,
        state: String,
        rejection_reason: Option<String>,
    },
    /// The relay ended without a verified read. The server closes the socket. `retryable`:
    /// the session still waits for a read, with the same token.
    Error {
        error_name: String,
        error_message: String,
        retryable: bool,
    },
}

/// Progress of the read: a protocol step, or bytes of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// A step ("PACE", "BAC", "chip authentication", "active authentication", "verifying").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A file being read ("EF.COM", "EF.SOD", "DG1", …), with `read` of `total` bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The error names of [`ServerMessage::Error`] (spelled as the rest of the API's).
pub mod error_name {
    /// No or an unknown token.
    pub const INVALID_TOKEN: &str = "InvalidToken";
    /// The session is finished or expired: the token is spent.
    pub const SESSION_FINISHED: &str = "SessionFinished";
    /// Another relay of this session is live on this server.
    pub const RELAY_IN_USE: &str = "RelayInUse";
    /// A message that is not JSON, not one of the protocol's, out of order, or a response to a
    /// command not outstanding (replayed, reordered, invented).
    pub const RELAY_PROTOCOL_ERROR: &str = "RelayProtocolError";
    /// The client took too long (hello, one APDU, or the whole read).
    pub const RELAY_TIMEOUT: &str = "RelayTimeout";
    /// Too many APDUs or bytes.
    pub const RELAY_LIMIT_EXCEEDED: &str = "RelayLimitExceeded";
    /// A property of `hello` is missing or invalid (the message says which).
    pub const INVALID_PROPERTY: &str = "InvalidProperty";
    /// The chip refused the access key (mistyped MRZ data or CAN).
    pub const ACCESS_DENIED: &str = "AccessDenied";
    /// The card left the field.
    pub const CARD_REMOVED: &str = "CardRemoved";
    /// The chip misbehaved or does not speak a protocol the server runs.
    pub const CHIP_ERROR: &str = "ChipError";
    /// Our fault.
    pub const INTERNAL_ERROR: &str = "InternalError";
}

impl ClientMessage {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ServerMessage {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// An APDU as the protocol writes it: upper-case hex.
pub fn apdu_hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// An APDU from the protocol's hex (either case), bounded by `max` bytes.
pub fn apdu_bytes(text: &str, max: usize) -> Result<Vec<u8>, String> {
    if text.len() > 2 * max {
        return Err(format!("an APDU longer than {max} bytes"));
    }
    hex::decode(text).map_err(|_| "an APDU that is not hex".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn messages_as_the_readme_writes_them() {
        let hello = ClientMessage::parse(
            r#"{"type":"hello","access_key":{"document_number":"L898902C3","date_of_birth":"740812","date_of_expiry":"120415"},"reader":{"extended_length":true}}"#,
        )
        .unwrap();
        let ClientMessage::Hello(h) = hello else {
            panic!("not a hello")
        };
        assert!(h.reader.extended_length && !h.reader.reset);
        assert!(matches!(h.access_key, AccessKey::Mrz(_)));
        let can = ClientMessage::parse(r#"{"type":"hello","access_key":{"can":"123456"}}"#);
        assert!(matches!(
            can,
            Ok(ClientMessage::Hello(Hello {
                access_key: AccessKey::Can(_),
                ..
            }))
        ));
        assert_eq!(
            ClientMessage::parse(r#"{"type":"response","seq":3,"apdu":"9000"}"#).unwrap(),
            ClientMessage::Response {
                seq: 3,
                apdu: "9000".into()
            }
        );
        assert_eq!(
            ServerMessage::Command {
                seq: 1,
                apdu: apdu_hex(&[0, 0xA4])
            }
            .to_json(),
            r#"{"type":"command","seq":1,"apdu":"00A4"}"#
        );
        // Unknown types and properties are refused, not ignored.
        assert!(ClientMessage::parse(r#"{"type":"command","seq":1,"apdu":""}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"response","seq":1,"apdu":"","x":1}"#).is_err());
        assert!(ClientMessage::parse("not json").is_err());
        assert!(
            ClientMessage::parse(
                r#"{"type":"hello","access_key":{"can":"1","document_number":"X"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn apdu_hex_is_bounded() {
        assert_eq!(apdu_bytes("9000", 2).unwrap(), vec![0x90, 0]);
        assert!(apdu_bytes("900000", 2).is_err());
        assert!(apdu_bytes("zz", 2).is_err());
    }
}
