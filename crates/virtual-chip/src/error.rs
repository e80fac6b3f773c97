/// Why a virtual chip could not be set up (never raised while answering APDUs: a chip answers
/// every command with a status word).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChipError {
    /// The document is unusable for a chip (missing MRZ, unparsable key or data group).
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// A document folder could not be read.
    #[error("reading {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The test-document factory failed.
    #[error(transparent)]
    Testdoc(#[from] testdoc::Error),
    /// OpenSSL failed.
    #[error("cryptographic library error: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}
