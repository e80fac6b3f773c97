//! Integration tests: a real server on a free port, spoken to over HTTP. Each test runs against
//! SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod helpers;

mod auth;
mod callbacks;
mod dashboard;
mod durability;
mod open_page;
mod reader_api;
mod relay;
mod requests;
mod server_behaviour;
mod sessions;
mod verification;
