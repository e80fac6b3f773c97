//! Passive authentication (ICAO 9303 Part 11 §5.1, Part 12): the trust store with CSCA
//! certificates, master lists and CRLs; CMS signature checks; Document Signer chains.

pub mod certificate;
pub mod cms;
pub mod crl;
pub(crate) mod der;
pub mod error;
pub mod keys;
pub mod master_list;
pub mod name;
pub mod passive;
pub mod signature;
pub mod trust_store;

/// The former path of [`crate::oid`] (one table for the crate); `passive.rs` still names it.
#[doc(hidden)]
pub use crate::oid as oids;

pub use certificate::Certificate;
pub use crl::Crl;
pub use error::PkiError;
pub use master_list::{MasterList, MasterListSignature};
pub use name::Name;
pub use passive::{PassiveAuthentication, verify_passive_authentication};
pub use signature::{DigestAlgorithm, SignatureScheme};
pub use trust_store::{
    EntryKind, ImportSummary, MasterListImport, TrustEntry, TrustStore, pem_blocks,
};
