//! EF.COM (ICAO 9303 Part 10 §4.6.1).

use super::{LdsError, outer, tag_list, text};
use crate::tlv::Tag;

/// EF.COM: which LDS version the chip follows and which data groups it holds.
///
/// ```text
/// 60 {
///   5F01  LDS version "aabb"           (e.g. "0107" = 1.7)
///   5F36  Unicode version "aabbcc"     (e.g. "040000" = 4.0.0)
///   5C    tag list: the data groups' outermost tags (61 = DG1, 75 = DG2, …)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfCom {
    /// As stored, e.g. `0107`.
    pub lds_version: Option<String>,
    /// As stored, e.g. `040000`.
    pub unicode_version: Option<String>,
    /// The tags of the data groups present.
    pub tags: Vec<Tag>,
}

impl EfCom {
    pub fn parse(data: &[u8]) -> Result<EfCom, LdsError> {
        let com = outer(data, 0x60)?;
        let mut lds_version = None;
        let mut unicode_version = None;
        let mut tags = None;
        let mut reader = com.children();
        while let Some(element) = reader.next_tlv() {
            let element = element?;
            match element.tag {
                0x5F01 => lds_version = Some(text(element.value)),
                0x5F36 => unicode_version = Some(text(element.value)),
                0x5C => tags = Some(tag_list(&element)?),
                _ => {}
            }
        }
        let tags = tags.ok_or(LdsError::Missing {
            offset: com.offset,
            what: "tag list (5C)",
        })?;
        Ok(EfCom {
            lds_version,
            unicode_version,
            tags,
        })
    }

    /// The data groups listed, as [`super::FileId`]s (unknown tags are skipped).
    pub fn data_groups(&self) -> Vec<super::FileId> {
        self.tags
            .iter()
            .filter_map(|t| super::FileId::from_tag(*t))
            .collect()
    }

    /// The LDS version as `major.minor` (e.g. `1.7`), when stored as four digits.
    pub fn lds_version_display(&self) -> Option<String> {
        let v = self.lds_version.as_deref()?;
        let major: u8 = v.get(0..2)?.parse().ok()?;
        let minor: u8 = v.get(2..4)?.parse().ok()?;
        Some(format!("{major}.{minor}"))
    }
}
