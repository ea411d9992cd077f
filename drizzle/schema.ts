/**
 * The whole domain of the lead lifecycle, as PostgreSQL tables, split by area under
 * schema/. Migrations are generated from this entry point by `npm run db:generate`
 * (drizzle-kit); code imports every table from here.
 */
export * from "./schema/common.ts";
export * from "./schema/access.ts";
export * from "./schema/records.ts";
export * from "./schema/process.ts";
export * from "./schema/scoring.ts";
export * from "./schema/work.ts";
export * from "./schema/saved-views.ts";
