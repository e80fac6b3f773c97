//! `passport-reader face compare A B [--json]`: whether two photographs show the same person.
//! Inputs are JPEG or PNG (a selfie), or JPEG 2000 (a chip portrait, transcoded as the server
//! does). Prints the distance between the two faces, the threshold and the decision.
//! Exit status: 0 MATCH, 1 NO_MATCH / NO_FACE / MULTIPLE_FACES, 2 when the check could not run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use face::{Comparison, DEFAULT_THRESHOLD, Decision, FaceEngine, Which};
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Compare the faces of two images: same person or not.
    Compare(CompareArgs),
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// First image (JPEG, PNG or JPEG 2000), for instance the selfie.
    first: PathBuf,
    /// Second image (JPEG, PNG or JPEG 2000), for instance the chip portrait (DG2).
    second: PathBuf,
    /// Largest Euclidean distance between the two face descriptors still taken as the same person.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f32,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

const CHECK_FAILED: u8 = 2;

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Compare(args) => compare(&args),
    }
}

fn compare(args: &CompareArgs) -> ExitCode {
    let started = Instant::now();
    let result = compare_files(&args.first, &args.second, args.threshold);
    let comparison = match result {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(CHECK_FAILED);
        }
    };
    let elapsed_ms = started.elapsed().as_millis();
    if args.json {
        println!("{}", report(&comparison));
    } else {
        println!("decision:  {}", describe(&comparison.decision));
        match comparison.distance {
            Some(d) => println!("distance:  {d:.4}"),
            None => println!("distance:  -"),
        }
        println!("threshold: {}", comparison.threshold);
        println!("time:      {elapsed_ms} ms");
    }
    if comparison.decision == Decision::Match {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn compare_files(first: &Path, second: &Path, threshold: f32) -> Result<Comparison, String> {
    let first = load_image(first)?;
    let second = load_image(second)?;
    let engine = FaceEngine::new().map_err(|e| e.to_string())?;
    engine
        .compare(&first, &second, threshold)
        .map_err(|e| e.to_string())
}

/// The image as JPEG or PNG bytes: JPEG 2000 (chip portraits) is transcoded to JPEG first.
fn load_image(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let is_jpeg2000 =
        bytes.starts_with(&[0xff, 0x4f, 0xff, 0x51]) || bytes.get(4..8) == Some(b"jP  ".as_slice());
    if is_jpeg2000 {
        icao9303::portrait::jpeg_from_image(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    } else {
        Ok(bytes)
    }
}

fn which(image: Which) -> &'static str {
    match image {
        Which::First => "first",
        Which::Second => "second",
    }
}

fn describe(decision: &Decision) -> String {
    match decision {
        Decision::NoFace { image } => format!("NO_FACE (in the {} image)", which(*image)),
        Decision::MultipleFaces { image, count } => {
            format!("MULTIPLE_FACES ({count} in the {} image)", which(*image))
        }
        other => other.code().to_owned(),
    }
}

/// The JSON form: decision code, distance (null unless both images had one face), threshold, and
/// for NO_FACE / MULTIPLE_FACES the image concerned and its face count.
fn report(c: &Comparison) -> serde_json::Value {
    let mut out = json!({
        "decision": c.decision.code(),
        "distance": c.distance.map(shortest),
        "threshold": shortest(c.threshold),
    });
    let (image, faces) = match c.decision {
        Decision::NoFace { image } => (Some(image), Some(0)),
        Decision::MultipleFaces { image, count } => (Some(image), Some(count)),
        Decision::Match | Decision::NoMatch => (None, None),
    };
    if let (Some(obj), Some(image), Some(faces)) = (out.as_object_mut(), image, faces) {
        obj.insert("image".into(), json!(which(image)));
        obj.insert("faces".into(), json!(faces));
    }
    out
}

/// An f32 as the f64 of its shortest decimal form, so that 0.6 prints as 0.6 and not 0.6000000238.
fn shortest(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn test_image(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../face/tests/data")
            .join(name)
    }

    #[test]
    fn a_jpeg2000_portrait_and_a_png_of_the_same_person_match() {
        let c = compare_files(
            &test_image("astronaut_portrait.jp2"),
            &test_image("astronaut.png"),
            DEFAULT_THRESHOLD,
        )
        .unwrap();
        assert_eq!(c.decision, Decision::Match, "{c:?}");
        assert_eq!(report(&c)["decision"], "MATCH");
    }

    #[test]
    fn different_people_and_missing_faces_are_reported() {
        let c = compare_files(
            &test_image("astronaut.png"),
            &test_image("camera.png"),
            DEFAULT_THRESHOLD,
        );
        assert_eq!(c.unwrap().decision, Decision::NoMatch);
        let c = compare_files(
            &test_image("coffee.png"),
            &test_image("camera.png"),
            DEFAULT_THRESHOLD,
        );
        assert_eq!(
            c.unwrap().decision,
            Decision::NoFace {
                image: Which::First
            }
        );
        assert!(compare_files(&test_image("missing.png"), &test_image("camera.png"), 0.6).is_err());
    }

    #[test]
    fn json_report_names_the_image_without_a_face() {
        let c = Comparison {
            decision: Decision::NoFace {
                image: Which::Second,
            },
            distance: None,
            threshold: 0.6,
        };
        let r = report(&c);
        assert_eq!(r["decision"], "NO_FACE");
        assert_eq!(r["image"], "second");
        assert_eq!(r["faces"], 0);
        assert!(r["distance"].is_null());
    }

    #[test]
    fn json_report_of_a_match_has_the_distance() {
        let c = Comparison {
            decision: Decision::Match,
            distance: Some(0.25),
            threshold: 0.6,
        };
        let r = report(&c);
        assert_eq!(r["decision"], "MATCH");
        assert_eq!(r["distance"], 0.25);
        assert_eq!(r["threshold"], 0.6);
        assert!(r.get("image").is_none());
    }
}
