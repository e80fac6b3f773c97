//! Evaluation harness: false-accept and false-reject rates at several thresholds, and time per
//! comparison, over a folder of labelled photographs laid out one sub-folder per person:
//!
//! ```text
//! crates/face/evaluation/fetch.sh DIR      # the set this crate's README reports on
//! cargo run --release -p face --example evaluate -- DIR [--max-impostor-pairs N] [--timed-pairs N]
//!     [--phone-selfies] [--portrait-copies]
//! DIR/alice/1.jpg DIR/alice/2.png DIR/bob/1.jpg ... DIR/groups/party.jpg
//! ```
//!
//! Every image is analysed once (decode, detection, chip, descriptor); images without exactly one
//! face are counted and left out. In `DIR/groups`, every face found in a photograph is a person of
//! its own (people photographed together are different people), found in no other folder. Genuine
//! pairs are all pairs of one person's images; impostor pairs are all pairs of different people's
//! faces, or an evenly spaced subset of at most N of them. Then N pairs (half genuine, half
//! impostor, evenly spaced; 200 by default) are compared again end to end from the files' bytes,
//! `FaceEngine::compare` as the server calls it, and timed. With `--phone-selfies`, the first image
//! of every timed pair is first enlarged to a phone camera's 12 megapixels (its shorter side to 3024
//! pixels, longer at most 4032) and stored as a quality-90 JPEG, to time what a server meets when
//! holders send their camera's full-size picture (the enlarged copies time the work; they are not
//! used for the error rates). With `--portrait-copies`, every file is also described from a copy the
//! size and quality of a chip portrait (longer side 320 pixels, JPEG quality 50), and the error
//! rates are also given for each file against the other files' copies: a selfie against the chip.
//! Folders starting with '.' are skipped.
//! Runs on one thread, except that `compare` analyses its two images on two: pin it to one core
//! (`taskset -c 0`) for the per-core figure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use face::{Descriptor, FaceEngine, FaceFinding, RgbImage};

const THRESHOLDS: [f32; 9] = [0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80];

struct Sample {
    person: usize,
    /// The file, and for a face cut from a group photograph its index there.
    path: PathBuf,
    face: Option<usize>,
    descriptor: Descriptor,
    /// With `--portrait-copies`: the descriptor of the file's chip-portrait-sized copy, if a face
    /// was found in it.
    portrait: Option<Descriptor>,
}

impl Sample {
    fn label(&self) -> String {
        match self.face {
            Some(i) => format!("{} (face {})", self.path.display(), i + 1),
            None => self.path.display().to_string(),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: evaluate DIR [--max-impostor-pairs N] [--timed-pairs N] [--phone-selfies] [--portrait-copies]";
    let Some(root) = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
    else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let number = |flag: &str, default: usize| -> Result<usize, String> {
        match args.iter().position(|a| a == flag) {
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{flag} takes a number")),
            None => Ok(default),
        }
    };
    let (max_impostor, timed) = match (
        number("--max-impostor-pairs", usize::MAX),
        number("--timed-pairs", 200),
    ) {
        (Ok(m), Ok(t)) => (m, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let phone_selfies = args.iter().any(|a| a == "--phone-selfies");
    let portrait_copies = args.iter().any(|a| a == "--portrait-copies");
    match evaluate(&root, max_impostor, timed, phone_selfies, portrait_copies) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.retain(|p| {
        !p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
    });
    entries.sort();
    Ok(entries)
}

fn is_image(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(ext.as_str(), "jpg" | "jpeg" | "png")
}

fn evaluate(
    root: &Path,
    max_impostor: usize,
    timed: usize,
    phone_selfies: bool,
    portrait_copies: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let load_started = Instant::now();
    let engine = FaceEngine::new()?;
    println!("models loaded in {} ms", load_started.elapsed().as_millis());

    let mut samples = Vec::new();
    let mut times: Vec<Duration> = Vec::new();
    let (mut people, mut images, mut no_face, mut multiple) = (0usize, 0usize, 0usize, 0usize);
    let mut group_faces = 0usize;
    for person_dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
        let groups = person_dir.file_name().is_some_and(|n| n == "groups");
        if !groups {
            people += 1;
        }
        for path in sorted_entries(&person_dir)?
            .into_iter()
            .filter(|p| is_image(p))
        {
            images += 1;
            let bytes = std::fs::read(&path)?;
            if groups {
                let img = RgbImage::decode(&bytes)?;
                let faces = engine.detect(&img);
                println!("{} faces: {}", faces.len(), path.display());
                for (i, face) in faces.iter().enumerate() {
                    samples.push(Sample {
                        person: people,
                        path: path.clone(),
                        face: Some(i),
                        descriptor: engine.descriptor_of_chip(&engine.chip(&img, face))?,
                        portrait: None,
                    });
                    people += 1;
                    group_faces += 1;
                }
                continue;
            }
            let started = Instant::now();
            let finding = engine.analyse(&bytes)?;
            times.push(started.elapsed());
            match finding {
                FaceFinding::One { descriptor, .. } => {
                    let portrait = if portrait_copies {
                        match engine.analyse(&portrait_sized_jpeg(&bytes)?)? {
                            FaceFinding::One { descriptor, .. } => Some(descriptor),
                            _ => {
                                println!("no single face in the portrait copy: {}", path.display());
                                None
                            }
                        }
                    } else {
                        None
                    };
                    samples.push(Sample {
                        person: people - 1,
                        path: path.clone(),
                        face: None,
                        descriptor,
                        portrait,
                    });
                }
                FaceFinding::NoFace => {
                    no_face += 1;
                    println!("no face: {}", path.display());
                }
                FaceFinding::MultipleFaces { count } => {
                    multiple += 1;
                    println!("{count} faces: {}", path.display());
                }
            }
        }
    }
    println!(
        "{people} people, {images} images: {} faces described ({group_faces} of them from group photos), {no_face} portraits with no face, {multiple} with several",
        samples.len()
    );

    let mut genuine = Vec::new();
    let mut impostor_all = Vec::new();
    for (i, a) in samples.iter().enumerate() {
        for b in samples.iter().skip(i + 1) {
            let d = a.descriptor.distance(&b.descriptor);
            if a.person == b.person {
                genuine.push((d, a, b));
            } else {
                impostor_all.push((d, a, b));
            }
        }
    }
    let stride = impostor_all.len().div_ceil(max_impostor.max(1)).max(1);
    let impostor: Vec<_> = impostor_all.iter().step_by(stride).copied().collect();
    let mut closest = impostor.clone();
    closest.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (d, a, b) in closest.iter().take(5) {
        println!(
            "closest impostor pair: {d:.3} {} / {}",
            a.label(),
            b.label()
        );
    }
    let mut farthest = genuine.clone();
    farthest.sort_by(|x, y| y.0.total_cmp(&x.0));
    for (d, a, b) in farthest.iter().take(5) {
        println!(
            "farthest genuine pair: {d:.3} {} / {}",
            a.label(),
            b.label()
        );
    }
    println!(
        "{} genuine pairs, {} impostor pairs (of {})",
        genuine.len(),
        impostor.len(),
        impostor_all.len()
    );
    let distances =
        |pairs: &[(f32, &Sample, &Sample)]| -> Vec<f32> { pairs.iter().map(|p| p.0).collect() };
    print_rates(&distances(&genuine), &distances(&impostor), 0, "");
    if portrait_copies {
        // Every pair of files, one as it is (the selfie), the other as a chip-portrait copy, both
        // ways round; a copy without a face counts as a rejected genuine pair.
        let (mut genuine, mut impostor, mut lost) = (Vec::new(), Vec::new(), 0usize);
        let files: Vec<&Sample> = samples.iter().filter(|s| s.face.is_none()).collect();
        for a in &files {
            for b in files.iter().filter(|b| b.path != a.path) {
                match (&b.portrait, a.person == b.person) {
                    (Some(p), true) => genuine.push(a.descriptor.distance(p)),
                    (Some(p), false) => impostor.push(a.descriptor.distance(p)),
                    (None, true) => lost += 1,
                    (None, false) => {}
                }
            }
        }
        println!(
            "selfie against chip-portrait copy ({PORTRAIT_SIDE} px, JPEG quality {PORTRAIT_QUALITY}): {} genuine pairs, {} impostor pairs, {lost} genuine pairs lost (no face in the copy)",
            genuine.len(),
            impostor.len()
        );
        print_rates(&genuine, &impostor, lost, " or lost");
    }
    if let (Some(median), Some(max)) = (median_of(&mut times), times.last().copied()) {
        println!(
            "per image (decode + detect + chip + descriptor), one thread: median {:.1} ms, max {:.1} ms",
            ms(median),
            ms(max)
        );
    }

    // End-to-end comparisons from the files' bytes, as the server makes them.
    let whole_files = |p: &&(f32, &Sample, &Sample)| p.1.face.is_none() && p.2.face.is_none();
    let genuine_files: Vec<_> = genuine.iter().filter(whole_files).collect();
    let impostor_files: Vec<_> = impostor_all.iter().filter(whole_files).collect();
    let half = timed / 2;
    let pick = |pairs: &[&(f32, &Sample, &Sample)], n: usize| -> Vec<(PathBuf, PathBuf)> {
        let stride = pairs.len().div_ceil(n.max(1)).max(1);
        pairs
            .iter()
            .step_by(stride)
            .map(|p| (p.1.path.clone(), p.2.path.clone()))
            .collect()
    };
    let mut pairs = pick(&genuine_files, half);
    pairs.extend(pick(&impostor_files, timed - half.min(pairs.len())));
    let mut compare_times = Vec::new();
    let mut decode_times = Vec::new();
    let mut enlarged: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    for (a_path, b) in &pairs {
        let a = match (phone_selfies, enlarged.get(a_path)) {
            (false, _) => std::fs::read(a_path)?,
            (true, Some(bytes)) => bytes.clone(),
            (true, None) => {
                let bytes = phone_sized_jpeg(&std::fs::read(a_path)?)?;
                enlarged.insert(a_path.clone(), bytes.clone());
                bytes
            }
        };
        let b = std::fs::read(b)?;
        // The same run's baseline: decoding the two files, which any image pipeline must do.
        let started = Instant::now();
        std::hint::black_box((RgbImage::decode(&a)?, RgbImage::decode(&b)?));
        decode_times.push(started.elapsed());
        let started = Instant::now();
        let comparison = engine.compare(&a, &b, face::DEFAULT_THRESHOLD)?;
        compare_times.push(started.elapsed());
        std::hint::black_box(comparison);
    }
    if let (Some(median), Some(max)) =
        (median_of(&mut compare_times), compare_times.last().copied())
    {
        let p95 = compare_times
            .get(compare_times.len() * 95 / 100)
            .copied()
            .unwrap_or(max);
        let within = compare_times.iter().filter(|t| t.as_millis() < 200).count();
        println!(
            "per comparison (two files{}, decode to decision), {} pairs: median {:.1} ms, 95th percentile {:.1} ms, max {:.1} ms; {within} of {} under 200 ms",
            if phone_selfies {
                ", the first enlarged to 12 megapixels"
            } else {
                ""
            },
            compare_times.len(),
            ms(median),
            ms(p95),
            ms(max),
            compare_times.len()
        );
        if let Some(decode) = median_of(&mut decode_times) {
            println!(
                "same run, decoding the two files alone: median {:.1} ms (comparison / decoding: {:.1} x)",
                ms(decode),
                median.as_secs_f64() / decode.as_secs_f64().max(1e-9)
            );
        }
    }
    Ok(())
}

/// The image enlarged to a phone camera's size (shorter side 3024, longer at most 4032), as a
/// quality-90 JPEG.
fn phone_sized_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    resized_jpeg(bytes, |w, h| (3024.0 / w.min(h)).min(4032.0 / w.max(h)), 90)
}

/// Longer side and JPEG quality of the chip-portrait copies: DG2 portraits are small, often
/// 240x320 to 480x640 and 10-20 KB, JPEG or JPEG 2000.
const PORTRAIT_SIDE: u32 = 320;
const PORTRAIT_QUALITY: u8 = 50;

/// A copy the size and quality of a chip portrait: longer side PORTRAIT_SIDE (never enlarged),
/// JPEG at PORTRAIT_QUALITY.
fn portrait_sized_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let side = f64::from(PORTRAIT_SIDE);
    resized_jpeg(bytes, |w, h| (side / w.max(h)).min(1.0), PORTRAIT_QUALITY)
}

/// The image scaled by `factor(width, height)` (bilinear), as a JPEG of `quality`.
fn resized_jpeg(
    bytes: &[u8],
    factor: impl Fn(f64, f64) -> f64,
    quality: u8,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let img = image::load_from_memory(bytes)?.into_rgb8();
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let f = factor(w, h);
    let (nw, nh) = (
        (w * f).round().max(1.0) as u32,
        (h * f).round().max(1.0) as u32,
    );
    let resized = image::imageops::resize(&img, nw, nh, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&resized)?;
    Ok(out)
}

/// Sorts `times` and returns the median.
fn median_of(times: &mut [Duration]) -> Option<Duration> {
    times.sort();
    times.get(times.len() / 2).copied()
}

/// FAR and FRR at each of THRESHOLDS; `lost` genuine pairs (no face found) count as rejected.
fn print_rates(genuine: &[f32], impostor: &[f32], lost: usize, lost_label: &str) {
    println!("threshold   FAR (impostors accepted)   FRR (genuine rejected{lost_label})");
    let all_genuine = genuine.len() + lost;
    for t in THRESHOLDS {
        let fa = impostor.iter().filter(|&&d| d <= t).count();
        let fr = genuine.iter().filter(|&&d| d > t).count() + lost;
        println!(
            "{t:>9.2}   {:>9} ({fa}/{})   {:>9} ({fr}/{all_genuine})",
            percent(fa, impostor.len()),
            impostor.len(),
            percent(fr, all_genuine),
        );
    }
}

/// A rate in percent, or "n/a" when there were no pairs of that kind.
fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.2} %", 100.0 * n as f64 / of as f64)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
