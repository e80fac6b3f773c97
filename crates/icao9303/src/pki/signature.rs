//! Digest and signature algorithms: identification from AlgorithmIdentifiers and verification
//! with OpenSSL. RSA PKCS#1 v1.5 and RSASSA-PSS (RFC 8017, parameters per RFC 4055 §3.1), ECDSA
//! with DER-encoded signatures (RFC 3279 §2.2.3) as used in X.509 and CMS.

use const_oid::ObjectIdentifier;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use serde::Serialize;

use super::der::{self, AlgorithmIdentifier};
use super::error::PkiError;
use crate::oid;
use crate::tlv::parse_single;

/// The hash functions ICAO 9303 Part 12 §6 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DigestAlgorithm {
    #[serde(rename = "SHA-1")]
    Sha1,
    #[serde(rename = "SHA-224")]
    Sha224,
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

impl DigestAlgorithm {
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        Some(match oid {
            oid::SHA1 => Self::Sha1,
            oid::SHA224 => Self::Sha224,
            oid::SHA256 => Self::Sha256,
            oid::SHA384 => Self::Sha384,
            oid::SHA512 => Self::Sha512,
            _ => return None,
        })
    }

    pub(crate) fn from_algorithm_identifier(alg: &AlgorithmIdentifier) -> Result<Self, PkiError> {
        Self::from_oid(alg.oid).ok_or_else(|| PkiError::UnsupportedAlgorithm(alg.oid.to_string()))
    }

    pub fn message_digest(self) -> MessageDigest {
        match self {
            Self::Sha1 => MessageDigest::sha1(),
            Self::Sha224 => MessageDigest::sha224(),
            Self::Sha256 => MessageDigest::sha256(),
            Self::Sha384 => MessageDigest::sha384(),
            Self::Sha512 => MessageDigest::sha512(),
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Result<Vec<u8>, PkiError> {
        Ok(openssl::hash::hash(self.message_digest(), data)?.to_vec())
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}

/// A signature scheme with all its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    RsaPkcs1v15(DigestAlgorithm),
    RsaPss {
        digest: DigestAlgorithm,
        mgf1_digest: DigestAlgorithm,
        salt_len: u32,
    },
    /// ECDSA with an ASN.1 DER `Ecdsa-Sig-Value`.
    Ecdsa(DigestAlgorithm),
}

impl SignatureScheme {
    /// Identifies the scheme from a signatureAlgorithm. `digest_hint` is the CMS SignerInfo's
    /// digestAlgorithm, used when the identifier names only the key type (rsaEncryption,
    /// id-ecPublicKey), which some issuers put in SignerInfo.signatureAlgorithm.
    pub fn from_algorithm_identifier(
        alg: &AlgorithmIdentifier,
        digest_hint: Option<DigestAlgorithm>,
    ) -> Result<Self, PkiError> {
        use DigestAlgorithm::*;
        let unsupported = || PkiError::UnsupportedAlgorithm(alg.oid.to_string());
        Ok(match alg.oid {
            oid::SHA1_WITH_RSA => Self::RsaPkcs1v15(Sha1),
            oid::SHA224_WITH_RSA => Self::RsaPkcs1v15(Sha224),
            oid::SHA256_WITH_RSA => Self::RsaPkcs1v15(Sha256),
            oid::SHA384_WITH_RSA => Self::RsaPkcs1v15(Sha384),
            oid::SHA512_WITH_RSA => Self::RsaPkcs1v15(Sha512),
            oid::RSA_ENCRYPTION => Self::RsaPkcs1v15(digest_hint.ok_or_else(unsupported)?),
            oid::ECDSA_WITH_SHA1 => Self::Ecdsa(Sha1),
            oid::ECDSA_WITH_SHA224 => Self::Ecdsa(Sha224),
            oid::ECDSA_WITH_SHA256 => Self::Ecdsa(Sha256),
            oid::ECDSA_WITH_SHA384 => Self::Ecdsa(Sha384),
            oid::ECDSA_WITH_SHA512 => Self::Ecdsa(Sha512),
            oid::EC_PUBLIC_KEY => Self::Ecdsa(digest_hint.ok_or_else(unsupported)?),
            oid::RSASSA_PSS => parse_pss_parameters(alg.non_null_parameters())?,
            _ => return Err(unsupported()),
        })
    }

    pub fn digest(&self) -> DigestAlgorithm {
        match *self {
            Self::RsaPkcs1v15(d) | Self::Ecdsa(d) => d,
            Self::RsaPss { digest, .. } => digest,
        }
    }

    /// A stable short name, e.g. `RSASSA-PSS/SHA-256`.
    pub fn name(&self) -> String {
        match self {
            Self::RsaPkcs1v15(d) => format!("RSA-PKCS1-v1_5/{}", d.name()),
            Self::RsaPss {
                digest, salt_len, ..
            } => {
                format!("RSASSA-PSS/{}/salt{}", digest.name(), salt_len)
            }
            Self::Ecdsa(d) => format!("ECDSA/{}", d.name()),
        }
    }
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1): every field has a SHA-1 / MGF1-SHA-1 / 20 / 1 default.
fn parse_pss_parameters(params: Option<&[u8]>) -> Result<SignatureScheme, PkiError> {
    const WHAT: &str = "RSASSA-PSS-params";
    let mut digest = DigestAlgorithm::Sha1;
    let mut mgf1_digest = DigestAlgorithm::Sha1;
    let mut salt_len = 20;
    if let Some(params) = params {
        let seq = parse_single(params).map_err(PkiError::tlv(WHAT))?;
        let mut r = seq.children();
        if let Some(h) = r.optional(0xA0).map_err(PkiError::tlv(WHAT))? {
            let alg = AlgorithmIdentifier::parse(
                &h.children().read().map_err(PkiError::tlv(WHAT))?,
                WHAT,
            )?;
            digest = DigestAlgorithm::from_algorithm_identifier(&alg)?;
        }
        if let Some(m) = r.optional(0xA1).map_err(PkiError::tlv(WHAT))? {
            let alg = AlgorithmIdentifier::parse(
                &m.children().read().map_err(PkiError::tlv(WHAT))?,
                WHAT,
            )?;
            if alg.oid != oid::MGF1 {
                return Err(PkiError::UnsupportedAlgorithm(format!(
                    "mask generation {}",
                    alg.oid
                )));
            }
            let inner = alg.parameters.as_deref().ok_or(PkiError::Malformed {
                what: WHAT,
                offset: m.offset,
            })?;
            let inner = parse_single(inner).map_err(PkiError::tlv(WHAT))?;
            mgf1_digest = DigestAlgorithm::from_algorithm_identifier(&AlgorithmIdentifier::parse(
                &inner, WHAT,
            )?)?;
        }
        if let Some(s) = r.optional(0xA2).map_err(PkiError::tlv(WHAT))? {
            salt_len = der::small_uint(&s.children().read().map_err(PkiError::tlv(WHAT))?, WHAT)?;
        }
        if let Some(t) = r.optional(0xA3).map_err(PkiError::tlv(WHAT))? {
            let trailer =
                der::small_uint(&t.children().read().map_err(PkiError::tlv(WHAT))?, WHAT)?;
            if trailer != 1 {
                return Err(PkiError::UnsupportedAlgorithm(format!(
                    "PSS trailerField {trailer}"
                )));
            }
        }
    }
    Ok(SignatureScheme::RsaPss {
        digest,
        mgf1_digest,
        salt_len,
    })
}

/// Verifies `signature` over `data`. `Ok(false)` is a wrong signature (or one for another key);
/// `Err` means the check could not be run (e.g. an RSA scheme with an EC key).
pub fn verify_signature(
    key: &PKey<Public>,
    scheme: &SignatureScheme,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, PkiError> {
    let is_rsa = key.rsa().is_ok();
    let is_ec = key.ec_key().is_ok();
    let mut verifier = Verifier::new(scheme.digest().message_digest(), key)?;
    match *scheme {
        SignatureScheme::RsaPkcs1v15(_) if is_rsa => verifier.set_rsa_padding(Padding::PKCS1)?,
        SignatureScheme::RsaPss {
            mgf1_digest,
            salt_len,
            ..
        } if is_rsa => {
            verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
            let salt = i32::try_from(salt_len).map_err(|_| {
                PkiError::UnsupportedAlgorithm(format!("PSS salt length {salt_len}"))
            })?;
            verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt))?;
            verifier.set_rsa_mgf1_md(mgf1_digest.message_digest())?;
        }
        SignatureScheme::Ecdsa(_) if is_ec => {}
        _ => {
            return Err(PkiError::BadKey(format!(
                "{} signature with a {:?} key",
                scheme.name(),
                key.id()
            )));
        }
    }
    verifier.update(data)?;
    // OpenSSL reports a malformed signature (e.g. bad ECDSA DER) as an error: that is a
    // failed signature, not a failure to check.
    Ok(verifier.verify(signature).unwrap_or(false))
}
