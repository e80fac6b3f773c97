//! Reading a whole chip (ICAO 9303 Part 10 §3, Part 11 §4-§7): what to read and in which order
//! ([`read_document`]); the channel ([`channel`]), access control ([`access`]), chip
//! authentication ([`chip_authentication`]), file reading ([`files`]) and new sessions after the
//! chip ended one ([`session`]) each have their module.

mod access;
mod channel;
mod chip_authentication;
mod files;
mod session;

use std::collections::BTreeMap;

use icao9303::lds::{EfCom, FileId};
use icao9303::protocol::active_auth;
use icao9303::protocol::apdu::StatusWord;

pub use access::{AccessControl, AccessKey};
pub use chip_authentication::ChipAuthentication;
pub use files::file_label;

use access::pace_offers;
use channel::Channel;
use chip_authentication::run_chip_authentication;
use files::{extended_length, read_plain_file};
use session::{SessionRecovery, read_file_recovering};

use crate::{ReadError, Transport, TransportError};

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
            source: TransportError::Other(_) | TransportError::Malformed,
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

/// One read of the whole chip, in the order of the crate documentation. Sets `extended_in_use`
/// once the block size is chosen, so that [`read_document`] knows whether to try again in short
/// commands.
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
    let card_access = read_plain_file(&mut ch, FileId::CardAccess)?;
    let max_response = max_response_data(&mut ch, options.block_size)?;
    let recovery = SessionRecovery::new(key, options.pace, pace_offers(card_access.as_deref()));
    let access_control = recovery.establish(&mut ch, progress)?;
    let block = block_len(&ch, options.block_size, max_response)?;
    *extended_in_use = block > SHORT_BLOCK;

    let mut reader = ApplicationReader {
        ch,
        recovery,
        block,
        chip_authentication: ChipAuthentication::NotSupported,
        dg14: None,
        files: BTreeMap::new(),
        skipped: Vec::new(),
    };
    let listed = reader.read_com(progress)?;
    if listed.contains(&FileId::Dg(14)) {
        reader.read_dg14(options.chip_authentication, progress)?;
    }
    reader.read_listed(&listed, progress)?;
    let active_authentication = match (
        options.active_authentication_challenge,
        reader.files.contains_key(&FileId::Dg(15)),
    ) {
        (Some(challenge), true) => Some(reader.active_authentication(challenge, progress)?),
        _ => None,
    };
    Ok(ChipFiles {
        card_access,
        files: reader.files,
        skipped: reader.skipped,
        access_control,
        chip_authentication: reader.chip_authentication,
        active_authentication,
        block_size: block,
    })
}

/// The most response data bytes the chip can send: its EF.ATR/INFO limit when blocks over
/// [`SHORT_BLOCK`] bytes are wanted (they need extended length, which the chip announces there),
/// else 256.
fn max_response_data(ch: &mut Channel<'_>, block_size: BlockSize) -> Result<usize, ReadError> {
    let wants_extended = match block_size {
        BlockSize::Auto => true,
        BlockSize::Fixed(n) => n > SHORT_BLOCK,
    };
    if !wants_extended {
        return Ok(256);
    }
    Ok(read_plain_file(ch, FileId::AtrInfo)?
        .and_then(|info| extended_length(&info))
        .unwrap_or(256))
}

/// The READ BINARY size: what the session's secure messaging fits in `max_response` bytes,
/// or the size asked for when smaller.
fn block_len(
    ch: &Channel<'_>,
    block_size: BlockSize,
    max_response: usize,
) -> Result<usize, ReadError> {
    let sm = ch.sm.as_ref().ok_or(ReadError::UnsupportedProtocol(
        "no secure-messaging session after access control".into(),
    ))?;
    let cap = sm.max_read_len(max_response.min(icao9303::protocol::apdu::MAX_NE));
    Ok(match block_size {
        BlockSize::Auto => cap,
        BlockSize::Fixed(n) => n.clamp(1, cap),
    })
}

/// The eMRTD application's files, read after access control: EF.COM, DG14 and chip
/// authentication, then EF.SOD and the data groups EF.COM lists, and Active Authentication.
struct ApplicationReader<'t, 'k> {
    ch: Channel<'t>,
    recovery: SessionRecovery<'k>,
    block: usize,
    chip_authentication: ChipAuthentication,
    /// DG14 once read, to run chip authentication with again in a new session.
    dg14: Option<Vec<u8>>,
    files: BTreeMap<FileId, Vec<u8>>,
    skipped: Vec<FileId>,
}

impl ApplicationReader<'_, '_> {
    /// [`read_file`](files::read_file), in a new session whenever the chip ended the last one.
    fn read(
        &mut self,
        file: FileId,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Vec<u8>>, ReadError> {
        read_file_recovering(
            &mut self.ch,
            &mut self.recovery,
            &mut self.chip_authentication,
            self.dg14.as_deref(),
            file,
            self.block,
            progress,
        )
    }

    fn skip(&mut self, file: FileId, reason: String, progress: &mut dyn FnMut(Progress)) {
        progress(Progress::FileSkipped { file, reason });
        self.skipped.push(file);
    }

    /// EF.COM, which must be there; returns the data groups it lists.
    fn read_com(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Vec<FileId>, ReadError> {
        let malformed = |reason: String| ReadError::MalformedFile {
            file: FileId::Com.label(),
            reason,
        };
        let com = self
            .read(FileId::Com, progress)?
            .ok_or_else(|| malformed("the chip has no EF.COM".into()))?;
        let listed = EfCom::parse(&com)
            .map_err(|e| malformed(e.to_string()))?
            .data_groups();
        self.files.insert(FileId::Com, com);
        Ok(listed)
    }

    /// DG14, and chip authentication with its key when asked for. A failed attempt that ended
    /// the session is followed by access control again, to read on.
    fn read_dg14(
        &mut self,
        chip_authentication: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ReadError> {
        let Some(bytes) = self.read(FileId::Dg(14), progress)? else {
            return Ok(());
        };
        self.chip_authentication = if chip_authentication {
            progress(Progress::Step("chip authentication".into()));
            run_chip_authentication(&mut self.ch, &bytes)
        } else {
            ChipAuthentication::NotRequested
        };
        if matches!(self.chip_authentication, ChipAuthentication::Failed { .. })
            && self.ch.sm.is_none()
        {
            progress(Progress::Step("access control again".into()));
            self.recovery.establish(&mut self.ch, progress)?;
        }
        self.files.insert(FileId::Dg(14), bytes.clone());
        self.dg14 = Some(bytes);
        Ok(())
    }

    /// EF.SOD, then the data groups `listed` but DG14 (read already): DG3 and DG4 are skipped
    /// (they need Extended Access Control), as are files absent or refused.
    fn read_listed(
        &mut self,
        listed: &[FileId],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ReadError> {
        let others = listed.iter().copied().filter(|f| *f != FileId::Dg(14));
        for file in std::iter::once(FileId::Sod).chain(others) {
            if matches!(file, FileId::Dg(3 | 4)) {
                self.skip(file, "needs Extended Access Control".into(), progress);
                continue;
            }
            match self.read(file, progress) {
                Ok(Some(bytes)) => {
                    self.files.insert(file, bytes);
                }
                Ok(None) => self.skip(file, "listed in EF.COM but absent".into(), progress),
                Err(ReadError::Chip { sw, .. })
                    if sw == StatusWord::SECURITY_STATUS_NOT_SATISFIED =>
                {
                    self.skip(file, format!("access refused ({sw})"), progress);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// INTERNAL AUTHENTICATE with `challenge` (in a new session if the chip ended the last one).
    /// Only a transport failure is an error: a refusal is the outcome's response.
    fn active_authentication(
        &mut self,
        challenge: [u8; 8],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ActiveAuthentication, ReadError> {
        const DURING: &str = "active authentication";
        progress(Progress::Step(DURING.into()));
        let command = active_auth::internal_authenticate(&challenge);
        let mut answer = self.ch.send(&command, DURING);
        if let Err(e) = &answer
            && self.recovery.can_recover(e)
        {
            self.recovery.reopen(
                &mut self.ch,
                e,
                &mut self.chip_authentication,
                self.dg14.as_deref(),
                progress,
            )?;
            answer = self.ch.send(&command, DURING);
        }
        let response = match answer {
            Ok(r) => active_auth::signature(&r)
                .map(<[u8]>::to_vec)
                .map_err(|e| e.to_string()),
            Err(e @ ReadError::Transport { .. }) => return Err(e),
            Err(e) => Err(e.to_string()),
        };
        Ok(ActiveAuthentication {
            challenge,
            response,
        })
    }
}
