//! Full passive authentication of real SODs (signature, DS chain against the German master list,
//! revocation, LDS security object) compared with the bare signature verification of the same
//! signed attributes by OpenSSL's command line (`openssl dgst -verify`, timed in the same run,
//! process start-up included) and by the openssl crate in process.
//!
//! Run: `cargo bench -p icao9303 --bench passive_authentication`. Needs `openssl` on PATH and the
//! test vectors (`testdata/vectors`, or `$PASSPORT_READER_VECTORS`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::Criterion;
use icao9303::lds::sod::Sod;
use icao9303::pki::keys::public_key_from_spki;
use icao9303::pki::signature::verify_signature;
use icao9303::pki::{Certificate, SignatureScheme, TrustStore, verify_passive_authentication};
use time::macros::datetime;

const CASES: [(&str, &str); 5] = [
    ("RSA-2048 PKCS#1 v1.5 (US)", "US_EF_SOD.bin"),
    ("RSA-2048 PKCS#1 v1.5 (FR)", "FR_EF_SOD.bin"),
    ("RSASSA-PSS (PH)", "PH_EF_SOD.bin"),
    ("RSASSA-PSS (MY)", "MY_EF_SOD.bin"),
    ("ECDSA brainpoolP256r1 (AT)", "AT_EF_SOD.bin"),
];
const CLI_ITERATIONS: u32 = 40;

fn vectors() -> PathBuf {
    std::env::var_os("PASSPORT_READER_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors"),
        PathBuf::from,
    )
}

struct Extracted {
    sod: Vec<u8>,
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
    scheme: SignatureScheme,
    key: openssl::pkey::PKey<openssl::pkey::Public>,
}

fn extract(sod: Vec<u8>) -> Extracted {
    let parsed = Sod::parse(&sod).unwrap();
    let signer = parsed.signed_data.signer_infos[0].clone();
    let ds = Certificate::from_der(&parsed.signed_data.certificates[0]).unwrap();
    Extracted {
        signed_attributes: signer.signed_attributes_der.clone().unwrap(),
        signature: signer.signature.clone(),
        scheme: signer.scheme().unwrap(),
        key: public_key_from_spki(&ds.spki).unwrap(),
        sod,
    }
}

/// Mean wall time of one `openssl dgst -verify` run on the extracted data.
fn openssl_cli(e: &Extracted, dir: &std::path::Path) -> Duration {
    let (attrs, sig, key) = (
        dir.join("attrs.der"),
        dir.join("sig.bin"),
        dir.join("key.pem"),
    );
    std::fs::write(&attrs, &e.signed_attributes).unwrap();
    std::fs::write(&sig, &e.signature).unwrap();
    std::fs::write(&key, e.key.public_key_to_pem().unwrap()).unwrap();
    let digest = format!(
        "-{}",
        e.scheme.digest().name().to_lowercase().replace('-', "")
    );
    let mut args: Vec<String> = vec![
        "dgst".into(),
        digest,
        "-verify".into(),
        key.display().to_string(),
    ];
    if let SignatureScheme::RsaPss { salt_len, .. } = e.scheme {
        args.extend(["-sigopt".into(), "rsa_padding_mode:pss".into()]);
        args.extend(["-sigopt".into(), format!("rsa_pss_saltlen:{salt_len}")]);
    }
    args.extend([
        "-signature".into(),
        sig.display().to_string(),
        attrs.display().to_string(),
    ]);
    let run = || {
        Command::new("openssl")
            .args(&args)
            .output()
            .expect("openssl on PATH")
    };
    let first = run();
    assert!(
        first.status.success(),
        "openssl dgst -verify failed: {}",
        String::from_utf8_lossy(&first.stdout)
    );
    let start = Instant::now();
    for _ in 0..CLI_ITERATIONS {
        run();
    }
    start.elapsed() / CLI_ITERATIONS
}

fn main() {
    let v = vectors();
    let mut store = TrustStore::new();
    store
        .import(&std::fs::read(v.join("masterlists/DE_ML_2026-05-28-08-28-45.ml")).unwrap())
        .unwrap();
    let at = datetime!(2025-01-01 12:00 UTC);
    let tmp = std::env::temp_dir().join(format!("pa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut rows = Vec::new();
    for (label, file) in CASES {
        let e = extract(std::fs::read(v.join("real_sod_gmrtd").join(file)).unwrap());
        let no_groups = BTreeMap::new();
        let pa = verify_passive_authentication(&e.sod, &no_groups, &store, at);
        assert!(
            pa.checks
                .iter()
                .take(2)
                .all(|c| c.result == icao9303::report::Outcome::Passed),
            "{label}"
        );

        let mut group = criterion.benchmark_group(label);
        group.bench_function("full passive authentication", |b| {
            b.iter(|| verify_passive_authentication(black_box(&e.sod), &no_groups, &store, at))
        });
        group.bench_function("bare verify (openssl crate)", |b| {
            b.iter(|| {
                verify_signature(
                    &e.key,
                    &e.scheme,
                    black_box(&e.signed_attributes),
                    &e.signature,
                )
                .unwrap()
            })
        });
        group.finish();

        let iterations = 200;
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(verify_passive_authentication(
                &e.sod, &no_groups, &store, at,
            ));
        }
        let full = start.elapsed() / iterations;
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(
                verify_signature(&e.key, &e.scheme, &e.signed_attributes, &e.signature).unwrap(),
            );
        }
        let bare = start.elapsed() / iterations;
        let cli = openssl_cli(&e, &tmp);
        rows.push((label, full, bare, cli));
    }
    std::fs::remove_dir_all(&tmp).ok();
    println!(
        "\n{:<28} {:>14} {:>16} {:>18} {:>12} {:>12}",
        "document", "full PA", "bare (crate)", "openssl dgst CLI", "PA / CLI", "PA / bare"
    );
    for (label, full, bare, cli) in rows {
        println!(
            "{label:<28} {:>14?} {:>16?} {:>18?} {:>12.3} {:>12.2}",
            full,
            bare,
            cli,
            full.as_secs_f64() / cli.as_secs_f64(),
            full.as_secs_f64() / bare.as_secs_f64()
        );
    }
    criterion.final_summary();
}
