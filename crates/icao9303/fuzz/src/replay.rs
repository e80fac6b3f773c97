//! Runs fuzz-target bodies over files on stable Rust, without libFuzzer: to replay a crash
//! artifact or a corpus, or to smoke-test the targets on the vectors; and writes the seed
//! corpora.
//!
//! - `replay [TARGET|all] PATH...` — each PATH is a file or a folder (read recursively).
//! - `replay --seed OUT_DIR [TARGET...]` — writes each target's seeds (see `seeds.rs`) to
//!   `OUT_DIR/TARGET/`, from `$PASSPORT_READER_VECTORS` or the repository's `testdata/vectors`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                files(&p, out);
            }
        }
    } else {
        out.push(path.to_owned());
    }
}

fn write_seeds(args: &[String]) -> ExitCode {
    let Some((out, wanted)) = args.split_first() else {
        eprintln!("usage: replay --seed OUT_DIR [TARGET...]");
        return ExitCode::from(2);
    };
    let dir = icao9303_fuzz::seeds::vectors_dir();
    if !dir.is_dir() {
        eprintln!("no vectors folder at {}", dir.display());
        return ExitCode::from(2);
    }
    for (name, _) in icao9303_fuzz::TARGETS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let target_dir = Path::new(out).join(name);
        if let Err(e) = std::fs::create_dir_all(&target_dir) {
            eprintln!("{}: {e}", target_dir.display());
            return ExitCode::from(2);
        }
        let seeds = icao9303_fuzz::seeds::seeds(name, &dir);
        for (seed_name, bytes) in &seeds {
            if let Err(e) = std::fs::write(target_dir.join(seed_name), bytes) {
                eprintln!("{seed_name}: {e}");
                return ExitCode::from(2);
            }
        }
        println!("{name}: {} seed(s)", seeds.len());
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay [TARGET|all] PATH...  |  replay --seed OUT_DIR [TARGET...]");
        return ExitCode::from(2);
    };
    if target == "--seed" {
        return write_seeds(paths);
    }
    let targets: Vec<_> = icao9303_fuzz::TARGETS
        .iter()
        .filter(|(name, _)| target == "all" || name == target)
        .collect();
    if targets.is_empty() {
        eprintln!("unknown target {target}");
        return ExitCode::from(2);
    }
    let mut all = Vec::new();
    for p in paths {
        files(Path::new(p), &mut all);
    }
    for file in &all {
        let Ok(data) = std::fs::read(file) else {
            eprintln!("cannot read {}", file.display());
            return ExitCode::from(2);
        };
        for (name, run) in &targets {
            eprintln!("{name}: {}", file.display());
            run(&data);
        }
    }
    println!(
        "{} file(s), {} target(s): no panic",
        all.len(),
        targets.len()
    );
    ExitCode::SUCCESS
}
