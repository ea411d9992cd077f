import { importFinished, linkedinForm, scoringModel, type MatrixContext } from "./matrix-world.ts";
import type { RouteFixture } from "./route-fixtures.ts";

/** Contacts, accounts, lead generation, matching, scoring, segments and processes. */

const email = (ctx: MatrixContext, prefix: string) => `${ctx.unique(prefix)}@matrix.example`;
const none = async () => ({});

export const recordRouteFixtures: Record<string, RouteFixture> = {
  // Public intake.
  "POST /api/forms/:formId/submissions": {
    prepare: async (ctx) => ({ params: { formId: ctx.world.formId }, body: { email: email(ctx, "submitted"), firstName: "Sam" } }),
  },
  "POST /api/events/:eventId/registrations": {
    prepare: async (ctx) => ({ params: { eventId: ctx.world.eventId }, body: { email: email(ctx, "registered"), lastName: "Lee" } }),
  },

  // Contacts and accounts.
  "GET /api/contacts": { prepare: async () => ({ query: { q: "matrix", limit: "10" } }) },
  "POST /api/contacts": {
    prepare: async (ctx) => ({ body: { email: email(ctx, "contact"), firstName: "Kim", accountId: ctx.world.accountId } }),
  },
  "GET /api/contacts/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.contactId } }) },
  "PATCH /api/contacts/:id": {
    prepare: async (ctx) => ({ params: { id: ctx.world.contactId }, body: { jobTitle: ctx.unique("Head of") } }),
  },
  "GET /api/accounts": { prepare: async () => ({ query: { limit: "10" } }) },
  "POST /api/accounts": { prepare: async (ctx) => ({ body: { name: ctx.unique("Account"), employeeCount: 40 } }) },
  "GET /api/accounts/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.accountId } }) },
  "PATCH /api/accounts/:id": {
    prepare: async (ctx) => ({ params: { id: ctx.world.accountId }, body: { industry: ctx.unique("Industry") } }),
  },

  // Lead generation.
  "GET /api/forms": { prepare: none },
  "POST /api/forms": { prepare: async (ctx) => ({ body: { name: ctx.unique("Form"), campaign: "Spring" } }) },
  "GET /api/forms/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.formId } }) },
  "PATCH /api/forms/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.formId }, body: { campaign: ctx.unique("Campaign") } }) },
  "GET /api/forms/:id/snippet": { prepare: async (ctx) => ({ params: { id: ctx.world.formId } }) },
  "GET /api/events": { prepare: none },
  "POST /api/events": { prepare: async (ctx) => ({ body: { name: ctx.unique("Event"), startsAt: "2031-05-01T09:00:00+02:00" } }) },
  "GET /api/events/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.eventId } }) },
  "POST /api/events/:id/check-ins": {
    prepare: async (ctx) => ({ params: { id: ctx.world.eventId }, body: { email: email(ctx, "attendee"), firstName: "Ari" } }),
  },
  "GET /api/integrations/linkedin/forms": { prepare: none },
  "POST /api/integrations/linkedin/forms": {
    prepare: async (ctx) => ({ body: linkedinForm(String(800000 + Number(ctx.unique("x").split("-").pop()))) }),
  },
  "POST /api/integrations/linkedin/lead-responses": {
    prepare: async (ctx) => ({
      body: [
        {
          id: ctx.unique("urn:li:leadFormResponse"),
          submittedAt: Date.now(),
          leadType: "SPONSORED",
          testLead: false,
          versionedLeadGenFormUrn: `urn:li:leadGenForm:${ctx.world.linkedinFormId}`,
          formResponse: { answers: [{ questionId: 1, answerDetails: { textQuestionAnswer: { answer: email(ctx, "linkedin") } } }] },
        },
      ],
    }),
  },
  "POST /api/journeys/:journeyId/create-lead": {
    prepare: async (ctx) => ({ params: { journeyId: "welcome-journey" }, body: { contactId: ctx.world.contactId, topic: ctx.unique("Journey") } }),
  },
  "POST /api/imports": {
    prepare: async (ctx) => ({
      query: { kind: "contacts" },
      raw: { contentType: "text/csv", text: `email,firstName\n${email(ctx, "csv")},Quinn\n` },
    }),
    settle: async (ctx, body) => {
      const importId = (body as { importId?: string } | undefined)?.importId;
      if (importId) await importFinished(ctx, importId);
    },
  },
  "GET /api/imports/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.importId } }) },
  "POST /api/interactions": {
    prepare: async (ctx) => ({ body: { interactions: [{ type: "website_visited", contactId: ctx.world.contactId, url: "https://example.com/pricing" }] } }),
  },

  // Matching, scoring, segments, processes.
  "GET /api/matching-strategies": { prepare: none },
  "POST /api/matching-strategies": {
    prepare: async (ctx) => ({ body: { name: ctx.unique("Strategy"), entity: "contact", fields: ["email", "lastName"] } }),
  },
  "GET /api/scoring-models": { prepare: none },
  "POST /api/scoring-models": { prepare: async (ctx) => ({ body: scoringModel(ctx.unique("Model")) }) },
  "POST /api/scoring-models/preview": {
    prepare: async () => ({ body: {
        target: "contact",
        threshold: 20,
        conditions: [{ kind: "contact", field: "jobTitle", op: "contains", value: "Head", points: 25 }],
      } }),
  },
  "GET /api/scoring-models/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.modelId } }) },
  "PATCH /api/scoring-models/:id": {
    prepare: async (ctx) => ({ params: { id: ctx.world.modelId }, body: { name: ctx.unique("Model renamed") } }),
  },
  "POST /api/scoring-models/:id/preview": { prepare: async (ctx) => ({ params: { id: ctx.world.modelId }, body: { threshold: 30 } }) },
  "GET /api/scoring-models/:id/insights": { prepare: async (ctx) => ({ params: { id: ctx.world.modelId } }) },
  "GET /api/segments": { prepare: none },
  "POST /api/segments": {
    prepare: async (ctx) => ({
      body: { name: ctx.unique("Segment"), query: { from: "leads", where: [{ field: "salesReady", op: "eq", value: true }] } },
    }),
  },
  "POST /api/segments/preview": {
    prepare: async () => ({ body: { query: { from: "accounts", where: [{ field: "employeeCount", op: "gte", value: 10 }] } } }),
  },
  "GET /api/segments/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.segmentId } }) },
  "PATCH /api/segments/:id": {
    prepare: async (ctx) => ({ params: { id: ctx.world.segmentId }, body: { name: ctx.unique("Segment renamed") } }),
  },
  "DELETE /api/segments/:id": {
    prepare: async (ctx) => {
      const segment = await ctx.adminCall<{ id: string }>("POST", "/api/segments", {
        name: ctx.unique("Doomed segment"),
        query: { from: "contacts", where: [] },
      });
      return { params: { id: segment.id } };
    },
  },
  "GET /api/segments/:id/members": { prepare: async (ctx) => ({ params: { id: ctx.world.segmentId }, query: { limit: "5" } }) },
  "GET /api/processes": { prepare: none },
  "POST /api/processes": {
    prepare: async (ctx) => ({
      body: {
        name: ctx.unique("Process"),
        stages: [
          { key: "new", name: "New" },
          { key: "qualified", name: "Qualified", entryRequirements: ["has_parent"], fields: [{ key: "notes", label: "Notes", type: "text" }] },
        ],
      },
    }),
  },
  "GET /api/processes/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.otherProcessId } }) },
  "PATCH /api/processes/:id": {
    prepare: async (ctx) => {
      const process = await ctx.adminCall<{ id: string; version: number }>("POST", "/api/processes", {
        name: ctx.unique("Process to rename"),
        stages: [{ key: "only", name: "Only" }],
      });
      return { params: { id: process.id }, body: { expectedVersion: process.version, name: ctx.unique("Renamed process") } };
    },
  },
};
