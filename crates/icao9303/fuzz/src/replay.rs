//! Runs fuzz-target bodies over files on stable Rust, without libFuzzer: to replay a crash
//! artifact or a corpus, or to smoke-test the targets on the shared vectors.
//!
//! `replay [TARGET|all] PATH...` — each PATH is a file or a folder (read recursively).

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay [TARGET|all] PATH...");
        return ExitCode::from(2);
    };
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
