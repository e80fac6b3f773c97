//! `passport-reader verify DIR`: verifies a dump of a chip's files against a trust store and
//! prints the report. Exit status: 0 genuine and trusted, 1 not, 2 usage error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use icao9303::lds::FileId;
use icao9303::pki::TrustStore;
use icao9303::report::{Outcome, Report};
use icao9303::verify::{ActiveAuthenticationExchange, DocumentFiles, verify_document};
use time::{Date, OffsetDateTime, Time};

/// Verify the files of an eMRTD chip (passive and active authentication, MRZ, expiry).
#[derive(clap::Args)]
pub struct Args {
    /// Folder with the chip's files: COM, SOD, DG1 … DG16 (also with a .bin extension, EF. or
    /// EF_ prefixes, a _FID suffix such as DG1_0101.bin, or named Datagroup1.bin). Any subset.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Trusted CSCA certificate (PEM or DER), folder of them, CSCA master list (.ml) or CRL.
    /// Repeatable; import a master list's root before the list to have its signer checked.
    #[arg(long, value_name = "PATH")]
    trust: Vec<PathBuf>,
    /// Active authentication challenge (hex) sent in INTERNAL AUTHENTICATE [default: the
    /// `aa_challenge` and `aa_response` files in DIR, as `passport-reader dump` writes them].
    #[arg(long, value_name = "HEX", requires = "aa_response")]
    aa_challenge: Option<String>,
    /// The chip's response to the challenge (hex).
    #[arg(long, value_name = "HEX", requires = "aa_challenge")]
    aa_response: Option<String>,
    /// Verification date, YYYY-MM-DD [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> ExitCode {
    match run_inner(&args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", render(&report));
            }
            if report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &Args) -> anyhow::Result<Report> {
    let at = match &args.at {
        Some(text) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = Date::parse(text, format)
                .with_context(|| format!("--at {text:?} is not YYYY-MM-DD"))?;
            date.with_time(Time::MIDNIGHT).assume_utc() + time::Duration::hours(12)
        }
        None => OffsetDateTime::now_utc(),
    };
    let exchange = match (&args.aa_challenge, &args.aa_response) {
        (Some(c), Some(r)) => Some(ActiveAuthenticationExchange {
            challenge: hex::decode(c.trim()).context("--aa-challenge is not hex")?,
            response: hex::decode(r.trim()).context("--aa-response is not hex")?,
        }),
        _ => aa_exchange_from_dump(&args.dir)?,
    };
    let mut store = TrustStore::new();
    for path in &args.trust {
        import_trust(&mut store, path)?;
    }
    let files = read_chip_files(&args.dir)?;
    Ok(verify_document(&files, &store, exchange.as_ref(), at))
}

/// The challenge and response `passport-reader dump` leaves beside the chip files, if both are there.
fn aa_exchange_from_dump(dir: &Path) -> anyhow::Result<Option<ActiveAuthenticationExchange>> {
    let (challenge, response) = (dir.join("aa_challenge"), dir.join("aa_response"));
    if !challenge.is_file() || !response.is_file() {
        return Ok(None);
    }
    let read_hex = |path: &Path| -> anyhow::Result<Vec<u8>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))
    };
    Ok(Some(ActiveAuthenticationExchange {
        challenge: read_hex(&challenge)?,
        response: read_hex(&response)?,
    }))
}

fn import_trust(store: &mut TrustStore, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                import_trust(store, &entry)?;
            } else if let Err(e) = import_file(store, &entry) {
                eprintln!("warning: skipped {}: {e:#}", entry.display());
            }
        }
        return Ok(());
    }
    import_file(store, path)
}

fn import_file(store: &mut TrustStore, path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let summary = store
        .import(&bytes)
        .with_context(|| format!("cannot import {}", path.display()))?;
    if let Some(ml) = summary.master_list {
        eprintln!(
            "master list {}: signature valid, signer {} (issued by {}{}), {} certificates added, {} skipped",
            path.display(),
            ml.signer.as_deref().unwrap_or("?"),
            ml.signer_issuer.as_deref().unwrap_or("?"),
            if ml.signer_trusted {
                ", trusted"
            } else {
                ", NOT vouched for by an imported CSCA"
            },
            ml.added,
            ml.skipped
        );
    }
    Ok(())
}

/// The chip file a file name holds: `COM`, `SOD`, `DG1`…`DG16`, `Datagroup1`, with optional
/// `EF.`/`EF_` prefix, `_XXXX` FID suffix and `.bin` extension, in any case. The names themselves
/// are [`FileId`]'s; this only strips what other tools add around them.
fn classify(name: &str) -> Option<FileId> {
    let upper = name.to_ascii_uppercase();
    let stem = upper.strip_suffix(".BIN").unwrap_or(&upper);
    let stem = stem
        .strip_prefix("EF.")
        .or_else(|| stem.strip_prefix("EF_"))
        .unwrap_or(stem);
    let stem = match stem.rsplit_once('_') {
        Some((head, fid)) if fid.len() == 4 && fid.chars().all(|c| c.is_ascii_hexdigit()) => head,
        _ => stem,
    };
    let stem = match stem
        .strip_prefix("DATAGROUP")
        .or_else(|| stem.strip_prefix("DG"))
    {
        Some(number) => format!("DG{}", number.parse::<u8>().ok()?),
        None => stem.to_owned(),
    };
    let file: FileId = stem.parse().ok()?;
    matches!(file, FileId::Com | FileId::Sod | FileId::Dg(_)).then_some(file)
}

fn read_chip_files(dir: &Path) -> anyhow::Result<DocumentFiles> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let mut files = DocumentFiles::default();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let Some(kind) = path.file_name().and_then(|n| n.to_str()).and_then(classify) else {
            continue;
        };
        let key = kind.to_string();
        if let Some(previous) = seen.insert(key.clone(), path.clone()) {
            bail!(
                "both {} and {} hold {key}",
                previous.display(),
                path.display()
            );
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        match kind {
            FileId::Com => files.com = Some(bytes),
            FileId::Sod => files.sod = Some(bytes),
            FileId::Dg(n) => {
                files.data_groups.insert(n, bytes);
            }
            _ => {}
        }
    }
    if seen.is_empty() {
        bail!("no chip files (COM, SOD, DG1 … DG16) in {}", dir.display());
    }
    Ok(files)
}

fn render(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.valid {
        "VALID: genuine and trusted"
    } else {
        "NOT VALID"
    };
    out.push_str(&format!(
        "Document: {verdict} (verified at {})\n\n",
        report.verified_at
    ));
    out.push_str(&format!("{:<28} {:<12} {}\n", "CHECK", "RESULT", "REASON"));
    for c in &report.checks {
        let reason = match (&c.reason_code, &c.reason) {
            (Some(code), Some(text)) => format!("{}: {text}", code.as_str()),
            (_, Some(text)) => text.clone(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:<28} {:<12} {}\n",
            c.check.as_str(),
            c.result.as_str(),
            reason
        ));
    }
    out.push('\n');
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push_str(&format!("{label:<20} {v}\n"));
        }
    };
    line("Document signer:", report.document_signer.as_deref());
    line("CSCA:", report.csca.as_deref());
    line("Signature:", report.signature_algorithm.as_deref());
    line("Hash:", report.hash_algorithm.as_deref());
    line("Signing time:", report.signing_time.as_deref());
    let id = &report.identity;
    line("Surname:", id.surname.as_deref());
    line("Given names:", id.given_names.as_deref());
    line("Document number:", id.document_number.as_deref());
    line("Document type:", id.document_type.as_deref());
    line("Issuing country:", id.issuing_country.as_deref());
    line("Nationality:", id.nationality.as_deref());
    line("Date of birth:", id.date_of_birth.as_deref());
    line("Sex:", id.sex.as_deref());
    line("Expiry date:", id.expiry_date.as_deref());
    line("Personal number:", id.personal_number.as_deref());
    line("Issuer:", id.issuer.as_deref());
    if !report.data_groups.is_empty() {
        out.push_str("\nDATA GROUP   RESULT       \n");
        for d in &report.data_groups {
            let note = match d.result {
                Outcome::NotPresent => "listed in the SOD, not read",
                Outcome::Failed if d.expected.is_none() => "not listed in the SOD",
                Outcome::Failed => "hash differs from the SOD",
                _ => "",
            };
            out.push_str(&format!(
                "DG{:<10} {:<12} {note}\n",
                d.data_group,
                d.result.as_str()
            ));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let n = |s: &str| classify(s).map_or("-".to_string(), |f| f.to_string());
        assert_eq!(n("COM"), "COM");
        assert_eq!(n("EF.COM"), "COM");
        assert_eq!(n("EF_COM_011E.bin"), "COM");
        assert_eq!(n("EF_SOD.bin"), "SOD");
        assert_eq!(n("SOD"), "SOD");
        assert_eq!(n("DG1"), "DG1");
        assert_eq!(n("dg16.bin"), "DG16");
        assert_eq!(n("DG1_0101.bin"), "DG1");
        assert_eq!(n("Datagroup14.bin"), "DG14");
        assert_eq!(n("DG14_pk.bin"), "-");
        assert_eq!(n("DG15_sk.pkcs8"), "-");
        assert_eq!(n("DG17"), "-");
        assert_eq!(
            n("NEGATIVE_EF_SOD_eContentType_id-data_sig_invalid.bin"),
            "-"
        );
    }

    fn args(dir: &Path, trust: Vec<PathBuf>) -> Args {
        Args {
            dir: dir.to_path_buf(),
            trust,
            aa_challenge: None,
            aa_response: None,
            at: None,
            json: false,
        }
    }

    #[test]
    fn verifies_a_test_document_folder_then_a_tampered_one() {
        let now = OffsetDateTime::now_utc();
        let (csca, doc) = testdoc::issue_specimen(now).unwrap();
        let dir = std::env::temp_dir().join(format!("pr-verify-{}", std::process::id()));
        doc.write_to_dir(&dir).unwrap();
        let csca_path = dir.join("trusted-csca.der");
        std::fs::write(&csca_path, csca.certificate().to_der().unwrap()).unwrap();

        let report = run_inner(&args(&dir, vec![csca_path.clone()])).unwrap();
        assert!(report.valid, "{}", render(&report));
        assert!(render(&report).contains("VALID: genuine and trusted"));
        let untrusted = run_inner(&args(&dir, vec![])).unwrap();
        assert!(!untrusted.valid);

        let dg1 = dir.join("DG1");
        let mut bytes = std::fs::read(&dg1).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(&dg1, bytes).unwrap();
        let tampered = run_inner(&args(&dir, vec![csca_path])).unwrap();
        assert!(!tampered.valid);

        let mut bad_date = args(&dir, vec![]);
        bad_date.at = Some("01/02/2025".into());
        assert!(run_inner(&bad_date).is_err());
        std::fs::remove_dir_all(&dir).ok();
        assert!(run_inner(&args(&dir, vec![])).is_err());
    }
}
