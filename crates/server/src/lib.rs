//! passport-reader's service: configuration, the integrator API, authentication, sessions and
//! their storage (SQLite or PostgreSQL).

pub mod access_log;
pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod callbacks;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod ids;
pub mod openapi;
pub mod reader_api;
pub mod relay;
pub mod sessions;
pub mod store;
pub mod trust;
pub mod web;

pub use app::{Application, StartError};
pub use clock::Clock;
pub use config::{Overrides, Settings};
pub use store::Store;
