//! End-to-end verification over HTTP: testdoc documents submitted through the reader API, checked
//! against the trust store imported as an operator would (`trust::import_file`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::hash::{MessageDigest, hash};
use openssl::rsa::Padding;
use serde_json::{Value, json};
use server::Settings;
use testdoc::{
    Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, FileId, Holder, KeyAlgorithm,
    TestDocument,
};
use time::OffsetDateTime;

use crate::both_backends;
use crate::helpers::{TestApp, json_of, start};

both_backends!(
    genuine_passport_is_approved_with_every_identity_field,
    forgeries_are_rejected_with_their_reason,
    nothing_is_trusted_without_an_imported_csca,
    revoked_document_signer_is_rejected_after_a_crl_import,
    clone_check_policy_for_chips_without_active_authentication,
    face_verification_decides_by_the_selfie,
    a_failure_on_our_side_ends_the_session_failed,
);

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A reader API call with the session token.
pub async fn reader(app: &TestApp, token: &str, method: &str, body: Value) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/api/v1/{method}", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    json_of(r).await
}

/// Imports PEM or DER into the server's trust store, as `passport-reader trust import` does.
pub async fn trust(app: &TestApp, data: &[u8]) {
    server::trust::import_file(&app.store, data, app.clock.now())
        .await
        .expect("trust import");
}

pub async fn trust_csca(app: &TestApp, csca: &Csca) {
    trust(app, csca.pem().unwrap().as_bytes()).await;
}

/// `(id, token)` of a new session.
pub async fn new_session(app: &TestApp, body: Value) -> (i64, String) {
    let (status, v) = app.call("session.create", body).await;
    assert_eq!(status, 200, "{v}");
    (
        v["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

/// The chip's INTERNAL AUTHENTICATE response: ISO/IEC 9796-2 digital signature scheme 1 with
/// SHA-1 (ICAO 9303 Part 11 §6.1.2.1) for the testdoc RSA key.
pub fn chip_response(document: &TestDocument, challenge: &[u8]) -> Vec<u8> {
    let rsa = document.aa_private_key().unwrap().rsa().unwrap();
    let k = rsa.size() as usize;
    assert_eq!(rsa.n().num_bits() % 8, 0);
    let m1: Vec<u8> = (0..k - 22).map(|i| (i * 7 + 3) as u8).collect();
    let mut message = m1.clone();
    message.extend_from_slice(challenge);
    let digest = hash(MessageDigest::sha1(), &message).unwrap();
    let mut f = vec![0x6A];
    f.extend_from_slice(&m1);
    f.extend_from_slice(&digest);
    f.push(0xBC);
    let mut out = vec![0u8; k];
    let n = rsa.private_encrypt(&f, &mut out, Padding::NONE).unwrap();
    out.truncate(n);
    out
}

fn b64(document: &TestDocument, id: FileId) -> Value {
    document
        .file(id)
        .map_or(Value::Null, |b| json!(STANDARD.encode(b)))
}

/// The reader.submit body a correct client sends: every file, the response to `challenge_hex`
/// and the MRZ access key.
pub fn submit_body(document: &TestDocument, challenge_hex: &str) -> Value {
    let challenge = hex::decode(challenge_hex).unwrap();
    let mrz = document.mrz_lines().join("\n");
    let parsed = icao9303::mrz::Mrz::parse(&mrz).unwrap();
    let mut body = json!({
        "com": b64(document, FileId::Com),
        "sod": b64(document, FileId::Sod),
        "dg1": b64(document, FileId::Dg1),
        "dg2": b64(document, FileId::Dg2),
        "dg14": b64(document, FileId::Dg14),
        "dg15": b64(document, FileId::Dg15),
        "card_access": b64(document, FileId::CardAccess),
        "access_document_number": parsed.document_number,
        "access_date_of_birth": parsed.date_of_birth,
        "access_date_of_expiry": parsed.date_of_expiry,
        "chip_authentication": "PASSED",
    });
    if document.aa_private_key().is_some() {
        body["aa_response"] = json!(hex::encode(chip_response(document, &challenge)));
    }
    body
}

/// reader.start then reader.submit with `edit` applied to the body; the submit's answer.
pub async fn read_and_submit(
    app: &TestApp,
    token: &str,
    document: &TestDocument,
    edit: impl FnOnce(&mut Value),
) -> (u16, Value) {
    let (status, started) = reader(app, token, "reader.start", json!({})).await;
    assert_eq!(status, 200, "{started}");
    let mut body = submit_body(document, started["aa_challenge"].as_str().unwrap());
    edit(&mut body);
    reader(app, token, "reader.submit", body).await
}

pub fn specimen_with(holder: Holder) -> (Csca, TestDocument) {
    let mut csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let document = DocumentBuilder::new(holder).build(&ds).unwrap();
    (csca, document)
}

async fn genuine_passport_is_approved_with_every_identity_field(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({"reference": "genuine"})).await;
    let (status, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"state": "APPROVED", "rejection_reason": null})
    );

    let (status, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["state"], "APPROVED", "{s}");
    assert_eq!(s["given_names"], "LOTTE JOHANNA");
    assert_eq!(s["surname"], "VAN DER STEEN");
    assert_eq!(s["nationality"], "NL");
    assert_eq!(s["sex"], "FEMALE");
    assert_eq!(s["date_of_birth"], "1987-06-21");
    assert_eq!(s["personal_number"], "998877665");
    assert_eq!(s["document_type"], "PASSPORT");
    assert_eq!(s["document_number"], "XR4K71PT9");
    assert_eq!(s["expiry_date"], "2036-03-13");
    assert_eq!(s["issuing_country"], "NL");
    // No DG12: the Document Signer certificate's organisation.
    assert_eq!(s["issuer"], "passport-reader test PKI");
    let portrait = STANDARD.decode(s["portrait"].as_str().unwrap()).unwrap();
    assert_eq!(&portrait[..3], &[0xFF, 0xD8, 0xFF], "portrait is a JPEG");
    assert!(s["face"].is_null());
    assert_eq!(s["passive_authentication"], "PASSED");
    assert_eq!(s["active_authentication"], "PASSED");
    assert_eq!(s["chip_authentication"], "PASSED");
    assert_eq!(s["clone_check"], "PROVEN");
    assert!(s["face_match"].is_null());
    assert!(s["rejection_reason"].is_null());
    assert!(
        s["document_signer"]
            .as_str()
            .unwrap()
            .contains("Document Signer"),
        "{s}"
    );
    assert!(s["verified"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(s["user_ip"], "127.0.0.1");
    assert!(s["user_agent"].is_null() || s["user_agent"].is_string());
    assert!(s["personal_data_erased"].is_null());
    let (_, st) = app.call("session.state", json!({"id": id})).await;
    assert_eq!(st["state"], "APPROVED");
}

async fn forgeries_are_rejected_with_their_reason(settings: Settings) {
    let app = start(settings).await;
    let mut csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    trust_csca(&app, &csca).await;
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let genuine = || DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();

    type Edit = Box<dyn FnOnce(&mut Value)>;
    let mut cases: Vec<(&str, TestDocument, Value, Edit)> = Vec::new();
    for (name, id) in [
        ("tampered DG1", FileId::Dg1),
        ("tampered DG2", FileId::Dg2),
        ("tampered DG15", FileId::Dg15),
    ] {
        let mut d = genuine();
        d.tamper_data_group(id).unwrap();
        cases.push((name, d, json!("DATA_GROUP_HASH_MISMATCH"), Box::new(|_| {})));
    }
    let mut other_csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    let untrusted_ds = other_csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let mut d = genuine();
    d.resign_sod(&untrusted_ds).unwrap();
    cases.push((
        "SOD re-signed by an untrusted DS",
        d,
        json!("UNTRUSTED_DOCUMENT_SIGNER"),
        Box::new(|_| {}),
    ));
    let expired_ds = csca
        .issue_document_signer(
            &DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()).expired(),
        )
        .unwrap();
    cases.push((
        "expired DS",
        // Signed now, a year after the certificate expired.
        DocumentBuilder::new(Holder::specimen())
            .signing_time(now())
            .build(&expired_ds)
            .unwrap(),
        json!("DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME"),
        Box::new(|_| {}),
    ));
    let mut d = genuine();
    d.corrupt_sod_signature().unwrap();
    cases.push((
        "corrupted SOD signature",
        d,
        json!("SOD_SIGNATURE_INVALID"),
        Box::new(|_| {}),
    ));
    cases.push((
        "wrong AA response",
        genuine(),
        json!("ACTIVE_AUTHENTICATION_FAILED"),
        Box::new(|b: &mut Value| {
            let mut r = hex::decode(b["aa_response"].as_str().unwrap()).unwrap();
            r[10] ^= 0x40;
            b["aa_response"] = json!(hex::encode(r));
        }),
    ));
    cases.push((
        "no AA response from a chip with DG15",
        genuine(),
        json!("ACTIVE_AUTHENTICATION_MISSING"),
        Box::new(|b: &mut Value| {
            b["aa_response"] = Value::Null;
        }),
    ));
    cases.push((
        "DG15 left out though the SOD lists it",
        genuine(),
        json!("ACTIVE_AUTHENTICATION_MISSING"),
        Box::new(|b: &mut Value| {
            b["dg15"] = Value::Null;
            b["aa_response"] = Value::Null;
        }),
    ));
    cases.push((
        "MRZ not matching the access key",
        genuine(),
        json!("ACCESS_KEY_MISMATCH"),
        Box::new(|b: &mut Value| {
            b["access_date_of_birth"] = json!("870622");
        }),
    ));
    cases.push((
        "chip authentication failed (client-reported)",
        genuine(),
        json!("CHIP_AUTHENTICATION_FAILED"),
        Box::new(|b: &mut Value| {
            b["chip_authentication"] = json!("FAILED");
        }),
    ));
    let mut expired_holder = Holder::specimen();
    expired_holder.date_of_expiry = time::macros::date!(2024 - 03 - 13);
    cases.push((
        "expired document",
        DocumentBuilder::new(expired_holder).build(&ds).unwrap(),
        json!("DOCUMENT_EXPIRED"),
        Box::new(|_| {}),
    ));

    for (name, document, reason, edit) in cases {
        let (id, token) = new_session(&app, json!({"reference": name})).await;
        let (status, answer) = read_and_submit(&app, &token, &document, edit).await;
        assert_eq!(status, 200, "{name}: {answer}");
        assert_eq!(answer["state"], "REJECTED", "{name}: {answer}");
        assert_eq!(answer["rejection_reason"], reason, "{name}: {answer}");
        let (_, s) = app.call("session.get", json!({"id": id})).await;
        assert_eq!(s["state"], "REJECTED", "{name}: {s}");
        assert_eq!(s["rejection_reason"], reason, "{name}");
        assert_eq!(s["state_reason"], reason, "{name}");
        assert!(s["verified"].is_string(), "{name}");
    }

    // A response replayed from another session: the server's challenge differs.
    let document = genuine();
    let (_, first_token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &first_token, "reader.start", json!({})).await;
    let first = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (status, answer) = reader(&app, &first_token, "reader.submit", first.clone()).await;
    assert_eq!(
        (status, &answer["state"]),
        (200, &json!("APPROVED")),
        "{answer}"
    );
    let (_, second_token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &second_token, "reader.start", json!({})).await;
    assert_ne!(
        submit_body(&document, started["aa_challenge"].as_str().unwrap())["aa_response"],
        Value::Null
    );
    let (status, answer) = reader(&app, &second_token, "reader.submit", first).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "REJECTED");
    assert_eq!(answer["rejection_reason"], "ACTIVE_AUTHENTICATION_FAILED");

    // passport_only: an identity card is refused; the same card is fine without it.
    let mut id_csca = Csca::generate(&CscaOptions::new("DE", now())).unwrap();
    trust_csca(&app, &id_csca).await;
    let id_ds = id_csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let card = DocumentBuilder::new(Holder::specimen_id_card())
        .build(&id_ds)
        .unwrap();
    let (id, token) = new_session(&app, json!({"passport_only": true})).await;
    let (_, answer) = read_and_submit(&app, &token, &card, |_| {}).await;
    assert_eq!(
        answer,
        json!({"state": "REJECTED", "rejection_reason": "NOT_A_PASSPORT"})
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["document_type"], "ID_CARD");
    let (id, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &card, |_| {}).await;
    assert_eq!(answer["state"], "APPROVED", "{answer}");
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["issuing_country"], "DE");
    // The MRZ has no hyphen: a filler, read as a space.
    assert_eq!(s["surname"], "SCHNEIDER WOLF");
}

async fn nothing_is_trusted_without_an_imported_csca(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    let (id, token) = new_session(&app, json!({})).await;
    let (status, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"state": "REJECTED", "rejection_reason": "NO_TRUSTED_CSCA"})
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["passive_authentication"], "FAILED");
    // Identity fields are still reported, so the integrator sees what was rejected.
    assert_eq!(s["document_number"], "XR4K71PT9");

    // Another CSCA imported: still not trusted. The right one: approved (the server sees the
    // import made after its first verification).
    let (other, _) = specimen_with(Holder::specimen());
    trust_csca(&app, &other).await;
    let (_, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(answer["rejection_reason"], "UNTRUSTED_DOCUMENT_SIGNER");
    trust_csca(&app, &csca).await;
    let (_, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(answer["state"], "APPROVED", "{answer}");
}

async fn revoked_document_signer_is_rejected_after_a_crl_import(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let crl = csca
        .crl(&[document.document_signer().serial()], now())
        .unwrap();
    trust(&app, &crl.to_der().unwrap()).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(
        answer,
        json!({"state": "REJECTED", "rejection_reason": "DOCUMENT_SIGNER_REVOKED"})
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["passive_authentication"], "FAILED");
}

async fn clone_check_policy_for_chips_without_active_authentication(settings: Settings) {
    let mut csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    // Chip authentication (DG14) but no active authentication (no DG15).
    let document = DocumentBuilder::new(Holder::specimen())
        .aa_key(None)
        .build(&ds)
        .unwrap();
    assert!(document.file(FileId::Dg15).is_none());

    let app = start(settings.clone()).await;
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(
        answer,
        json!({"state": "APPROVED", "rejection_reason": null})
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["active_authentication"], "NOT_SUPPORTED");
    assert_eq!(s["chip_authentication"], "PASSED");
    assert_eq!(s["clone_check"], "NOT_PROVEN");
    app.handle.shutdown();

    let strict = Settings {
        require_proven_clone_check: true,
        ..settings
    };
    let app = start(strict).await;
    trust_csca(&app, &csca).await;
    let (_, token) = new_session(&app, json!({})).await;
    let (_, answer) = read_and_submit(&app, &token, &document, |_| {}).await;
    assert_eq!(
        answer,
        json!({"state": "REJECTED", "rejection_reason": "CLONE_CHECK_NOT_PROVEN"})
    );
}

/// Real photographs (crates/face/tests/data, public domain / CC0): the chip's portrait is the
/// astronaut (a JPEG 2000 portrait, transcoded as the server does), the selfies are the same
/// person mirrored and rescaled, another person, and a photo with no face.
pub fn face_photo(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../face/tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn face_verification_decides_by_the_selfie(settings: Settings) {
    use testdoc::{
        Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, Holder, KeyAlgorithm,
    };
    let app = start(settings).await;
    let portrait =
        icao9303::portrait::jpeg_from_image(&face_photo("astronaut_portrait.jp2")).unwrap();
    let mut csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .portrait(portrait)
        .build(&ds)
        .unwrap();
    trust_csca(&app, &csca).await;

    // Without a selfie, or with one that is not an image: refused, nothing stored.
    let (_, token) = new_session(&app, json!({"face_verification": true})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    assert_eq!(started["face_verification"], true);
    let body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (status, v) = reader(&app, &token, "reader.submit", body.clone()).await;
    crate::helpers::assert_error(status, &v, 400, "MissingProperty");
    let mut with_selfie = body;
    with_selfie["selfie"] = json!(STANDARD.encode(b"not an image"));
    let (status, v) = reader(&app, &token, "reader.submit", with_selfie).await;
    crate::helpers::assert_error(status, &v, 400, "InvalidProperty");

    for (selfie, state, face_match, reason) in [
        ("astronaut_mirrored_320.jpg", "APPROVED", "PASSED", None),
        ("astronaut.png", "APPROVED", "PASSED", None),
        (
            "camera_320.jpg",
            "REJECTED",
            "FAILED",
            Some("FACE_MISMATCH"),
        ),
        (
            "coffee_320.jpg",
            "REJECTED",
            "NO_FACE",
            Some("NO_FACE_IN_SELFIE"),
        ),
    ] {
        let (id, token) = new_session(&app, json!({"face_verification": true})).await;
        let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
        let mut body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
        let selfie_bytes = face_photo(selfie);
        body["selfie"] = json!(STANDARD.encode(&selfie_bytes));
        let (status, answer) = reader(&app, &token, "reader.submit", body).await;
        assert_eq!(status, 200, "{selfie}: {answer}");
        assert_eq!(
            (
                answer["state"].as_str(),
                answer["rejection_reason"].as_str()
            ),
            (Some(state), reason),
            "{selfie}"
        );
        let (_, s) = app.call("session.get", json!({"id": id})).await;
        assert_eq!(s["face_match"], face_match, "{selfie}");
        let face = STANDARD.decode(s["face"].as_str().unwrap()).unwrap();
        if selfie.ends_with(".png") {
            assert!(
                face.starts_with(&[0xFF, 0xD8]),
                "a PNG selfie is kept as JPEG"
            );
        } else {
            assert_eq!(face, selfie_bytes);
        }
        // The identity is filled whatever the face says; the score is a decimal string.
        assert!(s["surname"].is_string());
        if face_match == "NO_FACE" {
            assert!(s["face_match_score"].is_null());
        } else {
            let score: f64 = s["face_match_score"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                score <= f64::from(face::DEFAULT_THRESHOLD),
                face_match == "PASSED",
                "{selfie}: {score}"
            );
        }
    }

    // A session without face verification neither compares nor keeps a selfie.
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    let body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (_, answer) = reader(&app, &token, "reader.submit", body).await;
    assert_eq!(answer["state"], "APPROVED");
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert!(s["face"].is_null() && s["face_match"].is_null() && s["face_match_score"].is_null());
}

async fn a_failure_on_our_side_ends_the_session_failed(settings: Settings) {
    let app = start(settings).await;
    let (csca, document) = testdoc::issue_specimen(now()).unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    // The trust store cannot be read: not the document's fault.
    let sql = "ALTER TABLE trust_entries RENAME TO trust_entries_gone";
    match &app.store {
        server::Store::Sqlite(sqlite) => sqlx::query(sql).execute(&sqlite.pool).await.map(drop),
        server::Store::Postgres(server::store::PostgresStore { pool, .. }) => {
            sqlx::query(sql).execute(pool).await.map(drop)
        }
    }
    .unwrap();
    let body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let (status, answer) = reader(&app, &token, "reader.submit", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"state": "FAILED", "rejection_reason": "VERIFICATION_ERROR"})
    );
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(s["state"], "FAILED");
    assert_eq!(s["state_reason"], "VERIFICATION_ERROR");
    assert!(s["surname"].is_null());
}
