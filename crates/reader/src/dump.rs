//! Writing a read chip to a folder, under the names `passport-reader testdoc create` uses and
//! `passport-reader verify` reads.

use std::path::{Path, PathBuf};

use icao9303::lds::FileId;

use crate::ChipFiles;

impl ChipFiles {
    /// The files under their dump names ([`FileId`]'s `Display`: `COM`, `SOD`, `DG1` …,
    /// `CardAccess`), e.g. to upload them.
    pub fn named_files(&self) -> Vec<(String, &[u8])> {
        let mut out: Vec<(String, &[u8])> = self
            .files
            .iter()
            .map(|(id, bytes)| (id.to_string(), bytes.as_slice()))
            .collect();
        if let Some(ca) = &self.card_access {
            out.push((FileId::CardAccess.to_string(), ca.as_slice()));
        }
        out
    }
}

/// Writes the files (raw bytes), EF.CardAccess, and, when Active Authentication was done,
/// `aa_challenge` and `aa_response` (hex, one line). Creates `dir`; returns the paths written.
pub fn write_dump(chip: &ChipFiles, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut outputs: Vec<(String, Vec<u8>)> = chip
        .named_files()
        .into_iter()
        .map(|(name, bytes)| (name, bytes.to_vec()))
        .collect();
    if let Some(aa) = &chip.active_authentication
        && let Ok(response) = &aa.response
    {
        outputs.push(("aa_challenge".to_owned(), hex_line(&aa.challenge)));
        outputs.push(("aa_response".to_owned(), hex_line(response)));
    }
    let mut written = Vec::with_capacity(outputs.len());
    for (name, bytes) in outputs {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn hex_line(bytes: &[u8]) -> Vec<u8> {
    let mut s = hex::encode_upper(bytes);
    s.push('\n');
    s.into_bytes()
}
