//! Acknowledged writes survive `kill -9` of the server (SQLite: WAL with synchronous = FULL).
//! The server runs in a child process: this test binary re-run on the ignored helper test below.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use server::{Application, Settings, Store, accounts};

use crate::helpers::{client, json_of};

const DIR_ENV: &str = "PASSPORT_READER_DURABILITY_DIR";

fn settings(dir: &Path) -> Settings {
    Settings::for_test(dir)
}

/// Not a test of its own: the server process that `kill_9_keeps_acknowledged_writes` kills.
#[test]
#[ignore = "helper process for kill_9_keeps_acknowledged_writes"]
fn durability_server_process() {
    let Ok(dir) = std::env::var(DIR_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app = Application::build(settings(&dir)).await.unwrap();
        std::fs::write(dir.join("port.tmp"), app.local_addr().port().to_string()).unwrap();
        std::fs::rename(dir.join("port.tmp"), dir.join("port")).unwrap();
        app.run().await.unwrap();
    });
}

#[tokio::test]
async fn kill_9_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let store = Store::open(&s).await.unwrap();
    let account = accounts::create_account(&store, &s.clock, "d@example.com", "durable password")
        .await
        .unwrap();
    let creds = accounts::create_credentials(&store, &s.clock, "d@example.com", None)
        .await
        .unwrap();
    store.close().await;

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "durability::durability_server_process",
            "--nocapture",
        ])
        .env(DIR_ENV, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port_file = dir.path().join("port");
    let started = Instant::now();
    while !port_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server process did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let base = format!(
        "http://127.0.0.1:{}",
        std::fs::read_to_string(&port_file).unwrap()
    );
    let http = client();
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        let r = http
            .post(format!("{base}/api/v1/session.create"))
            .basic_auth(&creds.public_key, Some(&creds.secret))
            .json(&json!({"reference": format!("d{i}")}))
            .send()
            .await
            .unwrap();
        let (status, v) = json_of(r).await;
        assert_eq!(status, 200, "{v}");
        acknowledged.push(v["id"].as_i64().unwrap());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = Store::open(&s).await.unwrap();
    for id in &acknowledged {
        let found = store
            .get_session(account.id, *id, s.clock.now())
            .await
            .unwrap();
        assert!(
            found.is_some(),
            "session {id} was acknowledged but is gone after kill -9"
        );
    }
}
