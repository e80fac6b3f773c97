//! End to end through PC/SC: pcscd with vsmartcard's vpcd driver, the virtual chip connected to
//! vpcd's second slot (port 35964, reader "Virtual PCD 00 01"), and the reader's PcscTransport.
//! Skips with a notice when pcscd or the vpcd driver is not installed; `.ci/run` installs both.

use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reader::{
    AccessKey, ChipAuthentication, PcscTransport, ReadOptions, Transport, TransportError,
    list_readers,
};
use virtual_chip::{Profile, VirtualChip, vpcd};

use crate::helpers::*;

const PORT: u16 = 35964;
const READER: &str = "Virtual PCD 00 01";

/// pcscd, started by this test if it was not running (and stopped again when dropped).
struct Pcscd(Option<Child>);

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            // SIGTERM, so that pcscd removes its socket and pid file (SIGKILL leaves them stale).
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

/// Written to the process' stderr directly, past the test harness' output capture, so the skip
/// shows in a normal `cargo test` run.
fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED pcscd end-to-end test: {why}");
}

fn ensure_pcscd() -> Result<Pcscd, String> {
    if !std::path::Path::new("/etc/reader.conf.d/vpcd").exists() {
        return Err("the vpcd driver is not configured (apt-get install vsmartcard-vpcd)".into());
    }
    match list_readers() {
        Ok(r) if r.iter().any(|r| r.name == READER) => return Ok(Pcscd(None)),
        Ok(_) | Err(TransportError::NoReader) => {
            return Err(format!(
                "pcscd is running without the {READER} reader of vpcd"
            ));
        }
        Err(TransportError::ServiceUnavailable(_)) => {}
        Err(e) => return Err(format!("pcscd answers but: {e}")),
    }
    let child = Command::new("pcscd")
        .arg("--foreground")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("pcscd is not running and cannot be started: {e}"))?;
    let guard = Pcscd(Some(child));
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if list_readers().is_ok_and(|r| r.iter().any(|r| r.name == READER)) {
            return Ok(guard);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err("pcscd started but the vpcd reader did not appear (not running as root?)".into())
}

/// Connects a chip to vpcd; returns a handle to cut the connection (the card leaves).
fn insert(chip: VirtualChip) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", PORT)).unwrap();
    let control = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut chip = chip;
        let _ = vpcd::serve(stream, &mut chip, false);
    });
    control
}

fn wait_for_card(present: bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let now = list_readers()
            .unwrap()
            .iter()
            .any(|r| r.name == READER && r.card_present);
        if now == present {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the card did not become present={present} on {READER}");
}

/// Cuts the vpcd connection after `n` APDUs.
struct Removing {
    inner: PcscTransport,
    control: TcpStream,
    left: usize,
}

impl Transport for Removing {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.left == 0 {
            let _ = self.control.shutdown(Shutdown::Both);
            std::thread::sleep(Duration::from_millis(300));
        }
        self.left = self.left.saturating_sub(1);
        self.inner.transmit(command)
    }
}

#[test]
fn read_through_pcscd_and_vpcd() {
    let _pcscd = match ensure_pcscd() {
        Ok(p) => p,
        Err(why) => return skip(&why),
    };
    let readers = list_readers().unwrap();
    assert!(readers.iter().any(|r| r.name == READER), "{readers:?}");

    // No card on the reader yet.
    wait_for_card(false);
    assert_eq!(
        PcscTransport::connect(Some(READER)).unwrap_err(),
        TransportError::NoCard
    );
    assert_eq!(
        PcscTransport::connect(Some("No Such Reader 00 00")).unwrap_err(),
        TransportError::UnknownReader("No Such Reader 00 00".into())
    );

    // A full read (PACE with the CAN, extended length, chip and active authentication).
    let doc = document(Profile::Pace);
    let control = insert(VirtualChip::for_profile(doc, Profile::Pace).unwrap());
    wait_for_card(true);
    let mut t = PcscTransport::connect(Some(READER)).unwrap();
    let files = read(&mut t, &AccessKey::can(CAN).unwrap(), &with_aa()).unwrap();
    assert_files(&files, doc);
    assert!(
        files.block_size > 1000,
        "extended length through PC/SC: {}",
        files.block_size
    );
    assert!(matches!(
        files.chip_authentication,
        ChipAuthentication::Succeeded { .. }
    ));
    let aa = files.active_authentication.unwrap();
    assert!(rsa_aa_verifies(
        doc,
        &aa.challenge,
        aa.response.as_ref().unwrap()
    ));
    drop(t);
    let _ = control.shutdown(Shutdown::Both);
    wait_for_card(false);

    // The card leaves the field in the middle of the read.
    let control = insert(VirtualChip::for_profile(doc, Profile::Pace).unwrap());
    wait_for_card(true);
    let mut t = Removing {
        inner: PcscTransport::connect(Some(READER)).unwrap(),
        control,
        left: 12,
    };
    let err = read(&mut t, &mrz_key(doc), &ReadOptions::default()).unwrap_err();
    assert!(err.is_card_removed(), "{err:?}");
    wait_for_card(false);
}
