//! The chip's side of Active Authentication (ICAO 9303 Part 11 §6.1): signing the terminal's
//! challenge with the private key whose public half is in DG15.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rand::rand_bytes;
use openssl::rsa::Padding;

/// Signs `challenge`: RSA keys with ISO/IEC 9796-2 digital signature scheme 1 (partial message
/// recovery, SHA-1, trailer 'BC': Part 11 §6.1.2.1); EC keys with plain ECDSA `r || s`
/// (BSI TR-03111 §5.2.1) over `digest`(challenge).
pub(crate) fn sign(
    key: &PKey<Private>,
    challenge: &[u8],
    ecdsa_digest: MessageDigest,
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    if let Ok(rsa) = key.rsa() {
        let k = usize::try_from(rsa.size()).unwrap_or(0);
        // F = '6A' || M1 || H(M1 || M2) || 'BC' fills the modulus' bit length; a modulus whose
        // length is not a multiple of 8 leaves a leading zero byte so that F < n.
        let f_len = if rsa.n().num_bits() % 8 == 0 {
            k
        } else {
            k.saturating_sub(1)
        };
        let mut m1 = vec![0u8; f_len.saturating_sub(2 + 20)];
        rand_bytes(&mut m1)?;
        let mut m = m1.clone();
        m.extend_from_slice(challenge);
        let h = hash(MessageDigest::sha1(), &m)?;
        let mut f = vec![0u8; k - f_len];
        f.push(0x6A);
        f.extend_from_slice(&m1);
        f.extend_from_slice(&h);
        f.push(0xBC);
        let mut out = vec![0u8; k];
        let len = rsa.private_encrypt(&f, &mut out, Padding::NONE)?;
        out.truncate(len);
        return Ok(out);
    }
    let ec = key.ec_key()?;
    let digest = hash(ecdsa_digest, challenge)?;
    let sig = EcdsaSig::sign(&digest, &ec)?;
    let mut order = BigNum::new()?;
    let mut ctx = BigNumContext::new()?;
    ec.group().order(&mut order, &mut ctx)?;
    let n = order.num_bytes();
    let mut out = sig.r().to_vec_padded(n)?;
    out.extend(sig.s().to_vec_padded(n)?);
    Ok(out)
}

/// The hash of an `ecdsa-plain-*` (BSI TR-03111) or `ecdsa-with-*` (X9.62) signature algorithm.
pub(crate) fn ecdsa_digest(oid: &const_oid::ObjectIdentifier) -> Option<MessageDigest> {
    Some(match oid.to_string().as_str() {
        "0.4.0.127.0.7.1.1.4.1.1" | "1.2.840.10045.4.1" => MessageDigest::sha1(),
        "0.4.0.127.0.7.1.1.4.1.2" | "1.2.840.10045.4.3.1" => MessageDigest::sha224(),
        "0.4.0.127.0.7.1.1.4.1.3" | "1.2.840.10045.4.3.2" => MessageDigest::sha256(),
        "0.4.0.127.0.7.1.1.4.1.4" | "1.2.840.10045.4.3.3" => MessageDigest::sha384(),
        "0.4.0.127.0.7.1.1.4.1.5" | "1.2.840.10045.4.3.4" => MessageDigest::sha512(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use openssl::rsa::Rsa;

    use super::*;

    #[test]
    fn rsa_signature_recovers_the_iso9796_2_representative() {
        let rsa = Rsa::generate(1024).unwrap();
        let key = PKey::from_rsa(rsa.clone()).unwrap();
        let challenge = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let s = sign(&key, &challenge, MessageDigest::sha256()).unwrap();
        let mut j = vec![0u8; 128];
        rsa.public_decrypt(&s, &mut j, Padding::NONE).unwrap();
        assert_eq!((j[0], j[127]), (0x6A, 0xBC));
        let mut m = j[1..107].to_vec();
        m.extend_from_slice(&challenge);
        assert_eq!(&j[107..127], &hash(MessageDigest::sha1(), &m).unwrap()[..]);
        // Another challenge gives a representative whose hash does not match.
        let mut m = j[1..107].to_vec();
        m.extend_from_slice(&[0u8; 8]);
        assert_ne!(&j[107..127], &hash(MessageDigest::sha1(), &m).unwrap()[..]);
    }
}
