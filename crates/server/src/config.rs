//! Settings: built-in defaults, overlaid by a TOML file, then by `PASSPORT_READER_*` environment
//! variables, then by command-line flags (the CLI passes those in as [`Overrides`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::support::clock::Clock;
use crate::support::ip_network::IpNetwork;
use relay_protocol::limits;
use std::time::Duration;

/// Default listen address: loopback, so plain HTTP is allowed without `--insecure-http`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";
/// Default data folder, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// File name of the SQLite database inside the data folder.
pub const SQLITE_FILE_NAME: &str = "passport-reader.db";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on, `IP:PORT` (port 0 picks a free port).
    pub listen: String,
    /// Folder for the SQLite database (used when `database_url` is not set).
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `sqlite://PATH` an explicit SQLite file.
    pub database_url: Option<String>,
    /// PEM certificate chain; with `tls_key` the server speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (e.g. behind a TLS-terminating proxy).
    pub insecure_http: bool,
    /// Lifetime of a session and of its token, in seconds.
    pub session_ttl_seconds: u64,
    /// Time limit for handling one API request, in seconds.
    pub request_timeout_seconds: u64,
    /// Requests handled at once. Past it a request is answered at once with 503 `ServerBusy`
    /// and `Retry-After: 1` rather than waiting in memory (load shedding): far past capacity,
    /// latency and memory stay bounded and clients back off.
    pub max_requests_in_flight: usize,
    /// Client connections open at once (idle keep-alive connections and relay WebSockets
    /// included). Past it a new connection is closed as soon as it is accepted; the open-file
    /// limit is raised at start-up to fit this many.
    pub max_client_connections: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest number of database connections per server process (on PostgreSQL three more:
    /// the batched session reads' own, and the batched session changes' two).
    pub max_db_connections: u32,
    /// Largest accepted body of `reader.submit` (the chip's files and a selfie), in bytes.
    pub max_submit_bytes: usize,
    /// APDU relay: how long the reading client has to answer one command, in seconds.
    pub relay_apdu_timeout_seconds: u64,
    /// APDU relay: how long a whole read may take, from the client's hello, in seconds.
    pub relay_read_timeout_seconds: u64,
    /// Proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` names the reading
    /// client's address; from any other peer the header is ignored.
    pub trusted_proxies: Vec<IpNetwork>,
    /// Reject documents whose clone check was not proven to the server: proven by active
    /// authentication on the server's challenge, or by chip authentication the server ran over
    /// the APDU relay (a client's report in `reader.submit` proves nothing).
    pub require_proven_clone_check: bool,
    /// Face verification: the largest distance between the selfie's and the portrait's face
    /// descriptors (dlib's 128-d ResNet) that counts as the same person; default 0.55
    /// (`face::DEFAULT_THRESHOLD`): on our evaluation set it accepts 0.04 % of impostor pairs and
    /// rejects 0.34 % of genuine ones (0.6, dlib's own: 0.31 % and 0 %).
    pub face_match_threshold: f32,
    /// How long a session's personal data (identity fields, portrait, face, client address) is
    /// kept after the session was created, in seconds; then it is erased, the session kept.
    pub personal_data_retention_seconds: u64,
    /// Where holders reach this server, e.g. `https://id.example.com` (the QR code and the
    /// command on the holder's page link there). Unset: each request's `Host` header.
    pub public_url: Option<PublicUrl>,
    /// The accounts (by email) that may import into the trust store from the dashboard. The
    /// trust store is the whole server's: a CSCA one account adds is trusted for every
    /// account's sessions, so by default no account may (`passport-reader trust import` on the
    /// server is the operator's way); `["*"]` lets every account, for a deployment whose
    /// accounts all belong to one organisation.
    pub trust_administrators: Vec<String>,
    /// Attempts to deliver one callback before it is abandoned (retries after 2, 4, 8, 16 s,
    /// then 1, 5, 15 min, 1, 3, 6 h, then every 12 h).
    pub callback_max_attempts: u32,
    /// Time limit of one callback delivery attempt, in seconds.
    pub callback_timeout_seconds: u64,
    /// How often `serve` ends the sessions past their expiry (firing their callbacks), in
    /// seconds.
    pub session_sweep_seconds: u64,
    /// Source of the current time; tests move it forward.
    #[serde(skip)]
    pub clock: Clock,
    /// Runs the callback delivery and session expiry task with the server. Tests turn it off
    /// to step deliveries themselves.
    #[serde(skip)]
    pub background_tasks: bool,
    /// Mounts `POST /api/debug.panic`, a handler that panics. Tests only; never from a file.
    #[serde(skip)]
    pub enable_panic_route: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: DEFAULT_LISTEN.to_owned(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            tls_cert: None,
            tls_key: None,
            insecure_http: false,
            session_ttl_seconds: 3600,
            request_timeout_seconds: 60,
            max_requests_in_flight: 1024,
            max_client_connections: 4096,
            max_body_bytes: 1024 * 1024,
            max_db_connections: 10,
            max_submit_bytes: 8 * 1024 * 1024,
            relay_apdu_timeout_seconds: 15,
            relay_read_timeout_seconds: 180,
            trusted_proxies: Vec::new(),
            require_proven_clone_check: false,
            face_match_threshold: face::DEFAULT_THRESHOLD,
            personal_data_retention_seconds: 30 * 24 * 3600,
            callback_max_attempts: 12,
            callback_timeout_seconds: 10,
            session_sweep_seconds: 10,
            background_tasks: true,
            public_url: None,
            trust_administrators: Vec::new(),
            clock: Clock::system(),
            enable_panic_route: false,
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers' value in place.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure_http: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid value for environment variable {name}: {value:?}")]
    Env { name: String, value: String },
    #[error("settings: {0}")]
    Internal(String),
}

/// The database a [`Settings`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Settings {
    /// Settings for integration tests: port 0 on loopback, a SQLite file in `data_dir`.
    pub fn for_test(data_dir: &Path) -> Settings {
        Settings {
            listen: "127.0.0.1:0".to_owned(),
            data_dir: data_dir.to_path_buf(),
            clock: Clock::system(),
            enable_panic_route: true,
            background_tasks: false,
            ..Settings::default()
        }
    }

    /// A test's PostgreSQL URL: `base` (e.g. `TEST_DATABASE_URL`) with every connection's
    /// `search_path` set to `schema`, so that each test or benchmark has tables of its own.
    pub fn test_database_url_in_schema(base: &str, schema: &str) -> String {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{schema}")
    }

    /// Defaults ← TOML file ← environment ← flags.
    pub fn load(config_file: Option<&Path>, overrides: Overrides) -> Result<Settings, ConfigError> {
        let mut settings = match config_file {
            Some(path) => Settings::from_toml_file(path)?,
            None => Settings::default(),
        };
        settings.apply_env(|name| std::env::var(name).ok())?;
        settings.apply_overrides(overrides);
        Ok(settings)
    }

    pub fn from_toml_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Overlays `PASSPORT_READER_<SETTING>` variables: every setting a file may hold, its name
    /// in upper case (`trusted_proxies` and `trust_administrators` comma-separated). An empty variable counts as unset.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let mut table =
            toml::Table::try_from(&*self).map_err(|e| ConfigError::Internal(e.to_string()))?;
        for field in setting_names() {
            let name = format!("{ENV_PREFIX}{}", field.to_ascii_uppercase());
            let Some(value) = var(&name).filter(|v| !v.is_empty()) else {
                continue;
            };
            let parsed = env_value(field, &value).ok_or_else(|| ConfigError::Env {
                name: name.clone(),
                value: value.clone(),
            })?;
            table.insert((*field).to_owned(), parsed);
        }
        let overlaid: Settings = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Internal(e.to_string()))?;
        *self = Settings {
            clock: self.clock.clone(),
            background_tasks: self.background_tasks,
            enable_panic_route: self.enable_panic_route,
            ..overlaid
        };
        Ok(())
    }

    pub fn apply_overrides(&mut self, o: Overrides) {
        if let Some(v) = o.listen {
            self.listen = v;
        }
        if let Some(v) = o.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = o.database_url {
            self.database_url = Some(v);
        }
        if let Some(v) = o.tls_cert {
            self.tls_cert = Some(v);
        }
        if let Some(v) = o.tls_key {
            self.tls_key = Some(v);
        }
        if o.insecure_http {
            self.insecure_http = true;
        }
    }

    /// Where the data lives: `database_url` if set, else `<data_dir>/passport-reader.db`.
    pub fn database_location(&self) -> Result<DatabaseLocation, String> {
        match self.database_url.as_deref() {
            None => Ok(DatabaseLocation::Sqlite(
                self.data_dir.join(SQLITE_FILE_NAME),
            )),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(DatabaseLocation::Postgres(url.to_owned()))
            }
            Some(url) => match url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Some(path) if !path.is_empty() => {
                    let path = path.split('?').next().unwrap_or(path);
                    Ok(DatabaseLocation::Sqlite(PathBuf::from(path)))
                }
                _ => Err(format!(
                    "unsupported database URL (expected postgres://… or sqlite://PATH): {}",
                    redact_url(url)
                )),
            },
        }
    }

    /// The listen address, resolved; `localhost` is accepted as well as an IP.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        use std::net::ToSocketAddrs;
        self.listen
            .to_socket_addrs()
            .map_err(|e| format!("invalid listen address {:?}: {e}", self.listen))?
            .next()
            .ok_or_else(|| format!("listen address {:?} resolves to nothing", self.listen))
    }
}

/// The prefix of the environment variables that set settings.
pub const ENV_PREFIX: &str = "PASSPORT_READER_";

/// The names of the settings a file or the environment may set, as serde sees them (so that
/// the environment's names cannot drift from the file's).
pub fn setting_names() -> &'static [&'static str] {
    use serde::de::{self, Deserializer, Visitor};
    struct Names(std::cell::Cell<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }
    impl<'de> Deserializer<'de> for &Names {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0.set(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    static NAMES: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let names = Names(std::cell::Cell::new(&[]));
        let _ = Settings::deserialize(&names);
        names.0.get()
    })
}

/// An environment variable's text as the TOML value of setting `field`: a number or boolean
/// where the setting is one, else a string; `trusted_proxies` is comma-separated. `None` if the
/// setting refuses it.
fn env_value(field: &str, text: &str) -> Option<toml::Value> {
    let fits = |value: &toml::Value| {
        let mut table = toml::Table::new();
        table.insert(field.to_owned(), value.clone());
        Settings::deserialize(table).is_ok()
    };
    let candidates = if field == "trusted_proxies" || field == "trust_administrators" {
        vec![toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        )]
    } else {
        let typed = format!("v = {text}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)));
        typed
            .into_iter()
            .chain([toml::Value::String(text.to_owned())])
            .collect()
    };
    candidates.into_iter().find(fits)
}

/// `public_url`: an absolute `http(s)://HOST[:PORT][/PATH]` without query, kept without a
/// trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<PublicUrl, String> {
        let parsed =
            url::Url::parse(raw).map_err(|e| format!("invalid public_url {raw:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host_str().is_none()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
            || !parsed.username().is_empty()
        {
            return Err(format!(
                "invalid public_url {raw:?}: expected http(s)://HOST[:PORT][/PATH], without query"
            ));
        }
        Ok(PublicUrl(parsed.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<PublicUrl> for String {
    fn from(u: PublicUrl) -> String {
        u.0
    }
}

impl<'de> Deserialize<'de> for PublicUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        PublicUrl::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

/// The limits of one relay (the protocol's, shorter in tests).
#[derive(Debug, Clone, Copy)]
pub struct RelayLimits {
    pub apdu_timeout: Duration,
    pub read_timeout: Duration,
    pub max_apdus: u64,
    pub max_response_bytes: u64,
}

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            apdu_timeout: limits::APDU_TIMEOUT,
            read_timeout: limits::READ_TIMEOUT,
            max_apdus: limits::MAX_APDUS,
            max_response_bytes: limits::MAX_RESPONSE_BYTES,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let mut s: Settings =
            toml::from_str("listen = \"0.0.0.0:9000\"\nsession_ttl_seconds = 60\n").unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        s.apply_env(|name| match name {
            "PASSPORT_READER_LISTEN" => Some("127.0.0.1:5000".into()),
            "PASSPORT_READER_DATA_DIR" => Some("/tmp/x".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:5000");
        s.apply_overrides(Overrides {
            listen: Some("127.0.0.1:6000".into()),
            ..Overrides::default()
        });
        assert_eq!(s.listen, "127.0.0.1:6000");
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.session_ttl_seconds, 60);
    }

    #[test]
    fn unknown_keys_in_file_are_rejected() {
        assert!(toml::from_str::<Settings>("lisen = \"x\"").is_err());
    }

    #[test]
    fn database_location() {
        let mut s = Settings::default();
        assert_eq!(
            s.database_location().unwrap(),
            DatabaseLocation::Sqlite(PathBuf::from("./data/passport-reader.db"))
        );
        s.database_url = Some("sqlite:///var/x.db".into());
        assert_eq!(
            s.database_location().unwrap(),
            DatabaseLocation::Sqlite(PathBuf::from("/var/x.db"))
        );
        s.database_url = Some("postgres://u:pw@h/db".into());
        assert!(matches!(
            s.database_location().unwrap(),
            DatabaseLocation::Postgres(_)
        ));
        s.database_url = Some("mysql://h/db".into());
        assert!(s.database_location().is_err());
        assert!(redact_url("postgres://u:pw@h/db").contains("***"));
    }
}
