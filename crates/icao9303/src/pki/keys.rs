//! SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) to an OpenSSL public key, including EC keys with
//! explicit domain parameters (RFC 3279 §2.3.5 `specifiedCurve`), which many passports use.
//!
//! OpenSSL 3 keeps such keys in an explicit group that its chain verification refuses; matching
//! the parameters to the named curve and rebuilding the key on that group avoids the problem.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};

use super::der::{self, AlgorithmIdentifier, INTEGER, OCTET_STRING, SEQUENCE};
use super::error::PkiError;
use crate::oid;
use crate::tlv::parse_single;

/// Curves a passport key may use (ICAO 9303 Part 11 §9.5.1 and Part 12 §6): NIST and Brainpool.
const NAMED_CURVES: [Nid; 12] = [
    Nid::X9_62_PRIME192V1,
    Nid::SECP224R1,
    Nid::X9_62_PRIME256V1,
    Nid::SECP384R1,
    Nid::SECP521R1,
    Nid::BRAINPOOL_P192R1,
    Nid::BRAINPOOL_P224R1,
    Nid::BRAINPOOL_P256R1,
    Nid::BRAINPOOL_P320R1,
    Nid::BRAINPOOL_P384R1,
    Nid::BRAINPOOL_P512R1,
    Nid::SECP256K1,
];

/// Parses a DER SubjectPublicKeyInfo into a key OpenSSL can verify with.
pub fn public_key_from_spki(spki: &[u8]) -> Result<PKey<Public>, PkiError> {
    const WHAT: &str = "SubjectPublicKeyInfo";
    let seq = parse_single(spki).map_err(PkiError::tlv(WHAT))?;
    let mut r = seq.children();
    let alg = AlgorithmIdentifier::parse(&r.read().map_err(PkiError::tlv(WHAT))?, WHAT)?;
    let key_bits = r.read().map_err(PkiError::tlv(WHAT))?;
    let explicit = alg.oid == oid::EC_PUBLIC_KEY
        && alg.parameters.as_deref().and_then(|p| p.first()).copied() == Some(0x30);
    if explicit {
        let params = alg.parameters.as_deref().unwrap_or_default();
        let point = der::bit_string_bytes(&key_bits, WHAT)?;
        return explicit_ec_key(params, point);
    }
    PKey::public_key_from_der(spki).map_err(|e| PkiError::BadKey(e.to_string()))
}

/// `ECParameters ::= SEQUENCE { version, fieldID, curve, base, order, cofactor OPTIONAL }`
/// (RFC 3279 §2.3.5), matched against [`NAMED_CURVES`].
fn explicit_ec_key(params: &[u8], point: &[u8]) -> Result<PKey<Public>, PkiError> {
    const WHAT: &str = "ECParameters";
    let seq = parse_single(params).map_err(PkiError::tlv(WHAT))?;
    let mut r = seq.children();
    der::expect(&mut r, INTEGER, WHAT)?;
    let field = der::expect(&mut r, SEQUENCE, WHAT)?;
    let mut fr = field.children();
    if der::read_oid(&mut fr, WHAT)? != oid::PRIME_FIELD {
        return Err(PkiError::BadKey("EC key over a non-prime field".into()));
    }
    let p = der::expect(&mut fr, INTEGER, WHAT)?;
    let curve = der::expect(&mut r, SEQUENCE, WHAT)?;
    let mut cr = curve.children();
    let a = der::expect(&mut cr, OCTET_STRING, WHAT)?;
    let b = der::expect(&mut cr, OCTET_STRING, WHAT)?;
    let base = der::expect(&mut r, OCTET_STRING, WHAT)?;
    let order = der::expect(&mut r, INTEGER, WHAT)?;

    let p = BigNum::from_slice(p.value)?;
    let a = BigNum::from_slice(a.value)?;
    let b = BigNum::from_slice(b.value)?;
    let order = BigNum::from_slice(order.value)?;
    let mut ctx = BigNumContext::new()?;
    for nid in NAMED_CURVES {
        let Ok(group) = EcGroup::from_curve_name(nid) else {
            continue;
        };
        let (mut gp, mut ga, mut gb, mut gorder) = (
            BigNum::new()?,
            BigNum::new()?,
            BigNum::new()?,
            BigNum::new()?,
        );
        group.components_gfp(&mut gp, &mut ga, &mut gb, &mut ctx)?;
        group.order(&mut gorder, &mut ctx)?;
        // a is reduced modulo p by some encoders; compare after reduction.
        let mut a_mod = BigNum::new()?;
        a_mod.nnmod(&a, &gp, &mut ctx)?;
        if gp != p || ga != a_mod || gb != b || gorder != order {
            continue;
        }
        let generator = EcPoint::from_bytes(&group, base.value, &mut ctx)
            .map_err(|_| PkiError::BadKey("bad EC base point".into()))?;
        let Some(named_generator) = group.generator_opt() else {
            continue;
        };
        if !generator.eq(&group, named_generator, &mut ctx)? {
            continue;
        }
        let q = EcPoint::from_bytes(&group, point, &mut ctx)
            .map_err(|_| PkiError::BadKey("EC public point not on the curve".into()))?;
        // from_bytes checked that Q is on the curve; every curve listed has cofactor 1, so
        // that makes Q a point of the prime-order group (no full EC_KEY_check_key needed).
        let key = EcKey::from_public_key(&group, &q)?;
        return Ok(PKey::from_ec_key(key)?);
    }
    Err(PkiError::BadKey(
        "explicit EC parameters of an unknown curve".into(),
    ))
}
