//! Small ASN.1 DER/BER helpers over [`crate::tlv`]: OIDs, integers, strings, times,
//! AlgorithmIdentifier (RFC 5280 §4.1.1.2).

use const_oid::ObjectIdentifier;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::error::PkiError;
use crate::tlv::{Tlv, TlvReader};

pub(crate) const INTEGER: u32 = 0x02;
pub(crate) const BIT_STRING: u32 = 0x03;
pub(crate) const OCTET_STRING: u32 = 0x04;
pub(crate) const OCTET_STRING_CONSTRUCTED: u32 = 0x24;
pub(crate) const OID: u32 = 0x06;
pub(crate) const SEQUENCE: u32 = 0x30;
pub(crate) const SET: u32 = 0x31;
pub(crate) const UTC_TIME: u32 = 0x17;
pub(crate) const GENERALIZED_TIME: u32 = 0x18;
pub(crate) const BOOLEAN: u32 = 0x01;

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmIdentifier {
    pub oid: ObjectIdentifier,
    /// The whole encoded parameters element, absent when omitted. A NULL is kept as `05 00`.
    pub parameters: Option<Vec<u8>>,
}

impl AlgorithmIdentifier {
    pub(crate) fn parse(tlv: &Tlv<'_>, what: &'static str) -> Result<Self, PkiError> {
        if tlv.tag != SEQUENCE {
            return Err(PkiError::Malformed {
                what,
                offset: tlv.offset,
            });
        }
        let mut r = tlv.children();
        let oid = read_oid(&mut r, what)?;
        let parameters = r
            .next_tlv()
            .transpose()
            .map_err(PkiError::tlv(what))?
            .map(|p| p.raw.to_vec());
        Ok(Self { oid, parameters })
    }

    /// Parameters that are neither absent nor NULL.
    pub fn non_null_parameters(&self) -> Option<&[u8]> {
        match self.parameters.as_deref() {
            None | Some([0x05, 0x00]) => None,
            Some(p) => Some(p),
        }
    }
}

pub(crate) fn oid_from_tlv(
    tlv: &Tlv<'_>,
    what: &'static str,
) -> Result<ObjectIdentifier, PkiError> {
    tlv.object_identifier().ok_or(PkiError::Malformed {
        what,
        offset: tlv.offset,
    })
}

pub(crate) fn read_oid(
    r: &mut TlvReader<'_>,
    what: &'static str,
) -> Result<ObjectIdentifier, PkiError> {
    let tlv = r.expect(OID).map_err(PkiError::tlv(what))?;
    oid_from_tlv(&tlv, what)
}

pub(crate) fn expect<'a>(
    r: &mut TlvReader<'a>,
    tag: u32,
    what: &'static str,
) -> Result<Tlv<'a>, PkiError> {
    r.expect(tag).map_err(PkiError::tlv(what))
}

/// A small non-negative INTEGER (versions, hash-table indices): at most five octets, below 2^32.
pub(crate) fn small_uint(tlv: &Tlv<'_>, what: &'static str) -> Result<u32, PkiError> {
    let value = (tlv.value.len() <= 5)
        .then(|| tlv.unsigned_integer())
        .flatten()
        .and_then(|v| u32::try_from(v).ok());
    value.ok_or(PkiError::Malformed {
        what,
        offset: tlv.offset,
    })
}

/// The contents of an OCTET STRING, joining the segments of a BER constructed encoding.
pub(crate) fn octet_string(tlv: &Tlv<'_>, what: &'static str) -> Result<Vec<u8>, PkiError> {
    match tlv.tag {
        OCTET_STRING => Ok(tlv.value.to_vec()),
        OCTET_STRING_CONSTRUCTED => {
            let mut out = Vec::new();
            let mut r = tlv.children();
            while let Some(part) = r.next_tlv() {
                let part = part.map_err(PkiError::tlv(what))?;
                out.extend(octet_string(&part, what)?);
            }
            Ok(out)
        }
        _ => Err(PkiError::Malformed {
            what,
            offset: tlv.offset,
        }),
    }
}

/// The bytes of a BIT STRING with no unused bits (keys and signatures).
pub(crate) fn bit_string_bytes<'a>(
    tlv: &Tlv<'a>,
    what: &'static str,
) -> Result<&'a [u8], PkiError> {
    match (tlv.tag, tlv.value.split_first()) {
        (BIT_STRING, Some((0, rest))) => Ok(rest),
        _ => Err(PkiError::Malformed {
            what,
            offset: tlv.offset,
        }),
    }
}

/// UTCTime (RFC 5280 §4.1.2.5.1: YY < 50 is 20YY) or GeneralizedTime, in the Z form.
pub(crate) fn parse_time(tlv: &Tlv<'_>, what: &'static str) -> Result<OffsetDateTime, PkiError> {
    let bad = || PkiError::Malformed {
        what,
        offset: tlv.offset,
    };
    let s = std::str::from_utf8(tlv.value).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let (year, rest) = match tlv.tag {
        UTC_TIME => {
            let yy: i32 = s.get(0..2).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            (
                if yy < 50 { 2000 + yy } else { 1900 + yy },
                s.get(2..).ok_or_else(bad)?,
            )
        }
        GENERALIZED_TIME => {
            let s = s.split('.').next().unwrap_or(s);
            let y: i32 = s.get(0..4).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            (y, s.get(4..).ok_or_else(bad)?)
        }
        _ => return Err(bad()),
    };
    let num = |range: std::ops::Range<usize>| -> Result<u8, PkiError> {
        rest.get(range).and_then(|v| v.parse().ok()).ok_or_else(bad)
    };
    let month = Month::try_from(num(0..2)?).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, num(2..4)?).map_err(|_| bad())?;
    let second = if rest.len() >= 10 { num(8..10)? } else { 0 };
    let time = Time::from_hms(num(4..6)?, num(6..8)?, second).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The X.509 `SIGNED{}` envelope shared by certificates and CRLs (RFC 5280 §4.1, §5.1):
/// `SEQUENCE { tbs SEQUENCE, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }`,
/// spanning all of `der`. Returns the to-be-signed element, the algorithm and the signature.
pub(crate) fn signed_envelope<'a>(
    der: &'a [u8],
    what: &'static str,
) -> Result<(Tlv<'a>, AlgorithmIdentifier, Vec<u8>), PkiError> {
    let outer = crate::tlv::parse_single(der).map_err(PkiError::tlv(what))?;
    if outer.tag != SEQUENCE {
        return Err(PkiError::Malformed { what, offset: 0 });
    }
    let mut r = outer.children();
    let tbs = expect(&mut r, SEQUENCE, what)?;
    let algorithm = AlgorithmIdentifier::parse(&expect(&mut r, SEQUENCE, what)?, what)?;
    let signature = bit_string_bytes(&expect(&mut r, BIT_STRING, what)?, what)?.to_vec();
    Ok((tbs, algorithm, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::parse_single;

    #[test]
    fn utc_time_pivots_at_50() {
        let t = parse_single(b"\x17\x0d491231235959Z").unwrap();
        assert_eq!(parse_time(&t, "t").unwrap().year(), 2049);
        let t = parse_single(b"\x17\x0d500101000000Z").unwrap();
        assert_eq!(parse_time(&t, "t").unwrap().year(), 1950);
    }
}
