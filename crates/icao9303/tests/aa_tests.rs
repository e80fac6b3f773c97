//! Active Authentication (ICAO 9303 Part 11 §6.1) against real-chip responses
//! (`testdata/vectors/active_auth/aa_vectors.json`, from GMRTD and PYMRTD) and testdoc chips.

use icao9303::active_authentication::{
    Iso9796Error, verify_active_authentication, verify_ecdsa_plain, verify_iso9796_2_scheme1,
};
use icao9303::lds::Dg15;
use icao9303::oid;
use icao9303::pki::DigestAlgorithm;
use icao9303::pki::keys::public_key_from_spki;
use icao9303::report::{Outcome, ReasonCode};

use crate::lds_tests::vector;

struct AaVector {
    dg15: &'static str,
    nonce: String,
    signature: String,
    m1: Option<String>,
    hash: String,
}

fn aa_vectors() -> Vec<AaVector> {
    let json: serde_json::Value =
        serde_json::from_slice(&vector("active_auth/aa_vectors.json")).unwrap();
    let mut out = Vec::new();
    for dg15 in ["gmrtd_AA_DG15_rsa1792.bin", "pymrtd_AA_DG15_rsa1024.bin"] {
        for v in json[dg15].as_array().unwrap() {
            out.push(AaVector {
                dg15,
                nonce: v["nonce"].as_str().unwrap().into(),
                signature: v["signature"].as_str().unwrap().into(),
                m1: v["M1"].as_str().map(str::to_owned),
                hash: v["hash"].as_str().unwrap().into(),
            });
        }
    }
    assert_eq!(out.len(), 5);
    out
}

fn spki(dg15_file: &str) -> Vec<u8> {
    Dg15::parse(&vector(&format!("active_auth/{dg15_file}")))
        .unwrap()
        .subject_public_key_info
}

#[test]
fn real_chip_responses_verify_and_recover_m1() {
    for v in aa_vectors() {
        let key = public_key_from_spki(&spki(v.dg15)).unwrap().rsa().unwrap();
        let nonce = hex::decode(&v.nonce).unwrap();
        let signature = hex::decode(&v.signature).unwrap();
        let recovery = verify_iso9796_2_scheme1(&key, &nonce, &signature).unwrap();
        if let Some(m1) = &v.m1 {
            assert_eq!(hex::encode(&recovery.m1), *m1);
        }
        if v.hash.starts_with("sha256") {
            assert_eq!(recovery.digest, DigestAlgorithm::Sha256);
            assert!(recovery.explicit_trailer);
        } else {
            assert_eq!(recovery.digest, DigestAlgorithm::Sha1);
            assert!(!recovery.explicit_trailer);
        }
        let check = verify_active_authentication(&spki(v.dg15), None, &nonce, &signature);
        assert_eq!(check.result, Outcome::Passed, "{}", v.dg15);
    }
}

#[test]
fn wrong_challenge_or_response_fails() {
    for v in aa_vectors() {
        let mut nonce = hex::decode(&v.nonce).unwrap();
        let signature = hex::decode(&v.signature).unwrap();
        nonce[0] ^= 0x80;
        let check = verify_active_authentication(&spki(v.dg15), None, &nonce, &signature);
        assert_eq!(check.result, Outcome::Failed);
        assert_eq!(check.reason_code, Some(ReasonCode::AaSignatureInvalid));
        let key = public_key_from_spki(&spki(v.dg15)).unwrap().rsa().unwrap();
        assert_eq!(
            verify_iso9796_2_scheme1(&key, &nonce, &signature),
            Err(Iso9796Error::HashMismatch)
        );

        let nonce = hex::decode(&v.nonce).unwrap();
        let mut bad = signature.clone();
        bad[5] ^= 0x01;
        let check = verify_active_authentication(&spki(v.dg15), None, &nonce, &bad);
        assert_eq!(check.result, Outcome::Failed);
        let check = verify_active_authentication(&spki(v.dg15), None, &nonce, &[]);
        assert_eq!(check.result, Outcome::Failed);
        // Another chip's key.
        let other = if v.dg15.starts_with("gmrtd") {
            "pymrtd_AA_DG15_rsa1024.bin"
        } else {
            "gmrtd_AA_DG15_rsa1792.bin"
        };
        assert_eq!(
            verify_active_authentication(&spki(other), None, &nonce, &signature).result,
            Outcome::Failed
        );
    }
}

#[test]
fn iso9796_2_signatures_made_here_verify_with_every_trailer() {
    // Signs J = 6A || M1 || H(M1 || M2) || T with a fresh key (raw RSA), then verifies.
    use openssl::rsa::{Padding, Rsa};
    let rsa = Rsa::generate(1024).unwrap();
    let public =
        Rsa::from_public_components(rsa.n().to_owned().unwrap(), rsa.e().to_owned().unwrap())
            .unwrap();
    let m2 = hex::decode("0102030405060708").unwrap();
    for (digest, trailer) in [
        (DigestAlgorithm::Sha1, vec![0xBC]),
        (DigestAlgorithm::Sha1, vec![0x33, 0xCC]),
        (DigestAlgorithm::Sha224, vec![0x38, 0xCC]),
        (DigestAlgorithm::Sha256, vec![0x34, 0xCC]),
        (DigestAlgorithm::Sha384, vec![0x36, 0xCC]),
        (DigestAlgorithm::Sha512, vec![0x35, 0xCC]),
    ] {
        let m1_len = 128 - 1 - digest.output_len() - trailer.len();
        let m1: Vec<u8> = (0..m1_len).map(|i| i as u8).collect();
        let mut input = m1.clone();
        input.extend(&m2);
        let mut j = vec![0x6A];
        j.extend(&m1);
        j.extend(digest.digest(&input).unwrap());
        j.extend(&trailer);
        let mut s = vec![0; 128];
        rsa.private_encrypt(&j, &mut s, Padding::NONE).unwrap();
        let recovery = verify_iso9796_2_scheme1(&public, &m2, &s).unwrap();
        assert_eq!(recovery.m1, m1);
        assert_eq!(recovery.digest, digest);
        // n - s^d: the min(J, n - J) convention of ISO/IEC 9796-2 is accepted too.
        let sb = openssl::bn::BigNum::from_slice(&s).unwrap();
        let mut alt = openssl::bn::BigNum::new().unwrap();
        alt.checked_sub(rsa.n(), &sb).unwrap();
        assert!(verify_iso9796_2_scheme1(&public, &m2, &alt.to_vec()).is_ok());
    }
}

#[test]
fn ecdsa_active_authentication_needs_the_dg14_hash() {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let group = EcGroup::from_curve_name(Nid::BRAINPOOL_P256R1).unwrap();
    let key = EcKey::generate(&group).unwrap();
    let challenge = [7u8; 8];
    let hash = openssl::sha::sha256(&challenge);
    let sig = openssl::ecdsa::EcdsaSig::sign(&hash, &key).unwrap();
    let mut plain = sig.r().to_vec_padded(32).unwrap();
    plain.extend(sig.s().to_vec_padded(32).unwrap());
    let public =
        PKey::from_ec_key(EcKey::from_public_key(&group, key.public_key()).unwrap()).unwrap();
    let spki = public.public_key_to_der().unwrap();

    let ok = verify_active_authentication(&spki, Some(oid::ECDSA_PLAIN_SHA256), &challenge, &plain);
    assert_eq!(ok.result, Outcome::Passed);
    assert!(verify_ecdsa_plain(&public, DigestAlgorithm::Sha256, &challenge, &plain).unwrap());
    let missing = verify_active_authentication(&spki, None, &challenge, &plain);
    assert_eq!(missing.result, Outcome::NotChecked);
    assert_eq!(
        missing.reason_code,
        Some(ReasonCode::AaHashAlgorithmUnknown)
    );
    let wrong_hash =
        verify_active_authentication(&spki, Some(oid::ECDSA_PLAIN_SHA384), &challenge, &plain);
    assert_eq!(wrong_hash.result, Outcome::Failed);
    let wrong_challenge =
        verify_active_authentication(&spki, Some(oid::ECDSA_PLAIN_SHA256), &[8u8; 8], &plain);
    assert_eq!(wrong_challenge.result, Outcome::Failed);
}

#[test]
fn bsi_reference_chip_key_signs_and_verifies() {
    // The BSI TR-03105-5 data set ships the DG15 private key: sign a challenge as the chip would.
    use openssl::pkey::PKey;
    use openssl::rsa::Padding;
    let private = PKey::private_key_from_der(&vector("bsi_tr03105_5_refdataset/DG15_sk.pkcs8"))
        .or_else(|_| {
            PKey::private_key_from_pkcs8(&vector("bsi_tr03105_5_refdataset/DG15_sk.pkcs8"))
        })
        .unwrap();
    let rsa = private.rsa().unwrap();
    let k = rsa.size() as usize;
    let challenge = hex::decode("1122334455667788").unwrap();
    let m1: Vec<u8> = vec![0x42; k - 1 - 20 - 1];
    let mut input = m1.clone();
    input.extend(&challenge);
    let mut j = vec![0x6A];
    j.extend(&m1);
    j.extend(openssl::sha::sha1(&input));
    j.push(0xBC);
    let mut s = vec![0; k];
    rsa.private_encrypt(&j, &mut s, Padding::NONE).unwrap();
    let dg15 = Dg15::parse(&vector("bsi_tr03105_5_refdataset/Datagroup15.bin")).unwrap();
    let check = verify_active_authentication(&dg15.subject_public_key_info, None, &challenge, &s);
    assert_eq!(check.result, Outcome::Passed);
}
