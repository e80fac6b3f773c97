-- PostgreSQL's migration 0005 lets several server instances check credentials from memory and
-- still refuse a revoked pair at once on each. SQLite serves one machine and checks each request's
-- credentials in the database (a revocation may come from the command line, another process), so
-- it needs no table for this; the migration is kept so both backends share their numbering.
SELECT 1;
