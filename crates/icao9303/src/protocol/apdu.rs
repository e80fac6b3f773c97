//! Command and response APDUs (ISO/IEC 7816-4 §5.1), with short and extended length fields, and
//! the few plain commands the eMRTD protocols need (ICAO 9303 Part 10 §3, Part 11 §4).

use std::fmt;

use crate::tlv;

/// Largest command data field (extended Lc is 2 bytes).
pub const MAX_DATA_LEN: usize = 65_535;
/// Largest expected response length (extended Le '0000').
pub const MAX_NE: usize = 65_536;
/// The eMRTD application identifier (ICAO 9303 Part 10 §3.10.1).
pub const EMRTD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// Highest offset READ BINARY with even INS can address in P1-P2 (15 bits).
pub const MAX_EVEN_READ_OFFSET: usize = 0x7FFF;

/// A status word SW1-SW2 (ISO/IEC 7816-4 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const SUCCESS: StatusWord = StatusWord(0x9000);
    /// '6282': end of file reached before reading Ne bytes.
    pub const END_OF_FILE: StatusWord = StatusWord(0x6282);
    /// '6987': expected secure-messaging data objects missing.
    pub const SM_OBJECTS_MISSING: StatusWord = StatusWord(0x6987);
    /// '6988': incorrect secure-messaging data objects.
    pub const SM_OBJECTS_INCORRECT: StatusWord = StatusWord(0x6988);
    /// '6982': security status not satisfied.
    pub const SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// '6A82': file not found.
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);

    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    pub fn is_success(self) -> bool {
        self == Self::SUCCESS
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW '{:04X}'", self.0)
    }
}

/// Why bytes are not a valid APDU, or APDU fields out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApduError {
    #[error("APDU shorter than its header or status word")]
    TooShort,
    #[error("APDU length fields disagree with its size")]
    BadLength,
    #[error("command data longer than 65535 bytes")]
    DataTooLong,
    #[error("expected length Ne outside 1..=65536")]
    BadNe,
}

/// A command APDU: header CLA INS P1 P2, data field, and Ne (the expected response length,
/// `None` for no Le field; 256 encodes as short Le '00', 65536 as extended Le '0000').
///
/// The encoding is short unless the data exceeds 255 bytes or Ne exceeds 256, then extended
/// (ISO/IEC 7816-4 §5.1: Lc and Le of one command share the same form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandApdu {
    header: [u8; 4],
    data: Vec<u8>,
    ne: Option<usize>,
}

impl CommandApdu {
    /// A command; fails if the data exceeds 65535 bytes or `ne` is outside 1..=65536.
    pub fn new(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: Vec<u8>,
        ne: Option<usize>,
    ) -> Result<Self, ApduError> {
        if data.len() > MAX_DATA_LEN {
            return Err(ApduError::DataTooLong);
        }
        if ne.is_some_and(|n| n == 0 || n > MAX_NE) {
            return Err(ApduError::BadNe);
        }
        Ok(CommandApdu {
            header: [cla, ins, p1, p2],
            data,
            ne,
        })
    }

    /// A command whose data is known to fit in a short APDU (internal builders).
    pub(crate) fn short(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>, ne: Option<u8>) -> Self {
        // Ne = 0 stands for 256 in short form; data beyond 255 bytes switches to extended
        // encoding transparently, so no input here is invalid.
        let ne = ne.map(|n| if n == 0 { 256 } else { usize::from(n) });
        CommandApdu {
            header: [cla, ins, p1, p2],
            data,
            ne,
        }
    }

    pub fn cla(&self) -> u8 {
        self.header[0]
    }
    pub fn ins(&self) -> u8 {
        self.header[1]
    }
    pub fn p1(&self) -> u8 {
        self.header[2]
    }
    pub fn p2(&self) -> u8 {
        self.header[3]
    }
    pub fn header(&self) -> [u8; 4] {
        self.header
    }
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// Expected response length (`None`: no Le field).
    pub fn ne(&self) -> Option<usize> {
        self.ne
    }

    /// Whether the encoding uses extended length fields.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.ne.is_some_and(|n| n > 256)
    }

    /// The ISO/IEC 7816-4 encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.data.len());
        out.extend_from_slice(&self.header);
        let extended = self.is_extended();
        // The length checks in the constructors keep these conversions lossless; `as` on a
        // value already bounded by 65535/65536 only maps 256 -> 0 and 65536 -> 0 as ISO wants.
        if !self.data.is_empty() {
            if extended {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(ne) = self.ne {
            if extended {
                if self.data.is_empty() {
                    out.push(0);
                }
                out.extend_from_slice(&((ne % MAX_NE) as u16).to_be_bytes());
            } else {
                out.push((ne % 256) as u8);
            }
        }
        out
    }

    /// Parses an encoded command (cases 1 to 4, short or extended).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ApduError> {
        let (header, body) = bytes.split_first_chunk::<4>().ok_or(ApduError::TooShort)?;
        let header = *header;
        let short_ne = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let ext_ne = |b: [u8; 2]| match u16::from_be_bytes(b) {
            0 => MAX_NE,
            n => usize::from(n),
        };
        let (data, ne) = match body {
            [] => (Vec::new(), None),
            [le] => (Vec::new(), Some(short_ne(*le))),
            [0, a, b] => (Vec::new(), Some(ext_ne([*a, *b]))),
            [0, a, b, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*a, *b]));
                if lc == 0 {
                    return Err(ApduError::BadLength);
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest.to_vec(), None),
                    Some(2) => {
                        let (data, le) = rest.split_at(lc);
                        let le: [u8; 2] = le.try_into().map_err(|_| ApduError::BadLength)?;
                        (data.to_vec(), Some(ext_ne(le)))
                    }
                    _ => return Err(ApduError::BadLength),
                }
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest.to_vec(), None),
                    Some(1) => {
                        let (data, le) = rest.split_at(lc);
                        let le = le.first().copied().ok_or(ApduError::BadLength)?;
                        (data.to_vec(), Some(short_ne(le)))
                    }
                    _ => return Err(ApduError::BadLength),
                }
            }
        };
        let [cla, ins, p1, p2] = header;
        CommandApdu::new(cla, ins, p1, p2, data, ne)
    }

    /// SELECT the eMRTD application by its AID (Part 10 §3.10.1), no response data.
    pub fn select_emrtd_application() -> Self {
        CommandApdu::short(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID.to_vec(), None)
    }

    /// SELECT an elementary file by its two-byte file identifier (e.g. `0x011E` EF.COM), no
    /// response data (P2 '0C').
    pub fn select_file(fid: u16) -> Self {
        CommandApdu::short(0x00, 0xA4, 0x02, 0x0C, fid.to_be_bytes().to_vec(), None)
    }

    /// GET CHALLENGE for an 8-byte nonce (Part 11 §4.3.4.1).
    pub fn get_challenge() -> Self {
        CommandApdu::short(0x00, 0x84, 0x00, 0x00, Vec::new(), Some(8))
    }

    /// READ BINARY of `ne` bytes at `offset` of the currently selected file. Offsets up to
    /// 32767 use INS 'B0' with the offset in P1-P2; larger ones INS 'B1' with the offset in
    /// DO'54' (ISO/IEC 7816-4 §11.3.3), whose response data is wrapped in DO'53' (see
    /// [`read_binary_data`]).
    pub fn read_binary(offset: usize, ne: usize) -> Result<Self, ApduError> {
        if offset <= MAX_EVEN_READ_OFFSET {
            let [p1, p2] = (offset as u16).to_be_bytes();
            CommandApdu::new(0x00, 0xB0, p1, p2, Vec::new(), Some(ne))
        } else {
            let offset = u32::try_from(offset).map_err(|_| ApduError::BadLength)?;
            let be = offset.to_be_bytes();
            let first = be.iter().position(|b| *b != 0).unwrap_or(3);
            let digits = be.get(first..).unwrap_or(&[]);
            let mut data = vec![0x54, digits.len() as u8];
            data.extend_from_slice(digits);
            CommandApdu::new(0x00, 0xB1, 0x00, 0x00, data, Some(ne))
        }
    }
}

/// The file bytes of a READ BINARY response: as is for INS 'B0', unwrapped from DO'53' for 'B1'.
pub fn read_binary_data(command: &CommandApdu, response_data: &[u8]) -> Result<Vec<u8>, ApduError> {
    if command.ins() & 1 == 0 {
        return Ok(response_data.to_vec());
    }
    let t = tlv::parse_expected(response_data, 0x53).map_err(|_| ApduError::BadLength)?;
    Ok(t.value.to_vec())
}

/// A response APDU: the data field and the status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl ResponseApdu {
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        ResponseApdu { data, sw }
    }

    /// A response with no data and this status word.
    pub fn status(sw: StatusWord) -> Self {
        ResponseApdu {
            data: Vec::new(),
            sw,
        }
    }

    /// Splits the status word off the end.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ApduError> {
        let (data, sw) = bytes.split_last_chunk::<2>().ok_or(ApduError::TooShort)?;
        Ok(ResponseApdu {
            data: data.to_vec(),
            sw: StatusWord::from_bytes(sw[0], sw[1]),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }

    /// The data if the status word is '9000', else the status word as an error.
    pub fn success_data(&self) -> Result<&[u8], StatusWord> {
        if self.sw.is_success() {
            Ok(&self.data)
        } else {
            Err(self.sw)
        }
    }
}
