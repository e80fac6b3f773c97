//! What a chip holds: its files, its access keys (MRZ information and CAN) and private keys.

use std::collections::BTreeMap;
use std::path::Path;

use icao9303::lds::FileId;
use icao9303::mrz::Mrz;
use icao9303::protocol::bac::MrzInformation;
use openssl::pkey::{PKey, Private};

use crate::ChipError;

/// The chip's contents. `files` holds EF.COM, EF.SOD, the data groups and, in the master file,
/// EF.CardAccess, exactly as stored.
#[derive(Clone)]
pub struct ChipContents {
    pub files: BTreeMap<FileId, Vec<u8>>,
    /// The MRZ information the BAC keys and the PACE MRZ password derive from.
    pub mrz: MrzInformation,
    /// The Card Access Number (PACE password 2), digits.
    pub can: String,
    /// The Active Authentication private key (DG15's pair).
    pub aa_private_key: Option<PKey<Private>>,
    /// The chip authentication private key (DG14's pair).
    pub ca_private_key: Option<PKey<Private>>,
}

impl std::fmt::Debug for ChipContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipContents")
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .field("aa_private_key", &self.aa_private_key.is_some())
            .field("ca_private_key", &self.ca_private_key.is_some())
            .finish_non_exhaustive()
    }
}

/// The CAN of simulated documents when none is given.
pub const DEFAULT_CAN: &str = "123456";

impl ChipContents {
    /// The contents of a test document with this CAN.
    pub fn from_test_document(
        document: &testdoc::TestDocument,
        can: &str,
    ) -> Result<Self, ChipError> {
        let files = document
            .files
            .iter()
            .map(|(id, bytes)| (FileId::from(*id), bytes.clone()))
            .collect();
        let lines: Vec<&str> = document.mrz_lines().iter().map(String::as_str).collect();
        Ok(ChipContents {
            files,
            mrz: mrz_information(&lines)?,
            can: can.to_owned(),
            aa_private_key: document.aa_private_key().cloned(),
            ca_private_key: document.ca_private_key().cloned(),
        })
    }

    /// Loads a folder as `passport-reader testdoc create` writes it: `COM`, `SOD`, `DG1` …
    /// `DG16`, `CardAccess`, `mrz.txt`, and the optional `aa_private_key.pem` and
    /// `ca_private_key.pem`.
    pub fn load_dir(dir: &Path, can: &str) -> Result<Self, ChipError> {
        let read = |name: &str| -> Result<Option<Vec<u8>>, ChipError> {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(ChipError::Io { path, source }),
            }
        };
        let mut files = BTreeMap::new();
        let chip_files =
            FileId::all().filter(|f| !matches!(f, FileId::CardSecurity | FileId::AtrInfo));
        for id in chip_files {
            if let Some(bytes) = read(&id.to_string())? {
                files.insert(id, bytes);
            }
        }
        if !files.contains_key(&FileId::Com) {
            return Err(ChipError::InvalidDocument(format!(
                "no COM file in {}",
                dir.display()
            )));
        }
        let mrz_text = read("mrz.txt")?.ok_or_else(|| {
            ChipError::InvalidDocument(format!("no mrz.txt in {}", dir.display()))
        })?;
        let mrz_text = String::from_utf8_lossy(&mrz_text).into_owned();
        let lines: Vec<&str> = mrz_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let key = |name: &str| -> Result<Option<PKey<Private>>, ChipError> {
            read(name)?
                .map(|pem| PKey::private_key_from_pem(&pem))
                .transpose()
                .map_err(ChipError::from)
        };
        Ok(ChipContents {
            files,
            mrz: mrz_information(&lines)?,
            can: can.to_owned(),
            aa_private_key: key("aa_private_key.pem")?,
            ca_private_key: key("ca_private_key.pem")?,
        })
    }

    pub fn file(&self, id: FileId) -> Option<&[u8]> {
        self.files.get(&id).map(Vec::as_slice)
    }
}

/// The MRZ information (document number, birth and expiry dates) from the MRZ lines.
pub(crate) fn mrz_information(lines: &[&str]) -> Result<MrzInformation, ChipError> {
    let mrz =
        Mrz::parse_lines(lines).map_err(|e| ChipError::InvalidDocument(format!("MRZ: {e}")))?;
    let number = mrz.document_number.trim_end_matches('<');
    MrzInformation::new(number, &mrz.date_of_birth, &mrz.date_of_expiry)
        .map_err(|e| ChipError::InvalidDocument(format!("MRZ information: {e}")))
}
