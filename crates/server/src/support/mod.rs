//! General helpers with no place in any one area: the clock, random ids and tokens, digests and
//! the API's timestamp spelling.

pub mod clock;
pub mod digest;
pub mod ids;
pub mod ip_network;
pub mod permuted_ids;
pub mod throttle;
pub mod time;
