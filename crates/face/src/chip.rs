//! The face chip the embedding network takes: 150x150 RGB around the face.
//!
//! dlib aligns the chip with a similarity transform fitted to five landmarks (eye corners, nose),
//! with 25 % padding. This crate does not yet locate landmarks; it takes an upright square derived
//! from the detector's box, sized and placed to cover what dlib's chip covers on average (the
//! constants were measured against dlib on the test portrait). Landmark alignment is the next step
//! for accuracy on tilted heads.

use crate::detect::FaceBox;
use crate::image::RgbImage;
use crate::resnet::CHIP_SIZE;

/// Chip side as a multiple of the detector box's width.
const SIDE_PER_BOX_WIDTH: f32 = 1.25;
/// Downward shift of the chip centre, as a fraction of the box height.
const CENTRE_SHIFT_PER_BOX_HEIGHT: f32 = 0.11;

/// Interleaved RGB bytes of the chip for `face`.
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
