//! Random identifiers and secrets.
//!
//! Ids are positive 64-bit integers drawn at random so that they reveal nothing about volume or
//! order. They are kept below 2^53 so that JavaScript clients, which parse JSON numbers as
//! doubles, read them exactly; 2^53 - 2^40 values still make a collision negligible, and the
//! store retries one anyway.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

const ID_MIN: i64 = 1 << 40;
const ID_MAX_EXCLUSIVE: i64 = 1 << 53;

/// A fresh random id in `[2^40, 2^53)`.
pub fn random_id() -> i64 {
    rand::rng().random_range(ID_MIN..ID_MAX_EXCLUSIVE)
}

/// `bytes` random bytes from the operating system's CSPRNG, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(buf.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_large_and_distinct() {
        let ids: std::collections::HashSet<i64> = (0..1000).map(|_| random_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(
            ids.iter()
                .all(|&id| (ID_MIN..ID_MAX_EXCLUSIVE).contains(&id))
        );
    }

    #[test]
    fn tokens_have_the_requested_entropy() {
        // 16 bytes = 128 bits -> 22 base64url characters.
        assert_eq!(random_token(16).len(), 22);
        assert_ne!(random_token(16), random_token(16));
    }
}
