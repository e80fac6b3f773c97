//! dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1`, dlib's
//! `dnn_face_recognition_ex.cpp`): a 29-convolution residual network taking a 150x150 RGB face chip
//! to a 128-d descriptor; two chips of one person lie within Euclidean distance 0.6 (99.38 % on LFW).
//!
//! The layer stack, input first (dlib defaults: a convolution or pooling with stride 1 pads by
//! half its size, one with stride 2 does not pad):
//! - conv 7x7/2 (32), affine, relu, max pool 3x3/2
//! - 3 residual blocks of 32, then [down + 3] of 64, [down + 2] of 128, [down + 2] of 256, [down] of 256
//! - mean over the remaining positions, fully connected 256 -> 128 without bias.
//!
//! A residual block is conv 3x3/s, affine, relu, conv 3x3/1, affine, added to its input, relu. In a
//! down block (s = 2) the input is first averaged 2x2/2. When the two operands of the addition differ
//! in size (channels or positions) the sum has the larger size and the missing values count as zero,
//! as dlib's `add_prev` does.

use crate::ModelError;
use crate::dlib::DlibReader;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Side of the square RGB chip the network takes.
pub const CHIP_SIZE: usize = 150;
/// Length of a face descriptor.
pub const DESCRIPTOR_LEN: usize = 128;

/// Channels-first activations.
struct Tensor {
    channels: usize,
    height: usize,
    width: usize,
    data: Vec<f32>,
}

impl Tensor {
    fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }
}

struct Conv {
    filters: usize,
    in_channels: usize,
    size: usize,
    stride: usize,
    padding: usize,
    /// filters x in_channels x size x size, then one bias per filter.
    weights: Vec<f32>,
    biases: Vec<f32>,
}

struct Affine {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Block {
    conv1: Conv,
    affine1: Affine,
    conv2: Conv,
    affine2: Affine,
    down: bool,
}

/// The network with its parameters, loaded from dlib's `.dat` file.
pub struct FaceResNet {
    mean_rgb: [f32; 3],
    stem: Conv,
    stem_affine: Affine,
    blocks: Vec<Block>,
    /// 256 inputs x 128 outputs, row-major.
    fc: Vec<f32>,
}

/// (filters, down) of each residual block, input first.
const BLOCKS: [(usize, bool); 14] = [
    (32, false),
    (32, false),
    (32, false),
    (64, true),
    (64, false),
    (64, false),
    (64, false),
    (128, true),
    (128, false),
    (128, false),
    (256, true),
    (256, false),
    (256, false),
    (256, true),
];

fn read_conv(
    r: &mut DlibReader<'_>,
    filters: usize,
    in_channels: usize,
    size: usize,
    stride: usize,
) -> Result<Conv, ModelError> {
    r.skip_to_name("con_4")?;
    let params = r.tensor()?;
    let fields = [
        r.usize()?,
        r.usize()?,
        r.usize()?,
        r.usize()?,
        r.usize()?,
        r.usize()?,
        r.usize()?,
    ];
    // The filters' alias tensor: version, num_samples, k, nr, nc.
    let _alias_version = r.int()?;
    let alias = [r.usize()?, r.usize()?, r.usize()?, r.usize()?];
    let padding = if stride == 1 { size / 2 } else { 0 };
    let expected = [filters, size, size, stride, stride, padding, padding];
    if fields != expected || alias != [filters, in_channels, size, size] {
        return Err(ModelError::UnexpectedShape { layer: "con_4" });
    }
    let weight_len = filters * in_channels * size * size;
    if params.len() != weight_len + filters {
        return Err(ModelError::UnexpectedShape { layer: "con_4" });
    }
    let mut weights = params;
    let biases = weights.split_off(weight_len);
    Ok(Conv {
        filters,
        in_channels,
        size,
        stride,
        padding,
        weights,
        biases,
    })
}

fn read_affine(r: &mut DlibReader<'_>, channels: usize) -> Result<Affine, ModelError> {
    r.skip_to_name("affine_")?;
    let mut gamma = r.tensor()?;
    if gamma.len() != 2 * channels {
        return Err(ModelError::UnexpectedShape { layer: "affine_" });
    }
    let beta = gamma.split_off(channels);
    Ok(Affine { gamma, beta })
}

impl FaceResNet {
    /// Parses `dlib_face_recognition_resnet_model_v1.dat` and checks every layer's shape against
    /// the architecture above.
    pub fn from_dlib_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = DlibReader::new(bytes);
        r.skip_to_name("input_rgb_image_sized")?;
        let mean_rgb = [r.float()? as f32, r.float()? as f32, r.float()? as f32];
        if [r.usize()?, r.usize()?] != [CHIP_SIZE, CHIP_SIZE] {
            return Err(ModelError::UnexpectedShape {
                layer: "input_rgb_image_sized",
            });
        }
        let stem = read_conv(&mut r, 32, 3, 7, 2)?;
        let stem_affine = read_affine(&mut r, 32)?;
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        let mut channels = 32;
        for (filters, down) in BLOCKS {
            let stride = if down { 2 } else { 1 };
            let conv1 = read_conv(&mut r, filters, channels, 3, stride)?;
            let affine1 = read_affine(&mut r, filters)?;
            let conv2 = read_conv(&mut r, filters, filters, 3, 1)?;
            let affine2 = read_affine(&mut r, filters)?;
            blocks.push(Block {
                conv1,
                affine1,
                conv2,
                affine2,
                down,
            });
            channels = filters;
        }
        if r.has_name_ahead("con_4") || r.has_name_ahead("affine_") {
            return Err(ModelError::UnexpectedShape { layer: "con_4" });
        }
        r.skip_to_name("fc_2")?;
        let outputs = r.usize()?;
        let inputs = r.usize()?;
        let fc = r.tensor()?;
        if outputs != DESCRIPTOR_LEN || inputs != channels || fc.len() != inputs * outputs {
            return Err(ModelError::UnexpectedShape { layer: "fc_2" });
        }
        Ok(Self {
            mean_rgb,
            stem,
            stem_affine,
            blocks,
            fc,
        })
    }

    /// The descriptor of a 150x150 aligned face chip given as interleaved RGB bytes.
    pub fn descriptor(&self, chip_rgb: &[u8]) -> Result<[f32; DESCRIPTOR_LEN], crate::FaceError> {
        if chip_rgb.len() != CHIP_SIZE * CHIP_SIZE * 3 {
            return Err(crate::FaceError::ChipSize);
        }
        let mut x = Tensor::zeros(3, CHIP_SIZE, CHIP_SIZE);
        let plane = x.plane();
        for (i, px) in chip_rgb.chunks_exact(3).enumerate() {
            for (c, (&v, mean)) in px.iter().zip(self.mean_rgb).enumerate() {
                if let Some(slot) = x.data.get_mut(c * plane + i) {
                    *slot = (f32::from(v) - mean) / 256.0;
                }
            }
        }
        let mut x = conv(&self.stem, &x)?;
        affine(&self.stem_affine, &mut x, true);
        let mut x = max_pool_3x3_s2(&x);
        for block in &self.blocks {
            let mut y = conv(&block.conv1, &x)?;
            affine(&block.affine1, &mut y, true);
            let mut y = conv(&block.conv2, &y)?;
            affine(&block.affine2, &mut y, false);
            let skip = if block.down { avg_pool_2x2_s2(&x) } else { x };
            x = add_relu(&y, &skip);
        }
        let mut pooled = vec![0.0f32; x.channels];
        let n = x.plane() as f32;
        for (p, ch) in pooled.iter_mut().zip(x.data.chunks_exact(x.plane())) {
            *p = ch.iter().sum::<f32>() / n;
        }
        let mut out = [0.0f32; DESCRIPTOR_LEN];
        for (&v, row) in pooled.iter().zip(self.fc.chunks_exact(DESCRIPTOR_LEN)) {
            for (o, &w) in out.iter_mut().zip(row) {
                *o += v * w;
            }
        }
        Ok(out)
    }
}

/// Cross-correlation as im2col + a row-by-row multiply-add the compiler vectorises.
#[allow(clippy::indexing_slicing)] // every index is below a size computed from the same shapes
fn conv(layer: &Conv, x: &Tensor) -> Result<Tensor, crate::FaceError> {
    debug_assert_eq!(x.channels, layer.in_channels);
    let (k, s, p) = (layer.size, layer.stride, layer.padding);
    let out_h = (x.height + 2 * p - k) / s + 1;
    let out_w = (x.width + 2 * p - k) / s + 1;
    let positions = out_h * out_w;
    let rows = layer.in_channels * k * k;
    let mut cols = vec![0.0f32; rows * positions];
    for c in 0..layer.in_channels {
        let src = &x.data[c * x.plane()..(c + 1) * x.plane()];
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((c * k + ky) * k + kx) * positions..][..positions];
                for oy in 0..out_h {
                    let iy = (oy * s + ky) as isize - p as isize;
                    if iy < 0 || iy >= x.height as isize {
                        continue;
                    }
                    let src_row = &src[iy as usize * x.width..][..x.width];
                    let dst = &mut row[oy * out_w..][..out_w];
                    for (ox, d) in dst.iter_mut().enumerate() {
                        let ix = (ox * s + kx) as isize - p as isize;
                        if ix >= 0 && ix < x.width as isize {
                            *d = src_row[ix as usize];
                        }
                    }
                }
            }
        }
    }
    let mut out = Tensor::zeros(layer.filters, out_h, out_w);
    for (f, out_row) in out.data.chunks_exact_mut(positions).enumerate() {
        out_row.fill(layer.biases[f]);
    }
    // out (filters x positions) += weights (filters x rows) * cols (rows x positions): a
    // cache-blocked SIMD matrix product (matrixmultiply, through ndarray's safe interface).
    let shapes = (
        ArrayView2::from_shape((layer.filters, rows), &layer.weights),
        ArrayView2::from_shape((rows, positions), &cols),
        ArrayViewMut2::from_shape((layer.filters, positions), &mut out.data),
    );
    match shapes {
        (Ok(weights), Ok(cols), Ok(mut product)) => {
            general_mat_mul(1.0, &weights, &cols, 1.0, &mut product);
        }
        _ => {
            return Err(crate::FaceError::Internal(
                "convolution shapes disagree".into(),
            ));
        }
    }
    Ok(out)
}

fn affine(layer: &Affine, x: &mut Tensor, relu: bool) {
    let plane = x.plane();
    for ((ch, &g), &b) in x
        .data
        .chunks_exact_mut(plane)
        .zip(&layer.gamma)
        .zip(&layer.beta)
    {
        for v in ch {
            *v = g * *v + b;
            if relu && *v < 0.0 {
                *v = 0.0;
            }
        }
    }
}

/// Pooling over `size` x `size` windows with stride 2 and no padding, each window's values
/// (row by row) reduced to one by `reduce`.
#[allow(clippy::indexing_slicing)] // windows lie inside the input: no padding, sizes rounded down
fn pool_s2(
    x: &Tensor,
    size: usize,
    reduce: impl Fn(&mut dyn Iterator<Item = f32>) -> f32,
) -> Tensor {
    let out_h = (x.height - size) / 2 + 1;
    let out_w = (x.width - size) / 2 + 1;
    let mut out = Tensor::zeros(x.channels, out_h, out_w);
    let (plane, out_plane) = (x.plane(), out.plane());
    for c in 0..x.channels {
        let src = &x.data[c * plane..][..plane];
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut window = (0..size).flat_map(|ky| {
                    let row = (oy * 2 + ky) * x.width + ox * 2;
                    src[row..row + size].iter().copied()
                });
                out.data[c * out_plane + oy * out_w + ox] = reduce(&mut window);
            }
        }
    }
    out
}

fn max_pool_3x3_s2(x: &Tensor) -> Tensor {
    pool_s2(x, 3, |w: &mut dyn Iterator<Item = f32>| {
        w.fold(f32::NEG_INFINITY, f32::max)
    })
}

fn avg_pool_2x2_s2(x: &Tensor) -> Tensor {
    pool_s2(x, 2, |w: &mut dyn Iterator<Item = f32>| {
        w.sum::<f32>() / 4.0
    })
}

/// relu(a + b), sized to the larger of the two in each dimension, missing values being zero.
fn add_relu(a: &Tensor, b: &Tensor) -> Tensor {
    let mut out = Tensor::zeros(
        a.channels.max(b.channels),
        a.height.max(b.height),
        a.width.max(b.width),
    );
    for t in [a, b] {
        for c in 0..t.channels {
            for y in 0..t.height {
                let src = t
                    .data
                    .get((c * t.height + y) * t.width..)
                    .unwrap_or_default();
                let start = (c * out.height + y) * out.width;
                let dst = out.data.get_mut(start..start + t.width).unwrap_or_default();
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
    }
    for v in &mut out.data {
        *v = v.max(0.0);
    }
    out
}
