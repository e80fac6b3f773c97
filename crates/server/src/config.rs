//! Settings: built-in defaults, overlaid by a TOML file, then by `PASSPORT_READER_*` environment
//! variables, then by command-line flags (the CLI passes those in as [`Overrides`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::clock::Clock;

/// Default listen address: loopback, so plain HTTP is allowed without `--insecure-http`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";
/// Default data folder, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// File name of the SQLite database inside the data folder.
pub const SQLITE_FILE_NAME: &str = "passport-reader.db";

#[derive(Debug, Clone, Deserialize)]
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
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest number of database connections per server process.
    pub max_db_connections: u32,
    /// Largest accepted body of `reader.submit` (the chip's files and a selfie), in bytes.
    pub max_submit_bytes: usize,
    /// APDU relay: how long the reading client has to answer one command, in seconds.
    pub relay_apdu_timeout_seconds: u64,
    /// APDU relay: how long a whole read may take, from the client's hello, in seconds.
    pub relay_read_timeout_seconds: u64,
    /// Proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` names the reading
    /// client's address; from any other peer the header is ignored.
    pub trusted_proxies: Vec<String>,
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
    pub public_url: Option<String>,
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
    Env { name: &'static str, value: String },
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

    /// Overlays `PASSPORT_READER_<SETTING>` variables (upper-case setting names).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(
            name: &'static str,
            value: String,
        ) -> Result<T, ConfigError> {
            value.parse().map_err(|_| ConfigError::Env { name, value })
        }
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        if let Some(v) = get("PASSPORT_READER_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("PASSPORT_READER_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("PASSPORT_READER_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("PASSPORT_READER_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = get("PASSPORT_READER_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = get("PASSPORT_READER_INSECURE_HTTP") {
            self.insecure_http = parsed("PASSPORT_READER_INSECURE_HTTP", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_SESSION_TTL_SECONDS") {
            self.session_ttl_seconds = parsed("PASSPORT_READER_SESSION_TTL_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_REQUEST_TIMEOUT_SECONDS") {
            self.request_timeout_seconds = parsed("PASSPORT_READER_REQUEST_TIMEOUT_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_MAX_BODY_BYTES") {
            self.max_body_bytes = parsed("PASSPORT_READER_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_RELAY_APDU_TIMEOUT_SECONDS") {
            self.relay_apdu_timeout_seconds =
                parsed("PASSPORT_READER_RELAY_APDU_TIMEOUT_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_RELAY_READ_TIMEOUT_SECONDS") {
            self.relay_read_timeout_seconds =
                parsed("PASSPORT_READER_RELAY_READ_TIMEOUT_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_MAX_DB_CONNECTIONS") {
            self.max_db_connections = parsed("PASSPORT_READER_MAX_DB_CONNECTIONS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_MAX_SUBMIT_BYTES") {
            self.max_submit_bytes = parsed("PASSPORT_READER_MAX_SUBMIT_BYTES", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_TRUSTED_PROXIES") {
            // Comma-separated.
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = get("PASSPORT_READER_REQUIRE_PROVEN_CLONE_CHECK") {
            self.require_proven_clone_check =
                parsed("PASSPORT_READER_REQUIRE_PROVEN_CLONE_CHECK", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_FACE_MATCH_THRESHOLD") {
            self.face_match_threshold = parsed("PASSPORT_READER_FACE_MATCH_THRESHOLD", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_PERSONAL_DATA_RETENTION_SECONDS") {
            self.personal_data_retention_seconds =
                parsed("PASSPORT_READER_PERSONAL_DATA_RETENTION_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_CALLBACK_MAX_ATTEMPTS") {
            self.callback_max_attempts = parsed("PASSPORT_READER_CALLBACK_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_CALLBACK_TIMEOUT_SECONDS") {
            self.callback_timeout_seconds = parsed("PASSPORT_READER_CALLBACK_TIMEOUT_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_SESSION_SWEEP_SECONDS") {
            self.session_sweep_seconds = parsed("PASSPORT_READER_SESSION_SWEEP_SECONDS", v)?;
        }
        if let Some(v) = get("PASSPORT_READER_PUBLIC_URL") {
            self.public_url = Some(v);
        }
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
