//! DG15: the Active Authentication public key (ICAO 9303 Part 10 §4.7.15, Part 11 §6.1).

use const_oid::ObjectIdentifier as Oid;

use super::security_infos::public_key_algorithm;
use super::{LdsError, outer};
use crate::oid;

/// The kind of Active Authentication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyType {
    /// `rsaEncryption`: AA signatures per ISO/IEC 9796-2 scheme 1.
    Rsa,
    /// `id-ecPublicKey`: AA signatures per ECDSA (algorithm named in DG14's ActiveAuthenticationInfo).
    Ec,
}

/// DG15, the chip's Active Authentication public key.
///
/// ```text
/// 6F { SubjectPublicKeyInfo }   -- RFC 5280 §4.1: SEQUENCE { AlgorithmIdentifier, BIT STRING }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg15 {
    /// The SubjectPublicKeyInfo, DER as stored (EC keys may use explicit curve parameters).
    pub subject_public_key_info: Vec<u8>,
    pub key_type: PublicKeyType,
    pub algorithm: Oid,
}

impl Dg15 {
    pub fn parse(data: &[u8]) -> Result<Dg15, LdsError> {
        let dg15 = outer(data, 0x6F)?;
        let mut reader = dg15.children();
        let spki = reader.expect(0x30)?;
        reader.finish()?;
        let algorithm = public_key_algorithm(&spki)?;
        let key_type = if algorithm == oid::RSA_ENCRYPTION {
            PublicKeyType::Rsa
        } else if algorithm == oid::EC_PUBLIC_KEY {
            PublicKeyType::Ec
        } else {
            return Err(LdsError::Unsupported {
                offset: spki.offset,
                what: "Active Authentication key algorithm",
            });
        };
        Ok(Dg15 {
            subject_public_key_info: spki.raw.to_vec(),
            key_type,
            algorithm,
        })
    }
}
