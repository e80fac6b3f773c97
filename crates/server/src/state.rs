//! What every request handler shares: the store, the clock, the typed settings each area needs
//! and the caches. No per-process session or credential state lives here, except the relays
//! running on this process (see [`LiveRelays`]).

use std::sync::Arc;
use std::time::Duration;

use crate::config::{RelayLimits, Settings};
use crate::sessions::live::LiveRelays;
use crate::store::Store;
use crate::support::clock::Clock;
use crate::support::ip_network::IpNetwork;
use crate::trust::TrustCache;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub session_ttl_seconds: i64,
    pub max_body_bytes: usize,
    pub enable_panic_route: bool,
    /// The reader API's settings and trust store cache.
    pub reader: Arc<ReaderConfig>,
    /// Where holders reach this server.
    pub web: PageSettings,
    /// The APDU relay's limits.
    pub relay_limits: RelayLimits,
    /// The relays live on this process (one per session).
    pub relays: Arc<LiveRelays>,
    /// When this instance last noted each credential's use.
    pub last_use: Arc<crate::auth::LastUse>,
    /// The credentials held in memory (PostgreSQL only).
    pub credentials: Arc<crate::auth::cache::CredentialCache>,
    /// The web dashboard's settings (cookies, the server values it shows).
    pub dashboard: Arc<DashboardConfig>,
}

impl AppState {
    pub fn new(store: Store, settings: &Settings) -> AppState {
        AppState {
            store,
            clock: settings.clock.clone(),
            session_ttl_seconds: i64::try_from(settings.session_ttl_seconds).unwrap_or(i64::MAX),
            max_body_bytes: settings.max_body_bytes,
            enable_panic_route: settings.enable_panic_route,
            reader: Arc::new(ReaderConfig::from_settings(settings)),
            web: PageSettings::new(settings),
            relay_limits: RelayLimits {
                apdu_timeout: Duration::from_secs(settings.relay_apdu_timeout_seconds),
                read_timeout: Duration::from_secs(settings.relay_read_timeout_seconds),
                ..RelayLimits::default()
            },
            relays: Arc::default(),
            last_use: Arc::default(),
            credentials: Arc::default(),
            dashboard: Arc::new(DashboardConfig::from_settings(settings)),
        }
    }
}

/// The reader API's share of the settings, and the caches verification uses.
#[derive(Debug)]
pub struct ReaderConfig {
    pub max_submit_bytes: usize,
    pub trusted_proxies: Vec<IpNetwork>,
    pub require_proven_clone_check: bool,
    pub trust: TrustCache,
    pub face_match_threshold: f32,
    /// Loaded on the first face-verification session (tens of milliseconds), then shared.
    pub face_engine: Arc<std::sync::OnceLock<Result<face::FaceEngine, String>>>,
}

impl ReaderConfig {
    pub fn from_settings(settings: &Settings) -> ReaderConfig {
        ReaderConfig {
            max_submit_bytes: settings.max_submit_bytes,
            trusted_proxies: settings.trusted_proxies.clone(),
            require_proven_clone_check: settings.require_proven_clone_check,
            trust: TrustCache::new(),
            face_match_threshold: settings.face_match_threshold,
            face_engine: Arc::new(std::sync::OnceLock::new()),
        }
    }
}

/// What the holder's pages need from the settings: where holders reach this server.
#[derive(Debug, Clone)]
pub struct PageSettings {
    /// `public_url`, without a trailing slash.
    pub public_url: Option<String>,
    /// For a base URL taken from the `Host` header.
    pub scheme: &'static str,
    pub listen: String,
}

impl PageSettings {
    pub fn new(settings: &Settings) -> PageSettings {
        PageSettings {
            public_url: settings.public_url.as_ref().map(|u| u.as_str().to_owned()),
            scheme: if settings.tls_cert.is_some() {
                "https"
            } else {
                "http"
            },
            listen: settings.listen.clone(),
        }
    }
}

/// What the dashboard needs from the settings.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// TLS is served (by this server or by the proxy `public_url` names): cookies are `Secure`.
    pub secure_cookies: bool,
    pub personal_data_retention_seconds: u64,
    pub face_match_threshold: f32,
    pub session_ttl_seconds: u64,
    pub require_proven_clone_check: bool,
    /// Emails of the accounts that may import into the trust store (`*`: every account).
    pub trust_administrators: Vec<String>,
}

impl DashboardConfig {
    /// Whether the account with `email` may import into the (server-wide) trust store.
    pub fn may_import_trust(&self, email: &str) -> bool {
        self.trust_administrators
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(email))
    }

    pub fn from_settings(settings: &Settings) -> DashboardConfig {
        DashboardConfig {
            // TLS here, or at a proxy in front (holders and integrators reach an https URL).
            secure_cookies: settings.tls_cert.is_some()
                || settings
                    .public_url
                    .as_ref()
                    .is_some_and(|u| u.as_str().starts_with("https://")),
            personal_data_retention_seconds: settings.personal_data_retention_seconds,
            face_match_threshold: settings.face_match_threshold,
            session_ttl_seconds: settings.session_ttl_seconds,
            require_proven_clone_check: settings.require_proven_clone_check,
            trust_administrators: settings.trust_administrators.clone(),
        }
    }
}
