//! SecurityInfos (ICAO 9303 Part 11 §9.2, BSI TR-03110 Part 3 App. A.1): DG14, EF.CardAccess.

use const_oid::ObjectIdentifier as Oid;

use super::{LdsError, children_bounded, object_identifier, outer, small_uint};
use crate::oid;
use crate::tlv::{Tlv, TlvReader, parse_expected};

/// Most SecurityInfo elements kept from one file; real chips carry fewer than ten.
const MAX_SECURITY_INFOS: usize = 64;

/// The key agreement of a PACE or chip authentication protocol OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAgreement {
    /// Diffie-Hellman (PKCS #3).
    Dh,
    /// Elliptic-curve Diffie-Hellman.
    Ecdh,
}

/// The PACE mapping of a PACE protocol OID (ICAO 9303 Part 11 §4.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaceMapping {
    Generic,
    Integrated,
    /// Chip Authentication Mapping (ECDH only).
    ChipAuthentication,
}

/// The secure-messaging cipher and MAC of a PACE or chip authentication protocol OID (the last arc:
/// 1 = 3DES-CBC-CBC, 2/3/4 = AES-CBC-CMAC-128/192/256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cipher {
    Tdes,
    Aes128,
    Aes192,
    Aes256,
}

/// Standardized domain parameters (ICAO 9303 Part 11 §9.5.1, BSI TR-03110 Part 3 Table 4), the
/// `parameterId` of a PACEInfo or the `standardizedDomainParameters` parameter of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StandardizedDomainParameters {
    /// 0: 1024-bit MODP group with 160-bit prime order subgroup (RFC 5114).
    Modp1024_160,
    /// 1: 2048-bit MODP group with 224-bit prime order subgroup (RFC 5114).
    Modp2048_224,
    /// 2: 2048-bit MODP group with 256-bit prime order subgroup (RFC 5114).
    Modp2048_256,
    /// 8
    NistP192,
    /// 9
    BrainpoolP192r1,
    /// 10
    NistP224,
    /// 11
    BrainpoolP224r1,
    /// 12
    NistP256,
    /// 13
    BrainpoolP256r1,
    /// 14
    BrainpoolP320r1,
    /// 15
    NistP384,
    /// 16
    BrainpoolP384r1,
    /// 17
    BrainpoolP512r1,
    /// 18
    NistP521,
}

impl StandardizedDomainParameters {
    /// The parameters for an identifier; `None` for the reserved 3–7 and above 18.
    pub fn from_id(id: u64) -> Option<StandardizedDomainParameters> {
        use StandardizedDomainParameters::*;
        Some(match id {
            0 => Modp1024_160,
            1 => Modp2048_224,
            2 => Modp2048_256,
            8 => NistP192,
            9 => BrainpoolP192r1,
            10 => NistP224,
            11 => BrainpoolP224r1,
            12 => NistP256,
            13 => BrainpoolP256r1,
            14 => BrainpoolP320r1,
            15 => NistP384,
            16 => BrainpoolP384r1,
            17 => BrainpoolP512r1,
            18 => NistP521,
            _ => return None,
        })
    }

    /// Whether these are elliptic-curve parameters (else a MODP group).
    pub fn is_elliptic_curve(self) -> bool {
        !matches!(
            self,
            StandardizedDomainParameters::Modp1024_160
                | StandardizedDomainParameters::Modp2048_224
                | StandardizedDomainParameters::Modp2048_256
        )
    }
}

/// Arc `index` (0-based) of an OID.
fn arc(oid: &Oid, index: usize) -> Option<u32> {
    oid.arc(index)
}

fn cipher_from_arc(arc: Option<u32>) -> Option<Cipher> {
    match arc? {
        1 => Some(Cipher::Tdes),
        2 => Some(Cipher::Aes128),
        3 => Some(Cipher::Aes192),
        4 => Some(Cipher::Aes256),
        _ => None,
    }
}

/// `PACEInfo` (ICAO 9303 Part 11 §9.2.1):
///
/// ```text
/// PACEInfo ::= SEQUENCE {
///   protocol    OBJECT IDENTIFIER (id-PACE-DH-GM-3DES-CBC-CBC | … | id-PACE-ECDH-CAM-AES-CBC-CMAC-256),
///   version     INTEGER,   -- MUST be 2
///   parameterId INTEGER OPTIONAL }  -- standardized domain parameters (Part 11 §9.5.1)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceInfo {
    pub protocol: Oid,
    pub version: u64,
    pub parameter_id: Option<u64>,
}

impl PaceInfo {
    /// DH or ECDH, from the protocol OID (`id-PACE-{DH,ECDH}-{GM,IM,CAM}-…`).
    pub fn key_agreement(&self) -> Option<KeyAgreement> {
        match arc(&self.protocol, 9)? {
            1 | 3 => Some(KeyAgreement::Dh),
            2 | 4 | 6 => Some(KeyAgreement::Ecdh),
            _ => None,
        }
    }

    /// Generic, integrated or chip authentication mapping, from the protocol OID.
    pub fn mapping(&self) -> Option<PaceMapping> {
        match arc(&self.protocol, 9)? {
            1 | 2 => Some(PaceMapping::Generic),
            3 | 4 => Some(PaceMapping::Integrated),
            6 => Some(PaceMapping::ChipAuthentication),
            _ => None,
        }
    }

    /// The secure-messaging cipher, from the protocol OID.
    pub fn cipher(&self) -> Option<Cipher> {
        cipher_from_arc(arc(&self.protocol, 10))
    }

    /// The standardized domain parameters named by `parameterId`.
    pub fn standardized_domain_parameters(&self) -> Option<StandardizedDomainParameters> {
        StandardizedDomainParameters::from_id(self.parameter_id?)
    }
}

/// `PACEDomainParameterInfo` (ICAO 9303 Part 11 §9.2.2): proprietary PACE domain parameters.
///
/// ```text
/// PACEDomainParameterInfo ::= SEQUENCE {
///   protocol        OBJECT IDENTIFIER (id-PACE-DH-GM | id-PACE-ECDH-GM | … ),
///   domainParameter AlgorithmIdentifier,
///   parameterId     INTEGER OPTIONAL }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceDomainParameterInfo {
    pub protocol: Oid,
    /// The AlgorithmIdentifier, DER as stored.
    pub domain_parameter: Vec<u8>,
    pub parameter_id: Option<u64>,
}

/// `ChipAuthenticationInfo` (ICAO 9303 Part 11 §9.2.5, BSI TR-03110 Part 3 App. A.1.1.2):
///
/// ```text
/// ChipAuthenticationInfo ::= SEQUENCE {
///   protocol OBJECT IDENTIFIER (id-CA-DH-3DES-CBC-CBC | … | id-CA-ECDH-AES-CBC-CMAC-256),
///   version  INTEGER,  -- 1 or 2
///   keyId    INTEGER OPTIONAL }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationInfo {
    pub protocol: Oid,
    pub version: u64,
    pub key_id: Option<u64>,
}

impl ChipAuthenticationInfo {
    /// DH or ECDH, from the protocol OID (`id-CA-{DH,ECDH}-…`).
    pub fn key_agreement(&self) -> Option<KeyAgreement> {
        match arc(&self.protocol, 9)? {
            1 => Some(KeyAgreement::Dh),
            2 => Some(KeyAgreement::Ecdh),
            _ => None,
        }
    }

    /// The secure-messaging cipher, from the protocol OID.
    pub fn cipher(&self) -> Option<Cipher> {
        cipher_from_arc(arc(&self.protocol, 10))
    }
}

/// `ChipAuthenticationDomainParameterInfo` (BSI TR-03110 Part 3 App. A.1.1.2).
///
/// ```text
/// ChipAuthenticationDomainParameterInfo ::= SEQUENCE {
///   protocol        OBJECT IDENTIFIER (id-CA-DH | id-CA-ECDH),
///   domainParameter AlgorithmIdentifier,
///   keyId           INTEGER OPTIONAL }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationDomainParameterInfo {
    pub protocol: Oid,
    /// The AlgorithmIdentifier, DER as stored.
    pub domain_parameter: Vec<u8>,
    pub key_id: Option<u64>,
}

/// `ChipAuthenticationPublicKeyInfo` (ICAO 9303 Part 11 §9.2.6, BSI TR-03110 Part 3 App. A.1.1.2):
///
/// ```text
/// ChipAuthenticationPublicKeyInfo ::= SEQUENCE {
///   protocol                   OBJECT IDENTIFIER (id-PK-DH | id-PK-ECDH),
///   chipAuthenticationPublicKey SubjectPublicKeyInfo,
///   keyId                      INTEGER OPTIONAL }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationPublicKeyInfo {
    pub protocol: Oid,
    /// The SubjectPublicKeyInfo, DER as stored (its parameters may be explicit curve parameters,
    /// or a `standardizedDomainParameters` identifier, BSI TR-03110 Part 3 App. A.2.1.1).
    pub subject_public_key_info: Vec<u8>,
    /// The SubjectPublicKeyInfo's algorithm (`id-ecPublicKey`, `dhpublicnumber`, `id-PK-ECDH`…).
    pub algorithm: Oid,
    pub key_id: Option<u64>,
}

/// `TerminalAuthenticationInfo` (BSI TR-03110 Part 3 App. A.1.1.3):
/// `SEQUENCE { protocol id-TA, version INTEGER, efCVCA FileID OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalAuthenticationInfo {
    pub version: u64,
}

/// `ActiveAuthenticationInfo` (ICAO 9303 Part 11 §9.2.8): present in DG14 when Active
/// Authentication uses ECDSA, naming the signature algorithm.
///
/// ```text
/// ActiveAuthenticationInfo ::= SEQUENCE {
///   protocol           OBJECT IDENTIFIER (id-AA = 2.23.136.1.1.5),
///   version            INTEGER,  -- MUST be 1
///   signatureAlgorithm OBJECT IDENTIFIER }  -- e.g. ecdsa-with-SHA256
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthenticationInfo {
    pub version: u32,
    pub signature_algorithm: Oid,
}

/// Any other SecurityInfo (Restricted Identification, EFDIRInfo, PACE-CAM public keys…), kept
/// as its DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSecurityInfo {
    pub protocol: Oid,
    pub raw: Vec<u8>,
}

/// `SecurityInfos ::= SET OF SecurityInfo` where
/// `SecurityInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER, requiredData ANY, optionalData ANY OPTIONAL }`
/// (ICAO 9303 Part 11 §9.2), sorted by kind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityInfos {
    pub pace_infos: Vec<PaceInfo>,
    pub pace_domain_parameter_infos: Vec<PaceDomainParameterInfo>,
    pub chip_authentication_infos: Vec<ChipAuthenticationInfo>,
    pub chip_authentication_domain_parameter_infos: Vec<ChipAuthenticationDomainParameterInfo>,
    pub chip_authentication_public_keys: Vec<ChipAuthenticationPublicKeyInfo>,
    pub terminal_authentication_infos: Vec<TerminalAuthenticationInfo>,
    pub active_authentication_info: Option<ActiveAuthenticationInfo>,
    pub other: Vec<UnknownSecurityInfo>,
}

/// The elements after the protocol OID: required data, then optional data.
struct Fields<'a> {
    reader: TlvReader<'a>,
    sequence_offset: usize,
}

impl<'a> Fields<'a> {
    fn required(&mut self, what: &'static str) -> Result<Tlv<'a>, LdsError> {
        self.reader
            .next_tlv()
            .transpose()?
            .ok_or(LdsError::Missing {
                offset: self.sequence_offset,
                what,
            })
    }

    fn optional_integer(&mut self, what: &'static str) -> Result<Option<u64>, LdsError> {
        match self.reader.optional(0x02)? {
            Some(tlv) => Ok(Some(small_uint(&tlv, what)?)),
            None => Ok(None),
        }
    }

    fn constructed(&mut self, what: &'static str) -> Result<Tlv<'a>, LdsError> {
        let tlv = self.required(what)?;
        if tlv.tag != 0x30 {
            return Err(LdsError::Invalid {
                offset: tlv.offset,
                what,
            });
        }
        Ok(tlv)
    }
}

impl SecurityInfos {
    /// Parses a DER `SET OF SecurityInfo` (tag `31`), e.g. EF.CardAccess or DG14's content.
    pub fn parse(data: &[u8]) -> Result<SecurityInfos, LdsError> {
        let set = parse_expected(data, 0x31)?;
        Self::from_set(&set)
    }

    fn from_set(set: &Tlv<'_>) -> Result<SecurityInfos, LdsError> {
        let mut infos = SecurityInfos::default();
        for element in children_bounded(set, MAX_SECURITY_INFOS, "SecurityInfo elements")? {
            infos.add(&element)?;
        }
        Ok(infos)
    }

    fn add(&mut self, element: &Tlv<'_>) -> Result<(), LdsError> {
        if element.tag != 0x30 {
            return Err(LdsError::Invalid {
                offset: element.offset,
                what: "SecurityInfo (not a SEQUENCE)",
            });
        }
        let mut reader = element.children();
        let protocol_tlv = reader.expect(0x06)?;
        let protocol = object_identifier(&protocol_tlv, "SecurityInfo protocol")?;
        let mut fields = Fields {
            reader,
            sequence_offset: element.offset,
        };
        let parent = protocol.parent();
        let grandparent = parent.as_ref().and_then(Oid::parent);

        if protocol == oid::ID_AA {
            let version = fields.required("ActiveAuthenticationInfo version")?;
            let version = u32::try_from(small_uint(&version, "ActiveAuthenticationInfo version")?)
                .map_err(|_| LdsError::Invalid {
                    offset: version.offset,
                    what: "ActiveAuthenticationInfo version",
                })?;
            let algorithm = fields.required("ActiveAuthenticationInfo signatureAlgorithm")?;
            let signature_algorithm =
                object_identifier(&algorithm, "ActiveAuthenticationInfo signatureAlgorithm")?;
            if self.active_authentication_info.is_some() {
                return Err(LdsError::TooMany {
                    offset: element.offset,
                    what: "ActiveAuthenticationInfo elements",
                    limit: 1,
                });
            }
            self.active_authentication_info = Some(ActiveAuthenticationInfo {
                version,
                signature_algorithm,
            });
        } else if parent == Some(oid::ID_PK) {
            let spki = fields.constructed("chipAuthenticationPublicKey")?;
            let (subject_public_key_info, algorithm) = if spki.children().optional(0x06)?.is_some()
            {
                // Some EF.CardSecurity files write the SubjectPublicKeyInfo's two elements
                // directly into the SecurityInfo (seen in JMRTD's test data): rebuild it.
                let key = fields.required("subjectPublicKey")?;
                if key.tag != 0x03 {
                    return Err(LdsError::Invalid {
                        offset: key.offset,
                        what: "subjectPublicKey",
                    });
                }
                let oid_tlv = spki.children().expect(0x06)?;
                let algorithm = object_identifier(&oid_tlv, "public key algorithm")?;
                (crate::tlv::sequence(&[spki.raw, key.raw]), algorithm)
            } else {
                (spki.raw.to_vec(), spki_algorithm(&spki)?)
            };
            let key_id = fields.optional_integer("keyId")?;
            self.chip_authentication_public_keys
                .push(ChipAuthenticationPublicKeyInfo {
                    protocol,
                    subject_public_key_info,
                    algorithm,
                    key_id,
                });
        } else if protocol == oid::ID_CA_DH || protocol == oid::ID_CA_ECDH {
            let domain_parameter = fields.constructed("domainParameter")?.raw.to_vec();
            let key_id = fields.optional_integer("keyId")?;
            self.chip_authentication_domain_parameter_infos.push(
                ChipAuthenticationDomainParameterInfo {
                    protocol,
                    domain_parameter,
                    key_id,
                },
            );
        } else if grandparent == Some(oid::ID_CA) {
            let version = fields.required("ChipAuthenticationInfo version")?;
            let version = small_uint(&version, "ChipAuthenticationInfo version")?;
            let key_id = fields.optional_integer("keyId")?;
            self.chip_authentication_infos.push(ChipAuthenticationInfo {
                protocol,
                version,
                key_id,
            });
        } else if protocol == oid::ID_TA {
            let version = fields.required("TerminalAuthenticationInfo version")?;
            let version = small_uint(&version, "TerminalAuthenticationInfo version")?;
            self.terminal_authentication_infos
                .push(TerminalAuthenticationInfo { version });
        } else if grandparent == Some(oid::ID_PACE) {
            let version = fields.required("PACEInfo version")?;
            let version = small_uint(&version, "PACEInfo version")?;
            let parameter_id = fields.optional_integer("parameterId")?;
            self.pace_infos.push(PaceInfo {
                protocol,
                version,
                parameter_id,
            });
        } else if parent == Some(oid::ID_PACE) {
            let domain_parameter = fields.constructed("domainParameter")?.raw.to_vec();
            let parameter_id = fields.optional_integer("parameterId")?;
            self.pace_domain_parameter_infos
                .push(PaceDomainParameterInfo {
                    protocol,
                    domain_parameter,
                    parameter_id,
                });
        } else {
            self.other.push(UnknownSecurityInfo {
                protocol,
                raw: element.raw.to_vec(),
            });
        }
        Ok(())
    }

    /// Number of SecurityInfo elements kept.
    pub fn len(&self) -> usize {
        self.pace_infos.len()
            + self.pace_domain_parameter_infos.len()
            + self.chip_authentication_infos.len()
            + self.chip_authentication_domain_parameter_infos.len()
            + self.chip_authentication_public_keys.len()
            + self.terminal_authentication_infos.len()
            + usize::from(self.active_authentication_info.is_some())
            + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The algorithm OID of a SubjectPublicKeyInfo: `SEQUENCE { SEQUENCE { OID, params }, BIT STRING }`.
fn spki_algorithm(spki: &Tlv<'_>) -> Result<Oid, LdsError> {
    let mut reader = spki.children();
    let algorithm = reader.expect(0x30)?;
    reader.expect(0x03)?;
    reader.finish()?;
    let oid_tlv = algorithm.children().expect(0x06)?;
    object_identifier(&oid_tlv, "public key algorithm")
}

pub(crate) fn public_key_algorithm(spki: &Tlv<'_>) -> Result<Oid, LdsError> {
    spki_algorithm(spki)
}

/// DG14: the SecurityInfos for Chip Authentication (and Active Authentication with ECDSA,
/// PACE, Terminal Authentication), ICAO 9303 Part 10 §4.7.14.
///
/// ```text
/// 6E { 31 SecurityInfos }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg14 {
    pub security_infos: SecurityInfos,
}

impl Dg14 {
    pub fn parse(data: &[u8]) -> Result<Dg14, LdsError> {
        let dg14 = outer(data, 0x6E)?;
        let mut reader = dg14.children();
        let set = reader.expect(0x31)?;
        reader.finish()?;
        Ok(Dg14 {
            security_infos: SecurityInfos::from_set(&set)?,
        })
    }
}

/// EF.CardAccess: the SecurityInfos for PACE, readable before any access control (ICAO 9303
/// Part 11 §9.2.1, Part 10 §3.11.3). Untagged: the file is the DER `SET OF SecurityInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAccess {
    pub security_infos: SecurityInfos,
}

impl CardAccess {
    pub fn parse(data: &[u8]) -> Result<CardAccess, LdsError> {
        let set = outer(data, 0x31)?;
        Ok(CardAccess {
            security_infos: SecurityInfos::from_set(&set)?,
        })
    }
}
