//! Diffie-Hellman and elliptic-curve Diffie-Hellman over the domain parameters of PACE and
//! chip authentication (ICAO 9303 Part 11 §9.5-9.6, BSI TR-03110 Part 3 App. A.2 and D.3).

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::dh::Dh;
use openssl::ec::{EcGroup, EcPoint, PointConversionForm};
use openssl::nid::Nid;

use super::error::ProtocolError;

/// Domain parameters: an elliptic curve over a prime field, or a DH group with its prime-order
/// subgroup.
pub(crate) enum Group {
    Ec(EcGroup),
    Dh { p: BigNum, q: BigNum, g: BigNum },
}

impl Group {
    pub(crate) fn standardized(id: u64) -> Result<Group, ProtocolError> {
        let dh = |d: Dh<openssl::pkey::Params>| -> Result<Group, ProtocolError> {
            let q = d
                .prime_q()
                .ok_or(ProtocolError::Unsupported("DH group without q".into()))?
                .to_owned()?;
            Ok(Group::Dh {
                p: d.prime_p().to_owned()?,
                q,
                g: d.generator().to_owned()?,
            })
        };
        let nid = match id {
            0 => return dh(Dh::get_1024_160()?),
            1 => return dh(Dh::get_2048_224()?),
            2 => return dh(Dh::get_2048_256()?),
            8 => Nid::X9_62_PRIME192V1,
            9 => Nid::BRAINPOOL_P192R1,
            10 => Nid::SECP224R1,
            11 => Nid::BRAINPOOL_P224R1,
            12 => Nid::X9_62_PRIME256V1,
            13 => Nid::BRAINPOOL_P256R1,
            14 => Nid::BRAINPOOL_P320R1,
            15 => Nid::SECP384R1,
            16 => Nid::BRAINPOOL_P384R1,
            17 => Nid::BRAINPOOL_P512R1,
            18 => Nid::SECP521R1,
            other => {
                return Err(ProtocolError::Unsupported(format!(
                    "standardized domain parameters {other}"
                )));
            }
        };
        Ok(Group::Ec(EcGroup::from_curve_name(nid)?))
    }

    pub(crate) fn order(&self) -> Result<BigNum, ProtocolError> {
        match self {
            Group::Ec(g) => {
                let mut n = BigNum::new()?;
                let mut ctx = BigNumContext::new()?;
                g.order(&mut n, &mut ctx)?;
                Ok(n)
            }
            Group::Dh { q, .. } => Ok(BigNumRef::to_owned(q)?),
        }
    }

    pub(crate) fn generator(&self) -> Result<Element, ProtocolError> {
        match self {
            Group::Ec(g) => {
                let base = g
                    .generator_opt()
                    .ok_or(ProtocolError::Unsupported("curve without generator".into()))?;
                Ok(Element::Point(base.to_owned(g)?))
            }
            Group::Dh { g, .. } => Ok(Element::Int(BigNumRef::to_owned(g)?)),
        }
    }

    /// A private key: uniformly random in [1, order - 1].
    pub(crate) fn random_private(&self) -> Result<BigNum, ProtocolError> {
        let mut n = self.order()?;
        n.sub_word(1)?;
        let mut k = BigNum::new()?;
        n.rand_range(&mut k)?;
        k.add_word(1)?;
        Ok(k)
    }

    /// `base`^`k` (DH) or k·`base` (EC).
    pub(crate) fn mul(&self, base: &Element, k: &BigNumRef) -> Result<Element, ProtocolError> {
        let mut ctx = BigNumContext::new()?;
        match (self, base) {
            (Group::Ec(g), Element::Point(p)) => {
                let mut r = EcPoint::new(g)?;
                r.mul2(g, p, k, &mut ctx)?;
                Ok(Element::Point(r))
            }
            (Group::Dh { p, .. }, Element::Int(b)) => {
                let mut r = BigNum::new()?;
                r.mod_exp(b, k, p, &mut ctx)?;
                Ok(Element::Int(r))
            }
            _ => Err(ProtocolError::InvalidInput("element of another group")),
        }
    }

    /// Generic Mapping (Part 11 §4.4.3.3.1): G~ = s·G + H (EC) or g~ = g^s · h mod p (DH),
    /// with H = sk·PK_peer the shared mapping secret.
    pub(crate) fn generic_map(&self, s: &BigNumRef, h: &Element) -> Result<Element, ProtocolError> {
        let mut ctx = BigNumContext::new()?;
        let sg = self.mul(&self.generator()?, s)?;
        match (self, sg, h) {
            (Group::Ec(g), Element::Point(sg), Element::Point(h)) => {
                let mut r = EcPoint::new(g)?;
                r.add(g, &sg, h, &mut ctx)?;
                if r.is_infinity(g) {
                    return Err(ProtocolError::Malformed(
                        "mapped generator is the point at infinity",
                    ));
                }
                Ok(Element::Point(r))
            }
            (Group::Dh { p, .. }, Element::Int(gs), Element::Int(h)) => {
                let mut r = BigNum::new()?;
                r.mod_mul(&gs, h, p, &mut ctx)?;
                Ok(Element::Int(r))
            }
            _ => Err(ProtocolError::InvalidInput("element of another group")),
        }
    }

    /// The public-key encoding of GENERAL AUTHENTICATE: an uncompressed point, or the DH
    /// public value as an octet string of the modulus' length.
    pub(crate) fn encode(&self, e: &Element) -> Result<Vec<u8>, ProtocolError> {
        match (self, e) {
            (Group::Ec(g), Element::Point(p)) => {
                let mut ctx = BigNumContext::new()?;
                Ok(p.to_bytes(g, PointConversionForm::UNCOMPRESSED, &mut ctx)?)
            }
            (Group::Dh { p, .. }, Element::Int(y)) => Ok(y.to_vec_padded(p.num_bytes())?),
            _ => Err(ProtocolError::InvalidInput("element of another group")),
        }
    }

    /// Decodes and validates a peer's public key: an uncompressed point on the curve (not the
    /// point at infinity), or 1 < y < p - 1 with y^q = 1 (in the prime-order subgroup).
    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<Element, ProtocolError> {
        let mut ctx = BigNumContext::new()?;
        match self {
            Group::Ec(g) => {
                if bytes.first() != Some(&0x04) {
                    return Err(ProtocolError::Malformed(
                        "public key is not an uncompressed point",
                    ));
                }
                let p = EcPoint::from_bytes(g, bytes, &mut ctx)
                    .map_err(|_| ProtocolError::Malformed("public key is not on the curve"))?;
                if p.is_infinity(g) || !p.is_on_curve(g, &mut ctx)? {
                    return Err(ProtocolError::Malformed("public key is not on the curve"));
                }
                Ok(Element::Point(p))
            }
            Group::Dh { p, q, .. } => {
                let y = BigNum::from_slice(bytes)?;
                let mut p_minus_1 = BigNumRef::to_owned(p)?;
                p_minus_1.sub_word(1)?;
                let one = BigNum::from_u32(1)?;
                let mut check = BigNum::new()?;
                check.mod_exp(&y, q, p, &mut ctx)?;
                if y <= one || y >= p_minus_1 || check != one {
                    return Err(ProtocolError::Malformed("DH public key out of range"));
                }
                Ok(Element::Int(y))
            }
        }
    }

    /// The shared secret of key agreement as octets: the x-coordinate of sk·PK (ECDH, field
    /// length) or PK^sk mod p (DH, modulus length) (Part 11 §9.6).
    pub(crate) fn shared_secret(
        &self,
        sk: &BigNumRef,
        peer: &Element,
    ) -> Result<Vec<u8>, ProtocolError> {
        let k = self.mul(peer, sk)?;
        match (self, &k) {
            (Group::Ec(g), Element::Point(p)) => {
                if p.is_infinity(g) {
                    return Err(ProtocolError::Malformed(
                        "shared secret is the point at infinity",
                    ));
                }
                let mut x = BigNum::new()?;
                let mut y = BigNum::new()?;
                let mut ctx = BigNumContext::new()?;
                p.affine_coordinates(g, &mut x, &mut y, &mut ctx)?;
                let len = i32::try_from(g.degree().div_ceil(8)).unwrap_or(i32::MAX);
                Ok(x.to_vec_padded(len)?)
            }
            (Group::Dh { .. }, Element::Int(_)) => self.encode(&k),
            _ => Err(ProtocolError::InvalidInput("element of another group")),
        }
    }

    /// Tag of the public value in the public key data object: '86' point, '84' DH value.
    pub(crate) fn public_key_tag(&self) -> u8 {
        match self {
            Group::Ec(_) => 0x86,
            Group::Dh { .. } => 0x84,
        }
    }
}

pub(crate) enum Element {
    Point(EcPoint),
    Int(BigNum),
}
