-- Protocol v1.1: the stored event type `error` is `agent.error` (an SSE frame named `error` fires a
-- browser EventSource's onerror handler). Rewrites the rows v1 wrote; nothing else changes.
UPDATE "events" SET "type" = 'agent.error' WHERE "type" = 'error';
