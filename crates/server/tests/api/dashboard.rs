//! The integrator's dashboard under /dashboard: over HTTP (sign-in, throttle, CSRF, accounts
//! kept apart, two-factor, lists) and end to end in headless Chromium through chromedriver.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use serde_json::json;
use server::Settings;
use server::accounts::NewCredentials;

use crate::both_backends;
use crate::helpers::{TestApp, start};
use crate::verification::{new_session, read_and_submit, trust_csca};

both_backends!(
    sign_in_and_out_with_a_database_session,
    failed_sign_ins_are_throttled_without_telling_accounts_apart,
    a_wrong_password_takes_as_long_for_an_unknown_email,
    forms_without_their_csrf_token_are_refused,
    one_account_never_sees_anothers_sessions_images_or_credentials,
    two_factor_sign_in_with_totp_and_recovery_codes,
    password_change_signs_out_everywhere,
    session_list_filters_and_pages,
    rejected_session_shows_what_failed_with_portrait_and_selfie,
    trust_import_is_for_the_named_administrators_only,
    trust_store_marks_expired_expiring_and_stale_entries,
    browser_end_to_end,
);

const PASSWORD: &str = "correct horse battery staple";

/// A browser stand-in over HTTP: keeps cookies, never follows redirects.
struct Web {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The first `name="csrf" value="…"` of the page.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    /// The `value` of the input with this id.
    fn input(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id}"));
        let rest = &self.body[at..];
        let start = rest.find("value=\"").unwrap() + 7;
        let end = rest[start..].find('"').unwrap() + start;
        rest[start..end].to_owned()
    }
}

impl Web {
    fn new(app: &TestApp) -> Web {
        Web {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Page {
            status,
            headers,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Email and password on the sign-in form; the answer to the POST.
    async fn try_sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/dashboard/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/dashboard/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    async fn sign_in(&mut self, email: &str, password: &str) {
        let page = self.try_sign_in(email, password).await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location(), "/dashboard/sessions");
    }

    /// The sign-in's CSRF token, from a signed-in page.
    async fn csrf(&mut self) -> String {
        let page = self.get("/dashboard/settings").await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.csrf()
    }
}

async fn other_account(app: &TestApp) -> (String, NewCredentials) {
    let email = format!(
        "{}@example.com",
        server::support::ids::random_token(6).to_lowercase()
    );
    server::accounts::create_account(&app.store, &app.clock, &email, "another long password")
        .await
        .unwrap();
    let creds = server::accounts::create_credentials(&app.store, &app.clock, &email, Some("b"))
        .await
        .unwrap();
    (email, creds)
}

async fn sign_in_and_out_with_a_database_session(settings: Settings) {
    let app = start(settings).await;
    let mut web = Web::new(&app);
    // Signed out, every page leads to the sign-in form.
    for path in [
        "/dashboard",
        "/dashboard/sessions",
        "/dashboard/settings",
        "/dashboard/trust",
    ] {
        let page = web.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location(), "/dashboard/sign-in", "{path}");
    }
    let form = web.get("/dashboard/sign-in").await;
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(form.headers["cache-control"], "no-store");
    assert!(form.body.contains("<label for=\"email\">Email</label>"));
    assert!(!form.body.contains("<script>") && !form.body.contains(" style="));

    let page = web.try_sign_in(&app.email.to_uppercase(), PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let set_cookie: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session_cookie = set_cookie
        .iter()
        .find(|c| c.starts_with("pr_dashboard="))
        .expect("a sign-in cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        session_cookie.contains("Path=/dashboard"),
        "{session_cookie}"
    );
    let token = web.cookies["pr_dashboard"].clone();
    assert_eq!(token.len(), 43, "256 random bits");
    // Stored hashed: the token itself is nowhere in the table.
    let stored: Vec<Vec<u8>> = match &app.store {
        server::Store::Sqlite(sqlite) => {
            let pool = &sqlite.pool;
            sqlx::query_scalar("SELECT token_hash FROM dashboard_sessions")
                .fetch_all(pool)
                .await
                .unwrap()
        }
        server::Store::Postgres(server::store::PostgresStore { pool, .. }) => {
            sqlx::query_scalar("SELECT token_hash FROM dashboard_sessions")
                .fetch_all(pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored, [server::support::digest::sha256(token.as_bytes())]);

    let page = web.get("/dashboard/sessions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&app.email));
    assert!(page.body.contains("<h1>Sessions</h1>"));

    let csrf = page.csrf();
    let out = web.post("/dashboard/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out.location().starts_with("/dashboard/sign-in"));
    // The old cookie no longer works, even if the browser kept it.
    web.cookies.insert("pr_dashboard".into(), token);
    let page = web.get("/dashboard/sessions").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/dashboard/sign-in");

    // Two sign-ins; "sign out everywhere" from one ends both.
    let mut phone = Web::new(&app);
    let mut laptop = Web::new(&app);
    phone.sign_in(&app.email, PASSWORD).await;
    laptop.sign_in(&app.email, PASSWORD).await;
    let csrf = phone.csrf().await;
    let page = phone
        .post(
            "/dashboard/settings/sign-out-everywhere",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, 303);
    for web in [&mut phone, &mut laptop] {
        assert_eq!(web.get("/dashboard/settings").await.status, 303);
    }
}

async fn failed_sign_ins_are_throttled_without_telling_accounts_apart(settings: Settings) {
    let app = start(settings).await;
    let ghost = "nobody-here@example.com";
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        let mut web = Web::new(&app);
        let a = web.try_sign_in(&app.email, "a wrong password!").await;
        let b = web.try_sign_in(ghost, "a wrong password!").await;
        assert_eq!((a.status, b.status), (401, 401));
        known.push(a.body.replace(&app.email, "EMAIL"));
        unknown.push(b.body.replace(ghost, "EMAIL"));
    }
    // The same page for an account that exists and one that does not.
    for (a, b) in known.iter().zip(&unknown) {
        let strip = |s: &str| {
            let i = s.find("name=\"csrf\"").unwrap();
            let j = s[i..].find('>').unwrap() + i;
            format!("{}{}", &s[..i], &s[j..])
        };
        assert_eq!(strip(a), strip(b));
        assert!(a.contains("The email address or the password is not right."));
    }
    // The sixth try is refused before the password is looked at, the right one included.
    let mut web = Web::new(&app);
    let page = web.try_sign_in(&app.email, PASSWORD).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Too many failed sign-ins"));
    assert!(!web.cookies.contains_key("pr_dashboard"));
    let page = web.try_sign_in(ghost, PASSWORD).await;
    assert_eq!(page.status, 429);

    // Per client address: 20 failures from here, over many emails, close it for everyone.
    let (other, _) = other_account(&app).await;
    for i in 0..10 {
        let page = web
            .try_sign_in(&format!("spray{i}@example.com"), "a wrong password!")
            .await;
        assert_eq!(page.status, 401);
    }
    let page = web.try_sign_in(&other, "another long password").await;
    assert_eq!(page.status, 429, "the 21st attempt from this address");
    assert!(page.body.contains("Too many failed sign-ins"));
}

/// The password is checked (Argon2) whether or not the email has an account: the median time of
/// a wrong sign-in is about the same either way. Without the decoy hash an unknown email would be
/// answered many times faster.
async fn a_wrong_password_takes_as_long_for_an_unknown_email(settings: Settings) {
    let app = start(settings).await;
    let mut web = Web::new(&app);
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for round in 0..8 {
        let is_known = round % 2 == 0;
        let email = if is_known {
            app.email.clone()
        } else {
            format!(
                "{}@example.com",
                server::support::ids::random_token(6).to_lowercase()
            )
        };
        let form = web.get("/dashboard/sign-in").await;
        let csrf = form.csrf();
        let started = std::time::Instant::now();
        let page = web
            .post(
                "/dashboard/sign-in",
                &[
                    ("csrf", &csrf),
                    ("email", &email),
                    ("password", "not the password"),
                ],
            )
            .await;
        let took = started.elapsed().as_secs_f64();
        assert_eq!(page.status, 401);
        if is_known {
            known.push(took)
        } else {
            unknown.push(took)
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (v[1] + v[2]) / 2.0
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    assert!(u > k / 3.0 && u < k * 3.0, "known {k:.4}s, unknown {u:.4}s");
}

async fn forms_without_their_csrf_token_are_refused(settings: Settings) {
    let app = start(settings).await;
    let mut web = Web::new(&app);
    // The sign-in form itself: its token must match the cookie it came with.
    let form = web.get("/dashboard/sign-in").await;
    let page = web
        .post(
            "/dashboard/sign-in",
            &[("email", &app.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    let page = web
        .post(
            "/dashboard/sign-in",
            &[
                ("csrf", "forged"),
                ("email", &app.email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = web
        .post(
            "/dashboard/sign-in",
            &[
                ("csrf", &form.csrf()),
                ("email", &app.email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);

    let csrf = web.csrf().await;
    let before = server::accounts::list_credentials(&app.store, &app.email)
        .await
        .unwrap()
        .len();
    for form in [
        vec![("name", "no token")],
        vec![("csrf", "wrong"), ("name", "bad")],
    ] {
        let page = web.post("/dashboard/settings/credentials", &form).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(page.body.contains("Form refused"));
    }
    let secret = server::accounts::webhook_secret(&app.store, &app.email, false)
        .await
        .unwrap();
    let page = web
        .post("/dashboard/settings/webhook-secret/rotate", &[])
        .await;
    assert_eq!(page.status, 403);
    let page = web
        .post(
            "/dashboard/settings/credentials/revoke",
            &[("public_key", &app.creds.public_key)],
        )
        .await;
    assert_eq!(page.status, 403);
    let id = app.create_session(json!({})).await;
    for action in ["abort", "delete"] {
        let page = web
            .post(
                &format!("/dashboard/sessions/{id}/{action}"),
                &[("csrf", "x")],
            )
            .await;
        assert_eq!(page.status, 403, "{action}");
    }
    let page = web.post("/dashboard/sign-out", &[]).await;
    assert_eq!(page.status, 403);
    // Nothing changed.
    assert_eq!(
        server::accounts::list_credentials(&app.store, &app.email)
            .await
            .unwrap()
            .len(),
        before
    );
    assert_eq!(
        server::accounts::webhook_secret(&app.store, &app.email, false)
            .await
            .unwrap(),
        secret
    );
    let (status, s) = app.call("session.get", json!({"id": id})).await;
    assert_eq!((status, s["state"].as_str()), (200, Some("CREATED")));
    let (status, _) = app.call("account.get", json!({})).await;
    assert_eq!(status, 200);
    // With the token, the same form works.
    let page = web
        .post(
            "/dashboard/settings/credentials",
            &[("csrf", &csrf), ("name", "ok")],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"new-secret\""));
}

async fn one_account_never_sees_anothers_sessions_images_or_credentials(settings: Settings) {
    let app = start(settings).await;
    let (b_email, b_creds) = other_account(&app).await;
    // B's approved session, with a portrait, and a callback.
    let (csca, document) = testdoc::issue_specimen(crate::verification::now()).unwrap();
    trust_csca(&app, &csca).await;
    let (status, v) = app
        .call_as(
            &b_creds,
            "session.create",
            json!({"reference": "b-secret-ref", "callback_url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let b_id = v["id"].as_i64().unwrap();
    let b_token = v["token"].as_str().unwrap().to_owned();
    let (status, answer) = read_and_submit(&app, &b_token, &document, |_| {}).await;
    assert_eq!((status, answer["state"].as_str()), (200, Some("APPROVED")));

    // B sees its own session and portrait.
    let mut b = Web::new(&app);
    b.sign_in(&b_email, "another long password").await;
    let page = b.get(&format!("/dashboard/sessions/{b_id}")).await;
    assert_eq!(page.status, 200);
    let event_id = {
        let marker = "data-event-id=\"";
        let i = page.body.find(marker).expect("a callback row") + marker.len();
        page.body[i..i + page.body[i..].find('"').unwrap()].to_owned()
    };
    let portrait = b.get(&format!("/dashboard/sessions/{b_id}/portrait")).await;
    assert_eq!(portrait.status, 200);
    assert_eq!(portrait.headers["content-type"], "image/jpeg");
    assert_eq!(portrait.headers["cache-control"], "no-store");

    let (_, events) = app
        .call_as(&b_creds, "callback.list", json!({"session_id": b_id}))
        .await;
    let b_events = events.as_array().unwrap().len();
    assert!(b_events >= 1, "{events}");

    // A, signed in, tries every URL of B's directly.
    let mut a = Web::new(&app);
    a.sign_in(&app.email, PASSWORD).await;
    let csrf = a.csrf().await;
    let list = a.get("/dashboard/sessions").await;
    assert!(!list.body.contains(&b_id.to_string()));
    assert!(!list.body.contains("b-secret-ref"));
    let filtered = a.get("/dashboard/sessions?reference=b-secret-ref").await;
    assert!(!filtered.body.contains(&b_id.to_string()));
    for path in [
        format!("/dashboard/sessions/{b_id}"),
        format!("/dashboard/sessions/{b_id}/portrait"),
        format!("/dashboard/sessions/{b_id}/face"),
        format!("/dashboard/sessions/{b_id}/abort"),
        format!("/dashboard/sessions/{b_id}/delete"),
    ] {
        let page = a.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.body.contains("VAN DER STEEN"), "{path}");
    }
    for path in [
        format!("/dashboard/sessions/{b_id}/abort"),
        format!("/dashboard/sessions/{b_id}/delete"),
        format!("/dashboard/sessions/{b_id}/callbacks/{event_id}/resend"),
    ] {
        let page = a.post(&path, &[("csrf", &csrf)]).await;
        assert_eq!(page.status, 404, "{path}");
    }
    // Nor through one of A's own sessions.
    let a_id = app.create_session(json!({})).await;
    let page = a
        .post(
            &format!("/dashboard/sessions/{a_id}/callbacks/{event_id}/resend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, 404);
    let settings_page = a.get("/dashboard/settings").await;
    assert!(!settings_page.body.contains(&b_creds.public_key));
    let page = a
        .post(
            "/dashboard/settings/credentials/revoke",
            &[("csrf", &csrf), ("public_key", &b_creds.public_key)],
        )
        .await;
    assert_eq!(page.status, 404);
    // B's session, events and credentials are untouched.
    let (status, s) = app
        .call_as(&b_creds, "session.get", json!({"id": b_id}))
        .await;
    assert_eq!((status, s["state"].as_str()), (200, Some("APPROVED")));
    let (_, events) = app
        .call_as(&b_creds, "callback.list", json!({"session_id": b_id}))
        .await;
    assert_eq!(events.as_array().unwrap().len(), b_events, "{events}");
    // Signed out, images are not served either.
    let mut nobody = Web::new(&app);
    let page = nobody
        .get(&format!("/dashboard/sessions/{b_id}/portrait"))
        .await;
    assert_eq!(page.status, 401);
}

async fn two_factor_sign_in_with_totp_and_recovery_codes(settings: Settings) {
    use server::dashboard::totp;
    let app = start(settings).await;
    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    let setup = web.get("/dashboard/settings/two-factor").await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(setup.body.contains("<svg"));
    let key = setup.input("totp-secret");
    let account = app
        .store
        .account_by_email(&app.email)
        .await
        .unwrap()
        .unwrap();
    let secret = app.store.totp(account.id).await.unwrap().unwrap().secret;
    assert_eq!(totp::base32(&secret), key);
    let code_at = |t: i64| totp::totp(totp::Algorithm::Sha1, &secret, t, 6);
    let now = || app.clock.now();
    let page = web
        .post(
            "/dashboard/settings/two-factor",
            &[("csrf", &setup.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(page.status, 422);
    let enabling_code = code_at(now() - 30);
    let page = web
        .post(
            "/dashboard/settings/two-factor",
            &[("csrf", &setup.csrf()), ("code", &enabling_code)],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let codes: Vec<String> = page
        .body
        .split("<li>")
        .skip(1)
        .filter_map(|s| s.split_once("</li>").map(|(c, _)| c.to_owned()))
        .filter(|c| c.len() == 11 && c.contains('-'))
        .collect();
    assert_eq!(codes.len(), 10, "{}", page.body);

    // Signing in now asks for the code; the password alone opens nothing.
    let mut web = Web::new(&app);
    let page = web.try_sign_in(&app.email, PASSWORD).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/dashboard/sign-in/two-factor");
    let page = web.get("/dashboard/sessions").await;
    assert_eq!(page.location(), "/dashboard/sign-in/two-factor");
    let form = web.get("/dashboard/sign-in/two-factor").await;
    let csrf = form.csrf();
    let page = web
        .post(
            "/dashboard/sign-in/two-factor",
            &[("csrf", &csrf), ("code", "123456")],
        )
        .await;
    assert_eq!(page.status, 401);
    // The code used to turn two-factor on was of an earlier step: a code works once.
    let page = web
        .post(
            "/dashboard/sign-in/two-factor",
            &[("csrf", &csrf), ("code", &enabling_code)],
        )
        .await;
    assert_eq!(page.status, 401);
    let page = web
        .post(
            "/dashboard/sign-in/two-factor",
            &[("csrf", &csrf), ("code", &code_at(now()))],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), "/dashboard/sessions");
    assert_eq!(web.get("/dashboard/sessions").await.status, 200);

    // A recovery code, once.
    for (attempt, want) in [(0, 303), (1, 401)] {
        let mut web = Web::new(&app);
        web.try_sign_in(&app.email, PASSWORD).await;
        let csrf = web.get("/dashboard/sign-in/two-factor").await.csrf();
        let page = web
            .post(
                "/dashboard/sign-in/two-factor",
                &[("csrf", &csrf), ("code", &codes[0].to_lowercase())],
            )
            .await;
        assert_eq!(page.status, want, "recovery code use {attempt}");
    }
}

async fn password_change_signs_out_everywhere(settings: Settings) {
    let app = start(settings).await;
    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    assert_eq!(web.get("/dashboard/sessions").await.status, 200);
    let err =
        server::dashboard::password::set_password(&app.store, &app.clock, &app.email, "short")
            .await
            .unwrap_err();
    assert!(err.to_string().contains("at least"));
    server::dashboard::password::set_password(
        &app.store,
        &app.clock,
        &app.email,
        "a brand new long password",
    )
    .await
    .unwrap();
    assert_eq!(web.get("/dashboard/sessions").await.status, 303);
    let mut web = Web::new(&app);
    assert_eq!(web.try_sign_in(&app.email, PASSWORD).await.status, 401);
    web.sign_in(&app.email, "a brand new long password").await;
    let hash = app
        .store
        .account_by_email(&app.email)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

async fn session_list_filters_and_pages(settings: Settings) {
    let app = start(settings).await;
    let mut ids = Vec::new();
    for i in 0..27 {
        ids.push(
            app.create_session(json!({"reference": format!("order-{i}")}))
                .await,
        );
    }
    let (status, _) = app.call("session.abort", json!({"id": ids[3]})).await;
    assert_eq!(status, 200);
    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    let rows = |page: &Page| page.body.matches("<a href=\"/dashboard/sessions/").count();
    let first = web.get("/dashboard/sessions").await;
    assert_eq!(rows(&first), 25);
    let next = {
        let i = first.body.find("id=\"next-page\"").expect("a next page");
        let start = first.body[..i].rfind("href=\"").unwrap() + 6;
        first.body[start..first.body[start..].find('"').unwrap() + start].replace("&amp;", "&")
    };
    let second = web.get(&next).await;
    assert_eq!(rows(&second), 2, "{}", second.body);
    assert!(!second.body.contains("id=\"next-page\""));
    let page = web.get("/dashboard/sessions?reference=order-7").await;
    assert_eq!(rows(&page), 1);
    assert!(
        page.body
            .contains(&format!("/dashboard/sessions/{}\"", ids[7]))
    );
    let page = web.get("/dashboard/sessions?state=ABORTED").await;
    assert_eq!(rows(&page), 1);
    assert!(page.body.contains(&ids[3].to_string()));
    let today = time::OffsetDateTime::now_utc().date();
    let page = web
        .get(&format!(
            "/dashboard/sessions?created_after={today}&created_before={today}&state=CREATED"
        ))
        .await;
    assert_eq!(rows(&page), 25);
    let page = web
        .get(&format!(
            "/dashboard/sessions?created_after={}",
            today.next_day().unwrap()
        ))
        .await;
    assert_eq!(rows(&page), 0);
    assert!(page.body.contains("No sessions match."));
    // Hostile input is shown escaped.
    let page = web.get("/dashboard/sessions?reference=%3Cscript%3Ex").await;
    assert!(page.body.contains("&#60;script&#62;x"), "{}", page.body);
    assert!(!page.body.contains("<script>x"));
}

async fn rejected_session_shows_what_failed_with_portrait_and_selfie(settings: Settings) {
    use crate::verification::{face_photo, reader, submit_body};
    use base64::Engine;
    use testdoc::{
        Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, Holder, KeyAlgorithm,
    };
    let app = start(settings).await;
    let now = crate::verification::now();
    let portrait =
        icao9303::portrait::jpeg_from_image(&face_photo("astronaut_portrait.jp2")).unwrap();
    let mut csca = Csca::generate(&CscaOptions::new("NL", now)).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .portrait(portrait)
        .build(&ds)
        .unwrap();
    trust_csca(&app, &csca).await;
    let (id, token) = new_session(
        &app,
        json!({"face_verification": true, "reference": "selfie-check"}),
    )
    .await;
    let (_, started) = reader(&app, &token, "reader.start", json!({})).await;
    let mut body = submit_body(&document, started["aa_challenge"].as_str().unwrap());
    let selfie = face_photo("camera_320.jpg");
    body["selfie"] = json!(base64::engine::general_purpose::STANDARD.encode(&selfie));
    let (status, answer) = reader(&app, &token, "reader.submit", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rejection_reason"], "FACE_MISMATCH", "{answer}");

    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    let list = web.get("/dashboard/sessions?state=REJECTED").await;
    assert!(list.body.contains(&id.to_string()));
    // Lists carry no images at all, let alone data: URLs.
    assert!(!list.body.contains("<img") && !list.body.contains("data:"));
    let page = web.get(&format!("/dashboard/sessions/{id}")).await;
    assert_eq!(page.status, 200);
    for want in [
        "id=\"session-state\">REJECTED</span>",
        "Rejected: FACE_MISMATCH",
        "<th scope=\"row\">Face match</th><td><span class=\"result result-failed\">FAILED</span>",
        "<th scope=\"row\">Passive authentication</th><td><span class=\"result result-passed\">PASSED</span>",
        &format!("<img id=\"portrait\" src=\"/dashboard/sessions/{id}/portrait\""),
        &format!("<img id=\"selfie\" src=\"/dashboard/sessions/{id}/face\""),
        "alt=\"Portrait read from the chip\"",
    ] {
        assert!(
            page.body.contains(want),
            "missing {want:?} in\n{}",
            page.body
        );
    }
    assert!(!page.body.contains("data:image"));
    let (_, s) = app.call("session.get", json!({"id": id})).await;
    let score = s["face_match_score"].as_str().unwrap();
    assert!(
        page.body
            .contains(&format!("id=\"face-score\">{score}</dd>"))
    );
    // The images themselves, from the database.
    let r = web
        .http
        .get(format!("{}/dashboard/sessions/{id}/face", app.base))
        .header("cookie", web.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let stored = base64::engine::general_purpose::STANDARD
        .decode(s["face"].as_str().unwrap())
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), stored.as_slice());
    let portrait = web.get(&format!("/dashboard/sessions/{id}/portrait")).await;
    assert_eq!(portrait.headers["content-type"], "image/jpeg");
}

/// A multipart/form-data body by hand: (name, filename, bytes).
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "dashboard-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn trust_import_is_for_the_named_administrators_only(settings: Settings) {
    // By default no account may change the server-wide trust store from the dashboard.
    let app = start(settings).await;
    let now = crate::verification::now();
    let csca = testdoc::Csca::generate(&testdoc::CscaOptions::new("NL", now)).unwrap();
    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    let page = web.get("/dashboard/trust").await;
    assert!(
        page.body.contains("id=\"import-not-allowed\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"trust-import\""));
    let csrf = web.csrf().await;
    let (content_type, body) = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("file", Some("nl.pem"), csca.pem().unwrap().as_bytes()),
    ]);
    let r = web
        .http
        .post(format!("{}/dashboard/trust", app.base))
        .header("cookie", web.cookie_header())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("trust_administrators"));
    assert!(app.store.list_trust_entries().await.unwrap().is_empty());
}

async fn trust_store_marks_expired_expiring_and_stale_entries(mut settings: Settings) {
    use testdoc::{Csca, CscaOptions};
    settings.trust_administrators = vec!["*".into()];
    let app = start(settings).await;
    let now = crate::verification::now();
    let valid = Csca::generate(&CscaOptions::new("NL", now)).unwrap();
    let mut expired = CscaOptions::new("BE", now);
    expired.not_before = now - time::Duration::days(3000);
    expired.not_after = now - time::Duration::days(2);
    let expired = Csca::generate(&expired).unwrap();
    let mut expiring = CscaOptions::new("DE", now);
    expiring.not_after = now + time::Duration::days(30);
    let expiring = Csca::generate(&expiring).unwrap();
    // nextUpdate is 90 days after thisUpdate.
    let stale_crl = valid
        .crl(&[], now - time::Duration::days(100))
        .unwrap()
        .to_der()
        .unwrap();
    let current_crl = expiring.crl(&[], now).unwrap().to_der().unwrap();

    let mut web = Web::new(&app);
    web.sign_in(&app.email, PASSWORD).await;
    let csrf = web.csrf().await;
    let upload = |parts: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
        let (content_type, body) = multipart(
            &parts
                .iter()
                .map(|(n, f, d)| (*n, *f, d.as_slice()))
                .collect::<Vec<_>>(),
        );
        web.http
            .post(format!("{}/dashboard/trust", app.base))
            .header("cookie", web.cookie_header())
            .header("content-type", content_type)
            .body(body)
    };
    // Without its CSRF token, the upload is refused and nothing is added.
    let r = upload(vec![(
        "file",
        Some("csca.pem"),
        valid.pem().unwrap().into_bytes(),
    )])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.store.list_trust_entries().await.unwrap().is_empty());
    let csrf_bytes = csrf.clone().into_bytes();
    for (name, data) in [
        ("nl.pem", valid.pem().unwrap().into_bytes()),
        ("be.pem", expired.pem().unwrap().into_bytes()),
        ("de.pem", expiring.pem().unwrap().into_bytes()),
        ("nl.crl", stale_crl),
        ("de.crl", current_crl),
    ] {
        let r = upload(vec![
            ("csrf", None, csrf_bytes.clone()),
            ("file", Some(name), data),
        ])
        .send()
        .await
        .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "{name}: {text}");
        assert!(text.contains("(added)"), "{name}: {text}");
    }
    // The same file again: accepted, nothing new.
    let r = upload(vec![
        ("csrf", None, csrf_bytes.clone()),
        ("file", Some("nl.pem"), valid.pem().unwrap().into_bytes()),
    ])
    .send()
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("already present"));
    assert_eq!(app.store.list_trust_entries().await.unwrap().len(), 5);

    let page = web.get("/dashboard/trust").await;
    let row = |table: &str, country: &str| -> String {
        let start = page.body.find(&format!("id=\"{table}\"")).unwrap();
        let end = page.body[start..].find("</table>").unwrap() + start;
        page.body[start..end]
            .split("<tr")
            .find(|r| r.contains(&format!("<td>{country}</td>")))
            .unwrap_or_else(|| panic!("no {country} row in #{table}"))
            .to_owned()
    };
    assert!(row("certificates", "NL").contains("<td>Valid</td>"));
    assert!(row("certificates", "NL").contains("status-ok"));
    assert!(row("certificates", "BE").contains("<td>Expired</td>"));
    assert!(row("certificates", "BE").contains("status-bad"));
    assert!(row("certificates", "DE").contains("<td>Expiring within 90 days</td>"));
    assert!(row("certificates", "DE").contains("status-warn"));
    assert!(row("crls", "NL").contains("Stale: past its next update"));
    assert!(row("crls", "DE").contains("<td>Current</td>"));
    // By country: BE, DE, NL.
    let (be, de, nl) = (
        page.body.find("<td>BE</td>").unwrap(),
        page.body.find("<td>DE</td>").unwrap(),
        page.body.find("<td>NL</td>").unwrap(),
    );
    assert!(be < de && de < nl);
}

/// Under TLS the sign-in cookies are `Secure`. Transport is independent of the backend: SQLite.
#[tokio::test]
async fn cookies_are_secure_under_tls() {
    let db = crate::helpers::TestDb::new(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = generated.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        generated.key_pair.serialize_pem(),
    )
    .unwrap();
    let mut settings = db.settings.clone();
    settings.tls_cert = Some(dir.path().join("cert.pem"));
    settings.tls_key = Some(dir.path().join("key.pem"));
    let app = start(settings).await;
    let port = app.base.rsplit(':').next().unwrap();
    let mut web = Web::new(&app);
    web.base = format!("https://localhost:{port}");
    web.http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .redirect(Policy::none())
        .build()
        .unwrap();
    let form = web.get("/dashboard/sign-in").await;
    let cookie = form.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("pr_dashboard_signin=") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    let page = web.try_sign_in(&app.email, PASSWORD).await;
    assert_eq!(page.status, 303);
    let cookies: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("pr_dashboard="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.ends_with("; Secure"),
        "{session}"
    );
    assert_eq!(web.get("/dashboard/settings").await.status, 200);
}

// ---- in the browser ----

/// A WebDriver session on headless Chromium, in its own process group (ended on drop).
struct Browser {
    child: std::process::Child,
    url: String,
    http: reqwest::Client,
    session: String,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    async fn start(profile: &std::path::Path) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if r.json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
                {
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver not ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut browser = Browser {
            child,
            url,
            http,
            session: String::new(),
        };
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            // A phone-sized window: the pages must work there.
            "--window-size=420,900".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let v = browser
            .command(
                reqwest::Method::POST,
                "/session",
                json!({ "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                } } }),
            )
            .await;
        browser.session = v["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.expect("WebDriver request");
        let status = response.status();
        let v: serde_json::Value = response.json().await.expect("WebDriver JSON");
        assert!(status.is_success(), "WebDriver {path}: {status} {v}");
        v["value"].clone()
    }

    async fn session_command(&self, rest: &str, body: serde_json::Value) -> serde_json::Value {
        self.command(
            reqwest::Method::POST,
            &format!("/session/{}{rest}", self.session),
            body,
        )
        .await
    }

    async fn goto(&self, url: &str) {
        self.session_command("/url", json!({ "url": url })).await;
    }

    async fn script(&self, script: &str, args: serde_json::Value) -> serde_json::Value {
        self.session_command("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .session_command("/element", json!({ "using": "css selector", "value": css }))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no {css}: {v}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.session_command(&format!("/element/{id}/clear"), json!({}))
            .await;
        self.session_command(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Chooses a file in a file input.
    async fn upload(&self, css: &str, path: &std::path::Path) {
        let id = self.find(css).await;
        self.session_command(
            &format!("/element/{id}/value"),
            json!({ "text": path.to_str().unwrap() }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.session_command(&format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// The text of the first element matching `css` ("" if none).
    async fn text(&self, css: &str) -> String {
        self.script(
            "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn value(&self, css: &str) -> String {
        self.script(
            "var e = document.querySelector(arguments[0]); return e ? e.value : '';",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits until the script returns true.
    async fn wait_for(&self, what: &str, script: &str, args: serde_json::Value) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.script(script, args.clone()).await == json!(true) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every visible form control has a label (its accessible name), and the page has one h1
    /// and a `lang`.
    async fn assert_labelled(&self, page: &str) {
        let unlabelled = self
            .script(
                "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
                 .filter(function (e) { return !e.labels || e.labels.length === 0; })\
                 .map(function (e) { return e.id || e.name; });",
                json!([]),
            )
            .await;
        assert_eq!(unlabelled, json!([]), "unlabelled controls on {page}");
        let structure = self
            .script(
                "return [document.querySelectorAll('h1').length, document.documentElement.lang];",
                json!([]),
            )
            .await;
        assert_eq!(structure, json!([1, "en"]), "{page}");
    }

    async fn wait_for_element(&self, css: &str) {
        self.wait_for(
            css,
            "return document.readyState === 'complete' && !!document.querySelector(arguments[0]);",
            json!([css]),
        )
        .await;
    }

    async fn wait_for_heading(&self, heading: &str) {
        self.wait_for(
            heading,
            "var h = document.querySelector('h1'); return document.readyState === 'complete' && !!h && h.innerText.indexOf(arguments[0]) >= 0;",
            json!([heading]),
        )
        .await;
    }

    /// With DASHBOARD_SCREENSHOTS=DIR, a PNG of the page as DIR/NAME.png (for people to look at;
    /// the test asserts on the page itself).
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") else {
            return;
        };
        let v = self
            .command(
                reqwest::Method::GET,
                &format!("/session/{}/screenshot", self.session),
                json!({}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }

    async fn quit(&self) {
        self.command(
            reqwest::Method::DELETE,
            &format!("/session/{}", self.session),
            json!({}),
        )
        .await;
    }
}

fn browser_available() -> bool {
    let there =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !there {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: {CHROMIUM} or {CHROMEDRIVER} is absent (Debian packages chromium, \
             chromium-driver); the dashboard's browser test is skipped"
        );
    }
    there
}

/// Reads `document` from a virtual chip over the APDU relay, as a reading app does (relay.rs).
async fn read_over_relay(
    app: &TestApp,
    token: &str,
    document: &testdoc::TestDocument,
) -> reader::RelayOutcome {
    let lines: Vec<&str> = document.mrz_lines().iter().map(String::as_str).collect();
    let mrz = icao9303::mrz::Mrz::parse_lines(&lines).unwrap();
    let key = reader::AccessKeyFields::Mrz(reader::MrzKey {
        document_number: mrz.document_number,
        date_of_birth: mrz.date_of_birth,
        date_of_expiry: mrz.date_of_expiry,
    });
    let mut chip = virtual_chip::VirtualTransport::new(
        virtual_chip::VirtualChip::for_profile(document, virtual_chip::Profile::PaceCa).unwrap(),
    );
    let options = reader::RelayOptions {
        extended_length: true,
        can_reset: true,
        max_response_apdu: None,
        selfie: None,
        client_name: "dashboard tests".into(),
        client_version: "0".into(),
    };
    let (base, token) = (app.base.clone(), token.to_owned());
    tokio::task::spawn_blocking(move || {
        reader::relay(&base, &token, &key, &mut chip, &options, &mut |_| {})
    })
    .await
    .unwrap()
    .expect("the relay read")
}

async fn browser_end_to_end(mut settings: Settings) {
    if !browser_available() {
        return;
    }
    settings.trust_administrators = vec!["*".into()];
    let app = start(settings).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(profile.path()).await;

    // Sign in.
    browser.goto(&format!("{}/dashboard", app.base)).await;
    browser.wait_for_heading("Sign in").await;
    browser.screenshot("sign-in").await;
    browser.type_into("#email", &app.email).await;
    browser.assert_labelled("sign-in").await;
    // From the keyboard: Enter in the password field submits the form.
    browser
        .type_into("#password", &format!("{PASSWORD}\u{E007}"))
        .await;
    browser.wait_for_heading("Sessions").await;
    assert!(browser.text("header").await.contains(&app.email));
    browser.assert_labelled("sessions").await;

    // Settings: a new credential pair, used against the API at once.
    browser.click("a[href='/dashboard/settings']").await;
    browser.wait_for_heading("Settings").await;
    browser.assert_labelled("settings").await;
    assert!(browser.text("#server-settings").await.contains("30 days"));
    browser
        .type_into("#credential-name", "from the browser")
        .await;
    browser
        .click("#create-credentials button[type=submit]")
        .await;
    browser.wait_for_element("#new-public-key").await;
    browser.screenshot("settings-new-credentials").await;
    browser.wait_for_heading("Settings").await;
    let public_key = browser.value("#new-public-key").await;
    let secret = browser.value("#new-secret").await;
    assert!(public_key.starts_with("public-key-") && secret.starts_with("secret-"));
    // The copy buttons appear with the script.
    assert_eq!(
        browser
            .script(
                "return document.querySelector('button.copy[data-copy=new-secret]').hidden;",
                json!([])
            )
            .await,
        json!(false)
    );
    let creds = NewCredentials {
        public_key: public_key.clone(),
        secret: secret.clone(),
    };
    let (status, v) = app.call_as(&creds, "account.get", json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["email"], app.email.as_str());
    // Listed, with its last use, and the secret is not on the page once it is reloaded. The
    // last use is written off the request's path, so the page may need a reload or two.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let row = loop {
        browser
            .goto(&format!("{}/dashboard/settings", app.base))
            .await;
        browser.wait_for_heading("Settings").await;
        let row = browser
            .text(&format!("#credentials tr[data-public-key='{public_key}']"))
            .await;
        if !row.contains("Never") || std::time::Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(row.contains("from the browser"), "{row}");
    assert!(!row.contains("Never"), "last use is shown: {row}");
    assert_eq!(browser.value("#new-secret").await, "");
    assert_eq!(
        browser
            .script(
                "return document.body.innerHTML.indexOf(arguments[0]);",
                json!([secret])
            )
            .await,
        json!(-1)
    );

    // Revoke it: the API refuses it from then on.
    browser
        .click(&format!(
            "#credentials tr[data-public-key='{public_key}'] button"
        ))
        .await;
    browser.wait_for_element("#notice").await;
    browser.wait_for_heading("Settings").await;
    assert!(browser.text("#notice").await.contains("Revoked"));
    let (status, v) = app.call_as(&creds, "account.get", json!({})).await;
    assert_eq!(status, 401, "{v}");
    assert!(
        browser
            .text(&format!("#credentials tr[data-public-key='{public_key}']"))
            .await
            .contains("Revoked")
    );

    // Rotate the webhook secret.
    let before = browser.value("#webhook-secret").await;
    assert!(before.starts_with("whsec_"), "{before}");
    browser.click("#rotate-webhook-secret button").await;
    browser
        .wait_for(
            "a new webhook secret",
            "var e = document.getElementById('webhook-secret'); return document.readyState === 'complete' && !!e && e.value !== arguments[0];",
            json!([before]),
        )
        .await;
    let after = browser.value("#webhook-secret").await;
    assert!(after.starts_with("whsec_") && after != before);
    assert_eq!(
        server::accounts::webhook_secret(&app.store, &app.email, false)
            .await
            .unwrap(),
        after
    );

    // Trust store: import the CSCA by upload.
    // The document of a virtual chip (PACE and chip authentication), read over the relay below.
    let (csca, document) =
        virtual_chip::issue_document(virtual_chip::Profile::PaceCa, crate::verification::now())
            .unwrap();
    let pem_path = profile.path().join("csca.pem");
    std::fs::write(&pem_path, csca.pem().unwrap()).unwrap();
    browser.click("a[href='/dashboard/trust']").await;
    browser.wait_for_heading("Trust store").await;
    browser.assert_labelled("trust").await;
    assert!(
        browser
            .text("#certificates")
            .await
            .contains("nothing is trusted yet")
    );
    browser.upload("#file", &pem_path).await;
    browser.click("#trust-import button[type=submit]").await;
    browser.wait_for_element("#imported").await;
    browser.screenshot("trust").await;
    browser.wait_for_heading("Trust store").await;
    let imported = browser.text("#imported").await;
    assert!(
        imported.contains("CSCA") && imported.contains("added"),
        "{imported}"
    );
    let certificates = browser.text("#certificates").await;
    assert!(
        certificates.contains("NL") && certificates.contains("Valid"),
        "{certificates}"
    );
    assert_eq!(app.store.list_trust_entries().await.unwrap().len(), 1);
    // Garbage is refused with the import's reason.
    let junk = profile.path().join("junk.der");
    std::fs::write(&junk, b"not a certificate").unwrap();
    browser.upload("#file", &junk).await;
    browser.click("#trust-import button[type=submit]").await;
    browser.wait_for_element("#error").await;
    browser.wait_for_heading("Trust store").await;
    assert!(browser.text("#error").await.contains("not imported"));

    // An APPROVED session: the virtual chip read through the reader API's relay, with a callback.
    let (id, token) = new_session(
        &app,
        json!({"reference": "browser-1", "callback_url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    let outcome = read_over_relay(&app, &token, &document).await;
    assert_eq!(
        (outcome.session_id, outcome.state.as_str()),
        (id, "APPROVED")
    );
    browser.click("a[href='/dashboard/sessions']").await;
    browser.wait_for_heading("Sessions").await;
    assert!(browser.text("#sessions").await.contains("browser-1"));
    browser
        .click(&format!("a[href='/dashboard/sessions/{id}']"))
        .await;
    browser.wait_for_heading(&format!("Session {id}")).await;
    assert_eq!(browser.text("#session-state").await, "APPROVED");
    browser.assert_labelled("session").await;
    browser
        .wait_for(
            "the portrait is decoded",
            "var i = document.getElementById('portrait'); return !!i && i.complete && i.naturalWidth > 0;",
            json!([]),
        )
        .await;
    let width = browser
        .script(
            "return document.getElementById('portrait').naturalWidth;",
            json!([]),
        )
        .await;
    assert!(width.as_i64().unwrap() > 50, "{width}");
    browser.screenshot("session").await;
    let identity = browser.text("#identity").await;
    assert!(
        identity.contains("VAN DER STEEN") && identity.contains("XR4K71PT9"),
        "{identity}"
    );
    let checks = browser.text("#checks").await;
    assert!(
        checks.contains("Passive authentication") && checks.contains("PASSED"),
        "{checks}"
    );
    assert!(
        browser
            .text("#document-signer")
            .await
            .contains("Document Signer")
    );
    let history = browser.text("#history").await;
    for state in ["CREATED", "INITIATED", "APPROVED"] {
        assert!(history.contains(state), "{history}");
    }
    assert!(
        history.find("CREATED") < history.find("APPROVED"),
        "{history}"
    );

    // Send a callback again.
    let callbacks_before = browser
        .script(
            "return document.querySelectorAll('#callbacks tr[data-event-id]').length;",
            json!([]),
        )
        .await
        .as_i64()
        .unwrap();
    assert!(callbacks_before >= 1);
    browser.click("#callbacks tr[data-event-id] button").await;
    browser.wait_for_element("#notice").await;
    browser.wait_for_heading(&format!("Session {id}")).await;
    assert!(browser.text("#notice").await.contains("sent again"));
    let callbacks_after = browser
        .script(
            "return document.querySelectorAll('#callbacks tr[data-event-id]').length;",
            json!([]),
        )
        .await
        .as_i64()
        .unwrap();
    assert_eq!(callbacks_after, callbacks_before + 1);
    let (_, events) = app.call("callback.list", json!({"session_id": id})).await;
    assert_eq!(events.as_array().unwrap().len() as i64, callbacks_after);

    // Delete, after confirming: the personal data is gone.
    browser.click("#delete").await;
    browser
        .wait_for_heading(&format!("Delete session {id}?"))
        .await;
    browser.click("#confirm button[type=submit]").await;
    browser.wait_for_heading("Session deleted").await;
    let (status, _) = app.call("session.get", json!({"id": id})).await;
    assert_eq!(status, 404);

    // Abort another one, after confirming.
    let (other, _) = new_session(&app, json!({})).await;
    browser
        .goto(&format!("{}/dashboard/sessions/{other}", app.base))
        .await;
    browser.wait_for_heading(&format!("Session {other}")).await;
    browser.click("#abort").await;
    browser.wait_for_heading("Abort session").await;
    browser.click("#confirm button[type=submit]").await;
    browser.wait_for_heading(&format!("Session {other}")).await;
    assert_eq!(browser.text("#session-state").await, "ABORTED");

    // Sign out: the pages are closed again.
    browser.click(".signout button").await;
    browser.wait_for_heading("Sign in").await;
    browser
        .goto(&format!("{}/dashboard/settings", app.base))
        .await;
    browser.wait_for_heading("Sign in").await;
    browser.quit().await;
}
