//! Frontal face detection with SeetaFace's funnel-structured cascade (the `rustface` crate), whose
//! model (`models/seeta_fd_frontal_v1.0.bin`, BSD-2-Clause) is compiled into this crate.
//!
//! Two steps, each there for a reason measured on real photographs (see the crate README):
//! 1. a search in a copy shrunk to DETECTION_SHORTER_SIDE (rustface ignores a minimum face
//!    size: its 40-pixel window is tried at scale 1 and in every smaller level of an image pyramid,
//!    so the cost is set by the size of the image it is given);
//! 2. when it finds more than one face, each is confirmed by detecting again in a crop around it,
//!    resampled so the face is about 64 pixels wide: the cascade sometimes fires weakly on
//!    clothing or background texture beside the real face (score 2-3, the same as a real but small
//!    or turned face), which would make a genuine selfie MULTIPLE_FACES; such a window is not found
//!    again when looked at on its own, while a real face is (scores 5-30). A lone detection is not
//!    confirmed: if it is not a face, the comparison fails anyway, and a weak real face is kept.

use crate::image::RgbImage;

/// Detection runs on a copy shrunk by a whole factor (selfies from phones are 12 megapixels) that
/// keeps the shorter side at least this large (so 256-511 pixels), so faces down to the
/// detector's 40-pixel window, 8-16 % of the shorter side, are found (a second person beside the
/// holder counts), while a phone selfie is searched at about 380x500.
pub(crate) const DETECTION_SHORTER_SIDE: usize = 256;
/// The detector's window: the smallest face it finds, in pixels of the image it is given.
const WINDOW: u32 = 40;
/// Cascade score below which a window is not a face (rustface's own example uses 2.0).
const SCORE_THRESHOLD: f64 = 2.0;
/// The confirmation crop is this many face widths wide...
const CONFIRM_CROP_FACES: f32 = 2.0;
/// ...resampled to this many pixels square (the face about 64 pixels wide: found in the first
/// levels of the pyramid; at 50 pixels a real face looking down was missed).
const CONFIRM_CROP_SIDE: usize = 128;

/// A detected face: its box in pixels of the original image, and the detector's score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub score: f64,
}

/// Faces in `small` (`img` shrunk by `scale`), in the pixels of `small`, largest first; when there
/// are several, only those confirmed in `img`.
pub(crate) fn find_faces(
    model: &rustface::Model,
    img: &RgbImage,
    small: &RgbImage,
    scale: f32,
) -> Vec<FaceBox> {
    let mut faces = detect_gray(model, &small.to_gray(), small.width, small.height);
    if faces.len() > 1 {
        faces.retain(|face| confirmed(model, img, &face.scaled(1.0 / scale)));
    }
    faces.sort_by(|a, b| (b.width * b.height).total_cmp(&(a.width * a.height)));
    faces
}

/// A `w` x `h` luma image sampled from `img` starting at (`x0`, `y0`), `step` source pixels per
/// pixel; each pixel averages four bilinear samples of its footprint (enough against aliasing for
/// the reductions made here, at most about 4x).
fn resampled_luma(img: &RgbImage, x0: f32, y0: f32, step: f32, w: usize, h: usize) -> Vec<u8> {
    let mut gray = Vec::with_capacity(w * h);
    let quarter = step / 4.0;
    for y in 0..h {
        let sy = y0 + y as f32 * step - 0.5;
        for x in 0..w {
            let sx = x0 + x as f32 * step - 0.5;
            let sum: u32 = [(1.0, 1.0), (3.0, 1.0), (1.0, 3.0), (3.0, 3.0)]
                .iter()
                .map(|(dx, dy)| u32::from(img.sample_luma(sx + dx * quarter, sy + dy * quarter)))
                .sum();
            gray.push(((sum + 2) / 4) as u8);
        }
    }
    gray
}

/// Faces of at least the detector's window in a gray image, in its pixels.
fn detect_gray(model: &rustface::Model, gray: &[u8], width: usize, height: usize) -> Vec<FaceBox> {
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return Vec::new();
    };
    if w < WINDOW || h < WINDOW {
        return Vec::new();
    }
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_score_thresh(SCORE_THRESHOLD);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    detector
        .detect(&rustface::ImageData::new(gray, w, h))
        .iter()
        .map(|f| {
            let b = f.bbox();
            FaceBox {
                x: b.x() as f32,
                y: b.y() as f32,
                width: b.width() as f32,
                height: b.height() as f32,
                score: f.score(),
            }
        })
        .collect()
}

/// Whether a face is found again, near the centre and at about the expected size, in a crop of
/// `img` around `face` (given in `img`'s pixels).
fn confirmed(model: &rustface::Model, img: &RgbImage, face: &FaceBox) -> bool {
    let side = face.width.max(face.height) * CONFIRM_CROP_FACES;
    let (cx, cy) = (face.x + face.width / 2.0, face.y + face.height / 2.0);
    let step = side / CONFIRM_CROP_SIDE as f32;
    let gray = resampled_luma(
        img,
        cx - side / 2.0,
        cy - side / 2.0,
        step,
        CONFIRM_CROP_SIDE,
        CONFIRM_CROP_SIDE,
    );
    let expected = CONFIRM_CROP_SIDE as f32 / CONFIRM_CROP_FACES;
    let centre = CONFIRM_CROP_SIDE as f32 / 2.0;
    detect_gray(model, &gray, CONFIRM_CROP_SIDE, CONFIRM_CROP_SIDE)
        .iter()
        .any(|f| {
            let (fx, fy) = (f.x + f.width / 2.0, f.y + f.height / 2.0);
            (fx - centre).abs() <= expected / 2.0
                && (fy - centre).abs() <= expected / 2.0
                && f.width >= expected / 2.0
                && f.width <= expected * 2.0
        })
}

impl FaceBox {
    /// The same box in an image `factor` times as large.
    pub(crate) fn scaled(&self, factor: f32) -> FaceBox {
        FaceBox {
            x: self.x * factor,
            y: self.y * factor,
            width: self.width * factor,
            height: self.height * factor,
            score: self.score,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn model() -> rustface::Model {
        rustface::read_model(std::io::Cursor::new(crate::DETECTOR_MODEL)).unwrap()
    }

    fn image(bytes: &[u8]) -> RgbImage {
        RgbImage::decode(bytes).unwrap()
    }

    fn boxed(x: f32, y: f32, side: f32) -> FaceBox {
        FaceBox {
            x,
            y,
            width: side,
            height: side,
            score: 2.5,
        }
    }

    #[test]
    fn a_real_face_is_confirmed_and_texture_is_not() {
        let model = model();
        let astronaut = image(include_bytes!("../tests/data/astronaut.png"));
        let faces = detect_gray(
            &model,
            &astronaut.to_gray(),
            astronaut.width,
            astronaut.height,
        );
        assert_eq!(faces.len(), 1, "{faces:?}");
        assert!(confirmed(&model, &astronaut, &faces[0]));
        // Where the cascade once fired (score 3.1) on her suit in a resized copy of this photo,
        // and two more places on the suit and the flag behind her.
        for (x, y, side) in [
            (275.0, 318.0, 60.0),
            (180.0, 380.0, 90.0),
            (20.0, 40.0, 80.0),
        ] {
            assert!(
                !confirmed(&model, &astronaut, &boxed(x, y, side)),
                "{x},{y} {side}"
            );
        }
        let coffee = image(include_bytes!("../tests/data/coffee.png"));
        for (x, y, side) in [
            (200.0, 100.0, 150.0),
            (0.0, 0.0, 100.0),
            (400.0, 250.0, 60.0),
        ] {
            assert!(!confirmed(&model, &coffee, &boxed(x, y, side)), "{x},{y}");
        }
    }

    #[test]
    fn a_confirmation_crop_reaching_outside_the_image_is_safe() {
        let model = model();
        let astronaut = image(include_bytes!("../tests/data/astronaut.png"));
        for (x, y, side) in [
            (-500.0, -500.0, 40.0),
            (500.0, 500.0, 4000.0),
            (0.0, 0.0, 0.0),
        ] {
            assert!(!confirmed(&model, &astronaut, &boxed(x, y, side)));
        }
    }
}
