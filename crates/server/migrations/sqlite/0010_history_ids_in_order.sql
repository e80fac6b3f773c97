-- A state change's history row gets the next id, one more than the largest, instead of a random
-- one. History ids are never shown outside (the dashboard reads a session's history by its
-- session), so nothing is learnt from their order. `id BIGINT PRIMARY KEY` is not SQLite's rowid
-- but a unique index beside it, and a random id put every new entry of that index on a different
-- page: one more page written to the log per state change, in every commit of the one writer.
-- The throughput bench's session.abort (2026-12-07, alternated, four runs each): the writer's
-- time per abort 96 / 95 / 94 / 92 µs with random ids, 92 / 83 / 87 / 98 µs in order (4.5% less
-- on average; single runs overlap). One writer inserts these rows,
-- so the largest id cannot change between reading it and using it; ids freed by a deleted
-- session's history may be used again, and nothing refers to them.
DROP TRIGGER sessions_state_history_update;

CREATE TRIGGER sessions_state_history_update AFTER UPDATE OF state ON sessions
FOR EACH ROW WHEN NEW.state <> OLD.state
BEGIN
    INSERT INTO session_state_changes (id, session_id, state, state_reason, at)
    VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM session_state_changes), NEW.id, NEW.state,
            NEW.state_reason, CAST(strftime('%s', 'now') AS INTEGER));
END;
