//! Reading files: the master file's in plain, the application's under secure messaging, in
//! blocks of READ BINARY (ISO/IEC 7816-4 §11.3.3; odd INS past offset 32767, ICAO 9303 Part 10
//! §3.6.4), and EF.ATR/INFO's extended-length limit.

use icao9303::lds::FileId;
use icao9303::protocol::apdu::{CommandApdu, MAX_EVEN_READ_OFFSET, StatusWord, read_binary_data};
use icao9303::tlv::{self, TlvReader};

use super::Progress;
use super::channel::Channel;
use crate::ReadError;

/// The largest file we accept (a bound on what a chip's length field can make us read).
const MAX_FILE_LEN: usize = 1 << 24;

/// Selects and reads a small file of the master file in plain; `None` if absent.
pub(super) fn read_plain_file(
    ch: &mut Channel<'_>,
    file: FileId,
) -> Result<Option<Vec<u8>>, ReadError> {
    let during = &format!("reading {}", file.label());
    let Some(fid) = file.fid() else {
        return Ok(None);
    };
    let r = ch.plain(&CommandApdu::select_file(fid), during)?;
    if !r.sw.is_success() {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let command = read_binary(out.len(), 0xDF)?;
        let r = ch.plain(&command, during)?;
        if !(r.sw.is_success() || r.sw == StatusWord::END_OF_FILE) {
            // '6B00' past the end, or refused.
            return Ok((!out.is_empty()).then_some(out));
        }
        let data = read_binary_data(&command, &r.data).unwrap_or_default();
        out.extend_from_slice(&data);
        if data.len() < 0xDF || r.sw == StatusWord::END_OF_FILE || out.len() > MAX_FILE_LEN {
            return Ok(Some(out));
        }
    }
}

fn read_binary(offset: usize, ne: usize) -> Result<CommandApdu, ReadError> {
    CommandApdu::read_binary(offset, ne).map_err(|e| ReadError::MalformedFile {
        file: "READ BINARY".into(),
        reason: e.to_string(),
    })
}

/// Selects and reads an application file under secure messaging; `None` if the chip says it is
/// absent ('6A82').
pub(super) fn read_file(
    ch: &mut Channel<'_>,
    file: FileId,
    block: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Vec<u8>>, ReadError> {
    let label = file.label();
    let during = format!("reading {label}");
    let Some(fid) = file.fid() else {
        return Ok(None);
    };
    let r = ch.send(&CommandApdu::select_file(fid), &during)?;
    if r.sw == StatusWord::FILE_NOT_FOUND {
        return Ok(None);
    }
    if !r.sw.is_success() {
        return Err(ReadError::Chip { during, sw: r.sw });
    }
    let mut out: Vec<u8> = Vec::new();
    let mut total: Option<usize> = None;
    let mut first_ne = block;
    loop {
        let offset = out.len();
        let ne = next_read_len(total, offset, block, first_ne);
        let command = read_binary(offset, ne)?;
        let r = ch.send(&command, &during)?;
        let ok = r.sw.is_success() || r.sw == StatusWord::END_OF_FILE;
        if !ok {
            // Some chips refuse a first read longer than the file: ask for the header alone.
            let wrong_length = r.sw.0 == 0x6700 || r.sw.0 & 0xFF00 == 0x6C00 || r.sw.0 == 0x6B00;
            if total.is_none() && wrong_length && first_ne > 8 {
                first_ne = 8;
                continue;
            }
            return Err(ReadError::Chip { during, sw: r.sw });
        }
        let data = read_binary_data(&command, &r.data).map_err(|e| ReadError::MalformedFile {
            file: label.clone(),
            reason: format!("READ BINARY response: {e}"),
        })?;
        if data.is_empty() {
            return Err(ReadError::MalformedFile {
                file: label,
                reason: format!("the chip returned no data at offset {offset}"),
            });
        }
        out.extend_from_slice(&data);
        if total.is_none() {
            let t = tlv::element_len(&out).ok_or_else(|| ReadError::MalformedFile {
                file: label.clone(),
                reason: "no valid tag and length at the start of the file".into(),
            })?;
            if t > MAX_FILE_LEN {
                return Err(ReadError::MalformedFile {
                    file: label,
                    reason: format!("announces {t} bytes"),
                });
            }
            total = Some(t);
        }
        let t = total.unwrap_or(out.len());
        out.truncate(t);
        progress(Progress::File {
            file,
            read: out.len(),
            total: t,
        });
        if out.len() >= t {
            return Ok(Some(out));
        }
        if r.sw == StatusWord::END_OF_FILE {
            return Err(ReadError::MalformedFile {
                file: label,
                reason: format!("ends after {} of {t} bytes", out.len()),
            });
        }
    }
}

/// The Ne of the next READ BINARY: `first_ne` until the file's length is known, then what is
/// left, at most `block`. Past offset 32767 (odd INS) the response's DO'53' header counts
/// against Ne.
fn next_read_len(total: Option<usize>, offset: usize, block: usize, first_ne: usize) -> usize {
    match total {
        Some(t) if offset > MAX_EVEN_READ_OFFSET => {
            let rest = t - offset;
            block.min(rest + tlv::header_len(0x53, rest))
        }
        Some(t) => block.min(t - offset),
        None => first_ne,
    }
}

/// DO'7F66' of EF.ATR/INFO: the maximum response APDU length (ISO/IEC 7816-4 §12.7.1), as
/// response data bytes (less the status word).
pub(super) fn extended_length(info: &[u8]) -> Option<usize> {
    let mut r = TlvReader::new(info);
    while let Some(Ok(t)) = r.next_tlv() {
        if t.tag == 0x7F66 {
            let mut inner = t.children();
            let _max_command = inner.next_tlv()?.ok()?;
            let max_response = inner.next_tlv()?.ok()?;
            let n = max_response
                .value
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b));
            return (n > 258).then(|| n - 2);
        }
    }
    None
}

/// A file's name as ICAO 9303 writes it ("EF.COM", "EF.SOD", "DG2"), for messages and progress:
/// [`FileId::label`], under the name the server calls.
pub fn file_label(file: FileId) -> String {
    file.label()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_length_from_atr_info() {
        let info = [
            0x7F, 0x66, 0x08, 0x02, 0x02, 0x08, 0x00, 0x02, 0x02, 0x08, 0x00,
        ];
        assert_eq!(extended_length(&info), Some(2046));
        assert_eq!(extended_length(&[0x43, 0x01, 0xF8]), None);
    }

    #[test]
    fn odd_ins_reads_leave_room_for_the_do53_header() {
        let past = MAX_EVEN_READ_OFFSET + 1;
        assert_eq!(next_read_len(None, 0, 223, 8), 8);
        assert_eq!(next_read_len(Some(1000), 900, 223, 223), 100);
        assert_eq!(next_read_len(Some(past + 100), past, 223, 223), 102);
        assert_eq!(next_read_len(Some(past + 200), past, 223, 223), 203);
        assert_eq!(next_read_len(Some(past + 300), past, 223, 223), 223);
    }
}
