//! Evaluation harness: false-accept and false-reject rates at several thresholds, and time per
//! comparison, over a folder of labelled photographs laid out one sub-folder per person:
//!
//! ```text
//! cargo run --release -p face --example evaluate -- DIR [--max-impostor-pairs N]
//! DIR/alice/1.jpg DIR/alice/2.png DIR/bob/1.jpg ...
//! ```
//!
//! Every image is analysed once (decode, detection, chip, descriptor: what one side of a comparison
//! costs); images without exactly one face are counted and left out. Genuine pairs are all pairs of
//! one person's images; impostor pairs are all pairs of different people's images, or an evenly
//! spaced subset of at most N of them. Runs on one thread.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use face::{Descriptor, FaceEngine, FaceFinding};

const THRESHOLDS: [f32; 8] = [0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75];

struct Sample {
    person: usize,
    path: PathBuf,
    descriptor: Descriptor,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first().map(PathBuf::from) else {
        eprintln!("usage: evaluate DIR [--max-impostor-pairs N]");
        return ExitCode::from(2);
    };
    let max_impostor = match args.iter().position(|a| a == "--max-impostor-pairs") {
        Some(i) => match args.get(i + 1).and_then(|v| v.parse().ok()) {
            Some(n) => n,
            None => {
                eprintln!("--max-impostor-pairs takes a number");
                return ExitCode::from(2);
            }
        },
        None => usize::MAX,
    };
    match evaluate(&root, max_impostor) {
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
    entries.sort();
    Ok(entries)
}

fn evaluate(root: &Path, max_impostor: usize) -> Result<(), Box<dyn std::error::Error>> {
    let load_started = Instant::now();
    let engine = FaceEngine::new()?;
    println!("models loaded in {} ms", load_started.elapsed().as_millis());

    let mut samples = Vec::new();
    let mut times: Vec<Duration> = Vec::new();
    let (mut people, mut images, mut no_face, mut multiple) = (0usize, 0usize, 0usize, 0usize);
    for person_dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
        let person = people;
        people += 1;
        for path in sorted_entries(&person_dir)? {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !matches!(ext.as_str(), "jpg" | "jpeg" | "png") {
                continue;
            }
            images += 1;
            let bytes = std::fs::read(&path)?;
            let started = Instant::now();
            let finding = engine.analyse(&bytes)?;
            times.push(started.elapsed());
            match finding {
                FaceFinding::One { descriptor, .. } => samples.push(Sample {
                    person,
                    path: path.clone(),
                    descriptor,
                }),
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
        "{people} people, {images} images: {} with one face, {no_face} with none, {multiple} with several",
        samples.len()
    );

    let mut genuine = Vec::new();
    let mut impostor_total = 0usize;
    for (i, a) in samples.iter().enumerate() {
        for b in samples.iter().skip(i + 1) {
            if a.person == b.person {
                genuine.push(a.descriptor.distance(&b.descriptor));
            } else {
                impostor_total += 1;
            }
        }
    }
    let mut closest: Vec<(f32, &Path, &Path)> = Vec::new();
    for (i, a) in samples.iter().enumerate() {
        for b in samples.iter().skip(i + 1).filter(|b| b.person != a.person) {
            closest.push((a.descriptor.distance(&b.descriptor), &a.path, &b.path));
        }
    }
    closest.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (d, a, b) in closest.iter().take(5) {
        println!(
            "closest impostor pair: {d:.3} {} {}",
            a.display(),
            b.display()
        );
    }
    let stride = impostor_total.div_ceil(max_impostor.max(1)).max(1);
    let mut impostor = Vec::new();
    let mut k = 0usize;
    for (i, a) in samples.iter().enumerate() {
        for b in samples.iter().skip(i + 1) {
            if a.person != b.person {
                if k % stride == 0 {
                    impostor.push(a.descriptor.distance(&b.descriptor));
                }
                k += 1;
            }
        }
    }
    println!(
        "{} genuine pairs, {} impostor pairs (of {impostor_total})",
        genuine.len(),
        impostor.len()
    );
    println!("threshold   FAR (impostors accepted)   FRR (genuine rejected)");
    for t in THRESHOLDS {
        let fa = impostor.iter().filter(|&&d| d <= t).count();
        let fr = genuine.iter().filter(|&&d| d > t).count();
        println!(
            "{t:>9.2}   {:>9} ({fa}/{})   {:>9} ({fr}/{})",
            percent(fa, impostor.len()),
            impostor.len(),
            percent(fr, genuine.len()),
            genuine.len()
        );
    }
    times.sort();
    if let (Some(median), Some(max)) = (times.get(times.len() / 2), times.last()) {
        let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(u32::MAX);
        println!(
            "per image (decode + detect + chip + descriptor), one thread: median {:.1} ms, mean {:.1} ms, max {:.1} ms",
            ms(*median),
            ms(mean),
            ms(*max)
        );
        println!(
            "per comparison (two images): about {:.1} ms",
            2.0 * ms(mean)
        );
    }
    Ok(())
}

/// A rate in percent, or "n/a" when there were no pairs of that kind.
fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.3} %", 100.0 * n as f64 / of as f64)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
