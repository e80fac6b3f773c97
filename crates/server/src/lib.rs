//! passport-reader's service, in layers:
//!
//! - [`router`], [`api`] (the integrator's and the holder's API, the APDU relay), [`web`] (the
//!   holder's pages), [`dashboard`] (the integrator's web console), on [`http`] (errors, extractors) and [`state`]: HTTP;
//! - [`accounts`], [`auth`], [`sessions`], [`verification`], [`trust`], [`callbacks`]: the
//!   domain services, with no HTTP in them; [`jobs`]: their background work;
//! - [`store`]: SQLite or PostgreSQL, one API over both;
//! - [`model`] (the vocabulary), [`config`] and [`support`] underneath.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod callbacks;
pub mod config;
pub mod dashboard;
pub mod http;
pub mod jobs;
pub mod model;
pub mod router;
pub mod sessions;
pub mod state;
pub mod store;
pub mod support;
pub mod trust;
pub mod verification;
pub mod web;

pub use app::{Application, StartError};
pub use config::{Overrides, Settings};
pub use store::Store;
pub use support::clock::Clock;
