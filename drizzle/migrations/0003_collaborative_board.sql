CREATE TABLE "saved_views" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"process_id" uuid,
	"view" text,
	"model_id" uuid,
	"filters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"shared" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "saved_views" ADD CONSTRAINT "saved_views_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "saved_views" ADD CONSTRAINT "saved_views_process_id_processes_id_fk" FOREIGN KEY ("process_id") REFERENCES "public"."processes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "saved_views_owner_name" ON "saved_views" USING btree ("owner_id",lower("name"));--> statement-breakpoint
CREATE INDEX "saved_views_shared_idx" ON "saved_views" USING btree ("shared") WHERE "saved_views"."shared";--> statement-breakpoint
ALTER TABLE "stages" ADD CONSTRAINT "stages_time_limits" CHECK (("stages"."warn_after_minutes" is null) = ("stages"."alert_after_minutes" is null) and ("stages"."warn_after_minutes" is null or ("stages"."warn_after_minutes" > 0 and "stages"."alert_after_minutes" > "stages"."warn_after_minutes")));--> statement-breakpoint
-- Time limits for the default process's contract stages (hours × 60), where none are set yet.
UPDATE "stages" AS s SET "warn_after_minutes" = l.amber * 60, "alert_after_minutes" = l.red * 60
FROM (VALUES
  ('inquiry', 24, 72),
  ('automated_marketing_qualification', 48, 120),
  ('teleprospecting_acceptance', 72, 168),
  ('teleprospecting_qualification', 72, 168),
  ('sales_acceptance', 48, 120)
) AS l(key, amber, red), "processes" AS p
WHERE p."id" = s."process_id" AND p."is_default" AND s."key" = l.key
  AND s."warn_after_minutes" IS NULL AND s."alert_after_minutes" IS NULL;
