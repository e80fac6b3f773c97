//! `passport-reader serve`: the integrator API server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use server::{Application, Overrides};

use super::store_args::{StoreArgs, block_on, init_logging};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on [default: 127.0.0.1:4000].
    #[arg(long, value_name = "ADDR", env = "PASSPORT_READER_LISTEN")]
    pub listen: Option<String>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(
        long,
        value_name = "FILE",
        env = "PASSPORT_READER_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        value_name = "FILE",
        env = "PASSPORT_READER_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, env = "PASSPORT_READER_INSECURE_HTTP")]
    pub insecure_http: bool,
}

pub fn run(args: Args) -> ExitCode {
    init_logging("info");
    block_on(async move {
        let settings = args.store.settings(Overrides {
            listen: args.listen,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
            insecure_http: args.insecure_http,
            ..Overrides::default()
        })?;
        let app = Application::build(settings)
            .await
            .map_err(|e| e.to_string())?;
        if server::accounts::list_accounts(app.store())
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            tracing::warn!(
                "no account exists yet; create one with `passport-reader account create --email EMAIL`, \
                 then API credentials with `passport-reader credentials create --account EMAIL`"
            );
        }
        let handle = app.handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            handle.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        app.run().await.map_err(|e| e.to_string())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::path::Path;

    use server::Settings;

    /// config.example.toml is accepted as it stands (unknown keys are refused), documents the
    /// defaults, and names every setting a file can hold.
    #[test]
    fn config_example_is_valid_complete_and_shows_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
        let example = Settings::from_toml_file(&path).unwrap();
        let defaults = Settings::default();
        assert_eq!(example.listen, defaults.listen);
        assert_eq!(example.data_dir, defaults.data_dir);
        assert_eq!(example.database_url, defaults.database_url);
        assert_eq!(example.session_ttl_seconds, defaults.session_ttl_seconds);
        assert_eq!(
            example.request_timeout_seconds,
            defaults.request_timeout_seconds
        );
        assert_eq!(example.max_body_bytes, defaults.max_body_bytes);
        assert_eq!(
            example.max_requests_in_flight,
            defaults.max_requests_in_flight
        );
        assert_eq!(
            example.max_client_connections,
            defaults.max_client_connections
        );
        assert_eq!(example.max_submit_bytes, defaults.max_submit_bytes);
        assert_eq!(
            example.relay_apdu_timeout_seconds,
            defaults.relay_apdu_timeout_seconds
        );
        assert_eq!(
            example.relay_read_timeout_seconds,
            defaults.relay_read_timeout_seconds
        );
        assert_eq!(
            example.personal_data_retention_seconds,
            defaults.personal_data_retention_seconds
        );
        assert_eq!(
            example.callback_max_attempts,
            defaults.callback_max_attempts
        );
        assert_eq!(
            example.require_proven_clone_check,
            defaults.require_proven_clone_check
        );

        let text = std::fs::read_to_string(&path).unwrap();
        let source = include_str!("../../../server/src/config.rs");
        let start = source.find("pub struct Settings {").unwrap() + "pub struct Settings {".len();
        let body = &source[start..];
        let body = &body[..body.find("\n}").unwrap()];
        let mut skip_next = false;
        for line in body.lines().map(str::trim) {
            if line.starts_with("#[serde(skip)]") {
                skip_next = true;
            } else if let Some(field) = line.strip_prefix("pub ").and_then(|l| l.split(':').next())
            {
                if !std::mem::take(&mut skip_next) {
                    assert!(
                        text.lines().any(|l| l
                            .trim_start_matches("# ")
                            .starts_with(&format!("{field} ="))),
                        "config.example.toml does not document `{field}`"
                    );
                }
            }
        }
    }
}
