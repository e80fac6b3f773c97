//! Throughput of the API over HTTP with many concurrent connections, against the real server
//! in-process on a free port: `account.get` (authentication only, the trivial baseline) vs
//! `session.create` (a durable insert), `session.get` (expiry check + read), `session.update` (a
//! durable change of a session) and `session.abort` (a state change of a CREATED session, with
//! the callback event it writes, the callback outbox, and its time in the row: since migration 13
//! leaving CREATED stores no history row; nothing delivers the events here). Reported as req/s
//! and as a ratio to the baseline measured on the same server in the same run, for SQLite and,
//! when TEST_DATABASE_URL is set, PostgreSQL with one server instance and then two on one
//! database (clients spread over both); it ends with PostgreSQL's `account.get` against
//! SQLite's and two instances against one.
//!
//! The endpoints take turns, one second each, for BENCH_SECONDS rounds: the shared test
//! machines change speed from one minute to the next, and a baseline measured in the same
//! seconds as what it is compared with moves with them. Each ratio is printed with the lowest
//! and highest of its rounds.
//!
//! On SQLite it also prints what the one writer thread did in each write endpoint's seconds: the
//! share of the time it spent on batches (near 100%, the writer is the limit), the writes a
//! commit shared, and a write's time on it — in all, on a core, and waiting for a core (Linux).
//!
//! `cargo bench -p passport-reader-server` (env: BENCH_SECONDS, default 3; BENCH_CLIENTS, 64;
//! BENCH_ABORT_SESSIONS, 30000: the sessions made before each second of `session.abort`, one
//! per request).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::accounts;
use server::store::WriterStats;
use server::{Application, Settings};
use sqlx::Connection;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a client sends with its `i`th request.
type Body = Arc<dyn Fn(u64) -> Value + Send + Sync>;

struct Target {
    base: String,
    user: String,
    pass: String,
}

/// Runs `clients` concurrent loops of `method` for `duration`, spread over the servers in
/// `targets`; returns the requests answered and the time taken.
async fn measure(
    http: &reqwest::Client,
    targets: &Arc<Vec<Target>>,
    method: &'static str,
    body: Body,
    clients: u64,
    duration: Duration,
) -> (u64, f64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (http, targets, done, errors, body) = (
            http.clone(),
            targets.clone(),
            done.clone(),
            errors.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            let target = &targets[worker as usize % targets.len()];
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
    (done.load(Ordering::Relaxed), elapsed)
}

/// The figures of one run over one backend: req/s over all rounds, and the lowest and highest
/// ratio to `account.get` of a single round.
struct Figures {
    account_get: f64,
    session_create: f64,
    session_get: f64,
    session_update: f64,
    session_abort: f64,
    create_ratios: (f64, f64),
    get_ratios: (f64, f64),
    update_ratios: (f64, f64),
    abort_ratios: (f64, f64),
    /// SQLite's writer during the seconds of each write endpoint (none on PostgreSQL, which has
    /// no readings to add).
    writer: Vec<(&'static str, WriterTally)>,
}

/// What SQLite's writer did over the seconds of one endpoint, summed over the rounds.
#[derive(Default)]
struct WriterTally {
    seconds: f64,
    batches: u64,
    writes: u64,
    busy: Duration,
    cpu: Duration,
    run_queue: Duration,
}

impl WriterTally {
    /// Adds the difference of two readings `seconds` apart.
    fn add(&mut self, before: Option<WriterStats>, after: Option<WriterStats>, seconds: f64) {
        let (Some(b), Some(a)) = (before, after) else {
            return;
        };
        let since = |x: Option<Duration>, y: Option<Duration>| match (x, y) {
            (Some(x), Some(y)) => y.saturating_sub(x),
            _ => Duration::ZERO,
        };
        self.seconds += seconds;
        self.batches += a.batches - b.batches;
        self.writes += a.writes - b.writes;
        self.busy += a.busy.saturating_sub(b.busy);
        self.cpu += since(b.cpu, a.cpu);
        self.run_queue += since(b.run_queue, a.run_queue);
    }

    fn print(&self, endpoint: &str) {
        let writes = self.writes.max(1) as f64;
        let per_write = |d: Duration| d.as_secs_f64() * 1e6 / writes;
        println!(
            "sqlite writer during {endpoint}: busy {:.0}% of the time, {:.1} writes a commit, \
             {:.0} µs a write (on a core {:.0}, waiting for one {:.0})",
            100.0 * self.busy.as_secs_f64() / self.seconds.max(f64::MIN_POSITIVE),
            self.writes as f64 / self.batches.max(1) as f64,
            per_write(self.busy),
            per_write(self.cpu),
            per_write(self.run_queue),
        );
    }
}

/// Requests and seconds summed over the rounds of one endpoint, and each round's rate.
#[derive(Default)]
struct Tally {
    done: u64,
    seconds: f64,
    rates: Vec<f64>,
}

impl Tally {
    fn add(&mut self, (done, seconds): (u64, f64)) {
        self.done += done;
        self.seconds += seconds;
        self.rates.push(done as f64 / seconds);
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.seconds
    }

    /// The lowest and highest of this endpoint's rate over the baseline's, round by round.
    fn ratio_range(&self, baseline: &Tally) -> (f64, f64) {
        self.rates
            .iter()
            .zip(&baseline.rates)
            .map(|(a, b)| a / b)
            .fold((f64::INFINITY, 0.0), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }
}

/// Starts `instances` servers over `settings`' database (with one account and pair) and measures
/// the three endpoints with `clients` connections spread over them.
async fn run_backend(settings: Settings, instances: usize, clients: u64, seconds: u64) -> Figures {
    let mut targets = Vec::new();
    let mut pair = None;
    let mut first_store = None;
    for _ in 0..instances {
        let app = Application::build(settings.clone()).await.expect("server");
        let base = app.base_url();
        let store = app.store().clone();
        first_store.get_or_insert_with(|| store.clone());
        let clock = app.clock().clone();
        let credentials = app.credential_cache();
        tokio::spawn(app.run());
        if pair.is_none() {
            accounts::create_account(&store, &clock, "bench@example.com", "a long bench password")
                .await
                .unwrap();
            pair = Some(
                accounts::create_credentials(&store, &clock, "bench@example.com", None)
                    .await
                    .unwrap(),
            );
        }
        // On PostgreSQL, measure once the instance checks credentials from memory.
        if settings.database_url.is_some() {
            while !credentials.is_serving() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let pair = pair.as_ref().unwrap();
        targets.push(Target {
            base,
            user: pair.public_key.clone(),
            pass: pair.secret.clone(),
        });
    }
    let targets = Arc::new(targets);

    // Sessions for session.get to read and session.update to change.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .unwrap();
    let ids = Arc::new(create_sessions(&http, &targets[0], 2000, clients).await);

    let account_body: Body = Arc::new(|_| json!({}));
    let get_ids = ids.clone();
    let get_body: Body = Arc::new(move |i| json!({"id": get_ids[(i as usize) % get_ids.len()]}));
    let create_body: Body = Arc::new(|i| json!({"reference": format!("bench-{i}")}));
    let update_body: Body = Arc::new(
        move |i| json!({"id": ids[(i as usize) % ids.len()], "reference": format!("bench-updated-{i}")}),
    );
    // One second of one endpoint.
    let second = |method: &'static str, body: &Body| {
        measure(
            &http,
            &targets,
            method,
            body.clone(),
            clients,
            Duration::from_secs(1),
        )
    };
    // SQLite's writer, read before and after each write endpoint's second.
    let writer_stats = || first_store.as_ref().and_then(|s| s.sqlite_writer_stats());
    let mut writer = [
        ("session.create", WriterTally::default()),
        ("session.update", WriterTally::default()),
        ("session.abort", WriterTally::default()),
    ];
    second("account.get", &account_body).await; // warm-up
    let (
        mut account_get,
        mut session_get,
        mut session_create,
        mut session_update,
        mut session_abort,
    ) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let abort_sessions = env_or("BENCH_ABORT_SESSIONS", 30_000) as usize;
    for _ in 0..seconds {
        account_get.add(second("account.get", &account_body).await);
        session_get.add(second("session.get", &get_body).await);
        let before = writer_stats();
        let create = second("session.create", &create_body).await;
        writer[0].1.add(before, writer_stats(), create.1);
        session_create.add(create);
        let before = writer_stats();
        let update = second("session.update", &update_body).await;
        writer[1].1.add(before, writer_stats(), update.1);
        session_update.add(update);
        // A state change that also writes the session's callback event (the outbox): each abort
        // needs a session of its own, made before the second starts.
        let fresh = create_sessions(&http, &targets[0], abort_sessions, clients).await;
        let abort_body: Body = Arc::new(move |i| json!({"id": fresh[i as usize % fresh.len()]}));
        let before = writer_stats();
        let abort = second("session.abort", &abort_body).await;
        writer[2].1.add(before, writer_stats(), abort.1);
        session_abort.add(abort);
    }
    Figures {
        account_get: account_get.rate(),
        session_create: session_create.rate(),
        session_get: session_get.rate(),
        session_update: session_update.rate(),
        session_abort: session_abort.rate(),
        create_ratios: session_create.ratio_range(&account_get),
        get_ratios: session_get.ratio_range(&account_get),
        update_ratios: session_update.ratio_range(&account_get),
        abort_ratios: session_abort.ratio_range(&account_get),
        writer: writer
            .into_iter()
            .filter(|(_, t)| t.seconds > 0.0)
            .collect(),
    }
}

/// Creates `n` sessions with a callback URL (so that a change of their state writes a callback
/// event) over `clients` connections; their ids.
async fn create_sessions(
    http: &reqwest::Client,
    target: &Target,
    n: usize,
    clients: u64,
) -> Vec<i64> {
    let per_client = n.div_ceil(clients as usize);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let http = http.clone();
            let url = format!("{}/api/v1/session.create", target.base);
            let (user, pass) = (target.user.clone(), target.pass.clone());
            tokio::spawn(async move {
                let mut ids = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let v: Value = http
                        .post(&url)
                        .basic_auth(&user, Some(&pass))
                        .json(&json!({"callback_url": "https://integrator.example.com/callback"}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    ids.push(v["id"].as_i64().unwrap());
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(n);
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    ids
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<14} account.get (baseline) {:>8.0} req/s   1.00",
        f.account_get
    );
    println!(
        "{name:<14} session.create        {:>8.0} req/s   {:.2} (rounds {:.2}-{:.2})",
        f.session_create,
        f.session_create / f.account_get,
        f.create_ratios.0,
        f.create_ratios.1,
    );
    println!(
        "{name:<14} session.get           {:>8.0} req/s   {:.2} (rounds {:.2}-{:.2})",
        f.session_get,
        f.session_get / f.account_get,
        f.get_ratios.0,
        f.get_ratios.1,
    );
    println!(
        "{name:<14} session.update        {:>8.0} req/s   {:.2} (rounds {:.2}-{:.2})",
        f.session_update,
        f.session_update / f.account_get,
        f.update_ratios.0,
        f.update_ratios.1,
    );
    println!(
        "{name:<14} session.abort         {:>8.0} req/s   {:.2} (rounds {:.2}-{:.2})",
        f.session_abort,
        f.session_abort / f.account_get,
        f.abort_ratios.0,
        f.abort_ratios.1,
    );
    for (endpoint, tally) in &f.writer {
        tally.print(endpoint);
    }
}

/// A fresh schema on `base` (dropped first if a failed run left it).
async fn pg_settings(base: &str, schema: &str) -> (Settings, tempfile::TempDir) {
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_test(dir.path());
    settings.database_url = Some(Settings::test_database_url_in_schema(base, schema));
    settings.max_db_connections = 16;
    (settings, dir)
}

async fn drop_schema(base: &str, schema: &str) {
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
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
        println!("{clients} concurrent clients, {seconds} rounds of 1 s per endpoint in turn, client and server in one process");
        println!("backend        endpoint                  throughput   ratio to baseline");
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_test(dir.path());
        settings.max_db_connections = 8;
        let sqlite = run_backend(settings, 1, clients, seconds).await;
        print("sqlite", &sqlite);

        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("NOTICE: TEST_DATABASE_URL is not set; skipping the PostgreSQL benchmark");
            return;
        };
        let schema = format!("bench_{}", std::process::id());
        let (settings, _dir) = pg_settings(&base, &schema).await;
        let postgres = run_backend(settings, 1, clients, seconds).await;
        print("postgres", &postgres);
        drop_schema(&base, &schema).await;
        let (settings, _dir) = pg_settings(&base, &schema).await;
        let two = run_backend(settings, 2, clients, seconds).await;
        print("postgres ×2", &two);
        drop_schema(&base, &schema).await;
        println!(
            "account.get, PostgreSQL / SQLite: {:.2}; two PostgreSQL instances / one: account.get {:.2}, session.create {:.2}, session.get {:.2}",
            postgres.account_get / sqlite.account_get,
            two.account_get / postgres.account_get,
            two.session_create / postgres.session_create,
            two.session_get / postgres.session_get,
        );
    });
}
