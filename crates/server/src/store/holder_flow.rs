//! The holder's side of a session: what the reader API and the verification write. Each state
//! change is one conditional `UPDATE` on the state it leaves, so a second submit, a race between
//! two instances or an expiry in between loses cleanly (zero rows).

use sqlx::{AssertSqlSafe, Row};

use super::sessions::SESSION_COLUMNS;
use super::{HolderFlow, SessionRow};
use super::{Store, StoreError, Write};
use crate::model::{
    CheckResult, CloneCheck, DocumentType, FaceMatch, Reason, Sex, State, format_face_score,
};

/// `reader.start`: CREATED (or INITIATED again) → INITIATED with a new challenge.
pub(super) const START_READING_SQL: &str = concat!(
    "UPDATE sessions SET state = 'INITIATED', aa_challenge = $1, user_ip = $2, user_agent = $3 \
     WHERE id = $4",
    unfinished_by_id_sql!(5)
);

/// `reader.submit`: INITIATED → COMPLETED, on the challenge the session still holds (`expires`
/// as a `+ 0` expression: see [`unfinished_by_id_sql!`]).
pub(super) const BEGIN_VERIFICATION_SQL: &str = "UPDATE sessions SET state = 'COMPLETED', completed = $4, user_ip = $1, user_agent = $2 \
     WHERE id = $3 AND state = 'INITIATED' AND expires + 0 > $4 AND aa_challenge = $5";

/// The holder gives up: an unfinished, unexpired session → ABORTED.
pub(super) const ABORT_BY_HOLDER_SQL: &str = concat!(
    "UPDATE sessions SET state = 'ABORTED', state_reason = $1 WHERE id = $2",
    unfinished_by_id_sql!(3)
);

/// The retention eraser (every minute): through `sessions_personal_data_kept`.
pub(super) const ERASE_PERSONAL_DATA_SQL: &str = "UPDATE sessions SET personal_data_erased = $1, user_ip = NULL, user_agent = NULL, \
     given_names = NULL, surname = NULL, nationality = NULL, sex = NULL, date_of_birth = NULL, \
     personal_number = NULL, document_type = NULL, document_number = NULL, expiry_date = NULL, \
     issuing_country = NULL, issuer = NULL, portrait = NULL, face = NULL \
     WHERE personal_data_erased IS NULL AND created <= $2 AND state <> 'COMPLETED'";

/// Interrupted verifications (every `session_sweep_seconds`): through `sessions_verifying`.
pub(super) const FAIL_INTERRUPTED_SQL: &str = "UPDATE sessions SET state = 'FAILED', state_reason = 'VERIFICATION_INTERRUPTED' \
     WHERE state = 'COMPLETED' AND completed IS NOT NULL AND completed < $1";

/// Everything a finished verification writes onto the session.
#[derive(Debug, Clone, Default)]
pub struct VerificationRecord {
    /// APPROVED, REJECTED or FAILED.
    pub state: Option<State>,
    pub state_reason: Option<Reason>,
    pub rejection_reason: Option<Reason>,
    pub passive_authentication: Option<CheckResult>,
    pub active_authentication: Option<CheckResult>,
    pub chip_authentication: Option<CheckResult>,
    pub clone_check: Option<CloneCheck>,
    pub face_match: Option<FaceMatch>,
    /// The face descriptors' distance.
    pub face_match_score: Option<f64>,
    pub document_signer: Option<String>,
    pub verified: i64,
    pub given_names: Option<String>,
    pub surname: Option<String>,
    pub nationality: Option<String>,
    pub sex: Option<Sex>,
    pub date_of_birth: Option<String>,
    pub personal_number: Option<String>,
    pub document_type: Option<DocumentType>,
    pub document_number: Option<String>,
    pub expiry_date: Option<String>,
    pub issuing_country: Option<String>,
    pub issuer: Option<String>,
    pub portrait: Option<Vec<u8>>,
    pub face: Option<Vec<u8>>,
}

impl Store {
    /// The session (any account) by id, without applying expiry: for the verification step,
    /// which works on a session it has already moved to COMPLETED.
    pub async fn session_by_id(&self, id: i64) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        with_pool!(self, |pool| {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                None => None,
                Some(r) => Some(session_from_row!(r)),
            })
        })
    }

    /// CREATED (or INITIATED again, e.g. after a page reload) → INITIATED with a fresh
    /// active-authentication challenge and the reading client's address. A new challenge
    /// replaces the old one, so a response to the old one no longer verifies.
    pub async fn start_reading(
        &self,
        id: i64,
        aa_challenge: &[u8],
        user_ip: Option<&str>,
        user_agent: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(
                START_READING_SQL,
            )
            .bind(aa_challenge)
            .bind(user_ip)
            .bind(user_agent)
            .bind(id)
            .bind(now))?;
            Ok(rows == 1)
        }
    }

    /// INITIATED → COMPLETED: the submit won; only one ever does. `aa_challenge` must still be
    /// the session's challenge (a `reader.start` in between issued a new one).
    pub async fn begin_verification(
        &self,
        id: i64,
        aa_challenge: Option<&[u8]>,
        user_ip: Option<&str>,
        user_agent: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(
                BEGIN_VERIFICATION_SQL,
            )
            .bind(user_ip)
            .bind(user_agent)
            .bind(id)
            .bind(now)
            .bind(aa_challenge))?;
            Ok(rows == 1)
        }
    }

    /// COMPLETED → the record's state, with every field it carries.
    pub async fn finish_verification(
        &self,
        id: i64,
        r: &VerificationRecord,
    ) -> Result<bool, StoreError> {
        let state = r.state.unwrap_or(State::Failed);
        {
            let rows = write_query!(self, execute Write::new(
                "UPDATE sessions SET state = $1, state_reason = $2, rejection_reason = $3, \
                 passive_authentication = $4, active_authentication = $5, chip_authentication = $6, \
                 clone_check = $7, document_signer = $8, verified = $9, given_names = $10, surname = $11, \
                 nationality = $12, sex = $13, date_of_birth = $14, personal_number = $15, \
                 document_type = $16, document_number = $17, expiry_date = $18, issuing_country = $19, \
                 issuer = $20, portrait = $21, face = $22, face_match = $23, face_match_score = $24 \
                 WHERE id = $25 AND state = 'COMPLETED'",
            )
            .bind(state.as_str())
            .bind(r.state_reason.map(Reason::as_str))
            .bind(r.rejection_reason.map(Reason::as_str))
            .bind(r.passive_authentication.map(CheckResult::as_str))
            .bind(r.active_authentication.map(CheckResult::as_str))
            .bind(r.chip_authentication.map(CheckResult::as_str))
            .bind(r.clone_check.map(CloneCheck::as_str))
            .bind(&r.document_signer)
            .bind(r.verified)
            .bind(&r.given_names)
            .bind(&r.surname)
            .bind(&r.nationality)
            .bind(r.sex.map(Sex::as_str))
            .bind(&r.date_of_birth)
            .bind(&r.personal_number)
            .bind(r.document_type.map(DocumentType::as_str))
            .bind(&r.document_number)
            .bind(&r.expiry_date)
            .bind(&r.issuing_country)
            .bind(&r.issuer)
            .bind(&r.portrait)
            .bind(&r.face)
            .bind(r.face_match.map(FaceMatch::as_str))
            .bind(r.face_match_score.map(format_face_score))
            .bind(id))?;
            Ok(rows == 1)
        }
    }

    /// CREATED or INITIATED → ABORTED by the holder.
    pub async fn abort_by_holder(
        &self,
        id: i64,
        reason: Reason,
        now: i64,
    ) -> Result<bool, StoreError> {
        {
            let rows = write_query!(self, execute Write::new(ABORT_BY_HOLDER_SQL)
            .bind(reason.as_str())
            .bind(id)
            .bind(now))?;
            Ok(rows == 1)
        }
    }

    /// Erases the identity fields, portrait, face and client address of every session created
    /// at or before `created_before` that is not being verified right now; the session, its
    /// state and its check results stay. Returns how many sessions were erased.
    pub async fn erase_personal_data(
        &self,
        created_before: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let changed = write_query!(self, execute Write::new(ERASE_PERSONAL_DATA_SQL)
            .persistent(false)
            .bind(now)
            .bind(created_before))?;
        Ok(changed)
    }

    /// Sessions left COMPLETED since before `completed_before` (the process verifying them
    /// died): they end FAILED with state_reason `VERIFICATION_INTERRUPTED`, so none waits for
    /// ever and the integrator hears of it through the callback.
    pub async fn fail_interrupted_verifications(
        &self,
        completed_before: i64,
    ) -> Result<u64, StoreError> {
        let changed = write_query!(self, execute Write::new(FAIL_INTERRUPTED_SQL)
            .persistent(false)
            .bind(completed_before))?;
        Ok(changed)
    }

    /// A cheap fingerprint of the trust entries: their count and the newest one's creation
    /// time. Entries are only ever added, so a change of either means the store changed.
    pub async fn trust_entries_version(&self) -> Result<(i64, i64), StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, COALESCE(MAX(created), 0) AS newest FROM trust_entries",
            )
            .fetch_one(pool)
            .await?;
            Ok((row.try_get("n")?, row.try_get("newest")?))
        })
    }
}
