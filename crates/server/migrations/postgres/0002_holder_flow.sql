-- Kept in step with ../sqlite/0002_holder_flow.sql (checked by a unit test in src/store/mod.rs).
-- The holder's flow: the server's active-authentication challenge, verification results,
-- personal-data retention, and the callback outbox.

ALTER TABLE sessions ADD COLUMN aa_challenge BYTEA;
ALTER TABLE sessions ADD COLUMN passive_authentication TEXT;
ALTER TABLE sessions ADD COLUMN active_authentication TEXT;
ALTER TABLE sessions ADD COLUMN chip_authentication TEXT;
ALTER TABLE sessions ADD COLUMN clone_check TEXT;
ALTER TABLE sessions ADD COLUMN face_match TEXT;
ALTER TABLE sessions ADD COLUMN face_match_score TEXT;
ALTER TABLE sessions ADD COLUMN rejection_reason TEXT;
ALTER TABLE sessions ADD COLUMN document_signer TEXT;
ALTER TABLE sessions ADD COLUMN completed BIGINT;
ALTER TABLE sessions ADD COLUMN verified BIGINT;
ALTER TABLE sessions ADD COLUMN personal_data_erased BIGINT;
ALTER TABLE accounts ADD COLUMN webhook_secret TEXT;

-- One row per state change of a session that has a callback_url: the outbox of callbacks.
-- Rows are written by the trigger below, in the same transaction as the state change, so no
-- change can be committed without its callback and no code path can forget one.
CREATE TABLE callback_events (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    session_state TEXT NOT NULL,
    session_reference TEXT,
    url TEXT NOT NULL,
    created BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    delivered BIGINT,
    abandoned BIGINT,
    last_status INTEGER,
    last_error TEXT
);

CREATE INDEX callback_events_due ON callback_events (next_attempt) WHERE delivered IS NULL AND abandoned IS NULL;
CREATE INDEX callback_events_session ON callback_events (session_id, created);

-- The expiry sweep looks only at unfinished sessions.
CREATE INDEX sessions_unfinished_expires ON sessions (expires) WHERE state IN ('CREATED', 'INITIATED');

CREATE FUNCTION sessions_state_callback() RETURNS trigger AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state AND NEW.callback_url IS NOT NULL THEN
        INSERT INTO callback_events (id, account_id, session_id, session_state, session_reference, url, created)
        VALUES (1099511627776 + floor(random() * 9006099743113215)::BIGINT, NEW.account_id, NEW.id, NEW.state,
                NEW.reference, NEW.callback_url, EXTRACT(EPOCH FROM now())::BIGINT);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER sessions_state_callback AFTER UPDATE OF state ON sessions
FOR EACH ROW EXECUTE FUNCTION sessions_state_callback();
