//! SHA-256, for secrets, tokens and trust entry fingerprints.

use sha2::{Digest, Sha256};

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}
