//! BER-TLV reading and writing (ISO/IEC 8825-1, as profiled by ICAO 9303 Part 10 §4.4 and
//! ISO/IEC 7816-4 §5.2): the one codec of tags and lengths the library, the test document issuer's
//! peers (`virtual-chip`) and the terminal (`reader`) use.
//!
//! Chip data is attacker-controlled: the reader never trusts a length field beyond the bytes it
//! holds, never allocates, and bounds the nesting it walks for indefinite lengths. The writer
//! ([`encode`], [`encode_constructed`] and the DER values in [`writer`]) always writes definite,
//! shortest lengths.

use std::fmt;

use const_oid::ObjectIdentifier;

pub mod writer;

pub use writer::{
    encode, encode_constructed, encode_length, encode_tag, header_len, integer_u64,
    object_identifier, sequence, set_of, unsigned_integer,
};

/// Deepest nesting walked to find the end of an indefinite-length value.
const MAX_INDEFINITE_DEPTH: usize = 32;

/// Longest tag accepted (bytes). ICAO and ISO 7816 tags are at most 3 bytes.
const MAX_TAG_BYTES: usize = 4;

/// Largest length-of-length accepted (bytes); 4 bytes already exceeds any chip file.
const MAX_LENGTH_BYTES: usize = 4;

/// A BER tag, kept as its encoded bytes packed big-endian into a `u32` (e.g. `0x5F1F`, `0x7F61`).
pub type Tag = u32;

/// Why a TLV could not be read. `offset` is the byte offset of the problem in the outermost input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvError {
    pub offset: usize,
    pub kind: TlvErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlvErrorKind {
    /// The input ended inside a tag, a length or a value.
    Truncated,
    /// A tag longer than [`MAX_TAG_BYTES`].
    TagTooLong,
    /// A length field longer than [`MAX_LENGTH_BYTES`], or the reserved 0xFF.
    LengthTooLong,
    /// An indefinite length on a primitive encoding, or without its end-of-contents.
    BadIndefiniteLength,
    /// Indefinite-length values nested deeper than [`MAX_INDEFINITE_DEPTH`].
    TooDeep,
    /// A tag other than the one expected.
    UnexpectedTag { expected: Tag, found: Tag },
    /// Bytes left over after the last expected element.
    TrailingData,
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TlvErrorKind::Truncated => write!(f, "truncated TLV at offset {}", self.offset),
            TlvErrorKind::TagTooLong => write!(f, "tag too long at offset {}", self.offset),
            TlvErrorKind::LengthTooLong => {
                write!(f, "length field too long at offset {}", self.offset)
            }
            TlvErrorKind::BadIndefiniteLength => {
                write!(f, "bad indefinite length at offset {}", self.offset)
            }
            TlvErrorKind::TooDeep => write!(f, "nesting too deep at offset {}", self.offset),
            TlvErrorKind::UnexpectedTag { expected, found } => write!(
                f,
                "expected tag {expected:02X} but found {found:02X} at offset {}",
                self.offset
            ),
            TlvErrorKind::TrailingData => {
                write!(f, "unexpected trailing data at offset {}", self.offset)
            }
        }
    }
}

impl std::error::Error for TlvError {}

/// One tag-length-value element borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    /// The value bytes (for an indefinite length: up to, not including, the end-of-contents).
    pub value: &'a [u8],
    /// The whole encoding: tag, length, value (and end-of-contents when indefinite).
    pub raw: &'a [u8],
    /// Offset of the tag's first byte in the outermost input.
    pub offset: usize,
    /// Offset of the value's first byte in the outermost input.
    pub value_offset: usize,
}

impl<'a> Tlv<'a> {
    /// Bit 6 of the first tag byte: the value is itself a series of TLVs.
    pub fn is_constructed(&self) -> bool {
        constructed(self.tag)
    }

    /// A reader over the value's elements, keeping offsets relative to the outermost input.
    pub fn children(&self) -> TlvReader<'a> {
        TlvReader::with_offset(self.value, self.value_offset)
    }

    /// The value of a non-negative INTEGER that fits in 64 bits (X.690 §8.3); `None` for another
    /// tag, an empty or negative value, or a larger number.
    pub fn unsigned_integer(&self) -> Option<u64> {
        if self.tag != 0x02 || self.value.first().is_none_or(|b| b & 0x80 != 0) {
            return None;
        }
        let first = self.value.iter().position(|b| *b != 0);
        let significant = first.map_or(&[][..], |i| self.value.get(i..).unwrap_or_default());
        if significant.len() > 8 {
            return None;
        }
        Some(
            significant
                .iter()
                .fold(0, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }

    /// The value of an OBJECT IDENTIFIER (X.690 §8.19); `None` for another tag or bad octets.
    pub fn object_identifier(&self) -> Option<ObjectIdentifier> {
        if self.tag != 0x06 {
            return None;
        }
        ObjectIdentifier::from_bytes(self.value).ok()
    }
}

fn constructed(tag: Tag) -> bool {
    let mut first = tag;
    while first > 0xFF {
        first >>= 8;
    }
    first & 0x20 != 0
}

/// Reads consecutive TLVs from a byte slice.
#[derive(Debug, Clone)]
pub struct TlvReader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> TlvReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_offset(data, 0)
    }

    /// A reader whose reported offsets start at `base` (for sub-readers).
    pub fn with_offset(data: &'a [u8], base: usize) -> Self {
        Self { data, pos: 0, base }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Offset of the next byte in the outermost input.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The next element, or `None` at the end of the input.
    pub fn next_tlv(&mut self) -> Option<Result<Tlv<'a>, TlvError>> {
        if self.is_empty() {
            return None;
        }
        Some(self.read_one(0))
    }

    /// The next element, which must exist.
    pub fn read(&mut self) -> Result<Tlv<'a>, TlvError> {
        self.next_tlv()
            .unwrap_or_else(|| Err(self.err(TlvErrorKind::Truncated)))
    }

    /// The next element, which must carry `tag`.
    pub fn expect(&mut self, tag: Tag) -> Result<Tlv<'a>, TlvError> {
        let start = self.offset();
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(TlvError {
                offset: start,
                kind: TlvErrorKind::UnexpectedTag {
                    expected: tag,
                    found: tlv.tag,
                },
            });
        }
        Ok(tlv)
    }

    /// The next element if it carries `tag`; otherwise nothing is consumed.
    pub fn optional(&mut self, tag: Tag) -> Result<Option<Tlv<'a>>, TlvError> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut probe = self.clone();
        let tlv = probe.read()?;
        if tlv.tag == tag {
            *self = probe;
            Ok(Some(tlv))
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), TlvError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(TlvErrorKind::TrailingData))
        }
    }

    fn err(&self, kind: TlvErrorKind) -> TlvError {
        TlvError {
            offset: self.offset(),
            kind,
        }
    }

    fn byte(&mut self) -> Result<u8, TlvError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.err(TlvErrorKind::Truncated))?;
        self.pos += 1;
        Ok(b)
    }

    fn read_tag(&mut self) -> Result<Tag, TlvError> {
        let start = self.offset();
        let first = self.byte()?;
        let mut tag = u32::from(first);
        if first & 0x1F == 0x1F {
            let mut count = 1;
            loop {
                let b = self.byte()?;
                count += 1;
                if count > MAX_TAG_BYTES {
                    return Err(TlvError {
                        offset: start,
                        kind: TlvErrorKind::TagTooLong,
                    });
                }
                tag = (tag << 8) | u32::from(b);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok(tag)
    }

    /// `None` for the indefinite form.
    fn read_length(&mut self) -> Result<Option<usize>, TlvError> {
        let start = self.offset();
        let first = self.byte()?;
        if first < 0x80 {
            return Ok(Some(usize::from(first)));
        }
        if first == 0x80 {
            return Ok(None);
        }
        let count = usize::from(first & 0x7F);
        if count > MAX_LENGTH_BYTES || first == 0xFF {
            return Err(TlvError {
                offset: start,
                kind: TlvErrorKind::LengthTooLong,
            });
        }
        let mut len: usize = 0;
        for _ in 0..count {
            len = (len << 8) | usize::from(self.byte()?);
        }
        Ok(Some(len))
    }

    fn read_one(&mut self, depth: usize) -> Result<Tlv<'a>, TlvError> {
        let start = self.pos;
        let tag = self.read_tag()?;
        let length = self.read_length()?;
        let value_start = self.pos;
        match length {
            Some(len) => {
                let end = value_start
                    .checked_add(len)
                    .filter(|end| *end <= self.data.len())
                    .ok_or_else(|| self.err(TlvErrorKind::Truncated))?;
                self.pos = end;
                Ok(self.tlv(tag, start, value_start, end, end))
            }
            None => {
                if !constructed(tag) {
                    return Err(TlvError {
                        offset: self.base + start,
                        kind: TlvErrorKind::BadIndefiniteLength,
                    });
                }
                if depth >= MAX_INDEFINITE_DEPTH {
                    return Err(self.err(TlvErrorKind::TooDeep));
                }
                loop {
                    if self.data.get(self.pos..self.pos + 2) == Some(&[0, 0][..]) {
                        let value_end = self.pos;
                        self.pos += 2;
                        return Ok(self.tlv(tag, start, value_start, value_end, self.pos));
                    }
                    if self.is_empty() {
                        return Err(self.err(TlvErrorKind::BadIndefiniteLength));
                    }
                    self.read_one(depth + 1)?;
                }
            }
        }
    }

    fn tlv(
        &self,
        tag: Tag,
        start: usize,
        value_start: usize,
        value_end: usize,
        end: usize,
    ) -> Tlv<'a> {
        Tlv {
            tag,
            value: self.data.get(value_start..value_end).unwrap_or_default(),
            raw: self.data.get(start..end).unwrap_or_default(),
            offset: self.base + start,
            value_offset: self.base + value_start,
        }
    }
}

/// Reads exactly one element spanning all of `data`.
pub fn parse_single(data: &[u8]) -> Result<Tlv<'_>, TlvError> {
    let mut reader = TlvReader::new(data);
    let tlv = reader.read()?;
    reader.finish()?;
    Ok(tlv)
}

/// Reads one element with `tag` spanning all of `data`.
pub fn parse_expected(data: &[u8], tag: Tag) -> Result<Tlv<'_>, TlvError> {
    let mut reader = TlvReader::new(data);
    let tlv = reader.expect(tag)?;
    reader.finish()?;
    Ok(tlv)
}

/// The whole length of an element (tag, length field and value) from its first bytes, before
/// the value is at hand, e.g. a file's first block. `None` when `head` ends inside the tag or the
/// length field, when they are malformed, or for the indefinite form.
pub fn element_len(head: &[u8]) -> Option<usize> {
    let mut reader = TlvReader::new(head);
    reader.read_tag().ok()?;
    let value_len = reader.read_length().ok()??;
    reader.pos.checked_add(value_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_and_object_identifiers() {
        let value = |bytes: &[u8]| parse_single(bytes).unwrap().unsigned_integer();
        assert_eq!(value(&[0x02, 0x01, 0x00]), Some(0));
        assert_eq!(value(&[0x02, 0x02, 0x00, 0x80]), Some(128));
        assert_eq!(
            value(&[
                0x02, 0x09, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
            ]),
            Some(u64::MAX)
        );
        assert_eq!(value(&[0x02, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(value(&[0x02, 0x01, 0x80]), None);
        assert_eq!(value(&[0x02, 0x00]), None);
        assert_eq!(value(&[0x04, 0x01, 0x01]), None);
        let oid = parse_single(&[0x06, 0x03, 0x55, 0x04, 0x03]).unwrap();
        assert_eq!(oid.object_identifier(), Some(crate::oid::COMMON_NAME));
        assert_eq!(
            parse_single(&[0x06, 0x01, 0x80])
                .unwrap()
                .object_identifier(),
            None
        );
    }

    #[test]
    fn element_len_from_the_first_bytes() {
        assert_eq!(element_len(&[0x60, 0x16]), Some(0x18));
        assert_eq!(
            element_len(&[0x75, 0x82, 0x4E, 0x20, 0x7F]),
            Some(4 + 20_000)
        );
        assert_eq!(element_len(&[0x77, 0x81, 0x90]), Some(3 + 0x90));
        assert_eq!(element_len(&[0x5F, 0x1F, 0x02]), Some(5));
        assert_eq!(element_len(&[0x75, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(element_len(&[0x75, 0x82, 0x01]), None);
        assert_eq!(element_len(&[0x30, 0x80]), None);
    }

    #[test]
    fn reads_short_long_and_multibyte_tags() {
        let data = [0x5F, 0x1F, 0x03, b'P', b'<', b'U', 0x04, 0x81, 0x01, 0xAA];
        let mut r = TlvReader::new(&data);
        let a = r.read().unwrap();
        assert_eq!(a.tag, 0x5F1F);
        assert_eq!(a.value, b"P<U");
        let b = r.read().unwrap();
        assert_eq!(
            (b.tag, b.value, b.offset, b.value_offset),
            (0x04, &[0xAA][..], 6, 9)
        );
        assert!(r.next_tlv().is_none());
    }

    #[test]
    fn indefinite_length_with_nested_elements() {
        let data = [
            0x30, 0x80, 0x04, 0x01, 0x01, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00,
        ];
        let tlv = parse_single(&data).unwrap();
        assert_eq!(tlv.value, &data[2..9]);
        assert_eq!(tlv.raw.len(), data.len());
        let mut kids = tlv.children();
        assert_eq!(kids.read().unwrap().tag, 0x04);
        assert_eq!(kids.read().unwrap().value, b"");
    }

    #[test]
    fn rejects_lengths_beyond_input_and_deep_nesting() {
        assert_eq!(
            parse_single(&[0x04, 0x05, 0x00]).unwrap_err().kind,
            TlvErrorKind::Truncated
        );
        assert_eq!(
            parse_single(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF])
                .unwrap_err()
                .kind,
            TlvErrorKind::Truncated
        );
        assert_eq!(
            parse_single(&[0x04, 0x80, 0x00, 0x00]).unwrap_err().kind,
            TlvErrorKind::BadIndefiniteLength
        );
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert_eq!(parse_single(&deep).unwrap_err().kind, TlvErrorKind::TooDeep);
        assert_eq!(
            parse_expected(&[0x04, 0x00], 0x05).unwrap_err().kind,
            TlvErrorKind::UnexpectedTag {
                expected: 5,
                found: 4
            }
        );
    }
}
