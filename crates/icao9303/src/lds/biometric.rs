//! DG2: the encoded face (ICAO 9303 Part 10 §4.7.2), a CBEFF Biometric Information Template
//! group (ISO/IEC 7816-11) holding ISO/IEC 19794-5:2005 facial records, or since LDS 1.8 the
//! ISO/IEC 39794-5 encoding.

use super::image::{ImageFormat, image_dimensions};
use super::{LdsError, outer};
use crate::tlv::{Tlv, TlvReader};

/// Most faces kept from one DG2 (chips hold one; the format allows more).
const MAX_FACES: usize = 16;

/// Deepest nesting walked inside an ISO/IEC 39794-5 biometric data block.
const MAX_39794_DEPTH: usize = 16;

/// Most elements visited inside one ISO/IEC 39794-5 biometric data block.
const MAX_39794_ELEMENTS: usize = 4096;

/// How the biometric data block encodes the face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaceEncoding {
    /// ISO/IEC 19794-5:2005 binary facial record (`FAC\0` `010\0`), in BDB tag `5F2E`.
    Iso19794_5,
    /// ISO/IEC 39794-5 (ASN.1 DER) in BDB tag `7F2E`: the image is extracted, the other
    /// elements are not interpreted.
    Iso39794_5,
}

/// One facial image from DG2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceImage {
    pub encoding: FaceEncoding,
    pub format: ImageFormat,
    /// The image as stored (JPEG or JPEG 2000 bytes).
    pub data: Vec<u8>,
    /// Width in pixels: the image's own header when it can be read, else the record's.
    pub width: u16,
    /// Height in pixels: the image's own header when it can be read, else the record's.
    pub height: u16,
    /// ISO/IEC 19794-5 §5.5.3 gender (0 unspecified, 1 male, 2 female, 0xFF unknown); `None`
    /// for ISO/IEC 39794-5.
    pub gender: Option<u8>,
    /// ISO/IEC 19794-5 §5.7.1 face image type (0 basic, 1 full frontal, 2 token frontal).
    pub face_image_type: Option<u8>,
    /// Offset of the image bytes in the DG2 file.
    pub offset: usize,
}

/// DG2, the encoded face.
///
/// ```text
/// 75 {
///   7F61 {                          -- Biometric Information Group Template
///     02  number of instances
///     7F60 {                        -- Biometric Information Template, one per face
///       A1 { 80 … 87 format owner, 88 format type … }   -- Biometric Header Template
///       5F2E  ISO/IEC 19794-5 facial record  |  7F2E { ISO/IEC 39794-5 DER }
///     } …
///   }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg2 {
    pub faces: Vec<FaceImage>,
}

impl Dg2 {
    pub fn parse(data: &[u8]) -> Result<Dg2, LdsError> {
        let dg2 = outer(data, 0x75)?;
        let mut reader = dg2.children();
        let group = reader.expect(0x7F61)?;
        let mut faces = Vec::new();
        let mut templates = group.children();
        while let Some(element) = templates.next_tlv() {
            let element = element?;
            match element.tag {
                0x02 => {}
                0x7F60 => parse_template(&element, &mut faces)?,
                _ => {
                    return Err(LdsError::Invalid {
                        offset: element.offset,
                        what: "element of the biometric information group template",
                    });
                }
            }
        }
        if faces.is_empty() {
            return Err(LdsError::Missing {
                offset: group.offset,
                what: "facial image",
            });
        }
        Ok(Dg2 { faces })
    }
}

fn push_face(faces: &mut Vec<FaceImage>, face: FaceImage, at: usize) -> Result<(), LdsError> {
    if faces.len() >= MAX_FACES {
        return Err(LdsError::TooMany {
            offset: at,
            what: "facial images",
            limit: MAX_FACES,
        });
    }
    faces.push(face);
    Ok(())
}

fn parse_template(template: &Tlv<'_>, faces: &mut Vec<FaceImage>) -> Result<(), LdsError> {
    let mut reader = template.children();
    let mut found = false;
    while let Some(element) = reader.next_tlv() {
        let element = element?;
        match element.tag {
            0x5F2E => {
                parse_19794_5(element.value, element.value_offset, faces)?;
                found = true;
            }
            0x7F2E => {
                let before = faces.len();
                let mut visited = 0;
                find_images_39794(&element, 0, &mut visited, faces)?;
                if faces.len() == before {
                    return Err(LdsError::Unsupported {
                        offset: element.offset,
                        what: "ISO/IEC 39794-5 block without a JPEG or JPEG 2000 image",
                    });
                }
                found = true;
            }
            _ => {}
        }
    }
    if found {
        Ok(())
    } else {
        Err(LdsError::Missing {
            offset: template.offset,
            what: "biometric data block (5F2E or 7F2E)",
        })
    }
}

/// A bounded big-endian reader over a byte slice, reporting offsets in the DG2 file.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], LdsError> {
        let out = self
            .pos
            .checked_add(n)
            .and_then(|end| self.data.get(self.pos..end))
            .ok_or(LdsError::Invalid {
                offset: self.base + self.pos,
                what,
            })?;
        self.pos += n;
        Ok(out)
    }

    fn uint(&mut self, n: usize, what: &'static str) -> Result<u32, LdsError> {
        Ok(self
            .take(n, what)?
            .iter()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, LdsError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }
}

/// ISO/IEC 19794-5:2005 §5.4–5.8: facial record header, then per image a facial information
/// block (20 bytes), feature points (8 bytes each), image information (12 bytes), image data.
fn parse_19794_5(record: &[u8], base: usize, faces: &mut Vec<FaceImage>) -> Result<(), LdsError> {
    let mut r = Bytes {
        data: record,
        pos: 0,
        base,
    };
    if r.take(4, "facial record format identifier")? != b"FAC\0" {
        return Err(LdsError::Invalid {
            offset: base,
            what: "facial record format identifier (not FAC)",
        });
    }
    let version = r.take(4, "facial record version")?;
    if version != b"010\0" {
        return Err(LdsError::Unsupported {
            offset: base + 4,
            what: "ISO/IEC 19794-5 version other than 010",
        });
    }
    let _record_length = r.uint(4, "facial record length")?;
    let count = r.uint(2, "number of facial images")?;
    for _ in 0..count {
        let block_start = r.pos;
        let block_offset = r.offset();
        let block_length =
            usize::try_from(r.uint(4, "facial record data length")?).unwrap_or(usize::MAX);
        let block_end = block_start
            .checked_add(block_length)
            .filter(|end| *end <= record.len() && block_length >= 32)
            .ok_or(LdsError::Invalid {
                offset: block_offset,
                what: "facial record data length",
            })?;
        let feature_points = usize::try_from(r.uint(2, "number of feature points")?).unwrap_or(0);
        let gender = r.u8("gender")?;
        r.take(1 + 1 + 3 + 2 + 3 + 3, "facial information")?;
        r.take(feature_points.saturating_mul(8), "feature points")?;
        let face_image_type = r.u8("face image type")?;
        let _image_data_type = r.u8("image data type")?;
        let width = r.uint(2, "width")?;
        let height = r.uint(2, "height")?;
        r.take(1 + 1 + 2 + 2, "image information")?;
        let image_offset = r.offset();
        let image = r.take(block_end.saturating_sub(r.pos), "image data")?;
        if r.pos != block_end {
            return Err(LdsError::Invalid {
                offset: block_offset,
                what: "facial record data length",
            });
        }
        let (width, height) = match image_dimensions(image) {
            Some((w, h)) => (clamp_u16(w), clamp_u16(h)),
            None => (clamp_u16(width), clamp_u16(height)),
        };
        push_face(
            faces,
            FaceImage {
                encoding: FaceEncoding::Iso19794_5,
                format: ImageFormat::detect(image),
                data: image.to_vec(),
                width,
                height,
                gender: Some(gender),
                face_image_type: Some(face_image_type),
                offset: image_offset,
            },
            block_offset,
        )?;
    }
    Ok(())
}

fn clamp_u16(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// ISO/IEC 39794-5 is a DER tree of context-tagged elements; the image is the content of a
/// primitive element. Rather than mirror the whole schema, walk the tree (bounded in depth and
/// element count) and keep every primitive value that starts with a JPEG or JPEG 2000 signature.
fn find_images_39794(
    node: &Tlv<'_>,
    depth: usize,
    visited: &mut usize,
    faces: &mut Vec<FaceImage>,
) -> Result<(), LdsError> {
    if depth > MAX_39794_DEPTH {
        return Err(LdsError::Invalid {
            offset: node.offset,
            what: "ISO/IEC 39794-5 nesting too deep",
        });
    }
    let mut reader: TlvReader<'_> = node.children();
    while let Some(child) = reader.next_tlv() {
        let child = child?;
        *visited += 1;
        if *visited > MAX_39794_ELEMENTS {
            return Err(LdsError::TooMany {
                offset: child.offset,
                what: "ISO/IEC 39794-5 elements",
                limit: MAX_39794_ELEMENTS,
            });
        }
        if child.is_constructed() {
            find_images_39794(&child, depth + 1, visited, faces)?;
            continue;
        }
        let format = ImageFormat::detect(child.value);
        if format == ImageFormat::Unknown {
            continue;
        }
        let (width, height) = image_dimensions(child.value).unwrap_or((0, 0));
        push_face(
            faces,
            FaceImage {
                encoding: FaceEncoding::Iso39794_5,
                format,
                data: child.value.to_vec(),
                width: clamp_u16(width),
                height: clamp_u16(height),
                gender: None,
                face_image_type: None,
                offset: child.value_offset,
            },
            child.offset,
        )?;
    }
    Ok(())
}
