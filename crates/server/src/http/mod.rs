//! HTTP plumbing shared by every area: the one error type and its status codes, extractors for
//! bodies and credentials, the client's address, the access log.

pub mod access_log;
pub mod client;
pub mod connection_limit;
pub mod error;
pub mod extract;
