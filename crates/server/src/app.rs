//! The server process: settings in, a bound listener and the router out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::RustlsConfig;

use crate::auth::cache::CredentialCache;
use crate::callbacks;
use crate::config::Settings;
use crate::http::connection_limit::{ConnectionLimit, raise_open_file_limit};
use crate::jobs::worker::Worker;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::support::clock::Clock;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot load TLS certificate/key: {0}")]
    Tls(std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// A server ready to run: its port is bound (so tests can ask for port 0 and read the port).
pub struct Application {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    router: Router,
    tls: Option<RustlsConfig>,
    store: Store,
    clock: Clock,
    handle: Handle<SocketAddr>,
    /// Callback delivery and the expiry sweep, started by [`Application::run`].
    worker: Option<Worker>,
    personal_data_retention_seconds: u64,
    /// The credentials this instance holds in memory, kept current by a task [`Application::run`]
    /// starts (PostgreSQL only).
    credentials: Arc<CredentialCache>,
    /// Client connections open at once, after fitting the open-file limit.
    max_client_connections: usize,
}

/// Raises the open-file limit to fit `wanted` client connections; the cap that fits.
fn fit_open_file_limit(wanted: usize) -> usize {
    match raise_open_file_limit(wanted) {
        Ok(fits) if fits < wanted => {
            tracing::warn!(
                max_client_connections = wanted,
                fits,
                "the open-file limit (ulimit -Hn) leaves room for fewer client connections than \
                 max_client_connections; serving at most {fits} at once"
            );
            fits.max(1)
        }
        Ok(_) => wanted,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit; max_client_connections kept as configured");
            wanted
        }
    }
}

/// Refuses plain HTTP off loopback: the API's secrets travel in every request's header.
pub fn check_transport(addr: SocketAddr, tls: bool, insecure_http: bool) -> Result<(), String> {
    if tls || insecure_http || addr.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "refusing to serve plain HTTP on {addr}: API secrets would cross the network unencrypted. \
         Give --tls-cert and --tls-key to serve HTTPS, or --insecure-http if a TLS-terminating \
         proxy sits in front of this server"
    ))
}

impl Application {
    /// Opens (and migrates) the database, checks the transport policy, loads TLS material and
    /// binds the listen address.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let addr = settings.listen_addr().map_err(StartError::Config)?;
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => {
                // Both sqlx and axum-server carry rustls; pick its provider explicitly.
                let _ = rustls::crypto::ring::default_provider().install_default();
                Some(
                    RustlsConfig::from_pem_file(cert, key)
                        .await
                        .map_err(StartError::Tls)?,
                )
            }
            (None, None) => None,
            _ => {
                return Err(StartError::Config(
                    "--tls-cert and --tls-key must be given together".into(),
                ));
            }
        };
        check_transport(addr, tls.is_some(), settings.insecure_http).map_err(StartError::Config)?;
        let worker = match settings.background_tasks {
            true => Some(Worker {
                sender: callbacks::Sender::from_settings(&settings).map_err(|e| {
                    StartError::Config(format!("cannot set up the callback HTTP client: {e}"))
                })?,
                sweep_interval: Duration::from_secs(settings.session_sweep_seconds.max(1)),
            }),
            false => None,
        };
        let store = Store::open(&settings).await?;
        store.warn_without_autovacuum().await;
        let state = AppState::new(store.clone(), &settings);
        let credentials = state.credentials.clone();
        let router = crate::router::router(
            state,
            Duration::from_secs(settings.request_timeout_seconds),
            settings.max_requests_in_flight,
        );
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|source| StartError::Bind { addr, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| StartError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let max_client_connections = fit_open_file_limit(settings.max_client_connections);
        Ok(Application {
            max_client_connections,
            listener,
            local_addr,
            router,
            tls,
            store,
            clock: settings.clock.clone(),
            handle: Handle::new(),
            worker,
            personal_data_retention_seconds: settings.personal_data_retention_seconds,
            credentials,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.is_tls() { "https" } else { "http" },
            self.local_addr
        )
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The credentials this instance holds in memory.
    pub fn credential_cache(&self) -> Arc<CredentialCache> {
        self.credentials.clone()
    }

    /// A handle to stop the server gracefully from elsewhere.
    pub fn handle(&self) -> Handle<SocketAddr> {
        self.handle.clone()
    }

    /// Serves until the handle asks for shutdown.
    pub async fn run(self) -> Result<(), StartError> {
        tracing::info!(url = %self.base_url(), "serving the API");
        let eraser = self.worker.is_some().then(|| {
            crate::jobs::retention::spawn_retention_eraser(
                self.store.clone(),
                self.clock.clone(),
                self.personal_data_retention_seconds,
            )
        });
        let background = self
            .worker
            .map(|w| w.spawn(self.store.clone(), self.clock.clone()));
        let instance = format!(
            "{}-{}",
            std::process::id(),
            crate::support::ids::random_token(9)
        );
        let credentials = tokio::spawn(
            self.credentials
                .clone()
                .maintain(self.store.clone(), instance.clone()),
        );
        // The peer address is the reading client's IP (or a trusted proxy's), see reader_api.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let connections = self.max_client_connections;
        let served = match self.tls {
            // TCP_NODELAY: the relay's small request-answer frames must not wait on Nagle's
            // algorithm and the peer's delayed ACKs (about 40 ms a round trip otherwise).
            Some(tls) => {
                axum_server::from_tcp_rustls(self.listener, tls)
                    .map_err(StartError::Serve)?
                    .map(|tls| {
                        tls.acceptor(ConnectionLimit::new(NoDelayAcceptor::new(), connections))
                    })
                    .handle(self.handle)
                    .serve(service)
                    .await
            }
            None => {
                axum_server::from_tcp(self.listener)
                    .map_err(StartError::Serve)?
                    .acceptor(ConnectionLimit::new(NoDelayAcceptor::new(), connections))
                    .handle(self.handle)
                    .serve(service)
                    .await
            }
        };
        if let Some(task) = background {
            task.abort();
        }
        if let Some(task) = eraser {
            task.abort();
        }
        credentials.abort();
        if let Err(e) = self.store.leave_credential_cache(&instance).await {
            tracing::warn!(error = %e, "cannot give up this instance's credential-cache lease; it runs out by itself");
        }
        served.map_err(StartError::Serve)?;
        self.store.close().await;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_unless_forced() {
        let lo: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let lo6: SocketAddr = "[::1]:4000".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        assert!(check_transport(lo, false, false).is_ok());
        assert!(check_transport(lo6, false, false).is_ok());
        assert!(
            check_transport(any, false, false)
                .unwrap_err()
                .contains("--insecure-http")
        );
        assert!(check_transport(any, true, false).is_ok());
        assert!(check_transport(any, false, true).is_ok());
    }
}
