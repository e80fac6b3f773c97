//! Writes the seed bodies of `reader_submit` to the folder given (for `campaign.sh`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: seeds OUT_DIR");
        return ExitCode::from(2);
    };
    let out = std::path::Path::new(&out);
    let vectors = passport_reader_server_fuzz::vectors_dir();
    if std::fs::create_dir_all(out).is_err() {
        return ExitCode::from(2);
    }
    for (name, body) in passport_reader_server_fuzz::seed_bodies(&vectors) {
        if std::fs::write(out.join(name), body).is_err() {
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
