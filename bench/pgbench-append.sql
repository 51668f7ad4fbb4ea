-- The append path's row shape for pgbench (scenario 5): lock and bump one session's head and its
-- last_event_at (the created_at rule of the partitioned log), insert one message.delta event at the
-- new seq with that created_at, in one transaction. Client N writes to the session whose id ends
-- in N (the bench creates them).
BEGIN;
UPDATE sessions SET head_seq = head_seq + 1, last_event_at = greatest(clock_timestamp(), last_event_at), updated_at = now() WHERE id = ('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid RETURNING head_seq, last_event_at::text AS last_event_at \gset
INSERT INTO events (session_id, seq, type, data, created_at) VALUES (('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid, :head_seq, 'message.delta', '{"turnId":"0193a0b0-0000-7000-8000-000000000000","text":"t0 "}', ':last_event_at');
COMMIT;
