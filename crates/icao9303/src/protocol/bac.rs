//! Basic Access Control (ICAO 9303 Part 11 §4.3; worked example in Appendix D).
//!
//! Keys come from the MRZ information (document number, date of birth, date of expiry, each
//! with its check digit); GET CHALLENGE and EXTERNAL AUTHENTICATE then authenticate both sides
//! and agree on 3DES session keys and the initial send sequence counter.

use openssl::hash::{MessageDigest, hash};
use openssl::memcmp;
use openssl::rand::rand_bytes;

use super::apdu::{CommandApdu, ResponseApdu, StatusWord};
use super::crypto::{KDF_ENC, KDF_MAC, SymmetricCipher};
use super::error::ProtocolError;
use super::sm::SecureMessaging;

const CIPHER: SymmetricCipher = SymmetricCipher::Tdes;
const ZERO_IV: [u8; 8] = [0; 8];

/// The MRZ information of Part 11 §9.7.2: document number, date of birth and date of expiry,
/// each followed by its check digit, e.g. `L898902C<369080619406236`. It keys BAC and PACE.
#[derive(Clone, PartialEq, Eq)]
pub struct MrzInformation(String);

impl std::fmt::Debug for MrzInformation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The MRZ information is the access key: keep it out of logs.
        f.write_str("MrzInformation(..)")
    }
}

impl MrzInformation {
    /// From the MRZ fields as printed: the document number (padded with '<' to 9 characters if
    /// shorter), and the dates as YYMMDD. Check digits are computed here (Part 3 §4.9).
    pub fn new(
        document_number: &str,
        date_of_birth: &str,
        date_of_expiry: &str,
    ) -> Result<Self, ProtocolError> {
        let doc: String = format!("{document_number:<<9}");
        if document_number.is_empty()
            || !doc
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'<')
        {
            return Err(ProtocolError::InvalidInput(
                "document number must be digits, A-Z or '<'",
            ));
        }
        for date in [date_of_birth, date_of_expiry] {
            if !crate::mrz::is_mrz_date(date) {
                return Err(ProtocolError::InvalidInput("dates must be YYMMDD"));
            }
        }
        let mut s = String::with_capacity(doc.len() + 15);
        for field in [doc.as_str(), date_of_birth, date_of_expiry] {
            s.push_str(field);
            s.push(char::from(b'0' + check_digit(field.as_bytes())));
        }
        Ok(MrzInformation(s))
    }

    /// The concatenated string (e.g. `L898902C<369080619406236`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-1 of the MRZ information: K_seed's source for BAC and the PACE password f(π).
    pub fn sha1(&self) -> Result<[u8; 20], ProtocolError> {
        let d = hash(MessageDigest::sha1(), self.0.as_bytes())?;
        let mut out = [0u8; 20];
        for (o, b) in out.iter_mut().zip(d.iter()) {
            *o = *b;
        }
        Ok(out)
    }
}

/// ICAO 9303 Part 3 §4.9 check digit (weights 7, 3, 1; A-Z = 10..35; '<' = 0).
fn check_digit(field: &[u8]) -> u8 {
    let sum: u32 = field
        .iter()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(c, w)| {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => 0,
            };
            v * w
        })
        .sum();
    (sum % 10) as u8
}

/// The document basic access keys K_Enc and K_MAC (2-key 3DES, odd parity).
#[derive(Clone, PartialEq, Eq)]
pub struct BacKeys {
    pub k_enc: [u8; 16],
    pub k_mac: [u8; 16],
}

impl std::fmt::Debug for BacKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BacKeys(..)")
    }
}

/// K_seed = first 16 bytes of SHA-1(MRZ information); K_Enc = KDF(K_seed, 1),
/// K_MAC = KDF(K_seed, 2) (Part 11 §4.3.2, §9.7.2).
pub fn derive_keys(mrz: &MrzInformation) -> Result<BacKeys, ProtocolError> {
    let digest = mrz.sha1()?;
    let seed = digest.get(..16).unwrap_or(&digest);
    Ok(BacKeys {
        k_enc: to16(&CIPHER.kdf(seed, KDF_ENC)?),
        k_mac: to16(&CIPHER.kdf(seed, KDF_MAC)?),
    })
}

fn to16(v: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(v) {
        *o = *b;
    }
    out
}

fn to8(v: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(v) {
        *o = *b;
    }
    out
}

/// E = 3DES-CBC(K_Enc, S) followed by M = MAC(K_MAC, E): the 40-byte cryptogram of
/// EXTERNAL AUTHENTICATE and of its response.
fn seal(keys: &BacKeys, s: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    let mut e = CIPHER.encrypt_cbc(&keys.k_enc, &ZERO_IV, s)?;
    let m = CIPHER.mac(&keys.k_mac, &e)?;
    e.extend_from_slice(&m);
    Ok(e)
}

/// Checks M and decrypts E of a 40-byte cryptogram.
fn open(keys: &BacKeys, cryptogram: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    if cryptogram.len() != 40 {
        return Err(ProtocolError::Malformed("BAC cryptogram is not 40 bytes"));
    }
    let (e, m) = cryptogram.split_at(32);
    let expected = CIPHER.mac(&keys.k_mac, e)?;
    if !memcmp::eq(m, &expected) {
        return Err(ProtocolError::AuthenticationFailed(
            "BAC cryptogram MAC mismatch",
        ));
    }
    Ok(CIPHER.decrypt_cbc(&keys.k_enc, &ZERO_IV, e)?)
}

/// Session keys from K_seed = K.IFD xor K.IC, and SSC = RND.IC[4..8] ‖ RND.IFD[4..8]
/// (Part 11 §9.7.4 and §9.8.2).
fn session(
    k_ifd: &[u8; 16],
    k_ic: &[u8; 16],
    rnd_ic: &[u8; 8],
    rnd_ifd: &[u8; 8],
) -> Result<SecureMessaging, ProtocolError> {
    let seed: Vec<u8> = k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect();
    let k_enc = CIPHER.kdf(&seed, KDF_ENC)?;
    let k_mac = CIPHER.kdf(&seed, KDF_MAC)?;
    let ssc: Vec<u8> = rnd_ic
        .iter()
        .skip(4)
        .chain(rnd_ifd.iter().skip(4))
        .copied()
        .collect();
    Ok(SecureMessaging::new(CIPHER, &k_enc, &k_mac, &ssc)?)
}

fn random<const N: usize>() -> Result<[u8; N], ProtocolError> {
    let mut b = [0u8; N];
    rand_bytes(&mut b)?;
    Ok(b)
}

/// The terminal (IFD) side of BAC: `get_challenge_command`, then
/// `mutual_authenticate_command` with the chip's challenge, then `finish` with the chip's
/// EXTERNAL AUTHENTICATE response.
pub struct Terminal {
    keys: BacKeys,
    rnd_ifd: [u8; 8],
    k_ifd: [u8; 16],
    rnd_ic: Option<[u8; 8]>,
}

impl Terminal {
    /// A terminal with fresh random RND.IFD and K.IFD.
    pub fn new(keys: BacKeys) -> Result<Self, ProtocolError> {
        Ok(Terminal {
            keys,
            rnd_ifd: random()?,
            k_ifd: random()?,
            rnd_ic: None,
        })
    }

    /// A terminal with given RND.IFD and K.IFD: for known-answer tests only; reusing them
    /// against a real chip forfeits BAC's freshness.
    pub fn with_randoms(keys: BacKeys, rnd_ifd: [u8; 8], k_ifd: [u8; 16]) -> Self {
        Terminal {
            keys,
            rnd_ifd,
            k_ifd,
            rnd_ic: None,
        }
    }

    /// GET CHALLENGE (8 bytes).
    pub fn get_challenge_command(&self) -> CommandApdu {
        CommandApdu::get_challenge()
    }

    /// EXTERNAL AUTHENTICATE with E_IFD ‖ M_IFD over S = RND.IFD ‖ RND.IC ‖ K.IFD, given the
    /// response to GET CHALLENGE (RND.IC).
    pub fn mutual_authenticate_command(
        &mut self,
        challenge: &ResponseApdu,
    ) -> Result<CommandApdu, ProtocolError> {
        let data = challenge.success_data().map_err(ProtocolError::Status)?;
        let rnd_ic: [u8; 8] = data
            .try_into()
            .map_err(|_| ProtocolError::Malformed("challenge is not 8 bytes"))?;
        let mut s = Vec::with_capacity(32);
        s.extend_from_slice(&self.rnd_ifd);
        s.extend_from_slice(&rnd_ic);
        s.extend_from_slice(&self.k_ifd);
        let cryptogram = seal(&self.keys, &s)?;
        self.rnd_ic = Some(rnd_ic);
        Ok(CommandApdu::short(
            0x00,
            0x82,
            0x00,
            0x00,
            cryptogram,
            Some(40),
        ))
    }

    /// Checks the chip's cryptogram (MAC, then RND.IFD and RND.IC echoed back) and returns the
    /// secure-messaging session.
    pub fn finish(self, response: &ResponseApdu) -> Result<SecureMessaging, ProtocolError> {
        let rnd_ic = self.rnd_ic.ok_or(ProtocolError::OutOfOrder(
            "finish before mutual_authenticate_command",
        ))?;
        let data = response.success_data().map_err(ProtocolError::Status)?;
        let r = open(&self.keys, data)?;
        // R = RND.IC ‖ RND.IFD ‖ K.IC
        let (got_ic, rest) = r
            .split_at_checked(8)
            .ok_or(ProtocolError::Malformed("short R"))?;
        let (got_ifd, k_ic) = rest
            .split_at_checked(8)
            .ok_or(ProtocolError::Malformed("short R"))?;
        if got_ifd != self.rnd_ifd || got_ic != rnd_ic {
            return Err(ProtocolError::AuthenticationFailed(
                "chip did not echo the nonces",
            ));
        }
        session(&self.k_ifd, &to16(k_ic), &rnd_ic, &self.rnd_ifd)
    }
}

/// The card (IC) side of BAC, for a virtual chip: answers GET CHALLENGE with RND.IC and
/// EXTERNAL AUTHENTICATE with E_IC ‖ M_IC over R = RND.IC ‖ RND.IFD ‖ K.IC.
pub struct Card {
    keys: BacKeys,
    rnd_ic: [u8; 8],
    k_ic: [u8; 16],
}

impl Card {
    /// A card with fresh random RND.IC and K.IC.
    pub fn new(keys: BacKeys) -> Result<Self, ProtocolError> {
        Ok(Card {
            keys,
            rnd_ic: random()?,
            k_ic: random()?,
        })
    }

    /// A card with given RND.IC and K.IC (known-answer tests).
    pub fn with_randoms(keys: BacKeys, rnd_ic: [u8; 8], k_ic: [u8; 16]) -> Self {
        Card { keys, rnd_ic, k_ic }
    }

    /// The response to GET CHALLENGE.
    pub fn challenge_response(&self) -> ResponseApdu {
        ResponseApdu::new(self.rnd_ic.to_vec(), StatusWord::SUCCESS)
    }

    /// Checks the terminal's EXTERNAL AUTHENTICATE; on success returns the response to send
    /// and the card's secure-messaging session. An error means the card answers '6300'
    /// (authentication failed) for `AuthenticationFailed`, else '6700'/'6A80'.
    pub fn external_authenticate(
        &self,
        command: &CommandApdu,
    ) -> Result<(ResponseApdu, SecureMessaging), ProtocolError> {
        if command.ins() != 0x82 {
            return Err(ProtocolError::Malformed("not EXTERNAL AUTHENTICATE"));
        }
        let s = open(&self.keys, command.data())?;
        // S = RND.IFD ‖ RND.IC ‖ K.IFD
        let (rnd_ifd, rest) = s
            .split_at_checked(8)
            .ok_or(ProtocolError::Malformed("short S"))?;
        let (rnd_ic, k_ifd) = rest
            .split_at_checked(8)
            .ok_or(ProtocolError::Malformed("short S"))?;
        if rnd_ic != self.rnd_ic {
            return Err(ProtocolError::AuthenticationFailed(
                "terminal did not echo RND.IC",
            ));
        }
        let rnd_ifd = to8(rnd_ifd);
        let mut r = Vec::with_capacity(32);
        r.extend_from_slice(&self.rnd_ic);
        r.extend_from_slice(&rnd_ifd);
        r.extend_from_slice(&self.k_ic);
        let response = ResponseApdu::new(seal(&self.keys, &r)?, StatusWord::SUCCESS);
        let sm = session(&to16(k_ifd), &self.k_ic, &self.rnd_ic, &rnd_ifd)?;
        Ok((response, sm))
    }
}
