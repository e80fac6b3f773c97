-- A session's first state, CREATED, is no longer written to session_state_changes when the
-- session is inserted: its time is the session's own `created`, and the history is read with it
-- (store::dashboard). The per-row insert trigger cost session.create a second row, its two indexes
-- and its foreign-key check: 5,000 rows inserted in one statement spent 96 of 242 ms in it.
-- Later states are still written by sessions_state_history_update.
DROP TRIGGER sessions_state_history_insert ON sessions;
