import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SavedView } from "../../shared/schemas/saved-views.ts";
import type { ProcessView } from "../../shared/schemas/processes.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser } from "../support/builders.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

describe.each(drivers)("saved views over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  const cookies: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const people = [
      ["admin", "admin", "Ada Admin"],
      ["marketer", "marketer", "Mia Marketer"],
      ["seller", "salesperson", "Sofia Seller"],
      ["viewer", "viewer", "Vic Viewer"],
    ] as const;
    for (const [who, role, name] of people) {
      const made = await makeUser(server.app.services.auth, role, name);
      cookies[who] = await login(server.url, made.user.email);
      ids[who] = made.user.id;
    }
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: { method?: string; json?: unknown; as?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${server.url}/api${path}`, {
      method: init.method ?? "GET",
      headers: { ...(init.as === "nobody" ? {} : { cookie: cookies[init.as ?? "marketer"]! }), "content-type": "application/json", ...init.headers },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const list = async (as: string) => (await (await api("/saved-views", { as })).json()) as SavedView[];
  const create = async (as: string, json: unknown) => {
    const res = await api("/saved-views", { method: "POST", json, as });
    expect(res.status).toBe(201);
    return (await res.json()) as SavedView;
  };
  const errorOf = async (res: Response) => ((await res.json()) as ErrorJson).error;
  const byId = (views: SavedView[]) => [...views].sort((a, b) => a.id.localeCompare(b.id));
  const uniqueName = (base: string) => `${base} ${Math.random().toString(36).slice(2, 8)}`;

  it("creates, lists, edits and deletes a view of one's own", async () => {
    const name = uniqueName("Hot spring leads");
    const view = await create("marketer", {
      name: `  ${name} `,
      view: "all",
      filters: { campaign: "Spring launch", grades: ["A", "B"], salesReady: true, text: "pricing" },
    });
    expect(view).toEqual({
      id: expect.any(String),
      name,
      ownerId: ids.marketer,
      ownerName: "Mia Marketer",
      processId: null,
      view: "all",
      modelId: null,
      filters: { campaign: "Spring launch", grades: ["A", "B"], salesReady: true, text: "pricing" },
      shared: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await list("marketer")).toContainEqual(view);

    const patched = await api(`/saved-views/${view.id}`, { method: "PATCH", json: { name: `${name} (mine)`, filters: { owner: "me" }, shared: true } });
    expect(patched.status).toBe(200);
    const after = (await patched.json()) as SavedView;
    // Filters are replaced as a whole; what the patch leaves out stays.
    expect(after).toEqual({ ...view, name: `${name} (mine)`, filters: { owner: "me" }, shared: true, updatedAt: expect.any(String) });
    expect(await list("marketer")).toContainEqual(after);

    const deleted = await api(`/saved-views/${view.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect((await list("marketer")).map((v) => v.id)).not.toContain(view.id);
    expect((await api(`/saved-views/${view.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("lists one's own and everyone's shared views by name, never another person's private ones", async () => {
    const processes = (await (await api("/processes", { as: "admin" })).json()) as ProcessView[];
    const mine = await create("marketer", { name: "b private of Mia", filters: {} });
    const shared = await create("marketer", { name: "A shared by Mia", filters: { form: crypto.randomUUID() }, shared: true, processId: processes[0]!.id });
    const adminsPrivate = await create("admin", { name: "c private of Ada", filters: {} });
    const adminsShared = await create("admin", { name: "C shared by Ada", filters: {}, shared: true, view: "sales_ready", modelId: crypto.randomUUID() });
    const allBoard = await create("admin", { name: "D whole board", filters: {}, shared: true, view: "all" });

    const forMia = await list("marketer");
    const miaIds = forMia.map((v) => v.id);
    expect(miaIds).toEqual(expect.arrayContaining([mine.id, shared.id, adminsShared.id, allBoard.id]));
    expect(miaIds).not.toContain(adminsPrivate.id);
    // By name, whatever its case.
    const order = [shared.id, mine.id, adminsShared.id, allBoard.id];
    expect(miaIds.filter((id) => order.includes(id))).toEqual(order);
    expect(forMia.find((v) => v.id === adminsShared.id)).toMatchObject({ ownerName: "Ada Admin", view: "sales_ready", shared: true });

    const forViewer = (await list("viewer")).map((v) => v.id);
    expect(forViewer).toEqual(expect.arrayContaining([shared.id, adminsShared.id, allBoard.id]));
    expect(forViewer).not.toContain(mine.id);
    // A salesperson is not offered a shared view of a board view their role may not open.
    const forSeller = (await list("seller")).map((v) => v.id);
    expect(forSeller).toContain(adminsShared.id);
    expect(forSeller).not.toContain(allBoard.id);
  });

  it("only the owner edits a view; the owner or an admin deletes it; others' private views are not found", async () => {
    const shared = await create("marketer", { name: uniqueName("Shared"), filters: {}, shared: true });
    const secret = await create("marketer", { name: uniqueName("Secret"), filters: {} });
    const before = await list("marketer");

    const edit = await api(`/saved-views/${shared.id}`, { method: "PATCH", json: { name: "Taken over" }, as: "admin" });
    expect(edit.status).toBe(403);
    expect(await errorOf(edit)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("Mia Marketer") });
    const del = await api(`/saved-views/${shared.id}`, { method: "DELETE", as: "viewer" });
    expect(del.status).toBe(403);
    expect((await api(`/saved-views/${secret.id}`, { method: "PATCH", json: { name: "Peek" }, as: "viewer" })).status).toBe(404);
    expect((await api(`/saved-views/${secret.id}`, { method: "DELETE", as: "viewer" })).status).toBe(404);
    expect((await api(`/saved-views/${crypto.randomUUID()}`, { method: "PATCH", json: { name: "Ghost" } })).status).toBe(404);
    expect(await list("marketer")).toEqual(before);

    // An admin may clear away anyone's view, shared or not.
    expect((await api(`/saved-views/${secret.id}`, { method: "DELETE", as: "admin" })).status).toBe(204);
    expect((await api(`/saved-views/${shared.id}`, { method: "DELETE", as: "admin" })).status).toBe(204);
    const left = (await list("marketer")).map((v) => v.id);
    expect(left).not.toContain(shared.id);
    expect(left).not.toContain(secret.id);
  });

  it("refuses a second view of the same name (whatever its case) with CONFLICT, per owner", async () => {
    const name = uniqueName("Weekly review");
    const first = await create("marketer", { name, filters: {} });
    const again = await api("/saved-views", { method: "POST", json: { name: name.toUpperCase(), filters: { text: "x" } } });
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toEqual({
      code: "CONFLICT",
      message: `You already have a view named "${name.toUpperCase()}"; choose another name`,
      details: [{ field: "name", message: "is already the name of one of your views" }],
    });
    const other = await create("marketer", { name: uniqueName("Other"), filters: {} });
    const rename = await api(`/saved-views/${other.id}`, { method: "PATCH", json: { name, shared: true } });
    expect(rename.status).toBe(409);
    expect((await list("marketer")).find((v) => v.id === other.id)).toEqual(other);
    // Someone else may use the same name.
    await create("admin", { name, filters: {} });
    expect((await list("marketer")).filter((v) => v.name === name).map((v) => v.id)).toEqual([first.id]);
  });

  it("refuses a bad body with INVALID_INPUT naming each field, and saves nothing", async () => {
    const before = await list("marketer");
    const bad = await api("/saved-views", {
      method: "POST",
      json: { name: "  ", view: "everything", filters: { owner: "someone", grades: [], colour: "red" }, shared: "yes" },
    });
    expect(bad.status).toBe(400);
    const error = await errorOf(bad);
    expect(error.code).toBe("INVALID_INPUT");
    const fields = error.details!.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "view", "filters.owner", "filters.grades", "filters", "shared"]));
    expect(error.details!.find((d) => d.field === "name")!.message).toBe("must not be empty");

    const noFilters = await api("/saved-views", { method: "POST", json: { name: "No filters" } });
    expect((await errorOf(noFilters)).details).toEqual([{ field: "filters", message: expect.any(String) }]);
    const unknownProcess = await api("/saved-views", { method: "POST", json: { name: "Nowhere", filters: {}, processId: crypto.randomUUID() } });
    expect(unknownProcess.status).toBe(400);
    expect((await errorOf(unknownProcess)).details).toEqual([{ field: "processId", message: "is not a process" }]);
    const badId = await api("/saved-views/not-an-id", { method: "PATCH", json: { name: "X" } });
    expect((await errorOf(badId)).code).toBe("INVALID_INPUT");

    const mine = await create("marketer", { name: uniqueName("Patch target"), filters: {} });
    const badPatch = await api(`/saved-views/${mine.id}`, { method: "PATCH", json: { filters: { salesReady: "sometimes" }, name: "" } });
    expect(badPatch.status).toBe(400);
    expect((await errorOf(badPatch)).details!.map((d) => d.field).sort()).toEqual(["filters.salesReady", "name"]);
    expect(byId(await list("marketer"))).toEqual(byId([...before, mine]));
  });

  it("keeps a salesperson from saving a view their role may not see, and lets them save their own", async () => {
    const before = await list("seller");
    const all = await api("/saved-views", { method: "POST", json: { name: "Everything", view: "all", filters: {} }, as: "seller" });
    expect(all.status).toBe(403);
    expect(await errorOf(all)).toMatchObject({ code: "FORBIDDEN", message: 'Your role (salesperson) may not see the "All leads" view' });
    const mine = await create("seller", { name: "My hot ones", view: "my_leads", filters: { grades: ["A"] } });
    const widen = await api(`/saved-views/${mine.id}`, { method: "PATCH", json: { view: "teleprospecting_queue" }, as: "seller" });
    expect(widen.status).toBe(403);
    expect(byId(await list("seller"))).toEqual(byId([...before, mine]));
  });

  it("needs a signed-in person: no session is UNAUTHENTICATED, an API key is FORBIDDEN", async () => {
    const anonymous = await api("/saved-views", { as: "nobody" });
    expect(anonymous.status).toBe(401);
    const keyRes = await api("/api-keys", { method: "POST", json: { name: "robot", scopes: ["read", "write"] }, as: "admin" });
    const { key } = (await keyRes.json()) as { key: string };
    const robot = await api("/saved-views", { method: "POST", json: { name: "Robot view", filters: {} }, as: "nobody", headers: { authorization: `Bearer ${key}` } });
    expect(robot.status).toBe(403);
    expect((await errorOf(robot)).message).toBe("Saved views belong to people: sign in to use them");
  });
});
