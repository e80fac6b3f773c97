//! The APDU relay end to end: a real server, our relay client (or a hostile hand-written one)
//! over a real WebSocket, and the in-process virtual chip as the card.

use std::net::TcpStream;
use std::time::Duration;

use reader::{AccessKeyFields, RelayError, RelayOptions, RelayOutcome, Transport, TransportError};
use serde_json::{Value, json};
use server::Settings;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use virtual_chip::{ChipConfig, ChipContents, Profile, VirtualChip};

use crate::both_backends;
use crate::helpers::{TestApp, start};
use crate::verification::{new_session, now, reader, trust_csca};

both_backends!(
    chip_authentication_over_the_relay_proves_the_chip,
    every_profile_and_access_key_over_the_relay,
    failed_reads_leave_the_session_waiting_and_say_why,
    the_client_never_sees_plaintext_after_access_control,
    hostile_clients_cannot_crash_stall_or_mislead_the_server,
    two_instances_one_database,
    the_holders_page_shows_the_relays_progress,
    face_verification_over_the_relay,
);

const CAN: &str = "123456";

/// A specimen of `profile` trusted by `app`.
async fn document(app: &TestApp, profile: Profile) -> testdoc::TestDocument {
    let (csca, doc) = virtual_chip::issue_document(profile, now()).unwrap();
    trust_csca(app, &csca).await;
    doc
}

fn chip(doc: &testdoc::TestDocument, profile: Profile) -> virtual_chip::VirtualTransport {
    virtual_chip::VirtualTransport::new(VirtualChip::for_profile(doc, profile).unwrap())
}

fn mrz_key(doc: &testdoc::TestDocument) -> AccessKeyFields {
    let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
    let mrz = icao9303::mrz::Mrz::parse_lines(&lines).unwrap();
    AccessKeyFields::Mrz(reader::MrzKey {
        document_number: mrz.document_number,
        date_of_birth: mrz.date_of_birth,
        date_of_expiry: mrz.date_of_expiry,
    })
}

fn options() -> RelayOptions {
    RelayOptions {
        extended_length: true,
        can_reset: true,
        max_response_apdu: None,
        selfie: None,
        client_name: "tests".into(),
        client_version: "0".into(),
    }
}

/// Our relay client, on a blocking thread, with the progress it showed.
async fn relay<T: Transport + Send + 'static>(
    app: &TestApp,
    token: &str,
    key: AccessKeyFields,
    mut transport: T,
) -> (
    Result<RelayOutcome, RelayError>,
    T,
    Vec<relay_protocol::Progress>,
) {
    let base = app.base.clone();
    let token = token.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut progress = Vec::new();
        let result = reader::relay(&base, &token, &key, &mut transport, &options(), &mut |p| {
            progress.push(p.clone())
        });
        (result, transport, progress)
    })
    .await
    .unwrap()
}

async fn session_get(app: &TestApp, id: i64) -> Value {
    let (status, v) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 200, "{v}");
    v
}

fn server_error(result: &Result<RelayOutcome, RelayError>) -> (&str, bool) {
    match result {
        Err(RelayError::Server {
            error_name,
            retryable,
            ..
        }) => (error_name.as_str(), *retryable),
        other => panic!("expected an error from the server, got {other:?}"),
    }
}

async fn chip_authentication_over_the_relay_proves_the_chip(settings: Settings) {
    let app = start(settings).await;
    // PACE + chip authentication, no active authentication: only CA can prove the chip.
    let doc = document(&app, Profile::PaceCa).await;
    let (id, token) = new_session(&app, json!({})).await;
    let (result, t, progress) =
        relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::PaceCa)).await;
    let outcome = result.unwrap();
    assert_eq!(
        (outcome.session_id, outcome.state.as_str()),
        (id, "APPROVED")
    );
    assert_eq!(
        outcome.apdus,
        t.stats().apdus,
        "every command reached the chip"
    );
    assert!(
        progress
            .iter()
            .any(|p| p.step.as_deref() == Some("chip authentication"))
    );
    assert!(progress.iter().any(|p| p.file.as_deref() == Some("DG2")));
    let v = session_get(&app, id).await;
    assert_eq!(v["chip_authentication"], "PASSED", "{v}");
    assert_eq!(v["clone_check"], "PROVEN", "{v}");
    assert_eq!(v["active_authentication"], "NOT_SUPPORTED", "{v}");
    assert_eq!(v["passive_authentication"], "PASSED", "{v}");

    // The same files on a chip without the chip-authentication private key: a clone.
    let (id, token) = new_session(&app, json!({})).await;
    let mut contents = ChipContents::from_test_document(&doc, CAN).unwrap();
    contents.ca_private_key = None;
    let clone = VirtualChip::new(contents, ChipConfig::for_profile(Profile::Clone)).unwrap();
    let (result, ..) = relay(
        &app,
        &token,
        mrz_key(&doc),
        virtual_chip::VirtualTransport::new(clone),
    )
    .await;
    let outcome = result.unwrap();
    assert_eq!(outcome.state, "REJECTED");
    assert_eq!(
        outcome.rejection_reason.as_deref(),
        Some("CHIP_AUTHENTICATION_FAILED")
    );
    let v = session_get(&app, id).await;
    assert_eq!(v["chip_authentication"], "FAILED", "{v}");
    assert_eq!(v["clone_check"], "FAILED", "{v}");

    // The client-side submit of a CA-only document proves nothing, whatever the client says.
    let (id, token) = new_session(&app, json!({})).await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    let mut body =
        crate::verification::submit_body(&doc, started["aa_challenge"].as_str().unwrap());
    body.as_object_mut().unwrap().remove("aa_response");
    body["chip_authentication"] = json!("PASSED");
    let (status, v) = reader(&app, &token, "reader.submit", body).await;
    assert_eq!(status, 200, "{v}");
    let v = session_get(&app, id).await;
    assert_eq!(v["clone_check"], "NOT_PROVEN", "{v}");
}

async fn every_profile_and_access_key_over_the_relay(settings: Settings) {
    let app = start(settings).await;
    for profile in [Profile::Bac, Profile::Pace] {
        let doc = document(&app, profile).await;
        let mut keys = vec![mrz_key(&doc)];
        if profile == Profile::Pace {
            keys.push(AccessKeyFields::Can(reader::CanKey { can: CAN.into() }));
        }
        for key in keys {
            let (id, token) = new_session(&app, json!({})).await;
            let (result, ..) = relay(&app, &token, key.clone(), chip(&doc, profile)).await;
            let outcome = result.unwrap_or_else(|e| panic!("{profile} {key:?}: {e}"));
            assert_eq!(outcome.state, "APPROVED", "{profile} {key:?}");
            let v = session_get(&app, id).await;
            assert_eq!(v["active_authentication"], "PASSED", "{v}");
            assert_eq!(v["clone_check"], "PROVEN", "{v}");
            let ca = if profile == Profile::Bac {
                "NOT_SUPPORTED"
            } else {
                "PASSED"
            };
            assert_eq!(v["chip_authentication"], ca, "{v}");
        }
    }
    // A reader whose largest response is 600 bytes: more, smaller reads, the same outcome.
    let doc = document(&app, Profile::Pace).await;
    let (_, token) = new_session(&app, json!({})).await;
    let (base, key) = (app.base.clone(), mrz_key(&doc));
    let mut card = chip(&doc, Profile::Pace);
    let outcome = tokio::task::spawn_blocking(move || {
        let options = RelayOptions {
            max_response_apdu: Some(600),
            ..options()
        };
        reader::relay(&base, &token, &key, &mut card, &options, &mut |_| {})
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(outcome.state, "APPROVED");
    let (_, token) = new_session(&app, json!({})).await;
    let (unlimited, ..) = relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
    assert!(
        outcome.apdus > unlimited.unwrap().apdus,
        "{} APDUs with 600-byte responses",
        outcome.apdus
    );

    // A reader that cannot carry extended-length commands: the server reads in short ones.
    let doc = document(&app, Profile::Pace).await;
    let (_, token) = new_session(&app, json!({})).await;
    let mut t = chip(&doc, Profile::Pace);
    t.refuse_extended_apdus();
    let (result, ..) = relay(&app, &token, mrz_key(&doc), t).await;
    assert_eq!(result.unwrap().state, "APPROVED");
}

/// Garbles the MAC of every protected response from the `nth` on.
struct BreakingSm {
    inner: virtual_chip::VirtualTransport,
    protected: usize,
    nth: usize,
}

impl Transport for BreakingSm {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let protected = command.first().is_some_and(|c| c & 0x0C == 0x0C);
        if protected {
            self.protected += 1;
        }
        let mut response = self.inner.transmit(command)?;
        if protected && self.protected >= self.nth && response.len() > 4 {
            let i = response.len() - 3;
            response[i] ^= 1;
        }
        Ok(response)
    }
}

async fn failed_reads_leave_the_session_waiting_and_say_why(settings: Settings) {
    let app = start(settings).await;
    let doc = document(&app, Profile::Pace).await;
    let (id, token) = new_session(&app, json!({})).await;

    // A mistyped date of birth: the chip refuses it.
    let AccessKeyFields::Mrz(reader::MrzKey {
        document_number,
        date_of_expiry,
        ..
    }) = mrz_key(&doc)
    else {
        unreachable!()
    };
    let wrong = AccessKeyFields::Mrz(reader::MrzKey {
        document_number,
        date_of_birth: "010101".into(),
        date_of_expiry,
    });
    let (result, ..) = relay(&app, &token, wrong, chip(&doc, Profile::Pace)).await;
    assert_eq!(server_error(&result), ("AccessDenied", true));
    let v = session_get(&app, id).await;
    assert_eq!(v["state"], "INITIATED", "{v}");
    assert!(
        v.get("given_names").is_none() || v["given_names"].is_null(),
        "{v}"
    );

    // The card leaves the field in the middle.
    let mut t = chip(&doc, Profile::Pace);
    t.remove_card_after(25);
    let (result, ..) = relay(&app, &token, mrz_key(&doc), t).await;
    assert_eq!(server_error(&result), ("CardRemoved", true));

    // Secure messaging broken for good on the way back.
    let t = BreakingSm {
        inner: chip(&doc, Profile::Pace),
        protected: 0,
        nth: 4,
    };
    let (result, ..) = relay(&app, &token, mrz_key(&doc), t).await;
    let (name, retryable) = server_error(&result);
    assert_eq!((name, retryable), ("ChipError", true), "{result:?}");
    assert_eq!(session_get(&app, id).await["state"], "INITIATED");

    // A wrong-format key is the client's to fix.
    let (result, ..) = relay(
        &app,
        &token,
        AccessKeyFields::Can(reader::CanKey { can: "12ab".into() }),
        chip(&doc, Profile::Pace),
    )
    .await;
    assert_eq!(server_error(&result), ("InvalidProperty", true));

    // Then the holder gets it right: one verified read, and the token is spent.
    let (result, ..) = relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
    assert_eq!(result.unwrap().state, "APPROVED");
    let (result, ..) = relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
    assert_eq!(server_error(&result), ("SessionFinished", false));

    // Face verification needs the selfie in the hello.
    let (_, token) = new_session(&app, json!({"face_verification": true})).await;
    let (result, ..) = relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
    let Err(RelayError::Server {
        error_name,
        error_message,
        ..
    }) = &result
    else {
        panic!("{result:?}")
    };
    assert_eq!(error_name, "InvalidProperty");
    assert!(error_message.contains("selfie"), "{error_message}");
}

/// Records every command and response that crossed the client.
struct Recording {
    inner: virtual_chip::VirtualTransport,
    seen: Vec<Vec<u8>>,
}

impl Transport for Recording {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.seen.push(command.to_vec());
        let response = self.inner.transmit(command)?;
        self.seen.push(response.clone());
        Ok(response)
    }
}

async fn the_client_never_sees_plaintext_after_access_control(settings: Settings) {
    let app = start(settings).await;
    let doc = document(&app, Profile::Pace).await;
    let (_, token) = new_session(&app, json!({})).await;
    let t = Recording {
        inner: chip(&doc, Profile::Pace),
        seen: Vec::new(),
    };
    let (result, t, _) = relay(&app, &token, mrz_key(&doc), t).await;
    assert_eq!(result.unwrap().state, "APPROVED");
    let dg1 = doc.file(testdoc::FileId::Dg1).unwrap();
    let dg2 = doc.file(testdoc::FileId::Dg2).unwrap();
    let mrz = doc.mrz_lines().concat();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(t.seen.len() > 20);
    for frame in &t.seen {
        assert!(
            !contains(frame, &mrz.as_bytes()[..20]),
            "MRZ text crossed the client"
        );
        assert!(
            !contains(frame, &dg1[..16]),
            "DG1 plaintext crossed the client"
        );
        assert!(
            !contains(frame, &dg2[dg2.len() / 2..dg2.len() / 2 + 16]),
            "DG2 plaintext"
        );
    }
    // What crossed was the chip's traffic: from access control on, secure messaging only.
    let commands: Vec<&Vec<u8>> = t.seen.iter().step_by(2).collect();
    let protected = |c: &&Vec<u8>| c.first().is_some_and(|cla| cla & 0x0C == 0x0C);
    let first = commands
        .iter()
        .position(protected)
        .expect("secure messaging");
    assert!(first < 15, "access control took {first} commands");
    assert!(
        commands[first..].iter().all(protected),
        "a plain command after access control"
    );
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// A hand-written client: opens the relay with the token in the header (or none).
fn open(base: &str, token: Option<&str>) -> Socket {
    use tungstenite::client::IntoClientRequest;
    let url = reader::relay_url(base).unwrap();
    let mut request = url.into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    let (socket, _) = tungstenite::connect(request).unwrap();
    socket
}

fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .unwrap();
}

/// The next server message as JSON (skipping progress).
fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().unwrap() {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "progress" {
                    return v;
                }
            }
            Message::Close(_) => return json!({"type": "closed"}),
            _ => {}
        }
    }
}

fn hello(doc: &testdoc::TestDocument, token: Option<&str>) -> Value {
    let AccessKeyFields::Mrz(reader::MrzKey {
        document_number,
        date_of_birth,
        date_of_expiry,
    }) = mrz_key(doc)
    else {
        unreachable!()
    };
    let mut h = json!({"type": "hello", "access_key": {
        "document_number": document_number, "date_of_birth": date_of_birth,
        "date_of_expiry": date_of_expiry}});
    if let Some(t) = token {
        h["token"] = json!(t);
    }
    h
}

/// Runs `script` (a hostile client) on a blocking thread; returns the server's last message.
async fn hostile(
    app: &TestApp,
    token: Option<&str>,
    script: impl FnOnce(&mut Socket) -> Value + Send + 'static,
) -> Value {
    let base = app.base.clone();
    let token = token.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut socket = open(&base, token.as_deref());
        script(&mut socket)
    })
    .await
    .unwrap()
}

fn assert_relay_error(v: &Value, name: &str) {
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["error_name"], name, "{v}");
    assert!(
        v["error_message"].as_str().is_some_and(|m| !m.is_empty()),
        "{v}"
    );
}

async fn hostile_clients_cannot_crash_stall_or_mislead_the_server(mut settings: Settings) {
    settings.relay_apdu_timeout_seconds = 1;
    let app = start(settings).await;
    let doc = document(&app, Profile::Pace).await;
    let (id, token) = new_session(&app, json!({})).await;

    // Not JSON; not a hello; a binary frame.
    let v = hostile(&app, Some(&token), |s| {
        s.send(Message::Text("{{{".into())).unwrap();
        next(s)
    })
    .await;
    assert_relay_error(&v, "RelayProtocolError");
    let v = hostile(&app, Some(&token), |s| {
        send(s, json!({"type": "response", "seq": 1, "apdu": "9000"}));
        next(s)
    })
    .await;
    assert_relay_error(&v, "RelayProtocolError");

    // No token, an unknown token (in the hello), a token in the hello that works.
    let d = doc.clone();
    let v = hostile(&app, None, move |s| {
        send(s, hello(&d, None));
        next(s)
    })
    .await;
    assert_relay_error(&v, "InvalidToken");
    let d = doc.clone();
    let v = hostile(&app, None, move |s| {
        send(s, hello(&d, Some("not-a-token")));
        next(s)
    })
    .await;
    assert_relay_error(&v, "InvalidToken");

    // A replayed answer: command 2 answered with command 1's number and bytes.
    let d = doc.clone();
    let t = token.clone();
    let v = hostile(&app, None, move |s| {
        send(s, hello(&d, Some(&t)));
        let mut chip = chip(&d, Profile::Pace);
        let first = next(s);
        assert_eq!(first["type"], "command", "{first}");
        let answer = chip
            .transmit(&hex::decode(first["apdu"].as_str().unwrap()).unwrap())
            .unwrap();
        let answer = json!({"type": "response", "seq": first["seq"], "apdu": hex::encode(answer)});
        send(s, answer.clone());
        let second = next(s);
        assert_eq!(second["type"], "command", "{second}");
        send(s, answer);
        next(s)
    })
    .await;
    assert_relay_error(&v, "RelayProtocolError");
    assert!(
        v["error_message"].as_str().unwrap().contains("replayed"),
        "{v}"
    );

    // An answer too short to be an APDU, not hex, or absurdly long.
    for apdu in [json!("90"), json!("zz"), json!("00".repeat(70_000))] {
        let d = doc.clone();
        let t = token.clone();
        let v = hostile(&app, None, move |s| {
            send(s, hello(&d, Some(&t)));
            let first = next(s);
            send(
                s,
                json!({"type": "response", "seq": first["seq"], "apdu": apdu}),
            );
            next(s)
        })
        .await;
        assert_relay_error(&v, "RelayProtocolError");
    }

    // A client that stalls: the server gives up after the APDU timeout, not later.
    let d = doc.clone();
    let t = token.clone();
    let started = std::time::Instant::now();
    let v = hostile(&app, None, move |s| {
        send(s, hello(&d, Some(&t)));
        let first = next(s);
        assert_eq!(first["type"], "command");
        next(s)
    })
    .await;
    assert_relay_error(&v, "RelayTimeout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // A second relay of the same session while one is live.
    let d = doc.clone();
    let t = token.clone();
    let base = app.base.clone();
    let v = hostile(&app, None, move |s| {
        send(s, hello(&d, Some(&t)));
        let first = next(s);
        assert_eq!(first["type"], "command");
        let mut second = open(&base, Some(&t));
        send(&mut second, hello(&d, None));
        next(&mut second)
    })
    .await;
    assert_relay_error(&v, "RelayInUse");

    // A client that disconnects mid-read.
    let d = doc.clone();
    let t = token.clone();
    hostile(&app, None, move |s| {
        send(s, hello(&d, Some(&t)));
        let _ = next(s);
        let _ = s.close(None);
        json!({})
    })
    .await;

    // Wrong HTTP uses of the endpoint.
    let r = app
        .client
        .post(format!("{}/api/v1/reader.relay", app.base))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, v) = crate::helpers::json_of(r).await;
    crate::helpers::assert_error(status, &v, 405, "MethodNotAllowed");
    let r = app
        .client
        .get(format!("{}/api/v1/reader.relay", app.base))
        .send()
        .await
        .unwrap();
    let (status, v) = crate::helpers::json_of(r).await;
    crate::helpers::assert_error(status, &v, 426, "UpgradeRequired");
    let r = app
        .client
        .get(format!("{}/api/v1/reader.relay", app.base))
        .bearer_auth("nope")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Nothing of all that was stored, and the server still serves: a genuine read completes.
    let v = session_get(&app, id).await;
    assert_eq!(v["state"], "INITIATED", "{v}");
    assert!(v["passive_authentication"].is_null(), "{v}");
    // (The disconnected relay lets go of the session once the server has noticed: moments.)
    let mut tries = 0;
    let outcome = loop {
        let (result, ..) = relay(&app, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
        match result {
            Err(RelayError::Server { error_name, .. })
                if error_name == "RelayInUse" && tries < 50 =>
            {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(outcome.state, "APPROVED");
}

async fn two_instances_one_database(settings: Settings) {
    let first = start(settings.clone()).await;
    let second = start(settings).await;
    let doc = document(&first, Profile::Pace).await;
    let (id, token) = new_session(&first, json!({})).await;
    // Read through the second instance; the first sees the outcome.
    let (result, ..) = relay(&second, &token, mrz_key(&doc), chip(&doc, Profile::Pace)).await;
    assert_eq!(result.unwrap().state, "APPROVED");
    let v = session_get(&first, id).await;
    assert_eq!(v["state"], "APPROVED", "{v}");
    assert_eq!(v["clone_check"], "PROVEN", "{v}");
}

async fn the_holders_page_shows_the_relays_progress(settings: Settings) {
    let app = start(settings).await;
    let doc = document(&app, Profile::Pace).await;
    let (_, token) = new_session(&app, json!({})).await;
    let state = |app: &TestApp, token: &str| {
        let url = format!("{}/open/state?token={token}", app.base);
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert!(state(&app, &token).await["progress"].is_null());

    // A client that relays until the server reports its first file, then holds still.
    let (paused_tx, paused_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (d, t, base) = (doc.clone(), token.clone(), app.base.clone());
    let client = tokio::task::spawn_blocking(move || {
        let mut s = open(&base, Some(&t));
        send(&mut s, hello(&d, None));
        let mut card = chip(&d, Profile::Pace);
        let mut paused = false;
        loop {
            let Message::Text(text) = s.read().unwrap() else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str().unwrap() {
                "progress" if v["file"].is_string() && !paused => {
                    paused = true;
                    paused_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                }
                "command" => {
                    let answer = card
                        .transmit(&hex::decode(v["apdu"].as_str().unwrap()).unwrap())
                        .unwrap();
                    send(
                        &mut s,
                        json!({"type": "response", "seq": v["seq"], "apdu": hex::encode(answer)}),
                    );
                }
                "progress" => {}
                _ => return v,
            }
        }
    });
    tokio::task::spawn_blocking(move || paused_rx.recv().unwrap())
        .await
        .unwrap();
    let during = state(&app, &token).await;
    assert_eq!(during["state"], "INITIATED", "{during}");
    let progress = during["progress"].as_str().unwrap_or_default().to_owned();
    assert!(progress.starts_with("Reading EF.COM"), "{during}");
    go_tx.send(()).unwrap();
    let end = client.await.unwrap();
    assert_eq!(end["state"], "APPROVED", "{end}");
    let after = state(&app, &token).await;
    assert!(after["progress"].is_null(), "{after}");
}

async fn face_verification_over_the_relay(settings: Settings) {
    use testdoc::{
        Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, Holder, KeyAlgorithm,
    };
    let app = start(settings).await;
    let portrait = icao9303::portrait::jpeg_from_image(&crate::verification::face_photo(
        "astronaut_portrait.jp2",
    ))
    .unwrap();
    let mut csca = Csca::generate(&CscaOptions::new("NL", now())).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now()))
        .unwrap();
    let doc = DocumentBuilder::new(Holder::specimen())
        .portrait(portrait)
        .build(&ds)
        .unwrap();
    trust_csca(&app, &csca).await;
    for (selfie, state, face_match) in [
        ("astronaut_mirrored_320.jpg", "APPROVED", "PASSED"),
        ("camera_320.jpg", "REJECTED", "FAILED"),
    ] {
        let (id, token) = new_session(&app, json!({"face_verification": true})).await;
        let (base, token2, key) = (app.base.clone(), token.clone(), mrz_key(&doc));
        let photo = crate::verification::face_photo(selfie);
        let card = chip(&doc, Profile::Pace);
        let outcome = tokio::task::spawn_blocking(move || {
            let mut card = card;
            let options = RelayOptions {
                selfie: Some(photo),
                ..options()
            };
            reader::relay(&base, &token2, &key, &mut card, &options, &mut |_| {})
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(outcome.state, state, "{selfie}");
        let v = session_get(&app, id).await;
        assert_eq!(v["face_match"], face_match, "{selfie}: {v}");
        assert!(v["face"].is_string(), "the selfie is kept with the session");
    }
}
