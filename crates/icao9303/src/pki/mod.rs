//! The PKI of ICAO 9303 Part 12: the trust store with CSCA certificates, master lists and
//! CRLs; CMS signature checks; Document Signer chains. Passive authentication, which applies
//! them to a document's EF.SOD, is [`crate::passive_authentication`].

pub mod certificate;
pub mod cms;
pub mod crl;
pub(crate) mod der;
pub mod error;
pub mod keys;
pub mod master_list;
pub mod name;
pub mod signature;
pub mod trust_store;

pub use certificate::Certificate;
pub use crl::Crl;
pub use error::PkiError;
pub use master_list::{MasterList, MasterListSignature};
pub use name::Name;
pub use signature::{DigestAlgorithm, SignatureScheme};
pub use trust_store::{
    EntryKind, ImportSummary, MasterListImport, TrustEntry, TrustStore, pem_blocks,
};
