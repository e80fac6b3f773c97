//! Why a passive-authentication step could not be run (as opposed to "ran and failed", which is
//! reported as data in [`crate::report::Report`]).

use crate::tlv::TlvError;

/// A structure could not be parsed, an algorithm is unsupported, or the crypto library failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The bytes are not the expected ASN.1 structure.
    #[error("malformed {what}: {source}")]
    Tlv {
        what: &'static str,
        #[source]
        source: TlvError,
    },
    /// A value inside a well-formed TLV is not acceptable.
    #[error("malformed {what} at offset {offset}")]
    Malformed { what: &'static str, offset: usize },
    /// An algorithm identifier this crate does not implement.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// A public key that cannot be used (unknown curve, bad point, bad encoding).
    #[error("unusable public key: {0}")]
    BadKey(String),
    /// PEM or other container input that holds nothing usable.
    #[error("unrecognised input: {0}")]
    Unrecognised(String),
    /// A signature that must verify for the input to be usable (a master list's) does not.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// OpenSSL reported an error.
    #[error("cryptographic library error: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

impl PkiError {
    pub(crate) fn tlv(what: &'static str) -> impl FnOnce(TlvError) -> PkiError {
        move |source| PkiError::Tlv { what, source }
    }
}
