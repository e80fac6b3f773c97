-- An account's unfinished sessions past their expiry: what session.list and session.get check
-- before they answer. Without this index SQLite answered from sessions_account_created and read
-- every session of the account (46 ms at 15 800 sessions; 1 ms with it).
CREATE INDEX sessions_unfinished_account ON sessions (account_id, expires) WHERE state IN ('CREATED', 'INITIATED');
