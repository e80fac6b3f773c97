//! A small DER encoder (ITU-T X.690), just enough for the structures testdoc writes.
//!
//! Every function returns a complete TLV. Tags are written as given, so the BER-TLV
//! tags of ICAO 9303 Part 10 (e.g. `0x5F1F`, `0x7F61`) work the same as ASN.1 ones.

use time::OffsetDateTime;

/// An object identifier as its arcs, e.g. `&[2, 23, 136, 1, 1, 1]`.
pub type Oid = &'static [u64];

/// A TLV with a tag of one to four bytes (leading zero bytes of `tag` are not written).
pub fn tlv(tag: u32, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 8);
    let tag_bytes = tag.to_be_bytes();
    let first = tag_bytes.iter().position(|b| *b != 0).unwrap_or(3);
    out.extend_from_slice(tag_bytes.get(first..).unwrap_or(&[0]));
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
        let significant = bytes.get(first..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// A constructed TLV whose content is the concatenation of `parts`.
pub fn constructed(tag: u32, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(0x30, parts)
}

/// SET OF: DER requires the elements sorted by their encodings (X.690 §11.6).
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort();
    constructed(0x31, &sorted)
}

/// `[n]` EXPLICIT: a constructed context-specific tag around a complete TLV.
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | u32::from(n), inner)
}

pub fn integer_u64(value: u64) -> Vec<u8> {
    integer_unsigned(&value.to_be_bytes())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn integer_unsigned(magnitude: &[u8]) -> Vec<u8> {
    let first = magnitude.iter().position(|b| *b != 0);
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    match first {
        None => content.push(0),
        Some(i) => {
            let significant = magnitude.get(i..).unwrap_or(&[]);
            if significant.first().is_some_and(|b| b & 0x80 != 0) {
                content.push(0);
            }
            content.extend_from_slice(significant);
        }
    }
    tlv(0x02, &content)
}

pub fn oid(arcs: Oid) -> Vec<u8> {
    let mut content = Vec::new();
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        [a] => (a * 40, &[][..]),
        [] => (0, &[][..]),
    };
    push_base128(&mut content, first);
    for arc in rest {
        push_base128(&mut content, *arc);
    }
    tlv(0x06, &content)
}

fn push_base128(out: &mut Vec<u8>, value: u64) {
    let mut groups = vec![(value & 0x7F) as u8];
    let mut rest = value >> 7;
    while rest > 0 {
        groups.push(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    out.extend(groups.iter().rev());
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

pub fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(content.len() + 1);
    body.push(0);
    body.extend_from_slice(content);
    tlv(0x03, &body)
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn printable_string(s: &str) -> Vec<u8> {
    tlv(0x13, s.as_bytes())
}

/// UTCTime for 1950..=2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
pub fn time(t: OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (y, mo, d, h, mi, s) = (
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    if (1950..2050).contains(&y) {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        tlv(0x17, text.as_bytes())
    } else {
        let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        tlv(0x18, text.as_bytes())
    }
}

/// AlgorithmIdentifier with absent parameters.
pub fn algorithm(id: Oid) -> Vec<u8> {
    sequence(&[&oid(id)])
}

/// AlgorithmIdentifier with the given parameters TLV.
pub fn algorithm_with(id: Oid, parameters: &[u8]) -> Vec<u8> {
    sequence(&[&oid(id), parameters])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_of_lds_security_object() {
        assert_eq!(
            oid(&[2, 23, 136, 1, 1, 1]),
            [0x06, 0x06, 0x67, 0x81, 0x08, 0x01, 0x01, 0x01]
        );
    }

    #[test]
    fn long_form_length_and_two_byte_tag() {
        let encoded = tlv(0x5F2E, &[0u8; 300]);
        assert_eq!(encoded.get(..5), Some(&[0x5F, 0x2E, 0x82, 0x01, 0x2C][..]));
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(integer_u64(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer_u64(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer_u64(0x0101), [0x02, 0x02, 0x01, 0x01]);
    }
}
