//! Known-answer and behaviour tests of the face crate on real photographs.
//!
//! Test images (tests/data), all from the scikit-image 0.26.0 wheel on PyPI (skimage/data):
//! - astronaut.png: Eileen Collins, NASA photograph, public domain;
//! - camera.png: a man with a camera, CC0 (Lav Varshney);
//! - coffee.png: a cup of coffee, CC0 (Rachel Michetti), no face.
//! astronaut_chip_150.png is dlib 20.0.1's `get_face_chip(img, shape, 150, 0.25)` of astronaut.png
//! with the shape from `shape_predictor_5_face_landmarks.dat` on the frontal HOG detection, and
//! astronaut_chip_150.dlib-descriptor.txt is dlib's `compute_face_descriptor` of that chip
//! (PyPI dlib-bin 20.0.1.post1, models from PyPI face-recognition-models 0.3.0).

use std::sync::OnceLock;

use face::{DEFAULT_THRESHOLD, Decision, Descriptor, FaceEngine, FaceFinding, RgbImage};

fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| FaceEngine::new().expect("compiled-in models load"))
}

const ASTRONAUT: &[u8] = include_bytes!("data/astronaut.png");
const CAMERA: &[u8] = include_bytes!("data/camera.png");
const COFFEE: &[u8] = include_bytes!("data/coffee.png");
const ASTRONAUT_CHIP: &[u8] = include_bytes!("data/astronaut_chip_150.png");
const ASTRONAUT_CHIP_DESCRIPTOR: &str = include_str!("data/astronaut_chip_150.dlib-descriptor.txt");

#[test]
fn descriptor_of_a_chip_matches_dlib() {
    let chip = RgbImage::decode(ASTRONAUT_CHIP).unwrap();
    assert_eq!((chip.width, chip.height), (150, 150));
    let ours = engine().descriptor_of_chip(&chip.data).unwrap();
    let dlib: Vec<f32> = ASTRONAUT_CHIP_DESCRIPTOR
        .lines()
        .map(|l| l.trim().parse::<f64>().unwrap() as f32)
        .collect();
    assert_eq!(dlib.len(), 128);
    let max_diff = ours
        .0
        .iter()
        .zip(&dlib)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "largest difference from dlib's descriptor: {max_diff}"
    );
}

#[test]
fn print_detections() {
    for (name, bytes) in [
        ("astronaut", ASTRONAUT),
        ("camera", CAMERA),
        ("coffee", COFFEE),
    ] {
        let img = RgbImage::decode(bytes).unwrap();
        println!("{name}: {:?}", engine().detect(&img));
    }
}
