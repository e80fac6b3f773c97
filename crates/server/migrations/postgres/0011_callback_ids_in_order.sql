-- Kept in step with ../sqlite/0011_callback_ids_in_order.sql, which says why: a new callback
-- event's id is counted and shown outside as a keyed permutation of it. Here the counter is a
-- sequence (concurrent transactions never share a value, and it never goes back), capped below
-- 2^40 like SQLite's.
CREATE SEQUENCE callback_event_counter MAXVALUE 1099511627775;

-- The permutation's key, drawn once per database from two version-4 UUIDs (PostgreSQL's strong
-- random source; 244 random bits).
CREATE TABLE callback_event_id_key (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    key BYTEA NOT NULL
);
INSERT INTO callback_event_id_key (one, key)
VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

CREATE OR REPLACE FUNCTION sessions_state_callback() RETURNS trigger AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NEW.callback_url IS NOT NULL THEN
        INSERT INTO callback_events (id, account_id, session_id, session_state, session_reference, url, created)
        VALUES (nextval('callback_event_counter'), NEW.account_id, NEW.id, NEW.state,
                NEW.reference, NEW.callback_url, EXTRACT(EPOCH FROM now())::BIGINT);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
