CREATE INDEX "lead_history_at_idx" ON "lead_history" USING btree ("at");--> statement-breakpoint
CREATE INDEX "leads_process_created_idx" ON "leads" USING btree ("process_id","created_at");--> statement-breakpoint
CREATE INDEX "leads_test_idx" ON "leads" USING btree ("id") WHERE "leads"."is_test";