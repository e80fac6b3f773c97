//! The session as stored, and the enums whose spelling is part of the API.

/// Where a session is in its life. Spelled as PassportReader spells it, so existing integrations
/// keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Created by the integrator; the holder has not started.
    Created,
    /// The holder's reading client has started.
    Initiated,
    /// The chip was read; the verification outcome is being decided.
    Completed,
    Approved,
    Rejected,
    /// Reading or verification could not be carried out.
    Failed,
    /// The holder or the integrator gave up, or the session expired before it finished.
    Aborted,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Created,
        State::Initiated,
        State::Completed,
        State::Approved,
        State::Rejected,
        State::Failed,
        State::Aborted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "CREATED",
            State::Initiated => "INITIATED",
            State::Completed => "COMPLETED",
            State::Approved => "APPROVED",
            State::Rejected => "REJECTED",
            State::Failed => "FAILED",
            State::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Finished sessions no longer change by the holder's or the integrator's hand, and do not
    /// expire. The SQL in the store spells the unfinished set as `('CREATED', 'INITIATED')`.
    pub fn is_finished(self) -> bool {
        !matches!(self, State::Created | State::Initiated)
    }
}

/// Why a session is in its state, where the state alone does not say.
pub mod state_reason {
    /// The session passed `expires` before it finished.
    pub const EXPIRED: &str = "EXPIRED";
    /// The integrator aborted it with `session.abort`.
    pub const ABORTED_BY_INTEGRATOR: &str = "ABORTED_BY_INTEGRATOR";
    /// The holder gave up in their reading client (`reader.abort`).
    pub const ABORTED_BY_HOLDER: &str = "ABORTED_BY_HOLDER";
    /// The verification could not be carried out on the server's side.
    pub const VERIFICATION_ERROR: &str = "VERIFICATION_ERROR";
}

macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

api_enum!(
    /// Sex as printed in the MRZ (ICAO 9303-4: F, M or `<`).
    Sex { Male => "MALE", Female => "FEMALE", Unspecified => "UNSPECIFIED" }
);

api_enum!(
    /// Kind of travel document, from the MRZ document code (ICAO 9303-4/5).
    DocumentType {
        Passport => "PASSPORT",
        IdCard => "ID_CARD",
        ResidencePermit => "RESIDENCE_PERMIT",
        Visa => "VISA",
        Other => "OTHER",
    }
);

/// One session row. Times are Unix seconds (UTC); dates are `YYYY-MM-DD` text. Everything the
/// holder's flow fills in later is `None` until then.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: i64,
    pub account_id: i64,
    pub state: State,
    pub state_reason: Option<String>,
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub face_verification: bool,
    pub passport_only: bool,
    pub created: i64,
    pub expires: i64,
    pub user_ip: Option<String>,
    pub user_agent: Option<String>,
    pub given_names: Option<String>,
    pub surname: Option<String>,
    /// ISO 3166 alpha-2.
    pub nationality: Option<String>,
    pub sex: Option<Sex>,
    pub date_of_birth: Option<String>,
    pub personal_number: Option<String>,
    pub document_type: Option<DocumentType>,
    pub document_number: Option<String>,
    pub expiry_date: Option<String>,
    /// ISO 3166 alpha-2.
    pub issuing_country: Option<String>,
    pub issuer: Option<String>,
    /// Image bytes as read from the chip (DG2).
    pub portrait: Option<Vec<u8>>,
    /// Image bytes of the holder's live face capture.
    pub face: Option<Vec<u8>>,
    /// What the reader API and the verification wrote (migration 0002).
    pub holder_flow: HolderFlow,
}

/// The holder's flow on a session: the server's active-authentication challenge and the
/// verification outcome. Check results are `PASSED`, `FAILED`, `NOT_SUPPORTED` or
/// `NOT_CHECKED`; times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderFlow {
    /// The challenge issued by `reader.start`; never shown by the API.
    pub aa_challenge: Option<Vec<u8>>,
    pub passive_authentication: Option<String>,
    pub active_authentication: Option<String>,
    pub chip_authentication: Option<String>,
    pub clone_check: Option<String>,
    /// Selfie against the chip's portrait: PASSED, FAILED, NO_FACE, MULTIPLE_FACES, NOT_CHECKED.
    pub face_match: Option<String>,
    /// Distance between the two faces' descriptors, a decimal string (lower is more alike).
    pub face_match_score: Option<String>,
    pub rejection_reason: Option<String>,
    /// Subject of the Document Signer certificate.
    pub document_signer: Option<String>,
    pub verified: Option<i64>,
    pub personal_data_erased: Option<i64>,
}

/// What `session.create` stores.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: i64,
    pub account_id: i64,
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub face_verification: bool,
    pub passport_only: bool,
    pub created: i64,
    pub expires: i64,
    /// SHA-256 of the session token; the token itself is never stored.
    pub token_hash: Vec<u8>,
}

/// Filters and cursor of `session.list`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub state: Option<State>,
    pub reference: Option<String>,
    /// Exclusive bounds on `created`, Unix seconds.
    pub created_after: Option<i64>,
    pub created_before: Option<i64>,
    /// Continue after this session (newest first).
    pub after_id: Option<i64>,
    pub limit: i64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn enum_spellings_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for s in Sex::ALL {
            assert_eq!(Sex::parse(s.as_str()), Some(*s));
        }
        for d in DocumentType::ALL {
            assert_eq!(DocumentType::parse(d.as_str()), Some(*d));
        }
        assert_eq!(State::parse("created"), None);
    }
}
