//! A synthetic, obviously artificial portrait for DG2.

use jpeg_encoder::{ColorType, Encoder};

use crate::Error;

const WIDTH: u16 = 240;
const HEIGHT: u16 = 320;

/// A 240×320 JPEG of a drawn face: a head, hair, eyes, a nose, a mouth and shoulders
/// on a plain background, as ICAO 9303 Part 9 asks of a passport photo (frontal, centred).
pub fn synthetic_portrait() -> Result<Vec<u8>, Error> {
    let (w, h) = (f32::from(WIDTH), f32::from(HEIGHT));
    let mut pixels = Vec::with_capacity(usize::from(WIDTH) * usize::from(HEIGHT) * 3);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (fx, fy) = (f32::from(x), f32::from(y));
            pixels.extend_from_slice(&colour_at(fx / w, fy / h));
        }
    }
    let mut jpeg = Vec::new();
    Encoder::new(&mut jpeg, 85)
        .encode(&pixels, WIDTH, HEIGHT, ColorType::Rgb)
        .map_err(|e| Error::InvalidPortrait(format!("JPEG encoding failed: {e}")))?;
    Ok(jpeg)
}

fn inside_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}

/// Colour at relative coordinates (0..1, 0..1).
fn colour_at(x: f32, y: f32) -> [u8; 3] {
    const BACKGROUND: [u8; 3] = [214, 222, 230];
    const SKIN: [u8; 3] = [224, 184, 150];
    const HAIR: [u8; 3] = [74, 52, 38];
    const EYE: [u8; 3] = [40, 60, 90];
    const MOUTH: [u8; 3] = [170, 80, 80];
    const SHIRT: [u8; 3] = [50, 70, 110];
    const SHADE: [u8; 3] = [200, 160, 130];

    let aspect = 0.75; // width / height, so that circles stay round
    let xs = x * aspect;
    let cx = 0.5 * aspect;
    if inside_ellipse(xs, y, cx, 1.05, 0.40, 0.25) {
        return SHIRT;
    }
    if inside_ellipse(xs, y, cx, 0.80, 0.08, 0.08) {
        return SKIN; // neck
    }
    let in_face = inside_ellipse(xs, y, cx, 0.46, 0.19, 0.27);
    if inside_ellipse(xs, y, cx, 0.36, 0.215, 0.22) && !(in_face && y > 0.30) {
        return HAIR;
    }
    if !in_face {
        return BACKGROUND;
    }
    for ex in [cx - 0.075, cx + 0.075] {
        if inside_ellipse(xs, y, ex, 0.43, 0.028, 0.016) {
            return EYE;
        }
        if inside_ellipse(xs, y, ex, 0.395, 0.04, 0.007) {
            return HAIR; // eyebrow
        }
    }
    if inside_ellipse(xs, y, cx, 0.52, 0.016, 0.05) {
        return SHADE; // nose
    }
    if inside_ellipse(xs, y, cx, 0.61, 0.06, 0.018) {
        return MOUTH;
    }
    SKIN
}
