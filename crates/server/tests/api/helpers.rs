//! `spawn_app(backend)`: a real server on a free port over a fresh database, plus an account
//! with a credential pair.

use std::time::Duration;

use reqwest::{Client, Response};
use serde_json::Value;
use server::accounts::{self, NewCredentials};
use server::{Application, Clock, Settings, Store};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_ENV: &str = "TEST_DATABASE_URL";

/// A database for one test: a temp folder for SQLite, a fresh schema for PostgreSQL.
pub struct TestDb {
    pub settings: Settings,
    _dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// `None` (with a notice on stderr) for PostgreSQL when `TEST_DATABASE_URL` is unset.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::for_test(dir.path());
        let mut pg_schema = None;
        if backend == Backend::Postgres {
            let Ok(base) = std::env::var(PG_ENV) else {
                // Written to stderr directly: the test harness captures eprintln! of passing tests.
                static NOTICE: std::sync::Once = std::sync::Once::new();
                NOTICE.call_once(|| {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "NOTICE: {PG_ENV} is not set; the PostgreSQL variants of the API tests are skipped"
                    );
                });
                eprintln!(
                    "NOTICE: {PG_ENV} is not set; skipping the PostgreSQL variant of this test"
                );
                return None;
            };
            let schema = format!(
                "test_{}",
                server::support::ids::random_token(9)
                    .to_lowercase()
                    .replace('-', "_")
            );
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                .execute(&mut conn)
                .await
                .expect("create schema");
            settings.database_url = Some(Settings::test_database_url_in_schema(&base, &schema));
            pg_schema = Some((base, schema));
        }
        Some(TestDb {
            settings,
            _dir: dir,
            pg_schema,
        })
    }

    /// Drops the PostgreSQL schema (best effort; only after a passing test).
    pub async fn cleanup(self) {
        if let Some((base, schema)) = self.pg_schema {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA \"{schema}\" CASCADE"
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub store: Store,
    pub clock: Clock,
    pub email: String,
    pub creds: NewCredentials,
    pub handle: axum_server::Handle<std::net::SocketAddr>,
    /// The credentials the server holds in memory (PostgreSQL only).
    pub credentials: std::sync::Arc<server::auth::cache::CredentialCache>,
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Starts a server over `settings`' database and returns it with a fresh account and pair.
pub async fn start(settings: Settings) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("build app");
    let base = app.base_url();
    let store = app.store().clone();
    let clock = app.clock().clone();
    let handle = app.handle();
    let credentials = app.credential_cache();
    tokio::spawn(app.run());
    let email = format!(
        "{}@example.com",
        server::support::ids::random_token(6).to_lowercase()
    );
    accounts::create_account(&store, &clock, &email, "correct horse battery staple")
        .await
        .expect("account");
    let creds = accounts::create_credentials(&store, &clock, &email, Some("tests"))
        .await
        .expect("credentials");
    TestApp {
        base,
        client: client(),
        store,
        clock,
        email,
        creds,
        handle,
        credentials,
    }
}

impl TestApp {
    /// POST /api/v1/{method} with this app's credentials and a JSON body.
    pub async fn call(&self, method: &str, body: Value) -> (u16, Value) {
        json_of(self.post(method, body).await).await
    }

    /// POST /api/v1/{method} with this app's credentials: the whole response (headers too).
    pub async fn post(&self, method: &str, body: Value) -> Response {
        self.client
            .post(format!("{}/api/v1/{method}", self.base))
            .basic_auth(&self.creds.public_key, Some(&self.creds.secret))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// The head of a raw HTTP/1.1 POST /api/v1/{method} with this app's credentials, for a body
    /// of `body_len` bytes sent by hand (`Connection: close`).
    pub fn raw_post_head(&self, method: &str, body_len: usize) -> String {
        let auth = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", self.creds.public_key, self.creds.secret),
        );
        format!(
            "POST /api/v1/{method} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
             Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
        )
    }

    /// A second account with its own pair, on the same server.
    pub async fn other_account(&self) -> NewCredentials {
        let email = format!(
            "{}@example.com",
            server::support::ids::random_token(6).to_lowercase()
        );
        accounts::create_account(&self.store, &self.clock, &email, "another long password")
            .await
            .expect("account");
        accounts::create_credentials(&self.store, &self.clock, &email, None)
            .await
            .expect("credentials")
    }

    pub async fn call_as(&self, creds: &NewCredentials, method: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/{method}", self.base))
            .basic_auth(&creds.public_key, Some(&creds.secret))
            .json(&body)
            .send()
            .await
            .expect("request");
        json_of(r).await
    }

    pub async fn create_session(&self, body: Value) -> i64 {
        let (status, v) = self.call("session.create", body).await;
        assert_eq!(status, 200, "{v}");
        v["id"].as_i64().expect("id")
    }
}

/// Status and body; fails the test if the body is not JSON.
pub async fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|h| h.to_str().unwrap_or("").to_owned());
    let text = r.text().await.expect("body");
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text:?}"));
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "status {status}: {text}"
    );
    (status, v)
}

pub fn assert_error(status: u16, v: &Value, want_status: u16, want_name: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["error_name"], want_name, "{v}");
    assert!(
        v["error_message"].as_str().is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{v}");
}

/// Runs each listed test once per backend: `mod name { sqlite, postgres }`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, TestDb};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite db");
                    super::$name(db.settings.clone()).await;
                    db.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = TestDb::new(Backend::Postgres).await else { return };
                    super::$name(db.settings.clone()).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}
