//! Frontal face detection with SeetaFace's funnel-structured cascade (the `rustface` crate), whose
//! model (`models/seeta_fd_frontal_v1.0.bin`, BSD-2-Clause) is compiled into this crate.

use crate::image::RgbImage;

/// Detection runs on a copy at most this large: selfies from phones are 12 megapixels, and a face
/// worth comparing is still hundreds of pixels wide at this size.
pub(crate) const DETECTION_MAX_SIDE: usize = 640;
/// The smallest face looked for, in pixels of the (shrunk) detection image...
const MIN_FACE: u32 = 40;
/// ...and at least this fraction of the image's shorter side: in a selfie or a chip portrait the
/// face fills much of the frame, and each smaller scale costs detection time. Faces smaller than
/// this (people far in the background) are not counted.
const MIN_FACE_PER_SHORTER_SIDE: u32 = 10;
/// Cascade score below which a window is not a face (rustface's own example uses 2.0).
const SCORE_THRESHOLD: f64 = 2.0;

/// A detected face: its box in pixels of the original image, and the detector's score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub score: f64,
}

/// Faces in `small` (an image already shrunk to DETECTION_MAX_SIDE), in its pixels.
pub(crate) fn detect_faces(model: &rustface::Model, small: &RgbImage) -> Vec<FaceBox> {
    let gray = small.to_gray();
    let (Ok(w), Ok(h)) = (u32::try_from(small.width), u32::try_from(small.height)) else {
        return Vec::new();
    };
    if w < MIN_FACE || h < MIN_FACE {
        return Vec::new();
    }
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_min_face_size(MIN_FACE.max(w.min(h) / MIN_FACE_PER_SHORTER_SIDE));
    detector.set_score_thresh(SCORE_THRESHOLD);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let faces = detector.detect(&rustface::ImageData::new(&gray, w, h));
    faces
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
