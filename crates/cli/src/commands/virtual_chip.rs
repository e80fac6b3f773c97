//! `passport-reader virtual-chip --vpcd`: serves a simulated passport chip to PC/SC through
//! vsmartcard's virtual reader driver (vpcd), until killed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use virtual_chip::{ChipConfig, ChipContents, LinkModel, Profile, Quirk, VirtualChip, vpcd};

pub use virtual_chip::DEFAULT_CAN;

/// Serve a simulated ePassport chip to PC/SC through vsmartcard's vpcd.
#[derive(clap::Args)]
pub struct Args {
    /// vpcd's address (the virtual reader listens, the chip connects).
    #[arg(long, value_name = "HOST:PORT", num_args = 0..=1, default_missing_value = "localhost:35963", required = true)]
    vpcd: Option<String>,
    /// Chip profile: bac (BAC + AA), pace (PACE and BAC, CA, AA), pace-ca (PACE, CA, no AA),
    /// clone (same files, no chip private keys).
    #[arg(long, value_name = "PROFILE", default_value = "pace")]
    profile: Profile,
    /// A document folder written by `passport-reader testdoc create` [default: a fresh
    /// specimen fitting the profile].
    #[arg(long, value_name = "DIR")]
    document: Option<PathBuf>,
    /// The chip's Card Access Number.
    #[arg(long, default_value = DEFAULT_CAN)]
    can: String,
    /// Model a link of this many kbit/s and sleep accordingly before each answer.
    #[arg(long, value_name = "KBPS")]
    link_kbps: Option<u64>,
    /// Per-APDU latency in milliseconds, with --link-kbps (default 5).
    #[arg(long, value_name = "MS", requires = "link_kbps")]
    latency_ms: Option<u64>,
    /// Behave as some real chips do (repeat for several): refuse-ca=6D00|6A80|6A88 (DG14
    /// declares chip authentication, the chip refuses it inside secure messaging), outer-9000
    /// (errors inside DO'99' under an outer '9000'), plain-ends-sm ('6988' to a plain command
    /// during secure messaging), error-ends-sm (any error ends secure messaging),
    /// get-response=N (answers through GET RESPONSE, N bytes at a time), le-correction ('6Cxx'
    /// when Le asks for more than there is), slow=MS, short-only (no extended length), no-pace.
    #[arg(long, value_name = "QUIRK")]
    quirk: Vec<Quirk>,
}

/// The chip for a profile: the document folder's files and keys, or a fresh specimen; the clone
/// profile drops the private keys. Also returns a line describing the chip's access keys.
pub fn simulated_chip(
    profile: Profile,
    document: Option<&Path>,
    can: &str,
    quirks: &[Quirk],
) -> anyhow::Result<(VirtualChip, String)> {
    let (mut contents, mrz_lines) = match document {
        Some(dir) => {
            let contents = ChipContents::load_dir(dir, can)
                .with_context(|| format!("cannot load the document in {}", dir.display()))?;
            let mrz = std::fs::read_to_string(dir.join("mrz.txt")).unwrap_or_default();
            (contents, mrz.lines().map(str::to_owned).collect::<Vec<_>>())
        }
        None => {
            let (_, doc) = virtual_chip::issue_document(profile, time::OffsetDateTime::now_utc())
                .context("cannot issue a specimen document")?;
            let contents = ChipContents::from_test_document(&doc, can)?;
            (contents, doc.mrz_lines().to_vec())
        }
    };
    if profile == Profile::Clone {
        contents.aa_private_key = None;
        contents.ca_private_key = None;
    }
    let config = quirks
        .iter()
        .fold(ChipConfig::for_profile(profile), |c, q| c.with_quirk(*q));
    let chip = VirtualChip::new(contents, config)?;
    let mut describe = format!(
        "profile {profile}; MRZ {}; CAN {can}",
        mrz_lines.join(" / ")
    );
    if !quirks.is_empty() {
        let names: Vec<String> = quirks.iter().map(Quirk::to_string).collect();
        describe.push_str(&format!("; quirks {}", names.join(", ")));
    }
    Ok((chip, describe))
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

fn run_inner(args: Args) -> anyhow::Result<()> {
    let addr = args
        .vpcd
        .unwrap_or_else(|| format!("localhost:{}", vpcd::DEFAULT_PORT));
    let (mut chip, describe) = simulated_chip(
        args.profile,
        args.document.as_deref(),
        &args.can,
        &args.quirk,
    )?;
    let real_time = args.link_kbps.is_some();
    if let Some(kbps) = args.link_kbps {
        let mut config = chip.config().clone();
        config.link = Some(LinkModel {
            bits_per_second: kbps * 1000,
            per_apdu: Duration::from_millis(args.latency_ms.unwrap_or(5)),
        });
        chip = VirtualChip::new(chip.contents().clone(), config)?;
    }
    eprintln!("virtual chip: {describe}");
    let mut waiting_reported = false;
    loop {
        match vpcd::connect_and_serve(&addr, &mut chip, real_time) {
            Ok(summary) => {
                eprintln!(
                    "vpcd at {addr} closed the connection after {} APDUs; reconnecting",
                    summary.apdus
                );
                waiting_reported = false;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                if !waiting_reported {
                    eprintln!(
                        "waiting for vpcd at {addr} (is pcscd running with the vpcd driver of vsmartcard-vpcd?)"
                    );
                    waiting_reported = true;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(e).with_context(|| format!("bad vpcd address {addr}"));
            }
            // vpcd went away (pcscd restarted): serve again when it is back.
            Err(e) => {
                eprintln!("vpcd at {addr}: {e}; reconnecting");
                waiting_reported = false;
            }
        }
        chip.reset();
        std::thread::sleep(Duration::from_millis(500));
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

    #[test]
    fn vpcd_address_defaults_and_profiles_parse() {
        let cli = Cli::parse_from(["virtual-chip", "--vpcd", "--profile", "pace-ca"]);
        assert_eq!(cli.args.vpcd.as_deref(), Some("localhost:35963"));
        assert_eq!(cli.args.profile, Profile::PaceCa);
        let cli = Cli::parse_from(["virtual-chip", "--vpcd", "10.0.0.2:35964"]);
        assert_eq!(cli.args.vpcd.as_deref(), Some("10.0.0.2:35964"));
        assert_eq!(cli.args.profile, Profile::Pace);
        assert!(Cli::try_parse_from(["virtual-chip", "--profile", "pace"]).is_err());
        assert!(Cli::try_parse_from(["virtual-chip", "--vpcd", "--profile", "cam"]).is_err());
        assert!(Cli::try_parse_from(["virtual-chip", "--vpcd", "--latency-ms", "3"]).is_err());
    }

    #[test]
    fn document_folder_chip_and_its_clone() {
        let dir = std::env::temp_dir().join(format!("virtual-chip-cli-{}", std::process::id()));
        let (_, doc) = testdoc::issue_specimen(time::OffsetDateTime::now_utc()).unwrap();
        doc.write_to_dir(&dir).unwrap();
        let (chip, describe) = simulated_chip(Profile::Pace, Some(&dir), "654321", &[]).unwrap();
        assert!(chip.contents().aa_private_key.is_some());
        assert!(chip.contents().ca_private_key.is_some());
        assert_eq!(chip.contents().files.len(), doc.files.len());
        assert!(describe.contains("CAN 654321") && describe.contains(&doc.mrz_lines()[1]));
        let (clone, _) = simulated_chip(Profile::Clone, Some(&dir), "654321", &[]).unwrap();
        assert!(clone.contents().aa_private_key.is_none());
        assert!(clone.contents().ca_private_key.is_none());
        assert!(simulated_chip(Profile::Pace, Some(&dir.join("missing")), "1", &[]).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
