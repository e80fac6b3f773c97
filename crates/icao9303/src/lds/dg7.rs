//! DG7: displayed signature or usual mark (ICAO 9303 Part 10 §4.7.7).

use super::{ImageFormat, LdsError, children_bounded, outer};

/// Most images kept from DG7.
const MAX_IMAGES: usize = 16;

/// One displayed signature or usual mark image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayedImage {
    pub format: ImageFormat,
    pub data: Vec<u8>,
}

/// DG7, the holder's displayed signature or usual mark.
///
/// ```text
/// 67 {
///   02    number of images
///   5F43  displayed signature or usual mark (JPEG or JPEG 2000) …
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg7 {
    pub images: Vec<DisplayedImage>,
}

impl Dg7 {
    pub fn parse(data: &[u8]) -> Result<Dg7, LdsError> {
        let dg7 = outer(data, 0x67)?;
        let images = children_bounded(&dg7, MAX_IMAGES + 1, "displayed images")?
            .into_iter()
            .filter(|e| e.tag == 0x5F43)
            .map(|e| DisplayedImage {
                format: ImageFormat::detect(e.value),
                data: e.value.to_vec(),
            })
            .collect();
        Ok(Dg7 { images })
    }
}
