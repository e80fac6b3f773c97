//! Symmetric primitives of ICAO 9303 Part 11 §9.7-9.8 on OpenSSL: 3DES and AES in CBC mode,
//! ISO/IEC 9797-1 padding method 2, the retail MAC (MAC algorithm 3), AES-CMAC (RFC 4493),
//! and the key derivation function KDF(K, c) of §9.7.1.

use openssl::error::ErrorStack;
use openssl::hash::{MessageDigest, hash};
use openssl::symm::{Cipher, Crypter, Mode};

/// The block cipher of a protocol's session (and its MAC): 2-key 3DES with the retail MAC, or
/// AES with CMAC (Part 11 §9.8.6 and §9.8.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymmetricCipher {
    /// Two-key 3DES (DES-EDE, 16-byte keys) with ISO/IEC 9797-1 MAC algorithm 3.
    Tdes,
    Aes128,
    Aes192,
    Aes256,
}

impl SymmetricCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SymmetricCipher::Tdes | SymmetricCipher::Aes128 => 16,
            SymmetricCipher::Aes192 => 24,
            SymmetricCipher::Aes256 => 32,
        }
    }

    /// Block length in bytes (also the send sequence counter's length).
    pub fn block_len(self) -> usize {
        match self {
            SymmetricCipher::Tdes => 8,
            _ => 16,
        }
    }

    fn cbc(self) -> Cipher {
        match self {
            SymmetricCipher::Tdes => Cipher::des_ede3_cbc(),
            SymmetricCipher::Aes128 => Cipher::aes_128_cbc(),
            SymmetricCipher::Aes192 => Cipher::aes_192_cbc(),
            SymmetricCipher::Aes256 => Cipher::aes_256_cbc(),
        }
    }

    fn ecb(self) -> Cipher {
        match self {
            SymmetricCipher::Tdes => Cipher::des_ede3_ecb(),
            SymmetricCipher::Aes128 => Cipher::aes_128_ecb(),
            SymmetricCipher::Aes192 => Cipher::aes_192_ecb(),
            SymmetricCipher::Aes256 => Cipher::aes_256_ecb(),
        }
    }

    /// CBC encryption without padding; `data` must be a whole number of blocks.
    pub fn encrypt_cbc(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, ErrorStack> {
        run(
            self.cbc(),
            Mode::Encrypt,
            &self.openssl_key(key),
            Some(iv),
            data,
        )
    }

    /// CBC decryption without padding removal; `data` must be a whole number of blocks.
    pub fn decrypt_cbc(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, ErrorStack> {
        run(
            self.cbc(),
            Mode::Decrypt,
            &self.openssl_key(key),
            Some(iv),
            data,
        )
    }

    /// ECB encryption of whole blocks (used for the AES secure-messaging IV).
    pub fn encrypt_ecb(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, ErrorStack> {
        run(
            self.ecb(),
            Mode::Encrypt,
            &self.openssl_key(key),
            None,
            data,
        )
    }

    /// The 8-byte MAC of Part 11 §9.8: the retail MAC for 3DES, AES-CMAC truncated to 8 bytes
    /// for AES. `data` is padded here (ISO/IEC 9797-1 method 2) for 3DES; for AES the caller
    /// pads where the protocol says so (secure messaging) and not where it does not (the PACE
    /// authentication token).
    pub fn mac(self, key: &[u8], data: &[u8]) -> Result<[u8; 8], ErrorStack> {
        let full = match self {
            SymmetricCipher::Tdes => retail_mac(key, &pad(data, 8))?.to_vec(),
            _ => cmac(self, key, data)?.to_vec(),
        };
        let mut out = [0u8; 8];
        for (o, b) in out.iter_mut().zip(full) {
            *o = b;
        }
        Ok(out)
    }

    /// KDF(K, c) of Part 11 §9.7.1: SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256,
    /// truncated to the key length; 3DES keys get odd DES parity.
    pub fn kdf(self, shared_secret: &[u8], counter: u32) -> Result<Vec<u8>, ErrorStack> {
        let mut input = shared_secret.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        let digest = match self {
            SymmetricCipher::Tdes | SymmetricCipher::Aes128 => MessageDigest::sha1(),
            SymmetricCipher::Aes192 | SymmetricCipher::Aes256 => MessageDigest::sha256(),
        };
        let mut key = hash(digest, &input)?.to_vec();
        key.truncate(self.key_len());
        if self == SymmetricCipher::Tdes {
            adjust_des_parity(&mut key);
        }
        Ok(key)
    }

    /// OpenSSL's key for this cipher: 2-key 3DES K1‖K2 becomes K1‖K2‖K1.
    fn openssl_key(self, key: &[u8]) -> Vec<u8> {
        match self {
            SymmetricCipher::Tdes => {
                let mut k = key.to_vec();
                k.extend(key.iter().take(8));
                k
            }
            _ => key.to_vec(),
        }
    }
}

/// KDF counters of Part 11 §9.7.1.
pub const KDF_ENC: u32 = 1;
pub const KDF_MAC: u32 = 2;
pub const KDF_PI: u32 = 3;

fn run(
    cipher: Cipher,
    mode: Mode,
    key: &[u8],
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, ErrorStack> {
    let mut c = Crypter::new(cipher, mode, key, iv)?;
    c.pad(false);
    let mut out = vec![0u8; data.len() + cipher.block_size()];
    let mut n = c.update(data, &mut out)?;
    n += c.finalize(out.get_mut(n..).unwrap_or_default())?;
    out.truncate(n);
    Ok(out)
}

/// ISO/IEC 9797-1 padding method 2: append '80' then '00' up to a multiple of `block`.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0);
    }
    out
}

/// Removes ISO/IEC 9797-1 padding method 2, or `None` if there is none.
pub fn unpad(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|b| *b != 0)?;
    match data.get(end) {
        Some(0x80) => data.get(..end),
        _ => None,
    }
}

/// Sets each byte's least significant bit so the byte has odd parity (FIPS 46-3 DES keys).
pub fn adjust_des_parity(key: &mut [u8]) {
    for b in key.iter_mut() {
        let high = *b & 0xFE;
        *b = if high.count_ones() % 2 == 0 {
            high | 1
        } else {
            high
        };
    }
}

/// ISO/IEC 9797-1 MAC algorithm 3 with DES ("retail MAC") over data already padded to 8 bytes,
/// keyed by K1‖K2: single-DES CBC-MAC with K1, then the last block through D(K2), E(K1).
/// Single DES is run as 3DES with K1‖K1‖K1, as OpenSSL 3's default provider has no DES.
pub fn retail_mac(key: &[u8], padded: &[u8]) -> Result<[u8; 8], ErrorStack> {
    let (k1, k2) = key.split_at_checked(8).ok_or_else(ErrorStack::get)?;
    let k2 = k2.get(..8).ok_or_else(ErrorStack::get)?;
    let (head, last) = padded.split_at(padded.len().saturating_sub(8));
    let mut chain = [0u8; 8];
    if !head.is_empty() {
        let k111: Vec<u8> = k1.iter().chain(k1).chain(k1).copied().collect();
        let enc = run(
            Cipher::des_ede3_cbc(),
            Mode::Encrypt,
            &k111,
            Some(&[0u8; 8]),
            head,
        )?;
        for (c, e) in chain.iter_mut().zip(enc.iter().rev().take(8).rev()) {
            *c = *e;
        }
    }
    for (c, l) in chain.iter_mut().zip(last) {
        *c ^= l;
    }
    let k121: Vec<u8> = k1.iter().chain(k2).chain(k1).copied().collect();
    let out = run(Cipher::des_ede3_ecb(), Mode::Encrypt, &k121, None, &chain)?;
    let mut mac = [0u8; 8];
    for (m, o) in mac.iter_mut().zip(out) {
        *m = o;
    }
    Ok(mac)
}

/// AES-CMAC (NIST SP 800-38B, RFC 4493) over `data`, full 16 bytes.
pub fn cmac(cipher: SymmetricCipher, key: &[u8], data: &[u8]) -> Result<[u8; 16], ErrorStack> {
    fn double(block: [u8; 16]) -> [u8; 16] {
        let v = u128::from_be_bytes(block);
        let mut d = v << 1;
        if v >> 127 == 1 {
            d ^= 0x87;
        }
        d.to_be_bytes()
    }
    let block = |b: &[u8]| -> Result<[u8; 16], ErrorStack> {
        let out = cipher.encrypt_ecb(key, b)?;
        let mut r = [0u8; 16];
        for (x, y) in r.iter_mut().zip(out) {
            *x = y;
        }
        Ok(r)
    };
    let l = block(&[0u8; 16])?;
    let k1 = double(l);
    let k2 = double(k1);
    let complete = !data.is_empty() && data.len() % 16 == 0;
    let mut msg = if complete {
        data.to_vec()
    } else {
        pad(data, 16)
    };
    let subkey = if complete { k1 } else { k2 };
    let n = msg.len();
    for (m, k) in msg.iter_mut().skip(n - 16).zip(subkey) {
        *m ^= k;
    }
    let enc = cipher.encrypt_cbc(key, &[0u8; 16], &msg)?;
    let mut mac = [0u8; 16];
    for (m, e) in mac.iter_mut().zip(enc.iter().skip(n - 16)) {
        *m = *e;
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // RFC 4493 §4 test vectors.
    #[test]
    fn aes_cmac_rfc4493() {
        let key = h("2b7e151628aed2a6abf7158809cf4f3c");
        let msg = h(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
             30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
        );
        let cases = [
            (0, "bb1d6929e95937287fa37d129b756746"),
            (16, "070a16b46b4d4144f79bdd9dd04a287c"),
            (40, "dfa66747de9ae63030ca32611497c827"),
            (64, "51f0bebf7e3b9d92fc49741779363cfe"),
        ];
        for (len, mac) in cases {
            let got = cmac(SymmetricCipher::Aes128, &key, &msg[..len]).unwrap();
            assert_eq!(hex::encode(got), mac, "length {len}");
        }
    }

    #[test]
    fn padding_round_trip() {
        assert_eq!(pad(&[1, 2, 3], 8), h("0102038000000000"));
        assert_eq!(pad(&[0; 8], 8).len(), 16);
        assert_eq!(unpad(&h("0102038000000000")), Some(&[1u8, 2, 3][..]));
        assert_eq!(unpad(&h("0102030000000000")), None);
        assert_eq!(unpad(&[0u8; 8]), None);
    }

    // ICAO 9303 Part 11 App. D.2: MAC over E_IFD with K_MAC.
    #[test]
    fn retail_mac_worked_example() {
        let kmac = h("7962D9ECE03D1ACD4C76089DCE131543");
        let eifd = h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2");
        let mac = SymmetricCipher::Tdes.mac(&kmac, &eifd).unwrap();
        assert_eq!(hex::encode_upper(mac), "5F1448EEA8AD90A7");
    }

    #[test]
    fn parity() {
        let mut k = h("AB94FCEDF2664EDFB9B291F85D7F77F2");
        adjust_des_parity(&mut k);
        assert_eq!(hex::encode_upper(k), "AB94FDECF2674FDFB9B391F85D7F76F2");
    }
}
