//! PACE, Password Authenticated Connection Establishment (ICAO 9303 Part 11 §4.4, BSI TR-03110
//! Part 2 §3.2 / Part 3 §3.2; worked example in Part 11 App. G.1).
//!
//! The terminal reads EF.CardAccess, picks a `PACEInfo` it supports ([`choose`]), and runs
//! MSE:Set AT then four chained GENERAL AUTHENTICATE commands: the chip's encrypted nonce, the
//! mapping to a fresh generator, the ephemeral key agreement, and the exchange of
//! authentication tokens. Supported: Generic Mapping with ECDH (standardized NIST and brainpool
//! curves) and DH (RFC 5114 groups), each with 3DES or AES-128/192/256, from the MRZ or the CAN.
//! Integrated Mapping, Chip Authentication Mapping and proprietary domain parameters are refused
//! with [`ProtocolError::Unsupported`]; the caller then falls back to BAC.

use openssl::bn::BigNum;
use openssl::memcmp;

use super::apdu::{CommandApdu, ResponseApdu, StatusWord};
use super::bac::MrzInformation;
use super::crypto::{KDF_PI, SymmetricCipher};
use super::error::ProtocolError;
use super::key_agreement::Group;
use super::sm::SecureMessaging;
use crate::tlv;

/// DER content of `id-PACE` 0.4.0.127.0.7.2.2.4 (bsi-de protocols smartcards 4).
const ID_PACE: [u8; 8] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04];

/// The key agreement of a PACE protocol OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAgreement {
    Dh,
    Ecdh,
}

/// The mapping of a PACE protocol OID (Part 11 §4.4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    Generic,
    Integrated,
    ChipAuthentication,
}

/// A PACE protocol object identifier, e.g. `id-PACE-ECDH-GM-AES-CBC-CMAC-128`
/// (0.4.0.127.0.7.2.2.4.2.2), decoded (Part 11 §9.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaceProtocol {
    oid: Vec<u8>,
    pub key_agreement: KeyAgreement,
    pub mapping: Mapping,
    pub cipher: SymmetricCipher,
}

impl PaceProtocol {
    /// From the DER content octets of the OID (as `const_oid::ObjectIdentifier::as_bytes`).
    pub fn from_oid(der_content: &[u8]) -> Result<Self, ProtocolError> {
        let not_pace = || ProtocolError::Unsupported("not a PACE protocol identifier".into());
        let arcs = der_content
            .strip_prefix(&ID_PACE[..])
            .ok_or_else(not_pace)?;
        let (mapping_arc, cipher_arc) = match arcs {
            [m, c] => (*m, *c),
            _ => return Err(not_pace()),
        };
        let (key_agreement, mapping) = match mapping_arc {
            1 => (KeyAgreement::Dh, Mapping::Generic),
            2 => (KeyAgreement::Ecdh, Mapping::Generic),
            3 => (KeyAgreement::Dh, Mapping::Integrated),
            4 => (KeyAgreement::Ecdh, Mapping::Integrated),
            6 => (KeyAgreement::Ecdh, Mapping::ChipAuthentication),
            _ => return Err(not_pace()),
        };
        let cipher = match cipher_arc {
            1 => SymmetricCipher::Tdes,
            2 => SymmetricCipher::Aes128,
            3 => SymmetricCipher::Aes192,
            4 => SymmetricCipher::Aes256,
            _ => return Err(not_pace()),
        };
        Ok(PaceProtocol {
            oid: der_content.to_vec(),
            key_agreement,
            mapping,
            cipher,
        })
    }

    /// The OID's DER content octets.
    pub fn oid(&self) -> &[u8] {
        &self.oid
    }
}

/// A PACE protocol with resolved domain parameters: one of the chip's `PACEInfo`s.
pub struct PaceParameters {
    protocol: PaceProtocol,
    parameter_id: u64,
    group: Group,
}

impl std::fmt::Debug for PaceParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaceParameters")
            .field("protocol", &self.protocol)
            .field("parameter_id", &self.parameter_id)
            .finish()
    }
}

impl PaceParameters {
    /// From a `PACEInfo`'s protocol OID (DER content octets) and `parameterId`. Refuses what
    /// this implementation does not do (Integrated Mapping, Chip Authentication Mapping,
    /// proprietary domain parameters) with [`ProtocolError::Unsupported`].
    pub fn new(protocol_oid: &[u8], parameter_id: Option<u64>) -> Result<Self, ProtocolError> {
        let protocol = PaceProtocol::from_oid(protocol_oid)?;
        match protocol.mapping {
            Mapping::Generic => {}
            Mapping::Integrated => {
                return Err(ProtocolError::Unsupported("PACE Integrated Mapping".into()));
            }
            Mapping::ChipAuthentication => {
                return Err(ProtocolError::Unsupported(
                    "PACE Chip Authentication Mapping".into(),
                ));
            }
        }
        let parameter_id = parameter_id.ok_or_else(|| {
            ProtocolError::Unsupported(
                "PACE with proprietary domain parameters (PACEDomainParameterInfo)".into(),
            )
        })?;
        let group = Group::standardized(parameter_id)?;
        let matches = matches!(
            (&group, protocol.key_agreement),
            (Group::Ec(_), KeyAgreement::Ecdh) | (Group::Dh { .. }, KeyAgreement::Dh)
        );
        if !matches {
            return Err(ProtocolError::Malformed(
                "PACE domain parameters do not fit the protocol",
            ));
        }
        Ok(PaceParameters {
            protocol,
            parameter_id,
            group,
        })
    }

    pub fn protocol(&self) -> &PaceProtocol {
        &self.protocol
    }

    pub fn parameter_id(&self) -> u64 {
        self.parameter_id
    }
}

/// Picks the PACE protocol to run among the chip's `PACEInfo`s, given as (protocol OID DER
/// content, parameterId): the first supported one, preferring ECDH over DH and AES over 3DES.
/// `None` when none is supported: run BAC instead (Part 11 §4.2: chips offering PACE also
/// support BAC until further notice).
pub fn choose<'a>(
    pace_infos: impl IntoIterator<Item = (&'a [u8], Option<u64>)>,
) -> Option<PaceParameters> {
    let rank = |p: &PaceParameters| {
        let ka = match p.protocol.key_agreement {
            KeyAgreement::Ecdh => 2,
            KeyAgreement::Dh => 0,
        };
        let cipher = match p.protocol.cipher {
            SymmetricCipher::Tdes => 0,
            _ => 1,
        };
        ka + cipher
    };
    let mut best: Option<PaceParameters> = None;
    for (oid, id) in pace_infos {
        let Ok(p) = PaceParameters::new(oid, id) else {
            continue;
        };
        if best.as_ref().is_none_or(|b| rank(&p) > rank(b)) {
            best = Some(p);
        }
    }
    best
}

/// The PACE password (Part 11 §9.7.3).
#[derive(Clone)]
pub enum Password {
    /// The MRZ information; f(π) = SHA-1(MRZ information).
    Mrz(MrzInformation),
    /// The Card Access Number printed on the document; f(π) = its ISO 8859-1 octets.
    Can(String),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Password::Mrz(_) => f.write_str("Password::Mrz(..)"),
            Password::Can(_) => f.write_str("Password::Can(..)"),
        }
    }
}

impl Password {
    /// The password reference of MSE:Set AT (DO'83'): 1 MRZ, 2 CAN.
    pub fn reference(&self) -> u8 {
        match self {
            Password::Mrz(_) => 1,
            Password::Can(_) => 2,
        }
    }

    fn encoded(&self) -> Result<Vec<u8>, ProtocolError> {
        match self {
            Password::Mrz(m) => Ok(m.sha1()?.to_vec()),
            Password::Can(can) => {
                if can.is_empty() || !can.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ProtocolError::InvalidInput("the CAN is digits only"));
                }
                Ok(can.as_bytes().to_vec())
            }
        }
    }
}

/// K_π = KDF(f(π), 3) (Part 11 §9.7.3).
pub fn derive_k_pi(cipher: SymmetricCipher, password: &Password) -> Result<Vec<u8>, ProtocolError> {
    Ok(cipher.kdf(&password.encoded()?, KDF_PI)?)
}

/// s = D(K_π, z): the chip's nonce, CBC with a zero IV (Part 11 §4.4.3.2).
pub fn decrypt_nonce(
    cipher: SymmetricCipher,
    k_pi: &[u8],
    z: &[u8],
) -> Result<Vec<u8>, ProtocolError> {
    if z.is_empty() || z.len() % cipher.block_len() != 0 {
        return Err(ProtocolError::Malformed(
            "encrypted nonce is not whole blocks",
        ));
    }
    Ok(cipher.decrypt_cbc(k_pi, &vec![0u8; cipher.block_len()], z)?)
}

/// The authentication token T = MAC(KSmac, public key data object of the peer's ephemeral key):
/// `7F49 { 06 protocol OID, 86 point | 84 DH value }` (Part 11 §4.4.3.4, §9.4), first 8 bytes.
fn authentication_token(
    params: &PaceParameters,
    k_mac: &[u8],
    peer_public: &[u8],
) -> Result<[u8; 8], ProtocolError> {
    let mut inner = tlv::encode(0x06, params.protocol.oid());
    inner.extend(tlv::encode(
        params.group.public_key_tag().into(),
        peer_public,
    ));
    let data = tlv::encode(0x7F49, &inner);
    Ok(params.protocol.cipher.mac(k_mac, &data)?)
}

fn general_authenticate(last: bool, tag: u8, value: &[u8]) -> CommandApdu {
    let inner = if value.is_empty() && tag == 0 {
        Vec::new()
    } else {
        tlv::encode(tag.into(), value)
    };
    let cla = if last { 0x00 } else { 0x10 };
    CommandApdu::short(cla, 0x86, 0x00, 0x00, tlv::encode(0x7C, &inner), Some(0))
}

/// The value of data object `tag` inside the dynamic authentication data `7C` of a response.
fn dynamic_data(response: &ResponseApdu, tag: u8) -> Result<Vec<u8>, ProtocolError> {
    let data = response.success_data().map_err(ProtocolError::Status)?;
    find_in_7c(data, tag)
}

fn find_in_7c(data: &[u8], tag: u8) -> Result<Vec<u8>, ProtocolError> {
    let outer = tlv::parse_expected(data, 0x7C)
        .map_err(|_| ProtocolError::Malformed("no dynamic authentication data '7C'"))?;
    let mut r = outer.children();
    while let Some(t) = r.next_tlv() {
        let t =
            t.map_err(|_| ProtocolError::Malformed("bad TLV in dynamic authentication data"))?;
        if t.tag == u32::from(tag) {
            return Ok(t.value.to_vec());
        }
    }
    Err(ProtocolError::Malformed(
        "data object missing in dynamic authentication data",
    ))
}

fn scalar(bytes: &[u8]) -> Result<BigNum, ProtocolError> {
    Ok(BigNum::from_slice(bytes)?)
}

/// Private keys chosen in advance (known-answer tests) or drawn at random.
struct Secrets {
    map: Option<BigNum>,
    eph: Option<BigNum>,
}

impl Secrets {
    fn take(slot: &mut Option<BigNum>, group: &Group) -> Result<BigNum, ProtocolError> {
        match slot.take() {
            Some(k) => Ok(k),
            None => group.random_private(),
        }
    }
}

/// What a successful PACE leaves: the secure-messaging session and the values later protocols
/// need.
#[derive(Debug)]
pub struct PaceOutcome {
    pub sm: SecureMessaging,
    /// The chip's ephemeral public key as sent (its x-coordinate is ID_PICC for terminal
    /// authentication, BSI TR-03110 Part 3 §2.4).
    pub chip_ephemeral_public_key: Vec<u8>,
    /// Certification authority references from the chip's last response (DO'87', DO'88'),
    /// present when the chip supports terminal authentication.
    pub car1: Option<Vec<u8>>,
    pub car2: Option<Vec<u8>>,
}

enum TerminalState {
    Start,
    SetAt,
    Nonce,
    Mapping {
        s: BigNum,
        sk_map: BigNum,
        pk_map: Vec<u8>,
    },
    KeyAgreement {
        sk_eph: BigNum,
        pk_eph: Vec<u8>,
    },
    Token {
        sm: SecureMessaging,
        pk_eph_pcd: Vec<u8>,
        pk_eph_picc: Vec<u8>,
    },
    Done,
}

/// One step of the terminal: a command to send, or the end of PACE.
#[derive(Debug)]
pub enum TerminalStep {
    Command(CommandApdu),
    Done(Box<PaceOutcome>),
}

/// The terminal (PCD) side of PACE: `start()` gives MSE:Set AT; each chip response goes to
/// `next`, which returns the next command until `TerminalStep::Done`.
pub struct Terminal {
    params: PaceParameters,
    k_pi: Vec<u8>,
    password_reference: u8,
    secrets: Secrets,
    state: TerminalState,
}

impl Terminal {
    /// A terminal drawing its private keys at random.
    pub fn new(params: PaceParameters, password: &Password) -> Result<Self, ProtocolError> {
        Ok(Terminal {
            k_pi: derive_k_pi(params.protocol.cipher, password)?,
            password_reference: password.reference(),
            params,
            secrets: Secrets {
                map: None,
                eph: None,
            },
            state: TerminalState::Start,
        })
    }

    /// A terminal with fixed mapping and ephemeral private keys (big-endian): for
    /// known-answer tests only.
    pub fn with_private_keys(
        params: PaceParameters,
        password: &Password,
        sk_map: &[u8],
        sk_eph: &[u8],
    ) -> Result<Self, ProtocolError> {
        let mut t = Terminal::new(params, password)?;
        t.secrets = Secrets {
            map: Some(scalar(sk_map)?),
            eph: Some(scalar(sk_eph)?),
        };
        Ok(t)
    }

    /// MSE:Set AT selecting the protocol (DO'80'), the password (DO'83') and the domain
    /// parameters (DO'84') (Part 11 §4.4.4.1).
    pub fn start(&mut self) -> CommandApdu {
        self.state = TerminalState::SetAt;
        mse_set_at(&self.params, self.password_reference)
    }

    /// Processes the chip's response to the previous command.
    pub fn next(&mut self, response: &ResponseApdu) -> Result<TerminalStep, ProtocolError> {
        let state = std::mem::replace(&mut self.state, TerminalState::Done);
        let group = &self.params.group;
        let (state, step) = match state {
            TerminalState::Start | TerminalState::Done => {
                return Err(ProtocolError::OutOfOrder(
                    "PACE terminal not started or finished",
                ));
            }
            TerminalState::SetAt => {
                response.success_data().map_err(ProtocolError::Status)?;
                (TerminalState::Nonce, general_authenticate(false, 0, &[]))
            }
            TerminalState::Nonce => {
                let z = dynamic_data(response, 0x80)?;
                let s = decrypt_nonce(self.params.protocol.cipher, &self.k_pi, &z)?;
                let sk_map = Secrets::take(&mut self.secrets.map, group)?;
                let pk_map = group.encode(&group.mul(&group.generator()?, &sk_map)?)?;
                let cmd = general_authenticate(false, 0x81, &pk_map);
                (
                    TerminalState::Mapping {
                        s: scalar(&s)?,
                        sk_map,
                        pk_map,
                    },
                    cmd,
                )
            }
            TerminalState::Mapping { s, sk_map, pk_map } => {
                let pk_map_picc = dynamic_data(response, 0x82)?;
                if memcmp_eq(&pk_map_picc, &pk_map) {
                    return Err(ProtocolError::AuthenticationFailed(
                        "chip echoed the mapping key",
                    ));
                }
                let h = group.mul(&group.decode(&pk_map_picc)?, &sk_map)?;
                let generator = group.generic_map(&s, &h)?;
                let sk_eph = Secrets::take(&mut self.secrets.eph, group)?;
                let pk_eph = group.encode(&group.mul(&generator, &sk_eph)?)?;
                let cmd = general_authenticate(false, 0x83, &pk_eph);
                (TerminalState::KeyAgreement { sk_eph, pk_eph }, cmd)
            }
            TerminalState::KeyAgreement { sk_eph, pk_eph } => {
                let pk_eph_picc = dynamic_data(response, 0x84)?;
                // Part 11 §4.4.3.4: the terminal checks the chip's key differs from its own.
                if memcmp_eq(&pk_eph_picc, &pk_eph) {
                    return Err(ProtocolError::AuthenticationFailed(
                        "chip echoed the ephemeral key",
                    ));
                }
                let secret = group.shared_secret(&sk_eph, &group.decode(&pk_eph_picc)?)?;
                let sm = SecureMessaging::from_shared_secret(self.params.protocol.cipher, &secret)?;
                let t_pcd = authentication_token(&self.params, sm.k_mac(), &pk_eph_picc)?;
                let cmd = general_authenticate(true, 0x85, &t_pcd);
                (
                    TerminalState::Token {
                        sm,
                        pk_eph_pcd: pk_eph,
                        pk_eph_picc,
                    },
                    cmd,
                )
            }
            TerminalState::Token {
                sm,
                pk_eph_pcd,
                pk_eph_picc,
            } => {
                let t_picc = dynamic_data(response, 0x86)?;
                let expected = authentication_token(&self.params, sm.k_mac(), &pk_eph_pcd)?;
                if !memcmp_eq(&t_picc, &expected) {
                    return Err(ProtocolError::AuthenticationFailed(
                        "chip's PACE token is wrong",
                    ));
                }
                let data = response.data.as_slice();
                let outcome = PaceOutcome {
                    sm,
                    chip_ephemeral_public_key: pk_eph_picc,
                    car1: find_in_7c(data, 0x87).ok(),
                    car2: find_in_7c(data, 0x88).ok(),
                };
                return Ok(TerminalStep::Done(Box::new(outcome)));
            }
        };
        self.state = state;
        Ok(TerminalStep::Command(step))
    }
}

fn memcmp_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && memcmp::eq(a, b)
}

fn mse_set_at(params: &PaceParameters, password_reference: u8) -> CommandApdu {
    let mut data = tlv::encode(0x80, params.protocol.oid());
    data.extend(tlv::encode(0x83, &[password_reference]));
    // parameterId is at most 18 here (Group::standardized), so it fits one byte.
    data.extend(tlv::encode(0x84, &[params.parameter_id as u8]));
    CommandApdu::short(0x00, 0x22, 0xC1, 0xA4, data, None)
}

enum CardState {
    Idle,
    Selected,
    Nonce {
        s: BigNum,
    },
    Mapped {
        sk_eph: BigNum,
        pk_eph: Vec<u8>,
    },
    Keys {
        sm: SecureMessaging,
        pk_eph_pcd: Vec<u8>,
        pk_eph_picc: Vec<u8>,
    },
}

/// One step of the card: a response to send, and after the last one the session.
#[derive(Debug)]
pub enum CardStep {
    Response(ResponseApdu),
    Done(ResponseApdu, SecureMessaging),
}

/// The card (PICC) side of PACE Generic Mapping, for a virtual chip. Errors mean the card
/// answers with an error status ('6300' for `AuthenticationFailed`, '6A80' otherwise) and
/// starts over.
pub struct Card {
    params: PaceParameters,
    k_pi: Vec<u8>,
    password_reference: u8,
    nonce: Option<Vec<u8>>,
    secrets: Secrets,
    state: CardState,
}

impl Card {
    /// A card drawing its nonce and private keys at random.
    pub fn new(params: PaceParameters, password: &Password) -> Result<Self, ProtocolError> {
        Ok(Card {
            k_pi: derive_k_pi(params.protocol.cipher, password)?,
            password_reference: password.reference(),
            params,
            nonce: None,
            secrets: Secrets {
                map: None,
                eph: None,
            },
            state: CardState::Idle,
        })
    }

    /// A card with a fixed nonce s and private keys: for known-answer tests only.
    pub fn with_secrets(
        params: PaceParameters,
        password: &Password,
        nonce: &[u8],
        sk_map: &[u8],
        sk_eph: &[u8],
    ) -> Result<Self, ProtocolError> {
        let mut c = Card::new(params, password)?;
        c.nonce = Some(nonce.to_vec());
        c.secrets = Secrets {
            map: Some(scalar(sk_map)?),
            eph: Some(scalar(sk_eph)?),
        };
        Ok(c)
    }

    /// Answers MSE:Set AT or the next GENERAL AUTHENTICATE.
    pub fn respond(&mut self, command: &CommandApdu) -> Result<CardStep, ProtocolError> {
        let ok = |data: Vec<u8>| ResponseApdu::new(data, StatusWord::SUCCESS);
        let dyn_data = |tag: u8, value: &[u8]| tlv::encode(0x7C, &tlv::encode(tag.into(), value));
        if command.ins() == 0x22 {
            let expected = mse_set_at(&self.params, self.password_reference);
            if command.data() != expected.data() {
                self.state = CardState::Idle;
                return Err(ProtocolError::Unsupported(
                    "MSE:Set AT for another protocol or password".into(),
                ));
            }
            self.state = CardState::Selected;
            return Ok(CardStep::Response(ok(Vec::new())));
        }
        if command.ins() != 0x86 {
            return Err(ProtocolError::Malformed("not GENERAL AUTHENTICATE"));
        }
        let state = std::mem::replace(&mut self.state, CardState::Idle);
        let group = &self.params.group;
        let cipher = self.params.protocol.cipher;
        let (state, response) = match state {
            CardState::Idle => {
                return Err(ProtocolError::OutOfOrder(
                    "GENERAL AUTHENTICATE without MSE:Set AT",
                ));
            }
            CardState::Selected => {
                let s = match self.nonce.take() {
                    Some(s) => s,
                    None => {
                        let mut s = vec![0u8; cipher.block_len()];
                        openssl::rand::rand_bytes(&mut s)?;
                        s
                    }
                };
                let z = cipher.encrypt_cbc(&self.k_pi, &vec![0u8; cipher.block_len()], &s)?;
                (CardState::Nonce { s: scalar(&s)? }, ok(dyn_data(0x80, &z)))
            }
            CardState::Nonce { s } => {
                let pk_map_pcd = group.decode(&find_in_7c(command.data(), 0x81)?)?;
                let sk_map = Secrets::take(&mut self.secrets.map, group)?;
                let pk_map = group.encode(&group.mul(&group.generator()?, &sk_map)?)?;
                let generator = group.generic_map(&s, &group.mul(&pk_map_pcd, &sk_map)?)?;
                let sk_eph = Secrets::take(&mut self.secrets.eph, group)?;
                let pk_eph = group.encode(&group.mul(&generator, &sk_eph)?)?;
                (
                    CardState::Mapped { sk_eph, pk_eph },
                    ok(dyn_data(0x82, &pk_map)),
                )
            }
            CardState::Mapped { sk_eph, pk_eph } => {
                let pk_eph_pcd = find_in_7c(command.data(), 0x83)?;
                if memcmp_eq(&pk_eph_pcd, &pk_eph) {
                    return Err(ProtocolError::AuthenticationFailed(
                        "terminal echoed the ephemeral key",
                    ));
                }
                let secret = group.shared_secret(&sk_eph, &group.decode(&pk_eph_pcd)?)?;
                let sm = SecureMessaging::from_shared_secret(cipher, &secret)?;
                let response = ok(dyn_data(0x84, &pk_eph));
                (
                    CardState::Keys {
                        sm,
                        pk_eph_pcd,
                        pk_eph_picc: pk_eph,
                    },
                    response,
                )
            }
            CardState::Keys {
                sm,
                pk_eph_pcd,
                pk_eph_picc,
            } => {
                let t_pcd = find_in_7c(command.data(), 0x85)?;
                let expected = authentication_token(&self.params, sm.k_mac(), &pk_eph_picc)?;
                if !memcmp_eq(&t_pcd, &expected) {
                    return Err(ProtocolError::AuthenticationFailed(
                        "terminal's PACE token is wrong",
                    ));
                }
                let t_picc = authentication_token(&self.params, sm.k_mac(), &pk_eph_pcd)?;
                return Ok(CardStep::Done(ok(dyn_data(0x86, &t_picc)), sm));
            }
        };
        self.state = state;
        Ok(CardStep::Response(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // ICAO 9303 Part 11 App. G.1 (ECDH Generic Mapping, brainpoolP256r1): the intermediate
    // points that the state machine keeps to itself.
    #[test]
    fn generic_mapping_intermediates_worked_example() {
        let group = Group::standardized(13).unwrap();
        let sk_map_pcd = scalar(&h(
            "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99",
        ))
        .unwrap();
        let pk_map_picc = group
            .decode(&h("04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"))
            .unwrap();
        let hh = group.mul(&pk_map_picc, &sk_map_pcd).unwrap();
        assert_eq!(
            hex::encode_upper(group.encode(&hh).unwrap()),
            "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD50840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
        );
        let s = scalar(&h("3F00C4D39D153F2B2A214A078D899B22")).unwrap();
        let mapped = group.generic_map(&s, &hh).unwrap();
        assert_eq!(
            hex::encode_upper(group.encode(&mapped).unwrap()),
            "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E28C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522"
        );
        let sk_eph_pcd = scalar(&h(
            "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595",
        ))
        .unwrap();
        let pk_eph_picc = group
            .decode(&h("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"))
            .unwrap();
        assert_eq!(
            hex::encode_upper(group.shared_secret(&sk_eph_pcd, &pk_eph_picc).unwrap()),
            "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"
        );
    }

    #[test]
    fn rejects_points_off_the_curve_and_bad_dh_values() {
        let group = Group::standardized(13).unwrap();
        let mut bad = h(
            "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
        );
        bad[40] ^= 1;
        assert!(matches!(
            group.decode(&bad),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            group.decode(&[0]),
            Err(ProtocolError::Malformed(_))
        ));
        let dh = Group::standardized(0).unwrap();
        assert!(matches!(dh.decode(&[1]), Err(ProtocolError::Malformed(_))));
        assert!(matches!(dh.decode(&[2]), Err(ProtocolError::Malformed(_))));
    }
}
