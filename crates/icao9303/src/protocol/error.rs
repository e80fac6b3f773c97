//! Errors of the protocol layer. Variants caused by what the chip sent (a refusal, a wrong MAC,
//! a malformed response) are kept apart from misuse by the caller; see `caused_by_chip`.

use openssl::error::ErrorStack;

use super::apdu::StatusWord;

/// Why secure messaging could not protect or unprotect an APDU (ICAO 9303 Part 11 §9.8).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmError {
    /// The response carried no DO'8E' at all, only this status word: the chip has dropped the
    /// secure-messaging session (often '6987'/'6988') or refused the command in plain. Some
    /// chips answer a SELECT of an absent file with a plain '6A82'; a reader may take that as
    /// "file absent", knowing the status word is unauthenticated.
    #[error("the chip answered {0} without secure messaging")]
    Unprotected(StatusWord),
    /// The cryptographic checksum (DO'8E') does not match: forged, corrupted or out of sync.
    #[error("secure-messaging MAC mismatch")]
    BadMac,
    /// A secure-messaging data object is missing, duplicated, misplaced or badly encoded.
    #[error("malformed secure-messaging data: {0}")]
    Malformed(&'static str),
    /// The decrypted data does not end in ISO/IEC 9797-1 padding method 2.
    #[error("bad padding in the decrypted secure-messaging data")]
    BadPadding,
    /// Misuse: session keys or SSC of the wrong length for the cipher.
    #[error("session key or SSC length does not fit the cipher")]
    InvalidKey,
    /// Misuse: the protected command would not fit an extended-length APDU.
    #[error("command data too long to protect")]
    CommandTooLong,
    /// OpenSSL failed (not expected with valid keys).
    #[error("cryptographic library error: {0}")]
    Crypto(#[from] ErrorStack),
}

impl SmError {
    /// Whether the error was caused by what the other side sent (as opposed to misuse).
    pub fn caused_by_chip(&self) -> bool {
        matches!(
            self,
            SmError::Unprotected(_) | SmError::BadMac | SmError::Malformed(_) | SmError::BadPadding
        )
    }
}

/// Why a protocol step (BAC, PACE, chip authentication, ...) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The chip refused the command with this status word.
    #[error("the chip answered {0}")]
    Status(StatusWord),
    /// The chip failed to prove knowledge of the keys: wrong cryptogram, MAC, nonce echo or
    /// authentication token. With BAC/PACE this usually means a wrong MRZ or CAN.
    #[error("the chip failed authentication: {0}")]
    AuthenticationFailed(&'static str),
    /// The chip's response is malformed (wrong length, missing data object, point not on curve).
    #[error("malformed chip response: {0}")]
    Malformed(&'static str),
    /// Secure messaging failed.
    #[error(transparent)]
    SecureMessaging(#[from] SmError),
    /// The chip asks for something this implementation does not do (named in the message).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Misuse: the caller's input is invalid (e.g. an MRZ field of the wrong length).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// Misuse: a protocol step was called in the wrong order.
    #[error("protocol step out of order: {0}")]
    OutOfOrder(&'static str),
    /// OpenSSL failed (not expected with valid inputs).
    #[error("cryptographic library error: {0}")]
    Crypto(#[from] ErrorStack),
}

impl ProtocolError {
    /// Whether the error was caused by the chip (refusal, bad proof, malformed data) rather than
    /// by the caller.
    pub fn caused_by_chip(&self) -> bool {
        match self {
            ProtocolError::Status(_)
            | ProtocolError::AuthenticationFailed(_)
            | ProtocolError::Malformed(_)
            | ProtocolError::Unsupported(_) => true,
            ProtocolError::SecureMessaging(e) => e.caused_by_chip(),
            ProtocolError::InvalidInput(_)
            | ProtocolError::OutOfOrder(_)
            | ProtocolError::Crypto(_) => false,
        }
    }
}
