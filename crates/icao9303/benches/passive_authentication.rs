//! Full passive authentication compared, in the same process and the same run, with its bare
//! cryptographic cost: the same signature verifications and hashes done directly with OpenSSL on
//! objects parsed beforehand.
//!
//! For each document the bare baseline is:
//! - the hash of the LDS security object (the messageDigest signed attribute is checked against it),
//! - the SOD signature over the signed attributes with the Document Signer key,
//! - the Document Signer certificate's signature with the CSCA key,
//! - the hash of every data group read.
//!
//! CRL signatures are not part of it: the trust store checks them once, when a CRL or a CSCA is
//! added, not per document (the `CRLs` column counts the CRLs consulted).
//!
//! Passive authentication keeps the Document Signer certificates of SODs parsed in the trust
//! store, so the `full PA` column is the steady state of a server (the same Document Signer signs
//! many documents); `first of its DS` empties that cache before each run, which adds parsing the
//! certificate and decoding its key.
//!
//! The trust store is the German master list (plus, for the simulated document, its CSCA and a
//! CRL). The table is measured by alternating batches of each kind of run and taking each one's
//! median, so load from other processes hits them alike; criterion then benchmarks them too.
//!
//! Run: `cargo bench -p icao9303 --bench passive_authentication` (test vectors in
//! `testdata/vectors`, or `$PASSPORT_READER_VECTORS`). `PA_BENCH_PROFILE=<label part>` only
//! loops full passive authentication of the first matching document for 20 s (for `perf`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use icao9303::lds::sod::Sod;
use icao9303::passive_authentication::verify_passive_authentication;
use icao9303::pki::{SignatureScheme, TrustStore};
use icao9303::report::{CheckName, Outcome};
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::x509::X509;
use time::OffsetDateTime;
use time::macros::datetime;

const REAL: [(&str, &str); 5] = [
    ("RSA-2048 PKCS#1 v1.5 (US)", "US_EF_SOD.bin"),
    ("RSA-2048 PKCS#1 v1.5 (FR)", "FR_EF_SOD.bin"),
    ("RSASSA-PSS (PH)", "PH_EF_SOD.bin"),
    ("RSASSA-PSS (MY)", "MY_EF_SOD.bin"),
    ("ECDSA brainpoolP256r1 (AT)", "AT_EF_SOD.bin"),
];
const REAL_AT: OffsetDateTime = datetime!(2025-01-01 12:00 UTC);

fn vectors() -> PathBuf {
    std::env::var_os("PASSPORT_READER_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors"),
        PathBuf::from,
    )
}

/// One document to authenticate.
struct Case {
    label: String,
    sod: Vec<u8>,
    groups: BTreeMap<u8, Vec<u8>>,
    store: usize,
    at: OffsetDateTime,
}

/// The same work, parsed beforehand, for OpenSSL alone.
struct Bare {
    content: Vec<u8>,
    content_digest: MessageDigest,
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
    scheme: SignatureScheme,
    ds_key: PKey<Public>,
    ds_certificate: X509,
    csca_key: PKey<Public>,
    crls: usize,
    group_digest: MessageDigest,
    groups: Vec<Vec<u8>>,
}

impl Bare {
    /// Everything passive authentication verifies for this document, and nothing else.
    fn prepare(case: &Case, store: &TrustStore) -> Bare {
        let pa = verify_passive_authentication(&case.sod, &case.groups, store, case.at);
        for name in [CheckName::SodSignature, CheckName::DocumentSignerChain] {
            assert_eq!(
                pa.outcome(name),
                Outcome::Passed,
                "{}: {name:?}",
                case.label
            );
        }
        let sod = Sod::parse(&case.sod).unwrap();
        let signer = &sod.signed_data.signer_infos[0];
        let ds = pa.document_signer.as_ref().unwrap();
        let csca = pa.csca.as_ref().unwrap();
        // The CRLs passive authentication consults (their signatures were checked on import).
        let crls = store.crls_signed_by(csca).len();
        Bare {
            content: sod.signed_data.content.clone(),
            content_digest: signer.digest().unwrap().message_digest(),
            signed_attributes: signer.signed_attributes_der.clone().unwrap(),
            signature: signer.signature.clone(),
            scheme: signer.scheme().unwrap(),
            ds_key: ds.public_key().unwrap().clone(),
            ds_certificate: X509::from_der(ds.der()).unwrap(),
            csca_key: csca.public_key().unwrap().clone(),
            crls,
            group_digest: sod.security_object.hash_algorithm.message_digest(),
            groups: case.groups.values().cloned().collect(),
        }
    }

    fn run(&self) -> bool {
        let mut ok = hash(self.content_digest, &self.content).is_ok();
        let mut verifier =
            Verifier::new(self.scheme.digest().message_digest(), &self.ds_key).unwrap();
        match self.scheme {
            SignatureScheme::RsaPkcs1v15(_) => verifier.set_rsa_padding(Padding::PKCS1).unwrap(),
            SignatureScheme::RsaPss {
                mgf1_digest,
                salt_len,
                ..
            } => {
                verifier.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
                verifier
                    .set_rsa_pss_saltlen(RsaPssSaltlen::custom(salt_len as i32))
                    .unwrap();
                verifier
                    .set_rsa_mgf1_md(mgf1_digest.message_digest())
                    .unwrap();
            }
            SignatureScheme::Ecdsa(_) => {}
        }
        ok &= verifier
            .verify_oneshot(&self.signature, &self.signed_attributes)
            .unwrap();
        ok &= self.ds_certificate.verify(&self.csca_key).unwrap();
        for group in &self.groups {
            ok &= hash(self.group_digest, group).is_ok();
        }
        ok
    }
}

/// The real SODs against the German master list, and a simulated passport (all data groups,
/// its CSCA and a current CRL in a store of its own).
fn cases(v: &std::path::Path) -> (Vec<TrustStore>, Vec<Case>) {
    let mut german = TrustStore::new();
    german
        .import(&std::fs::read(v.join("masterlists/DE_ML_2026-05-28-08-28-45.ml")).unwrap())
        .unwrap();
    let mut cases: Vec<Case> = REAL
        .iter()
        .map(|(label, file)| Case {
            label: (*label).to_owned(),
            sod: std::fs::read(v.join("real_sod_gmrtd").join(file)).unwrap(),
            groups: BTreeMap::new(),
            store: 0,
            at: REAL_AT,
        })
        .collect();

    let now = datetime!(2025-06-01 12:00 UTC);
    let (csca, doc) = testdoc::issue_specimen(now).unwrap();
    let mut own = german.clone();
    own.import(&csca.certificate().to_der().unwrap()).unwrap();
    own.import(&csca.crl(&[7], now).unwrap().to_der().unwrap())
        .unwrap();
    cases.push(Case {
        label: "simulated RSA-2048 (NL), DGs, CRL".to_owned(),
        sod: doc.file(testdoc::FileId::Sod).unwrap().to_vec(),
        groups: doc.data_groups(),
        store: 1,
        at: now,
    });
    (vec![german, own], cases)
}

/// Median time of one call of each function, over `rounds` batches that alternate them.
fn alternate(rounds: usize, functions: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    // Calibrate a batch to about 10 ms of the first function (warm).
    functions[0]();
    let start = Instant::now();
    functions[0]();
    let once = start.elapsed().max(Duration::from_micros(1));
    let n = (Duration::from_millis(10).as_nanos() / once.as_nanos()).clamp(1, 10_000) as u32;
    let mut times = vec![Vec::new(); functions.len()];
    for _ in 0..rounds {
        for (f, t) in functions.iter_mut().zip(&mut times) {
            // One untimed call first, so that no batch pays for the state the previous
            // function left (the last one empties the parsed-certificate cache).
            f();
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            t.push(start.elapsed() / n);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[rounds / 2]
        })
        .collect()
}

fn main() {
    let v = vectors();
    let start = Instant::now();
    let (stores, cases) = cases(&v);
    println!(
        "trust store: {} entries, built in {:?}",
        stores[0].entries().len(),
        start.elapsed()
    );

    if let Ok(wanted) = std::env::var("PA_BENCH_PROFILE") {
        let case = cases.iter().find(|c| c.label.contains(&wanted)).unwrap();
        let store = &stores[case.store];
        let end = Instant::now() + Duration::from_secs(20);
        let mut n = 0u64;
        while Instant::now() < end {
            for _ in 0..100 {
                black_box(verify_passive_authentication(
                    &case.sod,
                    &case.groups,
                    store,
                    case.at,
                ));
            }
            n += 100;
        }
        println!("{}: {n} runs", case.label);
        return;
    }

    let bare: Vec<Bare> = cases
        .iter()
        .map(|c| Bare::prepare(c, &stores[c.store]))
        .collect();
    let mut rows = Vec::new();
    for (case, bare) in cases.iter().zip(&bare) {
        assert!(bare.run());
        let store = &stores[case.store];
        let times = alternate(
            31,
            &mut [
                &mut || {
                    black_box(verify_passive_authentication(
                        black_box(&case.sod),
                        &case.groups,
                        store,
                        case.at,
                    ));
                },
                &mut || {
                    black_box(black_box(bare).run());
                },
                &mut || {
                    store.forget_parsed_certificates();
                    black_box(verify_passive_authentication(
                        black_box(&case.sod),
                        &case.groups,
                        store,
                        case.at,
                    ));
                },
            ],
        );
        rows.push((case.label.as_str(), times, bare.crls));
    }
    println!(
        "\n{:<34} {:>12} {:>12} {:>9} {:>16} {:>5}",
        "document", "full PA", "bare OpenSSL", "PA / bare", "first of its DS", "CRLs"
    );
    for (label, t, crls) in &rows {
        println!(
            "{label:<34} {:>12?} {:>12?} {:>9.2} {:>16?} {crls:>5}",
            t[0],
            t[1],
            t[0].as_secs_f64() / t[1].as_secs_f64(),
            t[2],
        );
    }
    println!("(medians of 31 alternating batches; target: PA / bare <= 1.5)\n");

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for (case, bare) in cases.iter().zip(&bare) {
        let store = &stores[case.store];
        let mut group = criterion.benchmark_group(&case.label);
        group.bench_function("full passive authentication", |b| {
            b.iter(|| {
                verify_passive_authentication(black_box(&case.sod), &case.groups, store, case.at)
            })
        });
        group.bench_function("bare OpenSSL", |b| b.iter(|| black_box(bare).run()));
        group.bench_function("first document of its Document Signer", |b| {
            b.iter(|| {
                store.forget_parsed_certificates();
                verify_passive_authentication(black_box(&case.sod), &case.groups, store, case.at)
            })
        });
        group.finish();
    }
    criterion.final_summary();
}
