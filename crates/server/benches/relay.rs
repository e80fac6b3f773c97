//! A full read over the APDU relay, with the client adding 0, 20, 50 and 100 ms to every round
//! trip, against the same chip read locally (no relay) in the same run, and against the physical
//! limit of a real link: APDUs × round trip + bytes at 424 kbit/s (ISO/IEC 14443's fastest
//! common rate). The client sleeps for both (the virtual chip itself answers at once), so what
//! is left above the limit is the relay's and the server's own cost (verification included:
//! passive and active authentication run before the result).
//!
//! Run: `cargo bench -p passport-reader-server --bench relay` (release build; a few minutes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use reader::{AccessKeyFields, RelayOptions, Transport, TransportError};
use serde_json::Value;
use server::{Application, Settings, accounts};
use virtual_chip::VirtualTransport;
use virtual_chip::{Profile, VirtualChip};

/// The client's transport: sleeps per command for the network's round trip `rtt` (between it
/// and the server) and for the card link's time of the bytes, and counts the bytes.
struct Delayed {
    inner: VirtualTransport,
    rtt: Duration,
    bytes: usize,
}

impl Transport for Delayed {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = self.inner.transmit(command)?;
        let bytes = command.len() + response.len();
        self.bytes += bytes;
        // The network's round trip, and the card link's time for these bytes.
        std::thread::sleep(self.rtt + link_time(bytes));
        Ok(response)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.inner.reset()
    }
}

const LINK_BITS_PER_SECOND: f64 = 424_000.0;

fn link_time(bytes: usize) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 8.0 / LINK_BITS_PER_SECOND)
}
const RUNS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::for_test(dir.path());
    let (base, store, clock) = runtime.block_on(async {
        let app = Application::build(settings).await.unwrap();
        let base = app.base_url();
        let store = app.store().clone();
        let clock = app.clock().clone();
        tokio::spawn(app.run());
        (base, store, clock)
    });
    let now = time::OffsetDateTime::now_utc();
    let (csca, doc) = virtual_chip::issue_document(Profile::Pace, now).unwrap();
    let creds = runtime.block_on(async {
        server::trust::import_file(&store, csca.pem().unwrap().as_bytes(), clock.now())
            .await
            .unwrap();
        accounts::create_account(&store, &clock, "bench@example.com", "a long bench password")
            .await
            .unwrap();
        accounts::create_credentials(&store, &clock, "bench@example.com", None)
            .await
            .unwrap()
    });
    let http = reqwest::blocking::Client::new();
    let new_token = || -> String {
        let v: Value = http
            .post(format!("{base}/api/v1/session.create"))
            .basic_auth(&creds.public_key, Some(&creds.secret))
            .json(&serde_json::json!({}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
    let mrz = icao9303::mrz::Mrz::parse_lines(&lines).unwrap();
    let fields = AccessKeyFields::Mrz(reader::MrzKey {
        document_number: mrz.document_number.clone(),
        date_of_birth: mrz.date_of_birth.clone(),
        date_of_expiry: mrz.date_of_expiry.clone(),
    });
    let key = reader::AccessKey::from_mrz_lines(&lines).unwrap();
    let chip = || VirtualTransport::new(VirtualChip::for_profile(&doc, Profile::Pace).unwrap());

    // The baseline: the same read done locally over the same card link (no relay, no network,
    // no verification).
    let mut local = Vec::new();
    let mut local_apdus = 0;
    for _ in 0..RUNS {
        let mut t = Delayed {
            inner: chip(),
            rtt: Duration::ZERO,
            bytes: 0,
        };
        let options = reader::ReadOptions {
            active_authentication_challenge: Some([7; 8]),
            ..reader::ReadOptions::default()
        };
        let start = Instant::now();
        reader::read_document(&mut t, &key, &options, &mut |_| {}).unwrap();
        local.push(start.elapsed());
        local_apdus = t.inner.stats().apdus;
    }
    let local = median(&mut local);
    println!(
        "local read over the same card link (no relay, no verification): {:.1} ms, {local_apdus} APDUs",
        ms(local)
    );
    println!(
        "| added round trip | APDUs | bytes | relay (median of {RUNS}) | physical limit | relay / limit | relay / local |"
    );
    println!("|---|---|---|---|---|---|---|");
    for rtt_ms in [0u64, 20, 50, 100] {
        let rtt = Duration::from_millis(rtt_ms);
        let mut times = Vec::new();
        let (mut apdus, mut bytes) = (0, 0);
        for _ in 0..RUNS {
            let token = new_token();
            let mut t = Delayed {
                inner: chip(),
                rtt,
                bytes: 0,
            };
            let options = RelayOptions {
                extended_length: true,
                can_reset: true,
                max_response_apdu: None,
                selfie: None,
                client_name: "bench".into(),
                client_version: "0".into(),
            };
            let start = Instant::now();
            let outcome =
                reader::relay(&base, &token, &fields, &mut t, &options, &mut |_| {}).unwrap();
            times.push(start.elapsed());
            assert_eq!(outcome.state, "APPROVED");
            apdus = outcome.apdus;
            bytes = t.bytes;
        }
        let relay = median(&mut times);
        let limit = rtt * u32::try_from(apdus).unwrap() + link_time(bytes);
        println!(
            "| {rtt_ms} ms | {apdus} | {bytes} | {:.0} ms | {:.0} ms | {:.2} | {:.2} |",
            ms(relay),
            ms(limit),
            ms(relay) / ms(limit),
            ms(relay) / ms(local),
        );
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
