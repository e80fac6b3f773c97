//! Background work of `serve`: callback delivery with the expiry sweep, and the retention eraser.

pub mod retention;
pub mod worker;
