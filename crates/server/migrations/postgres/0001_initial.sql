-- Kept in step with ../sqlite/0001_initial.sql (checked by a unit test in src/store/mod.rs).
-- Times are Unix seconds (UTC) in BIGINT columns on both backends.

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE credentials (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL UNIQUE,
    secret_hash BYTEA NOT NULL,
    name TEXT,
    created BIGINT NOT NULL,
    revoked BIGINT
);

CREATE TABLE sessions (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    state_reason TEXT,
    reference TEXT,
    callback_url TEXT,
    face_verification BOOLEAN NOT NULL,
    passport_only BOOLEAN NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    user_ip TEXT,
    user_agent TEXT,
    given_names TEXT,
    surname TEXT,
    nationality TEXT,
    sex TEXT,
    date_of_birth TEXT,
    personal_number TEXT,
    document_type TEXT,
    document_number TEXT,
    expiry_date TEXT,
    issuing_country TEXT,
    issuer TEXT,
    portrait BYTEA,
    face BYTEA
);

CREATE INDEX sessions_account_created ON sessions (account_id, created, id);

CREATE TABLE trust_entries (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    der BYTEA NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created BIGINT NOT NULL
);
