-- The append path's row shape for pgbench (scenario 5): lock and bump one session's head, insert
-- one message.delta event at the new seq, in one transaction. Client N writes to the session whose
-- id ends in N (the bench creates them).
BEGIN;
UPDATE sessions SET head_seq = head_seq + 1, updated_at = now() WHERE id = ('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid RETURNING head_seq \gset
INSERT INTO events (session_id, seq, type, data) VALUES (('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid, :head_seq, 'message.delta', '{"turnId":"0193a0b0-0000-7000-8000-000000000000","text":"t0 "}');
COMMIT;
