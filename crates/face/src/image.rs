//! Decoding of JPEG and PNG inputs into 8-bit RGB, upright (EXIF orientation applied: phone
//! selfies are often stored sideways with an orientation tag).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::FaceError;

/// Largest width or height accepted: a 12000-pixel side is beyond any phone camera.
const MAX_SIDE: u32 = 12_000;
/// Largest allocation while decoding (a 40-megapixel RGBA image is 160 MB).
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// JPEGs at least twice this large (longer side) are decoded at a reduced scale (1/2, 1/4 or 1/8,
/// in the DCT domain: a 12-megapixel selfie in about half the time of a full decode) that keeps the
/// longer side at least this large: a face filling a fifth of it is still wider than the 150-pixel
/// chip the descriptor is computed from.
const SCALED_DECODE_MIN_SIDE: u16 = 720;

/// An 8-bit RGB image, rows top to bottom, pixels interleaved.
#[derive(Clone)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbImage {
    /// Decodes a JPEG or PNG file; any other format is refused. A JPEG much larger than face work
    /// needs (a phone's 12-megapixel selfie) is decoded at a reduced scale.
    pub fn decode(bytes: &[u8]) -> Result<Self, FaceError> {
        let format = image::guess_format(bytes).map_err(|_| FaceError::UnsupportedFormat)?;
        if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
            return Err(FaceError::UnsupportedFormat);
        }
        if format == ImageFormat::Jpeg {
            if let Some(img) = Self::decode_large_jpeg_scaled(bytes) {
                return Ok(img);
            }
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
        let img =
            DynamicImage::from_decoder(decoder).map_err(|e| FaceError::Decode(e.to_string()))?;
        Self::upright(img, orientation).ok_or_else(|| FaceError::Decode("empty image".into()))
    }

    /// `img` turned as its EXIF orientation says, as 8-bit RGB; `None` if it is empty.
    fn upright(mut img: DynamicImage, orientation: image::metadata::Orientation) -> Option<Self> {
        img.apply_orientation(orientation);
        let rgb = img.into_rgb8();
        let (width, height) = (rgb.width() as usize, rgb.height() as usize);
        if width == 0 || height == 0 {
            return None;
        }
        Some(Self {
            width,
            height,
            data: rgb.into_raw(),
        })
    }

    /// A large JPEG decoded at the smallest DCT scale that keeps its longer side at least
    /// SCALED_DECODE_MIN_SIDE, upright. `None` when the image is not that large, or when this decoder
    /// cannot read it (the full decoder then decides).
    fn decode_large_jpeg_scaled(bytes: &[u8]) -> Option<Self> {
        let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
        decoder.read_info().ok()?;
        let info = decoder.info()?;
        let (w, h) = (info.width, info.height);
        if w.max(h) < 2 * SCALED_DECODE_MIN_SIDE || u32::from(w.max(h)) > MAX_SIDE {
            return None;
        }
        // The decoder picks the smallest scale whose size is at least the one requested.
        let ratio = f64::from(SCALED_DECODE_MIN_SIDE) / f64::from(w.max(h));
        let request = |side: u16| (f64::from(side) * ratio).ceil() as u16;
        decoder.scale(request(w), request(h)).ok()?;
        decoder.set_max_decoding_buffer_size(usize::try_from(MAX_DECODE_BYTES).ok()?);
        let pixels = decoder.decode().ok()?;
        let info = decoder.info()?;
        let (width, height) = (u32::from(info.width), u32::from(info.height));
        let img = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => {
                DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, pixels)?)
            }
            jpeg_decoder::PixelFormat::L8 => {
                DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, pixels)?)
            }
            jpeg_decoder::PixelFormat::L16 | jpeg_decoder::PixelFormat::CMYK32 => return None,
        };
        let orientation = decoder
            .exif_data()
            .and_then(image::metadata::Orientation::from_exif_chunk)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        Self::upright(img, orientation)
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

    /// ITU-R BT.601 luma of a bilinear sample at (x, y), as [`RgbImage::to_gray`] computes it.
    pub(crate) fn sample_luma(&self, x: f32, y: f32) -> u8 {
        let [r, g, b] = [0, 1, 2].map(|c| self.sample(x, y, c));
        (0.299 * r + 0.587 * g + 0.114 * b)
            .round()
            .clamp(0.0, 255.0) as u8
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

    /// A copy shrunk by the largest whole factor that keeps the shorter side at least
    /// `min_shorter_side` (box-averaged), with the scale applied.
    pub(crate) fn shrink_keeping(&self, min_shorter_side: usize) -> (Self, f32) {
        let factor = self.width.min(self.height) / min_shorter_side.max(1);
        if factor <= 1 {
            return (self.clone(), 1.0);
        }
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
