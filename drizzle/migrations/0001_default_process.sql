-- The default business process exists in every database; its stage keys are part of the outside contract.
INSERT INTO "processes" ("id", "name", "is_default")
VALUES ('00000000-0000-4000-8000-000000000001', 'Lead to opportunity marketing sales process', true);
--> statement-breakpoint
INSERT INTO "stages" ("process_id", "key", "name", "position", "entry_requirements", "gate_flag", "sales_ready_jump", "fields") VALUES
  ('00000000-0000-4000-8000-000000000001', 'inquiry', 'Inquiry', 0, '[]', NULL, true, '[]'),
  ('00000000-0000-4000-8000-000000000001', 'automated_marketing_qualification', 'Automated marketing qualification', 1, '["has_parent"]', 'ready_for_teleprospecting', true, '[]'),
  ('00000000-0000-4000-8000-000000000001', 'teleprospecting_acceptance', 'Teleprospecting acceptance', 2, '["has_parent","ready_for_teleprospecting"]', 'teleprospecting_accepted', false,
   '[{"key":"meets_minimum_criteria","label":"Meets the minimum criteria","type":"checkbox"}]'),
  ('00000000-0000-4000-8000-000000000001', 'teleprospecting_qualification', 'Teleprospecting qualification', 3, '["has_parent","teleprospecting_accepted"]', 'sales_ready', false,
   '[{"key":"budget","label":"Budget","type":"number"},{"key":"timeframe","label":"Timeframe","type":"choice","options":["This quarter","Next quarter","This year","Later"]},{"key":"decision_maker","label":"Talked to the decision maker","type":"checkbox"},{"key":"call_notes","label":"Call notes","type":"text"}]'),
  ('00000000-0000-4000-8000-000000000001', 'sales_acceptance', 'Sales acceptance', 4, '["has_parent","sales_ready"]', 'sales_accepted', false,
   '[{"key":"salesperson","label":"Salesperson","type":"user"},{"key":"estimated_value","label":"Estimated value","type":"number"}]');
--> statement-breakpoint
INSERT INTO "boards" ("id", "process_id") VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001');
--> statement-breakpoint
INSERT INTO "matching_strategies" ("id", "name", "entity", "fields", "is_default") VALUES
  ('00000000-0000-4000-8000-000000000011', 'Contact by email', 'contact', '{email}', true),
  ('00000000-0000-4000-8000-000000000012', 'Lead by email and form', 'lead', '{email,formId}', true);
--> statement-breakpoint
-- At most one default process, and one default strategy per entity.
CREATE UNIQUE INDEX "processes_single_default" ON "processes" ("is_default") WHERE "is_default";
--> statement-breakpoint
CREATE UNIQUE INDEX "matching_strategies_single_default" ON "matching_strategies" ("entity") WHERE "is_default";
