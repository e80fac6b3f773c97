//! pcscd
