//! The domain's vocabulary: every value whose spelling is part of the API (and of the stored
//! data) is an enum here, spelled once. The API's method table lists the enums' `NAMES`, the
//! store writes `as_str()` and reads with `parse`, so a spelling cannot drift between them.

/// A value spelled as the API spells it.
pub trait Spelled: Sized + Copy + 'static {
    const NAMES: &'static [&'static str];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
}

macro_rules! api_enum {
    (
        $(#[$m:meta])*
        $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),* $(,)? }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),* }

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

        impl Spelled for $name {
            const NAMES: &'static [&'static str] = $name::NAMES;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<$name> {
                $name::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

api_enum!(
    /// Where a session is in its life. Spelled as PassportReader spells it, so existing
    /// integrations keep working.
    State {
        /// Created by the integrator; the holder has not started.
        Created => "CREATED",
        /// The holder's reading client has started.
        Initiated => "INITIATED",
        /// The chip was read; the verification outcome is being decided.
        Completed => "COMPLETED",
        Approved => "APPROVED",
        Rejected => "REJECTED",
        /// Reading or verification could not be carried out.
        Failed => "FAILED",
        /// The holder or the integrator gave up, or the session expired before it finished.
        Aborted => "ABORTED",
    }
);

/// The unfinished states as SQL, `('CREATED', 'INITIATED')`: a macro so that queries stay
/// `&'static str` through `concat!`; a test checks it against [`State::is_finished`].
macro_rules! unfinished_states_sql {
    () => {
        "('CREATED', 'INITIATED')"
    };
}
pub(crate) use unfinished_states_sql;

impl State {
    /// Finished sessions no longer change by the holder's or the integrator's hand, and do not
    /// expire.
    pub fn is_finished(self) -> bool {
        !matches!(self, State::Created | State::Initiated)
    }
}

api_enum!(
    /// Why a session is in its state (`state_reason`), and why it was REJECTED or FAILED
    /// (`rejection_reason`): stable codes.
    Reason {
        /// The session passed `expires` before it finished.
        Expired => "EXPIRED",
        /// The integrator aborted it with `session.abort`.
        AbortedByIntegrator => "ABORTED_BY_INTEGRATOR",
        /// The holder gave up in their reading client (`reader.abort`).
        AbortedByHolder => "ABORTED_BY_HOLDER",
        /// FAILED: the verification could not be carried out on the server's side.
        VerificationError => "VERIFICATION_ERROR",
        /// FAILED: the process verifying the session died before it finished.
        VerificationInterrupted => "VERIFICATION_INTERRUPTED",
        NoTrustedCsca => "NO_TRUSTED_CSCA",
        UntrustedDocumentSigner => "UNTRUSTED_DOCUMENT_SIGNER",
        DocumentSignerExpired => "DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME",
        CscaNotValid => "CSCA_NOT_VALID_AT_SIGNING_TIME",
        DocumentSignerRevoked => "DOCUMENT_SIGNER_REVOKED",
        SodSignatureInvalid => "SOD_SIGNATURE_INVALID",
        DataGroupHashMismatch => "DATA_GROUP_HASH_MISMATCH",
        PassiveAuthenticationFailed => "PASSIVE_AUTHENTICATION_FAILED",
        ActiveAuthenticationFailed => "ACTIVE_AUTHENTICATION_FAILED",
        ActiveAuthenticationMissing => "ACTIVE_AUTHENTICATION_MISSING",
        ChipAuthenticationFailed => "CHIP_AUTHENTICATION_FAILED",
        CloneCheckNotProven => "CLONE_CHECK_NOT_PROVEN",
        MrzCheckDigitsInvalid => "MRZ_CHECK_DIGITS_INVALID",
        AccessKeyMismatch => "ACCESS_KEY_MISMATCH",
        DocumentExpired => "DOCUMENT_EXPIRED",
        NotAPassport => "NOT_A_PASSPORT",
        FaceMismatch => "FACE_MISMATCH",
        NoFaceInSelfie => "NO_FACE_IN_SELFIE",
        NoFaceInPortrait => "NO_FACE_IN_PORTRAIT",
        MultipleFacesInSelfie => "MULTIPLE_FACES_IN_SELFIE",
        MultipleFacesInPortrait => "MULTIPLE_FACES_IN_PORTRAIT",
        FaceNotChecked => "FACE_NOT_CHECKED",
    }
);

impl Reason {
    /// The codes that end a session FAILED rather than REJECTED.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Reason::VerificationError | Reason::VerificationInterrupted
        )
    }

    /// The codes of `rejection_reason` (REJECTED and FAILED), not the other state reasons.
    pub fn is_rejection(self) -> bool {
        !matches!(
            self,
            Reason::Expired | Reason::AbortedByIntegrator | Reason::AbortedByHolder
        )
    }
}

api_enum!(
    /// The result of one chip check (passive, active or chip authentication).
    CheckResult {
        Passed => "PASSED",
        Failed => "FAILED",
        /// The document does not offer the check.
        NotSupported => "NOT_SUPPORTED",
        NotChecked => "NOT_CHECKED",
    }
);

api_enum!(
    /// Whether the chip was proven genuine (not a clone) to this server.
    CloneCheck {
        /// By active authentication on this server's challenge, or chip authentication this
        /// server ran over the relay against DG14's verified key.
        Proven => "PROVEN",
        NotProven => "NOT_PROVEN",
        Failed => "FAILED",
    }
);

api_enum!(
    /// The holder's selfie against the chip's portrait.
    FaceMatch {
        Passed => "PASSED",
        Failed => "FAILED",
        NoFace => "NO_FACE",
        MultipleFaces => "MULTIPLE_FACES",
        NotChecked => "NOT_CHECKED",
    }
);

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

/// The face comparison's distance (lower is more alike), as the API and the store spell it:
/// a decimal string with four places.
pub fn format_face_score(distance: f64) -> String {
    format!("{distance:.4}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn round_trips<T: Spelled + PartialEq + std::fmt::Debug>(all: &[T]) {
        assert_eq!(all.len(), T::NAMES.len());
        for (value, name) in all.iter().zip(T::NAMES) {
            assert_eq!(value.as_str(), *name);
            assert_eq!(T::parse(name), Some(*value));
            assert_eq!(T::parse(&name.to_lowercase()), None);
        }
    }

    /// The API's spellings, written out: a change here is a change of the API.
    #[test]
    fn spellings_are_the_apis() {
        round_trips(State::ALL);
        round_trips(Reason::ALL);
        round_trips(CheckResult::ALL);
        round_trips(CloneCheck::ALL);
        round_trips(FaceMatch::ALL);
        round_trips(Sex::ALL);
        round_trips(DocumentType::ALL);
        assert_eq!(
            State::NAMES,
            [
                "CREATED",
                "INITIATED",
                "COMPLETED",
                "APPROVED",
                "REJECTED",
                "FAILED",
                "ABORTED"
            ]
        );
        assert_eq!(
            CheckResult::NAMES,
            ["PASSED", "FAILED", "NOT_SUPPORTED", "NOT_CHECKED"]
        );
        assert_eq!(CloneCheck::NAMES, ["PROVEN", "NOT_PROVEN", "FAILED"]);
        assert_eq!(
            FaceMatch::NAMES,
            [
                "PASSED",
                "FAILED",
                "NO_FACE",
                "MULTIPLE_FACES",
                "NOT_CHECKED"
            ]
        );
        assert_eq!(Sex::NAMES, ["MALE", "FEMALE", "UNSPECIFIED"]);
        assert_eq!(
            DocumentType::NAMES,
            ["PASSPORT", "ID_CARD", "RESIDENCE_PERMIT", "VISA", "OTHER"]
        );
        assert_eq!(Reason::Expired.as_str(), "EXPIRED");
        assert_eq!(
            Reason::DocumentSignerExpired.as_str(),
            "DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME"
        );
        assert_eq!(Reason::ALL.len(), 27);
    }

    #[test]
    fn the_unfinished_states_sql_is_the_unfinished_states() {
        let unfinished: Vec<String> = State::ALL
            .iter()
            .filter(|s| !s.is_finished())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(
            unfinished_states_sql!(),
            format!("({})", unfinished.join(", "))
        );
    }

    #[test]
    fn face_scores_have_four_places() {
        assert_eq!(format_face_score(0.31254), "0.3125");
        assert_eq!(format_face_score(1.0), "1.0000");
    }
}
