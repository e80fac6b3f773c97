//! `code-shape [--max-fn-lines N] CRATE_DIR...`: prints each crate's module cycles and, with
//! `--max-fn-lines`, its functions over that length; exits 1 if it found any.

use std::path::PathBuf;
use std::process::ExitCode;

use code_shape::CrateSources;

fn main() -> ExitCode {
    let mut max_lines = None;
    let mut crates = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--max-fn-lines" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max_lines = Some(n),
                None => {
                    eprintln!("--max-fn-lines needs a number");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!(
                    "usage: code-shape [--max-fn-lines N] CRATE_DIR...\n\n\
                     Reports module cycles inside each crate (sibling modules that refer to each \
                     other, through `use` or paths, outside #[cfg(test)]) and, with \
                     --max-fn-lines, functions longer than N lines. Exits 1 if it found any."
                );
                return ExitCode::SUCCESS;
            }
            _ => crates.push(PathBuf::from(arg)),
        }
    }
    if crates.is_empty() {
        eprintln!("usage: code-shape [--max-fn-lines N] CRATE_DIR... (try --help)");
        return ExitCode::from(2);
    }
    let mut problems = 0;
    for dir in crates {
        let sources = match CrateSources::load(&dir.join("src")) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let cycles = sources.cycles();
        println!(
            "{}: {} modules, {} module cycles",
            dir.display(),
            sources.module_count(),
            cycles.len()
        );
        for cycle in &cycles {
            println!("  cycle: {}", cycle.modules.join(" <-> "));
            for (a, b, w) in &cycle.edges {
                println!(
                    "    {a} -> {b}: {} ({}:{})",
                    w.path,
                    w.file.display(),
                    w.line
                );
            }
        }
        problems += cycles.len();
        if let Some(max) = max_lines {
            let long = sources.long_functions(max);
            println!("  {} functions over {max} lines", long.len());
            for f in &long {
                println!(
                    "    {} lines: {} ({}:{})",
                    f.lines,
                    f.name,
                    f.file.display(),
                    f.line
                );
            }
            problems += long.len();
        }
    }
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
