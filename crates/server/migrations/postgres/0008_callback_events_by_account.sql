-- Kept in step with ../sqlite/0008_callback_events_by_account.sql.
-- callback.list (without a session) read every account's callback events and sorted the
-- account's: its time grew with the whole table. This index gives one account's events newest
-- first, so the call reads only the events it answers with. Its key grows with `created`, so a
-- new event's entry lands at the end of its account's range, not on a random page.
CREATE INDEX callback_events_account ON callback_events (account_id, created, id);
