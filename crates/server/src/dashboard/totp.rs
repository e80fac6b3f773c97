//! TOTP (RFC 6238) over HOTP (RFC 4226), the codes of authenticator apps: 6 digits, 30-second
//! steps, HMAC-SHA-1 (what the apps expect), secrets shown in base32 (RFC 4648).

use ring::hmac;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Codes of one step before and after are accepted, for clocks a little apart.
pub const WINDOW: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// HOTP (RFC 4226 §5.3): the dynamically truncated HMAC of the counter, `digits` long.
pub fn hotp(algorithm: Algorithm, secret: &[u8], counter: u64, digits: u32) -> String {
    let alg = match algorithm {
        Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Algorithm::Sha256 => hmac::HMAC_SHA256,
        Algorithm::Sha512 => hmac::HMAC_SHA512,
    };
    let key = hmac::Key::new(alg, secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) & 0x7fff_ffff)
        .unwrap_or(0);
    let code = u64::from(word) % 10u64.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// The time step of Unix time `t`.
pub fn step_at(t: i64) -> i64 {
    t.div_euclid(STEP_SECONDS)
}

/// TOTP (RFC 6238 §4) at Unix time `t`.
pub fn totp(algorithm: Algorithm, secret: &[u8], t: i64, digits: u32) -> String {
    hotp(
        algorithm,
        secret,
        u64::try_from(step_at(t)).unwrap_or(0),
        digits,
    )
}

/// The step whose code `code` is, within [`WINDOW`] steps of `now`, compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now_step = step_at(now);
    let mut found = None;
    for step in now_step - WINDOW..=now_step + WINDOW {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let expected = hotp(Algorithm::Sha1, secret, counter, DIGITS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The base32 letter of the low five bits of `v`.
fn letter(v: u32) -> char {
    char::from(BASE32.get((v & 31) as usize).copied().unwrap_or(b'A'))
}

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(letter(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(letter(buffer << (5 - bits)));
    }
    out
}

/// The `otpauth://` URI authenticator apps import (as a QR code or pasted).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label: String =
        url::form_urlencoded::byte_serialize(format!("{issuer}:{account}").as_bytes())
            .collect::<String>()
            .replace('+', "%20");
    let issuer_q: String = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect();
    format!(
        "otpauth://totp/{label}?secret={}&issuer={issuer_q}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        base32(secret)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the seeds are the ASCII digits repeated to the hash's length.
    #[test]
    fn rfc_6238_test_vectors() {
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let vectors: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, want1, want256, want512) in vectors {
            assert_eq!(totp(Algorithm::Sha1, sha1, t, 8), want1, "SHA1 at {t}");
            assert_eq!(
                totp(Algorithm::Sha256, sha256, t, 8),
                want256,
                "SHA256 at {t}"
            );
            assert_eq!(
                totp(Algorithm::Sha512, sha512, t, 8),
                want512,
                "SHA512 at {t}"
            );
        }
    }

    /// RFC 4226 Appendix D.
    #[test]
    fn rfc_4226_hotp_values() {
        let want = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in want.iter().enumerate() {
            assert_eq!(
                hotp(Algorithm::Sha1, b"12345678901234567890", counter as u64, 6),
                *code
            );
        }
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = b"12345678901234567890";
        let t = 1111111111;
        let code = totp(Algorithm::Sha1, secret, t, 6);
        assert_eq!(matching_step(secret, &code, t), Some(step_at(t)));
        assert_eq!(matching_step(secret, &code, t + 30), Some(step_at(t)));
        assert_eq!(matching_step(secret, &code, t + 90), None);
        assert_eq!(matching_step(secret, "12345", t), None);
        assert_eq!(matching_step(secret, "abcdef", t), None);
    }

    #[test]
    fn base32_is_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        let uri = otpauth_uri("passport-reader", "a@b.example", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/passport-reader%3Aa%40b.example?secret=GEZD"));
    }
}
