//! X.501 distinguished names (RFC 5280 §4.1.2.4), compared semantically.
//!
//! Passports carry names that differ bytewise for the same entity (the Malaysian SOD's
//! issuerAndSerialNumber lists the RDNs in another order than the certificate), so names are
//! compared as multisets of (attribute type, case-folded, whitespace-collapsed value), after
//! RFC 5280 §7.1 / RFC 4518 in a simplified form.

use std::fmt;

use const_oid::ObjectIdentifier;

use super::der::{self, SEQUENCE, SET};
use super::error::PkiError;
use crate::oid;
use crate::tlv::{self, Tlv, TlvReader};

/// `Name ::= SEQUENCE OF RelativeDistinguishedName`, with each attribute value decoded to text.
#[derive(Debug, Clone)]
pub struct Name {
    der: Vec<u8>,
    attributes: Vec<(ObjectIdentifier, String)>,
    /// Sorted, case-folded, whitespace-collapsed attributes: the comparison key.
    normalized: Vec<(ObjectIdentifier, String)>,
}

impl Name {
    /// Parses a DER/BER `Name`.
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        let tlv = tlv::parse_single(der).map_err(PkiError::tlv("Name"))?;
        Self::from_tlv(&tlv)
    }

    pub(crate) fn from_tlv(tlv: &Tlv<'_>) -> Result<Self, PkiError> {
        if tlv.tag != SEQUENCE {
            return Err(PkiError::Malformed {
                what: "Name",
                offset: tlv.offset,
            });
        }
        let mut attributes = Vec::new();
        let mut rdns = tlv.children();
        while let Some(rdn) = rdns.next_tlv() {
            let rdn = rdn.map_err(PkiError::tlv("Name"))?;
            if rdn.tag != SET {
                return Err(PkiError::Malformed {
                    what: "RelativeDistinguishedName",
                    offset: rdn.offset,
                });
            }
            let mut atvs = rdn.children();
            while let Some(atv) = atvs.next_tlv() {
                let atv = atv.map_err(PkiError::tlv("Name"))?;
                let mut r: TlvReader<'_> = atv.children();
                let oid = der::read_oid(&mut r, "AttributeTypeAndValue")?;
                let value = r.read().map_err(PkiError::tlv("AttributeTypeAndValue"))?;
                attributes.push((oid, decode_string(value.tag, value.value)));
            }
        }
        let normalized = normalize(&attributes);
        Ok(Self {
            der: tlv.raw.to_vec(),
            attributes,
            normalized,
        })
    }

    /// The encoding this name was parsed from.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The first value of an attribute type.
    pub fn get(&self, oid: ObjectIdentifier) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, v)| v.as_str())
    }

    /// countryName, upper-cased (the German master list holds lower-case ones).
    pub fn country(&self) -> Option<String> {
        self.get(oid::COUNTRY_NAME).map(|c| c.trim().to_uppercase())
    }

    pub fn organization(&self) -> Option<&str> {
        self.get(oid::ORGANIZATION_NAME)
    }

    /// The issuing organisation as a person would name it: the organizationName, preceded by the
    /// first organizationalUnitName when that names a body rather than a role or a place
    /// (US: "Department of State, U.S. Government"; FR's "Document Signer" or GB's "London"
    /// are left out). A unit counts as a body when it has two words or more and none of the
    /// role words certificates use.
    pub fn issuing_organization(&self) -> Option<String> {
        const ROLE_WORDS: [&str; 8] = [
            "signer",
            "signing",
            "csca",
            "mrtd",
            "certification",
            "certificate",
            "passport",
            "ca",
        ];
        let organization = self.organization()?.trim();
        let unit = self
            .attributes
            .iter()
            .find(|(o, _)| *o == oid::ORGANIZATIONAL_UNIT_NAME)
            .map(|(_, v)| v.trim())
            .filter(|unit| {
                let words: Vec<String> = unit.split_whitespace().map(str::to_lowercase).collect();
                words.len() >= 2 && !words.iter().any(|w| ROLE_WORDS.contains(&w.as_str()))
            });
        Some(match unit {
            Some(unit) => format!("{unit}, {organization}"),
            None => organization.to_owned(),
        })
    }

    pub fn common_name(&self) -> Option<&str> {
        self.get(oid::COMMON_NAME)
    }

    /// Same attributes with equal values, in any order and case.
    pub fn matches(&self, other: &Name) -> bool {
        self.der == other.der || self.normalized == other.normalized
    }
}

fn normalize(attributes: &[(ObjectIdentifier, String)]) -> Vec<(ObjectIdentifier, String)> {
    let mut v: Vec<_> = attributes
        .iter()
        .map(|(o, s)| {
            let folded = s
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            (*o, folded)
        })
        .collect();
    v.sort();
    v
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl fmt::Display for Name {
    /// `C=US, O=..., CN=...` in encoding order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (oid, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", short_name(*oid), value)?;
        }
        Ok(())
    }
}

fn short_name(oid: ObjectIdentifier) -> String {
    let known = [
        ("2.5.4.3", "CN"),
        ("2.5.4.4", "SN"),
        ("2.5.4.5", "serialNumber"),
        ("2.5.4.6", "C"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.10", "O"),
        ("2.5.4.11", "OU"),
        ("2.5.4.12", "title"),
        ("2.5.4.97", "organizationIdentifier"),
        ("1.2.840.113549.1.9.1", "emailAddress"),
    ];
    let dotted = oid.to_string();
    known
        .iter()
        .find(|(d, _)| *d == dotted)
        .map_or(dotted, |(_, s)| (*s).to_string())
}

/// Directory strings: UTF8String, PrintableString, IA5String, TeletexString (read as Latin-1),
/// BMPString (UCS-2), UniversalString (UCS-4). Anything else is shown as hex.
fn decode_string(tag: u32, bytes: &[u8]) -> String {
    match tag {
        0x0C | 0x13 | 0x16 | 0x1A => String::from_utf8_lossy(bytes).into_owned(),
        0x14 => bytes.iter().map(|b| char::from(*b)).collect(),
        0x1E => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        0x1C => bytes
            .chunks_exact(4)
            .filter_map(|c| {
                let mut b = [0u8; 4];
                b.copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b))
            })
            .collect(),
        _ => format!("#{}", hex::encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(rdns: &[(&[u8], u8, &str)]) -> Vec<u8> {
        let mut seq = Vec::new();
        for (oid, tag, value) in rdns {
            let mut atv = tlv::encode(0x06, oid);
            atv.extend(tlv::encode((*tag).into(), value.as_bytes()));
            seq.extend(tlv::encode(0x31, &tlv::encode(0x30, &atv)));
        }
        tlv::encode(0x30, &seq)
    }

    #[test]
    fn order_and_case_do_not_matter() {
        let a = Name::from_der(&name(&[
            (&[85, 4, 6], 0x13, "MY"),
            (&[85, 4, 3], 0x0C, "CSCA  Malaysia"),
        ]))
        .unwrap();
        let b = Name::from_der(&name(&[
            (&[85, 4, 3], 0x13, "csca malaysia"),
            (&[85, 4, 6], 0x13, "my"),
        ]))
        .unwrap();
        assert!(a.matches(&b));
        assert_eq!(a.country().as_deref(), Some("MY"));
        assert_eq!(a.to_string(), "C=MY, CN=CSCA  Malaysia");
        let c = Name::from_der(&name(&[(&[85, 4, 6], 0x13, "MY")])).unwrap();
        assert!(!a.matches(&c));
    }
}
