//! A short deterministic run of `reader_submit`: the seed bodies, then bodies whose files are
//! mutated (bit flips, truncations, huge length bytes) and re-encoded, so that the mutations reach
//! the parsers behind the JSON and base64 layers, and a few broken JSON and base64 bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use passport_reader_server_fuzz::{body, document_files, reader_submit, seed_bodies, vectors_dir};

#[test]
fn reader_submit_smoke() {
    let vectors = vectors_dir();
    assert!(vectors.is_dir(), "no vectors at {}", vectors.display());
    let seeds = seed_bodies(&vectors);
    assert!(seeds.len() >= 3);
    for (_, seed) in &seeds {
        reader_submit(seed);
    }
    // The real document's body is accepted (so the mutations below start from a valid one).
    let files = document_files(&vectors);
    assert_eq!(files.len(), 5);
    server::reader_api::decode_submission(&body(&files, &[]), false).unwrap();

    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..400 {
        let mut files = files.clone();
        let which = (next() % files.len() as u64) as usize;
        let file = &mut files[which].1;
        let at = (next() % file.len() as u64) as usize;
        match next() % 4 {
            0 => file[at] ^= 1 << (next() % 8),
            1 => file.truncate(at),
            2 => file.splice(at..at, [0x84, 0x80, 0, 0, 0]).for_each(drop),
            _ => file[at] = [0x00, 0x80, 0x81, 0x82, 0xFF][(next() % 5) as usize],
        }
        reader_submit(&body(&files, &[]));
    }
    // Broken JSON and base64.
    let valid = body(&files, &[]);
    for cut in (0..valid.len()).step_by(997) {
        reader_submit(&valid[..cut]);
    }
    reader_submit(br#"{"com": "!!!", "sod": 1, "dg1": null}"#);
    reader_submit(br#"[1, 2, 3]"#);
}
