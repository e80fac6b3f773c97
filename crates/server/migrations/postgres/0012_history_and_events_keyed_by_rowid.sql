-- Kept in step with ../sqlite/0012_history_and_events_keyed_by_rowid.sql, which rebuilds the state
-- history and the callback outbox so that their ids are SQLite's rowid instead of a unique index
-- beside it. PostgreSQL has no rowid (a table's primary key is its only index on the id either
-- way), so there is nothing to change here; the migration is kept so both backends share their
-- numbering.
SELECT 1;
