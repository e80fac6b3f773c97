//! The holder's page `GET /open?token=…`: over HTTP (content, escaping, status codes, headers),
//! and in headless Chromium driven through chromedriver (live state, redirect).

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use server::{Settings, Store};

use crate::both_backends;
use crate::helpers::{TestApp, start};

both_backends!(
    page_says_what_is_asked_and_how,
    page_headers_forbid_inline_code_caching_and_referrers,
    hostile_redirect_urls_are_ignored_or_escaped,
    unknown_token_gets_a_404_page,
    finished_session_gets_a_410_page,
    expired_session_gets_a_410_page,
    state_endpoint_follows_the_session,
    public_url_setting_is_used_for_links,
);

/// Creates a session and returns its id and token.
async fn session(app: &TestApp, body: Value) -> (i64, String) {
    let (status, v) = app.call("session.create", body).await;
    assert_eq!(status, 200, "{v}");
    (
        v["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

fn open_url(app: &TestApp, token: &str, redirect: Option<&str>) -> String {
    let mut u = url::Url::parse(&format!("{}/open", app.base)).unwrap();
    u.query_pairs_mut().append_pair("token", token);
    if let Some(r) = redirect {
        u.query_pairs_mut().append_pair("redirect_url", r);
    }
    u.into()
}

async fn get(app: &TestApp, url: &str) -> (u16, HeaderMap, String) {
    let r: Response = app.client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Moves a session to `state` behind the API's back, as the holder's flow would.
async fn set_state(store: &Store, id: i64, state: &str) {
    let sql = "UPDATE sessions SET state = $1 WHERE id = $2";
    match store {
        Store::Sqlite(sqlite) => {
            sqlx::query(sql)
                .bind(state)
                .bind(id)
                .execute(&sqlite.pool)
                .await
                .unwrap();
        }
        Store::Postgres(server::store::PostgresStore { pool, .. }) => {
            sqlx::query(sql)
                .bind(state)
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn page_says_what_is_asked_and_how(settings: Settings) {
    let app = start(settings).await;
    let (_, token) = session(
        &app,
        json!({ "face_verification": true, "passport_only": true }),
    )
    .await;
    let (status, headers, page) = get(
        &app,
        &open_url(&app, &token, Some("https://shop.example/done")),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    for want in [
        "<html lang=\"en\">",
        "<h1>Confirm your identity with your passport</h1>",
        "Only a passport is accepted",
        "selfie",
        // The ways that exist: a USB reader with the CLI, and a reading app (the integrator's)
        // through the QR code; a browser alone cannot read the chip, and the page says so.
        &format!("passport-reader read --server {} --token {token}", app.base),
        "with a reading app",
        "A phone's web browser cannot read the chip by itself",
        "<p class=\"state-progress\" hidden></p>",
        "<svg class=\"qr\"",
        "aria-label=\"QR code of the link to this page\"",
        // The QR code's link, shown as text too, is this same link.
        &format!(
            "{}/open?token={token}&amp;redirect_url=https%3A%2F%2Fshop.example%2Fdone",
            app.base
        ),
        // The live region with the state, and where the script polls.
        "role=\"status\" aria-live=\"polite\"",
        "data-state=\"CREATED\"",
        &format!("data-state-url=\"/open/state?token={token}\""),
        "Waiting for you to start",
        "data-redirect-url=\"https://shop.example/done\"",
        "takes you back to <strong>shop.example</strong>",
        "<script src=\"/open/app.js\" defer></script>",
        "<noscript>",
    ] {
        assert!(page.contains(want), "missing {want:?} in\n{page}");
    }

    // Without face verification or the passport-only rule, neither is asked for.
    let (_, token) = session(&app, json!({})).await;
    let (status, _, page) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 200);
    assert!(!page.contains("selfie"));
    assert!(!page.contains("Only a passport is accepted"));
    assert!(page.contains("identity card with a chip"));
    assert!(!page.contains("data-redirect-url"));
    assert!(!page.contains("takes you back"));

    // The script and the style the page loads.
    let (status, headers, js) = get(&app, &format!("{}/open/app.js", app.base)).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/javascript"));
    assert!(js.contains("data-state-url"));
    let (status, headers, _) = get(&app, &format!("{}/open/app.css", app.base)).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/css"));
}

/// Whether an attribute like ` onclick=` appears: inline code the CSP would block.
fn has_event_handler_attribute(page: &str) -> bool {
    page.match_indices(" on").any(|(i, _)| {
        let rest = &page[i + 3..];
        let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

fn assert_private_page_headers(headers: &HeaderMap) {
    let csp = header(headers, "content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(headers, "cache-control"), "no-store");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff");
}

async fn page_headers_forbid_inline_code_caching_and_referrers(settings: Settings) {
    let app = start(settings).await;
    let (id, token) = session(&app, json!({})).await;
    let (status, headers, page) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 200);
    assert_private_page_headers(&headers);
    // The CSP forbids inline code: the page must have none.
    assert!(!page.contains("<script>"));
    assert!(!page.contains("<style"));
    assert!(!page.contains(" style="));
    assert!(!has_event_handler_attribute(&page), "{page}");

    let (_, headers, _) = get(&app, &format!("{}/open/state?token={token}", app.base)).await;
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");

    // The 404 and 410 pages carry the same headers.
    let (status, headers, _) = get(&app, &open_url(&app, "no-such-token", None)).await;
    assert_eq!(status, 404);
    assert_private_page_headers(&headers);
    let (status, _) = app.call("session.abort", json!({ "id": id })).await;
    assert_eq!(status, 200);
    let (status, headers, _) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 410);
    assert_private_page_headers(&headers);
}

async fn hostile_redirect_urls_are_ignored_or_escaped(settings: Settings) {
    let app = start(settings).await;
    let (_, token) = session(&app, json!({})).await;
    for hostile in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/",
        "/relative/path",
        "https://user:password@evil.example/",
        "\"><script>alert(1)</script>",
    ] {
        let (status, _, page) = get(&app, &open_url(&app, &token, Some(hostile))).await;
        assert_eq!(status, 200, "{hostile}");
        assert!(
            page.contains("The return address given with this link is not an absolute"),
            "{hostile}: no note in\n{page}"
        );
        assert!(!page.contains("data-redirect-url"), "{hostile}");
        assert!(!page.to_lowercase().contains("javascript:"), "{hostile}");
        assert!(!page.contains("evil.example"), "{hostile}");
        assert!(!page.contains("<script>"), "{hostile}");
        // Not even in the QR code's link.
        assert!(!page.contains("redirect_url="), "{hostile}");
    }

    // A valid URL full of markup: followed, and escaped wherever it appears.
    let tricky = "https://shop.example/a\"b'c<d>e?q=<script>alert(1)</script>&x=\"y\"";
    let (status, _, page) = get(&app, &open_url(&app, &token, Some(tricky))).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-redirect-url=\"https://shop.example/"));
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<d>"), "{page}");
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    // Every attribute value stays closed: no quote from the URL survives unescaped.
    let redirect_attr = page
        .split("data-redirect-url=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(!redirect_attr.contains('<') && !redirect_attr.contains('\''));
    assert!(!redirect_attr.contains(' '));

    // A hostile token is escaped too (it finds no session, and is not echoed).
    let (status, _, page) = get(&app, &open_url(&app, "<img src=x onerror=alert(1)>", None)).await;
    assert_eq!(status, 404);
    assert!(!page.contains("<img"));
}

async fn unknown_token_gets_a_404_page(settings: Settings) {
    let app = start(settings).await;
    for url in [
        open_url(&app, "not-a-token-of-any-session", None),
        open_url(&app, "", None),
        format!("{}/open", app.base),
        format!("{}/open?token=%zz&&=", app.base),
        open_url(&app, &"x".repeat(10_000), None),
    ] {
        let (status, headers, page) = get(&app, &url).await;
        assert_eq!(status, 404, "{url}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
        assert!(page.contains("<h1>This link is not valid</h1>"), "{page}");
        assert!(page.contains("<html lang=\"en\">"));
        assert!(!page.contains("error_name"), "JSON from the API? {page}");
    }
    let (status, _, body) = get(&app, &format!("{}/open/state?token=nope", app.base)).await;
    assert_eq!(status, 404);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error_name"], "SessionNotFound");
}

async fn finished_session_gets_a_410_page(settings: Settings) {
    let app = start(settings).await;
    let (id, token) = session(&app, json!({})).await;
    let (status, _) = app.call("session.abort", json!({ "id": id })).await;
    assert_eq!(status, 200);
    let (status, headers, page) = get(
        &app,
        &open_url(&app, &token, Some("https://shop.example/back?r=1")),
    )
    .await;
    assert_eq!(status, 410, "{page}");
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert!(page.contains("<h1>This check is over</h1>"), "{page}");
    assert!(page.contains("This check was cancelled"), "{page}");
    assert!(
        page.contains("href=\"https://shop.example/back?r=1\""),
        "{page}"
    );
    assert!(page.contains("Continue to shop.example"), "{page}");
    // Nothing left to follow: no script, no instructions.
    assert!(!page.contains("<script"));
    assert!(!page.contains("passport-reader read"));

    // Each final state has its own words.
    for (state, words) in [
        ("APPROVED", "your passport is verified"),
        ("REJECTED", "could not be verified"),
        ("FAILED", "technical problem"),
    ] {
        let (id, token) = session(&app, json!({})).await;
        set_state(&app.store, id, state).await;
        let (status, _, page) = get(&app, &open_url(&app, &token, None)).await;
        assert_eq!(status, 410, "{state}");
        assert!(page.contains(words), "{state}: {page}");
        assert!(page.contains(&format!("data-state=\"{state}\"")), "{page}");
        assert!(!page.contains("Continue to"));
    }

    // COMPLETED is not over for the holder: the verification is still being decided.
    let (id, token) = session(&app, json!({})).await;
    set_state(&app.store, id, "COMPLETED").await;
    let (status, _, page) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Checking your passport"), "{page}");
}

async fn expired_session_gets_a_410_page(settings: Settings) {
    let app = start(settings).await;
    let (_, token) = session(&app, json!({})).await;
    app.clock.advance(3601);
    let (status, _, page) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link has expired"), "{page}");
}

async fn state_endpoint_follows_the_session(settings: Settings) {
    let app = start(settings).await;
    let (id, token) = session(&app, json!({ "reference": "ref-1" })).await;
    let state = || async {
        let (status, headers, body) =
            get(&app, &format!("{}/open/state?token={token}", app.base)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&headers, "content-type"), "application/json");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let v = state().await;
    // What the page shows, and nothing about the person or the integrator.
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["finished", "message", "progress", "state", "title"]);
    assert!(v["progress"].is_null(), "no relay, no progress: {v}");
    assert_eq!(v["state"], "CREATED");
    assert_eq!(v["finished"], false);
    assert_eq!(v["title"], "Waiting for you to start");

    set_state(&app.store, id, "INITIATED").await;
    let v = state().await;
    assert_eq!(
        (v["state"].as_str(), v["finished"].as_bool()),
        (Some("INITIATED"), Some(false))
    );
    assert_eq!(v["title"], "Reading your passport");

    set_state(&app.store, id, "COMPLETED").await;
    assert_eq!(state().await["finished"], false);

    set_state(&app.store, id, "APPROVED").await;
    let v = state().await;
    assert_eq!(
        (v["state"].as_str(), v["finished"].as_bool()),
        (Some("APPROVED"), Some(true))
    );
}

async fn public_url_setting_is_used_for_links(mut settings: Settings) {
    settings.public_url = Some(server::config::PublicUrl::parse("https://id.example/").unwrap());
    let app = start(settings).await;
    let (_, token) = session(&app, json!({})).await;
    let (status, _, page) = get(&app, &open_url(&app, &token, None)).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!(
        "passport-reader read --server https://id.example --token {token}"
    )));
    assert!(page.contains(&format!("href=\"https://id.example/open?token={token}\"")));
    assert!(!page.contains(&app.base));
}

#[tokio::test]
async fn invalid_public_url_is_refused_by_the_settings() {
    let err = toml::from_str::<Settings>("public_url = \"id.example\"").unwrap_err();
    assert!(err.to_string().contains("public_url"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_test(dir.path());
    let err = settings
        .apply_env(|name| (name == "PASSPORT_READER_PUBLIC_URL").then(|| "ftp://id.example".into()))
        .unwrap_err();
    assert!(
        err.to_string().contains("PASSPORT_READER_PUBLIC_URL"),
        "{err}"
    );
}

/// In headless Chromium: the page follows the session live and lands on redirect_url.
mod browser {
    use std::io::Write;
    use std::net::SocketAddr;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::Html;
    use serde_json::{Value, json};

    use super::{open_url, session};
    use crate::helpers::{Backend, TestDb, start};

    const CHROMIUM: &str = "/usr/bin/chromium";
    const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
    /// Bound on every wait; the page polls every 2 s and redirects 3 s after the end.
    const WAIT: Duration = Duration::from_secs(30);

    /// chromedriver in its own process group, killed with everything it started on drop.
    struct Driver {
        child: Child,
        url: String,
        http: reqwest::Client,
        session: Option<String>,
    }

    impl Drop for Driver {
        fn drop(&mut self) {
            // Chromium runs in chromedriver's process group: end the whole group.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Driver {
        async fn start(user_data_dir: &Path) -> Driver {
            use std::os::unix::process::CommandExt;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("start chromedriver");
            let mut driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(90))
                    .build()
                    .unwrap(),
                session: None,
            };
            let deadline = Instant::now() + WAIT;
            loop {
                let ready = driver
                    .http
                    .get(format!("{}/status", driver.url))
                    .send()
                    .await
                    .ok()
                    .map(|r| r.json::<Value>());
                if let Some(v) = ready {
                    if v.await.is_ok_and(|v| v["value"]["ready"] == true) {
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "chromedriver did not get ready");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let args = [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=800,1000",
            ]
            .iter()
            .map(|a| a.to_string())
            .chain([format!("--user-data-dir={}", user_data_dir.display())])
            .collect::<Vec<_>>();
            let v = driver
                .command(
                    reqwest::Method::POST,
                    "/session",
                    json!({ "capabilities": { "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                    } } }),
                )
                .await;
            driver.session = Some(v["sessionId"].as_str().expect("session id").to_owned());
            driver
        }

        async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.url));
            if method != reqwest::Method::GET {
                request = request.json(&body);
            }
            let response = request.send().await.expect("WebDriver request");
            let status = response.status();
            let v: Value = response.json().await.expect("WebDriver JSON");
            assert!(status.is_success(), "WebDriver {path}: {status} {v}");
            v["value"].clone()
        }

        fn session_path(&self, rest: &str) -> String {
            format!(
                "/session/{}{rest}",
                self.session.as_deref().unwrap_or_default()
            )
        }

        async fn goto(&self, url: &str) {
            self.command(
                reqwest::Method::POST,
                &self.session_path("/url"),
                json!({ "url": url }),
            )
            .await;
        }

        async fn current_url(&self) -> String {
            let v = self
                .command(reqwest::Method::GET, &self.session_path("/url"), json!({}))
                .await;
            v.as_str().unwrap_or_default().to_owned()
        }

        /// The visible text of the element with this id ("" while there is none).
        async fn text_of(&self, id: &str) -> String {
            let v = self
                .command(
                    reqwest::Method::POST,
                    &self.session_path("/execute/sync"),
                    json!({
                        "script": "var e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
                        "args": [id],
                    }),
                )
                .await;
            v.as_str().unwrap_or_default().to_owned()
        }

        async fn screenshot(&self, path: &str) {
            use base64::Engine;
            let v = self
                .command(
                    reqwest::Method::GET,
                    &self.session_path("/screenshot"),
                    json!({}),
                )
                .await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or_default())
                .unwrap();
            std::fs::write(path, png).unwrap();
        }

        /// Polls until `check` holds for the element's text; fails after [`WAIT`].
        async fn wait_for_text(&self, id: &str, check: impl Fn(&str) -> bool) -> String {
            let deadline = Instant::now() + WAIT;
            loop {
                let text = self.text_of(id).await;
                if check(&text) {
                    return text;
                }
                assert!(
                    Instant::now() < deadline,
                    "#{id} never matched; it reads {text:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }

        async fn quit(&mut self) {
            if self.session.is_some() {
                let path = self.session_path("");
                self.command(reqwest::Method::DELETE, &path, json!({}))
                    .await;
                self.session = None;
            }
        }
    }

    /// Where redirect_url points: records the Referer of each visit.
    async fn start_receiver() -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
        let visits = Arc::new(Mutex::new(Vec::new()));
        let router = axum::Router::new()
            .route(
                "/done",
                axum::routing::get(
                    |State(visits): State<Arc<Mutex<Vec<Option<String>>>>>, headers: HeaderMap| async move {
                        let referer = headers
                            .get("referer")
                            .and_then(|h| h.to_str().ok())
                            .map(str::to_owned);
                        visits.lock().unwrap().push(referer);
                        Html("<!doctype html><title>Shop</title><h1 id=\"landed\">Back at the shop</h1>")
                    },
                ),
            )
            .with_state(visits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        (addr, visits)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn page_follows_the_state_live_and_lands_on_redirect_url() {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            let notice = format!(
                "NOTICE: {CHROMIUM} or {CHROMEDRIVER} is absent (Debian packages chromium, \
                 chromium-driver); the holder's page browser test is skipped"
            );
            // Straight to stderr as well: the harness captures eprintln! of passing tests.
            let _ = writeln!(std::io::stderr(), "{notice}");
            eprintln!("{notice}");
            return;
        }
        let db = TestDb::new(Backend::Sqlite).await.expect("sqlite db");
        let app = start(db.settings.clone()).await;
        let (receiver, visits) = start_receiver().await;
        let done = format!("http://{receiver}/done?order=42");
        let (id, token) = session(&app, json!({ "face_verification": true })).await;
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Driver::start(profile.path()).await;

        driver.goto(&open_url(&app, &token, Some(&done))).await;
        let status = driver
            .wait_for_text("status", |t| t.contains("Waiting for you to start"))
            .await;
        assert!(!status.is_empty());
        if let Ok(path) = std::env::var("OPEN_PAGE_SCREENSHOT") {
            driver.screenshot(&path).await;
        }

        // The holder's reading client starts (reader API, session token): the page says so
        // without a reload.
        let started = app
            .client
            .post(format!("{}/api/v1/reader.start", app.base))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 200, "{}", started.text().await.unwrap());
        driver
            .wait_for_text("status", |t| t.contains("Reading your passport"))
            .await;
        assert!(driver.current_url().await.starts_with(&app.base));

        // The integrator aborts: the page says so, then goes on to redirect_url.
        let (code, v) = app.call("session.abort", json!({ "id": id })).await;
        assert_eq!(code, 200, "{v}");
        driver
            .wait_for_text("status", |t| t.contains("This check was cancelled"))
            .await;
        let deadline = Instant::now() + WAIT;
        while driver.current_url().await != done {
            assert!(Instant::now() < deadline, "never left for {done}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        driver
            .wait_for_text("landed", |t| t == "Back at the shop")
            .await;
        // The token in the page's address does not travel to the integrator's site.
        assert_eq!(*visits.lock().unwrap(), [None]);

        driver.quit().await;
        drop(driver);
        db.cleanup().await;
    }
}
