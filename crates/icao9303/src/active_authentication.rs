//! Active Authentication verification (ICAO 9303 Part 11 §6.1): the chip signs the terminal's
//! challenge with the private key whose public half is in DG15.
//!
//! - RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery. The chip
//!   returns `s`; `J = s^e mod n` (or `n - J` when `J` does not end in the nibble `C`,
//!   ISO/IEC 9796-2 §B.6) must be `6A || M1 || H(M1 || M2) || T` where `M2` is the challenge
//!   and the trailer `T` is `BC` (implicit SHA-1) or `hh CC` with the ISO/IEC 10118-3 hash
//!   identifier `hh` (33 SHA-1, 34 SHA-256, 35 SHA-512, 36 SHA-384, 38 SHA-224).
//! - ECDSA: a plain `r || s` signature (BSI TR-03111 §5.2.1) over the challenge, with the hash
//!   named by DG14's ActiveAuthenticationInfo.signatureAlgorithm.
//!
//! Rule for a missing hash: ECDSA Active Authentication needs the hash from DG14's
//! ActiveAuthenticationInfo (or passed by the caller). Without it the check is NOT_CHECKED with
//! `AA_HASH_ALGORITHM_UNKNOWN`: guessing SHA-256 would let a verification pass or fail for a
//! reason the report cannot show.

use const_oid::ObjectIdentifier;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::{PKey, Public};
use openssl::rsa::{Padding, Rsa};

use crate::oid;
use crate::pki::keys::public_key_from_spki;
use crate::pki::signature::DigestAlgorithm;
use crate::report::{Check, CheckName, Outcome, ReasonCode};

/// Why an ISO/IEC 9796-2 signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Iso9796Error {
    /// The signature is not smaller than the modulus or has the wrong length.
    BadLength,
    /// The recovered representative does not start with the scheme-1 partial-recovery header 6A.
    BadHeader,
    /// A trailer other than `BC` or `hh CC` with a known hash identifier.
    UnknownTrailer,
    /// `H(M1 || M2)` differs from the hash in the representative.
    HashMismatch,
    /// OpenSSL failed on the raw RSA operation.
    Crypto,
}

/// A successful ISO/IEC 9796-2 scheme-1 verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iso9796Recovery {
    /// The recovered message part M1.
    pub m1: Vec<u8>,
    pub digest: DigestAlgorithm,
    /// Whether the trailer was the explicit `hh CC` form.
    pub explicit_trailer: bool,
}

/// Verifies an ISO/IEC 9796-2 scheme-1 signature over `m2` (the non-recoverable part, the AA
/// challenge) and returns the recovered part.
pub fn verify_iso9796_2_scheme1(
    key: &Rsa<Public>,
    m2: &[u8],
    signature: &[u8],
) -> Result<Iso9796Recovery, Iso9796Error> {
    let k = usize::try_from(key.size()).map_err(|_| Iso9796Error::Crypto)?;
    if signature.is_empty() || signature.len() > k {
        return Err(Iso9796Error::BadLength);
    }
    let mut padded = vec![0u8; k - signature.len()];
    padded.extend_from_slice(signature);
    let s = BigNum::from_slice(&padded).map_err(|_| Iso9796Error::Crypto)?;
    if s >= *key.n() {
        return Err(Iso9796Error::BadLength);
    }
    let mut j = vec![0u8; k];
    let len = key
        .public_decrypt(&padded, &mut j, Padding::NONE)
        .map_err(|_| Iso9796Error::Crypto)?;
    j.truncate(len);
    if j.last().is_some_and(|b| b & 0x0F != 0x0C) {
        // ISO/IEC 9796-2 §B.6: the signer may have returned n - J instead of J.
        let jn = BigNum::from_slice(&j).map_err(|_| Iso9796Error::Crypto)?;
        let mut alt = BigNum::new().map_err(|_| Iso9796Error::Crypto)?;
        alt.checked_sub(key.n(), &jn)
            .map_err(|_| Iso9796Error::Crypto)?;
        j = alt
            .to_vec_padded(i32::try_from(k).unwrap_or(i32::MAX))
            .map_err(|_| Iso9796Error::Crypto)?;
    }
    // A modulus whose bit length is a multiple of 8 leaves a leading zero byte.
    let j = match j.split_first() {
        Some((0, rest)) => rest,
        _ => j.as_slice(),
    };
    let (digest, trailer_len, explicit_trailer) = match j {
        [.., 0xBC] => (DigestAlgorithm::Sha1, 1, false),
        [.., id, 0xCC] => {
            let d = match id {
                0x33 => DigestAlgorithm::Sha1,
                0x34 => DigestAlgorithm::Sha256,
                0x35 => DigestAlgorithm::Sha512,
                0x36 => DigestAlgorithm::Sha384,
                0x38 => DigestAlgorithm::Sha224,
                _ => return Err(Iso9796Error::UnknownTrailer),
            };
            (d, 2, true)
        }
        _ => return Err(Iso9796Error::UnknownTrailer),
    };
    let hash_len = digest.output_len();
    if j.first() != Some(&0x6A) || j.len() < 1 + hash_len + trailer_len {
        return Err(Iso9796Error::BadHeader);
    }
    let body = j
        .get(1..j.len() - trailer_len)
        .ok_or(Iso9796Error::BadLength)?;
    let (m1, hash) = body.split_at(body.len() - hash_len);
    let mut input = m1.to_vec();
    input.extend_from_slice(m2);
    let computed = digest.digest(&input).map_err(|_| Iso9796Error::Crypto)?;
    if computed != hash {
        return Err(Iso9796Error::HashMismatch);
    }
    Ok(Iso9796Recovery {
        m1: m1.to_vec(),
        digest,
        explicit_trailer,
    })
}

/// The hash of an ECDSA Active Authentication signature algorithm (BSI TR-03111
/// ecdsa-plain-SHA*, or the X9.62 ecdsa-with-SHA* some documents name).
pub fn ecdsa_aa_digest(signature_algorithm: ObjectIdentifier) -> Option<DigestAlgorithm> {
    Some(match signature_algorithm {
        oid::ECDSA_PLAIN_SHA1 | oid::ECDSA_WITH_SHA1 => DigestAlgorithm::Sha1,
        oid::ECDSA_PLAIN_SHA224 | oid::ECDSA_WITH_SHA224 => DigestAlgorithm::Sha224,
        oid::ECDSA_PLAIN_SHA256 | oid::ECDSA_WITH_SHA256 => DigestAlgorithm::Sha256,
        oid::ECDSA_PLAIN_SHA384 | oid::ECDSA_WITH_SHA384 => DigestAlgorithm::Sha384,
        oid::ECDSA_PLAIN_SHA512 | oid::ECDSA_WITH_SHA512 => DigestAlgorithm::Sha512,
        _ => return None,
    })
}

/// Verifies a plain `r || s` ECDSA signature (BSI TR-03111 §5.2.1) over `message`.
pub fn verify_ecdsa_plain(
    key: &PKey<Public>,
    digest: DigestAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let ec = key.ec_key()?;
    if signature.is_empty() || signature.len() % 2 != 0 {
        return Ok(false);
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let sig = EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
    let hash = openssl::hash::hash(digest.message_digest(), message)?;
    // ECDSA over a hash longer than the order is truncated by OpenSSL (X9.62 §7.4).
    sig.verify(&hash, &ec)
}

/// Verifies the chip's INTERNAL AUTHENTICATE `response` to `challenge` with the DG15 key
/// (`dg15_spki`, DER SubjectPublicKeyInfo). `aa_signature_algorithm` is DG14's
/// ActiveAuthenticationInfo.signatureAlgorithm, needed for ECDSA keys only.
pub fn verify_active_authentication(
    dg15_spki: &[u8],
    aa_signature_algorithm: Option<ObjectIdentifier>,
    challenge: &[u8],
    response: &[u8],
) -> Check {
    const NAME: CheckName = CheckName::ActiveAuthentication;
    let key = match public_key_from_spki(dg15_spki) {
        Ok(k) => k,
        Err(e) => {
            return Check::new(
                NAME,
                Outcome::NotChecked,
                ReasonCode::AaKeyUnsupported,
                format!("DG15 key: {e}"),
            );
        }
    };
    if let Ok(rsa) = key.rsa() {
        return match verify_iso9796_2_scheme1(&rsa, challenge, response) {
            Ok(_) => Check::passed(NAME),
            Err(Iso9796Error::Crypto) => Check::new(
                NAME,
                Outcome::NotChecked,
                ReasonCode::AaKeyUnsupported,
                "RSA operation failed",
            ),
            Err(e) => Check::failed(
                NAME,
                ReasonCode::AaSignatureInvalid,
                format!("ISO/IEC 9796-2 signature rejected: {e:?}"),
            ),
        };
    }
    if key.ec_key().is_ok() {
        let Some(digest) = aa_signature_algorithm.and_then(ecdsa_aa_digest) else {
            return Check::new(
                NAME,
                Outcome::NotChecked,
                ReasonCode::AaHashAlgorithmUnknown,
                "ECDSA Active Authentication needs DG14's ActiveAuthenticationInfo to name the hash",
            );
        };
        return match verify_ecdsa_plain(&key, digest, challenge, response) {
            Ok(true) => Check::passed(NAME),
            Ok(false) | Err(_) => Check::failed(
                NAME,
                ReasonCode::AaSignatureInvalid,
                format!("ECDSA ({}) signature does not verify", digest.name()),
            ),
        };
    }
    Check::new(
        NAME,
        Outcome::NotChecked,
        ReasonCode::AaKeyUnsupported,
        "DG15 key is neither RSA nor EC",
    )
}
