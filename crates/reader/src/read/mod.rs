//! Reading a whole chip (ICAO 9303 Part 10 §3, Part 11 §4-§7).

use std::collections::BTreeMap;

use icao9303::lds::{CardAccess, Dg14, EfCom, FileId};
use icao9303::protocol::apdu::{
    CommandApdu, MAX_EVEN_READ_OFFSET, ResponseApdu, StatusWord, read_binary_data,
};
use icao9303::protocol::bac::{self, MrzInformation};
use icao9303::protocol::chip_auth::{self, ChipAuthProtocol, ChipPublicKey};
use icao9303::protocol::pace::{self, Password};
use icao9303::protocol::{ProtocolError, SecureMessaging, SmError, active_auth};
use icao9303::tlv::TlvReader;

use crate::{ReadError, Transport, TransportError};

/// The key that opens the chip: the MRZ information (BAC or PACE) or the CAN (PACE only).
#[derive(Clone, Debug)]
pub enum AccessKey {
    Mrz(MrzInformation),
    Can(String),
}

impl AccessKey {
    /// From the document number and the dates of birth and expiry (YYMMDD).
    pub fn from_mrz_fields(
        document_number: &str,
        date_of_birth: &str,
        date_of_expiry: &str,
    ) -> Result<Self, ReadError> {
        MrzInformation::new(document_number, date_of_birth, date_of_expiry)
            .map(AccessKey::Mrz)
            .map_err(|e| ReadError::InvalidKey(e.to_string()))
    }

    /// From the printed MRZ lines (TD1: three, TD2/TD3: two).
    pub fn from_mrz_lines(lines: &[&str]) -> Result<Self, ReadError> {
        let mrz = icao9303::mrz::Mrz::parse_lines(lines)
            .map_err(|e| ReadError::InvalidKey(format!("MRZ: {e}")))?;
        let number = mrz.document_number.trim_end_matches('<').to_owned();
        AccessKey::from_mrz_fields(&number, &mrz.date_of_birth, &mrz.date_of_expiry)
    }

    /// The Card Access Number (digits).
    pub fn can(can: &str) -> Result<Self, ReadError> {
        if can.is_empty() || !can.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::InvalidKey("the CAN is digits only".into()));
        }
        Ok(AccessKey::Can(can.to_owned()))
    }

    fn password(&self) -> Password {
        match self {
            AccessKey::Mrz(m) => Password::Mrz(m.clone()),
            AccessKey::Can(c) => Password::Can(c.clone()),
        }
    }
}

/// How many bytes each READ BINARY asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSize {
    /// The most a response can carry: with extended length when EF.ATR/INFO announces it,
    /// else what fits a short response under secure messaging (223 bytes with AES, 231 with
    /// 3DES).
    Auto,
    /// At most this many bytes: over 223, only if the chip announces extended length, else
    /// capped to what fits a short response.
    Fixed(usize),
}

/// What to do besides reading files.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub block_size: BlockSize,
    /// Use PACE when EF.CardAccess offers it (else BAC only).
    pub pace: bool,
    /// Run chip authentication with DG14's key.
    pub chip_authentication: bool,
    /// Run Active Authentication with this challenge when DG15 is present.
    pub active_authentication_challenge: Option<[u8; 8]>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            block_size: BlockSize::Auto,
            pace: true,
            chip_authentication: true,
            active_authentication_challenge: None,
        }
    }
}

/// Progress of a read, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A protocol step begins ("PACE", "BAC", "chip authentication", …).
    Step(String),
    /// `read` of `total` bytes of `file` (total known after the first block).
    File {
        file: FileId,
        read: usize,
        total: usize,
    },
    /// The file is listed but not readable without EAC, or absent.
    FileSkipped { file: FileId, reason: String },
}

/// How access was gained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessControl {
    Bac,
    Pace {
        /// The protocol OID (dotted), e.g. `0.4.0.127.0.7.2.2.4.2.2`.
        protocol: String,
        parameter_id: u64,
        /// Whether the CAN (else the MRZ) was the password.
        can: bool,
    },
}

/// The outcome of chip authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipAuthentication {
    /// No DG14 or no chip authentication key in it.
    NotSupported,
    /// Not asked for.
    NotRequested,
    /// The chip proved its key: the rest was read under the new session keys.
    Succeeded { protocol: String },
    /// The chip refused or could not continue with the new keys (a clone, or a broken chip);
    /// the read continued after authenticating again with the access key.
    Failed { reason: String },
}

/// Active Authentication: the challenge sent and the chip's raw answer (or why there is none).
/// Verifying the signature against DG15 is the verifier's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthentication {
    pub challenge: [u8; 8],
    pub response: Result<Vec<u8>, String>,
}

/// Everything read from a chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipFiles {
    /// EF.CardAccess, if the chip has one.
    pub card_access: Option<Vec<u8>>,
    /// EF.COM, EF.SOD and the data groups read, as stored.
    pub files: BTreeMap<FileId, Vec<u8>>,
    /// Data groups listed in EF.COM but not read (DG3/DG4 need EAC, or the chip refused).
    pub skipped: Vec<FileId>,
    pub access_control: AccessControl,
    pub chip_authentication: ChipAuthentication,
    /// `None` when no challenge was given or DG15 is absent.
    pub active_authentication: Option<ActiveAuthentication>,
    /// The READ BINARY size used.
    pub block_size: usize,
}

impl ChipFiles {
    pub fn file(&self, id: FileId) -> Option<&[u8]> {
        self.files.get(&id).map(Vec::as_slice)
    }
}

/// The largest file we accept (a bound on what a chip's length field can make us read).
const MAX_FILE_LEN: usize = 1 << 24;

/// The channel to the chip: plain until access control, then secure messaging.
struct Channel<'t> {
    transport: &'t mut dyn Transport,
    sm: Option<SecureMessaging>,
}

impl Channel<'_> {
    fn exchange(&mut self, command: &CommandApdu, during: &str) -> Result<ResponseApdu, ReadError> {
        let bytes = self
            .transport
            .transmit(&command.to_bytes())
            .map_err(|source| ReadError::Transport {
                during: during.to_owned(),
                source,
            })?;
        ResponseApdu::from_bytes(&bytes).map_err(|_| ReadError::Transport {
            during: during.to_owned(),
            source: TransportError::Malformed,
        })
    }

    /// One command as the transport carries it, with the transmission-level answers of
    /// ISO/IEC 7816-3/-4 handled as a card reader's driver would: '6Cxx' (a plain command's Le
    /// was wrong: sent again with Le = xx) and '61xx' (xx more bytes wait: fetched with GET
    /// RESPONSE until the final status word). Secure messaging sees the joined response.
    fn plain(&mut self, command: &CommandApdu, during: &str) -> Result<ResponseApdu, ReadError> {
        let mut response = self.exchange(command, during)?;
        let plain_command = command.cla() & 0x0C == 0;
        if plain_command && let Some(ne) = le_correction(response.sw) {
            let corrected = with_ne(command.header(), command.data(), ne, during)?;
            response = self.exchange(&corrected, during)?;
        }
        let mut data = Vec::new();
        while let Some(ne) = response_waiting(response.sw) {
            data.append(&mut response.data);
            if data.len() > MAX_RESPONSE_LEN {
                return Err(ReadError::Transport {
                    during: during.to_owned(),
                    source: TransportError::Other(format!(
                        "the card keeps announcing more response bytes (over {MAX_RESPONSE_LEN})"
                    )),
                });
            }
            response = self.exchange(&with_ne(GET_RESPONSE, &[], ne, during)?, during)?;
            if let Some(ne) = le_correction(response.sw) {
                response = self.exchange(&with_ne(GET_RESPONSE, &[], ne, during)?, during)?;
            }
        }
        if !data.is_empty() {
            data.append(&mut response.data);
            response.data = data;
        }
        Ok(response)
    }

    /// A plain command that opens access control: a chip that still had a session answers it
    /// '6987'/'6988' and drops its keys (Part 11 §9.8.8), so that answer means "send it
    /// again", not "give up".
    fn plain_restarting(
        &mut self,
        command: &CommandApdu,
        during: &str,
    ) -> Result<ResponseApdu, ReadError> {
        let response = self.plain(command, during)?;
        if is_session_end(response.sw) {
            return self.plain(command, during);
        }
        Ok(response)
    }

    /// Protected exchange; plain when no session is open (never the case after access control).
    fn send(&mut self, command: &CommandApdu, during: &str) -> Result<ResponseApdu, ReadError> {
        let Some(sm) = self.sm.as_mut() else {
            return self.plain(command, during);
        };
        let protected = sm
            .protect(command)
            .map_err(|source| ReadError::SecureMessaging {
                during: during.to_owned(),
                source,
            })?;
        let response = self.plain(&protected, during)?;
        let Some(sm) = self.sm.as_mut() else {
            return Ok(response);
        };
        match sm.unprotect(&response) {
            Ok(r) => Ok(r),
            Err(SmError::Unprotected(sw)) => {
                self.sm = None;
                Err(ReadError::SessionTerminated {
                    during: during.to_owned(),
                    sw,
                })
            }
            Err(source) => {
                self.sm = None;
                Err(ReadError::SecureMessaging {
                    during: during.to_owned(),
                    source,
                })
            }
        }
    }

    fn send_ok(&mut self, command: &CommandApdu, during: &str) -> Result<Vec<u8>, ReadError> {
        let r = self.send(command, during)?;
        if r.sw.is_success() {
            Ok(r.data)
        } else {
            Err(ReadError::Chip {
                during: during.to_owned(),
                sw: r.sw,
            })
        }
    }
}

/// The most response bytes joined from '61xx' pieces (a bound against a card that never ends).
const MAX_RESPONSE_LEN: usize = icao9303::protocol::apdu::MAX_NE + 1024;

/// '6Cxx': the exact Le to send the command again with.
fn le_correction(sw: StatusWord) -> Option<usize> {
    (sw.0 & 0xFF00 == 0x6C00).then(|| match sw.0 & 0xFF {
        0 => 256,
        n => usize::from(n),
    })
}

/// '61xx': bytes waiting for GET RESPONSE.
fn response_waiting(sw: StatusWord) -> Option<usize> {
    (sw.0 & 0xFF00 == 0x6100).then(|| match sw.0 & 0xFF {
        0 => 256,
        n => usize::from(n),
    })
}

/// GET RESPONSE (ISO/IEC 7816-4 §11.5.1).
const GET_RESPONSE: [u8; 4] = [0x00, 0xC0, 0x00, 0x00];

fn with_ne(
    header: [u8; 4],
    data: &[u8],
    ne: usize,
    during: &str,
) -> Result<CommandApdu, ReadError> {
    let [cla, ins, p1, p2] = header;
    CommandApdu::new(cla, ins, p1, p2, data.to_vec(), Some(ne)).map_err(|e| ReadError::Transport {
        during: during.to_owned(),
        source: TransportError::Other(format!("the card asked for Le {ne}: {e}")),
    })
}

/// '6987'/'6988' in plain: the chip ended (or had no) secure-messaging session.
fn is_session_end(sw: StatusWord) -> bool {
    sw == StatusWord::SM_OBJECTS_MISSING || sw == StatusWord::SM_OBJECTS_INCORRECT
}

/// Reads the chip on `transport` with `key`. See the crate documentation for the sequence.
///
/// With [`BlockSize::Auto`], a chip that announces extended length is read in blocks of up to
/// its limit; if the reader then fails to carry such a command (many readers and drivers cannot),
/// the card is reset and read again from the start in short APDUs.
pub fn read_document(
    transport: &mut dyn Transport,
    key: &AccessKey,
    options: &ReadOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ChipFiles, ReadError> {
    let mut extended_in_use = false;
    let error = match read_once(transport, key, options, progress, &mut extended_in_use) {
        Ok(files) => return Ok(files),
        Err(error) => error,
    };
    let reader_refused_extended = matches!(
        &error,
        ReadError::Transport {
            source: crate::TransportError::Other(_) | crate::TransportError::Malformed,
            ..
        }
    ) || matches!(
        &error,
        ReadError::Chip { sw, .. } | ReadError::SessionTerminated { sw, .. } if sw.0 == 0x6700
    );
    if !(extended_in_use && options.block_size == BlockSize::Auto && reader_refused_extended) {
        return Err(error);
    }
    progress(Progress::Step(format!(
        "the reader could not carry an extended-length command ({error}); reading again in short commands"
    )));
    transport.reset().map_err(|source| ReadError::Transport {
        during: "resetting the card".into(),
        source,
    })?;
    let short = ReadOptions {
        block_size: BlockSize::Fixed(SHORT_BLOCK),
        ..options.clone()
    };
    read_once(transport, key, &short, progress, &mut extended_in_use)
}

/// The largest block a short response carries under AES secure messaging.
const SHORT_BLOCK: usize = 223;

/// How often one read may open a new session after the chip ended one (a chip that ends its
/// session on every error may do so once per absent file).
const MAX_REOPENS: usize = 16;

/// What it takes to open a session again after the chip dropped one: the access key and the
/// PACE offers, and the DG14 to run chip authentication with again if it had succeeded.
struct Access<'a> {
    key: &'a AccessKey,
    pace: bool,
    offers: Vec<(Vec<u8>, Option<u64>, String)>,
    reopens: usize,
}

impl Access<'_> {
    /// Opens a new session after the chip ended the last one, and proves the chip again if it
    /// had proven itself (files read after this point come from the same chip only if it does).
    fn reopen(
        &mut self,
        ch: &mut Channel<'_>,
        why: &ReadError,
        chip_authentication: &mut ChipAuthentication,
        dg14: Option<&[u8]>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ReadError> {
        self.reopens += 1;
        progress(Progress::Step(format!("{why}; authenticating again")));
        establish_access(ch, self.key, self.pace, &self.offers, progress)?;
        if let (ChipAuthentication::Succeeded { .. }, Some(dg14)) = (&*chip_authentication, dg14) {
            progress(Progress::Step("chip authentication again".into()));
            *chip_authentication = match run_chip_authentication(ch, dg14) {
                ok @ ChipAuthentication::Succeeded { .. } => ok,
                ChipAuthentication::Failed { reason } => ChipAuthentication::Failed {
                    reason: format!(
                        "succeeded, then failed when repeated after the chip ended its session: {reason}"
                    ),
                },
                other => other,
            };
            if ch.sm.is_none() {
                establish_access(ch, self.key, self.pace, &self.offers, progress)?;
            }
        }
        Ok(())
    }

    /// Whether an error means the chip dropped its session (so a new one may get further).
    fn can_recover(&self, error: &ReadError) -> bool {
        self.reopens < MAX_REOPENS
            && matches!(
                error,
                ReadError::SessionTerminated { .. } | ReadError::SecureMessaging { .. }
            )
    }
}

/// [`read_file`], opening a new session whenever the chip ended the last one.
fn read_file_recovering(
    ch: &mut Channel<'_>,
    access: &mut Access<'_>,
    chip_authentication: &mut ChipAuthentication,
    dg14: Option<&[u8]>,
    file: FileId,
    block: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Vec<u8>>, ReadError> {
    loop {
        match read_file(ch, file, block, progress) {
            Err(e) if access.can_recover(&e) => {
                access.reopen(ch, &e, chip_authentication, dg14, progress)?;
            }
            other => return other,
        }
    }
}

fn read_once(
    transport: &mut dyn Transport,
    key: &AccessKey,
    options: &ReadOptions,
    progress: &mut dyn FnMut(Progress),
    extended_in_use: &mut bool,
) -> Result<ChipFiles, ReadError> {
    let mut ch = Channel {
        transport,
        sm: None,
    };

    // The master file: EF.CardAccess (PACE) and EF.ATR/INFO (extended length).
    let card_access = read_plain_file(&mut ch, 0x011C, "reading EF.CardAccess")?;
    // Blocks over SHORT_BLOCK bytes need extended length, which the chip announces in
    // EF.ATR/INFO.
    let wants_extended = match options.block_size {
        BlockSize::Auto => true,
        BlockSize::Fixed(n) => n > SHORT_BLOCK,
    };
    let max_response = if wants_extended {
        read_plain_file(&mut ch, 0x2F01, "reading EF.ATR/INFO")?
            .and_then(|info| extended_length(&info))
            .unwrap_or(256)
    } else {
        256
    };

    let mut access = Access {
        key,
        pace: options.pace,
        offers: pace_offers(card_access.as_deref()),
        reopens: 0,
    };
    let access_control = establish_access(&mut ch, key, options.pace, &access.offers, progress)?;

    let block = {
        let sm = ch.sm.as_ref().ok_or(ReadError::UnsupportedProtocol(
            "no secure-messaging session after access control".into(),
        ))?;
        let cap = sm.max_read_len(max_response.min(icao9303::protocol::apdu::MAX_NE));
        match options.block_size {
            BlockSize::Auto => cap,
            BlockSize::Fixed(n) => n.clamp(1, cap),
        }
    };
    *extended_in_use = block > SHORT_BLOCK;

    // EF.COM, DG14 and chip authentication, then EF.SOD and the data groups.
    let mut files = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut chip_authentication = ChipAuthentication::NotSupported;
    let com = read_file_recovering(
        &mut ch,
        &mut access,
        &mut chip_authentication,
        None,
        FileId::Com,
        block,
        progress,
    )?
    .ok_or_else(|| ReadError::MalformedFile {
        file: "EF.COM".into(),
        reason: "the chip has no EF.COM".into(),
    })?;
    let listed = EfCom::parse(&com)
        .map_err(|e| ReadError::MalformedFile {
            file: "EF.COM".into(),
            reason: e.to_string(),
        })?
        .data_groups();
    files.insert(FileId::Com, com);

    let mut dg14 = None;
    if listed.contains(&FileId::Dg(14))
        && let Some(bytes) = read_file_recovering(
            &mut ch,
            &mut access,
            &mut chip_authentication,
            None,
            FileId::Dg(14),
            block,
            progress,
        )?
    {
        chip_authentication = if options.chip_authentication {
            progress(Progress::Step("chip authentication".into()));
            run_chip_authentication(&mut ch, &bytes)
        } else {
            ChipAuthentication::NotRequested
        };
        if matches!(chip_authentication, ChipAuthentication::Failed { .. }) && ch.sm.is_none() {
            // The session died with the failed attempt: open a new one to read on.
            progress(Progress::Step("access control again".into()));
            establish_access(&mut ch, key, options.pace, &access.offers, progress)?;
        }
        files.insert(FileId::Dg(14), bytes.clone());
        dg14 = Some(bytes);
    }

    let mut order = vec![FileId::Sod];
    order.extend(listed.iter().copied().filter(|f| *f != FileId::Dg(14)));
    for file in order {
        if matches!(file, FileId::Dg(3 | 4)) {
            progress(Progress::FileSkipped {
                file,
                reason: "needs Extended Access Control".into(),
            });
            skipped.push(file);
            continue;
        }
        let result = read_file_recovering(
            &mut ch,
            &mut access,
            &mut chip_authentication,
            dg14.as_deref(),
            file,
            block,
            progress,
        );
        match result {
            Ok(Some(bytes)) => {
                files.insert(file, bytes);
            }
            Ok(None) => {
                progress(Progress::FileSkipped {
                    file,
                    reason: "listed in EF.COM but absent".into(),
                });
                skipped.push(file);
            }
            Err(ReadError::Chip { sw, .. }) if sw == StatusWord::SECURITY_STATUS_NOT_SATISFIED => {
                progress(Progress::FileSkipped {
                    file,
                    reason: format!("access refused ({sw})"),
                });
                skipped.push(file);
            }
            Err(e) => return Err(e),
        }
    }

    // Active Authentication.
    let active_authentication = match (
        options.active_authentication_challenge,
        files.contains_key(&FileId::Dg(15)),
    ) {
        (Some(challenge), true) => {
            progress(Progress::Step("active authentication".into()));
            let command = active_auth::internal_authenticate(&challenge);
            let mut answer = ch.send(&command, "active authentication");
            if let Err(e) = &answer
                && access.can_recover(e)
            {
                access.reopen(
                    &mut ch,
                    e,
                    &mut chip_authentication,
                    dg14.as_deref(),
                    progress,
                )?;
                answer = ch.send(&command, "active authentication");
            }
            let response = match answer {
                Ok(r) => match active_auth::signature(&r) {
                    Ok(sig) => Ok(sig.to_vec()),
                    Err(e) => Err(e.to_string()),
                },
                Err(e) if matches!(e, ReadError::Transport { .. }) => return Err(e),
                Err(e) => Err(e.to_string()),
            };
            Some(ActiveAuthentication {
                challenge,
                response,
            })
        }
        _ => None,
    };

    Ok(ChipFiles {
        card_access,
        files,
        skipped,
        access_control,
        chip_authentication,
        active_authentication,
        block_size: block,
    })
}

/// The PACE protocols EF.CardAccess offers: (OID content octets, parameter id, dotted OID).
fn pace_offers(card_access: Option<&[u8]>) -> Vec<(Vec<u8>, Option<u64>, String)> {
    card_access
        .and_then(|b| CardAccess::parse(b).ok())
        .map(|ca| {
            ca.security_infos
                .pace_infos
                .iter()
                .map(|p| {
                    (
                        p.protocol.as_bytes().to_vec(),
                        p.parameter_id,
                        p.protocol.to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// DO'7F66' of EF.ATR/INFO: the maximum response APDU length (ISO/IEC 7816-4 §12.7.1), as
/// response data bytes (less the status word).
fn extended_length(info: &[u8]) -> Option<usize> {
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

/// Selects and reads a small file of the master file in plain; `None` if absent.
fn read_plain_file(
    ch: &mut Channel<'_>,
    fid: u16,
    during: &str,
) -> Result<Option<Vec<u8>>, ReadError> {
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

/// A file's name as ICAO 9303 writes it ("EF.COM", "EF.SOD", "DG2"), for messages and progress.
pub fn file_label(file: FileId) -> String {
    match file {
        FileId::Com => "EF.COM".into(),
        FileId::Sod => "EF.SOD".into(),
        FileId::Dg(n) => format!("DG{n}"),
        other => format!("{other:?}"),
    }
}

/// The total length of a file from its first bytes: the tag, the length field and the value.
fn tlv_total_len(head: &[u8]) -> Option<usize> {
    let mut i = 1;
    if head.first()? & 0x1F == 0x1F {
        while head.get(i)? & 0x80 != 0 {
            i += 1;
        }
        i += 1;
    }
    let first = *head.get(i)?;
    i += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 3 {
            return None;
        }
        let bytes = head.get(i..i + n)?;
        i += n;
        bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b))
    };
    Some(i + len)
}

/// Selects and reads an application file under secure messaging; `None` if the chip says it is
/// absent ('6A82').
fn read_file(
    ch: &mut Channel<'_>,
    file: FileId,
    block: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Vec<u8>>, ReadError> {
    let label = file_label(file);
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
        let ne = match total {
            // Odd INS: the response's DO'53' header counts against Ne.
            Some(t) if offset > MAX_EVEN_READ_OFFSET => {
                let rest = t - offset;
                let header = if rest < 0x80 {
                    2
                } else if rest < 0x100 {
                    3
                } else {
                    4
                };
                block.min(rest + header)
            }
            Some(t) => block.min(t - offset),
            None => first_ne,
        };
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
            let t = tlv_total_len(&out).ok_or_else(|| ReadError::MalformedFile {
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

/// PACE when offered and supported (falling back to BAC on anything but a refused password),
/// else BAC. Leaves the eMRTD application selected and a session open.
fn establish_access(
    ch: &mut Channel<'_>,
    key: &AccessKey,
    use_pace: bool,
    offers: &[(Vec<u8>, Option<u64>, String)],
    progress: &mut dyn FnMut(Progress),
) -> Result<AccessControl, ReadError> {
    ch.sm = None;
    let chosen = if use_pace {
        pace::choose(offers.iter().map(|(oid, id, _)| (oid.as_slice(), *id)))
    } else {
        None
    };
    let mut pace_error = None;
    if let Some(params) = chosen {
        progress(Progress::Step("PACE".into()));
        let protocol = offers
            .iter()
            .find(|(oid, ..)| oid.as_slice() == params.protocol().oid())
            .map(|(.., dotted)| dotted.clone())
            .unwrap_or_default();
        let parameter_id = params.parameter_id();
        match run_pace(ch, params, key) {
            Ok(sm) => {
                ch.sm = Some(sm);
                ch.send_ok(
                    &CommandApdu::select_emrtd_application(),
                    "selecting the eMRTD application",
                )?;
                return Ok(AccessControl::Pace {
                    protocol,
                    parameter_id,
                    can: matches!(key, AccessKey::Can(_)),
                });
            }
            Err(e @ (ReadError::AccessDenied { .. } | ReadError::Transport { .. })) => {
                return Err(e);
            }
            Err(e) => pace_error = Some(e),
        }
    }
    let AccessKey::Mrz(mrz) = key else {
        return Err(ReadError::UnsupportedProtocol(match pace_error {
            Some(e) => format!("PACE failed ({e}) and a CAN cannot be used with BAC"),
            None if offers.is_empty() => {
                "the chip does not offer PACE, and a CAN only works with PACE: use the MRZ".into()
            }
            None => format!(
                "the chip offers only PACE protocols this reader does not run ({}); a CAN only works with PACE",
                offers
                    .iter()
                    .map(|o| o.2.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }));
    };
    progress(Progress::Step("BAC".into()));
    let during = "selecting the eMRTD application";
    let r = ch.plain_restarting(&CommandApdu::select_emrtd_application(), during)?;
    if !r.sw.is_success() {
        return Err(ReadError::Chip {
            during: during.into(),
            sw: r.sw,
        });
    }
    match run_bac(ch, mrz) {
        Ok(sm) => {
            ch.sm = Some(sm);
            Ok(AccessControl::Bac)
        }
        Err(ReadError::Chip { sw, .. }) if sw.0 == 0x6D00 || sw.0 == 0x6A86 => Err(
            ReadError::UnsupportedProtocol(match (pace_error, offers.is_empty()) {
                (Some(e), _) => format!("PACE failed ({e}) and the chip refuses BAC ({sw})"),
                (None, true) => format!("the chip offers no PACE and refuses BAC ({sw})"),
                (None, false) => format!(
                    "the chip offers only PACE protocols this reader does not run ({}) and refuses BAC ({sw})",
                    offers
                        .iter()
                        .map(|o| o.2.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        ),
        Err(e) => Err(e),
    }
}

fn protocol_error(during: &str, e: ProtocolError, protocol: &'static str) -> ReadError {
    match e {
        ProtocolError::Status(sw) if sw.0 == 0x6300 || sw.0 & 0xFFF0 == 0x63C0 => {
            ReadError::AccessDenied { protocol, sw }
        }
        ProtocolError::Status(sw) => ReadError::Chip {
            during: during.to_owned(),
            sw,
        },
        source => ReadError::Protocol {
            during: during.to_owned(),
            source,
        },
    }
}

fn run_bac(ch: &mut Channel<'_>, mrz: &MrzInformation) -> Result<SecureMessaging, ReadError> {
    let during = "BAC";
    let keys = bac::derive_keys(mrz).map_err(|e| protocol_error(during, e, "BAC"))?;
    let mut terminal = bac::Terminal::new(keys).map_err(|e| protocol_error(during, e, "BAC"))?;
    let challenge = ch.plain(&terminal.get_challenge_command(), during)?;
    let command = terminal
        .mutual_authenticate_command(&challenge)
        .map_err(|e| protocol_error(during, e, "BAC"))?;
    let response = ch.plain(&command, during)?;
    terminal
        .finish(&response)
        .map_err(|e| protocol_error(during, e, "BAC"))
}

fn run_pace(
    ch: &mut Channel<'_>,
    params: pace::PaceParameters,
    key: &AccessKey,
) -> Result<SecureMessaging, ReadError> {
    let during = "PACE";
    let mut terminal = pace::Terminal::new(params, &key.password())
        .map_err(|e| protocol_error(during, e, "PACE"))?;
    let mut response = ch.plain_restarting(&terminal.start(), during)?;
    loop {
        match terminal
            .next(&response)
            .map_err(|e| protocol_error(during, e, "PACE"))?
        {
            pace::TerminalStep::Command(c) => response = ch.plain(&c, during)?,
            pace::TerminalStep::Done(outcome) => return Ok(outcome.sm),
        }
    }
}

/// Chip authentication with DG14's first key; on success the channel uses the new keys.
fn run_chip_authentication(ch: &mut Channel<'_>, dg14: &[u8]) -> ChipAuthentication {
    let Ok(dg14) = Dg14::parse(dg14) else {
        return ChipAuthentication::Failed {
            reason: "DG14 does not parse".into(),
        };
    };
    let infos = &dg14.security_infos;
    let Some(key_info) = infos.chip_authentication_public_keys.first() else {
        return ChipAuthentication::NotSupported;
    };
    let key = match ChipPublicKey::from_subject_public_key_info(&key_info.subject_public_key_info) {
        Ok(k) => k,
        Err(e) => {
            return ChipAuthentication::Failed {
                reason: format!("DG14 key: {e}"),
            };
        }
    };
    let protocol = infos
        .chip_authentication_infos
        .iter()
        .find(|i| key_info.key_id.is_none() || i.key_id == key_info.key_id)
        .and_then(|i| ChipAuthProtocol::from_oid(i.protocol.as_bytes()).ok())
        .unwrap_or_else(|| ChipAuthProtocol::default_for(&key));
    let dotted = const_oid_string(protocol.oid());
    let mut terminal = match chip_auth::Terminal::new(protocol, key, key_info.key_id) {
        Ok(t) => t,
        Err(e) => {
            return ChipAuthentication::Failed {
                reason: e.to_string(),
            };
        }
    };
    let during = "chip authentication";
    let mut command = terminal.start();
    let new_sm = loop {
        let response = match ch.send(&command, during) {
            Ok(r) => r,
            Err(e) => {
                return ChipAuthentication::Failed {
                    reason: e.to_string(),
                };
            }
        };
        match terminal.next(&response) {
            Ok(chip_auth::Step::Command(c)) => command = c,
            Ok(chip_auth::Step::Done(sm)) => break sm,
            Err(e) => {
                return ChipAuthentication::Failed {
                    reason: format!("the chip refused: {e}"),
                };
            }
        }
    };
    ch.sm = Some(new_sm);
    // Only the genuine chip can answer under the new keys.
    match ch.send_ok(
        &CommandApdu::select_emrtd_application(),
        "checking the session after chip authentication",
    ) {
        Ok(_) => ChipAuthentication::Succeeded { protocol: dotted },
        Err(e) => {
            ch.sm = None;
            ChipAuthentication::Failed {
                reason: format!("the chip could not continue under the new keys: {e}"),
            }
        }
    }
}

/// Dotted form of DER OID content octets (for messages).
fn const_oid_string(der_content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc = 0u64;
    for (i, b) in der_content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() && i < der_content.len() {
                let (first, second) = if acc < 80 {
                    (acc / 40, acc % 40)
                } else {
                    (2, acc - 80)
                };
                arcs.push(first);
                arcs.push(second);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_total_lengths() {
        assert_eq!(tlv_total_len(&[0x60, 0x16]), Some(0x18));
        assert_eq!(
            tlv_total_len(&[0x75, 0x82, 0x4E, 0x20, 0x7F]),
            Some(4 + 20_000)
        );
        assert_eq!(tlv_total_len(&[0x77, 0x81, 0x90]), Some(3 + 0x90));
        assert_eq!(tlv_total_len(&[0x5F, 0x1F, 0x02]), Some(5));
        assert_eq!(tlv_total_len(&[0x75, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(tlv_total_len(&[0x75, 0x82, 0x01]), None);
    }

    #[test]
    fn extended_length_from_atr_info() {
        let info = [
            0x7F, 0x66, 0x08, 0x02, 0x02, 0x08, 0x00, 0x02, 0x02, 0x08, 0x00,
        ];
        assert_eq!(extended_length(&info), Some(2046));
        assert_eq!(extended_length(&[0x43, 0x01, 0xF8]), None);
    }

    #[test]
    fn oid_to_dotted() {
        assert_eq!(
            const_oid_string(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02]),
            "0.4.0.127.0.7.2.2.3.2.2"
        );
    }
}
