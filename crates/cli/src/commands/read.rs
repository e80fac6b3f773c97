//! `passport-reader read`: the holder's reading client. Starts the session with its token, reads
//! the chip (answering the server's active-authentication challenge), submits everything to the
//! server and prints the session's outcome.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use icao9303::mrz::Mrz;
use reader::{AccessKeyFields, SessionClient};

use super::dump::{
    ChipArgs, access_key, open_transport, print_read_summary, read_options, read_with_progress,
};

/// Read a passport's chip for a verification session and submit it to the server.
///
/// Exit status: 0 when the session ends APPROVED, 1 when it ends otherwise (REJECTED, FAILED…),
/// 2 when the chip could not be read or the server could not be reached.
#[derive(clap::Args)]
pub struct Args {
    /// The service's base URL.
    #[arg(
        long,
        env = "PASSPORT_READER_SERVER",
        default_value = "http://127.0.0.1:4000",
        value_name = "URL"
    )]
    server: String,
    /// The session token (`token` from session.create; also the `token=` of the /open link).
    #[arg(
        long,
        env = "PASSPORT_READER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: String,
    #[command(flatten)]
    chip: ChipArgs,
    /// A selfie (JPEG or PNG) for a session that asks for face verification.
    #[arg(long, value_name = "FILE")]
    selfie: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    match run_inner(&args) {
        Ok(state) if state == "APPROVED" => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &Args) -> anyhow::Result<String> {
    let key = access_key(&args.chip)?;
    let key_fields = access_key_fields(&args.chip)?;
    let selfie = match &args.selfie {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("cannot read the selfie {}", path.display()))?,
        ),
        None => None,
    };
    let client = SessionClient::new(&args.server, &args.token)?;
    let session = client.start()?;
    eprintln!("session {}: {}", session.session_id, session.state);
    if session.face_verification && selfie.is_none() {
        bail!(
            "this session asks for face verification: give a photo of your face with --selfie FILE"
        );
    }
    let mut transport = open_transport(&args.chip)?;
    let options = read_options(&args.chip, Some(session.aa_challenge));
    let files = read_with_progress(&mut transport, &key, &options)?;
    print_read_summary(&files);
    eprintln!("submitting to {} …", args.server);
    let selfie = if session.face_verification {
        selfie.as_deref()
    } else {
        None
    };
    let outcome = client.submit(&files, &key_fields, selfie)?;
    match &outcome.rejection_reason {
        Some(reason) => println!("session state:         {} ({reason})", outcome.state),
        None => println!("session state:         {}", outcome.state),
    }
    Ok(outcome.state)
}

/// The access key as the server's consistency check wants it: the MRZ's document number and
/// dates (YYMMDD), or the CAN.
fn access_key_fields(args: &ChipArgs) -> anyhow::Result<AccessKeyFields> {
    if let Some(lines) = &args.mrz {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
        let mrz = Mrz::parse_lines(&lines).map_err(|e| anyhow::anyhow!("--mrz: {e}"))?;
        return Ok(AccessKeyFields::Mrz {
            document_number: mrz.document_number,
            date_of_birth: mrz.date_of_birth,
            date_of_expiry: mrz.date_of_expiry,
        });
    }
    if let (Some(n), Some(b), Some(e)) = (
        &args.document_number,
        &args.date_of_birth,
        &args.date_of_expiry,
    ) {
        return Ok(AccessKeyFields::Mrz {
            document_number: n.clone(),
            date_of_birth: b.clone(),
            date_of_expiry: e.clone(),
        });
    }
    if let Some(can) = &args.can {
        return Ok(AccessKeyFields::Can(can.clone()));
    }
    bail!("give --mrz, --document-number with the dates, or --can")
}
