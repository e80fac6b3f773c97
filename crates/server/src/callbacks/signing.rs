//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>, "Signature scheme"):
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`,
//! where the key is the base64-decoded part of the account's `whsec_…` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use ring::hmac;

/// Prefix of a webhook secret, as Standard Webhooks spells it.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret; Standard Webhooks asks for 24 to 64.
pub const SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("a webhook secret must start with {SECRET_PREFIX}")]
    MissingPrefix,
    #[error("the part of a webhook secret after {SECRET_PREFIX} must be standard base64")]
    NotBase64,
    #[error("a webhook secret's key must be at least 24 bytes")]
    TooShort,
}

/// A fresh `whsec_` + base64 of [`SECRET_BYTES`] random bytes (the operating system's CSPRNG).
pub fn generate_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::rng().fill(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key of a `whsec_…` secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretError::MissingPrefix)?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| SecretError::NotBase64)?;
    if key.len() < 24 {
        return Err(SecretError::TooShort);
    }
    Ok(key)
}

/// The `webhook-signature` header value for one delivery attempt.
pub fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut context = hmac::Context::with_key(&key);
    context.update(webhook_id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The known-answer vector of the Standard Webhooks reference libraries' test suites.
    #[test]
    fn standard_webhooks_vector() {
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets() {
        let s = generate_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(&s).unwrap().len(), SECRET_BYTES);
        assert_ne!(s, generate_secret());
        assert_eq!(
            secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::MissingPrefix)
        );
        assert_eq!(secret_key("whsec_!!"), Err(SecretError::NotBase64));
        assert_eq!(secret_key("whsec_AAAA"), Err(SecretError::TooShort));
    }
}
