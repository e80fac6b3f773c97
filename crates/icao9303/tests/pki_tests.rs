//! Passive authentication and the trust store against the real-world test vectors
//! (`testdata/vectors/README.md`: real SODs from GMRTD, specimens from PYMRTD/JMRTD/WORLDFND,
//! German and Dutch master lists from GMRTD) and against documents issued by `testdoc`.

use std::collections::BTreeMap;

use icao9303::passive_authentication::{PassiveAuthentication, verify_passive_authentication};
use icao9303::pki::{Certificate, EntryKind, MasterList, TrustStore};
use icao9303::report::{CheckName, Outcome, ReasonCode};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::lds_tests::vector;

const AT: OffsetDateTime = datetime!(2024-06-01 0:00 UTC);

/// Every real SOD; the last flag says whether its CSCA is in the German master list.
const REAL_SODS: [(&str, bool); 13] = [
    ("AT_EF_SOD.bin", true),
    ("DE_EF_SOD.bin", true),
    ("FI_EF_SOD.bin", true),
    ("FR_EF_SOD.bin", true),
    ("ID_EF_SOD.bin", false),
    ("MY_EF_SOD.bin", true),
    ("NZ_EF_SOD.bin", true),
    ("NZ2013_EF_SOD_from_jmrtd.bin", false),
    ("PH_EF_SOD.bin", true),
    ("RU_EF_SOD.bin", true),
    ("SG_EF_SOD.bin", true),
    ("UK_EF_SOD.bin", true),
    ("US_EF_SOD.bin", true),
];

fn german_store() -> TrustStore {
    let mut store = TrustStore::new();
    store
        .import(&vector("masterlists/DE_ROOT_CA_CSCA07.cer"))
        .unwrap();
    let summary = store
        .import(&vector("masterlists/DE_ML_2026-05-28-08-28-45.ml"))
        .unwrap();
    let ml = summary.master_list.unwrap();
    assert!(ml.signer_trusted);
    store
}

fn pa(sod: &[u8], dgs: &BTreeMap<u8, Vec<u8>>, store: &TrustStore) -> PassiveAuthentication {
    verify_passive_authentication(sod, dgs, store, AT)
}

#[test]
fn trust_store_and_report_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<TrustStore>();
    shareable::<icao9303::report::Report>();
}

#[test]
fn every_real_sod_signature_verifies() {
    let store = TrustStore::new();
    for (name, _) in REAL_SODS {
        let result = pa(
            &vector(&format!("real_sod_gmrtd/{name}")),
            &BTreeMap::new(),
            &store,
        );
        assert_eq!(
            result.outcome(CheckName::SodSignature),
            Outcome::Passed,
            "{name}: {:?}",
            result.checks
        );
        // No trust anchors: the chain cannot be trusted.
        assert_eq!(
            result.outcome(CheckName::DocumentSignerChain),
            Outcome::Failed,
            "{name}"
        );
    }
}

#[test]
fn real_sods_chain_to_the_german_master_list() {
    let store = german_store();
    for (name, in_master_list) in REAL_SODS {
        let result = pa(
            &vector(&format!("real_sod_gmrtd/{name}")),
            &BTreeMap::new(),
            &store,
        );
        let chain = result.check(CheckName::DocumentSignerChain).unwrap();
        if in_master_list {
            assert_eq!(chain.result, Outcome::Passed, "{name}: {chain:?}");
            assert!(result.csca.is_some());
            assert_eq!(
                result.outcome(CheckName::DocumentSignerRevocation),
                Outcome::NotChecked
            );
        } else {
            assert_eq!(chain.result, Outcome::Failed, "{name}");
            assert_eq!(chain.reason_code, Some(ReasonCode::CscaNotFound), "{name}");
        }
        assert_eq!(
            result.outcome(CheckName::DataGroupHashes),
            Outcome::NotPresent
        );
    }
}

#[test]
fn real_sod_details() {
    let store = german_store();
    let us = pa(
        &vector("real_sod_gmrtd/US_EF_SOD.bin"),
        &BTreeMap::new(),
        &store,
    );
    assert_eq!(
        us.signature_algorithm.as_deref(),
        Some("RSA-PKCS1-v1_5/SHA-256")
    );
    assert_eq!(
        us.document_signer.as_ref().unwrap().subject.organization(),
        Some("U.S. Government")
    );
    let my = pa(
        &vector("real_sod_gmrtd/MY_EF_SOD.bin"),
        &BTreeMap::new(),
        &store,
    );
    assert_eq!(
        my.signature_algorithm.as_deref(),
        Some("RSASSA-PSS/SHA-256/salt32")
    );
    let fi = pa(
        &vector("real_sod_gmrtd/FI_EF_SOD.bin"),
        &BTreeMap::new(),
        &store,
    );
    assert_eq!(fi.signature_algorithm.as_deref(), Some("ECDSA/SHA-512"));
    assert_eq!(
        fi.csca.as_ref().unwrap().subject.common_name(),
        Some("CSCA Finland")
    );
    let sod = fi.sod.unwrap();
    assert_eq!(sod.security_object.version, 1);
    assert_eq!(
        sod.security_object
            .data_group_hashes
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        [1, 2, 3, 7, 14]
    );
}

#[test]
fn master_list_signatures_verify_against_their_roots() {
    for (ml, root, count) in [
        (
            "masterlists/DE_ML_2026-05-28-08-28-45.ml",
            "masterlists/DE_ROOT_CA_CSCA07.cer",
            588,
        ),
        (
            "masterlists/NL_ML_2026-07-22.ml",
            "masterlists/NL_ROOT_CA.cer",
            411,
        ),
    ] {
        let list = MasterList::from_der(&vector(ml)).unwrap();
        assert_eq!(list.certificates.len(), count);
        let signature = list.verify_signature().unwrap();
        assert!(signature.is_valid(), "{ml}");
        let root = Certificate::from_der(&vector(root)).unwrap();
        assert!(signature.signer_issued_by(&root), "{ml}");
        // The other country's root did not sign it.
        let de_root = Certificate::from_der(&vector("masterlists/DE_ROOT_CA_CSCA07.cer")).unwrap();
        let nl_root = Certificate::from_der(&vector("masterlists/NL_ROOT_CA.cer")).unwrap();
        let other = if ml.contains("DE_") { nl_root } else { de_root };
        assert!(!signature.signer_issued_by(&other), "{ml}");
    }
}

#[test]
fn master_list_import_reports_signer_and_lists_entries() {
    let mut store = TrustStore::new();
    let ml = store
        .add_master_list(&vector("masterlists/DE_ML_2026-05-28-08-28-45.ml"))
        .unwrap();
    assert!(!ml.signer_trusted, "no root imported yet");
    assert!(ml.signer.unwrap().contains("CSCA Master List Signer"));
    assert_eq!(ml.skipped, 0);
    let entries = store.entries();
    assert!(entries.len() > 500);
    assert!(entries.iter().any(|e| e.kind == EntryKind::LinkCertificate));
    let fr = entries
        .iter()
        .find(|e| e.subject.contains("CSCA-FRANCE"))
        .unwrap();
    assert_eq!(fr.country.as_deref(), Some("FR"));
    assert_eq!(fr.sha256.len(), 64);
    // Lower-case countryName values are reported upper-case.
    assert!(
        entries
            .iter()
            .all(|e| e.country.as_ref().is_none_or(|c| *c == c.to_uppercase()))
    );
}

#[test]
fn tampered_master_list_is_refused() {
    let mut ml = vector("masterlists/NL_ML_2026-07-22.ml");
    // A byte inside the certList (well past the headers).
    let i = ml.len() / 2;
    ml[i] ^= 0x01;
    assert!(TrustStore::new().add_master_list(&ml).is_err());
}

#[test]
fn negative_bsi_sod_fails_its_signature() {
    let result = pa(
        &vector("bsi_tr03105_5_refdataset/NEGATIVE_EF_SOD_eContentType_id-data_sig_invalid.bin"),
        &BTreeMap::new(),
        &TrustStore::new(),
    );
    let check = result.check(CheckName::SodSignature).unwrap();
    assert_eq!(check.result, Outcome::Failed);
    assert_eq!(
        result.outcome(CheckName::DocumentSignerChain),
        Outcome::NotChecked
    );
}

#[test]
fn garbage_and_truncated_sods_fail() {
    let sod = vector("real_sod_gmrtd/US_EF_SOD.bin");
    for bad in [
        vec![],
        vec![0x77],
        sod[..sod.len() / 2].to_vec(),
        b"not a SOD at all".to_vec(),
    ] {
        let result = pa(&bad, &BTreeMap::new(), &TrustStore::new());
        let check = result.check(CheckName::SodSignature).unwrap();
        assert_eq!(check.result, Outcome::Failed);
        assert_eq!(check.reason_code, Some(ReasonCode::SodMalformed));
    }
}

#[test]
fn mutated_and_truncated_sods_never_panic_nor_pass() {
    let store = german_store();
    let original = vector("real_sod_gmrtd/US_EF_SOD.bin");
    let signed = pa(&original, &BTreeMap::new(), &store);
    let attrs_len = signed.sod.unwrap().signed_data.signer_infos[0]
        .signed_attributes_der
        .clone()
        .unwrap()
        .len();
    assert!(attrs_len > 100);
    for i in (0..original.len()).step_by(7) {
        let mut sod = original.clone();
        sod[i] ^= 0x5A;
        let _ = pa(&sod, &BTreeMap::new(), &store);
        let _ = pa(&original[..i], &BTreeMap::new(), &store);
    }
    // The LDS security object is covered by the signature: any change there fails.
    let parsed = icao9303::lds::sod::Sod::parse(&original).unwrap();
    let content = &parsed.signed_data.content;
    let at = original
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .unwrap();
    for i in (at..at + content.len()).step_by(5) {
        let mut sod = original.clone();
        sod[i] ^= 0x01;
        let result = pa(&sod, &BTreeMap::new(), &store);
        assert_ne!(
            result.outcome(CheckName::SodSignature),
            Outcome::Passed,
            "byte {i}"
        );
    }
}

fn specimen(folder: &str, files: &[(u8, &str)]) -> (Vec<u8>, BTreeMap<u8, Vec<u8>>) {
    let dgs = files
        .iter()
        .map(|(n, f)| (*n, vector(&format!("{folder}/{f}"))))
        .collect();
    (
        vector(&format!(
            "{folder}/{}",
            if folder.contains("loes") {
                "EF_SOD_011D.bin"
            } else {
                "EF_SOD.bin"
            }
        )),
        dgs,
    )
}

#[test]
fn specimen_data_group_hashes_match() {
    let cases: [(&str, &[(u8, &str)]); 4] = [
        (
            "etsi_tr103200_eacaa",
            &[
                (1, "DG1.bin"),
                (2, "DG2.bin"),
                (14, "DG14.bin"),
                (15, "DG15.bin"),
            ],
        ),
        (
            "bsi_tr03105_5_refdataset",
            &[(1, "Datagroup1.bin"), (14, "Datagroup14.bin")],
        ),
        (
            "jmrtd_bsi2008",
            &[(1, "Datagroup1.bin"), (14, "Datagroup14.bin")],
        ),
        (
            "jmrtd_loes2006_nl_sdu_test",
            &[
                (1, "DG1_0101.bin"),
                (2, "DG2_0102.bin"),
                (15, "DG15_010F.bin"),
            ],
        ),
    ];
    for (folder, files) in cases {
        let (sod, dgs) = specimen(folder, files);
        let result = pa(&sod, &dgs, &TrustStore::new());
        assert_eq!(
            result.outcome(CheckName::SodSignature),
            Outcome::Passed,
            "{folder}"
        );
        assert_eq!(
            result.outcome(CheckName::DataGroupHashes),
            Outcome::Passed,
            "{folder}: {:?}",
            result.data_groups
        );
        for (n, _) in files {
            assert!(result.data_group_authenticated(*n), "{folder} DG{n}");
        }
        // Groups the SOD lists but that were not read are flagged.
        for d in &result.data_groups {
            let read = files.iter().any(|(n, _)| *n == d.data_group);
            assert_eq!(
                d.result == Outcome::NotPresent,
                !read,
                "{folder} DG{}",
                d.data_group
            );
        }
    }
}

#[test]
fn data_group_missing_from_the_sod_fails() {
    // The BSI reference data set's DG15 is not listed in its SOD.
    let (sod, dgs) = specimen(
        "bsi_tr03105_5_refdataset",
        &[(1, "Datagroup1.bin"), (15, "Datagroup15.bin")],
    );
    let result = pa(&sod, &dgs, &TrustStore::new());
    let check = result.check(CheckName::DataGroupHashes).unwrap();
    assert_eq!(check.result, Outcome::Failed);
    assert_eq!(check.reason_code, Some(ReasonCode::DataGroupNotInSod));
}

#[test]
fn tampered_data_group_fails() {
    let (sod, mut dgs) = specimen("etsi_tr103200_eacaa", &[(1, "DG1.bin"), (15, "DG15.bin")]);
    let dg1 = dgs.get_mut(&1).unwrap();
    dg1[10] ^= 0x01;
    let result = pa(&sod, &dgs, &TrustStore::new());
    let check = result.check(CheckName::DataGroupHashes).unwrap();
    assert_eq!(check.result, Outcome::Failed);
    assert_eq!(check.reason_code, Some(ReasonCode::HashMismatch));
    assert!(!result.data_group_authenticated(1));
    assert!(result.data_group_authenticated(15));
}

#[test]
fn pem_der_and_unrecognised_imports() {
    let der = vector("masterlists/NL_ROOT_CA.cer");
    let pem = openssl::x509::X509::from_der(&der)
        .unwrap()
        .to_pem()
        .unwrap();
    let mut store = TrustStore::new();
    let summary = store.import(&pem).unwrap();
    assert_eq!(summary.entries.len(), 1);
    assert_eq!(summary.entries[0].kind, EntryKind::Csca);
    store.import(&der).unwrap();
    assert_eq!(store.entries().len(), 1, "duplicates are not added twice");
    assert!(store.import(b"hello").is_err());
}

mod issued {
    //! Documents from the test-document factory.
    use super::*;
    use testdoc::{
        Csca, CscaOptions, Curve, DocumentBuilder, DocumentSignerOptions, FileId, Holder,
        KeyAlgorithm,
    };
    use time::Duration;

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00 UTC);

    fn files(doc: &testdoc::TestDocument) -> (Vec<u8>, BTreeMap<u8, Vec<u8>>) {
        (doc.file(FileId::Sod).unwrap().to_vec(), doc.data_groups())
    }

    fn store_with(csca: &Csca) -> TrustStore {
        let mut store = TrustStore::new();
        store.import(&csca.certificate().to_der().unwrap()).unwrap();
        store
    }

    fn verify(doc: &testdoc::TestDocument, store: &TrustStore) -> PassiveAuthentication {
        let (sod, dgs) = files(doc);
        verify_passive_authentication(&sod, &dgs, store, NOW)
    }

    #[test]
    fn genuine_document_passes_then_revoked_ds_fails() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(
                &DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW).serial(4242),
            )
            .unwrap();
        let doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        let mut store = store_with(&csca);
        let ok = verify(&doc, &store);
        for name in [
            CheckName::SodSignature,
            CheckName::DocumentSignerChain,
            CheckName::DataGroupHashes,
        ] {
            assert_eq!(
                ok.outcome(name),
                Outcome::Passed,
                "{name:?}: {:?}",
                ok.checks
            );
        }
        assert_eq!(
            ok.outcome(CheckName::DocumentSignerRevocation),
            Outcome::NotChecked
        );

        // A CRL that does not list the DS: revocation PASSED.
        store
            .import(&csca.crl(&[7], NOW).unwrap().to_der().unwrap())
            .unwrap();
        assert_eq!(
            verify(&doc, &store).outcome(CheckName::DocumentSignerRevocation),
            Outcome::Passed
        );
        // A CRL listing it: FAILED.
        store
            .import(&csca.crl(&[4242], NOW).unwrap().to_der().unwrap())
            .unwrap();
        let revoked = verify(&doc, &store);
        let check = revoked.check(CheckName::DocumentSignerRevocation).unwrap();
        assert_eq!(check.result, Outcome::Failed);
        assert_eq!(check.reason_code, Some(ReasonCode::Revoked));
        assert!(store.entries().iter().any(|e| e.kind == EntryKind::Crl));
    }

    #[test]
    fn an_out_of_date_crl_does_not_vouch_for_the_document_signer_but_still_revokes() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW - Duration::days(400))).unwrap();
        let ds = csca
            .issue_document_signer(
                &DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW - Duration::days(300))
                    .serial(77),
            )
            .unwrap();
        let doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        let mut store = store_with(&csca);
        // Issued 100 days ago, due to be replaced 10 days ago.
        import_crl(&mut store, &csca, 7, 100);
        let stale = verify(&doc, &store);
        let check = stale.check(CheckName::DocumentSignerRevocation).unwrap();
        assert_eq!(check.result, Outcome::NotChecked, "{check:?}");
        assert_eq!(check.reason_code, Some(ReasonCode::CrlExpired));
        assert!(
            check
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("import a current one")),
            "{check:?}"
        );
        // The passive authentication itself still stands (revocation unknown is not a failure).
        assert_eq!(stale.outcome(CheckName::SodSignature), Outcome::Passed);
        // A current CRL beside it settles it.
        import_crl(&mut store, &csca, 8, 5);
        assert_eq!(
            verify(&doc, &store).outcome(CheckName::DocumentSignerRevocation),
            Outcome::Passed
        );
        // An out-of-date CRL that lists the DS: revoked all the same.
        let mut store = store_with(&csca);
        import_crl(&mut store, &csca, 77, 200);
        let check = verify(&doc, &store)
            .check(CheckName::DocumentSignerRevocation)
            .cloned()
            .unwrap();
        assert_eq!(check.result, Outcome::Failed);
        assert_eq!(check.reason_code, Some(ReasonCode::Revoked));
    }

    /// Imports a CRL of `csca` revoking `serial`, issued `days_ago` (due 90 days after).
    fn import_crl(store: &mut TrustStore, csca: &Csca, serial: u64, days_ago: i64) {
        let crl = csca.crl(&[serial], NOW - Duration::days(days_ago)).unwrap();
        store.import(&crl.to_der().unwrap()).unwrap();
    }

    #[test]
    fn ds_not_in_store_and_resigned_by_untrusted_ds() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        let mut doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        let empty = verify(&doc, &TrustStore::new());
        assert_eq!(
            empty
                .check(CheckName::DocumentSignerChain)
                .unwrap()
                .reason_code,
            Some(ReasonCode::CscaNotFound)
        );

        let mut rogue_csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let rogue = rogue_csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        doc.resign_sod(&rogue).unwrap();
        let result = verify(&doc, &store_with(&csca));
        assert_eq!(result.outcome(CheckName::SodSignature), Outcome::Passed);
        assert_eq!(
            result.outcome(CheckName::DocumentSignerChain),
            Outcome::Failed
        );
    }

    #[test]
    fn expired_ds_fails_the_chain() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(
                &DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW).expired(),
            )
            .unwrap();
        let doc = DocumentBuilder::new(Holder::specimen())
            .signing_time(NOW)
            .build(&ds)
            .unwrap();
        let result = verify(&doc, &store_with(&csca));
        let chain = result.check(CheckName::DocumentSignerChain).unwrap();
        assert_eq!(chain.result, Outcome::Failed, "{chain:?}");
        assert_eq!(
            chain.reason_code,
            Some(ReasonCode::DocumentSignerNotValidAtSigningTime)
        );
    }

    #[test]
    fn tampered_data_groups_fail() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        let store = store_with(&csca);
        for (id, n) in [(FileId::Dg1, 1), (FileId::Dg2, 2), (FileId::Dg15, 15)] {
            let mut doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
            doc.tamper_data_group(id).unwrap();
            let result = verify(&doc, &store);
            assert_eq!(
                result.outcome(CheckName::DataGroupHashes),
                Outcome::Failed,
                "DG{n}"
            );
            assert!(!result.data_group_authenticated(n));
            assert_eq!(result.outcome(CheckName::SodSignature), Outcome::Passed);
        }
    }

    #[test]
    fn declared_hash_algorithm_differs_from_the_one_used() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        let doc = DocumentBuilder::new(Holder::specimen())
            .declared_hash_algorithm(testdoc::DigestAlgorithm::Sha384)
            .build(&ds)
            .unwrap();
        let result = verify(&doc, &store_with(&csca));
        assert_eq!(result.outcome(CheckName::DataGroupHashes), Outcome::Failed);
    }

    #[test]
    fn explicit_parameter_ec_document_signers_chain() {
        for curve in [Curve::BrainpoolP256r1, Curve::P384, Curve::BrainpoolP512r1] {
            let mut csca =
                Csca::generate(&CscaOptions::new("DE", NOW).key(KeyAlgorithm::Ec(curve))).unwrap();
            let ds = csca
                .issue_document_signer(
                    &DocumentSignerOptions::new(KeyAlgorithm::Ec(curve), NOW)
                        .explicit_ec_parameters(true),
                )
                .unwrap();
            let doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
            let result = verify(&doc, &store_with(&csca));
            assert_eq!(
                result.outcome(CheckName::SodSignature),
                Outcome::Passed,
                "{curve:?}"
            );
            assert_eq!(
                result.outcome(CheckName::DocumentSignerChain),
                Outcome::Passed,
                "{curve:?}"
            );
        }
    }

    #[test]
    fn every_signature_scheme_and_digest_verifies() {
        use testdoc::{DigestAlgorithm as D, SignatureScheme as S};
        let cases = [
            (KeyAlgorithm::Rsa(2048), S::RsaPkcs1v15, D::Sha1),
            (KeyAlgorithm::Rsa(2048), S::RsaPkcs1v15, D::Sha224),
            (KeyAlgorithm::Rsa(2048), S::RsaPss, D::Sha256),
            (KeyAlgorithm::Rsa(2048), S::RsaPss, D::Sha512),
            (KeyAlgorithm::Ec(Curve::P256), S::Ecdsa, D::Sha256),
            (KeyAlgorithm::Ec(Curve::P384), S::Ecdsa, D::Sha384),
            (KeyAlgorithm::Ec(Curve::P521), S::Ecdsa, D::Sha512),
            (
                KeyAlgorithm::Ec(Curve::BrainpoolP384r1),
                S::Ecdsa,
                D::Sha384,
            ),
        ];
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let store = store_with(&csca);
        for (key, scheme, digest) in cases {
            let ds = csca
                .issue_document_signer(&DocumentSignerOptions::new(key, NOW))
                .unwrap();
            let doc = DocumentBuilder::new(Holder::specimen())
                .signature(scheme)
                .digest(digest)
                .lds_version(testdoc::LdsSecurityObjectVersion::V1)
                .build(&ds)
                .unwrap();
            let result = verify(&doc, &store);
            for name in [
                CheckName::SodSignature,
                CheckName::DocumentSignerChain,
                CheckName::DataGroupHashes,
            ] {
                assert_eq!(
                    result.outcome(name),
                    Outcome::Passed,
                    "{key:?} {scheme:?} {digest:?} {name:?}"
                );
            }
            assert_eq!(result.sod.unwrap().security_object.version, 1);
        }
    }

    #[test]
    fn document_signer_from_the_trust_store_by_key_identifier_or_serial() {
        use testdoc::SignerIdentifier as Sid;
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
            .unwrap();
        for sid in [Sid::SubjectKeyIdentifier, Sid::IssuerAndSerialNumber] {
            let doc = DocumentBuilder::new(Holder::specimen())
                .include_ds_certificate(false)
                .signer_identifier(sid)
                .build(&ds)
                .unwrap();
            let mut store = store_with(&csca);
            let missing = verify(&doc, &store);
            let check = missing.check(CheckName::SodSignature).unwrap();
            assert_eq!(
                check.reason_code,
                Some(ReasonCode::DocumentSignerNotFound),
                "{sid:?}"
            );
            let entry = store
                .import(ds.certificate().to_pem().unwrap().as_slice())
                .unwrap();
            assert_eq!(entry.entries[0].kind, EntryKind::DocumentSigner);
            let found = verify(&doc, &store);
            assert_eq!(
                found.outcome(CheckName::SodSignature),
                Outcome::Passed,
                "{sid:?}"
            );
            assert_eq!(
                found.outcome(CheckName::DocumentSignerChain),
                Outcome::Passed,
                "{sid:?}"
            );
        }
    }

    #[test]
    fn corrupted_sod_signature_fails() {
        let mut csca = Csca::generate(&CscaOptions::new("NL", NOW)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(
                KeyAlgorithm::Ec(Curve::BrainpoolP256r1),
                NOW,
            ))
            .unwrap();
        let mut doc = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        doc.corrupt_sod_signature().unwrap();
        let result = verify(&doc, &store_with(&csca));
        assert_eq!(result.outcome(CheckName::SodSignature), Outcome::Failed);
        assert_eq!(
            result.outcome(CheckName::DocumentSignerChain),
            Outcome::NotChecked
        );
    }
}
