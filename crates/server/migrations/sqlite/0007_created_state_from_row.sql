-- A session's first state, CREATED, is no longer written to session_state_changes when the
-- session is inserted: its time is the session's own `created`, and the history is read with it
-- (store::dashboard). The per-row trigger cost every session.create a second row and its two
-- indexes on the one writer connection. Later states are still written by
-- sessions_state_history_update.
DROP TRIGGER sessions_state_history_insert;
