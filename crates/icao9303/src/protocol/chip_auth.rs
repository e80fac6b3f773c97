//! Chip Authentication (ICAO 9303 Part 11 §6.2; BSI TR-03110 Part 2 §3.3 and Part 3 §3.4,
//! version 1): the terminal agrees a key with the chip's static key from DG14, proving the chip
//! is genuine, and secure messaging restarts with session keys from that key (SSC = 0).
//!
//! With 3DES the terminal sends MSE:Set KAT carrying its ephemeral public key; with AES it sends
//! MSE:Set AT then GENERAL AUTHENTICATE. These commands travel under the current secure
//! messaging session; the caller protects each command and unprotects each response with it,
//! and switches to the session returned at the end.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcPoint};
use openssl::nid::Nid;

use super::apdu::{CommandApdu, ResponseApdu, StatusWord};
use super::crypto::SymmetricCipher;
use super::error::ProtocolError;
use super::key_agreement::Group;
use super::pace::KeyAgreement;
use super::sm::SecureMessaging;
use crate::tlv::{self, Tlv, TlvReader};

/// DER content of `id-CA` 0.4.0.127.0.7.2.2.3.
const ID_CA: [u8; 8] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03];
/// id-ecPublicKey 1.2.840.10045.2.1.
const ID_EC_PUBLIC_KEY: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// id-PK-ECDH 0.4.0.127.0.7.2.2.1.2.
const ID_PK_ECDH: [u8; 9] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02];
/// dhpublicnumber 1.2.840.10046.2.1 (ANSI X9.42).
const DH_PUBLIC_NUMBER: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3E, 0x02, 0x01];
/// id-PK-DH 0.4.0.127.0.7.2.2.1.1.
const ID_PK_DH: [u8; 9] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x01];
/// prime-field 1.2.840.10045.1.1.
const PRIME_FIELD: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x01, 0x01];
/// standardizedDomainParameters 0.4.0.127.0.7.1.2 (BSI TR-03110 Part 3 App. A.2.1.1).
const STANDARDIZED_DOMAIN_PARAMETERS: [u8; 7] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x02];

/// A chip authentication protocol, e.g. `id-CA-ECDH-AES-CBC-CMAC-128`
/// (0.4.0.127.0.7.2.2.3.2.2), from DG14's `ChipAuthenticationInfo` (Part 11 §9.2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChipAuthProtocol {
    oid: Vec<u8>,
    pub key_agreement: KeyAgreement,
    pub cipher: SymmetricCipher,
}

impl ChipAuthProtocol {
    /// From the DER content octets of the protocol OID.
    pub fn from_oid(der_content: &[u8]) -> Result<Self, ProtocolError> {
        let not_ca = || ProtocolError::Unsupported("not a chip authentication protocol".into());
        let arcs = der_content.strip_prefix(&ID_CA[..]).ok_or_else(not_ca)?;
        let key_agreement = match arcs.first() {
            Some(1) => KeyAgreement::Dh,
            Some(2) => KeyAgreement::Ecdh,
            _ => return Err(not_ca()),
        };
        let cipher = match arcs.get(1..) {
            Some([1]) => SymmetricCipher::Tdes,
            Some([2]) => SymmetricCipher::Aes128,
            Some([3]) => SymmetricCipher::Aes192,
            Some([4]) => SymmetricCipher::Aes256,
            _ => return Err(not_ca()),
        };
        Ok(ChipAuthProtocol {
            oid: der_content.to_vec(),
            key_agreement,
            cipher,
        })
    }

    /// The protocol to assume when DG14 holds a chip authentication public key but no
    /// `ChipAuthenticationInfo`: 3DES with the key's agreement (Part 11 §9.2.5).
    pub fn default_for(key: &ChipPublicKey) -> Self {
        let key_agreement = key.key_agreement();
        let arc = match key_agreement {
            KeyAgreement::Dh => 1,
            KeyAgreement::Ecdh => 2,
        };
        let mut oid = ID_CA.to_vec();
        oid.extend_from_slice(&[arc, 1]);
        ChipAuthProtocol {
            oid,
            key_agreement,
            cipher: SymmetricCipher::Tdes,
        }
    }

    /// The OID's DER content octets.
    pub fn oid(&self) -> &[u8] {
        &self.oid
    }
}

/// The chip's static key agreement key from DG14 (`ChipAuthenticationPublicKeyInfo`): its domain
/// parameters (named, standardized or explicit) and public value, validated.
pub struct ChipPublicKey {
    group: Group,
    public: Vec<u8>,
}

impl std::fmt::Debug for ChipPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipPublicKey")
            .field("key_agreement", &self.key_agreement())
            .field("public", &hex::encode_upper(&self.public))
            .finish()
    }
}

fn malformed(what: &'static str) -> impl Fn(tlv::TlvError) -> ProtocolError {
    move |_| ProtocolError::Malformed(what)
}

fn integer(t: &Tlv<'_>) -> Result<BigNum, ProtocolError> {
    Ok(BigNum::from_slice(t.value)?)
}

impl ChipPublicKey {
    /// From the DER `SubjectPublicKeyInfo` of a `ChipAuthenticationPublicKeyInfo`:
    /// `SEQUENCE { AlgorithmIdentifier, BIT STRING }` with algorithm id-ecPublicKey or
    /// id-PK-ECDH (parameters: a named curve, explicit `ECParameters`, or a standardized domain
    /// parameter INTEGER), or dhpublicnumber / id-PK-DH (parameters `SEQUENCE { p, g, q, ... }`).
    pub fn from_subject_public_key_info(der: &[u8]) -> Result<Self, ProtocolError> {
        let bad = malformed("bad SubjectPublicKeyInfo");
        let spki = tlv::parse_expected(der, 0x30).map_err(&bad)?;
        let mut r = spki.children();
        let alg = r.expect(0x30).map_err(&bad)?;
        let bits = r.expect(0x03).map_err(&bad)?;
        r.finish().map_err(&bad)?;
        let key = match bits.value.split_first() {
            Some((0, key)) => key,
            _ => {
                return Err(ProtocolError::Malformed(
                    "public key BIT STRING with unused bits",
                ));
            }
        };
        let mut a = alg.children();
        let oid = a.expect(0x06).map_err(&bad)?.value;
        let params = a.read().map_err(&bad)?;
        let ec = oid == ID_EC_PUBLIC_KEY || oid == ID_PK_ECDH;
        let dh = oid == DH_PUBLIC_NUMBER || oid == ID_PK_DH;
        let group = if params.tag == 0x02 && (ec || dh || oid == STANDARDIZED_DOMAIN_PARAMETERS) {
            let id = params
                .value
                .iter()
                .fold(0u64, |acc, b| acc.saturating_mul(256) | u64::from(*b));
            Group::standardized(id)?
        } else if ec && params.tag == 0x06 {
            Group::Ec(EcGroup::from_curve_name(named_curve(params.value)?)?)
        } else if ec && params.tag == 0x30 {
            explicit_curve(&params)?
        } else if dh && params.tag == 0x30 {
            let mut p = params.children();
            let prime = integer(&p.expect(0x02).map_err(&bad)?)?;
            let g = integer(&p.expect(0x02).map_err(&bad)?)?;
            let q = integer(&p.expect(0x02).map_err(&bad)?)?;
            Group::Dh { p: prime, q, g }
        } else {
            return Err(ProtocolError::Unsupported(
                "chip authentication key of an unknown algorithm or parameters".into(),
            ));
        };
        let public = match group {
            Group::Ec(_) => key.to_vec(),
            // The DH public value is an INTEGER inside the BIT STRING.
            Group::Dh { .. } => tlv::parse_expected(key, 0x02).map_err(&bad)?.value.to_vec(),
        };
        // Validate (on the curve / in the subgroup) and re-encode to the fixed length.
        let public = group.encode(&group.decode(&public)?)?;
        Ok(ChipPublicKey { group, public })
    }

    pub fn key_agreement(&self) -> KeyAgreement {
        match self.group {
            Group::Ec(_) => KeyAgreement::Ecdh,
            Group::Dh { .. } => KeyAgreement::Dh,
        }
    }

    /// The public value: an uncompressed point, or the DH value (modulus length).
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }
}

/// DER content of the named-curve OIDs chips use, mapped to OpenSSL's curves.
fn named_curve(oid: &[u8]) -> Result<Nid, ProtocolError> {
    const BRAINPOOL: [u8; 8] = [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01];
    const X962_PRIME: [u8; 7] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01];
    const SECG: [u8; 4] = [0x2B, 0x81, 0x04, 0x00];
    let nid = if let Some(rest) = oid.strip_prefix(&BRAINPOOL[..]) {
        match rest {
            [3] => Some(Nid::BRAINPOOL_P192R1),
            [5] => Some(Nid::BRAINPOOL_P224R1),
            [7] => Some(Nid::BRAINPOOL_P256R1),
            [9] => Some(Nid::BRAINPOOL_P320R1),
            [11] => Some(Nid::BRAINPOOL_P384R1),
            [13] => Some(Nid::BRAINPOOL_P512R1),
            _ => None,
        }
    } else if let Some(rest) = oid.strip_prefix(&X962_PRIME[..]) {
        match rest {
            [1] => Some(Nid::X9_62_PRIME192V1),
            [7] => Some(Nid::X9_62_PRIME256V1),
            _ => None,
        }
    } else if let Some(rest) = oid.strip_prefix(&SECG[..]) {
        match rest {
            [0x21] => Some(Nid::SECP224R1),
            [0x22] => Some(Nid::SECP384R1),
            [0x23] => Some(Nid::SECP521R1),
            _ => None,
        }
    } else {
        None
    };
    nid.ok_or_else(|| {
        ProtocolError::Unsupported("named curve of the chip authentication key".into())
    })
}

/// Explicit `ECParameters ::= SEQUENCE { version INTEGER, fieldID SEQUENCE { prime-field, p },
/// curve SEQUENCE { a OCTET STRING, b OCTET STRING, seed BIT STRING OPTIONAL },
/// base OCTET STRING, order INTEGER, cofactor INTEGER OPTIONAL }` (RFC 3279 §2.3.5).
fn explicit_curve(params: &Tlv<'_>) -> Result<Group, ProtocolError> {
    let bad = malformed("bad explicit EC parameters");
    let mut r = params.children();
    r.expect(0x02).map_err(&bad)?;
    let field = r.expect(0x30).map_err(&bad)?;
    let mut f = field.children();
    if f.expect(0x06).map_err(&bad)?.value != PRIME_FIELD {
        return Err(ProtocolError::Unsupported(
            "EC parameters over a binary field".into(),
        ));
    }
    let p = integer(&f.expect(0x02).map_err(&bad)?)?;
    let curve = r.expect(0x30).map_err(&bad)?;
    let mut c: TlvReader<'_> = curve.children();
    let a = BigNum::from_slice(c.expect(0x04).map_err(&bad)?.value)?;
    let b = BigNum::from_slice(c.expect(0x04).map_err(&bad)?.value)?;
    let base = r.expect(0x04).map_err(&bad)?.value;
    let order = integer(&r.expect(0x02).map_err(&bad)?)?;
    let cofactor = match r.optional(0x02).map_err(&bad)? {
        Some(t) => integer(&t)?,
        None => BigNum::from_u32(1)?,
    };
    let mut ctx = BigNumContext::new()?;
    let mut group = EcGroup::from_components(p, a, b, &mut ctx)
        .map_err(|_| ProtocolError::Malformed("explicit EC parameters do not form a curve"))?;
    let generator = EcPoint::from_bytes(&group, base, &mut ctx)
        .map_err(|_| ProtocolError::Malformed("EC base point not on the curve"))?;
    group.set_generator(generator, order, cofactor)?;
    Ok(Group::Ec(group))
}

enum TerminalState {
    Start,
    /// 3DES: MSE:Set KAT sent.
    KeyAgreement,
    /// AES: MSE:Set AT sent, GENERAL AUTHENTICATE next.
    SetAt,
    /// AES: GENERAL AUTHENTICATE sent.
    GeneralAuthenticate,
    Done,
}

/// One step of chip authentication: a command to protect and send with the current session, or
/// the new session to use from now on.
#[derive(Debug)]
pub enum Step {
    Command(CommandApdu),
    Done(SecureMessaging),
}

/// The terminal side of chip authentication.
pub struct Terminal {
    protocol: ChipAuthProtocol,
    key: ChipPublicKey,
    key_id: Option<u64>,
    sk: BigNum,
    pk: Vec<u8>,
    state: TerminalState,
}

impl Terminal {
    /// Chip authentication against `key` (with its `keyId` from DG14, if DG14 gives one), with
    /// a fresh ephemeral key pair.
    pub fn new(
        protocol: ChipAuthProtocol,
        key: ChipPublicKey,
        key_id: Option<u64>,
    ) -> Result<Self, ProtocolError> {
        let sk = key.group.random_private()?;
        Terminal::with_private_key_bn(protocol, key, key_id, sk)
    }

    /// With a fixed ephemeral private key (big-endian): for known-answer tests only.
    pub fn with_private_key(
        protocol: ChipAuthProtocol,
        key: ChipPublicKey,
        key_id: Option<u64>,
        sk: &[u8],
    ) -> Result<Self, ProtocolError> {
        Terminal::with_private_key_bn(protocol, key, key_id, BigNum::from_slice(sk)?)
    }

    fn with_private_key_bn(
        protocol: ChipAuthProtocol,
        key: ChipPublicKey,
        key_id: Option<u64>,
        sk: BigNum,
    ) -> Result<Self, ProtocolError> {
        if protocol.key_agreement != key.key_agreement() {
            return Err(ProtocolError::Malformed(
                "chip authentication key does not fit the protocol",
            ));
        }
        let pk = key
            .group
            .encode(&key.group.mul(&key.group.generator()?, &sk)?)?;
        Ok(Terminal {
            protocol,
            key,
            key_id,
            sk,
            pk,
            state: TerminalState::Start,
        })
    }

    /// The terminal's ephemeral public key (as sent to the chip).
    pub fn ephemeral_public_key(&self) -> &[u8] {
        &self.pk
    }

    /// The first command: MSE:Set KAT (3DES) or MSE:Set AT (AES) (Part 11 §6.2.4.1-2).
    pub fn start(&mut self) -> CommandApdu {
        let key_ref = self.key_id.map(|id| tlv::encode(0x84, &minimal_be(id)));
        if self.protocol.cipher == SymmetricCipher::Tdes {
            self.state = TerminalState::KeyAgreement;
            let mut data = tlv::encode(0x91, &self.pk);
            data.extend(key_ref.unwrap_or_default());
            CommandApdu::short(0x00, 0x22, 0x41, 0xA6, data, None)
        } else {
            self.state = TerminalState::SetAt;
            let mut data = tlv::encode(0x80, self.protocol.oid());
            data.extend(key_ref.unwrap_or_default());
            CommandApdu::short(0x00, 0x22, 0x41, 0xA4, data, None)
        }
    }

    /// Takes the chip's (already unprotected) response to the previous command.
    pub fn next(&mut self, response: &ResponseApdu) -> Result<Step, ProtocolError> {
        response.success_data().map_err(ProtocolError::Status)?;
        match std::mem::replace(&mut self.state, TerminalState::Done) {
            TerminalState::SetAt => {
                self.state = TerminalState::GeneralAuthenticate;
                let data = tlv::encode(0x7C, &tlv::encode(0x80, &self.pk));
                Ok(Step::Command(CommandApdu::short(
                    0x00,
                    0x86,
                    0x00,
                    0x00,
                    data,
                    Some(0),
                )))
            }
            TerminalState::KeyAgreement | TerminalState::GeneralAuthenticate => {
                let group = &self.key.group;
                let secret = group.shared_secret(&self.sk, &group.decode(&self.key.public)?)?;
                Ok(Step::Done(SecureMessaging::from_shared_secret(
                    self.protocol.cipher,
                    &secret,
                )?))
            }
            TerminalState::Start | TerminalState::Done => Err(ProtocolError::OutOfOrder(
                "chip authentication not started or finished",
            )),
        }
    }
}

fn minimal_be(v: u64) -> Vec<u8> {
    let be = v.to_be_bytes();
    let first = be.iter().position(|b| *b != 0).unwrap_or(7);
    be.get(first..).unwrap_or(&be).to_vec()
}

/// The card side of chip authentication, for a virtual chip holding the static private key.
/// Takes commands already unprotected with the current session; on `CardStep::Done` the card
/// protects that response with the current session, then switches to the new one.
pub struct Card {
    group: Group,
    sk: BigNum,
    cipher: Option<SymmetricCipher>,
}

/// One step of the card: a response, or the last response and the new session.
#[derive(Debug)]
pub enum CardStep {
    Response(ResponseApdu),
    Done(ResponseApdu, SecureMessaging),
}

impl Card {
    /// A card with this static key pair (`private_key` big-endian).
    pub fn new(key: ChipPublicKey, private_key: &[u8]) -> Result<Self, ProtocolError> {
        Ok(Card {
            group: key.group,
            sk: BigNum::from_slice(private_key)?,
            cipher: None,
        })
    }

    pub fn respond(&mut self, command: &CommandApdu) -> Result<CardStep, ProtocolError> {
        let ok = || ResponseApdu::new(Vec::new(), StatusWord::SUCCESS);
        let bad = malformed("bad chip authentication command data");
        let find = |data: &[u8], tag: u32| -> Result<Option<Vec<u8>>, ProtocolError> {
            let mut r = TlvReader::new(data);
            while let Some(t) = r.next_tlv() {
                let t = t.map_err(&bad)?;
                if t.tag == tag {
                    return Ok(Some(t.value.to_vec()));
                }
            }
            Ok(None)
        };
        let agree =
            |pk: &[u8], cipher: SymmetricCipher| -> Result<SecureMessaging, ProtocolError> {
                let secret = self
                    .group
                    .shared_secret(&self.sk, &self.group.decode(pk)?)?;
                Ok(SecureMessaging::from_shared_secret(cipher, &secret)?)
            };
        match (command.ins(), command.p1(), command.p2()) {
            (0x22, 0x41, 0xA6) => {
                let pk =
                    find(command.data(), 0x91)?.ok_or(ProtocolError::Malformed("no DO'91'"))?;
                Ok(CardStep::Done(ok(), agree(&pk, SymmetricCipher::Tdes)?))
            }
            (0x22, 0x41, 0xA4) => {
                let oid =
                    find(command.data(), 0x80)?.ok_or(ProtocolError::Malformed("no DO'80'"))?;
                self.cipher = Some(ChipAuthProtocol::from_oid(&oid)?.cipher);
                Ok(CardStep::Response(ok()))
            }
            (0x86, 0x00, 0x00) => {
                let cipher = self.cipher.take().ok_or(ProtocolError::OutOfOrder(
                    "GENERAL AUTHENTICATE without MSE:Set AT",
                ))?;
                let outer = tlv::parse_expected(command.data(), 0x7C).map_err(&bad)?;
                let pk = find(outer.value, 0x80)?.ok_or(ProtocolError::Malformed("no DO'80'"))?;
                let response = ResponseApdu::new(vec![0x7C, 0x00], StatusWord::SUCCESS);
                Ok(CardStep::Done(response, agree(&pk, cipher)?))
            }
            _ => Err(ProtocolError::Malformed(
                "not a chip authentication command",
            )),
        }
    }
}
