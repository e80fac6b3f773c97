//! Secure messaging (ICAO 9303 Part 11 §9.8, ISO/IEC 7816-4 §10) with 3DES or AES.
//!
//! A protected command carries DO'87' (or DO'85' for an odd INS: encrypted data), DO'97' (Le)
//! and DO'8E' (MAC); a protected response DO'87'/'85', DO'99' (the status word) and DO'8E'.
//! The send sequence counter (SSC) is incremented before each command and each response and
//! enters every MAC; with AES it also gives the IV, E(KSenc, SSC) (§9.8.6.1). The same
//! [`SecureMessaging`] serves the terminal (`protect`, `unprotect`) and the card
//! (`unprotect_command`, `protect_response`).

use openssl::memcmp;

use super::apdu::{CommandApdu, MAX_DATA_LEN, MAX_NE, ResponseApdu, StatusWord};
use super::crypto::{self, KDF_ENC, KDF_MAC, SymmetricCipher};
use super::error::SmError;
use crate::tlv::{self, TlvReader};

/// Response data that fits a short APDU (Ne = 256).
pub const SHORT_RESPONSE_LEN: usize = 256;

/// A secure-messaging session: cipher, session keys KSenc/KSmac and the send sequence counter.
pub struct SecureMessaging {
    cipher: SymmetricCipher,
    k_enc: Vec<u8>,
    k_mac: Vec<u8>,
    ssc: u128,
    /// Card side: the last unprotected command had an odd INS, so the response uses DO'85'.
    odd_ins: bool,
}

impl std::fmt::Debug for SecureMessaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureMessaging")
            .field("cipher", &self.cipher)
            .field("ssc", &hex::encode_upper(self.ssc_bytes()))
            .finish_non_exhaustive()
    }
}

impl SecureMessaging {
    /// A session with these keys and initial SSC (as many bytes as the cipher's block: 8 for
    /// 3DES, 16 for AES; big-endian).
    pub fn new(
        cipher: SymmetricCipher,
        k_enc: &[u8],
        k_mac: &[u8],
        ssc: &[u8],
    ) -> Result<Self, SmError> {
        if k_enc.len() != cipher.key_len() || k_mac.len() != cipher.key_len() {
            return Err(SmError::InvalidKey);
        }
        if ssc.len() != cipher.block_len() {
            return Err(SmError::InvalidKey);
        }
        let ssc = ssc.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        Ok(SecureMessaging {
            cipher,
            k_enc: k_enc.to_vec(),
            k_mac: k_mac.to_vec(),
            ssc,
            odd_ins: false,
        })
    }

    /// A session keyed from a shared secret: KSenc = KDF(K, 1), KSmac = KDF(K, 2), SSC = 0
    /// (after PACE, Part 11 §4.4.3.4, and after chip authentication, §6.2.4).
    pub fn from_shared_secret(cipher: SymmetricCipher, secret: &[u8]) -> Result<Self, SmError> {
        let k_enc = cipher.kdf(secret, KDF_ENC)?;
        let k_mac = cipher.kdf(secret, KDF_MAC)?;
        SecureMessaging::new(cipher, &k_enc, &k_mac, &vec![0u8; cipher.block_len()])
    }

    pub fn cipher(&self) -> SymmetricCipher {
        self.cipher
    }

    /// The session encryption key KSenc.
    pub fn k_enc(&self) -> &[u8] {
        &self.k_enc
    }

    /// The session MAC key KSmac.
    pub fn k_mac(&self) -> &[u8] {
        &self.k_mac
    }

    /// The current send sequence counter, big-endian, block length.
    pub fn ssc_bytes(&self) -> Vec<u8> {
        let all = self.ssc.to_be_bytes();
        all.get(16 - self.cipher.block_len()..)
            .unwrap_or(&all)
            .to_vec()
    }

    /// The largest READ BINARY length whose protected response fits in `max_response_data`
    /// bytes of response data (256 for short APDUs; for extended length, what the chip
    /// announces in EF.ATR/INFO). With short APDUs this is 223 for AES and 231 for 3DES.
    pub fn max_read_len(&self, max_response_data: usize) -> usize {
        let block = self.cipher.block_len();
        // DO'99' (4) and DO'8E' (10), then DO'87' tag, length field and padding indicator.
        let avail = max_response_data.saturating_sub(14);
        let length_field = if avail > 258 {
            3
        } else if avail > 129 {
            2
        } else {
            1
        };
        let room = avail.saturating_sub(1 + length_field + 1);
        // Padding adds at least one byte, so the plaintext is one less than the padded room.
        (room / block * block).saturating_sub(1)
    }

    fn increment(&mut self) {
        let bits = 8 * self.cipher.block_len();
        self.ssc = self.ssc.wrapping_add(1);
        if bits < 128 {
            self.ssc &= (1u128 << bits) - 1;
        }
    }

    fn iv(&self) -> Result<Vec<u8>, SmError> {
        match self.cipher {
            SymmetricCipher::Tdes => Ok(vec![0u8; 8]),
            _ => Ok(self.cipher.encrypt_ecb(&self.k_enc, &self.ssc_bytes())?),
        }
    }

    fn mac(&self, data: &[u8]) -> Result<[u8; 8], SmError> {
        let mut input = self.ssc_bytes();
        input.extend_from_slice(data);
        Ok(match self.cipher {
            // The retail MAC pads by itself; CMAC input is padded as for 3DES (§9.8.6.2).
            SymmetricCipher::Tdes => self.cipher.mac(&self.k_mac, &input)?,
            _ => self
                .cipher
                .mac(&self.k_mac, &crypto::pad(&input, self.cipher.block_len()))?,
        })
    }

    fn verify_mac(&self, data: &[u8], mac: &[u8]) -> Result<(), SmError> {
        let expected = self.mac(data)?;
        if mac.len() == expected.len() && memcmp::eq(mac, &expected) {
            Ok(())
        } else {
            Err(SmError::BadMac)
        }
    }

    /// DO'87' (padding indicator '01' + cryptogram) or, for odd INS, DO'85' (cryptogram).
    fn encrypt_do(&self, data: &[u8], odd: bool) -> Result<Vec<u8>, SmError> {
        let padded = crypto::pad(data, self.cipher.block_len());
        let enc = self.cipher.encrypt_cbc(&self.k_enc, &self.iv()?, &padded)?;
        let mut value = Vec::with_capacity(enc.len() + 1);
        if !odd {
            value.push(0x01);
        }
        value.extend_from_slice(&enc);
        Ok(tlv::encode(if odd { 0x85 } else { 0x87 }, &value))
    }

    fn decrypt_do(&self, tag: u8, value: &[u8]) -> Result<Vec<u8>, SmError> {
        let cryptogram = match (tag, value.split_first()) {
            (0x85, _) => value,
            (_, Some((0x01, rest))) => rest,
            _ => return Err(SmError::Malformed("DO'87' without padding indicator '01'")),
        };
        if cryptogram.is_empty() || cryptogram.len() % self.cipher.block_len() != 0 {
            return Err(SmError::Malformed(
                "cryptogram not a whole number of blocks",
            ));
        }
        let plain = self
            .cipher
            .decrypt_cbc(&self.k_enc, &self.iv()?, cryptogram)?;
        crypto::unpad(&plain)
            .map(<[u8]>::to_vec)
            .ok_or(SmError::BadPadding)
    }

    /// Terminal: wraps a plain command (CLA gets bits '0C'). The protected command has Le '00'
    /// (or '0000' when extended length is needed: data over 255 bytes or Ne over 256).
    pub fn protect(&mut self, command: &CommandApdu) -> Result<CommandApdu, SmError> {
        self.increment();
        let [cla, ins, p1, p2] = command.header();
        let cla = cla | 0x0C;
        let mut body = Vec::new();
        if !command.data().is_empty() {
            body.extend(self.encrypt_do(command.data(), ins & 1 == 1)?);
        }
        if let Some(ne) = command.ne() {
            let le = if ne > 256 {
                ((ne % MAX_NE) as u16).to_be_bytes().to_vec()
            } else {
                vec![(ne % 256) as u8]
            };
            body.extend(tlv::encode(0x97, &le));
        }
        let mut mac_input = crypto::pad(&[cla, ins, p1, p2], self.cipher.block_len());
        mac_input.extend_from_slice(&body);
        let mac = self.mac(&mac_input)?;
        body.extend(tlv::encode(0x8E, &mac));
        if body.len() > MAX_DATA_LEN {
            return Err(SmError::CommandTooLong);
        }
        let extended = body.len() > 255 || command.ne().is_some_and(|n| n > 256);
        let ne = if extended { MAX_NE } else { SHORT_RESPONSE_LEN };
        CommandApdu::new(cla, ins, p1, p2, body, Some(ne)).map_err(|_| SmError::CommandTooLong)
    }

    /// Terminal: checks the MAC of a protected response and decrypts it. The returned status
    /// word is the authenticated one from DO'99'; judging it is the caller's business. A
    /// response without DO'8E' is [`SmError::Unprotected`], never accepted.
    pub fn unprotect(&mut self, response: &ResponseApdu) -> Result<ResponseApdu, SmError> {
        self.increment();
        if response.data.is_empty() {
            return Err(SmError::Unprotected(response.sw));
        }
        let dos = SmObjects::parse(&response.data, &[0x85, 0x87, 0x99])?;
        let Some(do99) = dos.get(0x99) else {
            return Err(SmError::Malformed("DO'99' missing"));
        };
        self.verify_mac(dos.authenticated, dos.mac)?;
        let inner = match do99.value {
            [sw1, sw2] => StatusWord::from_bytes(*sw1, *sw2),
            _ => return Err(SmError::Malformed("DO'99' not two bytes")),
        };
        // The outer status word is not protected; DO'99' is. Chips that answer an error with
        // '9000' outside and the error inside DO'99' exist (JMRTD, too, reads DO'99'): the
        // authenticated one decides.
        let data = match dos.get(0x87).or_else(|| dos.get(0x85)) {
            Some(d) => self.decrypt_do(d.tag, d.value)?,
            None => Vec::new(),
        };
        Ok(ResponseApdu { data, sw: inner })
    }

    /// Card: checks and unwraps a protected command. Errors mean the card should answer
    /// '6988' (or '6987' for missing objects) and end the session.
    pub fn unprotect_command(&mut self, command: &CommandApdu) -> Result<CommandApdu, SmError> {
        self.increment();
        let [cla, ins, p1, p2] = command.header();
        if cla & 0x0C != 0x0C {
            return Err(SmError::Malformed("CLA does not announce secure messaging"));
        }
        let dos = SmObjects::parse(command.data(), &[0x85, 0x87, 0x97])?;
        let mut mac_input = crypto::pad(&[cla, ins, p1, p2], self.cipher.block_len());
        mac_input.extend_from_slice(dos.authenticated);
        self.verify_mac(&mac_input, dos.mac)?;
        let data = match dos.get(0x87).or_else(|| dos.get(0x85)) {
            Some(d) => self.decrypt_do(d.tag, d.value)?,
            None => Vec::new(),
        };
        let ne = match dos.get(0x97).map(|d| d.value) {
            None => None,
            Some([0]) => Some(256),
            Some([n]) => Some(usize::from(*n)),
            Some([0, 0]) => Some(MAX_NE),
            Some([a, b]) => Some(usize::from(u16::from_be_bytes([*a, *b]))),
            Some(_) => return Err(SmError::Malformed("DO'97' longer than two bytes")),
        };
        self.odd_ins = ins & 1 == 1;
        CommandApdu::new(cla & !0x0C, ins, p1, p2, data, ne)
            .map_err(|_| SmError::Malformed("unprotected command out of range"))
    }

    /// Card: wraps a plain response (DO'87', or DO'85' after an odd-INS command; DO'99';
    /// DO'8E').
    pub fn protect_response(&mut self, response: &ResponseApdu) -> Result<ResponseApdu, SmError> {
        self.increment();
        let mut body = Vec::new();
        if !response.data.is_empty() {
            body.extend(self.encrypt_do(&response.data, self.odd_ins)?);
        }
        body.extend(tlv::encode(0x99, &response.sw.to_bytes()));
        let mac = self.mac(&body)?;
        body.extend(tlv::encode(0x8E, &mac));
        Ok(ResponseApdu {
            data: body,
            sw: response.sw,
        })
    }
}

/// The data objects of a protected APDU, split into the MAC'ed part and DO'8E'.
struct SmObjects<'a> {
    objects: Vec<SmObject<'a>>,
    /// Raw encoding of all objects before DO'8E' (the MAC input after the SSC and header).
    authenticated: &'a [u8],
    mac: &'a [u8],
}

struct SmObject<'a> {
    tag: u8,
    value: &'a [u8],
}

impl<'a> SmObjects<'a> {
    fn parse(data: &'a [u8], allowed: &[u8]) -> Result<Self, SmError> {
        let mut reader = TlvReader::new(data);
        let mut objects: Vec<SmObject<'a>> = Vec::new();
        let mut end = 0;
        loop {
            let t = reader
                .read()
                .map_err(|_| SmError::Malformed("bad TLV encoding or DO'8E' missing"))?;
            if t.tag == 0x8E {
                if !reader.is_empty() {
                    return Err(SmError::Malformed("data after DO'8E'"));
                }
                let authenticated = data.get(..end).unwrap_or_default();
                return Ok(SmObjects {
                    objects,
                    authenticated,
                    mac: t.value,
                });
            }
            let tag = u8::try_from(t.tag)
                .ok()
                .filter(|tag| allowed.contains(tag))
                .ok_or(SmError::Malformed(
                    "unexpected secure-messaging data object",
                ))?;
            let is_data = |x: u8| x == 0x85 || x == 0x87;
            if objects
                .iter()
                .any(|o| o.tag == tag || (is_data(o.tag) && is_data(tag)))
            {
                return Err(SmError::Malformed(
                    "duplicated secure-messaging data object",
                ));
            }
            objects.push(SmObject {
                tag,
                value: t.value,
            });
            end = t.offset + t.raw.len();
        }
    }

    fn get(&self, tag: u8) -> Option<&SmObject<'a>> {
        self.objects.iter().find(|o| o.tag == tag)
    }
}
