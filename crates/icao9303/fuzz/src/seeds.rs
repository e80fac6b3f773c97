//! The starting corpus of each target: the real vectors in `testdata/vectors` (or
//! `$PASSPORT_READER_VECTORS`), files issued by the repository's test-document factory
//! (`testdoc`), and a few inputs built here (secure-messaging responses, APDUs, small data
//! groups). Real files reach much deeper than random bytes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use icao9303::lds::{Dg2, Dg15};
use icao9303::pki::cms::SignedData;
use icao9303::pki::{Certificate, MasterList};
use icao9303::protocol::{CommandApdu, ResponseApdu, StatusWord};
use icao9303::tlv;

use crate::{CIPHERS, session};

/// One seed: a name (for the file written to a corpus folder) and its bytes.
pub type Seed = (String, Vec<u8>);

/// The vectors folder: `$PASSPORT_READER_VECTORS` when set, else the repository's
/// `testdata/vectors` (this crate is `crates/icao9303/fuzz`).
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("PASSPORT_READER_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/vectors"),
    }
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<Seed>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, base, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let name = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('/', "__");
            out.push((name, bytes));
        }
    }
}

/// Every file of the vectors folder, by relative path (`/` written `__`), sorted.
pub fn vector_files(dir: &Path) -> Vec<Seed> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The data-group number a vector's file name announces (`DG2_0102.bin`, `Datagroup14.bin`,
/// `…_AA_DG15_…`), not counting the key files `DG14_pk.bin`, `DG15_sk.pkcs8`.
fn data_group_number(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("_pk.") || lower.contains("_sk.") {
        return None;
    }
    for prefix in ["datagroup", "dg"] {
        if let Some(at) = lower.rfind(prefix) {
            let digits: String = lower
                .get(at + prefix.len()..)
                .unwrap_or_default()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// The files of the test-document factory: a specimen passport's EF.COM, DG1, DG2, DG14, DG15,
/// EF.CardAccess and EF.SOD, its CSCA and Document Signer certificates, a CRL and the CSCA's
/// PEM; and the MRZ lines. Issued once per process, with a fixed clock.
struct Factory {
    files: Vec<Seed>,
    mrz: String,
}

fn factory() -> &'static Option<Factory> {
    static FACTORY: OnceLock<Option<Factory>> = OnceLock::new();
    FACTORY.get_or_init(|| {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let (csca, document) = testdoc::issue_specimen(now).ok()?;
        let mut files = Vec::new();
        for id in [
            testdoc::FileId::Com,
            testdoc::FileId::Dg1,
            testdoc::FileId::Dg2,
            testdoc::FileId::Dg14,
            testdoc::FileId::Dg15,
            testdoc::FileId::CardAccess,
            testdoc::FileId::Sod,
        ] {
            if let Some(bytes) = document.file(id) {
                files.push((format!("testdoc__{}", id.name()), bytes.to_vec()));
            }
        }
        files.push((
            "testdoc__CSCA.cer".into(),
            csca.certificate().to_der().ok()?,
        ));
        files.push((
            "testdoc__DS.cer".into(),
            document.ds_certificate().to_der().ok()?,
        ));
        files.push((
            "testdoc__CSCA.crl".into(),
            csca.crl(&[1, 2, 0x1234_5678], now).ok()?.to_der().ok()?,
        ));
        files.push(("testdoc__CSCA.pem".into(), csca.pem().ok()?.into_bytes()));
        Some(Factory {
            files,
            mrz: document.mrz_lines().join("\n"),
        })
    })
}

/// A small master list made from a real one: its SignedData with the certificate list cut
/// down to two certificates (the signature no longer verifies, which the parser must handle).
fn small_master_list(der: &[u8]) -> Option<Vec<u8>> {
    let list = MasterList::from_der(der).ok()?;
    let certs: Vec<u8> = list
        .certificates
        .iter()
        .take(2)
        .flatten()
        .copied()
        .collect();
    let content = tlv::encode(
        0x30,
        &[tlv::encode(0x02, &[0]), tlv::encode(0x31, &certs)].concat(),
    );
    let content_info = tlv::parse_single(der).ok()?;
    let mut outer = content_info.children();
    let oid = outer.read().ok()?;
    let explicit = outer.read().ok()?;
    let signed_data = explicit.children().read().ok()?;
    let mut parts = Vec::new();
    let mut reader = signed_data.children();
    while let Some(Ok(element)) = reader.next_tlv() {
        if parts.len() == 2 {
            // encapContentInfo: keep its type, replace the content.
            let type_oid = element.children().read().ok()?;
            let octets = tlv::encode(0x04, &content);
            parts.push(tlv::encode(
                0x30,
                &[type_oid.raw.to_vec(), tlv::encode(0xA0, &octets)].concat(),
            ));
        } else {
            parts.push(element.raw.to_vec());
        }
    }
    let signed = tlv::encode(0x30, &parts.concat());
    Some(tlv::encode(
        0x30,
        &[oid.raw.to_vec(), tlv::encode(0xA0, &signed)].concat(),
    ))
}

/// The ICAO 9303 Part 3/4/5 specimen MRZs (TD3, TD1, TD2), as printed.
const SPECIMEN_MRZ: &[&str] = &[
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
];

/// Small DG7, DG11 and DG12 built after Doc 9303 Part 10 (no vector holds these groups).
fn small_data_groups() -> Vec<Seed> {
    let e = |tag: u32, value: &[u8]| tlv::encode(tag, value);
    let dg11 = e(
        0x6B,
        &[
            e(0x5C, &[0x5F, 0x0E, 0x5F, 0x2B, 0x5F, 0x11]),
            e(0x5F0E, b"ERIKSSON<<ANNA<MARIA"),
            e(0x5F2B, b"19740812"),
            e(0x5F11, b"ZENITH"),
        ]
        .concat(),
    );
    let dg12 = e(
        0x6C,
        &[
            e(0x5C, &[0x5F, 0x19, 0x5F, 0x26]),
            e(0x5F19, b"UTOPIA"),
            e(0x5F26, b"20120415"),
        ]
        .concat(),
    );
    let dg7 = e(
        0x67,
        &[e(0x02, &[1]), e(0x5F43, &[0xFF, 0xD8, 0xFF, 0xD9])].concat(),
    );
    vec![
        ("synthetic__DG7".into(), dg7),
        ("synthetic__DG11".into(), dg11),
        ("synthetic__DG12".into(), dg12),
    ]
}

/// Protected responses for the four ciphers, as the chip sends them to the first command of
/// [`session`]: `(selector, response)`.
fn protected_responses() -> Vec<(u8, ResponseApdu)> {
    let mut out = Vec::new();
    for (selector, cipher) in (0u8..).zip(CIPHERS) {
        for (len, sw) in [(0usize, 0x9000u16), (7, 0x9000), (40, 0x6282)] {
            let Some(mut card) = session(cipher) else {
                continue;
            };
            // The command's increment of the SSC.
            let _ = card.protect(&CommandApdu::select_file(0x011E));
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let [sw1, sw2] = sw.to_be_bytes();
            let response = ResponseApdu::new(plain, StatusWord::from_bytes(sw1, sw2));
            if let Ok(protected) = card.protect_response(&response) {
                out.push((selector, protected));
            }
        }
    }
    out
}

fn commands() -> Vec<Vec<u8>> {
    let mut out = vec![
        CommandApdu::select_file(0x011E).to_bytes(),
        CommandApdu::get_challenge().to_bytes(),
        CommandApdu::select_emrtd_application().to_bytes(),
    ];
    for (offset, ne) in [(0usize, 256usize), (0x7FFF, 1), (0x8000, 1000)] {
        if let Ok(c) = CommandApdu::read_binary(offset, ne) {
            out.push(c.to_bytes());
        }
    }
    for cipher in CIPHERS {
        if let Some(mut terminal) = session(cipher)
            && let Ok(c) = CommandApdu::read_binary(0, 255)
            && let Ok(p) = terminal.protect(&c)
        {
            out.push(p.to_bytes());
        }
    }
    out
}

fn active_auth_seeds(vectors: &[Seed], dir: &Path) -> Vec<Seed> {
    let mut out = Vec::new();
    let Ok(text) = std::fs::read_to_string(dir.join("active_auth/aa_vectors.json")) else {
        return out;
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) else {
        return out;
    };
    for (file, cases) in map {
        let Some((_, dg15)) = vectors.iter().find(|(n, _)| n.ends_with(&file)) else {
            continue;
        };
        let Ok(dg15) = Dg15::parse(dg15) else {
            continue;
        };
        let key = dg15.subject_public_key_info;
        for (i, case) in cases.as_array().into_iter().flatten().enumerate() {
            let hex_field = |f: &str| {
                case.get(f)
                    .and_then(|v| v.as_str())
                    .and_then(|s| hex::decode(s).ok())
            };
            let (Some(nonce), Some(signature), Ok(len)) = (
                hex_field("nonce"),
                hex_field("signature"),
                u16::try_from(key.len()),
            ) else {
                continue;
            };
            let seed = [&len.to_be_bytes()[..], &key, &nonce, &[0], &signature].concat();
            out.push((format!("{file}__{i}"), seed));
        }
    }
    out
}

/// Every seed of `target`, from the vectors in `dir`, the test-document factory and the
/// constructions of this module.
pub fn seeds(target: &str, dir: &Path) -> Vec<Seed> {
    let vectors = vector_files(dir);
    let generated = factory()
        .as_ref()
        .map(|f| f.files.clone())
        .unwrap_or_default();
    let files: Vec<&Seed> = vectors.iter().chain(generated.iter()).collect();
    let named = |pred: &dyn Fn(&str) -> bool| -> Vec<Seed> {
        files
            .iter()
            .filter(|(n, _)| pred(&n.to_ascii_lowercase()))
            .map(|s| (*s).clone())
            .collect()
    };
    let dg = |n: u8| named(&|name| data_group_number(name) == Some(n));
    let signed_data = |name: &str| name.contains("sod") || name.contains("cardsecurity");
    let master_lists: Vec<Seed> = named(&|n| n.ends_with(".ml"))
        .iter()
        .filter_map(|(n, d)| Some((format!("small__{n}"), small_master_list(d)?)))
        .collect();
    let certificates = || -> Vec<Seed> {
        let mut out = named(&|n| n.ends_with(".cer"));
        for (n, d) in named(&signed_data) {
            let content = tlv::parse_single(&d)
                .ok()
                .filter(|t| t.tag == 0x77)
                .map_or(d.clone(), |t| t.value.to_vec());
            if let Ok(signed) = SignedData::from_content_info(&content) {
                out.extend(
                    (0..)
                        .zip(signed.certificates)
                        .map(|(i, c)| (format!("{n}__cert{i}"), c)),
                );
            }
        }
        for (n, d) in named(&|n| n.ends_with(".ml")) {
            if let Ok(list) = MasterList::from_der(&d) {
                out.extend(
                    (0..)
                        .zip(list.certificates.into_iter().take(3))
                        .map(|(i, c)| (format!("{n}__cert{i}"), c)),
                );
            }
        }
        out
    };
    let security_infos = || -> Vec<Seed> {
        let mut out = named(&|n| n.contains("cardaccess"));
        for (n, d) in dg(14) {
            if let Ok(t) = tlv::parse_single(&d) {
                out.push((format!("{n}__content"), t.value.to_vec()));
            }
        }
        for (n, d) in named(&|n| n.contains("cardsecurity")) {
            if let Ok(signed) = SignedData::from_content_info(&d) {
                out.push((format!("{n}__content"), signed.content));
            }
        }
        out
    };
    match target {
        "mrz" => {
            let mut out: Vec<Seed> = (0..)
                .zip(SPECIMEN_MRZ)
                .map(|(i, m)| (format!("specimen{i}"), m.as_bytes().to_vec()))
                .collect();
            if let Some(f) = factory() {
                out.push(("testdoc".into(), f.mrz.clone().into_bytes()));
            }
            out
        }
        "ef_com" => named(&|n| n.contains("com")),
        "dg1" => dg(1),
        "dg2" => dg(2),
        "dg7" | "dg11" | "dg12" => small_data_groups(),
        "dg14" => dg(14),
        "dg15" => dg(15),
        "card_access" | "security_infos" => security_infos(),
        "portrait" => dg(2)
            .iter()
            .filter_map(|(n, d)| Some((n, Dg2::parse(d).ok()?)))
            .flat_map(|(n, dg2)| {
                (0..)
                    .zip(dg2.faces)
                    .map(move |(i, f)| (format!("{n}__image{i}"), f.data))
            })
            .collect(),
        "sod" => named(&|n| n.contains("sod")),
        "card_security" => named(&|n| n.contains("cardsecurity")),
        "certificate" => certificates(),
        "crl" => named(&|n| n.ends_with(".crl")),
        "master_list" => master_lists,
        "trust_import" => {
            let mut out =
                named(&|n| n.ends_with(".cer") || n.ends_with(".crl") || n.ends_with(".pem"));
            out.extend(master_lists);
            out
        }
        "spki" => {
            let mut out = named(&|n| n.contains("_pk."));
            for (n, d) in certificates() {
                if let Ok(c) = Certificate::from_der(&d) {
                    out.push((format!("{n}__spki"), c.spki));
                }
            }
            for (n, d) in dg(15) {
                if let Ok(dg15) = Dg15::parse(&d) {
                    out.push((format!("{n}__spki"), dg15.subject_public_key_info));
                }
            }
            out
        }
        "active_auth" => active_auth_seeds(&vectors, dir),
        "sm_response" => protected_responses()
            .into_iter()
            .enumerate()
            .map(|(i, (s, r))| (format!("response{i}"), [vec![s], r.to_bytes()].concat()))
            .collect(),
        "sm_response_mac" => protected_responses()
            .into_iter()
            .enumerate()
            .map(|(i, (s, r))| {
                // Without DO'8E' (the last 10 bytes): the target appends it.
                let objects = r
                    .data
                    .get(..r.data.len().saturating_sub(10))
                    .unwrap_or_default();
                (
                    format!("objects{i}"),
                    [&[s][..], objects, &r.sw.to_bytes()].concat(),
                )
            })
            .collect(),
        "sm_roundtrip" => (0u8..4)
            .flat_map(|s| {
                [0usize, 1, 16, 300].map(|len| {
                    let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    (
                        format!("plain{s}_{len}"),
                        [&[s, 0x90, 0x00][..], &plain].concat(),
                    )
                })
            })
            .collect(),
        "apdu" => {
            let mut out: Vec<Seed> = (0..)
                .zip(commands())
                .map(|(i, c)| (format!("command{i}"), c))
                .collect();
            out.push(("response".into(), vec![0x53, 0x02, 0xAB, 0xCD, 0x90, 0x00]));
            out
        }
        "tlv" => files
            .iter()
            .filter(|(n, d)| d.len() <= 20_000 && !n.ends_with(".json") && !n.ends_with(".pem"))
            .map(|s| (*s).clone())
            .collect(),
        "relay_message" => [
            r#"{"type":"hello","access_key":{"document_number":"L898902C3","date_of_birth":"740812","date_of_expiry":"120415"},"reader":{"extended_length":true,"reset":false},"client":{"name":"app","version":"1"}}"#,
            r#"{"type":"hello","token":"abc","access_key":{"can":"123456"},"selfie":"AAAA"}"#,
            r#"{"type":"response","seq":1,"apdu":"6A82"}"#,
            r#"{"type":"failure","seq":2,"reason":"card_removed","message":"lost"}"#,
            r#"{"type":"command","seq":3,"apdu":"00A4040C07A0000002471001"}"#,
            r#"{"type":"progress","file":"DG2","read":10,"total":100}"#,
            r#"{"type":"result","session_id":1,"state":"APPROVED","rejection_reason":null}"#,
            r#"{"type":"error","error_name":"RelayTimeout","error_message":"x","retryable":true}"#,
        ]
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("message{i}"), m.as_bytes().to_vec()))
        .collect(),
        _ => Vec::new(),
    }
}

/// Seeds for every target, `(target, seeds)`.
pub fn all_seeds(dir: &Path) -> Vec<(&'static str, Vec<Seed>)> {
    crate::TARGETS
        .iter()
        .map(|(name, _)| (*name, seeds(name, dir)))
        .collect()
}
