//! The portrait as a JPEG any browser shows: DG2 JPEGs pass through after a structural check,
//! JPEG 2000 portraits (most chips of the 2000s) are decoded and re-encoded as baseline JPEG.
//!
//! JPEG 2000 decoding uses `hayro-jpeg2000` (pure Rust, `forbid(unsafe_code)`), behind the
//! default-on `jpeg2000` feature. The decoder sees attacker-controlled bytes: the image size is
//! bounded before decoding, and a panic inside the decoder is caught and reported as an error.

pub use crate::lds::image::image_dimensions;
use crate::lds::image::jpeg_frame;
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

/// The portrait as JPEG bytes: a JPEG is checked and returned as is, a JPEG 2000 is transcoded.
pub fn portrait_jpeg(image: &FaceImage) -> Result<Vec<u8>, PortraitError> {
    jpeg_from_image(&image.data)
}

/// As [`portrait_jpeg`], for any image bytes (DG7 signature, DG12 document images).
pub fn jpeg_from_image(data: &[u8]) -> Result<Vec<u8>, PortraitError> {
    match ImageFormat::detect(data) {
        ImageFormat::Jpeg => {
            let frame = jpeg_frame(data).map_err(PortraitError::MalformedJpeg)?;
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
