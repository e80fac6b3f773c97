//! SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) to an OpenSSL public key, including EC keys with
//! explicit domain parameters (RFC 3279 §2.3.5 `specifiedCurve`), which many passports use.
//!
//! OpenSSL 3 keeps such keys in an explicit group that its chain verification refuses; matching
//! the parameters to the named curve and rebuilding the key on that group avoids the problem.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;

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
    // The two common cases decoded directly: OpenSSL 3's generic SubjectPublicKeyInfo decoder
    // tries its decoders in turn, and cost most of the passive authentication of a Document
    // Signer's first document (and of every Active Authentication's DG15 key).
    if alg.oid == oid::RSA_ENCRYPTION {
        let pkcs1 = der::bit_string_bytes(&key_bits, WHAT)?;
        let rsa = Rsa::public_key_from_der_pkcs1(pkcs1)
            .map_err(|e| PkiError::BadKey(format!("RSA public key: {e}")))?;
        return Ok(PKey::from_rsa(rsa)?);
    }
    if alg.oid == oid::EC_PUBLIC_KEY
        && let Some(nid) = named_curve(alg.parameters.as_deref())
    {
        let group = EcGroup::from_curve_name(nid)?;
        let point = der::bit_string_bytes(&key_bits, WHAT)?;
        let mut ctx = BigNumContext::new()?;
        let q = EcPoint::from_bytes(&group, point, &mut ctx)
            .map_err(|_| PkiError::BadKey("EC public point not on the curve".into()))?;
        // As below: from_bytes checked that Q is on the curve, and every curve listed has
        // cofactor 1.
        return Ok(PKey::from_ec_key(EcKey::from_public_key(&group, &q)?)?);
    }
    PKey::public_key_from_der(spki).map_err(|e| PkiError::BadKey(e.to_string()))
}

/// The curve of `namedCurve` parameters (a DER OBJECT IDENTIFIER), if it is one of
/// [`NAMED_CURVES`].
fn named_curve(parameters: Option<&[u8]>) -> Option<Nid> {
    let tlv = parse_single(parameters?).ok()?;
    if tlv.tag != der::OID {
        return None;
    }
    let oid = der::oid_from_tlv(&tlv, "namedCurve").ok()?;
    let nid = openssl::asn1::Asn1Object::from_str(&oid.to_string())
        .ok()?
        .nid();
    NAMED_CURVES.contains(&nid).then_some(nid)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use openssl::ec::EcKey;
    use openssl::hash::MessageDigest;
    use openssl::pkey::Private;
    use openssl::rsa::Rsa;
    use openssl::sign::{Signer, Verifier};

    use super::*;

    /// The key decoded from `private`'s SubjectPublicKeyInfo is the same key OpenSSL's own
    /// decoder gives, encodes back to the same DER, and verifies the key's signature.
    fn decodes_like_openssl(private: &PKey<Private>) {
        let spki = private.public_key_to_der().unwrap();
        let ours = public_key_from_spki(&spki).unwrap();
        let openssl = PKey::public_key_from_der(&spki).unwrap();
        assert!(ours.public_eq(&openssl));
        assert_eq!(ours.id(), openssl.id());
        assert_eq!(ours.public_key_to_der().unwrap(), spki);
        let mut signer = Signer::new(MessageDigest::sha256(), private).unwrap();
        signer.update(b"document security object").unwrap();
        let signature = signer.sign_to_vec().unwrap();
        let mut verifier = Verifier::new(MessageDigest::sha256(), &ours).unwrap();
        verifier.update(b"document security object").unwrap();
        assert!(verifier.verify(&signature).unwrap());
    }

    #[test]
    fn rsa_and_named_curve_keys_decode_directly_to_the_same_key() {
        decodes_like_openssl(&PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap());
        for nid in [Nid::X9_62_PRIME256V1, Nid::BRAINPOOL_P256R1, Nid::SECP384R1] {
            let group = EcGroup::from_curve_name(nid).unwrap();
            decodes_like_openssl(&PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap());
        }
    }

    #[test]
    fn broken_keys_are_errors() {
        let rsa = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        let ec = PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();
        for key in [rsa, ec] {
            let spki = key.public_key_to_der().unwrap();
            // The key's last bytes changed: a truncated RSA modulus encoding, an EC point off
            // the curve.
            let mut broken = spki.clone();
            let last = broken.len() - 1;
            broken[last] ^= 0x55;
            broken[last - 1] ^= 0x55;
            let outcome = public_key_from_spki(&broken);
            if let Ok(k) = &outcome {
                // A changed RSA modulus is still a key; it must not be the original one.
                assert!(!k.public_eq(&key), "a changed key decoded as the original");
            }
            // Cut short: an error, not a panic.
            for cut in [spki.len() - 1, spki.len() / 2, 3] {
                assert!(public_key_from_spki(&spki[..cut]).is_err(), "cut at {cut}");
            }
        }
    }
}
