//! Digest, key and signature algorithms, with their object identifiers and key generation.

use openssl::ec::{Asn1Flag, EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};

use crate::Error;
use crate::der::{self, Oid};

pub(crate) mod oids {
    use crate::der::Oid;
    pub const SHA1: Oid = &[1, 3, 14, 3, 2, 26];
    pub const SHA224: Oid = &[2, 16, 840, 1, 101, 3, 4, 2, 4];
    pub const SHA256: Oid = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
    pub const SHA384: Oid = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
    pub const SHA512: Oid = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
    pub const SHA1_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 5];
    pub const SHA224_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 14];
    pub const SHA256_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 11];
    pub const SHA384_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 12];
    pub const SHA512_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 13];
    pub const RSASSA_PSS: Oid = &[1, 2, 840, 113549, 1, 1, 10];
    pub const MGF1: Oid = &[1, 2, 840, 113549, 1, 1, 8];
    pub const ECDSA_WITH_SHA1: Oid = &[1, 2, 840, 10045, 4, 1];
    pub const ECDSA_WITH_SHA224: Oid = &[1, 2, 840, 10045, 4, 3, 1];
    pub const ECDSA_WITH_SHA256: Oid = &[1, 2, 840, 10045, 4, 3, 2];
    pub const ECDSA_WITH_SHA384: Oid = &[1, 2, 840, 10045, 4, 3, 3];
    pub const ECDSA_WITH_SHA512: Oid = &[1, 2, 840, 10045, 4, 3, 4];
    /// BSI TR-03111 ecdsa-plain-signatures, used by ActiveAuthenticationInfo.
    pub const ECDSA_PLAIN_SHA1: Oid = &[0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1];
    pub const ECDSA_PLAIN_SHA224: Oid = &[0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2];
    pub const ECDSA_PLAIN_SHA256: Oid = &[0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3];
    pub const ECDSA_PLAIN_SHA384: Oid = &[0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4];
    pub const ECDSA_PLAIN_SHA512: Oid = &[0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5];
}

/// A hash function, for the data group hashes and the CMS signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub const ALL: [DigestAlgorithm; 5] = [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha224,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ];

    /// The object identifier of the hash function (RFC 3279 §2.1, RFC 5754 §2).
    pub fn oid(self) -> Oid {
        match self {
            DigestAlgorithm::Sha1 => oids::SHA1,
            DigestAlgorithm::Sha224 => oids::SHA224,
            DigestAlgorithm::Sha256 => oids::SHA256,
            DigestAlgorithm::Sha384 => oids::SHA384,
            DigestAlgorithm::Sha512 => oids::SHA512,
        }
    }

    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha224 => 28,
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    pub fn message_digest(self) -> MessageDigest {
        match self {
            DigestAlgorithm::Sha1 => MessageDigest::sha1(),
            DigestAlgorithm::Sha224 => MessageDigest::sha224(),
            DigestAlgorithm::Sha256 => MessageDigest::sha256(),
            DigestAlgorithm::Sha384 => MessageDigest::sha384(),
            DigestAlgorithm::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(openssl::hash::hash(self.message_digest(), data)?.to_vec())
    }

    /// AlgorithmIdentifier with absent parameters, as RFC 5754 §2 asks for CMS.
    pub(crate) fn algorithm_identifier(self) -> Vec<u8> {
        der::algorithm(self.oid())
    }

    /// AlgorithmIdentifier with NULL parameters, as in RSASSA-PSS-params (RFC 4055 §2.1).
    fn algorithm_identifier_null(self) -> Vec<u8> {
        der::algorithm_with(self.oid(), &der::null())
    }

    /// ecdsa-plain-SHA* of BSI TR-03111, for ActiveAuthenticationInfo.
    pub(crate) fn ecdsa_plain_oid(self) -> Oid {
        match self {
            DigestAlgorithm::Sha1 => oids::ECDSA_PLAIN_SHA1,
            DigestAlgorithm::Sha224 => oids::ECDSA_PLAIN_SHA224,
            DigestAlgorithm::Sha256 => oids::ECDSA_PLAIN_SHA256,
            DigestAlgorithm::Sha384 => oids::ECDSA_PLAIN_SHA384,
            DigestAlgorithm::Sha512 => oids::ECDSA_PLAIN_SHA512,
        }
    }
}

/// A named elliptic curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
    BrainpoolP256r1,
    BrainpoolP384r1,
    BrainpoolP512r1,
}

impl Curve {
    pub const ALL: [Curve; 6] = [
        Curve::P256,
        Curve::P384,
        Curve::P521,
        Curve::BrainpoolP256r1,
        Curve::BrainpoolP384r1,
        Curve::BrainpoolP512r1,
    ];

    fn nid(self) -> Nid {
        match self {
            Curve::P256 => Nid::X9_62_PRIME256V1,
            Curve::P384 => Nid::SECP384R1,
            Curve::P521 => Nid::SECP521R1,
            Curve::BrainpoolP256r1 => Nid::BRAINPOOL_P256R1,
            Curve::BrainpoolP384r1 => Nid::BRAINPOOL_P384R1,
            Curve::BrainpoolP512r1 => Nid::BRAINPOOL_P512R1,
        }
    }

    /// The digest whose strength matches the curve, used when the CSCA signs with this curve.
    pub fn matching_digest(self) -> DigestAlgorithm {
        match self {
            Curve::P256 | Curve::BrainpoolP256r1 => DigestAlgorithm::Sha256,
            Curve::P384 | Curve::BrainpoolP384r1 => DigestAlgorithm::Sha384,
            Curve::P521 | Curve::BrainpoolP512r1 => DigestAlgorithm::Sha512,
        }
    }
}

/// Type and size of a key pair to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA with public exponent 65537 and a modulus of this many bits.
    Rsa(u32),
    Ec(Curve),
}

impl KeyAlgorithm {
    /// A fresh random key pair. With `explicit_parameters`, an EC key's public key
    /// encodes the full curve domain parameters instead of the curve's OID, as many
    /// real passports do (RFC 3279 §2.3.5 `specifiedCurve`/ecParameters).
    pub fn generate(self, explicit_parameters: bool) -> Result<PKey<Private>, Error> {
        match self {
            KeyAlgorithm::Rsa(bits) => Ok(PKey::from_rsa(Rsa::generate(bits)?)?),
            KeyAlgorithm::Ec(curve) => {
                let mut group = EcGroup::from_curve_name(curve.nid())?;
                if explicit_parameters {
                    group.set_asn1_flag(Asn1Flag::EXPLICIT_CURVE);
                }
                let key = EcKey::generate(&group)?;
                Ok(PKey::from_ec_key(key)?)
            }
        }
    }

    /// The digest a CSCA with this key signs certificates and CRLs with.
    pub(crate) fn certificate_digest(self) -> DigestAlgorithm {
        match self {
            KeyAlgorithm::Rsa(_) => DigestAlgorithm::Sha256,
            KeyAlgorithm::Ec(curve) => curve.matching_digest(),
        }
    }
}

/// How the Document Signer signs the SOD (RFC 5652 §5.3 signatureAlgorithm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5, `sha*WithRSAEncryption` (RFC 4055 §5).
    RsaPkcs1v15,
    /// RSASSA-PSS with explicit parameters: the same hash for MGF1, salt length = hash length (RFC 4055 §3).
    RsaPss,
    /// ECDSA, `ecdsa-with-SHA*` (RFC 5758 §3.2), signature as DER Ecdsa-Sig-Value.
    Ecdsa,
}

impl SignatureScheme {
    /// The scheme that fits a key: PKCS#1 v1.5 for RSA, ECDSA for EC.
    pub fn default_for(key: KeyAlgorithm) -> SignatureScheme {
        match key {
            KeyAlgorithm::Rsa(_) => SignatureScheme::RsaPkcs1v15,
            KeyAlgorithm::Ec(_) => SignatureScheme::Ecdsa,
        }
    }

    /// The signatureAlgorithm AlgorithmIdentifier for this scheme with `digest`.
    pub fn algorithm_identifier(self, digest: DigestAlgorithm) -> Vec<u8> {
        match self {
            SignatureScheme::RsaPkcs1v15 => {
                let id = match digest {
                    DigestAlgorithm::Sha1 => oids::SHA1_WITH_RSA,
                    DigestAlgorithm::Sha224 => oids::SHA224_WITH_RSA,
                    DigestAlgorithm::Sha256 => oids::SHA256_WITH_RSA,
                    DigestAlgorithm::Sha384 => oids::SHA384_WITH_RSA,
                    DigestAlgorithm::Sha512 => oids::SHA512_WITH_RSA,
                };
                der::algorithm_with(id, &der::null())
            }
            SignatureScheme::Ecdsa => der::algorithm(match digest {
                DigestAlgorithm::Sha1 => oids::ECDSA_WITH_SHA1,
                DigestAlgorithm::Sha224 => oids::ECDSA_WITH_SHA224,
                DigestAlgorithm::Sha256 => oids::ECDSA_WITH_SHA256,
                DigestAlgorithm::Sha384 => oids::ECDSA_WITH_SHA384,
                DigestAlgorithm::Sha512 => oids::ECDSA_WITH_SHA512,
            }),
            SignatureScheme::RsaPss => {
                // RSASSA-PSS-params (RFC 4055 §3.1); fields equal to their DEFAULT
                // (SHA-1, MGF1-SHA1, salt 20) are omitted as DER requires.
                let hash = digest.algorithm_identifier_null();
                let mgf = der::algorithm_with(oids::MGF1, &hash);
                let mut params: Vec<Vec<u8>> = Vec::new();
                if digest != DigestAlgorithm::Sha1 {
                    params.push(der::explicit(0, &hash));
                    params.push(der::explicit(1, &mgf));
                    params.push(der::explicit(
                        2,
                        &der::integer_u64(digest.output_len() as u64),
                    ));
                }
                let refs: Vec<&[u8]> = params.iter().map(Vec::as_slice).collect();
                der::algorithm_with(oids::RSASSA_PSS, &der::sequence(&refs))
            }
        }
    }

    /// Whether this scheme can sign with `key`.
    pub(crate) fn fits(self, key: &PKey<Private>) -> bool {
        match self {
            SignatureScheme::RsaPkcs1v15 | SignatureScheme::RsaPss => key.id() == Id::RSA,
            SignatureScheme::Ecdsa => key.id() == Id::EC,
        }
    }

    /// Signs `data` (hashing it with `digest`).
    pub(crate) fn sign(
        self,
        key: &PKey<Private>,
        digest: DigestAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, Error> {
        if !self.fits(key) {
            return Err(Error::KeyMismatch(format!(
                "signature scheme {self:?} cannot sign with a {:?} key",
                key.id()
            )));
        }
        let mut signer = Signer::new(digest.message_digest(), key)?;
        if self == SignatureScheme::RsaPss {
            signer.set_rsa_padding(Padding::PKCS1_PSS)?;
            signer.set_rsa_mgf1_md(digest.message_digest())?;
            signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
        }
        Ok(signer.sign_oneshot_to_vec(data)?)
    }
}

/// The SubjectPublicKeyInfo of `key`, DER (RFC 5280 §4.1.2.7).
pub(crate) fn subject_public_key_info(key: &PKey<Private>) -> Result<Vec<u8>, Error> {
    Ok(key.public_key_to_der()?)
}
