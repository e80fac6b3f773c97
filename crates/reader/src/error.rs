//! Why reading a chip failed. Each variant says what was being done (`during`), so the CLI can
//! print one clear line.

use icao9303::protocol::{ProtocolError, SmError, StatusWord};

use crate::TransportError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// No reader, no card, card removed, service down.
    #[error("{during}: {source}")]
    Transport {
        during: String,
        source: TransportError,
    },
    /// The chip refused the access key: BAC's EXTERNAL AUTHENTICATE or PACE's token answered
    /// '6300'. Almost always a mistyped MRZ (document number, dates) or CAN.
    #[error(
        "the chip refused the access key during {protocol} ({sw}): check the document number, dates of birth and expiry, or the CAN"
    )]
    AccessDenied {
        protocol: &'static str,
        sw: StatusWord,
    },
    /// Neither side has an access-control protocol in common with the other.
    #[error("unsupported protocol: {0}")]
    UnsupportedProtocol(String),
    /// The chip answered a protected command in plain (typically '6987'/'6988'): it dropped the
    /// secure-messaging session, as chips do on a wrong MAC.
    #[error("{during}: the chip terminated secure messaging ({sw})")]
    SessionTerminated { during: String, sw: StatusWord },
    /// The chip's protected response did not verify (wrong MAC, bad padding, malformed).
    #[error("{during}: the chip's secure-messaging response is invalid: {source}")]
    SecureMessaging { during: String, source: SmError },
    /// The chip refused a command with this status word.
    #[error("{during}: the chip answered {sw}")]
    Chip { during: String, sw: StatusWord },
    /// A protocol step failed (malformed chip data, failed proof).
    #[error("{during}: {source}")]
    Protocol {
        during: String,
        source: ProtocolError,
    },
    /// A file's bytes are unusable (bad TLV header, unparsable EF.COM).
    #[error("{file}: {reason}")]
    MalformedFile { file: String, reason: String },
    /// Misuse: the access key is not valid (e.g. a CAN with letters).
    #[error("invalid access key: {0}")]
    InvalidKey(String),
}

impl ReadError {
    /// Whether the card left the reader (so retrying after putting it back may help).
    pub fn is_card_removed(&self) -> bool {
        matches!(
            self,
            ReadError::Transport {
                source: TransportError::CardRemoved,
                ..
            }
        )
    }
}
