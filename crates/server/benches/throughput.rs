//! Throughput of the API over HTTP with many concurrent connections, against the real server
//! in-process on a free port: `account.get` (authentication only, the trivial baseline) vs
//! `session.create` (a durable insert) vs `session.get` (expiry check + read). Reported as req/s
//! and as a ratio to the baseline measured on the same server in the same run, for SQLite and,
//! when TEST_DATABASE_URL is set, PostgreSQL.
//!
//! `cargo bench -p passport-reader-server` (env: BENCH_SECONDS, default 3; BENCH_CLIENTS, 64).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::accounts;
use server::{Application, Settings};
use sqlx::Connection;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Target {
    base: String,
    user: String,
    pass: String,
}

/// Runs `clients` concurrent loops of `method` for `seconds`; returns requests per second.
async fn measure(
    target: &Arc<Target>,
    method: &'static str,
    body: impl Fn(u64) -> Value + Send + Sync + 'static,
    clients: u64,
    seconds: u64,
) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (http, target, done, errors, body) = (
            http.clone(),
            target.clone(),
            done.clone(),
            errors.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while Instant::now() < deadline {
                let r = http
                    .post(format!("{}/api/v1/{method}", target.base))
                    .basic_auth(&target.user, Some(&target.pass))
                    .json(&body(i))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += clients;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let errors = errors.load(Ordering::Relaxed);
    if errors > 0 {
        eprintln!("  {method}: {errors} failed requests");
    }
    done.load(Ordering::Relaxed) as f64 / elapsed
}

async fn run_backend(name: &str, settings: Settings, clients: u64, seconds: u64) {
    let app = Application::build(settings).await.expect("server");
    let base = app.base_url();
    let store = app.store().clone();
    let clock = app.clock().clone();
    tokio::spawn(app.run());
    accounts::create_account(&store, &clock, "bench@example.com", "a long bench password")
        .await
        .unwrap();
    let pair = accounts::create_credentials(&store, &clock, "bench@example.com", None)
        .await
        .unwrap();
    let target = Arc::new(Target {
        base,
        user: pair.public_key,
        pass: pair.secret,
    });

    // Sessions for session.get to read.
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..200 {
        let v: Value = http
            .post(format!("{}/api/v1/session.create", target.base))
            .basic_auth(&target.user, Some(&target.pass))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_i64().unwrap());
    }
    let ids = Arc::new(ids);

    measure(&target, "account.get", |_| json!({}), clients, 1).await; // warm-up
    let baseline = measure(&target, "account.get", |_| json!({}), clients, seconds).await;
    let create = measure(
        &target,
        "session.create",
        |i| json!({"reference": format!("bench-{i}")}),
        clients,
        seconds,
    )
    .await;
    let get_ids = ids.clone();
    let get = measure(
        &target,
        "session.get",
        move |i| json!({"id": get_ids[(i as usize) % get_ids.len()]}),
        clients,
        seconds,
    )
    .await;
    println!("{name:<9} account.get (baseline) {baseline:>8.0} req/s   1.00");
    println!(
        "{name:<9} session.create        {create:>8.0} req/s   {:.2}",
        create / baseline
    );
    println!(
        "{name:<9} session.get           {get:>8.0} req/s   {:.2}",
        get / baseline
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let clients = env_or("BENCH_CLIENTS", 64);
    let seconds = env_or("BENCH_SECONDS", 3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        println!("{clients} concurrent clients, {seconds} s per endpoint, client and server in one process");
        println!("backend   endpoint                  throughput   ratio to baseline");
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_test(dir.path());
        settings.max_db_connections = 8;
        run_backend("sqlite", settings, clients, seconds).await;

        match std::env::var("TEST_DATABASE_URL") {
            Err(_) => eprintln!("NOTICE: TEST_DATABASE_URL is not set; skipping the PostgreSQL benchmark"),
            Ok(base) => {
                let schema = format!("bench_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
                let dir = tempfile::tempdir().unwrap();
                let mut settings = Settings::for_test(dir.path());
                let sep = if base.contains('?') { '&' } else { '?' };
                settings.database_url = Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"));
                settings.max_db_connections = 16;
                run_backend("postgres", settings, clients, seconds).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await.unwrap();
            }
        }
    });
}
