-- Kept in step with ../sqlite/0003_dashboard.sql (checked by a unit test in src/store/mod.rs).
-- The integrator's web dashboard: its sign-in sessions, the throttle on failed sign-ins,
-- optional TOTP two-factor with recovery codes, credentials' last use, and each session's
-- state history.

CREATE TABLE dashboard_sessions (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    second_factor_pending BOOLEAN NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    revoked BIGINT
);

CREATE INDEX dashboard_sessions_account ON dashboard_sessions (account_id);

CREATE TABLE dashboard_sign_in_failures (
    id BIGINT PRIMARY KEY,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX dashboard_sign_in_failures_subject ON dashboard_sign_in_failures (subject, at);

CREATE TABLE account_totp (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret BYTEA NOT NULL,
    enabled BIGINT,
    last_step BIGINT
);

CREATE TABLE account_recovery_codes (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    used BIGINT
);

ALTER TABLE credentials ADD COLUMN last_used BIGINT;

-- Every state a session entered, written by the triggers below (as the callback outbox is).
CREATE TABLE session_state_changes (
    id BIGINT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    state_reason TEXT,
    at BIGINT NOT NULL
);

CREATE INDEX session_state_changes_session ON session_state_changes (session_id, at);

CREATE FUNCTION sessions_state_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO session_state_changes (id, session_id, state, state_reason, at)
        VALUES (1099511627776 + floor(random() * 9006099743113215)::BIGINT, NEW.id, NEW.state,
                NEW.state_reason, EXTRACT(EPOCH FROM now())::BIGINT);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER sessions_state_history_insert AFTER INSERT ON sessions
FOR EACH ROW EXECUTE FUNCTION sessions_state_history();

CREATE TRIGGER sessions_state_history_update AFTER UPDATE OF state ON sessions
FOR EACH ROW EXECUTE FUNCTION sessions_state_history();
