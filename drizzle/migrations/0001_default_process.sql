-- The default business process exists in every database; its stage keys are part of the outside contract.
INSERT INTO "processes" ("id", "name", "is_default")
VALUES ('00000000-0000-4000-8000-000000000001', 'Lead to opportunity marketing sales process', true);
--> statement-breakpoint
INSERT INTO "stages" ("process_id", "key", "name", "position", "entry_requirements") VALUES
  ('00000000-0000-4000-8000-000000000001', 'inquiry', 'Inquiry', 0, '[]'),
  ('00000000-0000-4000-8000-000000000001', 'automated_marketing_qualification', 'Automated marketing qualification', 1, '["has_parent"]'),
  ('00000000-0000-4000-8000-000000000001', 'teleprospecting_acceptance', 'Teleprospecting acceptance', 2, '["has_parent","ready_for_teleprospecting"]'),
  ('00000000-0000-4000-8000-000000000001', 'teleprospecting_qualification', 'Teleprospecting qualification', 3, '["has_parent","teleprospecting_accepted"]'),
  ('00000000-0000-4000-8000-000000000001', 'sales_acceptance', 'Sales acceptance', 4, '["has_parent","sales_ready"]');
--> statement-breakpoint
INSERT INTO "boards" ("id", "process_id") VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001');
--> statement-breakpoint
INSERT INTO "matching_strategies" ("name", "entity", "fields", "is_default") VALUES
  ('Contact by email', 'contact', '{email}', true),
  ('Lead by email and form', 'lead', '{email,form_id}', true);
--> statement-breakpoint
-- At most one default process.
CREATE UNIQUE INDEX "processes_single_default" ON "processes" ("is_default") WHERE "is_default";
