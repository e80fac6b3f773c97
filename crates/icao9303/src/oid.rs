//! Object identifiers shared across the crate (append only: several modules add to this list).
//!
//! Sources: BSI TR-03110 Part 3 App. A.1 (the `bsi-de` arc 0.4.0.127.0.7), ICAO 9303 Part 11 §9.2
//! (SecurityInfos), ICAO 9303 Part 11 §6.1 / Part 10 §4.7.14 (Active Authentication), RFC 3279 /
//! RFC 5480 (public keys).

use const_oid::ObjectIdentifier as Oid;

// Public keys (RFC 3279 §2.3, RFC 5480 §2.1.1).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
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
