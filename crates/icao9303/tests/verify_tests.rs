//! Whole-document verification into one report.

use std::collections::BTreeMap;

use icao9303::pki::TrustStore;
use icao9303::report::{CheckName, Outcome, ReasonCode};
use icao9303::verify::{ActiveAuthenticationExchange, DocumentFiles, verify_document};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::lds_tests::vector;

const NOW: OffsetDateTime = datetime!(2025-03-01 12:00 UTC);

#[test]
fn sod_alone_of_a_real_passport() {
    let mut store = TrustStore::new();
    store
        .import(&vector("masterlists/DE_ML_2026-05-28-08-28-45.ml"))
        .unwrap();
    let files = DocumentFiles {
        sod: Some(vector("real_sod_gmrtd/US_EF_SOD.bin")),
        ..Default::default()
    };
    let report = verify_document(&files, &store, None, NOW);
    assert!(report.valid, "{:#?}", report.checks);
    assert_eq!(
        report.outcome(CheckName::MrzCheckDigits),
        Outcome::NotPresent
    );
    assert_eq!(
        report.outcome(CheckName::ActiveAuthentication),
        Outcome::NotPresent
    );
    assert_eq!(
        report.identity.issuer.as_deref(),
        Some("Department of State, U.S. Government")
    );
    assert!(report.csca.as_deref().unwrap().contains("MRTD CA"));
    let json = report.to_json();
    assert_eq!(json["valid"], true);
    let names: Vec<_> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        CheckName::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        "every check, in order"
    );
}

#[test]
fn dg15_alone_for_active_authentication() {
    let json: serde_json::Value =
        serde_json::from_slice(&vector("active_auth/aa_vectors.json")).unwrap();
    let v = &json["gmrtd_AA_DG15_rsa1792.bin"][0];
    let files = DocumentFiles {
        data_groups: BTreeMap::from([(15, vector("active_auth/gmrtd_AA_DG15_rsa1792.bin"))]),
        ..Default::default()
    };
    let exchange = ActiveAuthenticationExchange {
        challenge: hex::decode(v["nonce"].as_str().unwrap()).unwrap(),
        response: hex::decode(v["signature"].as_str().unwrap()).unwrap(),
    };
    let report = verify_document(&files, &TrustStore::new(), Some(&exchange), NOW);
    assert_eq!(
        report.outcome(CheckName::ActiveAuthentication),
        Outcome::Passed
    );
    assert_eq!(report.outcome(CheckName::SodSignature), Outcome::NotPresent);
    assert!(
        !report.valid,
        "without a SOD nothing vouches for the document"
    );
    let no_challenge = verify_document(&files, &TrustStore::new(), None, NOW);
    assert_eq!(
        no_challenge
            .check(CheckName::ActiveAuthentication)
            .unwrap()
            .reason_code,
        Some(ReasonCode::NoChallenge)
    );
}

#[test]
fn etsi_specimen_untrusted_but_intact() {
    let folder = "etsi_tr103200_eacaa";
    let files = DocumentFiles {
        sod: Some(vector(&format!("{folder}/EF_SOD.bin"))),
        data_groups: [
            (1, "DG1.bin"),
            (2, "DG2.bin"),
            (14, "DG14.bin"),
            (15, "DG15.bin"),
        ]
        .into_iter()
        .map(|(n, f)| (n, vector(&format!("{folder}/{f}"))))
        .collect(),
        ..Default::default()
    };
    let report = verify_document(&files, &TrustStore::new(), None, NOW);
    assert_eq!(report.outcome(CheckName::SodSignature), Outcome::Passed);
    assert_eq!(report.outcome(CheckName::DataGroupHashes), Outcome::Passed);
    assert_eq!(
        report.outcome(CheckName::DocumentSignerChain),
        Outcome::Failed
    );
    assert_eq!(report.outcome(CheckName::MrzCheckDigits), Outcome::Passed);
    assert!(!report.valid);
    assert_eq!(report.identity.surname.as_deref(), Some("MUSTERMANN"));
    assert_eq!(
        report.document_signer.as_deref(),
        Some("C=DE, O=ETSI, OU=Document Signer, CN=ETSI DS")
    );
}

mod issued {
    use super::*;
    use testdoc::{
        Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, FileId, Holder, KeyAlgorithm,
    };

    fn files(doc: &testdoc::TestDocument) -> DocumentFiles {
        DocumentFiles {
            com: doc.file(FileId::Com).map(<[u8]>::to_vec),
            sod: doc.file(FileId::Sod).map(<[u8]>::to_vec),
            data_groups: doc.data_groups(),
        }
    }

    fn sign_challenge(doc: &testdoc::TestDocument, challenge: &[u8]) -> Vec<u8> {
        use openssl::rsa::Padding;
        let rsa = doc.aa_private_key().unwrap().rsa().unwrap();
        let k = rsa.size() as usize;
        let m1 = vec![0x5A; k - 22];
        let mut input = m1.clone();
        input.extend(challenge);
        let mut j = vec![0x6A];
        j.extend(&m1);
        j.extend(openssl::sha::sha1(&input));
        j.push(0xBC);
        let mut s = vec![0; k];
        rsa.private_encrypt(&j, &mut s, Padding::NONE).unwrap();
        s
    }

    #[test]
    fn genuine_document_with_active_authentication() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        let doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        let mut store = TrustStore::new();
        store.import(&csca.certificate().to_pem().unwrap()).unwrap();
        let challenge = b"\x01\x02\x03\x04\x05\x06\x07\x08".to_vec();
        let exchange = ActiveAuthenticationExchange {
            response: sign_challenge(&doc, &challenge),
            challenge,
        };
        let report = verify_document(&files(&doc), &store, Some(&exchange), NOW);
        assert!(report.valid, "{:#?}", report.checks);
        assert_eq!(
            report.outcome(CheckName::ActiveAuthentication),
            Outcome::Passed
        );
        assert_eq!(report.outcome(CheckName::DocumentExpiry), Outcome::Passed);
        assert!(report.identity.surname.is_some());

        let wrong = ActiveAuthenticationExchange {
            challenge: vec![9; 8],
            response: exchange.response.clone(),
        };
        let report = verify_document(&files(&doc), &store, Some(&wrong), NOW);
        assert_eq!(
            report.outcome(CheckName::ActiveAuthentication),
            Outcome::Failed
        );
        assert!(!report.valid);

        // Years later the document has expired.
        let later = verify_document(
            &files(&doc),
            &store,
            Some(&exchange),
            datetime!(2045-01-01 0:00 UTC),
        );
        assert_eq!(later.outcome(CheckName::DocumentExpiry), Outcome::Failed);
        assert!(!later.valid);
    }

    #[test]
    fn ecdsa_active_authentication_with_the_dg14_hash() {
        use testdoc::Curve;
        let mut csca = Csca::generate(&CscaOptions::new("DE", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        let mut store = TrustStore::new();
        store.import(&csca.certificate().to_der().unwrap()).unwrap();
        for explicit in [false, true] {
            let doc = DocumentBuilder::new(Holder::specimen())
                .aa_key(Some(KeyAlgorithm::Ec(Curve::BrainpoolP256r1)))
                .chip_explicit_ec_parameters(explicit)
                .build(&ds)
                .unwrap();
            let dg14 = icao9303::lds::Dg14::parse(doc.file(FileId::Dg14).unwrap()).unwrap();
            let oid = dg14
                .security_infos
                .active_authentication_info
                .unwrap()
                .signature_algorithm;
            let digest = icao9303::active_authentication::ecdsa_aa_digest(oid).unwrap();
            let challenge = vec![0xA5; 8];
            let hash = openssl::hash::hash(digest.message_digest(), &challenge).unwrap();
            let key = doc.aa_private_key().unwrap().ec_key().unwrap();
            let sig = openssl::ecdsa::EcdsaSig::sign(&hash, &key).unwrap();
            let mut response = sig.r().to_vec_padded(32).unwrap();
            response.extend(sig.s().to_vec_padded(32).unwrap());
            let exchange = ActiveAuthenticationExchange {
                challenge,
                response,
            };
            let report = verify_document(&files(&doc), &store, Some(&exchange), NOW);
            assert_eq!(
                report.outcome(CheckName::ActiveAuthentication),
                Outcome::Passed,
                "explicit={explicit}"
            );
            assert!(report.valid, "{:#?}", report.checks);

            // Without DG14 the hash is unknown: NOT_CHECKED, never a guess.
            let mut without_dg14 = files(&doc);
            without_dg14.data_groups.remove(&14);
            let report = verify_document(&without_dg14, &store, Some(&exchange), NOW);
            let check = report.check(CheckName::ActiveAuthentication).unwrap();
            assert_eq!(check.result, Outcome::NotChecked);
            assert_eq!(check.reason_code, Some(ReasonCode::AaHashAlgorithmUnknown));
        }
    }
}

/// Without DG12 the issuer is the Document Signer's organisation, with its first unit only when
/// that unit names a body (not a role such as "Document Signer" or a place such as "London").
#[test]
fn issuer_from_the_document_signer_of_real_passports() {
    let store = TrustStore::new();
    for (country, issuer) in [
        ("US", "Department of State, U.S. Government"),
        ("FR", "Gouv"),
        ("UK", "HM Passport Office"),
        ("DE", "Bundesdruckerei GmbH"),
    ] {
        let files = DocumentFiles {
            sod: Some(vector(&format!("real_sod_gmrtd/{country}_EF_SOD.bin"))),
            ..Default::default()
        };
        let report = verify_document(&files, &store, None, NOW);
        assert_eq!(report.identity.issuer.as_deref(), Some(issuer), "{country}");
    }
}
