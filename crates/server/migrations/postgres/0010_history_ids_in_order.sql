-- A state change's history row takes its id from a sequence instead of a random one, as on
-- SQLite (see ../sqlite/0010_history_ids_in_order.sql): history ids are never shown outside, and
-- a random id put every new entry of the primary key's index on a different page. The
-- sequence's ids stay below 2^40, where none of the random ids written before (2^40 and up) is.
CREATE SEQUENCE session_state_changes_ids MAXVALUE 1099511627775;

CREATE OR REPLACE FUNCTION sessions_state_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO session_state_changes (id, session_id, state, state_reason, at)
        VALUES (nextval('session_state_changes_ids'), NEW.id, NEW.state, NEW.state_reason,
                EXTRACT(EPOCH FROM now())::BIGINT);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
