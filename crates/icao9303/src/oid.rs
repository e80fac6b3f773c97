//! The object identifiers of the crate, in one table.
//!
//! Sources: RFC 5652 (CMS), RFC 5280 (X.509), RFC 4055 (RSASSA-PSS), RFC 5758 / RFC 3279 /
//! RFC 5480 (public keys, ECDSA), ICAO 9303 Part 10 §4.6.2 (LDS security object), Part 11 §9.2
//! (SecurityInfos), Part 11 §6.1 (Active Authentication) and Part 12 §9 (master list), BSI TR-03110
//! Part 3 App. A.1 (the `bsi-de` arc 0.4.0.127.0.7) and TR-03111 (ecdsa-plain-signatures).

pub use const_oid::ObjectIdentifier;
use const_oid::ObjectIdentifier as Oid;

// CMS (RFC 5652 §5, §11).
pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");

// ICAO 9303 Part 10 §4.6.2 and Part 12 §9.
pub const LDS_SECURITY_OBJECT: Oid = Oid::new_unwrap("2.23.136.1.1.1");
pub const CSCA_MASTER_LIST: Oid = Oid::new_unwrap("2.23.136.1.1.2");

// Digests.
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

// RSA (RFC 8017 App. C, RFC 4055).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const SHA224_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.14");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");

// ECDSA (RFC 5480, RFC 5758, RFC 3279).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const PRIME_FIELD: Oid = Oid::new_unwrap("1.2.840.10045.1.1");
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

// BSI TR-03111 §5.2.1 ecdsa-plain-signatures (r || s), used by Active Authentication.
pub const ECDSA_PLAIN_SHA1: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.1.4.1.1");
pub const ECDSA_PLAIN_SHA224: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.1.4.1.2");
pub const ECDSA_PLAIN_SHA256: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.1.4.1.3");
pub const ECDSA_PLAIN_SHA384: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.1.4.1.4");
pub const ECDSA_PLAIN_SHA512: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.1.4.1.5");

// X.509 extensions (RFC 5280 §4.2.1).
pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");

// X.520 attribute types used when printing and comparing names.
pub const COUNTRY_NAME: Oid = Oid::new_unwrap("2.5.4.6");
pub const ORGANIZATION_NAME: Oid = Oid::new_unwrap("2.5.4.10");
pub const ORGANIZATIONAL_UNIT_NAME: Oid = Oid::new_unwrap("2.5.4.11");
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");

// Diffie-Hellman public keys (RFC 3279 §2.3.3).
pub const DH_PUBLIC_NUMBER: Oid = Oid::new_unwrap("1.2.840.10046.2.1");

// BSI TR-03110 Part 3 App. A.1.1 / ICAO 9303 Part 11 §9.2.
/// `id-PK`: chip authentication public keys (`id-PK-DH` = .1, `id-PK-ECDH` = .2).
pub const ID_PK: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.1");
pub const ID_PK_DH: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.1.1");
pub const ID_PK_ECDH: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.1.2");
/// `id-TA`: terminal authentication.
pub const ID_TA: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.2");
/// `id-CA`: chip authentication (`id-CA-DH` = .1, `id-CA-ECDH` = .2, then the cipher arc).
pub const ID_CA: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.3");
pub const ID_CA_DH: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.3.1");
pub const ID_CA_ECDH: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.3.2");
/// `id-PACE`: password authenticated connection establishment (mapping arc, then cipher arc).
pub const ID_PACE: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.4");
/// `id-RI`: restricted identification.
pub const ID_RI: Oid = Oid::new_unwrap("0.4.0.127.0.7.2.2.5");
/// `standardizedDomainParameters` (BSI TR-03110 Part 3 App. A.2.1.1).
pub const STANDARDIZED_DOMAIN_PARAMETERS: Oid = Oid::new_unwrap("0.4.0.127.0.7.1.2");

/// `id-AA` (ICAO 9303 Part 11 §6.1: ActiveAuthenticationInfo, in DG14 when AA uses ECDSA).
pub const ID_AA: Oid = Oid::new_unwrap("2.23.136.1.1.5");

/// The dotted form of an OBJECT IDENTIFIER's content octets (e.g. a protocol OID of a
/// SecurityInfo, for messages), or the octets in hex when they are not a valid OID.
pub fn dotted(content: &[u8]) -> String {
    match Oid::from_bytes(content) {
        Ok(oid) => oid.to_string(),
        Err(_) => hex::encode_upper(content),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_form_of_content_octets() {
        assert_eq!(
            super::dotted(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02]),
            "0.4.0.127.0.7.2.2.3.2.2"
        );
        assert_eq!(super::dotted(&[0x80]), "80");
    }
}
