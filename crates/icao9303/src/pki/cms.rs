//! CMS SignedData (RFC 5652 §5) as used by EF.SOD (ICAO 9303 Part 10 §4.6.2) and CSCA master
//! lists (Part 12 §9), parsed with the BER reader (the New Zealand SOD uses indefinite lengths),
//! and the signer's signature check done here rather than by OpenSSL's CMS code, which refuses
//! Document Signer keys with explicit EC parameters.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, content [0] EXPLICIT ANY }
//! SignedData ::= SEQUENCE {
//!   version CMSVersion, digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier, signature OCTET STRING,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```

use const_oid::ObjectIdentifier;
use openssl::pkey::{PKey, Public};
use time::OffsetDateTime;

use super::certificate::Certificate;
use super::der::{self, AlgorithmIdentifier, INTEGER, SEQUENCE, SET};
use super::error::PkiError;
use super::name::Name;
use super::signature::{DigestAlgorithm, SignatureScheme, verify_signature};
use crate::oid;
use crate::tlv::{Tlv, TlvReader};

/// `SignerIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] }`
#[derive(Debug, Clone)]
pub enum SignerIdentifier {
    IssuerAndSerialNumber { issuer: Name, serial: Vec<u8> },
    SubjectKeyIdentifier(Vec<u8>),
}

impl SignerIdentifier {
    /// Whether `cert` is the certificate this identifier names (issuer compared semantically).
    pub fn identifies(&self, cert: &Certificate) -> bool {
        match self {
            Self::IssuerAndSerialNumber { issuer, serial } => {
                strip_sign(serial) == strip_sign(&cert.serial) && issuer.matches(&cert.issuer)
            }
            Self::SubjectKeyIdentifier(ski) => match &cert.subject_key_identifier {
                Some(id) => id == ski,
                // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
                None => cert.public_key_sha1().as_deref() == Some(ski.as_slice()),
            },
        }
    }
}

fn strip_sign(serial: &[u8]) -> &[u8] {
    match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => serial,
    }
}

/// One signed attribute: its type and the encoded values of its SET.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub oid: ObjectIdentifier,
    pub values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SignerInfo {
    pub sid: SignerIdentifier,
    pub digest_algorithm: AlgorithmIdentifier,
    /// The signed attributes re-encoded as the DER `SET OF` that was signed (RFC 5652 §5.4).
    pub signed_attributes_der: Option<Vec<u8>>,
    pub signed_attributes: Vec<Attribute>,
    pub signature_algorithm: AlgorithmIdentifier,
    pub signature: Vec<u8>,
}

impl SignerInfo {
    fn attribute(&self, oid: ObjectIdentifier) -> Option<&Attribute> {
        self.signed_attributes.iter().find(|a| a.oid == oid)
    }

    /// The messageDigest attribute's OCTET STRING value.
    pub fn message_digest(&self) -> Option<Vec<u8>> {
        let value = self.attribute(oid::MESSAGE_DIGEST)?.values.first()?;
        let tlv = crate::tlv::parse_single(value).ok()?;
        der::octet_string(&tlv, "messageDigest").ok()
    }

    /// The contentType attribute.
    pub fn content_type(&self) -> Option<ObjectIdentifier> {
        let value = self.attribute(oid::CONTENT_TYPE)?.values.first()?;
        let tlv = crate::tlv::parse_single(value).ok()?;
        der::oid_from_tlv(&tlv, "contentType").ok()
    }

    /// The signingTime attribute (RFC 5652 §11.3), when present and well formed.
    pub fn signing_time(&self) -> Option<OffsetDateTime> {
        let value = self.attribute(oid::SIGNING_TIME)?.values.first()?;
        let tlv = crate::tlv::parse_single(value).ok()?;
        der::parse_time(&tlv, "signingTime").ok()
    }

    pub fn digest(&self) -> Result<DigestAlgorithm, PkiError> {
        DigestAlgorithm::from_algorithm_identifier(&self.digest_algorithm)
    }

    pub fn scheme(&self) -> Result<SignatureScheme, PkiError> {
        SignatureScheme::from_algorithm_identifier(&self.signature_algorithm, self.digest().ok())
    }
}

/// A parsed SignedData.
#[derive(Debug, Clone)]
pub struct SignedData {
    pub version: u32,
    pub digest_algorithms: Vec<AlgorithmIdentifier>,
    pub content_type: ObjectIdentifier,
    /// eContent (joined if BER-segmented); empty when detached.
    pub content: Vec<u8>,
    /// The certificates field, each DER certificate as found (other choices skipped).
    pub certificates: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo>,
}

/// Outcome of checking one SignerInfo against content and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerCheck {
    Valid,
    /// The messageDigest attribute is missing or differs from the digest of eContent.
    MessageDigestMismatch,
    /// The contentType attribute differs from eContentType (RFC 5652 §11.1).
    ContentTypeMismatch,
    /// The signature does not verify with the key.
    SignatureInvalid,
}

impl SignedData {
    /// Parses a DER/BER ContentInfo holding SignedData.
    pub fn from_content_info(data: &[u8]) -> Result<Self, PkiError> {
        const WHAT: &str = "ContentInfo";
        let mut outer = TlvReader::new(data);
        let ci = der::expect(&mut outer, SEQUENCE, WHAT)?;
        let mut r = ci.children();
        if der::read_oid(&mut r, WHAT)? != oid::SIGNED_DATA {
            return Err(PkiError::Malformed {
                what: "ContentInfo (not SignedData)",
                offset: ci.offset,
            });
        }
        let content = der::expect(&mut r, 0xA0, WHAT)?;
        let sd = content
            .children()
            .expect(SEQUENCE)
            .map_err(PkiError::tlv("SignedData"))?;
        Self::from_tlv(&sd)
    }

    fn from_tlv(sd: &Tlv<'_>) -> Result<Self, PkiError> {
        const WHAT: &str = "SignedData";
        let mut r = sd.children();
        let version = der::small_uint(&der::expect(&mut r, INTEGER, WHAT)?, WHAT)?;
        let algs = der::expect(&mut r, SET, WHAT)?;
        let mut digest_algorithms = Vec::new();
        let mut ar = algs.children();
        while let Some(a) = ar.next_tlv() {
            digest_algorithms.push(AlgorithmIdentifier::parse(
                &a.map_err(PkiError::tlv(WHAT))?,
                WHAT,
            )?);
        }
        let encap = der::expect(&mut r, SEQUENCE, WHAT)?;
        let mut er = encap.children();
        let content_type = der::read_oid(&mut er, "EncapsulatedContentInfo")?;
        let content = match er.optional(0xA0).map_err(PkiError::tlv(WHAT))? {
            Some(explicit) => {
                let octets = explicit
                    .children()
                    .read()
                    .map_err(PkiError::tlv("eContent"))?;
                der::octet_string(&octets, "eContent")?
            }
            None => Vec::new(),
        };
        let mut certificates = Vec::new();
        if let Some(certs) = r.optional(0xA0).map_err(PkiError::tlv(WHAT))? {
            let mut cr = certs.children();
            while let Some(c) = cr.next_tlv() {
                let c = c.map_err(PkiError::tlv("certificates"))?;
                if c.tag == SEQUENCE {
                    certificates.push(c.raw.to_vec());
                }
            }
        }
        r.optional(0xA1).map_err(PkiError::tlv(WHAT))?;
        let infos = der::expect(&mut r, SET, WHAT)?;
        let mut signer_infos = Vec::new();
        let mut ir = infos.children();
        while let Some(si) = ir.next_tlv() {
            signer_infos.push(parse_signer_info(
                &si.map_err(PkiError::tlv("SignerInfo"))?,
            )?);
        }
        Ok(Self {
            version,
            digest_algorithms,
            content_type,
            content,
            certificates,
            signer_infos,
        })
    }

    /// The embedded certificates that parse (unparseable ones are skipped).
    pub fn parsed_certificates(&self) -> Vec<Certificate> {
        self.certificates
            .iter()
            .filter_map(|c| Certificate::from_der(c).ok())
            .collect()
    }

    /// Checks a SignerInfo: contentType and messageDigest attributes against the content, then
    /// the signature over the DER signed attributes (or over the content when there are none).
    pub fn check_signer(
        &self,
        signer: &SignerInfo,
        key: &PKey<Public>,
    ) -> Result<SignerCheck, PkiError> {
        let scheme = signer.scheme()?;
        let signed = match &signer.signed_attributes_der {
            Some(attrs) => {
                let digest = signer.digest()?.digest(&self.content)?;
                if signer.message_digest().as_deref() != Some(digest.as_slice()) {
                    return Ok(SignerCheck::MessageDigestMismatch);
                }
                if signer.content_type() != Some(self.content_type) {
                    return Ok(SignerCheck::ContentTypeMismatch);
                }
                attrs.as_slice()
            }
            None => self.content.as_slice(),
        };
        Ok(
            if verify_signature(key, &scheme, signed, &signer.signature)? {
                SignerCheck::Valid
            } else {
                SignerCheck::SignatureInvalid
            },
        )
    }
}

fn parse_signer_info(si: &Tlv<'_>) -> Result<SignerInfo, PkiError> {
    const WHAT: &str = "SignerInfo";
    let mut r = si.children();
    der::expect(&mut r, INTEGER, WHAT)?;
    let sid_tlv = r.read().map_err(PkiError::tlv(WHAT))?;
    let sid = match sid_tlv.tag {
        SEQUENCE => {
            let mut s = sid_tlv.children();
            let issuer = Name::from_tlv(&s.read().map_err(PkiError::tlv(WHAT))?)?;
            let serial = der::expect(&mut s, INTEGER, WHAT)?.value.to_vec();
            SignerIdentifier::IssuerAndSerialNumber { issuer, serial }
        }
        0x80 => SignerIdentifier::SubjectKeyIdentifier(sid_tlv.value.to_vec()),
        _ => {
            return Err(PkiError::Malformed {
                what: "SignerIdentifier",
                offset: sid_tlv.offset,
            });
        }
    };
    let digest_algorithm = AlgorithmIdentifier::parse(&der::expect(&mut r, SEQUENCE, WHAT)?, WHAT)?;
    let mut signed_attributes = Vec::new();
    let mut signed_attributes_der = None;
    if let Some(attrs) = r.optional(0xA0).map_err(PkiError::tlv(WHAT))? {
        // RFC 5652 §5.4: the signature covers the DER SET OF, i.e. the [0] with tag 0x31.
        signed_attributes_der = Some(crate::tlv::encode(SET, attrs.value));
        let mut ar = attrs.children();
        while let Some(a) = ar.next_tlv() {
            let a = a.map_err(PkiError::tlv("Attribute"))?;
            let mut ac = a.children();
            let oid = der::read_oid(&mut ac, "Attribute")?;
            let set = der::expect(&mut ac, SET, "Attribute")?;
            let mut values = Vec::new();
            let mut vr = set.children();
            while let Some(v) = vr.next_tlv() {
                values.push(v.map_err(PkiError::tlv("Attribute"))?.raw.to_vec());
            }
            signed_attributes.push(Attribute { oid, values });
        }
    }
    let signature_algorithm =
        AlgorithmIdentifier::parse(&der::expect(&mut r, SEQUENCE, WHAT)?, WHAT)?;
    let signature = der::octet_string(&r.read().map_err(PkiError::tlv(WHAT))?, "signature")?;
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attributes_der,
        signed_attributes,
        signature_algorithm,
        signature,
    })
}
