//! `passport-reader read`: the holder's reading client. By default it opens the server's APDU
//! relay with the session's token and carries the server's commands to the chip (the server runs
//! access control, chip and active authentication and the reading itself); with
//! `--client-side` it reads the chip itself and submits the files (`reader.start`,
//! `reader.submit`). Prints the session's outcome.

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
        hide_env_values = true,
        // Tokens are base64url: one in 64 starts with '-', which must not read as a flag.
        allow_hyphen_values = true
    )]
    token: String,
    #[command(flatten)]
    chip: ChipArgs,
    /// A selfie (JPEG or PNG) for a session that asks for face verification.
    #[arg(long, value_name = "FILE")]
    selfie: Option<PathBuf>,
    /// Read the chip here and submit its files (reader.submit), instead of relaying APDUs for
    /// the server. The server then cannot prove chip authentication itself: only active
    /// authentication proves the chip genuine.
    #[arg(long)]
    client_side: bool,
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
    if args.chip.simulate.is_some() && args.chip.document.is_none() {
        eprintln!(
            "note: without --document the simulated chip holds a specimen signed by a fresh test \
             CSCA that the server does not trust, so expect REJECTED (NO_TRUSTED_CSCA); make one \
             with `passport-reader testdoc create --out DIR`, `trust import DIR/csca.pem`, then \
             `--document DIR`"
        );
    }
    if args.client_side {
        return read_client_side(args, &key, &key_fields, selfie);
    }
    if args.chip.bac || args.chip.no_ca || args.chip.block_size.is_some() {
        bail!(
            "--bac, --no-ca and --block-size apply to --client-side reads: over the relay the \
             server chooses the protocols"
        );
    }
    let mut transport = open_transport(&args.chip)?;
    let options = reader::RelayOptions {
        // Both transports here reset the card, and the server falls back to short commands
        // when the reader cannot carry an extended one.
        extended_length: true,
        can_reset: true,
        max_response_apdu: None,
        selfie,
        client_name: "passport-reader".into(),
        client_version: env!("CARGO_PKG_VERSION").into(),
    };
    eprintln!("relaying the chip for the server at {} …", args.server);
    let outcome = relay_with_progress(
        &args.server,
        &args.token,
        &key_fields,
        &mut transport,
        &options,
    )?;
    eprintln!("{} APDUs relayed", outcome.apdus);
    match &outcome.rejection_reason {
        Some(reason) => println!(
            "session {}: {} ({reason})",
            outcome.session_id, outcome.state
        ),
        None => println!("session {}: {}", outcome.session_id, outcome.state),
    }
    Ok(outcome.state)
}

/// The relay, with the server's progress on a progress bar.
fn relay_with_progress(
    server: &str,
    token: &str,
    key: &AccessKeyFields,
    transport: &mut dyn reader::Transport,
    options: &reader::RelayOptions,
) -> anyhow::Result<reader::RelayOutcome> {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut current: Option<String> = None;
    let result = reader::relay(server, token, key, transport, options, &mut |p| {
        if let Some(step) = &p.step {
            bar.println(format!("{step} …"));
        }
        if let (Some(file), Some(read), Some(total)) = (&p.file, p.read, p.total) {
            if current.as_deref() != Some(file) {
                if let Some(previous) = &current {
                    bar.println(format!("{previous:>8} {} bytes", bar.length().unwrap_or(0)));
                }
                current = Some(file.clone());
                bar.set_message(file.clone());
                bar.set_length(total);
            }
            bar.set_position(read);
        }
    });
    if let (Some(file), Ok(_)) = (&current, &result) {
        bar.println(format!("{file:>8} {} bytes", bar.length().unwrap_or(0)));
    }
    bar.finish_and_clear();
    Ok(result?)
}

/// The `--client-side` read: `reader.start`, the read here, `reader.submit`.
fn read_client_side(
    args: &Args,
    key: &reader::AccessKey,
    key_fields: &AccessKeyFields,
    selfie: Option<Vec<u8>>,
) -> anyhow::Result<String> {
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
    let files = read_with_progress(&mut transport, key, &options)?;
    print_read_summary(&files);
    eprintln!("submitting to {} …", args.server);
    let selfie = if session.face_verification {
        selfie.as_deref()
    } else {
        None
    };
    let outcome = client.submit(&files, key_fields, selfie)?;
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
        return Ok(AccessKeyFields::Mrz(reader::MrzKey {
            document_number: mrz.document_number,
            date_of_birth: mrz.date_of_birth,
            date_of_expiry: mrz.date_of_expiry,
        }));
    }
    if let (Some(n), Some(b), Some(e)) = (
        &args.document_number,
        &args.date_of_birth,
        &args.date_of_expiry,
    ) {
        return Ok(AccessKeyFields::Mrz(reader::MrzKey {
            document_number: n.clone(),
            date_of_birth: b.clone(),
            date_of_expiry: e.clone(),
        }));
    }
    if let Some(can) = &args.can {
        return Ok(AccessKeyFields::Can(reader::CanKey { can: can.clone() }));
    }
    bail!("give --mrz, --document-number with the dates, or --can")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::path::Path;
    use std::sync::mpsc;

    use clap::Parser;
    use server::{Application, Settings};
    use virtual_chip::Profile;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    struct Server {
        base_url: String,
        public_key: String,
        secret: String,
    }

    /// A real server on a free port, in its own thread and runtime (the reading client is
    /// blocking), with an account, a credential pair and the given CSCAs imported.
    fn start_server(data_dir: &Path, cscas: Vec<Vec<u8>>) -> Server {
        let (tx, rx) = mpsc::channel();
        let settings = Settings::for_test(data_dir);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let app = Application::build(settings).await.unwrap();
                let (store, clock) = (app.store().clone(), app.clock().clone());
                server::accounts::create_account(
                    &store,
                    &clock,
                    "reader@example.com",
                    "a long test password",
                )
                .await
                .unwrap();
                let pair = server::accounts::create_credentials(
                    &store,
                    &clock,
                    "reader@example.com",
                    None,
                )
                .await
                .unwrap();
                for pem in cscas {
                    server::trust::import_file(&store, &pem, clock.now())
                        .await
                        .unwrap();
                }
                tx.send(Server {
                    base_url: app.base_url(),
                    public_key: pair.public_key,
                    secret: pair.secret,
                })
                .unwrap();
                app.run().await.unwrap();
            });
        });
        rx.recv().unwrap()
    }

    fn create_session(server: &Server) -> String {
        let response: serde_json::Value = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/session.create", server.base_url))
            .basic_auth(&server.public_key, Some(&server.secret))
            .json(&serde_json::json!({}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        response["token"].as_str().unwrap().to_owned()
    }

    /// One token in 64 starts with '-' (base64url): it is still the token, not a flag.
    #[test]
    fn a_token_starting_with_a_hyphen_is_a_value() {
        let cli = Cli::parse_from(["read", "--token", "-Dx_-9", "--can", "123456"]);
        assert_eq!(cli.args.token, "-Dx_-9");
    }

    /// `read --simulate PROFILE` against a real server: every genuine profile is APPROVED, the
    /// clone (no chip private keys) is REJECTED because it cannot prove it is the original chip.
    #[test]
    fn read_simulate_completes_sessions_for_every_profile() {
        let root = std::env::temp_dir().join(format!("read-e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let now = time::OffsetDateTime::now_utc();
        let mut documents = Vec::new();
        let mut cscas = Vec::new();
        for profile in [Profile::Bac, Profile::Pace, Profile::PaceCa, Profile::Clone] {
            let (csca, doc) = virtual_chip::issue_document(profile, now).unwrap();
            let dir = root.join(profile.name());
            doc.write_to_dir(&dir).unwrap();
            cscas.push(csca.pem().unwrap().into_bytes());
            documents.push((profile, dir, doc.mrz_lines().to_vec()));
        }
        let server = start_server(&root.join("data"), cscas);
        for (profile, dir, mrz) in &documents {
            let token = create_session(&server);
            let cli = Cli::parse_from([
                "read",
                "--server",
                &server.base_url,
                "--token",
                &token,
                "--simulate",
                profile.name(),
                "--document",
                dir.to_str().unwrap(),
                "--mrz",
                &mrz[0],
                &mrz[1],
            ]);
            let state = run_inner(&cli.args).unwrap();
            let expected = if *profile == Profile::Clone {
                "REJECTED"
            } else {
                "APPROVED"
            };
            assert_eq!(state, expected, "profile {}", profile.name());
            // The token is spent: a second read is refused by the server.
            let again = run_inner(&cli.args).unwrap_err().to_string();
            assert!(again.contains("SessionFinished"), "{again}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Chips that behave unlike ours, as real ones do (`virtual_chip::Quirk`), with the state
    /// the server gives a genuine document read from each: a chip that refuses the chip
    /// authentication its DG14 declares is not proven genuine, so it is REJECTED.
    fn chips_not_ours() -> Vec<(Vec<&'static str>, &'static str)> {
        vec![
            // The field report: BAC only, CA refused with '6D00' inside SM under an outer
            // '9000', '6988' to a plain command during SM.
            (
                vec!["no-pace", "refuse-ca=6D00", "outer-9000", "plain-ends-sm"],
                "REJECTED",
            ),
            (
                vec!["refuse-ca=6A80", "error-ends-sm", "plain-ends-sm"],
                "REJECTED",
            ),
            (vec!["refuse-ca=6A88"], "REJECTED"),
            (vec!["get-response=64", "le-correction"], "APPROVED"),
            (
                vec!["short-only", "plain-ends-sm", "error-ends-sm"],
                "APPROVED",
            ),
            (vec!["slow=15"], "APPROVED"),
        ]
    }

    #[derive(Parser)]
    struct DumpCli {
        #[command(flatten)]
        args: super::super::dump::Args,
    }

    /// `dump` of the chip reached with `how` (`--simulate pace …` or `--reader NAME`) into
    /// `out`, then the files compared with the document's.
    fn dump_and_compare(how: &[&str], mrz: &[String], out: &Path, doc_dir: &Path) {
        let _ = std::fs::remove_dir_all(out);
        let mut argv = vec!["dump"];
        argv.extend_from_slice(how);
        argv.extend(["--mrz", &mrz[0], &mrz[1], "--out", out.to_str().unwrap()]);
        let dump = DumpCli::parse_from(&argv);
        assert_eq!(
            super::super::dump::run(dump.args),
            ExitCode::SUCCESS,
            "{argv:?}"
        );
        for name in ["COM", "SOD", "DG1", "DG2", "DG14", "DG15"] {
            assert_eq!(
                std::fs::read(out.join(name)).unwrap(),
                std::fs::read(doc_dir.join(name)).unwrap(),
                "{name} of {argv:?}"
            );
        }
    }

    /// `dump` and `read` (in process) of each chip that behaves unlike ours.
    #[test]
    fn dump_and_read_chips_not_ours() {
        let root = std::env::temp_dir().join(format!("read-quirks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (csca, doc) =
            virtual_chip::issue_document(Profile::Pace, time::OffsetDateTime::now_utc()).unwrap();
        let doc_dir = root.join("doc");
        doc.write_to_dir(&doc_dir).unwrap();
        let mrz = doc.mrz_lines().to_vec();
        let server = start_server(&root.join("data"), vec![csca.pem().unwrap().into_bytes()]);
        for (quirks, expected) in chips_not_ours() {
            let mut how = vec![
                "--simulate",
                "pace",
                "--document",
                doc_dir.to_str().unwrap(),
            ];
            for q in &quirks {
                how.extend(["--quirk", q]);
            }
            dump_and_compare(&how, &mrz, &root.join("dump"), &doc_dir);
            let token = create_session(&server);
            let mut argv = vec!["read", "--server", &server.base_url, "--token", &token];
            argv.extend_from_slice(&how);
            argv.extend(["--mrz", &mrz[0], &mrz[1]]);
            let cli = Cli::parse_from(&argv);
            assert_eq!(run_inner(&cli.args).unwrap(), expected, "{quirks:?}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// pcscd with vsmartcard's vpcd driver, started here if it is not running; `None` (with a
    /// notice past the output capture) where the driver is not installed.
    fn pcscd_with_vpcd(reader_name: &str) -> Option<Option<std::process::Child>> {
        use std::io::Write;
        let skip = |why: &str| {
            let _ = writeln!(std::io::stderr(), "SKIPPED CLI-through-pcscd test: {why}");
            None
        };
        if !Path::new("/etc/reader.conf.d/vpcd").exists() {
            return skip(
                "the vpcd driver is not configured (apt-get install pcscd vsmartcard-vpcd)",
            );
        }
        let has_reader =
            || reader::list_readers().is_ok_and(|r| r.iter().any(|r| r.name == reader_name));
        if has_reader() {
            return Some(None);
        }
        let child = std::process::Command::new("pcscd")
            .arg("--foreground")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..50 {
            if has_reader() {
                return Some(Some(child));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        skip("pcscd started but the vpcd reader did not appear (not root?)")
    }

    /// Connects `chip` to vpcd's second slot and waits for the card; returns the connection,
    /// whose shutdown takes the card away.
    fn insert_into_vpcd(chip: virtual_chip::VirtualChip, reader_name: &str) -> std::net::TcpStream {
        let stream = std::net::TcpStream::connect(("127.0.0.1", 35964)).unwrap();
        let control = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut chip = chip;
            let _ = virtual_chip::vpcd::serve(stream, &mut chip, false);
        });
        wait_for_card(reader_name, true);
        control
    }

    /// Waits (up to 10 s) until the reader shows a card, or none.
    fn wait_for_card(reader_name: &str, present: bool) {
        for _ in 0..100 {
            if reader::list_readers()
                .unwrap()
                .iter()
                .any(|r| r.name == reader_name && r.card_present)
                == present
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the card did not become present={present} on {reader_name}");
    }

    /// The CLI's `readers`, `dump` and `read` through the real PC/SC stack: pcscd, the vpcd
    /// driver, and the virtual chip connected to vpcd's second slot.
    #[test]
    fn readers_dump_and_read_through_pcscd() {
        const READER: &str = "Virtual PCD 00 01";
        let Some(mut pcscd) = pcscd_with_vpcd(READER) else {
            return;
        };
        let root = std::env::temp_dir().join(format!("read-pcscd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (csca, doc) =
            virtual_chip::issue_document(Profile::Pace, time::OffsetDateTime::now_utc()).unwrap();
        let doc_dir = root.join("doc");
        doc.write_to_dir(&doc_dir).unwrap();
        let control = insert_into_vpcd(
            virtual_chip::VirtualChip::for_profile(&doc, Profile::Pace).unwrap(),
            READER,
        );
        assert_eq!(
            super::super::readers::run(super::super::readers::Args {}),
            ExitCode::SUCCESS
        );

        let mrz = doc.mrz_lines().to_vec();
        #[derive(Parser)]
        struct VerifyCli {
            #[command(flatten)]
            args: super::super::verify::Args,
        }
        let out = root.join("dump");
        let dump = DumpCli::parse_from([
            "dump",
            "--reader",
            READER,
            "--mrz",
            &mrz[0],
            &mrz[1],
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(super::super::dump::run(dump.args), ExitCode::SUCCESS);
        let csca_path = root.join("csca.pem");
        std::fs::write(&csca_path, csca.pem().unwrap()).unwrap();
        let verify = VerifyCli::parse_from([
            "verify",
            out.to_str().unwrap(),
            "--trust",
            csca_path.to_str().unwrap(),
        ]);
        assert_eq!(
            super::super::verify::run(verify.args),
            ExitCode::SUCCESS,
            "the dump verifies, AA included"
        );

        let (bac_csca, bac_doc) =
            virtual_chip::issue_document(Profile::Bac, time::OffsetDateTime::now_utc()).unwrap();
        let server = start_server(
            &root.join("data"),
            vec![
                csca.pem().unwrap().into_bytes(),
                bac_csca.pem().unwrap().into_bytes(),
            ],
        );
        let read_with = |token: &str, mrz: &[String]| {
            let cli = Cli::parse_from([
                "read",
                "--server",
                &server.base_url,
                "--token",
                token,
                "--reader",
                READER,
                "--mrz",
                &mrz[0],
                &mrz[1],
            ]);
            run_inner(&cli.args)
        };
        let token = create_session(&server);
        assert_eq!(read_with(&token, &mrz).unwrap(), "APPROVED");
        let _ = control.shutdown(std::net::Shutdown::Both);
        wait_for_card(READER, false);

        // Chips that behave unlike ours, through the same stack: `dump` and `read` of each.
        for (quirks, expected) in chips_not_ours() {
            let config = quirks.iter().fold(
                virtual_chip::ChipConfig::for_profile(Profile::Pace),
                |c, q| c.with_quirk(q.parse().unwrap()),
            );
            let contents = virtual_chip::ChipContents::from_test_document(&doc, "123456").unwrap();
            let chip = virtual_chip::VirtualChip::new(contents, config).unwrap();
            let control = insert_into_vpcd(chip, READER);
            dump_and_compare(&["--reader", READER], &mrz, &root.join("dump"), &doc_dir);
            let token = create_session(&server);
            let state = read_with(&token, &mrz).unwrap();
            assert_eq!(state, expected, "{quirks:?} through pcscd");
            let _ = control.shutdown(std::net::Shutdown::Both);
            wait_for_card(READER, false);
        }

        // Over the relay through pcscd: a BAC + AA chip; a mistyped key (the session waits for
        // another read); the card leaving the field in the middle of the read.
        let control = insert_into_vpcd(
            virtual_chip::VirtualChip::for_profile(&bac_doc, Profile::Bac).unwrap(),
            READER,
        );
        let token = create_session(&server);
        assert_eq!(read_with(&token, bac_doc.mrz_lines()).unwrap(), "APPROVED");
        let _ = control.shutdown(std::net::Shutdown::Both);
        wait_for_card(READER, false);

        let control = insert_into_vpcd(
            virtual_chip::VirtualChip::for_profile(&doc, Profile::Pace).unwrap(),
            READER,
        );
        let token = create_session(&server);
        let wrong = [
            mrz[0].clone(),
            format!("{}010101{}", &mrz[1][..13], &mrz[1][19..]),
        ];
        let error = read_with(&token, &wrong).unwrap_err().to_string();
        assert!(error.contains("AccessDenied"), "{error}");
        assert_eq!(
            read_with(&token, &mrz).unwrap(),
            "APPROVED",
            "the same token, right key"
        );
        let _ = control.shutdown(std::net::Shutdown::Both);
        wait_for_card(READER, false);

        let slow = virtual_chip::ChipConfig::for_profile(Profile::Pace)
            .with_quirk("slow=40".parse().unwrap());
        let contents = virtual_chip::ChipContents::from_test_document(&doc, "123456").unwrap();
        let control = insert_into_vpcd(
            virtual_chip::VirtualChip::new(contents, slow).unwrap(),
            READER,
        );
        let token = create_session(&server);
        let cut = control.try_clone().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let _ = cut.shutdown(std::net::Shutdown::Both);
        });
        let error = read_with(&token, &mrz).unwrap_err().to_string();
        assert!(error.contains("CardRemoved"), "{error}");
        wait_for_card(READER, false);

        if let Some(child) = pcscd.as_mut() {
            // SIGTERM, so that pcscd removes its socket and pid file (SIGKILL leaves them stale).
            let _ = std::process::Command::new("kill")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
