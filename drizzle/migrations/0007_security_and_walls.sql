ALTER TABLE "display_tokens" ADD COLUMN "prefix" text NOT NULL;--> statement-breakpoint
ALTER TABLE "display_tokens" ADD COLUMN "screens" jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "display_tokens" ADD COLUMN "rotate_seconds" integer;--> statement-breakpoint
ALTER TABLE "display_tokens" ADD COLUMN "sound" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "display_tokens" ADD COLUMN "last_seen_at" timestamp with time zone;