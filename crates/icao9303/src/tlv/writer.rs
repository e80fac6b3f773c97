//! BER-TLV / DER writing (ITU-T X.690 §8.1, §10; ISO/IEC 7816-4 §5.2): the one encoder of tags and
//! lengths in the workspace, and the few DER values the library and its test peers build.
//!
//! Lengths are always definite and in the shortest form, which is what DER requires and what
//! every ICAO 9303 structure (secure-messaging objects, GENERAL AUTHENTICATE data, files) uses.

use const_oid::ObjectIdentifier;

use super::Tag;

/// Appends `tag`'s encoded bytes: [`Tag`] packs them big-endian, so leading zero bytes are not
/// part of the tag (`0x5F1F` is written `5F 1F`, `0x04` is `04`, `0x00` is `00`).
pub fn encode_tag(tag: Tag, out: &mut Vec<u8>) {
    let bytes = tag.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    out.extend_from_slice(bytes.get(first..).unwrap_or_default());
}

/// Appends the length octets of a `len`-byte value: short form below 128, else `8n` and the `n`
/// significant big-endian bytes.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let significant = bytes.get(first..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// How many bytes the tag and the length field of an element take before its `value_len` bytes.
pub fn header_len(tag: Tag, value_len: usize) -> usize {
    let mut header = Vec::with_capacity(8);
    encode_tag(tag, &mut header);
    encode_length(value_len, &mut header);
    header.len()
}

/// One element: `tag`, the length of `value`, `value`.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4 + 5);
    encode_tag(tag, &mut out);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// A constructed element whose value is `parts`, complete elements, one after the other.
pub fn encode_constructed(tag: Tag, parts: &[&[u8]]) -> Vec<u8> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 4 + 5);
    encode_tag(tag, &mut out);
    encode_length(len, &mut out);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// `SEQUENCE { parts… }`.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    encode_constructed(0x30, parts)
}

/// `SET OF`, its elements sorted by their encodings as DER requires (X.690 §11.6).
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    encode_constructed(0x31, &sorted)
}

/// A non-negative INTEGER from its big-endian magnitude (leading zeros dropped, a zero byte
/// added when the top bit is set, X.690 §8.3).
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let significant = match magnitude.iter().position(|b| *b != 0) {
        Some(i) => magnitude.get(i..).unwrap_or_default(),
        None => &[0],
    };
    if significant.first().is_some_and(|b| b & 0x80 != 0) {
        encode_constructed(0x02, &[&[0], significant])
    } else {
        encode(0x02, significant)
    }
}

/// A non-negative INTEGER.
pub fn integer_u64(value: u64) -> Vec<u8> {
    unsigned_integer(&value.to_be_bytes())
}

/// An OBJECT IDENTIFIER element.
pub fn object_identifier(oid: &ObjectIdentifier) -> Vec<u8> {
    encode(0x06, oid.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::parse_single;

    #[test]
    fn shortest_lengths_and_packed_tags() {
        assert_eq!(encode(0x04, &[1, 2]), [0x04, 0x02, 1, 2]);
        assert_eq!(encode(0x00, &[]), [0x00, 0x00]);
        let long = vec![7u8; 300];
        assert_eq!(encode(0x7F49, &long)[..5], [0x7F, 0x49, 0x82, 0x01, 0x2C]);
        assert_eq!(encode(0x53, &[0; 0x80])[1..3], [0x81, 0x80]);
        assert_eq!(
            [0x7F, 0x80, 0xFF, 0x100].map(|n| header_len(0x53, n)),
            [2, 3, 3, 4]
        );
        let mut v = Vec::new();
        encode_length(0x1234, &mut v);
        assert_eq!(v, [0x82, 0x12, 0x34]);
        let big = vec![0u8; 70_000];
        assert_eq!(
            parse_single(&encode(0x04, &big)).unwrap().value.len(),
            70_000
        );
        assert_eq!(
            encode_constructed(0x7F61, &[&[0x02, 0x01, 0x01], &[0x04, 0x00]]),
            [0x7F, 0x61, 0x05, 0x02, 0x01, 0x01, 0x04, 0x00]
        );
    }

    #[test]
    fn der_values() {
        assert_eq!(integer_u64(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer_u64(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer_u64(0x0101), [0x02, 0x02, 0x01, 0x01]);
        assert_eq!(unsigned_integer(&[0, 0, 0xFF]), [0x02, 0x02, 0x00, 0xFF]);
        assert_eq!(
            object_identifier(&crate::oid::LDS_SECURITY_OBJECT),
            [0x06, 0x06, 0x67, 0x81, 0x08, 0x01, 0x01, 0x01]
        );
        assert_eq!(
            set_of(&[&[0x02, 0x01, 0x02], &[0x02, 0x01, 0x01]]),
            [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]
        );
        assert_eq!(sequence(&[]), [0x30, 0x00]);
    }
}
