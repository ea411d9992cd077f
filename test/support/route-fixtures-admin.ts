import { makeUser, testPassword } from "./builders.ts";
import { defaultProcessId, type MatrixContext } from "./matrix-world.ts";
import type { MatrixPrincipal } from "./matrix-principals.ts";
import type { Documented, RouteFixture } from "./route-fixtures.ts";
import { login } from "./server.ts";

/** Signing in, administration, and the per-person saved views. */

const none = async () => ({});

/** Saved views belong to people: an API key (no person) is refused by the service. */
function personOnly(who: MatrixPrincipal): Documented | undefined {
  return who.spec.kind === "api" ? { status: 403, code: "FORBIDDEN", why: "saved views belong to people, not API keys" } : undefined;
}

/** A new person to sign in as, patch or invite (never one of the principals, whose sessions the matrix uses). */
const freshUser = (ctx: MatrixContext) => makeUser(ctx.server.app.services.auth, "viewer", ctx.unique("Spare"));

/** An invitation of a new user, as the admin sends it; answers the token from its link. */
async function freshInvitation(ctx: MatrixContext): Promise<{ userId: string; token: string }> {
  const created = await ctx.adminCall<{ user: { id: string }; inviteUrl: string }>("POST", "/api/users", {
    email: `${ctx.unique("invitee")}@matrix.example`,
    name: "Invited Person",
    role: "viewer",
  });
  return { userId: created.user.id, token: created.inviteUrl.split("/").pop()! };
}

/** A saved view the principal owns (people), or the admin's (anyone else, who is refused anyway). */
async function ownView(ctx: MatrixContext, who: MatrixPrincipal): Promise<string> {
  if (who.spec.kind !== "user") return ctx.world.savedViewId;
  const res = await fetch(`${ctx.server.url}/api/saved-views`, {
    method: "POST",
    headers: { cookie: who.credentials.cookie!, "content-type": "application/json" },
    body: JSON.stringify({ name: ctx.unique("Own view"), filters: { salesReady: true } }),
  });
  if (res.status !== 201) throw new Error(`setup: saved view for ${who.spec.name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * A person signing in or out replaces or ends the session they send: send a throwaway
 * session of a spare person, so the principal's own session (other cells use it) survives.
 */
async function throwawaySession(ctx: MatrixContext, who: MatrixPrincipal) {
  if (who.spec.kind !== "user") return {};
  const { user } = await freshUser(ctx);
  return { credentials: { cookie: await login(ctx.server.url, user.email) } };
}

export const adminRouteFixtures: Record<string, RouteFixture> = {
  "POST /api/auth/login": {
    prepare: async (ctx, who) => {
      const { user } = await freshUser(ctx);
      return { ...(await throwawaySession(ctx, who)), body: { email: user.email, password: testPassword } };
    },
  },
  "POST /api/auth/logout": { prepare: throwawaySession },
  "POST /api/auth/accept-invite": {
    prepare: async (ctx) => ({ body: { token: (await freshInvitation(ctx)).token, password: "a long new password" } }),
  },
  "GET /api/me": { prepare: none },

  "GET /api/saved-views": { prepare: none, documented: personOnly },
  "POST /api/saved-views": {
    prepare: async (ctx) => ({ body: { name: ctx.unique("View"), view: null, filters: { text: "matrix" }, shared: false } }),
    documented: personOnly,
  },
  "PATCH /api/saved-views/:id": {
    prepare: async (ctx, who) => ({ params: { id: await ownView(ctx, who) }, body: { name: ctx.unique("View renamed") } }),
    documented: personOnly,
  },
  "DELETE /api/saved-views/:id": {
    prepare: async (ctx, who) => ({ params: { id: await ownView(ctx, who) } }),
    documented: personOnly,
  },

  "GET /api/users": { prepare: none },
  "POST /api/users": {
    prepare: async (ctx) => ({
      body: { email: `${ctx.unique("user")}@matrix.example`, name: "New Person", role: "marketer", password: "a long enough password" },
    }),
  },
  "PATCH /api/users/:id": {
    prepare: async (ctx) => ({ params: { id: (await freshUser(ctx)).user.id }, body: { name: ctx.unique("Renamed") } }),
  },
  "POST /api/users/:id/invite": {
    prepare: async (ctx) => ({ params: { id: (await freshInvitation(ctx)).userId } }),
  },
  "GET /api/api-keys": { prepare: none },
  "POST /api/api-keys": { prepare: async (ctx) => ({ body: { name: ctx.unique("Key"), scopes: ["read", "ingest"] } }) },
  "DELETE /api/api-keys/:id": {
    prepare: async (ctx) => {
      const created = await ctx.server.app.services.apiKeys.create(ctx.adminActor, { name: ctx.unique("Doomed key"), scopes: ["read"] }, new Date());
      return { params: { id: created.apiKey.id } };
    },
  },
  "GET /api/display-tokens": { prepare: none },
  "POST /api/display-tokens": {
    prepare: async (ctx) => ({
      body: {
        name: ctx.unique("Wall"),
        screens: [
          { processId: defaultProcessId, view: "sales_ready", label: "Sales" },
          { processId: ctx.world.otherProcessId },
        ],
        rotateSeconds: 30,
        sound: false,
      },
    }),
  },
  "DELETE /api/display-tokens/:id": {
    prepare: async (ctx) => {
      const created = await ctx.adminCall<{ displayToken: { id: string } }>("POST", "/api/display-tokens", {
        name: ctx.unique("Doomed wall"),
        screens: [{ processId: defaultProcessId }],
      });
      return { params: { id: created.displayToken.id } };
    },
  },
  "GET /api/audit": { prepare: async () => ({ query: { limit: "10" } }) },
};
