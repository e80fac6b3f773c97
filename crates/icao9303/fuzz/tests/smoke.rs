//! A short deterministic run of every fuzz target in the normal test suite: each target over its
//! seeds (the real vectors, the test-document factory's files, built inputs) and over a
//! fixed-seed stream of mutations of them. A panicking target fails the test, naming the
//! target and the input in hex. The long campaign is `campaign.sh` (see README.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use icao9303_fuzz::mutate::{Rng, mutate};
use icao9303_fuzz::{TARGETS, Target, seeds};

/// Mutated inputs per target (a few seconds in a debug build).
const MUTATIONS: usize = 1500;

fn run(name: &str, target: Target, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        panic!(
            "fuzz target {name} panicked on {} bytes: {}",
            input.len(),
            hex::encode(input)
        );
    }
}

fn smoke(name: &str) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    let dir = seeds::vectors_dir();
    assert!(
        dir.is_dir(),
        "no vectors at {} (set PASSPORT_READER_VECTORS)",
        dir.display()
    );
    let mut inputs: Vec<Vec<u8>> = seeds::seeds(name, &dir)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert!(!inputs.is_empty(), "target {name} has no seed");
    // The degenerate inputs every parser must refuse gracefully.
    inputs.extend([
        vec![],
        vec![0x00],
        vec![0x30, 0x80],
        vec![0x30, 0x84, 0x80, 0, 0, 0],
    ]);
    for input in &inputs {
        run(name, *target, input);
    }
    // Large seeds (master lists, portraits) are cut down so that each mutation stays cheap.
    let bases: Vec<&[u8]> = inputs
        .iter()
        .map(|s| &s[..s.len().min(64 * 1024)])
        .collect();
    let seed = name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    let mut rng = Rng::new(seed);
    for _ in 0..MUTATIONS {
        let base = bases[rng.below(bases.len())];
        let other = bases[rng.below(bases.len())];
        let input = mutate(&mut rng, base, other);
        run(name, *target, &input);
    }
}

macro_rules! smoke_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                smoke(stringify!($name));
            }
        )*

        /// Every target of `TARGETS` has a smoke test above.
        #[test]
        fn every_target_has_a_smoke_test() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in TARGETS {
                assert!(tested.contains(name), "target {name} has no smoke test");
            }
        }
    };
}

smoke_tests!(
    mrz,
    ef_com,
    dg1,
    dg2,
    dg7,
    dg11,
    dg12,
    dg14,
    dg15,
    card_access,
    security_infos,
    portrait,
    sod,
    card_security,
    certificate,
    crl,
    master_list,
    trust_import,
    spki,
    active_auth,
    sm_response,
    sm_response_mac,
    sm_roundtrip,
    apdu,
    tlv,
    relay_message,
);

/// The MAC the `sm_response_mac` target computes is the one the terminal checks: its seeds
/// (protected responses with DO'8E' removed) unwrap, so the fuzzer starts past the MAC check.
#[test]
fn sm_response_mac_seeds_pass_the_mac_check() {
    use icao9303::protocol::CommandApdu;
    let seeds = seeds::seeds("sm_response_mac", &seeds::vectors_dir());
    assert!(seeds.len() >= 8);
    for (name, seed) in seeds {
        let (selector, rest) = seed.split_first().unwrap();
        let (objects, sw) = rest.split_last_chunk::<2>().unwrap();
        let cipher = [
            icao9303::protocol::crypto::SymmetricCipher::Tdes,
            icao9303::protocol::crypto::SymmetricCipher::Aes128,
            icao9303::protocol::crypto::SymmetricCipher::Aes192,
            icao9303::protocol::crypto::SymmetricCipher::Aes256,
        ][usize::from(selector & 3)];
        let mut sm = icao9303_fuzz::session(cipher).unwrap();
        let _ = sm.protect(&CommandApdu::select_file(0x011E));
        let response = icao9303_fuzz::response_with_mac(cipher, objects, *sw).unwrap();
        sm.unprotect(&response)
            .unwrap_or_else(|e| panic!("seed {name}: {e}"));
    }
}

/// The smoke test can fail: a target that panics is reported.
#[test]
fn a_panicking_target_fails_the_smoke_run() {
    fn bad(data: &[u8]) {
        assert!(data.len() < 3, "too long");
    }
    let caught = catch_unwind(|| run("bad", bad, b"abcd"));
    assert!(caught.is_err());
}
