//! Images as the LDS carries them: their coding, and the width and height they declare, read
//! without decoding them.

/// The image's coding, from its own signature bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// ISO/IEC 10918 (starts `FF D8 FF`).
    Jpeg,
    /// ISO/IEC 15444-1, JP2 file (`00 00 00 0C 6A 50 20 20`) or raw codestream (`FF 4F FF 51`).
    Jpeg2000,
    /// Anything else (e.g. WSQ, or an enciphered block).
    Unknown,
}

impl ImageFormat {
    /// Recognises an image by its first bytes.
    pub fn detect(data: &[u8]) -> ImageFormat {
        if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            ImageFormat::Jpeg
        } else if data.starts_with(&[0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20])
            || data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        {
            ImageFormat::Jpeg2000
        } else {
            ImageFormat::Unknown
        }
    }

    /// The media type (`image/jpeg`, `image/jp2`), `None` when unknown.
    pub fn media_type(self) -> Option<&'static str> {
        match self {
            ImageFormat::Jpeg => Some("image/jpeg"),
            ImageFormat::Jpeg2000 => Some("image/jp2"),
            ImageFormat::Unknown => None,
        }
    }
}

/// Width and height from an image's own header: JPEG frame header (ISO/IEC 10918-1 B.2.2),
/// JP2 image header box (ISO/IEC 15444-1 I.5.3.1) or codestream SIZ marker (A.5.1).
pub fn image_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    match ImageFormat::detect(data) {
        ImageFormat::Jpeg => jpeg_frame(data).ok().map(|f| (f.width, f.height)),
        ImageFormat::Jpeg2000 => jp2_dimensions(data),
        ImageFormat::Unknown => None,
    }
}

pub(crate) struct JpegFrame {
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// Walks the JPEG marker segments up to the first scan: a frame header (SOFn) with a non-zero
/// size must come before a start-of-scan.
pub(crate) fn jpeg_frame(data: &[u8]) -> Result<JpegFrame, &'static str> {
    let byte = |i: usize| data.get(i).copied();
    let mut pos = 2; // after SOI
    let mut frame = None;
    loop {
        // Markers may be preceded by fill bytes FF.
        if byte(pos) != Some(0xFF) {
            return Err("expected a marker");
        }
        while byte(pos) == Some(0xFF) {
            pos += 1;
        }
        let marker = byte(pos).ok_or("truncated")?;
        pos += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // standalone markers
            0xD9 => return Err("end of image before the scan"),
            _ => {}
        }
        let length = usize::from(byte(pos).ok_or("truncated")?) << 8
            | usize::from(byte(pos + 1).ok_or("truncated")?);
        if length < 2 || pos + length > data.len() {
            return Err("segment length");
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let field = |i: usize| byte(pos + i).map(u32::from);
            let (h1, h2, w1, w2) = (field(3), field(4), field(5), field(6));
            let (Some(h1), Some(h2), Some(w1), Some(w2)) = (h1, h2, w1, w2) else {
                return Err("truncated frame header");
            };
            let (width, height) = (w1 << 8 | w2, h1 << 8 | h2);
            if width == 0 || height == 0 {
                return Err("zero width or height");
            }
            frame = Some(JpegFrame { width, height });
        }
        if marker == 0xDA {
            return frame.ok_or("scan before the frame header");
        }
        pos += length;
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
}

/// JP2: the `ihdr` box inside `jp2h` (height, then width); raw codestream: SIZ.
fn jp2_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    if data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        // SOC, SIZ marker, Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4).
        let (x, y, xo, yo) = (
            be32(data, 8)?,
            be32(data, 12)?,
            be32(data, 16)?,
            be32(data, 20)?,
        );
        return Some((x.checked_sub(xo)?, y.checked_sub(yo)?));
    }
    let boxes = |data: &[u8], wanted: &[u8; 4]| -> Option<(usize, usize)> {
        let mut pos = 0usize;
        for _ in 0..64 {
            let length = usize::try_from(be32(data, pos)?).ok()?;
            let kind = data.get(pos + 4..pos + 8)?;
            let end = if length == 0 {
                data.len()
            } else {
                pos.checked_add(length)?
            };
            if length != 0 && length < 8 {
                return None;
            }
            if kind == wanted {
                return Some((pos + 8, end.min(data.len())));
            }
            pos = end;
        }
        None
    };
    let (start, end) = boxes(data, b"jp2h")?;
    let header = data.get(start..end)?;
    let (ihdr, _) = boxes(header, b"ihdr")?;
    let height = be32(header, ihdr)?;
    let width = be32(header, ihdr + 4)?;
    Some((width, height))
}
