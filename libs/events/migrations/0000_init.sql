CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent" text NOT NULL,
	"state" text NOT NULL,
	"activity" text DEFAULT 'idle' NOT NULL,
	"head_seq" bigint DEFAULT 0 NOT NULL,
	"last_input_seq" bigint DEFAULT 0 NOT NULL,
	"processed_seq" bigint DEFAULT 0 NOT NULL,
	"turn_id" uuid,
	"turn_input_seq" bigint,
	"owner" text,
	"lease_expires_at" timestamp with time zone,
	"lease_epoch" integer DEFAULT 0 NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_state_check" CHECK ("sessions"."state" in ('CREATED','STARTING','ACTIVE','SUSPENDED','DETACHED','ENDED')),
	CONSTRAINT "sessions_activity_check" CHECK ("sessions"."activity" in ('idle','running'))
);
--> statement-breakpoint
CREATE TABLE "events" (
	"session_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"client_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_state_id_idx" ON "sessions" USING btree ("state","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sessions_pending_idx" ON "sessions" USING btree ("last_input_seq") WHERE "sessions"."last_input_seq" > "sessions"."processed_seq" and "sessions"."state" <> 'ENDED';--> statement-breakpoint
CREATE INDEX "sessions_lease_idx" ON "sessions" USING btree ("lease_expires_at") WHERE "sessions"."owner" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "events_client_message_id_uq" ON "events" USING btree ("session_id","client_message_id") WHERE "events"."client_message_id" is not null;