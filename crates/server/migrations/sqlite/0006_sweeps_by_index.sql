-- The background sweeps find their rows through an index instead of reading every session. On
-- SQLite they run on the one writer connection, so a scan held up every write behind it; and the
-- columns they test (completed, personal_data_erased) come after the portrait in each row, so the
-- scan read every stored portrait's overflow pages too: 44 ms at 112 815 sessions (growing with
-- the table), every 10 s; writes' p99.9 was 80-90 ms in a 10-minute load test at 1,000 req/s.

-- Verifications left COMPLETED (the process died): checked every session_sweep_seconds.
CREATE INDEX sessions_verifying ON sessions (completed) WHERE state = 'COMPLETED';
-- Personal data past its retention: checked every minute.
CREATE INDEX sessions_personal_data_kept ON sessions (created) WHERE personal_data_erased IS NULL;
-- Delivered or abandoned callback events past their retention: deleted every minute.
CREATE INDEX callback_events_finished ON callback_events (created) WHERE delivered IS NOT NULL OR abandoned IS NOT NULL;
