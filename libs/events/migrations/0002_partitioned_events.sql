-- Protocol v1.1 §7: `events` becomes range-partitioned by `created_at`, so retention drops whole
-- partitions instead of deleting rows. Existing rows stay where they are: the old table becomes
-- the partition `events_legacy` for every instant before the next UTC midnight (or after its
-- newest row), daily partitions follow, and `events_default` takes whatever no partition covers,
-- so an insert never fails for want of a partition. Plain declarative partitioning (Postgres 11+;
-- nothing here needs more than 15, and PGlite runs it too); `retention` manages the partitions.
--
-- A unique constraint on a partitioned table must contain the partition key, so neither the
-- primary key (session_id, seq) nor the unique (session_id, client_message_id) can stay on the
-- parent: every partition gets its own primary key (session_id, seq), and the idempotency keys
-- move to the unpartitioned `message_keys`, written by a trigger on every insert.
ALTER TABLE "sessions" ADD COLUMN "last_event_at" timestamp with time zone DEFAULT now() NOT NULL;
--> statement-breakpoint
CREATE TABLE "message_keys" (
	"session_id" uuid NOT NULL,
	"client_message_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"content_sha256" bytea NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "message_keys_session_id_client_message_id_pk" PRIMARY KEY("session_id","client_message_id")
);
--> statement-breakpoint
ALTER TABLE "message_keys" ADD CONSTRAINT "message_keys_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
INSERT INTO "message_keys" ("session_id", "client_message_id", "seq", "content_sha256", "created_at")
SELECT "session_id", "client_message_id", "seq", sha256(convert_to(coalesce("data"->>'content', ''), 'UTF8')), "created_at"
FROM "events" WHERE "client_message_id" IS NOT NULL;
--> statement-breakpoint
DROP INDEX "events_client_message_id_uq";
--> statement-breakpoint
ALTER TABLE "events" RENAME TO "events_legacy";
--> statement-breakpoint
ALTER TABLE "events_legacy" RENAME CONSTRAINT "events_session_id_seq_pk" TO "events_legacy_pkey";
--> statement-breakpoint
ALTER TABLE "events_legacy" ALTER COLUMN "created_at" SET DEFAULT clock_timestamp();
--> statement-breakpoint
CREATE TABLE "events" (
	"session_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"client_message_id" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE FUNCTION "events_record_message_key"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "message_keys" ("session_id", "client_message_id", "seq", "content_sha256", "created_at")
  VALUES (NEW."session_id", NEW."client_message_id", NEW."seq",
          sha256(convert_to(coalesce(NEW."data"->>'content', ''), 'UTF8')), NEW."created_at");
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "events_message_key" AFTER INSERT ON "events"
FOR EACH ROW WHEN (NEW."client_message_id" IS NOT NULL) EXECUTE FUNCTION "events_record_message_key"();
--> statement-breakpoint
DO $$
DECLARE
  -- The legacy partition ends at the first UTC midnight after now and after its newest row.
  legacy_end timestamptz := date_trunc('day', greatest(now(), (SELECT max("created_at") FROM "events_legacy")) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day';
  day timestamptz;
  name text;
BEGIN
  EXECUTE format('ALTER TABLE "events" ATTACH PARTITION "events_legacy" FOR VALUES FROM (MINVALUE) TO (%L)', legacy_end);
  FOR i IN 0..2 LOOP
    day := legacy_end + i * interval '1 day';
    name := 'events_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD');
    EXECUTE format('CREATE TABLE %I PARTITION OF "events" FOR VALUES FROM (%L) TO (%L)', name, day, day + interval '1 day');
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY ("session_id", "seq")', name);
  END LOOP;
END $$;
--> statement-breakpoint
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
ALTER TABLE "events_default" ADD PRIMARY KEY ("session_id", "seq");
--> statement-breakpoint
CREATE INDEX "events_default_created_at_idx" ON "events_default" ("created_at");
