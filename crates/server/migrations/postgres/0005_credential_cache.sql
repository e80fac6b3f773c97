-- Credentials checked from memory (PostgreSQL, where several server instances share one
-- database), with a revocation still refused at once on every instance:
--
-- * credential_generation counts revocations; a revocation bumps it in its own transaction and
--   notifies the channel passport_reader_credentials with "<schema> <generation>".
-- * each running instance holds a lease in credential_cache_instances, renewed every few seconds,
--   and acknowledges each generation once it has dropped its cached credentials. An instance
--   keeps credentials in memory only while its lease is valid and its LISTEN connection is up.
-- * the revocation returns once every instance with a live lease has acknowledged its generation
--   (an instance that stopped answering is waited for until its lease runs out, at most ten
--   seconds, after which it no longer serves from memory).
CREATE TABLE credential_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO credential_generation (id, generation) VALUES (1, 0);

CREATE TABLE credential_cache_instances (
    instance TEXT PRIMARY KEY,
    lease_until TIMESTAMPTZ NOT NULL,
    acked BIGINT NOT NULL
);
