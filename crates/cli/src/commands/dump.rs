//! `passport-reader dump`: reads a passport chip (on a PC/SC reader, or simulated) and writes its
//! files to a folder that `passport-reader verify` reads.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ArgGroup;
use indicatif::{ProgressBar, ProgressStyle};
use reader::{
    AccessControl, AccessKey, BlockSize, ChipAuthentication, ChipFiles, PcscTransport, Progress,
    ReadOptions, Transport, read_document, write_dump,
};
use virtual_chip::{Profile, VirtualTransport};

use super::virtual_chip::{DEFAULT_CAN, simulated_chip};

/// Read an ePassport's chip and write its files (COM, SOD, DG1 …, CardAccess, aa_challenge,
/// aa_response) to a folder.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub chip: ChipArgs,
    /// Folder to write to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Active Authentication challenge, 16 hex digits [default: random].
    #[arg(long, value_name = "HEX")]
    aa_challenge: Option<String>,
    /// Skip Active Authentication.
    #[arg(long, conflicts_with = "aa_challenge")]
    no_aa: bool,
}

/// How to reach the chip and open it: the access key and the reader (or a simulated chip).
/// Shared by `dump` and `read`.
#[derive(clap::Args)]
#[command(group(ArgGroup::new("key").required(true).args(["mrz", "document_number", "can"])))]
pub struct ChipArgs {
    /// The MRZ lines as printed (two for a passport, three for an ID card).
    #[arg(long, num_args = 2..=3, value_names = ["LINE1", "LINE2"])]
    pub mrz: Option<Vec<String>>,
    /// The document number (with --date-of-birth and --date-of-expiry).
    #[arg(long, requires_all = ["date_of_birth", "date_of_expiry"])]
    pub document_number: Option<String>,
    /// Date of birth, YYMMDD.
    #[arg(long, value_name = "YYMMDD", requires = "document_number")]
    pub date_of_birth: Option<String>,
    /// Date of expiry, YYMMDD.
    #[arg(long, value_name = "YYMMDD", requires = "document_number")]
    pub date_of_expiry: Option<String>,
    /// The Card Access Number printed on the document (PACE only).
    #[arg(long, value_name = "NNNNNN")]
    pub can: Option<String>,
    /// PC/SC reader name [default: the first reader holding a card].
    #[arg(long, value_name = "NAME", conflicts_with = "simulate")]
    pub reader: Option<String>,
    /// Read a simulated chip instead: bac, pace, pace-ca or clone. Without --document it holds
    /// a fresh specimen whose MRZ is printed, with CAN 123456.
    #[arg(long, value_name = "PROFILE")]
    pub simulate: Option<Profile>,
    /// The document the simulated chip holds (a `passport-reader testdoc create` folder).
    #[arg(long, value_name = "DIR", requires = "simulate")]
    pub document: Option<PathBuf>,
    /// Give the simulated chip a behaviour of real chips (repeatable; see `passport-reader
    /// virtual-chip --help`), e.g. refuse-ca=6D00, plain-ends-sm, get-response=64.
    #[arg(long, value_name = "QUIRK", requires = "simulate")]
    pub quirk: Vec<virtual_chip::Quirk>,
    /// Skip chip authentication (dump, and read --client-side).
    #[arg(long)]
    pub no_ca: bool,
    /// Use BAC even when the chip offers PACE (dump, and read --client-side).
    #[arg(long)]
    pub bac: bool,
    /// READ BINARY block size in bytes (dump, and read --client-side) [default: the largest the
    /// chip allows, over 223 only with extended-length commands; if the reader cannot carry
    /// those, the card is read again in short ones by itself].
    #[arg(long, value_name = "BYTES")]
    pub block_size: Option<usize>,
}

pub fn run(args: Args) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

pub fn access_key(args: &ChipArgs) -> anyhow::Result<AccessKey> {
    if let Some(lines) = &args.mrz {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
        return Ok(AccessKey::from_mrz_lines(&lines)?);
    }
    if let (Some(n), Some(b), Some(e)) = (
        &args.document_number,
        &args.date_of_birth,
        &args.date_of_expiry,
    ) {
        return Ok(AccessKey::from_mrz_fields(n, b, e)?);
    }
    if let Some(can) = &args.can {
        return Ok(AccessKey::can(can)?);
    }
    bail!("give --mrz, --document-number with the dates, or --can")
}

fn options(args: &Args) -> anyhow::Result<ReadOptions> {
    let challenge =
        match (&args.aa_challenge, args.no_aa) {
            (_, true) => None,
            (Some(hex_text), false) => {
                let bytes = hex::decode(hex_text.trim()).context("--aa-challenge is not hex")?;
                Some(<[u8; 8]>::try_from(bytes.as_slice()).map_err(|_| {
                    anyhow::anyhow!("--aa-challenge must be 8 bytes (16 hex digits)")
                })?)
            }
            (None, false) => Some(reader::random_challenge()?),
        };
    Ok(read_options(&args.chip, challenge))
}

pub fn read_options(args: &ChipArgs, challenge: Option<[u8; 8]>) -> ReadOptions {
    ReadOptions {
        block_size: args.block_size.map_or(BlockSize::Auto, BlockSize::Fixed),
        pace: !args.bac,
        chip_authentication: !args.no_ca,
        active_authentication_challenge: challenge,
    }
}

/// The PC/SC reader named (or the first holding a card), or the simulated chip.
pub fn open_transport(args: &ChipArgs) -> anyhow::Result<Box<dyn Transport>> {
    Ok(match args.simulate {
        Some(profile) => {
            let (chip, describe) =
                simulated_chip(profile, args.document.as_deref(), DEFAULT_CAN, &args.quirk)?;
            eprintln!("simulated chip: {describe}");
            Box::new(VirtualTransport::new(chip))
        }
        None => {
            let t = PcscTransport::connect(args.reader.as_deref())?;
            eprintln!("reader: {}", t.reader());
            Box::new(t)
        }
    })
}

fn run_inner(args: Args) -> anyhow::Result<()> {
    let key = access_key(&args.chip)?;
    let options = options(&args)?;
    let mut transport = open_transport(&args.chip)?;
    let files = read_with_progress(&mut transport, &key, &options)?;
    let written = write_dump(&files, &args.out)
        .with_context(|| format!("cannot write to {}", args.out.display()))?;
    print_summary(&files, written.len(), &args.out);
    Ok(())
}

pub fn read_with_progress(
    transport: &mut dyn Transport,
    key: &AccessKey,
    options: &ReadOptions,
) -> anyhow::Result<ChipFiles> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut current = None;
    let result = read_document(transport, key, options, &mut |p| match p {
        Progress::Step(step) => bar.println(format!("{step} …")),
        Progress::File { file, read, total } => {
            if current != Some(file) {
                if current.is_some() {
                    bar.println(format!(
                        "{:>8} {} bytes",
                        current.unwrap_or(file),
                        bar.length().unwrap_or(0)
                    ));
                }
                current = Some(file);
                bar.set_message(file.to_string());
                bar.set_length(total as u64);
            }
            bar.set_position(read as u64);
        }
        Progress::FileSkipped { file, reason } => {
            bar.println(format!("{file:>8} skipped: {reason}"));
        }
        _ => {}
    });
    if let (Some(file), Ok(_)) = (current, &result) {
        bar.println(format!("{file:>8} {} bytes", bar.length().unwrap_or(0)));
    }
    bar.finish_and_clear();
    Ok(result?)
}

fn print_summary(files: &ChipFiles, written: usize, out: &std::path::Path) {
    print_read_summary(files);
    println!("wrote {written} files to {}", out.display());
    // `verify` reads the aa_challenge / aa_response files written beside the chip files.
    println!(
        "verify:                passport-reader verify {} --trust CSCA.pem",
        out.display()
    );
}

/// What was read and how: access control, chip and active authentication, files not read.
pub fn print_read_summary(files: &ChipFiles) {
    let access = match &files.access_control {
        AccessControl::Bac => "BAC".to_owned(),
        AccessControl::Pace {
            protocol,
            parameter_id,
            can,
        } => format!(
            "PACE {protocol} (parameters {parameter_id}) with the {}",
            if *can { "CAN" } else { "MRZ" }
        ),
    };
    println!("access control:        {access}");
    let ca = match &files.chip_authentication {
        ChipAuthentication::NotSupported => "not supported by the chip (no DG14 key)".to_owned(),
        ChipAuthentication::NotRequested => "not requested".to_owned(),
        ChipAuthentication::Succeeded { protocol } => format!("succeeded ({protocol})"),
        ChipAuthentication::Failed { reason } => format!("FAILED: {reason}"),
    };
    println!("chip authentication:   {ca}");
    match &files.active_authentication {
        None => println!("active authentication: not done (no DG15 or not requested)"),
        Some(aa) => match &aa.response {
            Ok(r) => println!(
                "active authentication: the chip signed the challenge ({} bytes; the verifier checks the signature)",
                r.len()
            ),
            Err(e) => println!("active authentication: FAILED: {e}"),
        },
    }
    if !files.skipped.is_empty() {
        let names: Vec<String> = files.skipped.iter().map(ToString::to_string).collect();
        println!("not read:              {}", names.join(", "));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[derive(Parser)]
    struct VerifyCli {
        #[command(flatten)]
        args: super::super::verify::Args,
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dump-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn dump_of_a_simulated_chip_verifies_with_active_authentication() {
        let doc_dir = temp("doc");
        let out = temp("out");
        let now = time::OffsetDateTime::now_utc();
        let (_, doc) = testdoc::issue_specimen(now).unwrap();
        doc.write_to_dir(&doc_dir).unwrap();
        let lines = doc.mrz_lines();
        let cli = Cli::parse_from([
            "dump",
            "--simulate",
            "pace",
            "--document",
            doc_dir.to_str().unwrap(),
            "--mrz",
            &lines[0],
            &lines[1],
            "--aa-challenge",
            "0102030405060708",
            "--out",
            out.to_str().unwrap(),
        ]);
        run_inner(cli.args).unwrap();
        for name in ["COM", "SOD", "DG1", "DG2", "DG14", "DG15", "CardAccess"] {
            assert_eq!(
                std::fs::read(out.join(name)).unwrap(),
                std::fs::read(doc_dir.join(name)).unwrap(),
                "{name}"
            );
        }
        let response = std::fs::read_to_string(out.join("aa_response")).unwrap();
        let verify = |response: &str| {
            let v = VerifyCli::parse_from([
                "verify",
                out.to_str().unwrap(),
                "--trust",
                doc_dir.join("csca.pem").to_str().unwrap(),
                "--aa-challenge",
                "0102030405060708",
                "--aa-response",
                response.trim(),
            ]);
            super::super::verify::run(v.args)
        };
        assert_eq!(verify(&response), ExitCode::SUCCESS);
        // Another challenge's answer does not verify.
        assert_ne!(verify(&"00".repeat(128)), ExitCode::SUCCESS);
        let _ = std::fs::remove_dir_all(&doc_dir);
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn wrong_key_and_can_on_bac_chip_are_clear_errors() {
        let out = temp("wrong");
        let cli = Cli::parse_from([
            "dump",
            "--simulate",
            "bac",
            "--document-number",
            "X1234567",
            "--date-of-birth",
            "800101",
            "--date-of-expiry",
            "300101",
            "--out",
            out.to_str().unwrap(),
        ]);
        let e = run_inner(cli.args).unwrap_err().to_string();
        assert!(e.contains("refused the access key"), "{e}");
        let cli = Cli::parse_from([
            "dump",
            "--simulate",
            "bac",
            "--can",
            "123456",
            "--out",
            out.to_str().unwrap(),
        ]);
        let e = run_inner(cli.args).unwrap_err().to_string();
        assert!(e.contains("CAN only works with PACE"), "{e}");
        assert!(!out.exists());
    }

    #[test]
    fn exactly_one_access_key() {
        assert!(Cli::try_parse_from(["dump", "--simulate", "pace", "--out", "x"]).is_err());
        assert!(
            Cli::try_parse_from([
                "dump",
                "--can",
                "1",
                "--document-number",
                "A",
                "--date-of-birth",
                "1",
                "--date-of-expiry",
                "2",
                "--out",
                "x"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["dump", "--document-number", "A", "--out", "x"]).is_err());
        assert!(
            Cli::try_parse_from([
                "dump",
                "--can",
                "1",
                "--reader",
                "r",
                "--simulate",
                "pace",
                "--out",
                "x"
            ])
            .is_err()
        );
        assert!(
            Cli::try_parse_from(["dump", "--can", "1", "--document", "d", "--out", "x"]).is_err()
        );
        assert!(Cli::try_parse_from(["dump", "--mrz", "A", "B", "--out", "x"]).is_ok());
    }
}
