//! Reading a full document (EF.COM, EF.SOD, DG1, a 20 KB DG2, DG14, DG15) through the virtual
//! chip on a modelled 424 kbit/s link with 5 ms per APDU: APDU count, bytes and modelled time
//! with the automatic block size (extended length from EF.ATR/INFO) against a fixed 0xDF-byte
//! block, in the same run. The time is computed from the link model, not slept; the wall time
//! printed beside it is this machine's CPU cost of the protocol work.
//!
//! Run: `cargo bench -p reader --bench read_document`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use reader::{AccessKey, BlockSize, ReadOptions, read_document};
use testdoc::{Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, Holder, KeyAlgorithm};
use virtual_chip::VirtualTransport;
use virtual_chip::{ChipConfig, ChipContents, LinkModel, Profile, VirtualChip};

const DG2_LEN: usize = 20_000;

/// The synthetic portrait padded with a JPEG comment segment so that DG2 is `DG2_LEN` bytes.
fn document() -> testdoc::TestDocument {
    let now = time::macros::datetime!(2026-11-25 12:00 UTC);
    let mut csca = Csca::generate(&CscaOptions::new("NL", now)).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now))
        .unwrap();
    let jpeg = testdoc::synthetic_portrait().unwrap();
    let build = |jpeg: Vec<u8>| {
        DocumentBuilder::new(Holder::specimen())
            .portrait(jpeg)
            .build(&ds)
            .unwrap()
    };
    let base = build(jpeg.clone())
        .file(testdoc::FileId::Dg2)
        .unwrap()
        .len();
    let pad = DG2_LEN - base - 4;
    let mut padded = jpeg[..2].to_vec();
    padded.extend_from_slice(&[0xFF, 0xFE]);
    padded.extend_from_slice(&((pad + 2) as u16).to_be_bytes());
    padded.extend(std::iter::repeat_n(b'.', pad));
    padded.extend_from_slice(&jpeg[2..]);
    let doc = build(padded);
    assert_eq!(doc.file(testdoc::FileId::Dg2).unwrap().len(), DG2_LEN);
    doc
}

fn main() {
    let doc = document();
    let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
    let key = AccessKey::from_mrz_lines(&lines).unwrap();
    let file_bytes: usize = doc
        .files
        .iter()
        .filter(|(id, _)| **id != testdoc::FileId::CardAccess)
        .map(|(_, b)| b.len())
        .sum();
    println!(
        "document: EF.COM, EF.SOD, DG1, DG2 ({DG2_LEN} B), DG14, DG15 = {file_bytes} bytes; link 424 kbit/s + 5 ms/APDU"
    );
    println!(
        "{:<10} {:<22} {:>6} {:>6} {:>9} {:>9} {:>12} {:>10}",
        "access", "block size", "block", "APDUs", "cmd B", "resp B", "modelled", "CPU wall"
    );
    for (access, pace) in [("PACE+CA", true), ("BAC+CA", false)] {
        for (label, block_size) in [
            ("auto (extended length)", BlockSize::Auto),
            ("fixed 0xDF", BlockSize::Fixed(0xDF)),
        ] {
            let mut contents = ChipContents::from_test_document(&doc, "123456").unwrap();
            if !pace {
                contents.files.remove(&icao9303::lds::FileId::CardAccess);
            }
            let mut config = ChipConfig::for_profile(Profile::Pace);
            config.link = Some(LinkModel::TYPICAL);
            let mut transport = VirtualTransport::new(VirtualChip::new(contents, config).unwrap());
            let options = ReadOptions {
                block_size,
                pace,
                chip_authentication: true,
                active_authentication_challenge: Some([1, 2, 3, 4, 5, 6, 7, 8]),
            };
            let start = Instant::now();
            let files = read_document(&mut transport, &key, &options, &mut |_| {}).unwrap();
            let wall = start.elapsed();
            assert_eq!(files.files.len(), 6);
            let s = transport.stats();
            println!(
                "{:<10} {:<22} {:>6} {:>6} {:>9} {:>9} {:>10.1}ms {:>8.1}ms",
                access,
                label,
                files.block_size,
                s.apdus,
                s.command_bytes,
                s.response_bytes,
                s.modelled_time.as_secs_f64() * 1000.0,
                wall.as_secs_f64() * 1000.0
            );
        }
    }
}
