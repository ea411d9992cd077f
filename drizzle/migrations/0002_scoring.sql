CREATE TABLE "score_counters" (
	"lead_id" uuid NOT NULL,
	"model_id" uuid NOT NULL,
	"condition_index" integer NOT NULL,
	"contact_id" uuid NOT NULL,
	"count" integer NOT NULL,
	"times" timestamp with time zone[],
	"window_days" integer,
	"keep_latest" integer,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "score_counters_lead_id_model_id_condition_index_contact_id_pk" PRIMARY KEY("lead_id","model_id","condition_index","contact_id")
);
--> statement-breakpoint
CREATE TABLE "score_queue" (
	"lead_id" uuid PRIMARY KEY NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"mark" bigserial NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lead_scores" ADD COLUMN "previous_score" integer;--> statement-breakpoint
ALTER TABLE "lead_scores" ADD COLUMN "sales_ready" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_status" text;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_mode" text;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_cursor" uuid;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_total" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_processed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_finished_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "scoring_models" ADD COLUMN "rescore_error" text;--> statement-breakpoint
ALTER TABLE "score_counters" ADD CONSTRAINT "score_counters_model_id_scoring_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."scoring_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "score_counters" ADD CONSTRAINT "score_counters_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "score_counters_model_idx" ON "score_counters" USING btree ("model_id");--> statement-breakpoint
CREATE INDEX "score_counters_contact_idx" ON "score_counters" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "score_queue_due_idx" ON "score_queue" USING btree ("due_at");