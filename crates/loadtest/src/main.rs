//! `passport-reader-loadtest`: an open-loop load test of a passport-reader deployment.
//!
//! Requests are started on a schedule (a fixed rate, or a linear ramp up to it) whatever the
//! server's answers, and each one's latency is counted from its scheduled time, so a server
//! that falls behind shows as latency instead of as a lower request rate (no coordinated
//! omission). The workload mixes the integrator API (session.create, get, state, list, update,
//! abort) with holder submissions of simulated passports (reader.start then reader.submit).
//! At the end every session created is fetched again (none may be lost, and those the run
//! finished must be in the state it left them in), and the server's memory is compared when
//! its process id is given. See README.md.

mod document;
mod stats;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Parser;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use document::Document;
use stats::{OPS, Op, Stats, ms};

#[derive(Parser, Debug)]
#[command(
    name = "passport-reader-loadtest",
    about = "Open-loop load test of a passport-reader deployment",
    max_term_width = 100
)]
struct Args {
    /// Base URL of the deployment.
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    url: String,
    /// Public key of an API credential pair (`passport-reader credentials create`).
    #[arg(long, env = "PASSPORT_READER_PUBLIC_KEY")]
    public_key: String,
    /// Secret of the credential pair.
    #[arg(long, env = "PASSPORT_READER_SECRET", hide_env_values = true)]
    secret: String,
    /// Requests per second (all operations together), after the ramp.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Ramp the rate linearly from --ramp-from up to --rate over this long (e.g. 60s, 2m),
    /// then hold it for the rest of --duration.
    #[arg(long, value_parser = parse_duration)]
    ramp: Option<Duration>,
    /// The rate the ramp starts at.
    #[arg(long, default_value_t = 0.0)]
    ramp_from: f64,
    /// How long requests are sent (e.g. 30s, 10m), ramp included.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    duration: Duration,
    /// Relative weights of the operations: create, get, state, list, update, abort, submit.
    #[arg(
        long,
        default_value = "create=3,get=3,state=6,list=1,update=1,abort=1,submit=1"
    )]
    mix: String,
    /// Process id of the server (on this machine), to report its memory (VmRSS) before and
    /// after the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A `passport-reader testdoc create` folder to submit (import its csca.pem into the
    /// server's trust store first and the submissions are APPROVED). Without it, specimens
    /// signed by a CSCA made for this run are submitted, and REJECTED as untrusted.
    #[arg(long, value_name = "DIR")]
    document: Option<PathBuf>,
    /// Requests in flight above which the generator stops sending and counts the requests it
    /// could not send as errors (so an overloaded server cannot exhaust the generator).
    #[arg(long, default_value_t = 10_000)]
    max_in_flight: usize,
    /// Per-request timeout.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    timeout: Duration,
    /// Skip fetching every created session again at the end.
    #[arg(long)]
    no_check: bool,
    /// Seconds between progress lines (0: none).
    #[arg(long, default_value_t = 10)]
    progress: u64,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 5m or 1h"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

fn parse_mix(text: &str) -> Result<Vec<(Op, u32)>> {
    let mut mix = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .with_context(|| format!("--mix: {part:?} is not name=weight"))?;
        let op = Op::from_name(name.trim()).with_context(|| {
            let names: Vec<&str> = OPS.iter().map(|o| o.name()).collect();
            format!(
                "--mix: unknown operation {name:?} (one of {})",
                names.join(", ")
            )
        })?;
        let weight: u32 = weight.trim().parse().context("--mix: weight")?;
        if weight > 0 {
            mix.push((op, weight));
        }
    }
    if mix.is_empty() {
        bail!("--mix has no operation with a weight above 0");
    }
    Ok(mix)
}

/// When the request numbered `k` (from 0) is due, after the start: `rate` per second, reached
/// by a linear ramp from `from` over `ramp` (the k-th request is where the integral of the
/// rate reaches k).
fn scheduled(k: u64, rate: f64, from: f64, ramp: Duration) -> Duration {
    let k = k as f64;
    let t_ramp = ramp.as_secs_f64();
    let in_ramp = (from + rate) / 2.0 * t_ramp;
    let secs = if k < in_ramp && t_ramp > 0.0 {
        // from·t + (rate − from)·t² / (2·t_ramp) = k
        let a = (rate - from) / (2.0 * t_ramp);
        if a.abs() < 1e-12 {
            k / from
        } else {
            (-from + (from * from + 4.0 * a * k).sqrt()) / (2.0 * a)
        }
    } else {
        t_ramp + (k - in_ramp) / rate
    };
    Duration::from_secs_f64(secs.max(0.0))
}

/// The sessions this run created, and what it knows of them.
#[derive(Default)]
struct Sessions {
    /// Every session created: id to the state this run left it in, when it finished it.
    all: Mutex<HashMap<i64, Option<String>>>,
    /// Ids, for picking one at random.
    ids: Mutex<Vec<i64>>,
    /// Sessions nobody has started yet: `(id, token)`, for abort and submit.
    fresh: Mutex<Vec<(i64, String)>>,
    /// Sessions taken for abort or submit (finished, or about to be).
    taken: Mutex<HashSet<i64>>,
}

impl Sessions {
    fn created(&self, id: i64, token: String) {
        if let Ok(mut all) = self.all.lock() {
            all.insert(id, None);
        }
        if let Ok(mut ids) = self.ids.lock() {
            ids.push(id);
        }
        if let Ok(mut fresh) = self.fresh.lock()
            && fresh.len() < 100_000
        {
            fresh.push((id, token));
        }
    }

    fn finished(&self, id: i64, state: &str) {
        if let Ok(mut all) = self.all.lock() {
            all.insert(id, Some(state.to_owned()));
        }
    }

    fn random_id(&self) -> Option<i64> {
        let ids = self.ids.lock().ok()?;
        ids.choose(&mut rand::rng()).copied()
    }

    fn take_fresh(&self) -> Option<(i64, String)> {
        let taken = self.fresh.lock().ok()?.pop()?;
        if let Ok(mut set) = self.taken.lock() {
            set.insert(taken.0);
        }
        Some(taken)
    }

    fn was_taken(&self, id: i64) -> bool {
        self.taken.lock().is_ok_and(|set| set.contains(&id))
    }
}

struct Shared {
    http: reqwest::Client,
    base: String,
    basic: String,
    documents: Vec<Document>,
    sessions: Sessions,
    stats: Stats,
    run: String,
    counter: AtomicU64,
    submit_states: Mutex<HashMap<String, u64>>,
}

/// An API error, or a transport failure, as one line.
type Failure = String;

impl Shared {
    async fn post(&self, method: &str, auth: &str, body: &Value) -> Result<Value, Failure> {
        let response = self
            .http
            .post(format!("{}/api/v1/{method}", self.base))
            .header(reqwest::header::AUTHORIZATION, auth)
            .json(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport_error)?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            format!(
                "{method}: HTTP {} with a body that is not JSON",
                status.as_u16()
            )
        })?;
        if !status.is_success() {
            return Err(format!(
                "{method}: HTTP {} {}",
                status.as_u16(),
                value
                    .get("error_name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ));
        }
        Ok(value)
    }

    async fn api(&self, method: &str, body: Value) -> Result<Value, Failure> {
        self.post(method, &self.basic, &body).await
    }

    async fn create(&self) -> Result<(i64, String), Failure> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let v = self
            .api(
                "session.create",
                json!({"reference": format!("loadtest-{}-{n}", self.run)}),
            )
            .await?;
        let (Some(id), Some(token)) = (
            v.get("id").and_then(Value::as_i64),
            v.get("token").and_then(Value::as_str),
        ) else {
            return Err("session.create: no id or token in the answer".into());
        };
        self.sessions.created(id, token.to_owned());
        Ok((id, token.to_owned()))
    }

    async fn fresh_session(&self) -> Result<(i64, String), Failure> {
        match self.sessions.take_fresh() {
            Some(s) => Ok(s),
            None => {
                let (id, token) = self.create().await?;
                // Not for another abort or submit.
                if let Ok(mut fresh) = self.sessions.fresh.lock() {
                    fresh.retain(|(other, _)| *other != id);
                }
                if let Ok(mut taken) = self.sessions.taken.lock() {
                    taken.insert(id);
                }
                Ok((id, token))
            }
        }
    }

    async fn run(&self, op: Op) -> Result<(), Failure> {
        match op {
            Op::Create => self.create().await.map(|_| ()),
            Op::Get | Op::State | Op::Update => {
                let id = match self.sessions.random_id() {
                    Some(id) => id,
                    None => self.create().await?.0,
                };
                let (method, body) = match op {
                    Op::Get => ("session.get", json!({"id": id})),
                    Op::State => ("session.state", json!({"id": id})),
                    _ => (
                        "session.update",
                        json!({"id": id, "reference": format!("loadtest-{}-updated", self.run)}),
                    ),
                };
                match self.api(method, body).await {
                    Ok(_) => Ok(()),
                    // Updating a session this run is finishing (abort, submit) is refused,
                    // rightly.
                    Err(e)
                        if op == Op::Update
                            && e.ends_with("SessionFinished")
                            && self.sessions.was_taken(id) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::List => self
                .api("session.list", json!({"limit": 20}))
                .await
                .map(|_| ()),
            Op::Abort => {
                let (id, _) = self.fresh_session().await?;
                let v = self.api("session.abort", json!({"id": id})).await?;
                self.sessions
                    .finished(id, v.get("state").and_then(Value::as_str).unwrap_or("?"));
                Ok(())
            }
            Op::Submit => {
                let (id, token) = self.fresh_session().await?;
                let bearer = format!("Bearer {token}");
                let sent = Instant::now();
                let started = self.post("reader.start", &bearer, &json!({})).await?;
                self.stats.step("reader.start", sent.elapsed());
                let challenge = started
                    .get("aa_challenge")
                    .and_then(Value::as_str)
                    .and_then(|c| hex::decode(c).ok())
                    .ok_or("reader.start: no aa_challenge")?;
                let document = self
                    .documents
                    .choose(&mut rand::rng())
                    .ok_or("no document")?;
                let body = document
                    .submit_body(&challenge)
                    .map_err(|e| format!("building the submission: {e}"))?;
                let sent = Instant::now();
                let v = self.post("reader.submit", &bearer, &body).await?;
                self.stats.step("reader.submit", sent.elapsed());
                let state = v
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                self.sessions.finished(id, &state);
                if let Ok(mut states) = self.submit_states.lock() {
                    *states.entry(state).or_default() += 1;
                }
                Ok(())
            }
        }
    }
}

fn transport_error(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        format!("transport: {e}")
    }
}

/// VmRSS and VmHWM of a process, in kB.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.rate.is_nan() || args.rate <= 0.0 || args.ramp_from < 0.0 {
        bail!("--rate must be above 0 and --ramp-from not below 0");
    }
    let mix = parse_mix(&args.mix)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args, mix))
}

async fn run(args: Args, mix: Vec<(Op, u32)>) -> Result<()> {
    let documents = match &args.document {
        Some(dir) => vec![Document::from_dir(dir)?],
        None => {
            let (_csca, documents) = Document::specimens(4)?;
            if mix.iter().any(|(op, _)| *op == Op::Submit) {
                eprintln!(
                    "note: submitting specimens signed by a CSCA made for this run, which the \
                     server does not trust: they end REJECTED (give --document DIR of a \
                     `passport-reader testdoc create` folder whose csca.pem is imported to have \
                     them APPROVED)"
                );
            }
            documents
        }
    };
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", args.public_key, args.secret))
    );
    let http = reqwest::Client::builder()
        .timeout(args.timeout)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        .user_agent("passport-reader-loadtest")
        .build()?;
    let shared = Arc::new(Shared {
        http,
        base: args.url.trim_end_matches('/').to_owned(),
        basic,
        documents,
        sessions: Sessions::default(),
        stats: Stats::default(),
        run: format!("{:x}", rand::rng().random::<u32>()),
        counter: AtomicU64::new(0),
        submit_states: Mutex::default(),
    });

    // Check the credentials, warm up a few connections, and give the server's memory a base.
    shared.api("account.get", json!({})).await.map_err(|e| {
        anyhow::anyhow!(
            "the deployment at {} refuses the credentials or cannot be reached: {e}",
            args.url
        )
    })?;
    let memory_before = args.server_pid.and_then(memory);
    if args.server_pid.is_some() && memory_before.is_none() {
        eprintln!("note: cannot read /proc/<pid>/status of --server-pid; memory not reported");
    }

    let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
    let ramp = args.ramp.unwrap_or_default().min(args.duration);
    let ramp_from = if args.ramp.is_some() {
        args.ramp_from
    } else {
        args.rate
    };
    eprintln!(
        "{} req/s{} for {:?} against {} (mix {})",
        args.rate,
        args.ramp
            .map(|r| format!(" (ramp from {ramp_from} over {r:?})"))
            .unwrap_or_default(),
        args.duration,
        args.url,
        mix.iter()
            .map(|(op, w)| format!("{}={w}", op.name()))
            .collect::<Vec<_>>()
            .join(",")
    );

    let in_flight = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(50);
    let progress = (args.progress > 0).then(|| {
        let shared = shared.clone();
        let in_flight = in_flight.clone();
        let pid = args.server_pid;
        let every = Duration::from_secs(args.progress);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at((start + every).into(), every);
            loop {
                tick.tick().await;
                let (done, errors, p50, p99, max) = shared.stats.take_window();
                let memory = pid
                    .and_then(memory)
                    .map(|(rss, _)| format!(", server {}", mib(rss)))
                    .unwrap_or_default();
                eprintln!(
                    "[{:>5.0}s] {:.0} req/s done, {errors} errors, in flight {}, p50 {} ms, p99 {} ms, max {} ms{memory}",
                    start.elapsed().as_secs_f64(),
                    done as f64 / every.as_secs_f64(),
                    in_flight.load(Ordering::Relaxed),
                    ms(p50),
                    ms(p99),
                    ms(max),
                );
            }
        })
    });

    // The schedule: request k is due at `scheduled(k)`, sent then whatever came back before.
    let mut sent = 0u64;
    let mut late_max = Duration::ZERO;
    let mut tasks = tokio::task::JoinSet::new();
    let mut rng = rand::rng();
    loop {
        let due = scheduled(sent, args.rate, ramp_from, ramp);
        if due >= args.duration {
            break;
        }
        let at = start + due;
        let now = Instant::now();
        if at > now {
            tokio::time::sleep_until(at.into()).await;
        } else {
            late_max = late_max.max(now - at);
        }
        sent += 1;
        let mut pick = rng.random_range(0..total_weight);
        let op = mix
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map_or(Op::Get, |(op, _)| *op);
        if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
            shared.stats.skipped(op);
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let in_flight = in_flight.clone();
        tasks.spawn(async move {
            let sent_at = Instant::now();
            let result = shared.run(op).await;
            let end = Instant::now();
            shared
                .stats
                .record(op, end - at, end - sent_at, result.err());
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
        // Reap finished tasks so the set does not grow with the run.
        while tasks.try_join_next().is_some() {}
    }
    let sending = start.elapsed();
    eprintln!("sent {sent} requests in {sending:?}; waiting for those in flight …");
    while tasks.join_next().await.is_some() {}
    if let Some(p) = progress {
        p.abort();
    }
    let memory_after = args.server_pid.and_then(memory);

    // The report.
    let (ops, errors) = shared.stats.report();
    println!();
    println!(
        "{:<8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}   {:>9}",
        "op", "ok", "errors", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "service p99"
    );
    let mut all = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let (mut ok_total, mut err_total) = (0, 0);
    for (op, s) in &ops {
        all.add(&s.latency)?;
        ok_total += s.ok;
        err_total += s.errors;
        println!(
            "{:<8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}   {:>9}",
            op.name(),
            s.ok,
            s.errors,
            ms(s.latency.value_at_quantile(0.50)),
            ms(s.latency.value_at_quantile(0.95)),
            ms(s.latency.value_at_quantile(0.99)),
            ms(s.latency.value_at_quantile(0.999)),
            ms(s.latency.max()),
            ms(s.service.value_at_quantile(0.99)),
        );
    }
    println!(
        "{:<8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "all",
        ok_total,
        err_total,
        ms(all.value_at_quantile(0.50)),
        ms(all.value_at_quantile(0.95)),
        ms(all.value_at_quantile(0.99)),
        ms(all.value_at_quantile(0.999)),
        ms(all.max()),
    );
    let steps = shared.stats.steps();
    if !steps.is_empty() {
        println!("requests within a submission, each from its sending (successful ones):");
        for (name, h) in &steps {
            println!(
                "  {:<14} {:>7} {:>17} {:>9} {:>9} {:>9} {:>9}",
                name,
                h.len(),
                ms(h.value_at_quantile(0.50)),
                ms(h.value_at_quantile(0.95)),
                ms(h.value_at_quantile(0.99)),
                ms(h.value_at_quantile(0.999)),
                ms(h.max()),
            );
        }
    }
    println!(
        "latency from the scheduled time (service p99: from sending); achieved {:.0} req/s; \
         the generator was at most {} ms late sending",
        sent as f64 / sending.as_secs_f64(),
        ms(u64::try_from(late_max.as_micros()).unwrap_or(u64::MAX)),
    );
    if !errors.is_empty() {
        println!("errors:");
        for (kind, n) in &errors {
            println!("  {n:>8}  {kind}");
        }
    }
    if let Ok(states) = shared.submit_states.lock()
        && !states.is_empty()
    {
        let mut states: Vec<_> = states.iter().collect();
        states.sort();
        let text: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!("submissions ended: {}", text.join(", "));
    }
    match (memory_before, memory_after) {
        (Some((before, _)), Some((after, peak))) => println!(
            "server memory (VmRSS): {} before, {} after ({:+.1} MiB), peak {}",
            mib(before),
            mib(after),
            (after as f64 - before as f64) / 1024.0,
            mib(peak)
        ),
        (Some(_), None) => println!("server memory: the process was gone at the end"),
        _ => {}
    }

    if !args.no_check {
        check_sessions(&shared).await?;
    }
    Ok(())
}

/// Fetches every session the run created: each must still exist, and those the run finished
/// must be in the state it left them in.
async fn check_sessions(shared: &Arc<Shared>) -> Result<()> {
    let sessions: Vec<(i64, Option<String>)> = shared
        .sessions
        .all
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .iter()
        .map(|(id, s)| (*id, s.clone()))
        .collect();
    let total = sessions.len();
    eprintln!("checking the {total} sessions created …");
    let queue = Arc::new(Mutex::new(sessions));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (shared, queue, problems) = (shared.clone(), queue.clone(), problems.clone());
        workers.spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((id, expected)) = next else { break };
                let mut result = shared.api("session.state", json!({"id": id})).await;
                for wait in [1, 2, 4] {
                    match &result {
                        Err(e) if !e.contains("HTTP 4") => {
                            tokio::time::sleep(Duration::from_secs(wait)).await;
                            result = shared.api("session.state", json!({"id": id})).await;
                        }
                        _ => break,
                    }
                }
                let problem = match (result, expected) {
                    (Err(e), _) => Some(format!("session {id}: {e}")),
                    (Ok(v), Some(expected))
                        if v.get("state").and_then(Value::as_str) != Some(&expected) =>
                    {
                        Some(format!(
                            "session {id}: state {:?} instead of {expected}",
                            v.get("state")
                        ))
                    }
                    _ => None,
                };
                if let (Some(p), Ok(mut problems)) = (problem, problems.lock()) {
                    problems.push(p);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let problems = problems.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    if problems.is_empty() {
        println!("sessions: all {total} created are there, in the state the run left them in");
        Ok(())
    } else {
        for p in problems.iter().take(20) {
            println!("  {p}");
        }
        bail!(
            "{} of {total} sessions lost or in another state",
            problems.len()
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_holds_the_rate_and_ramps_linearly() {
        let fixed = |k| scheduled(k, 1000.0, 1000.0, Duration::ZERO).as_secs_f64();
        assert!((fixed(1000) - 1.0).abs() < 1e-9);
        // From 0 to 100/s over 10 s: 500 requests in the ramp, then 100/s.
        let ramp = |k| scheduled(k, 100.0, 0.0, Duration::from_secs(10)).as_secs_f64();
        assert!((ramp(500) - 10.0).abs() < 1e-6);
        assert!((ramp(125) - 5.0).abs() < 1e-6);
        assert!((ramp(600) - 11.0).abs() < 1e-6);
        let flat_ramp = |k| scheduled(k, 50.0, 50.0, Duration::from_secs(10)).as_secs_f64();
        assert!((flat_ramp(100) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn mix_and_durations_parse() {
        let mix = parse_mix("create=2, get=0,submit=1").unwrap();
        assert_eq!(mix, vec![(Op::Create, 2), (Op::Submit, 1)]);
        assert!(parse_mix("fly=1").is_err());
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
    }
}
