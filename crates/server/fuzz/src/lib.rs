//! The body of the `reader_submit` fuzz target: the bytes of a `reader.submit` request body,
//! decoded and checked as the server does before storing anything (JSON, properties, base64,
//! size limits, every file's parser, the access key, the selfie).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The target: `server::api::reader::decode_submission` with and without face verification.
pub fn reader_submit(data: &[u8]) {
    let face_verification = data.last().is_some_and(|b| b & 1 == 1);
    let _ = server::api::reader::decode_submission(data, face_verification);
}

/// The vectors folder: `$PASSPORT_READER_VECTORS` when set, else the repository's
/// `testdata/vectors` (this crate is `crates/server/fuzz`).
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("PASSPORT_READER_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/vectors"),
    }
}

/// The files of one real test document (Dutch SDU test passport) by `reader.submit` property.
pub fn document_files(vectors: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let dir = vectors.join("jmrtd_loes2006_nl_sdu_test");
    [
        ("com", "EF_COM_011E.bin"),
        ("sod", "EF_SOD_011D.bin"),
        ("dg1", "DG1_0101.bin"),
        ("dg2", "DG2_0102.bin"),
        ("dg15", "DG15_010F.bin"),
    ]
    .into_iter()
    .filter_map(|(name, file)| Some((name, std::fs::read(dir.join(file)).ok()?)))
    .collect()
}

/// A `reader.submit` body with these files (base64) and an MRZ access key.
pub fn body(files: &[(&str, Vec<u8>)], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    for (name, bytes) in files {
        map.insert((*name).to_owned(), STANDARD.encode(bytes).into());
    }
    for (name, value) in [
        ("access_document_number", "XX0000000"),
        ("access_date_of_birth", "740812"),
        ("access_date_of_expiry", "300101"),
    ]
    .iter()
    .chain(extra)
    {
        map.insert((*name).to_owned(), (*value).into());
    }
    serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
}

/// The seed bodies: the real document as is, with an AA response and chip-authentication
/// result, without its optional group, and an empty object.
pub fn seed_bodies(vectors: &Path) -> Vec<(String, Vec<u8>)> {
    let files = document_files(vectors);
    let required: Vec<(&str, Vec<u8>)> = files
        .iter()
        .filter(|(n, _)| *n != "dg15")
        .cloned()
        .collect();
    vec![
        ("full".into(), body(&files, &[])),
        (
            "aa".into(),
            body(&files, &[("aa_response", "00112233445566778899aabbccddeeff"), ("chip_authentication", "PASSED")]),
        ),
        ("required".into(), body(&required, &[])),
        ("empty".into(), b"{}".to_vec()),
    ]
}
