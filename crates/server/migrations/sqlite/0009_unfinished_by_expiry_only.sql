-- Kept in step with ../postgres/0009_unfinished_by_expiry_only.sql.
-- Every change of a session's state, and every new session, wrote two entries of the partial
-- indexes of unfinished sessions: sessions_unfinished_expires (the expiry sweep's) and
-- sessions_unfinished_account (migration 4: session.list's check for the account's expired
-- sessions). On SQLite's one writer connection each is one more page per state change. The check
-- now goes through sessions_unfinished_expires: the unfinished sessions already past their
-- expiry, of every account, are the few the sweep (every session_sweep_seconds) has not reached
-- yet, and the account is checked on each of them. Without this index or that one, SQLite read
-- every session of the account (46 ms at 15,800 sessions).
DROP INDEX sessions_unfinished_account;
