//! EF.SOD: the LDSSecurityObject in a CMS SignedData (ICAO 9303 Part 10 §4.6.2, RFC 5652 §5).

use time::OffsetDateTime;

use crate::Error;
use crate::algorithms::{DigestAlgorithm, SignatureScheme};
use crate::der::{self, Oid};
use crate::pki::DocumentSigner;

/// id-icao-mrtd-security-ldsSecurityObject (ICAO 9303 Part 10 §4.6.2.2).
const ID_LDS_SECURITY_OBJECT: Oid = &[2, 23, 136, 1, 1, 1];
const ID_SIGNED_DATA: Oid = &[1, 2, 840, 113549, 1, 7, 2];
const ID_CONTENT_TYPE: Oid = &[1, 2, 840, 113549, 1, 9, 3];
const ID_MESSAGE_DIGEST: Oid = &[1, 2, 840, 113549, 1, 9, 4];
const ID_SIGNING_TIME: Oid = &[1, 2, 840, 113549, 1, 9, 5];
pub(crate) const TAG_SOD: u32 = 0x77;

/// Which LDSSecurityObject version to write (ICAO 9303 Part 10 §4.6.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LdsSecurityObjectVersion {
    /// v0: no ldsVersionInfo; EF.COM says LDS 1.7.
    V0,
    /// v1: with ldsVersionInfo (LDS "0108", Unicode "040000"); EF.COM says LDS 1.8.
    V1,
}

impl LdsSecurityObjectVersion {
    /// The LDS version string for EF.COM and ldsVersionInfo.
    pub fn lds_version(self) -> &'static str {
        match self {
            LdsSecurityObjectVersion::V0 => "0107",
            LdsSecurityObjectVersion::V1 => "0108",
        }
    }
}

/// How the SignerInfo names the Document Signer (RFC 5652 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignerIdentifier {
    /// issuerAndSerialNumber, SignerInfo version 1 (what ICAO 9303 Part 10 §4.6.2.3 recommends).
    IssuerAndSerialNumber,
    /// subjectKeyIdentifier, SignerInfo version 3.
    SubjectKeyIdentifier,
}

/// Everything that decides how the SOD is signed, kept so the SOD can be re-signed.
#[derive(Clone, Debug)]
pub(crate) struct SodSettings {
    pub digest: DigestAlgorithm,
    pub scheme: Option<SignatureScheme>,
    pub include_certificate: bool,
    pub signer_identifier: SignerIdentifier,
    pub signing_time: Option<OffsetDateTime>,
}

/// LDSSecurityObject DER: `hashes` are (data group number, hash) pairs.
pub(crate) fn lds_security_object(
    version: LdsSecurityObjectVersion,
    hash_algorithm: DigestAlgorithm,
    hashes: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let groups: Vec<Vec<u8>> = hashes
        .iter()
        .map(|(n, h)| der::sequence(&[&der::integer_u64(u64::from(*n)), &der::octet_string(h)]))
        .collect();
    let group_refs: Vec<&[u8]> = groups.iter().map(Vec::as_slice).collect();
    let version_number = der::integer_u64(match version {
        LdsSecurityObjectVersion::V0 => 0,
        LdsSecurityObjectVersion::V1 => 1,
    });
    let algorithm = hash_algorithm.algorithm_identifier();
    let hash_values = der::sequence(&group_refs);
    match version {
        LdsSecurityObjectVersion::V0 => der::sequence(&[&version_number, &algorithm, &hash_values]),
        LdsSecurityObjectVersion::V1 => {
            let info = der::sequence(&[
                &der::printable_string(version.lds_version()),
                &der::printable_string("040000"),
            ]);
            der::sequence(&[&version_number, &algorithm, &hash_values, &info])
        }
    }
}

fn attribute(id: Oid, value: &[u8]) -> Vec<u8> {
    der::sequence(&[&der::oid(id), &der::set_of(&[value])])
}

/// EF.SOD: tag 77 around a ContentInfo with the SignedData over `lds_security_object`.
pub(crate) fn signed_sod(
    lds_security_object: &[u8],
    ds: &DocumentSigner,
    settings: &SodSettings,
) -> Result<Vec<u8>, Error> {
    let digest = settings.digest;
    let scheme = settings
        .scheme
        .unwrap_or_else(|| SignatureScheme::default_for(ds.key_algorithm()));
    let signing_time = settings.signing_time.unwrap_or_else(|| {
        // Inside the DS validity, so that an expired DS still made a plausible signature.
        let not_after = ds.not_after();
        if ds.now() > not_after {
            not_after - time::Duration::days(30)
        } else {
            ds.now()
        }
    });
    let signed_attributes = der::set_of(&[
        &attribute(ID_CONTENT_TYPE, &der::oid(ID_LDS_SECURITY_OBJECT)),
        &attribute(
            ID_MESSAGE_DIGEST,
            &der::octet_string(&digest.digest(lds_security_object)?),
        ),
        &attribute(ID_SIGNING_TIME, &der::time(signing_time)),
    ]);
    // The signature covers the attributes' DER with the SET OF tag (RFC 5652 §5.4).
    let signature = scheme.sign(ds.private_key(), digest, &signed_attributes)?;
    let mut implicit_attributes = signed_attributes;
    if let Some(tag) = implicit_attributes.first_mut() {
        *tag = 0xA0;
    }

    let certificate = ds.certificate();
    let (version, sid) = match settings.signer_identifier {
        SignerIdentifier::IssuerAndSerialNumber => {
            let serial = certificate.serial_number().to_bn()?.to_vec();
            let issuer = certificate.issuer_name().to_der()?;
            (
                1,
                der::sequence(&[&issuer, &der::integer_unsigned(&serial)]),
            )
        }
        SignerIdentifier::SubjectKeyIdentifier => {
            let key_id = certificate.subject_key_id().ok_or_else(|| {
                Error::InvalidOption("the DS certificate has no subjectKeyIdentifier".to_owned())
            })?;
            (3, der::tlv(0x80, key_id.as_slice()))
        }
    };
    let signer_info = der::sequence(&[
        &der::integer_u64(version),
        &sid,
        &digest.algorithm_identifier(),
        &implicit_attributes,
        &scheme.algorithm_identifier(digest),
        &der::octet_string(&signature),
    ]);
    let encapsulated = der::sequence(&[
        &der::oid(ID_LDS_SECURITY_OBJECT),
        &der::explicit(0, &der::octet_string(lds_security_object)),
    ]);
    let mut parts: Vec<Vec<u8>> = vec![
        der::integer_u64(3),
        der::set_of(&[&digest.algorithm_identifier()]),
        encapsulated,
    ];
    if settings.include_certificate {
        parts.push(der::tlv(0xA0, &certificate.to_der()?));
    }
    parts.push(der::set_of(&[&signer_info]));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let signed_data = der::sequence(&refs);
    let content_info = der::sequence(&[&der::oid(ID_SIGNED_DATA), &der::explicit(0, &signed_data)]);
    Ok(der::tlv(TAG_SOD, &content_info))
}
