//! The workspace's own shape: no crate's modules import each other in circles, and no function
//! of the server or the reader runs past 100 lines. `cargo run -p code-shape -- CRATE_DIR…`
//! prints the same findings with their evidence.

use std::path::PathBuf;

use code_shape::CrateSources;

fn crates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn load(name: &str) -> CrateSources {
    CrateSources::load(&crates_dir().join(name).join("src"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut names: Vec<String> = std::fs::read_dir(crates_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("src").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let cycles = load(&name).cycles();
        assert!(cycles.is_empty(), "{name}: {cycles:#?}");
    }
}

#[test]
fn no_function_of_the_server_or_the_reader_is_over_100_lines() {
    for name in ["server", "reader"] {
        let long = load(name).long_functions(100);
        assert!(long.is_empty(), "{name}: {long:#?}");
    }
}
