//! Decoding of JPEG and PNG inputs into 8-bit RGB, upright (EXIF orientation applied: phone
//! selfies are often stored sideways with an orientation tag).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::FaceError;

/// Largest width or height accepted: a 12000-pixel side is beyond any phone camera.
const MAX_SIDE: u32 = 12_000;
/// Largest allocation while decoding (a 40-megapixel RGBA image is 160 MB).
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// An 8-bit RGB image, rows top to bottom, pixels interleaved.
#[derive(Clone)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbImage {
    /// Decodes a JPEG or PNG file; any other format is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, FaceError> {
        let format = image::guess_format(bytes).map_err(|_| FaceError::UnsupportedFormat)?;
        if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
            return Err(FaceError::UnsupportedFormat);
        }
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| FaceError::Decode(e.to_string()))?;
        let orientation = decoder
            .orientation()
            .map_err(|e| FaceError::Decode(e.to_string()))?;
        let mut img =
            DynamicImage::from_decoder(decoder).map_err(|e| FaceError::Decode(e.to_string()))?;
        img.apply_orientation(orientation);
        let rgb = img.into_rgb8();
        let (width, height) = (rgb.width() as usize, rgb.height() as usize);
        if width == 0 || height == 0 {
            return Err(FaceError::Decode("empty image".into()));
        }
        Ok(Self {
            width,
            height,
            data: rgb.into_raw(),
        })
    }

    /// Baseline JPEG of this image (e.g. to keep a PNG selfie as the JPEG the API shows).
    pub fn to_jpeg(&self, quality: u8) -> Result<Vec<u8>, FaceError> {
        let (width, height) = (
            u32::try_from(self.width).map_err(|_| FaceError::Decode("image too wide".into()))?,
            u32::try_from(self.height).map_err(|_| FaceError::Decode("image too high".into()))?,
        );
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode(&self.data, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|e| FaceError::Decode(e.to_string()))?;
        Ok(out)
    }

    /// ITU-R BT.601 luma, as the detector takes it.
    pub(crate) fn to_gray(&self) -> Vec<u8> {
        self.data
            .chunks_exact(3)
            .map(|p| {
                let [r, g, b] =
                    [p.first(), p.get(1), p.get(2)].map(|v| u32::from(v.copied().unwrap_or(0)));
                ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8
            })
            .collect()
    }

    /// Bilinear sample of channel `c` at (x, y) in pixel-centre coordinates; outside is black.
    pub(crate) fn sample(&self, x: f32, y: f32, c: usize) -> f32 {
        let x0 = x.floor();
        let y0 = y.floor();
        let (fx, fy) = (x - x0, y - y0);
        let at = |xi: f32, yi: f32| -> f32 {
            if xi < 0.0 || yi < 0.0 || xi >= self.width as f32 || yi >= self.height as f32 {
                return 0.0;
            }
            let i = (yi as usize * self.width + xi as usize) * 3 + c;
            f32::from(self.data.get(i).copied().unwrap_or(0))
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// A copy whose longer side is at most `max_side` (box-averaged), with the scale applied.
    pub(crate) fn shrink_to(&self, max_side: usize) -> (Self, f32) {
        let longer = self.width.max(self.height);
        if longer <= max_side {
            return (self.clone(), 1.0);
        }
        let factor = longer.div_ceil(max_side);
        let (w, h) = (self.width / factor, self.height / factor);
        let row_len = self.width * 3;
        let mut sums = vec![0u32; w * 3];
        let mut data = Vec::with_capacity(w * h * 3);
        let divisor = (factor * factor) as u32;
        for band in self.data.chunks_exact(row_len * factor).take(h) {
            sums.fill(0);
            for row in band.chunks_exact(row_len) {
                for (block, sum) in row.chunks_exact(3 * factor).zip(sums.chunks_exact_mut(3)) {
                    for px in block.chunks_exact(3) {
                        for (s, &v) in sum.iter_mut().zip(px) {
                            *s += u32::from(v);
                        }
                    }
                }
            }
            data.extend(sums.iter().map(|&s| (s / divisor) as u8));
        }
        (
            Self {
                width: w,
                height: h,
                data,
            },
            1.0 / factor as f32,
        )
    }
}
