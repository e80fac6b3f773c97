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
