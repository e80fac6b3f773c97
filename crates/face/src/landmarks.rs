//! Five facial landmarks with dlib's `shape_predictor_5_face_landmarks.dat` (CC0-1.0): a cascade
//! of regression-tree forests over pixel-intensity differences (Kazemi and Sullivan, "One
//! Millisecond Face Alignment with an Ensemble of Regression Trees", CVPR 2014), as dlib's
//! `shape_predictor` runs it. Points: outer and inner corner of the left eye, outer and inner
//! corner of the right eye (as seen in the image: 0, 1 on the right, 2, 3 on the left), and the
//! point under the nose.
//!
//! Serialised form (dlib `shape_predictor`): version 1; initial shape (matrix, x y interleaved, in
//! box-relative units); forests (per cascade level, trees of splits `idx1 idx2 thresh` and leaf
//! shape deltas); anchor indices and offsets of the feature pixels, per cascade level.

use crate::ModelError;
use crate::dlib::DlibReader;
use crate::image::RgbImage;

pub const LANDMARKS: usize = 5;

struct Split {
    idx1: usize,
    idx2: usize,
    thresh: f32,
}

struct Tree {
    splits: Vec<Split>,
    leaves: Vec<Vec<f32>>,
}

struct Level {
    trees: Vec<Tree>,
    anchors: Vec<usize>,
    deltas: Vec<(f32, f32)>,
}

/// A box in dlib's convention: inclusive right and bottom edges.
#[derive(Clone, Copy, Debug)]
pub struct DlibRect {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

pub struct ShapePredictor {
    initial: Vec<f32>,
    levels: Vec<Level>,
}

fn read_matrix(r: &mut DlibReader<'_>) -> Result<Vec<f32>, ModelError> {
    let rows = r.int()?.unsigned_abs();
    let cols = r.int()?.unsigned_abs();
    let n =
        rows.checked_mul(cols)
            .filter(|&n| n <= 1 << 20)
            .ok_or(ModelError::UnexpectedShape {
                layer: "shape_predictor matrix",
            })?;
    (0..n).map(|_| r.float().map(|v| v as f32)).collect()
}

fn read_len(r: &mut DlibReader<'_>, max: usize) -> Result<usize, ModelError> {
    let n = r.usize()?;
    if n > max {
        return Err(ModelError::UnexpectedShape {
            layer: "shape_predictor vector",
        });
    }
    Ok(n)
}

impl ShapePredictor {
    pub fn from_dlib_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = DlibReader::new(bytes);
        if r.int()? != 1 {
            return Err(ModelError::UnexpectedShape {
                layer: "shape_predictor version",
            });
        }
        let initial = read_matrix(&mut r)?;
        if initial.len() != 2 * LANDMARKS {
            return Err(ModelError::UnexpectedShape {
                layer: "shape_predictor initial shape",
            });
        }
        let mut forests = Vec::new();
        for _ in 0..read_len(&mut r, 1000)? {
            let mut trees = Vec::new();
            for _ in 0..read_len(&mut r, 100_000)? {
                let mut splits = Vec::new();
                for _ in 0..read_len(&mut r, 1 << 16)? {
                    let idx1 = r.usize()?;
                    let idx2 = r.usize()?;
                    let thresh = r.float()? as f32;
                    splits.push(Split { idx1, idx2, thresh });
                }
                let mut leaves = Vec::new();
                for _ in 0..read_len(&mut r, 1 << 17)? {
                    let leaf = read_matrix(&mut r)?;
                    if leaf.len() != 2 * LANDMARKS {
                        return Err(ModelError::UnexpectedShape {
                            layer: "shape_predictor leaf",
                        });
                    }
                    leaves.push(leaf);
                }
                if leaves.len() != splits.len() + 1 {
                    return Err(ModelError::UnexpectedShape {
                        layer: "shape_predictor tree",
                    });
                }
                trees.push(Tree { splits, leaves });
            }
            forests.push(trees);
        }
        let mut anchors = Vec::new();
        for _ in 0..read_len(&mut r, 1000)? {
            let n = read_len(&mut r, 1 << 16)?;
            let level: Vec<usize> = (0..n).map(|_| r.usize()).collect::<Result<_, _>>()?;
            if level.iter().any(|&a| a >= LANDMARKS) {
                return Err(ModelError::UnexpectedShape {
                    layer: "shape_predictor anchor",
                });
            }
            anchors.push(level);
        }
        let mut deltas = Vec::new();
        for _ in 0..read_len(&mut r, 1000)? {
            let n = read_len(&mut r, 1 << 16)?;
            let level: Vec<(f32, f32)> = (0..n)
                .map(|_| Ok((r.float()? as f32, r.float()? as f32)))
                .collect::<Result<_, ModelError>>()?;
            deltas.push(level);
        }
        if anchors.len() != forests.len() || deltas.len() != forests.len() {
            return Err(ModelError::UnexpectedShape {
                layer: "shape_predictor cascade",
            });
        }
        let mut levels = Vec::new();
        for ((trees, anchors), deltas) in forests.into_iter().zip(anchors).zip(deltas) {
            let features = anchors.len();
            if deltas.len() != features
                || trees
                    .iter()
                    .flat_map(|t| &t.splits)
                    .any(|s| s.idx1 >= features || s.idx2 >= features)
            {
                return Err(ModelError::UnexpectedShape {
                    layer: "shape_predictor features",
                });
            }
            levels.push(Level {
                trees,
                anchors,
                deltas,
            });
        }
        Ok(Self { initial, levels })
    }

    /// The five landmarks, in image pixels, of the face in `rect`.
    pub fn predict(&self, img: &RgbImage, rect: DlibRect) -> [(f32, f32); LANDMARKS] {
        let mut shape = self.initial.clone();
        // Box-relative to image: (0,0) -> top-left corner, (1,1) -> bottom-right corner.
        let to_image = |x: f32, y: f32| {
            (
                rect.left + x * (rect.right - rect.left),
                rect.top + y * (rect.bottom - rect.top),
            )
        };
        for level in &self.levels {
            let [a, b] = similarity_between(&self.initial, &shape);
            let features: Vec<f32> = level
                .anchors
                .iter()
                .zip(&level.deltas)
                .map(|(&anchor, &(dx, dy))| {
                    let ax = shape.get(2 * anchor).copied().unwrap_or(0.0);
                    let ay = shape.get(2 * anchor + 1).copied().unwrap_or(0.0);
                    let (x, y) = to_image(a * dx - b * dy + ax, b * dx + a * dy + ay);
                    intensity(img, x.round(), y.round())
                })
                .collect();
            for tree in &level.trees {
                let mut i = 0;
                while let Some(split) = tree.splits.get(i) {
                    let f1 = features.get(split.idx1).copied().unwrap_or(0.0);
                    let f2 = features.get(split.idx2).copied().unwrap_or(0.0);
                    i = if f1 - f2 > split.thresh {
                        2 * i + 1
                    } else {
                        2 * i + 2
                    };
                }
                if let Some(leaf) = tree.leaves.get(i - tree.splits.len()) {
                    for (s, d) in shape.iter_mut().zip(leaf) {
                        *s += d;
                    }
                }
            }
        }
        let mut points = [(0.0, 0.0); LANDMARKS];
        for (p, xy) in points.iter_mut().zip(shape.chunks_exact(2)) {
            if let [x, y] = xy {
                *p = to_image(*x, *y);
            }
        }
        points
    }
}

/// Mean of R, G and B at an integer pixel; 0 outside the image.
fn intensity(img: &RgbImage, x: f32, y: f32) -> f32 {
    if x < 0.0 || y < 0.0 || x >= img.width as f32 || y >= img.height as f32 {
        return 0.0;
    }
    let i = (y as usize * img.width + x as usize) * 3;
    match img.data.get(i..i + 3) {
        Some([r, g, b]) => ((u32::from(*r) + u32::from(*g) + u32::from(*b)) / 3) as f32,
        _ => 0.0,
    }
}

/// The linear part [[a, -b], [b, a]] of the least-squares similarity taking the points `from`
/// to the points `to` (x y interleaved).
pub(crate) fn similarity_between(from: &[f32], to: &[f32]) -> [f32; 2] {
    let n = (from.len() / 2).min(to.len() / 2) as f32;
    let mean = |s: &[f32]| {
        let (mut x, mut y) = (0.0, 0.0);
        for p in s.chunks_exact(2) {
            if let [px, py] = p {
                x += px;
                y += py;
            }
        }
        (x / n, y / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
    for (f, t) in from.chunks_exact(2).zip(to.chunks_exact(2)) {
        if let ([x1, y1], [x2, y2]) = (f, t) {
            let (ux, uy, vx, vy) = (x1 - fx, y1 - fy, x2 - tx, y2 - ty);
            dot += ux * vx + uy * vy;
            cross += ux * vy - uy * vx;
            norm += ux * ux + uy * uy;
        }
    }
    if norm == 0.0 {
        [1.0, 0.0]
    } else {
        [dot / norm, cross / norm]
    }
}
