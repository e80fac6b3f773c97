//! The Logical Data Structure (ICAO 9303 Part 10): EF.COM, EF.SOD, the data groups, EF.CardAccess.
//!
//! Every parser takes the file's bytes as read from the chip, which an attacker controls: they
//! never panic, never trust a length beyond the bytes held, cap how many repeated elements they
//! keep, and walk nesting only to a fixed depth.
pub mod sod;

mod biometric;
mod com;
mod dg1;
mod dg11;
mod dg12;
mod dg15;
mod dg7;
pub mod image;
mod security_infos;

pub use biometric::{Dg2, FaceEncoding, FaceImage};
pub use com::EfCom;
pub use dg1::Dg1;
pub use dg7::{Dg7, DisplayedImage};
pub use dg11::Dg11;
pub use dg12::Dg12;
pub use dg15::{Dg15, PublicKeyType};
pub use image::ImageFormat;
pub use security_infos::{
    ActiveAuthenticationInfo, CardAccess, ChipAuthenticationDomainParameterInfo,
    ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, Cipher, Dg14, KeyAgreement,
    PaceDomainParameterInfo, PaceInfo, PaceMapping, SecurityInfos, StandardizedDomainParameters,
    TerminalAuthenticationInfo, UnknownSecurityInfo,
};

use std::fmt;
use std::str::FromStr;

use crate::mrz::MrzError;
use crate::tlv::{Tag, Tlv, TlvError, TlvReader};

/// Why an LDS file could not be parsed. Every variant caused by the file's bytes carries the byte
/// offset of the problem in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LdsError {
    /// The TLV structure itself is broken (truncated, bad length, unexpected tag…).
    #[error("{0}")]
    Tlv(#[from] TlvError),
    /// A required element is missing from a template.
    #[error("missing {what} in the element at offset {offset}")]
    Missing { offset: usize, what: &'static str },
    /// An element is present but its content is not what the specification allows.
    #[error("invalid {what} at offset {offset}")]
    Invalid { offset: usize, what: &'static str },
    /// More repeated elements than this parser keeps (a bound on allocation).
    #[error("more than {limit} {what} at offset {offset}")]
    TooMany {
        offset: usize,
        what: &'static str,
        limit: usize,
    },
    /// The DG1 MRZ is not a valid MRZ.
    #[error("invalid MRZ at offset {offset}: {source}")]
    Mrz { offset: usize, source: MrzError },
    /// A well-formed structure this crate does not handle (e.g. an unknown key algorithm).
    #[error("unsupported {what} at offset {offset}")]
    Unsupported { offset: usize, what: &'static str },
}

/// An elementary file of the eMRTD application (ICAO 9303 Part 10 §3.6.2, Table 38 and §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FileId {
    /// EF.COM: LDS version and the list of data groups present (tag `60`, FID `011E`).
    Com,
    /// EF.SOD: the Document Security Object (tag `77`, FID `011D`).
    Sod,
    /// DG1 … DG16 (FID `0101` … `0110`, short file id 1 … 16).
    Dg(u8),
    /// EF.CardAccess, in the master file, untagged SecurityInfos (FID `011C`).
    CardAccess,
    /// EF.CardSecurity, in the master file (FID `011D`), a CMS SignedData.
    CardSecurity,
    /// EF.ATR/INFO, in the master file (FID `2F01`, short file id 1): the card's capabilities,
    /// among them extended length (ISO/IEC 7816-4 §8.2.1.1, ICAO 9303 Part 10 §3.11.1).
    AtrInfo,
}

/// Alias under the name of ICAO 9303 Part 10 §4.7 ("data groups").
pub type DataGroup = FileId;

impl FileId {
    /// The file's outermost tag, `None` for EF.CardAccess and EF.CardSecurity (untagged
    /// DER) and for data-group numbers outside 1–16 (ICAO 9303 Part 10 Table 38).
    pub fn tag(self) -> Option<Tag> {
        Some(match self {
            FileId::Com => 0x60,
            FileId::Sod => 0x77,
            FileId::Dg(n) => match n {
                1 => 0x61,
                2 => 0x75,
                3 => 0x63,
                4 => 0x76,
                5 => 0x65,
                6 => 0x66,
                7 => 0x67,
                8 => 0x68,
                9 => 0x69,
                10 => 0x6A,
                11 => 0x6B,
                12 => 0x6C,
                13 => 0x6D,
                14 => 0x6E,
                15 => 0x6F,
                16 => 0x70,
                _ => return None,
            },
            FileId::CardAccess | FileId::CardSecurity | FileId::AtrInfo => return None,
        })
    }

    /// The file for an outermost tag (the inverse of [`FileId::tag`]).
    pub fn from_tag(tag: Tag) -> Option<FileId> {
        match tag {
            0x60 => Some(FileId::Com),
            0x77 => Some(FileId::Sod),
            _ => (1..=16).map(FileId::Dg).find(|f| f.tag() == Some(tag)),
        }
    }

    /// The short EF identifier for READ BINARY with SFI (ICAO 9303 Part 10 Table 38).
    pub fn short_file_id(self) -> Option<u8> {
        match self {
            FileId::Com => Some(0x1E),
            FileId::Sod => Some(0x1D),
            FileId::Dg(n @ 1..=16) => Some(n),
            FileId::CardAccess => Some(0x1C),
            FileId::CardSecurity => Some(0x1D),
            FileId::AtrInfo => Some(0x01),
            FileId::Dg(_) => None,
        }
    }

    /// The two-byte file identifier for SELECT.
    pub fn fid(self) -> Option<u16> {
        match self {
            FileId::Com => Some(0x011E),
            FileId::Sod => Some(0x011D),
            FileId::Dg(n @ 1..=16) => Some(0x0100 | u16::from(n)),
            FileId::CardAccess => Some(0x011C),
            FileId::CardSecurity => Some(0x011D),
            FileId::AtrInfo => Some(0x2F01),
            FileId::Dg(_) => None,
        }
    }

    /// Whether the file is in the master file (readable before the eMRTD application is
    /// selected, in plain) rather than in the eMRTD application.
    pub fn in_master_file(self) -> bool {
        matches!(
            self,
            FileId::CardAccess | FileId::CardSecurity | FileId::AtrInfo
        )
    }

    /// Every file this type names: EF.COM, EF.SOD, DG1 … DG16, then the master file's.
    pub fn all() -> impl Iterator<Item = FileId> {
        [FileId::Com, FileId::Sod]
            .into_iter()
            .chain((1..=16).map(FileId::Dg))
            .chain([FileId::CardAccess, FileId::CardSecurity, FileId::AtrInfo])
    }

    /// The file with this FID in the master file (`master_file`) or in the eMRTD application.
    pub fn from_fid(fid: u16, master_file: bool) -> Option<FileId> {
        FileId::all().find(|f| f.in_master_file() == master_file && f.fid() == Some(fid))
    }

    /// The file with this short file id in the master file (`master_file`) or in the eMRTD
    /// application.
    pub fn from_short_file_id(sfi: u8, master_file: bool) -> Option<FileId> {
        FileId::all().find(|f| f.in_master_file() == master_file && f.short_file_id() == Some(sfi))
    }

    /// The name ICAO 9303 gives the file ("EF.COM", "EF.SOD", "DG2", "EF.CardAccess"), for
    /// messages and progress. [`Display`](fmt::Display) gives the dump file name instead.
    pub fn label(self) -> String {
        match self {
            FileId::Dg(n) => format!("DG{n}"),
            FileId::AtrInfo => "EF.ATR/INFO".into(),
            other => format!("EF.{other}"),
        }
    }

    /// The data-group number, for `Dg(n)`.
    pub fn data_group_number(self) -> Option<u8> {
        match self {
            FileId::Dg(n) => Some(n),
            _ => None,
        }
    }
}

/// The file's name in a dump folder, as `passport-reader testdoc create` and `dump` write them and
/// `verify` reads them: `COM`, `SOD`, `DG1` … `DG16`, `CardAccess`, `CardSecurity`, `ATRInfo`.
impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data_group;
        f.pad(match self {
            FileId::Com => "COM",
            FileId::Sod => "SOD",
            FileId::Dg(n) => {
                data_group = format!("DG{n}");
                &data_group
            }
            FileId::CardAccess => "CardAccess",
            FileId::CardSecurity => "CardSecurity",
            FileId::AtrInfo => "ATRInfo",
        })
    }
}

/// A name that is not a file's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} names no file of the eMRTD (COM, SOD, DG1 … DG16, CardAccess, CardSecurity)")]
pub struct UnknownFileName(pub String);

/// The file of a dump name ([`Display`](fmt::Display)) or an ICAO label ([`FileId::label`]),
/// ignoring case: `COM`, `EF.COM`, `dg2`, `CardAccess`, `EF.CardSecurity`, `EF.ATR/INFO`.
impl FromStr for FileId {
    type Err = UnknownFileName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FileId::all()
            .find(|f| {
                f.to_string().eq_ignore_ascii_case(name) || f.label().eq_ignore_ascii_case(name)
            })
            .ok_or_else(|| UnknownFileName(name.to_owned()))
    }
}

/// Reads the file's outermost element, which must carry `tag`. Bytes after it are tolerated only
/// as padding (`00` or `FF`), which some readers keep when reading a whole file size.
pub(crate) fn outer(data: &[u8], tag: Tag) -> Result<Tlv<'_>, LdsError> {
    let mut reader = TlvReader::new(data);
    let tlv = reader.expect(tag)?;
    let rest = data.get(tlv.raw.len()..).unwrap_or_default();
    if !rest.iter().all(|b| *b == 0x00 || *b == 0xFF) {
        reader.finish()?;
    }
    Ok(tlv)
}

/// Text of a DG11/DG12 field: UTF-8 (LDS 1.7), or ISO/IEC 8859-1 as older documents wrote it.
pub(crate) fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
    }
}

/// A non-negative DER INTEGER that fits in 64 bits.
pub(crate) fn small_uint(tlv: &Tlv<'_>, what: &'static str) -> Result<u64, LdsError> {
    tlv.unsigned_integer().ok_or(LdsError::Invalid {
        offset: tlv.offset,
        what,
    })
}

/// An OBJECT IDENTIFIER element.
pub(crate) fn object_identifier(
    tlv: &Tlv<'_>,
    what: &'static str,
) -> Result<const_oid::ObjectIdentifier, LdsError> {
    tlv.object_identifier().ok_or(LdsError::Invalid {
        offset: tlv.offset,
        what,
    })
}

/// Reads the tag list `5C` of EF.COM, DG11 and DG12: one- or two-byte tags back to back.
pub(crate) fn tag_list(tlv: &Tlv<'_>) -> Result<Vec<Tag>, LdsError> {
    let mut tags = Vec::new();
    let mut bytes = tlv.value.iter();
    while let Some(first) = bytes.next() {
        let mut tag = u32::from(*first);
        if first & 0x1F == 0x1F {
            let second = bytes.next().ok_or(LdsError::Invalid {
                offset: tlv.value_offset,
                what: "tag list",
            })?;
            tag = (tag << 8) | u32::from(*second);
        }
        tags.push(tag);
    }
    Ok(tags)
}

/// Reads every element of a template, stopping with an error after `limit` elements.
pub(crate) fn children_bounded<'a>(
    tlv: &Tlv<'a>,
    limit: usize,
    what: &'static str,
) -> Result<Vec<Tlv<'a>>, LdsError> {
    let mut out = Vec::new();
    let mut reader = tlv.children();
    while let Some(child) = reader.next_tlv() {
        if out.len() >= limit {
            return Err(LdsError::TooMany {
                offset: tlv.offset,
                what,
                limit,
            });
        }
        out.push(child?);
    }
    Ok(out)
}
