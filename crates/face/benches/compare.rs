//! Time of one selfie-to-portrait comparison (`FaceEngine::compare`: decode, detect, landmarks,
//! chip and descriptor of both images, distance) on one thread, as a ratio to decoding the same two
//! images (`RgbImage::decode`), measured in the same run: what any image pipeline pays before it
//! looks at a face.
//!
//! Pairs: a 320-pixel selfie against a 512-pixel photo, and the same selfie enlarged to a phone
//! camera's 12 megapixels (a quality-90 JPEG) against the chip portrait of the test document
//! (a JPEG 2000 portrait transcoded to JPEG as the server stores it).
//!
//! Run: `taskset -c 0 cargo bench -p face --bench compare` (the target: under 200 ms per comparison
//! on one core); without `taskset`, `compare` analyses the two images on two cores at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use face::{DEFAULT_THRESHOLD, FaceEngine, RgbImage};

fn twelve_megapixel_jpeg(bytes: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory(bytes).unwrap().into_rgb8();
    let big = image::imageops::resize(&img, 3024, 3024, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&big)
        .unwrap();
    out
}

/// Mean time of `f` over enough runs to fill about two seconds.
fn mean_time(mut f: impl FnMut()) -> Duration {
    f();
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < Duration::from_secs(2) || runs < 5 {
        f();
        runs += 1;
    }
    started.elapsed() / runs
}

fn main() {
    let engine = FaceEngine::new().unwrap();
    let selfie = include_bytes!("../tests/data/astronaut_mirrored_320.jpg").to_vec();
    let photo = include_bytes!("../tests/data/astronaut.png").to_vec();
    let portrait =
        icao9303::portrait::jpeg_from_image(include_bytes!("../tests/data/astronaut_portrait.jp2"))
            .unwrap();
    let big_selfie = twelve_megapixel_jpeg(&selfie);
    let pairs = [
        ("320-px selfie vs 512-px photo", &selfie, &photo),
        (
            "12-megapixel selfie vs chip portrait",
            &big_selfie,
            &portrait,
        ),
    ];

    let mut criterion = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for (name, a, b) in pairs {
        let mut group = criterion.benchmark_group(name);
        group.bench_function("decode both", |bench| {
            bench.iter(|| {
                black_box(RgbImage::decode(a).unwrap());
                black_box(RgbImage::decode(b).unwrap());
            })
        });
        group.bench_function("compare", |bench| {
            bench.iter(|| black_box(engine.compare(a, b, DEFAULT_THRESHOLD).unwrap()))
        });
        group.finish();
    }

    println!("\nratio to decoding both images, same run:");
    for (name, a, b) in pairs {
        let decode = mean_time(|| {
            black_box(RgbImage::decode(a).unwrap());
            black_box(RgbImage::decode(b).unwrap());
        });
        let compare = mean_time(|| {
            black_box(engine.compare(a, b, DEFAULT_THRESHOLD).unwrap());
        });
        println!(
            "{name}: compare {:.1} ms = {:.1} x decode ({:.1} ms)",
            compare.as_secs_f64() * 1e3,
            compare.as_secs_f64() / decode.as_secs_f64(),
            decode.as_secs_f64() * 1e3
        );
    }
    criterion.final_summary();
}
