//! Arguments that locate the database, shared by `serve`, `account` and `credentials`, and the
//! small runtime helpers those commands share.

use std::path::PathBuf;
use std::process::ExitCode;

use server::{Overrides, Settings};

#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// TOML configuration file (see config.example.toml).
    #[arg(long, value_name = "FILE", env = "PASSPORT_READER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder of the SQLite database [default: ./data].
    #[arg(long, value_name = "DIR", env = "PASSPORT_READER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://… selects PostgreSQL, sqlite://PATH a SQLite file.
    #[arg(
        long,
        value_name = "URL",
        env = "PASSPORT_READER_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// Defaults ← config file ← environment ← these flags (and `extra`).
    pub fn settings(&self, extra: Overrides) -> Result<Settings, String> {
        let overrides = Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..extra
        };
        Settings::load(self.config.as_deref(), overrides).map_err(|e| e.to_string())
    }
}

/// Logs go to stderr, so that stdout carries only a command's output.
pub fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colours only on a terminal: a log file or journal gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs `future` on a fresh Tokio runtime, printing an error and failing on `Err`.
pub fn block_on<F>(future: F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub async fn open_store(settings: &Settings) -> Result<server::Store, String> {
    server::Store::open(settings)
        .await
        .map_err(|e| e.to_string())
}
