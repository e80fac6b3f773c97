//! The server's trust store: CSCA certificates, link certificates, Document Signer certificates
//! and CRLs the operator imported (`passport-reader trust import`), kept in the `trust_entries`
//! table, one DER object per row, and rebuilt into an [`icao9303::pki::TrustStore`].
//!
//! The table is the only truth, so every instance on one database trusts the same things. An
//! instance keeps the store it built along with the table's fingerprint (count of rows and the
//! newest row's time; rows are only ever added) and rebuilds when the fingerprint changes.

use std::sync::{Arc, Mutex};

use icao9303::pki::{EntryKind, MasterList, TrustStore};

use crate::store::{Store, StoreError};

/// One DER object ready to be stored as a trust entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEntry {
    /// `CSCA`, `LINK_CERTIFICATE`, `DOCUMENT_SIGNER` or `CRL`.
    pub kind: &'static str,
    pub der: Vec<u8>,
    /// Subject (issuer for a CRL), serial and validity, for people.
    pub description: String,
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustImportError {
    #[error("{0}")]
    Unrecognised(String),
    #[error("{0}")]
    Rejected(String),
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Csca => "CSCA",
        EntryKind::LinkCertificate => "LINK_CERTIFICATE",
        EntryKind::DocumentSigner => "DOCUMENT_SIGNER",
        EntryKind::Crl => "CRL",
    }
}

/// Hex SHA-256 of an entry's DER: the `sha256` column, unique per entry.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(crate::support::digest::sha256(der))
}

/// Parses the contents of one file: PEM (certificates, CRLs, `CMS`/`PKCS7` master lists), a DER
/// certificate, a DER CRL or a DER CSCA master list (`.ml`, whose own signature must verify).
/// Every object is checked by icao9303; a master list becomes one entry per certificate.
pub fn parse_trust_file(data: &[u8]) -> Result<Vec<ParsedEntry>, TrustImportError> {
    if data.windows(11).any(|w| w == b"-----BEGIN ") {
        let mut out = Vec::new();
        for (label, der) in icao9303::pki::pem_blocks(data)
            .map_err(|e| TrustImportError::Unrecognised(e.to_string()))?
        {
            match label.as_str() {
                "CERTIFICATE"
                | "X509 CERTIFICATE"
                | "TRUSTED CERTIFICATE"
                | "X509 CRL"
                | "CMS"
                | "PKCS7" => out.extend(parse_der(&der)?),
                _ => {}
            }
        }
        if out.is_empty() {
            return Err(TrustImportError::Unrecognised(
                "the PEM holds no certificate, CRL or master list".into(),
            ));
        }
        return Ok(out);
    }
    parse_der(data)
}

fn parse_der(der: &[u8]) -> Result<Vec<ParsedEntry>, TrustImportError> {
    let mut probe = TrustStore::new();
    let summary = probe
        .import(der)
        .map_err(|e| TrustImportError::Unrecognised(e.to_string()))?;
    if summary.master_list.is_some() {
        // The signature was checked by `import`; keep each certificate as its own entry.
        let list = MasterList::from_der(der)
            .map_err(|e| TrustImportError::Rejected(format!("master list: {e}")))?;
        let mut out = Vec::new();
        for cert in &list.certificates {
            let mut one = TrustStore::new();
            if let Ok(entry) = one.add_certificate_der(cert) {
                out.push(ParsedEntry {
                    kind: kind_name(entry.kind),
                    der: cert.clone(),
                    description: describe(&entry),
                });
            }
        }
        if out.is_empty() {
            return Err(TrustImportError::Rejected(
                "the master list holds no usable certificate".into(),
            ));
        }
        return Ok(out);
    }
    let entry = summary
        .entries
        .first()
        .ok_or_else(|| TrustImportError::Unrecognised("nothing found".into()))?;
    Ok(vec![ParsedEntry {
        kind: kind_name(entry.kind),
        der: der.to_vec(),
        description: describe(entry),
    }])
}

fn describe(entry: &icao9303::pki::TrustEntry) -> String {
    let date = |t: time::OffsetDateTime| t.date().to_string();
    let mut text = entry.subject.clone();
    if let Some(serial) = &entry.serial {
        text.push_str(&format!(", serial {serial}"));
    }
    text.push_str(&format!(", valid from {}", date(entry.valid_from)));
    if let Some(until) = entry.valid_until {
        text.push_str(&format!(" until {}", date(until)));
    }
    text
}

/// Builds a trust store from the stored rows. A row that no longer parses (it did when it was
/// imported) is logged and left out rather than failing every verification.
pub fn build_trust_store(entries: &[crate::store::TrustEntry]) -> TrustStore {
    let mut store = TrustStore::new();
    for e in entries {
        if let Err(error) = store.import(&e.der) {
            tracing::warn!(sha256 = %e.sha256, %error, "a stored trust entry does not parse");
        }
    }
    store
}

/// [`Store::trust_entries_version`] of the rows a trust store was built from.
type Version = (i64, i64);

/// The trust store of this instance, rebuilt when the table changes.
#[derive(Debug, Default)]
pub struct TrustCache {
    cached: Mutex<Option<(Version, Arc<TrustStore>)>>,
}

impl TrustCache {
    pub fn new() -> TrustCache {
        TrustCache::default()
    }

    /// The current trust store: one cheap query, plus a reload when another instance (or the
    /// CLI) added entries.
    pub async fn current(&self, store: &Store) -> Result<Arc<TrustStore>, StoreError> {
        let version = store.trust_entries_version().await?;
        if let Ok(guard) = self.cached.lock() {
            if let Some((v, trust)) = guard.as_ref() {
                if *v == version {
                    return Ok(trust.clone());
                }
            }
        }
        let entries = store.list_trust_entries().await?;
        let trust = tokio::task::spawn_blocking(move || Arc::new(build_trust_store(&entries)))
            .await
            .map_err(|e| StoreError::Config(format!("building the trust store: {e}")))?;
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some((version, trust.clone()));
        }
        Ok(trust)
    }
}

/// Parses and stores one file's entries; returns `(entry, newly added)` for each.
pub async fn import_file(
    store: &Store,
    data: &[u8],
    now: i64,
) -> Result<Vec<(ParsedEntry, bool)>, TrustImportError> {
    let entries = parse_trust_file(data)?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let added = store
            .add_trust_entry(
                entry.kind,
                &entry.der,
                &fingerprint(&entry.der),
                &entry.description,
                now,
            )
            .await
            .map_err(|e| TrustImportError::Rejected(e.to_string()))?;
        out.push((entry, added));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn pem_bundles_and_der_crls_become_one_entry_each() {
        let now = time::OffsetDateTime::now_utc();
        let (csca, document) = testdoc::issue_specimen(now).unwrap();
        let bundle = format!(
            "{}{}",
            csca.pem().unwrap(),
            document.document_signer().pem().unwrap()
        );
        let entries = parse_trust_file(bundle.as_bytes()).unwrap();
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["CSCA", "DOCUMENT_SIGNER"]);
        assert!(entries[0].description.contains("TEST CSCA"));
        let crl = csca
            .crl(&[document.document_signer().serial()], now)
            .unwrap()
            .to_der()
            .unwrap();
        let crl_entries = parse_trust_file(&crl).unwrap();
        assert_eq!(crl_entries.len(), 1);
        assert_eq!(crl_entries[0].kind, "CRL");
        assert_eq!(crl_entries[0].der, crl);
        // Stored rows rebuild the same store.
        let rows: Vec<crate::store::TrustEntry> = entries
            .iter()
            .chain(&crl_entries)
            .enumerate()
            .map(|(i, e)| crate::store::TrustEntry {
                id: i as i64,
                kind: e.kind.to_owned(),
                der: e.der.clone(),
                sha256: fingerprint(&e.der),
                description: e.description.clone(),
                created: 0,
            })
            .collect();
        let store = build_trust_store(&rows);
        assert_eq!(store.anchors().len(), 1);
        assert_eq!(store.crls().len(), 1);
        assert_eq!(store.entries().len(), 3);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse_trust_file(b"hello").is_err());
        assert!(
            parse_trust_file(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        assert!(
            parse_trust_file(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
    }
}
