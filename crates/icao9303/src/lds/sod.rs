//! EF.SOD, the Document Security Object (ICAO 9303 Part 10 §4.6.2): tag `0x77` around a CMS
//! SignedData whose eContent is an LDSSecurityObject.
//!
//! ```text
//! LDSSecurityObject ::= SEQUENCE {
//!   version LDSSecurityObjectVersion,            -- v0(0), v1(1)
//!   hashAlgorithm DigestAlgorithmIdentifier,
//!   dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
//!   ldsVersionInfo LDSVersionInfo OPTIONAL }     -- present in v1
//! DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER (1..16), dataGroupHashValue OCTET STRING }
//! LDSVersionInfo ::= SEQUENCE { ldsVersion PrintableString, unicodeVersion PrintableString }
//! ```

use std::collections::BTreeMap;

use crate::pki::cms::SignedData;
use crate::pki::der::{self, AlgorithmIdentifier, INTEGER, OCTET_STRING, SEQUENCE};
use crate::pki::error::PkiError;
use crate::pki::signature::DigestAlgorithm;
use crate::tlv::TlvReader;

/// EF.SOD's application tag (ICAO 9303 Part 10 §4.6.2).
pub const SOD_TAG: u32 = 0x77;

/// The LDS security object: which hash, and the hash of each data group.
#[derive(Debug, Clone)]
pub struct LdsSecurityObject {
    pub version: u32,
    pub hash_algorithm: DigestAlgorithm,
    /// Data-group number (1..=16) to hash value.
    pub data_group_hashes: BTreeMap<u8, Vec<u8>>,
    /// `(ldsVersion, unicodeVersion)` of a v1 object, e.g. `("0108", "040000")`.
    pub version_info: Option<(String, String)>,
}

impl LdsSecurityObject {
    pub fn from_der(data: &[u8]) -> Result<Self, PkiError> {
        const WHAT: &str = "LDSSecurityObject";
        let mut outer = TlvReader::new(data);
        let seq = der::expect(&mut outer, SEQUENCE, WHAT)?;
        let mut r = seq.children();
        let version = der::small_uint(&der::expect(&mut r, INTEGER, WHAT)?, WHAT)?;
        if version > 1 {
            return Err(PkiError::Malformed {
                what: "LDSSecurityObject version",
                offset: seq.offset,
            });
        }
        let alg = AlgorithmIdentifier::parse(&der::expect(&mut r, SEQUENCE, WHAT)?, WHAT)?;
        let hash_algorithm = DigestAlgorithm::from_algorithm_identifier(&alg)?;
        let hashes = der::expect(&mut r, SEQUENCE, WHAT)?;
        let mut data_group_hashes = BTreeMap::new();
        let mut hr = hashes.children();
        while let Some(h) = hr.next_tlv() {
            let h = h.map_err(PkiError::tlv("DataGroupHash"))?;
            let mut e = h.children();
            let number_tlv = der::expect(&mut e, INTEGER, "DataGroupHash")?;
            let number = der::small_uint(&number_tlv, "dataGroupNumber")?;
            let number = u8::try_from(number)
                .ok()
                .filter(|n| (1..=16).contains(n))
                .ok_or(PkiError::Malformed {
                    what: "dataGroupNumber",
                    offset: number_tlv.offset,
                })?;
            let value = der::expect(&mut e, OCTET_STRING, "DataGroupHash")?;
            if data_group_hashes
                .insert(number, value.value.to_vec())
                .is_some()
            {
                return Err(PkiError::Malformed {
                    what: "duplicate dataGroupNumber",
                    offset: h.offset,
                });
            }
        }
        let version_info = match r.optional(SEQUENCE).map_err(PkiError::tlv(WHAT))? {
            Some(info) => {
                let mut ir = info.children();
                let lds = ir.read().map_err(PkiError::tlv("LDSVersionInfo"))?;
                let unicode = ir.read().map_err(PkiError::tlv("LDSVersionInfo"))?;
                Some((
                    String::from_utf8_lossy(lds.value).into_owned(),
                    String::from_utf8_lossy(unicode.value).into_owned(),
                ))
            }
            None => None,
        };
        Ok(Self {
            version,
            hash_algorithm,
            data_group_hashes,
            version_info,
        })
    }
}

/// A parsed EF.SOD.
#[derive(Debug, Clone)]
pub struct Sod {
    pub signed_data: SignedData,
    pub security_object: LdsSecurityObject,
}

impl Sod {
    /// Parses EF.SOD (with its `0x77` tag; a bare ContentInfo is accepted too).
    pub fn parse(data: &[u8]) -> Result<Self, PkiError> {
        let mut r = TlvReader::new(data);
        let first = r.read().map_err(PkiError::tlv("EF.SOD"))?;
        let content_info = if first.tag == SOD_TAG {
            first.value
        } else {
            first.raw
        };
        let signed_data = SignedData::from_content_info(content_info)?;
        let security_object = LdsSecurityObject::from_der(&signed_data.content)?;
        Ok(Self {
            signed_data,
            security_object,
        })
    }
}
