//! Passive authentication: trust store, master lists, CRLs, Document Signer chains.
