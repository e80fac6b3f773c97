-- Kept in step with ../postgres/0011_callback_ids_in_order.sql.
-- A new callback event's id is counted (one more than the last ever given) instead of drawn at
-- random, and shown outside as a keyed permutation of it (src/support/permuted_ids.rs), so the
-- ids integrators see (`webhook-id`, callback.list, the dashboard) still reveal nothing about
-- how many callbacks the server sends or in what order. `id BIGINT PRIMARY KEY` is not SQLite's
-- rowid but a unique index beside it, and a random id put every new event's entry of that index
-- on a page of its own: one more page for the one writer to write to the log per state change.
--
-- The counter is a table, not the largest id: the retention sweep deletes old events, and ids
-- taken from what is left could be given again (a repeated `webhook-id` would make an integrator
-- that drops duplicates miss a callback). Counted ids stay below 2^40, where none of the random
-- ids written before (2^40 and up) is; those keep their ids and are shown as they are. At 1,000
-- callbacks a second, 2^40 lasts 34 years.
CREATE TABLE callback_event_counter (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last BIGINT NOT NULL
);
INSERT INTO callback_event_counter (one, last) VALUES (1, 0);

-- The permutation's key, drawn once per database (SQLite's generator is seeded by the
-- operating system's).
CREATE TABLE callback_event_id_key (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    key BLOB NOT NULL
);
INSERT INTO callback_event_id_key (one, key) VALUES (1, randomblob(32));

-- Every insert of an event, whoever makes it (the state trigger below, the dashboard's resend),
-- moves the counter past its id.
CREATE TRIGGER callback_events_counted AFTER INSERT ON callback_events
FOR EACH ROW WHEN NEW.id < 1099511627776
BEGIN
    UPDATE callback_event_counter SET last = NEW.id WHERE NEW.id > last;
END;

DROP TRIGGER sessions_state_callback;

CREATE TRIGGER sessions_state_callback AFTER UPDATE OF state ON sessions
FOR EACH ROW WHEN NEW.state <> OLD.state AND NEW.callback_url IS NOT NULL
BEGIN
    INSERT INTO callback_events (id, account_id, session_id, session_state, session_reference, url, created)
    VALUES ((SELECT last + 1 FROM callback_event_counter), NEW.account_id, NEW.id, NEW.state,
            NEW.reference, NEW.callback_url, CAST(strftime('%s', 'now') AS INTEGER));
END;
