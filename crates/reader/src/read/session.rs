//! Sessions the chip ends: some chips end their secure-messaging session on an error (an absent
//! file, a refused command; Part 11 §9.8.8); a new one, and chip authentication again if it had
//! succeeded, lets the read go on.

use icao9303::lds::FileId;

use super::Progress;
use super::access::{AccessControl, AccessKey, PaceOffer, establish_access};
use super::channel::Channel;
use super::chip_authentication::{ChipAuthentication, run_chip_authentication};
use super::files::read_file;
use crate::ReadError;

/// How often one read may open a new session after the chip ended one (a chip that ends its
/// session on every error may do so once per absent file).
const MAX_REOPENS: usize = 16;

/// What it takes to open a session again after the chip dropped one: the access key and the
/// PACE offers (the DG14 to run chip authentication with again comes with each call).
pub(super) struct SessionRecovery<'a> {
    key: &'a AccessKey,
    pace: bool,
    offers: Vec<PaceOffer>,
    reopens: usize,
}

impl<'a> SessionRecovery<'a> {
    pub(super) fn new(key: &'a AccessKey, pace: bool, offers: Vec<PaceOffer>) -> Self {
        SessionRecovery {
            key,
            pace,
            offers,
            reopens: 0,
        }
    }

    /// Access control as at the start of the read (a new session, the eMRTD application
    /// selected).
    pub(super) fn establish(
        &self,
        ch: &mut Channel<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<AccessControl, ReadError> {
        establish_access(ch, self.key, self.pace, &self.offers, progress)
    }

    /// Opens a new session after the chip ended the last one, and proves the chip again if it
    /// had proven itself (files read after this point come from the same chip only if it does).
    pub(super) fn reopen(
        &mut self,
        ch: &mut Channel<'_>,
        why: &ReadError,
        chip_authentication: &mut ChipAuthentication,
        dg14: Option<&[u8]>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), ReadError> {
        self.reopens += 1;
        progress(Progress::Step(format!("{why}; authenticating again")));
        self.establish(ch, progress)?;
        if let (ChipAuthentication::Succeeded { .. }, Some(dg14)) = (&*chip_authentication, dg14) {
            progress(Progress::Step("chip authentication again".into()));
            *chip_authentication = match run_chip_authentication(ch, dg14) {
                ok @ ChipAuthentication::Succeeded { .. } => ok,
                ChipAuthentication::Failed { reason } => ChipAuthentication::Failed {
                    reason: format!(
                        "succeeded, then failed when repeated after the chip ended its session: {reason}"
                    ),
                },
                other => other,
            };
            if ch.sm.is_none() {
                self.establish(ch, progress)?;
            }
        }
        Ok(())
    }

    /// Whether an error means the chip dropped its session (so a new one may get further).
    pub(super) fn can_recover(&self, error: &ReadError) -> bool {
        self.reopens < MAX_REOPENS
            && matches!(
                error,
                ReadError::SessionTerminated { .. } | ReadError::SecureMessaging { .. }
            )
    }
}

/// [`read_file`], opening a new session whenever the chip ended the last one.
pub(super) fn read_file_recovering(
    ch: &mut Channel<'_>,
    access: &mut SessionRecovery<'_>,
    chip_authentication: &mut ChipAuthentication,
    dg14: Option<&[u8]>,
    file: FileId,
    block: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Vec<u8>>, ReadError> {
    loop {
        match read_file(ch, file, block, progress) {
            Err(e) if access.can_recover(&e) => {
                access.reopen(ch, &e, chip_authentication, dg14, progress)?;
            }
            other => return other,
        }
    }
}
