//! The portrait as a JPEG any browser shows: DG2 JPEGs pass through after a structural check,
//! JPEG 2000 portraits (most chips of the 2000s) are decoded and re-encoded as baseline JPEG.
//!
//! JPEG 2000 decoding uses `hayro-jpeg2000` (pure Rust, `forbid(unsafe_code)`), behind the
//! default-on `jpeg2000` feature. The decoder sees attacker-controlled bytes: the image size is
//! bounded before decoding, and a panic inside the decoder is caught and reported as an error.

use crate::lds::{FaceImage, ImageFormat};

/// Largest portrait accepted, in pixels. ICAO 9303 Part 10 portraits are well below 1 megapixel;
/// the bound keeps a hostile JPEG 2000 header from making the decoder allocate hundreds of MB
/// (it holds each component as `f32` while decoding).
pub const MAX_PORTRAIT_PIXELS: u64 = 4_000_000;

/// JPEG quality of transcoded portraits.
#[cfg(feature = "jpeg2000")]
const JPEG_QUALITY: u8 = 90;

/// Why a portrait could not be turned into a JPEG.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortraitError {
    /// Neither JPEG nor JPEG 2000 (WSQ, enciphered, garbage).
    #[error("the portrait is neither JPEG nor JPEG 2000")]
    UnknownFormat,
    /// The JPEG's markers are broken: no frame header, no scan, zero size.
    #[error("malformed JPEG: {0}")]
    MalformedJpeg(&'static str),
    /// The JPEG 2000 decoder rejected the image.
    #[error("JPEG 2000 decoding failed: {0}")]
    Jpeg2000(String),
    /// Larger than [`MAX_PORTRAIT_PIXELS`] or than a JPEG can hold (65535 per side).
    #[error("portrait of {width}x{height} pixels is too large")]
    TooLarge { width: u32, height: u32 },
    /// Components other than grey, RGB or CMYK (with or without alpha).
    #[error("unsupported colour layout: {0}")]
    UnsupportedColour(String),
    /// Built without the `jpeg2000` feature.
    #[error("JPEG 2000 support is not built in (feature `jpeg2000`)")]
    Jpeg2000Disabled,
    /// The JPEG encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
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

/// The portrait as JPEG bytes: a JPEG is checked and returned as is, a JPEG 2000 is transcoded.
pub fn portrait_jpeg(image: &FaceImage) -> Result<Vec<u8>, PortraitError> {
    jpeg_from_image(&image.data)
}

/// As [`portrait_jpeg`], for any image bytes (DG7 signature, DG12 document images).
pub fn jpeg_from_image(data: &[u8]) -> Result<Vec<u8>, PortraitError> {
    match ImageFormat::detect(data) {
        ImageFormat::Jpeg => {
            let frame = jpeg_frame(data)?;
            check_size(frame.width, frame.height)?;
            Ok(data.to_vec())
        }
        ImageFormat::Jpeg2000 => transcode_jpeg2000(data),
        ImageFormat::Unknown => Err(PortraitError::UnknownFormat),
    }
}

fn check_size(width: u32, height: u32) -> Result<(), PortraitError> {
    let too_large = PortraitError::TooLarge { width, height };
    if width == 0 || height == 0 {
        return Err(PortraitError::MalformedJpeg("zero width or height"));
    }
    if width > u32::from(u16::MAX)
        || height > u32::from(u16::MAX)
        || u64::from(width) * u64::from(height) > MAX_PORTRAIT_PIXELS
    {
        return Err(too_large);
    }
    Ok(())
}

struct JpegFrame {
    width: u32,
    height: u32,
}

/// Walks the JPEG marker segments up to the first scan: a frame header (SOFn) with a non-zero
/// size must come before a start-of-scan.
fn jpeg_frame(data: &[u8]) -> Result<JpegFrame, PortraitError> {
    let byte = |i: usize| data.get(i).copied();
    let mut pos = 2; // after SOI
    let mut frame = None;
    loop {
        // Markers may be preceded by fill bytes FF.
        if byte(pos) != Some(0xFF) {
            return Err(PortraitError::MalformedJpeg("expected a marker"));
        }
        while byte(pos) == Some(0xFF) {
            pos += 1;
        }
        let marker = byte(pos).ok_or(PortraitError::MalformedJpeg("truncated"))?;
        pos += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // standalone markers
            0xD9 => return Err(PortraitError::MalformedJpeg("end of image before the scan")),
            _ => {}
        }
        let length = usize::from(byte(pos).ok_or(PortraitError::MalformedJpeg("truncated"))?) << 8
            | usize::from(byte(pos + 1).ok_or(PortraitError::MalformedJpeg("truncated"))?);
        if length < 2 || pos + length > data.len() {
            return Err(PortraitError::MalformedJpeg("segment length"));
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let field = |i: usize| byte(pos + i).map(u32::from);
            let (h1, h2, w1, w2) = (field(3), field(4), field(5), field(6));
            let (Some(h1), Some(h2), Some(w1), Some(w2)) = (h1, h2, w1, w2) else {
                return Err(PortraitError::MalformedJpeg("truncated frame header"));
            };
            let (width, height) = (w1 << 8 | w2, h1 << 8 | h2);
            if width == 0 || height == 0 {
                return Err(PortraitError::MalformedJpeg("zero width or height"));
            }
            frame = Some(JpegFrame { width, height });
        }
        if marker == 0xDA {
            return frame.ok_or(PortraitError::MalformedJpeg("scan before the frame header"));
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

#[cfg(not(feature = "jpeg2000"))]
fn transcode_jpeg2000(_data: &[u8]) -> Result<Vec<u8>, PortraitError> {
    Err(PortraitError::Jpeg2000Disabled)
}

#[cfg(feature = "jpeg2000")]
fn transcode_jpeg2000(data: &[u8]) -> Result<Vec<u8>, PortraitError> {
    // The decoder is a large body of code reading hostile input: contain any panic.
    std::panic::catch_unwind(|| transcode_jpeg2000_inner(data)).unwrap_or_else(|_| {
        Err(PortraitError::Jpeg2000(
            "the decoder panicked on this input".to_owned(),
        ))
    })
}

#[cfg(feature = "jpeg2000")]
fn transcode_jpeg2000_inner(data: &[u8]) -> Result<Vec<u8>, PortraitError> {
    use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
    use jpeg_encoder::{ColorType, Encoder};

    let decode_error = |e: hayro_jpeg2000::DecodeError| PortraitError::Jpeg2000(e.to_string());
    let image = Image::new(data, &DecodeSettings::default()).map_err(decode_error)?;
    let (width, height) = (image.width(), image.height());
    check_size(width, height).map_err(|e| match e {
        PortraitError::MalformedJpeg(_) => PortraitError::Jpeg2000("zero width or height".into()),
        other => other,
    })?;
    let has_alpha = image.has_alpha();
    let channels = image.color_space().num_channels();
    let (colour, base) = match (image.color_space(), channels) {
        (ColorSpace::Gray, _) | (ColorSpace::Icc { .. }, 1) => (ColorType::Luma, 1usize),
        (ColorSpace::RGB, _) | (ColorSpace::Icc { .. }, 3) => (ColorType::Rgb, 3),
        (ColorSpace::CMYK, _) | (ColorSpace::Icc { .. }, 4) => (ColorType::Cmyk, 4),
        (other, _) => return Err(PortraitError::UnsupportedColour(format!("{other:?}"))),
    };
    let mut context = DecoderContext::default();
    let decoded = image.decode(&mut context).map_err(decode_error)?;
    let pixels = decoded.data_u8();
    let stride = base + usize::from(has_alpha);
    let count = usize::try_from(u64::from(width) * u64::from(height))
        .map_err(|_| PortraitError::TooLarge { width, height })?;
    if pixels.len() != count * stride {
        return Err(PortraitError::Jpeg2000(format!(
            "decoded {} bytes for {width}x{height}x{stride}",
            pixels.len()
        )));
    }
    // JPEG has no alpha: drop it (portraits are opaque).
    let pixels = if has_alpha {
        pixels
            .chunks_exact(stride)
            .flat_map(|px| px.iter().take(base).copied())
            .collect()
    } else {
        pixels
    };
    let (w, h) = (
        u16::try_from(width).map_err(|_| PortraitError::TooLarge { width, height })?,
        u16::try_from(height).map_err(|_| PortraitError::TooLarge { width, height })?,
    );
    let mut out = Vec::new();
    Encoder::new(&mut out, JPEG_QUALITY)
        .encode(&pixels, w, h, colour)
        .map_err(|e| PortraitError::Encode(e.to_string()))?;
    Ok(out)
}
