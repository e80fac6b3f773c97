-- Kept in step with ../sqlite/0013_current_state_from_row.sql.
-- A session's current state and its time are read from its own row, as its first state CREATED
-- already is (migration 7): a change of state records its time in `state_changed`, and writes a
-- history row only for the state it leaves, with the time that state began, and only if that
-- state is not CREATED (whose time is `created`). So the history still lists every state, and a
-- session leaving CREATED (the holder starting, the integrator aborting, the expiry sweep)
-- writes no history row at all.
--
-- Sessions changed before this migration have no `state_changed` (NULL): their current state
-- already has its stored row, so their next change writes none for the state it leaves.

ALTER TABLE sessions ADD COLUMN state_changed BIGINT;

CREATE FUNCTION sessions_state_changed() RETURNS trigger AS $$
BEGIN
    NEW.state_changed := EXTRACT(EPOCH FROM now())::BIGINT;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER sessions_state_changed BEFORE UPDATE OF state ON sessions
FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
EXECUTE FUNCTION sessions_state_changed();

CREATE OR REPLACE FUNCTION sessions_state_history() RETURNS trigger AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND OLD.state_changed IS NOT NULL THEN
        INSERT INTO session_state_changes (id, session_id, state, state_reason, at)
        VALUES (nextval('session_state_changes_ids'), OLD.id, OLD.state, OLD.state_reason,
                OLD.state_changed);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
