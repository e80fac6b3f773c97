//! The chip: a file system (master file with EF.CardAccess and EF.ATR/INFO, the eMRTD
//! application with EF.COM, EF.SOD and the data groups), an access-control state machine and the
//! card side of each protocol.
//!
//! Access control as ICAO 9303 Part 11 asks of a real chip: only the master file's files are
//! readable in plain; the application's files need a BAC or PACE secure-messaging session
//! ('6982' otherwise); DG3 and DG4 need EAC, which this chip does not grant. A protected command
//! that fails its MAC or format ends the session ('6988' / '6987' in plain), as does any plain
//! command sent during a session (§9.8.8): the terminal has to authenticate again.

use icao9303::lds::{Dg14, Dg15, FileId};
use icao9303::protocol::apdu::{CommandApdu, EMRTD_AID, ResponseApdu, StatusWord};
use icao9303::protocol::bac::{self, BacKeys};
use icao9303::protocol::chip_auth::{self, ChipPublicKey};
use icao9303::protocol::pace::{self, PaceParameters, Password};
use icao9303::protocol::{ProtocolError, SecureMessaging, SmError};
use icao9303::tlv::{self, TlvReader};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rand::rand_bytes;

use crate::{ChipConfig, ChipContents, ChipError, KeyUse, LinkStats, active_auth};

/// The answer to reset the chip gives through vpcd: `3B 88 80 01`, eight proprietary historical
/// bytes ("vEMRTD01") and the check byte (T=1, contactless as PC/SC renders it).
pub const ATR: [u8; 13] = atr();

#[allow(clippy::indexing_slicing)] // const evaluation: out-of-range indexing fails the build
const fn atr() -> [u8; 13] {
    let mut a = [
        0x3B, 0x88, 0x80, 0x01, b'v', b'E', b'M', b'R', b'T', b'D', b'0', b'1', 0,
    ];
    // TCK: XOR of T0 .. the last historical byte is zero with TCK included.
    let mut tck = 0u8;
    let mut i = 1;
    while i < 12 {
        tck ^= a[i];
        i += 1;
    }
    a[12] = tck;
    a
}

const SW_OK: StatusWord = StatusWord::SUCCESS;
const SW_EOF: StatusWord = StatusWord(0x6282);
const SW_AUTH_FAILED: StatusWord = StatusWord(0x6300);
const SW_WRONG_LENGTH: StatusWord = StatusWord(0x6700);
const SW_NOT_SATISFIED: StatusWord = StatusWord::SECURITY_STATUS_NOT_SATISFIED;
const SW_CONDITIONS: StatusWord = StatusWord(0x6985);
const SW_NO_CURRENT_EF: StatusWord = StatusWord(0x6986);
const SW_SM_MISSING: StatusWord = StatusWord::SM_OBJECTS_MISSING;
const SW_SM_INCORRECT: StatusWord = StatusWord::SM_OBJECTS_INCORRECT;
const SW_WRONG_DATA: StatusWord = StatusWord(0x6A80);
const SW_FILE_NOT_FOUND: StatusWord = StatusWord::FILE_NOT_FOUND;
const SW_WRONG_P1P2: StatusWord = StatusWord(0x6A86);
const SW_NO_REFERENCE: StatusWord = StatusWord(0x6A88);
const SW_BEYOND_EOF: StatusWord = StatusWord(0x6B00);
const SW_INS: StatusWord = StatusWord(0x6D00);
const SW_CLA: StatusWord = StatusWord(0x6E00);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Df {
    Master,
    Emrtd,
}

enum Pending {
    None,
    Bac(bac::Card),
    Pace(Box<pace::Card>),
    ChipAuth(Box<chip_auth::Card>),
    /// A clone's chip authentication: answers without a key.
    PretendChipAuth,
}

/// The chip's static chip authentication key pair, ready for `chip_auth::Card`.
struct CaKey {
    spki: Vec<u8>,
    private: Vec<u8>,
}

/// A virtual eMRTD chip. [`VirtualChip::transmit`] takes a command APDU's bytes and returns the
/// response's (always: errors are status words, as on a card).
pub struct VirtualChip {
    contents: ChipContents,
    config: ChipConfig,
    bac_keys: BacKeys,
    ca_key: Option<CaKey>,
    aa_digest: MessageDigest,
    /// Length of a pretended Active Authentication signature (DG15's key size).
    aa_signature_len: usize,
    atr_info: Vec<u8>,
    df: Df,
    ef: Option<FileId>,
    sm: Option<SecureMessaging>,
    pending: Pending,
    /// With the `get-response` quirk: response bytes not handed out yet, and the final status.
    outgoing: Option<(Vec<u8>, StatusWord)>,
    stats: LinkStats,
}

impl std::fmt::Debug for VirtualChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualChip")
            .field("contents", &self.contents)
            .field("config", &self.config)
            .field("df", &self.df)
            .field("secure_messaging", &self.sm.is_some())
            .finish_non_exhaustive()
    }
}

impl VirtualChip {
    pub fn new(contents: ChipContents, config: ChipConfig) -> Result<Self, ChipError> {
        let bac_keys = bac::derive_keys(&contents.mrz)
            .map_err(|e| ChipError::InvalidDocument(format!("BAC keys: {e}")))?;
        let dg14 = contents
            .file(FileId::Dg(14))
            .map(Dg14::parse)
            .transpose()
            .map_err(|e| ChipError::InvalidDocument(format!("DG14: {e}")))?;
        let ca_key = match (&contents.ca_private_key, &dg14) {
            (Some(key), Some(dg14)) => {
                let spki = dg14
                    .security_infos
                    .chip_authentication_public_keys
                    .first()
                    .map(|k| k.subject_public_key_info.clone())
                    .ok_or_else(|| {
                        ChipError::InvalidDocument("DG14 holds no chip authentication key".into())
                    })?;
                let private = if let Ok(ec) = key.ec_key() {
                    ec.private_key().to_vec()
                } else {
                    key.dh()?.private_key().to_vec()
                };
                Some(CaKey { spki, private })
            }
            _ => None,
        };
        let aa_digest = dg14
            .as_ref()
            .and_then(|d| d.security_infos.active_authentication_info.as_ref())
            .and_then(|i| active_auth::ecdsa_digest(&i.signature_algorithm))
            .unwrap_or_else(MessageDigest::sha256);
        let aa_signature_len = match contents.file(FileId::Dg(15)).map(Dg15::parse) {
            Some(Ok(dg15)) => match PKey::public_key_from_der(&dg15.subject_public_key_info) {
                Ok(k) if k.rsa().is_ok() => k.size(),
                Ok(k) => 2 * usize::try_from(k.bits().div_ceil(8)).unwrap_or(32),
                Err(_) => 128,
            },
            _ => 128,
        };
        let atr_info = match config.extended_length {
            Some(max) => {
                let max = tlv::encode(0x02, &max.to_be_bytes());
                tlv::encode_constructed(0x7F66, &[&max, &max])
            }
            None => Vec::new(),
        };
        Ok(VirtualChip {
            contents,
            config,
            bac_keys,
            ca_key,
            aa_digest,
            aa_signature_len,
            atr_info,
            df: Df::Master,
            ef: None,
            sm: None,
            pending: Pending::None,
            outgoing: None,
            stats: LinkStats::default(),
        })
    }

    /// A chip for a profile holding a test document: the clone profile drops the private keys.
    pub fn for_profile(
        document: &testdoc::TestDocument,
        profile: crate::Profile,
    ) -> Result<Self, ChipError> {
        let mut contents =
            ChipContents::from_test_document(document, crate::contents::DEFAULT_CAN)?;
        if profile == crate::Profile::Clone {
            contents.aa_private_key = None;
            contents.ca_private_key = None;
        }
        VirtualChip::new(contents, ChipConfig::for_profile(profile))
    }

    pub fn contents(&self) -> &ChipContents {
        &self.contents
    }

    pub fn config(&self) -> &ChipConfig {
        &self.config
    }

    /// The answer to reset.
    pub fn atr(&self) -> &'static [u8] {
        &ATR
    }

    /// Power on / reset: back to the master file, any session and protocol in progress gone.
    pub fn reset(&mut self) {
        self.df = Df::Master;
        self.ef = None;
        self.outgoing = None;
        self.end_session();
    }

    /// Whether a secure-messaging session is open.
    pub fn in_session(&self) -> bool {
        self.sm.is_some()
    }

    /// APDUs, bytes and modelled time so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    pub fn reset_stats(&mut self) {
        self.stats = LinkStats::default();
    }

    /// Answers one command APDU.
    pub fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        if let Some(delay) = self.config.quirks.delay {
            std::thread::sleep(delay);
        }
        let response = match self.config.quirks.get_response_chunk {
            Some(chunk) => self.transmit_through_get_response(command, chunk),
            None => self.process(command),
        }
        .to_bytes();
        self.stats
            .record(self.config.link.as_ref(), command.len(), response.len());
        response
    }

    /// The `get-response` quirk (a T=0 chip): a response with data is announced as '61xx' and
    /// handed out by GET RESPONSE in pieces of at most `chunk` bytes. GET RESPONSE is a plain
    /// command that does not touch the secure-messaging session.
    fn transmit_through_get_response(&mut self, raw: &[u8], chunk: usize) -> ResponseApdu {
        let more = |left: usize| {
            StatusWord(0x6100 | u16::try_from(left.min(chunk).min(256) & 0xFF).unwrap_or(0))
        };
        match CommandApdu::from_bytes(raw) {
            Ok(c) if c.header() == [0x00, 0xC0, 0x00, 0x00] => {
                let Some((mut data, sw)) = self.outgoing.take() else {
                    return ResponseApdu::status(SW_CONDITIONS);
                };
                let ne = c.ne().unwrap_or(256);
                if self.config.quirks.le_correction && ne > data.len() && data.len() < 256 {
                    let exact = u16::try_from(data.len()).unwrap_or(0);
                    self.outgoing = Some((data, sw));
                    return ResponseApdu::status(StatusWord(0x6C00 | exact));
                }
                let rest = data.split_off(ne.min(data.len()));
                if rest.is_empty() {
                    return ResponseApdu::new(data, sw);
                }
                let sw_more = more(rest.len());
                self.outgoing = Some((rest, sw));
                ResponseApdu::new(data, sw_more)
            }
            _ => {
                self.outgoing = None;
                let response = self.process(raw);
                if response.data.is_empty() {
                    return response;
                }
                let sw_more = more(response.data.len());
                self.outgoing = Some((response.data, response.sw));
                ResponseApdu::status(sw_more)
            }
        }
    }

    /// Response data bytes the chip sends at most: 256, or the announced maximum response APDU
    /// length less the status word.
    fn max_response_data(&self) -> usize {
        self.config
            .extended_length
            .map_or(256, |max| usize::from(max).saturating_sub(2).max(256))
    }

    fn end_session(&mut self) {
        self.sm = None;
        self.pending = Pending::None;
    }

    fn process(&mut self, raw: &[u8]) -> ResponseApdu {
        let Ok(command) = CommandApdu::from_bytes(raw) else {
            return ResponseApdu::status(SW_WRONG_LENGTH);
        };
        if command.is_extended() && self.config.extended_length.is_none() {
            return ResponseApdu::status(SW_WRONG_LENGTH);
        }
        let cla = command.cla();
        if cla & 0x80 != 0 || cla & 0x03 != 0 {
            return ResponseApdu::status(SW_CLA);
        }
        if cla & 0x0C != 0x0C {
            // A plain command ends any session (Part 11 §9.8.8).
            if self.sm.is_some() {
                self.end_session();
                if self.config.quirks.plain_command_ends_session {
                    return ResponseApdu::status(SW_SM_INCORRECT);
                }
            }
            let (response, session) = self.execute(&command, None);
            if let Some(sm) = session {
                self.sm = Some(sm);
            }
            return response;
        }
        let Some(mut sm) = self.sm.take() else {
            self.pending = Pending::None;
            return ResponseApdu::status(SW_SM_INCORRECT);
        };
        let inner = match sm.unprotect_command(&command) {
            Ok(inner) => inner,
            Err(e) => {
                self.end_session();
                let sw = match e {
                    SmError::Malformed(_) => SW_SM_MISSING,
                    _ => SW_SM_INCORRECT,
                };
                return ResponseApdu::status(sw);
            }
        };
        // Response data must fit the protected response in the command's Ne and in the
        // response length the chip announces.
        let cap = sm.max_read_len(command.ne().unwrap_or(256).min(self.max_response_data()));
        let (response, session) = self.execute(&inner, Some(cap));
        let failed = !(response.sw.is_success() || response.sw == SW_EOF);
        match sm.protect_response(&response) {
            Ok(mut protected) => {
                if !(failed && self.config.quirks.error_ends_session) {
                    self.sm = Some(session.unwrap_or(sm));
                }
                if failed && self.config.quirks.protected_errors_outer_success {
                    protected.sw = SW_OK;
                }
                protected
            }
            Err(_) => {
                self.end_session();
                ResponseApdu::status(SW_SM_INCORRECT)
            }
        }
    }

    /// Runs a command (already unprotected when `secure` is `Some(response data cap)`);
    /// returns the response and, when the command establishes one, the new session.
    fn execute(
        &mut self,
        command: &CommandApdu,
        secure: Option<usize>,
    ) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |sw| (ResponseApdu::status(sw), None);
        match (command.ins(), command.p1(), command.p2()) {
            (0xA4, ..) => (self.select(command), None),
            (0xB0 | 0xB1, ..) => (self.read_binary(command, secure), None),
            (0x84, ..) => (self.get_challenge(command, secure.is_some()), None),
            (0x82, ..) if secure.is_some() => status(SW_CONDITIONS),
            (0x82, ..) => self.external_authenticate(command),
            (0x22, 0xC1, 0xA4) if secure.is_some() => status(SW_CONDITIONS),
            (0x22, 0xC1, 0xA4) => (self.pace_set_at(command), None),
            (0x22, 0x41, 0xA4 | 0xA6) if secure.is_none() => status(SW_NOT_SATISFIED),
            (0x22, 0x41, 0xA4 | 0xA6) => self.chip_authentication(command),
            (0x22, ..) => status(SW_WRONG_P1P2),
            (0x86, ..) => self.general_authenticate(command, secure.is_some()),
            (0x88, ..) if secure.is_none() => status(SW_NOT_SATISFIED),
            (0x88, ..) => (self.internal_authenticate(command), None),
            _ => status(SW_INS),
        }
    }

    /// The file with this FID in the current DF, if this chip has it.
    fn find_ef(&self, fid: u16) -> Option<FileId> {
        let file = FileId::from_fid(fid, self.df == Df::Master)?;
        self.holds(file).then_some(file)
    }

    /// The file with this short file id in the current DF, if this chip has it.
    fn find_sfi(&self, sfi: u8) -> Option<FileId> {
        let file = FileId::from_short_file_id(sfi, self.df == Df::Master)?;
        self.holds(file).then_some(file)
    }

    fn holds(&self, file: FileId) -> bool {
        match file {
            FileId::AtrInfo => !self.atr_info.is_empty(),
            FileId::CardAccess => self.config.pace && self.contents.files.contains_key(&file),
            _ => self.contents.files.contains_key(&file),
        }
    }

    fn file_bytes(&self, ef: FileId) -> &[u8] {
        match ef {
            FileId::AtrInfo => &self.atr_info,
            id => self.contents.file(id).unwrap_or_default(),
        }
    }

    fn select(&mut self, command: &CommandApdu) -> ResponseApdu {
        let data = command.data();
        let selected = match command.p1() {
            0x04 if data == EMRTD_AID => {
                self.df = Df::Emrtd;
                self.ef = None;
                return ResponseApdu::status(SW_OK);
            }
            0x04 => return ResponseApdu::status(SW_FILE_NOT_FOUND),
            0x00 if data.is_empty() || data == [0x3F, 0x00] => {
                self.df = Df::Master;
                self.ef = None;
                return ResponseApdu::status(SW_OK);
            }
            0x00 | 0x02 => match data {
                [hi, lo] => self.find_ef(u16::from_be_bytes([*hi, *lo])),
                _ => return ResponseApdu::status(SW_WRONG_DATA),
            },
            _ => return ResponseApdu::status(SW_WRONG_P1P2),
        };
        let Some(ef) = selected else {
            return ResponseApdu::status(SW_FILE_NOT_FOUND);
        };
        self.ef = Some(ef);
        if command.p2() & 0x0C == 0x0C {
            return ResponseApdu::status(SW_OK);
        }
        // FCP: file size (DO'80') and file identifier (DO'83').
        let size = u16::try_from(self.file_bytes(ef).len()).unwrap_or(u16::MAX);
        let mut fcp = tlv::encode(0x80, &size.to_be_bytes());
        fcp.extend(tlv::encode(0x83, data));
        ResponseApdu::new(tlv::encode(0x62, &fcp), SW_OK)
    }

    fn readable(&self, ef: FileId, secure: bool) -> bool {
        match ef {
            FileId::AtrInfo | FileId::CardAccess => true,
            // DG3 and DG4 need terminal authentication (EAC), which this chip never grants.
            FileId::Dg(3 | 4) => false,
            _ => secure,
        }
    }

    fn read_binary(&mut self, command: &CommandApdu, secure: Option<usize>) -> ResponseApdu {
        let odd = command.ins() == 0xB1;
        let (p1, p2) = (command.p1(), command.p2());
        let sfi = if odd {
            (p1 == 0 && p2 != 0 && p2 & 0xE0 == 0).then_some(p2 & 0x1F)
        } else {
            (p1 & 0x80 != 0).then_some(p1 & 0x1F)
        };
        let ef = match sfi {
            Some(sfi) => match self.find_sfi(sfi) {
                Some(ef) => {
                    self.ef = Some(ef);
                    ef
                }
                None => return ResponseApdu::status(SW_FILE_NOT_FOUND),
            },
            None if odd && (p1, p2) != (0, 0) => match self.find_ef(u16::from_be_bytes([p1, p2])) {
                Some(ef) => {
                    self.ef = Some(ef);
                    ef
                }
                None => return ResponseApdu::status(SW_FILE_NOT_FOUND),
            },
            None => match self.ef {
                Some(ef) => ef,
                None => return ResponseApdu::status(SW_NO_CURRENT_EF),
            },
        };
        let offset = if odd {
            match command.data() {
                [0x54, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() <= 3 => {
                    rest.iter()
                        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
                }
                _ => return ResponseApdu::status(SW_WRONG_DATA),
            }
        } else if sfi.is_some() {
            usize::from(p2)
        } else {
            usize::from(u16::from_be_bytes([p1 & 0x7F, p2]))
        };
        if !self.readable(ef, secure.is_some()) {
            return ResponseApdu::status(SW_NOT_SATISFIED);
        }
        let content = self.file_bytes(ef);
        if offset >= content.len() {
            return ResponseApdu::status(SW_BEYOND_EOF);
        }
        let left = content.len() - offset;
        if self.config.quirks.le_correction
            && secure.is_none()
            && !odd
            && command.ne().unwrap_or(256) > left
            && left < 256
        {
            // Le asks for more than there is: say exactly how much (ISO/IEC 7816-3 '6Cxx').
            return ResponseApdu::status(StatusWord(0x6C00 | u16::try_from(left).unwrap_or(0)));
        }
        let mut ne = command.ne().unwrap_or(256).min(self.max_response_data());
        if let Some(cap) = secure {
            ne = ne.min(cap);
        }
        let want = if odd { odd_ins_data_len(ne) } else { ne };
        let rest = content.get(offset..).unwrap_or_default();
        let chunk = rest.get(..want.min(rest.len())).unwrap_or_default();
        let sw = if chunk.len() < want { SW_EOF } else { SW_OK };
        let data = if odd {
            tlv::encode(0x53, chunk)
        } else {
            chunk.to_vec()
        };
        ResponseApdu::new(data, sw)
    }

    fn get_challenge(&mut self, command: &CommandApdu, secure: bool) -> ResponseApdu {
        if command.ne() != Some(8) {
            return ResponseApdu::status(SW_WRONG_LENGTH);
        }
        if self.config.bac && !secure {
            return match bac::Card::new(self.bac_keys.clone()) {
                Ok(card) => {
                    let response = card.challenge_response();
                    self.pending = Pending::Bac(card);
                    response
                }
                Err(_) => ResponseApdu::status(StatusWord(0x6F00)),
            };
        }
        let mut rnd = vec![0u8; 8];
        if rand_bytes(&mut rnd).is_err() {
            return ResponseApdu::status(StatusWord(0x6F00));
        }
        ResponseApdu::new(rnd, SW_OK)
    }

    fn external_authenticate(
        &mut self,
        command: &CommandApdu,
    ) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |sw| (ResponseApdu::status(sw), None);
        if !self.config.bac {
            return status(SW_INS);
        }
        if self.df != Df::Emrtd {
            return status(SW_CONDITIONS);
        }
        let Pending::Bac(card) = std::mem::replace(&mut self.pending, Pending::None) else {
            return status(SW_CONDITIONS);
        };
        match card.external_authenticate(command) {
            Ok((response, sm)) => (response, Some(sm)),
            Err(ProtocolError::AuthenticationFailed(_)) => status(SW_AUTH_FAILED),
            Err(ProtocolError::Malformed(_)) if command.data().len() != 40 => {
                status(SW_WRONG_LENGTH)
            }
            Err(_) => status(SW_WRONG_DATA),
        }
    }

    fn pace_set_at(&mut self, command: &CommandApdu) -> ResponseApdu {
        self.pending = Pending::None;
        if !self.config.pace {
            return ResponseApdu::status(SW_INS);
        }
        let mut oid = None;
        let mut password_ref = None;
        let mut parameter_id = None;
        let mut reader = TlvReader::new(command.data());
        while let Some(t) = reader.next_tlv() {
            let Ok(t) = t else {
                return ResponseApdu::status(SW_WRONG_DATA);
            };
            match t.tag {
                0x80 => oid = Some(t.value.to_vec()),
                0x83 => password_ref = t.value.first().copied(),
                0x84 => {
                    parameter_id = Some(t.value.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)));
                }
                _ => {}
            }
        }
        let Some(oid) = oid else {
            return ResponseApdu::status(SW_WRONG_DATA);
        };
        // Only a protocol and domain parameters offered in EF.CardAccess.
        let offered = self
            .contents
            .file(FileId::CardAccess)
            .and_then(|b| icao9303::lds::CardAccess::parse(b).ok())
            .is_some_and(|ca| {
                ca.security_infos.pace_infos.iter().any(|p| {
                    p.protocol.as_bytes() == oid.as_slice()
                        && (parameter_id.is_none() || p.parameter_id == parameter_id)
                })
            });
        if !offered {
            return ResponseApdu::status(SW_NO_REFERENCE);
        }
        let password = match password_ref {
            Some(1) => Password::Mrz(self.contents.mrz.clone()),
            Some(2) => Password::Can(self.contents.can.clone()),
            _ => return ResponseApdu::status(SW_NO_REFERENCE),
        };
        let card = PaceParameters::new(&oid, parameter_id)
            .and_then(|params| pace::Card::new(params, &password));
        let mut card = match card {
            Ok(c) => c,
            Err(_) => return ResponseApdu::status(SW_NO_REFERENCE),
        };
        match card.respond(command) {
            Ok(pace::CardStep::Response(response)) => {
                self.pending = Pending::Pace(Box::new(card));
                response
            }
            Ok(pace::CardStep::Done(..)) | Err(_) => ResponseApdu::status(SW_WRONG_DATA),
        }
    }

    fn general_authenticate(
        &mut self,
        command: &CommandApdu,
        secure: bool,
    ) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |sw| (ResponseApdu::status(sw), None);
        match (std::mem::replace(&mut self.pending, Pending::None), secure) {
            (Pending::Pace(mut card), false) => match card.respond(command) {
                Ok(pace::CardStep::Response(response)) => {
                    self.pending = Pending::Pace(card);
                    (response, None)
                }
                Ok(pace::CardStep::Done(response, sm)) => (response, Some(sm)),
                Err(ProtocolError::AuthenticationFailed(_)) => status(SW_AUTH_FAILED),
                Err(_) => status(SW_WRONG_DATA),
            },
            (Pending::ChipAuth(mut card), true) => match card.respond(command) {
                Ok(chip_auth::CardStep::Response(response)) => {
                    self.pending = Pending::ChipAuth(card);
                    (response, None)
                }
                Ok(chip_auth::CardStep::Done(response, sm)) => (response, Some(sm)),
                Err(_) => status(SW_WRONG_DATA),
            },
            (Pending::PretendChipAuth, true) => (ResponseApdu::new(vec![0x7C, 0x00], SW_OK), None),
            _ => status(SW_CONDITIONS),
        }
    }

    fn chip_authentication(
        &mut self,
        command: &CommandApdu,
    ) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |sw| (ResponseApdu::status(sw), None);
        self.pending = Pending::None;
        if let Some(sw) = self.config.quirks.refuse_chip_authentication {
            return status(sw);
        }
        let set_at = command.p2() == 0xA4;
        match self.config.chip_authentication {
            KeyUse::Refuse => status(SW_NO_REFERENCE),
            KeyUse::Pretend => {
                if set_at {
                    self.pending = Pending::PretendChipAuth;
                }
                status(SW_OK)
            }
            KeyUse::Genuine => {
                let Some(key) = &self.ca_key else {
                    return status(SW_NO_REFERENCE);
                };
                let card = ChipPublicKey::from_subject_public_key_info(&key.spki)
                    .and_then(|pk| chip_auth::Card::new(pk, &key.private));
                let mut card = match card {
                    Ok(c) => c,
                    Err(_) => return status(SW_NO_REFERENCE),
                };
                match card.respond(command) {
                    Ok(chip_auth::CardStep::Response(response)) => {
                        self.pending = Pending::ChipAuth(Box::new(card));
                        (response, None)
                    }
                    Ok(chip_auth::CardStep::Done(response, sm)) => (response, Some(sm)),
                    Err(ProtocolError::Unsupported(_)) => status(SW_NO_REFERENCE),
                    Err(_) => status(SW_WRONG_DATA),
                }
            }
        }
    }

    fn internal_authenticate(&mut self, command: &CommandApdu) -> ResponseApdu {
        if command.data().len() != 8 {
            return ResponseApdu::status(SW_WRONG_LENGTH);
        }
        match self.config.active_authentication {
            KeyUse::Refuse => ResponseApdu::status(SW_INS),
            KeyUse::Pretend => {
                let mut junk = vec![0u8; self.aa_signature_len];
                match rand_bytes(&mut junk) {
                    Ok(()) => ResponseApdu::new(junk, SW_OK),
                    Err(_) => ResponseApdu::status(StatusWord(0x6F00)),
                }
            }
            KeyUse::Genuine => {
                let Some(key) = &self.contents.aa_private_key else {
                    return ResponseApdu::status(SW_NO_REFERENCE);
                };
                match active_auth::sign(key, command.data(), self.aa_digest) {
                    Ok(signature) => ResponseApdu::new(signature, SW_OK),
                    Err(_) => ResponseApdu::status(StatusWord(0x6F00)),
                }
            }
        }
    }
}

/// The most data bytes an odd-INS READ BINARY response carries in `ne` bytes: DO'53' around
/// them counts against Ne (ISO/IEC 7816-4 §11.3.3).
fn odd_ins_data_len(ne: usize) -> usize {
    (2..=6)
        .map(|header| ne.saturating_sub(header))
        .find(|n| n + tlv::header_len(0x53, *n) <= ne)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_check_byte() {
        let x = ATR.iter().skip(1).fold(0u8, |a, b| a ^ b);
        assert_eq!(x, 0);
    }

    #[test]
    fn odd_ins_responses_leave_room_for_the_do53_header() {
        let old_rule = |ne: usize| match ne {
            n if n > 0x102 => n - 4,
            n if n > 0x81 => n - 3,
            n => n.saturating_sub(2),
        };
        for ne in 0..=65536 {
            assert_eq!(odd_ins_data_len(ne), old_rule(ne), "Ne {ne}");
        }
    }
}
