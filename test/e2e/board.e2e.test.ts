import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { makeLead, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);
const column = (page: Page, stage: string) => page.locator(`[data-testid="column"][data-stage="${stage}"]`);

describe.runIf(browserAvailable())("the board in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  let users: Record<"manager" | "viewer", { email: string }>;
  let leads: LeadCard[];

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    const auth = server.app.services.auth;
    const manager = await makeUser(auth, "sales_manager", "Morgan Manager");
    const viewer = await makeUser(auth, "viewer", "Val Viewer");
    users = { manager: manager.user, viewer: viewer.user };
    leads = [];
    for (let i = 0; i < 4; i++) {
      leads.push(
        await makeLead(t.database.db, server.app.services.leads, manager.actor, {
          topic: `Browser lead ${i}`,
          stage: "automated_marketing_qualification",
        }),
      );
    }
    browser = await launchBrowser();
  }, 120_000);

  /** The current test's pages: a failure saves a screenshot of each to test-results/. */
  let pages: Page[] = [];
  beforeEach(() => {
    pages = [];
    screenshotOnFailure(() => pages);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  /** Every URL any page requested: all must come from the server itself (no CDN). */
  const requested: string[] = [];

  async function openBoard(email: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    page.on("request", (req) => requested.push(req.url()));
    await signIn(page, server.url, email, testPassword);
    return page;
  }

  it("refuses a wrong password on the login page", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator('input[name="email"]').fill(users.manager.email);
    await page.locator('input[name="password"]').fill("not the password");
    await page.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-testid="login-error"]').textContent()).toContain("Email or password is wrong");
  });

  it("a drag in one window shows in the other without reload", async () => {
    const alice = await openBoard(users.manager.email);
    const bob = await openBoard(users.manager.email);
    const lead = leads[0]!;
    await expect.poll(() => column(bob, "automated_marketing_qualification").locator(card(bob, lead.id)).count()).toBe(1);
    const bobSeq = Number(await bob.locator('[data-testid="board"]').getAttribute("data-seq"));

    await card(alice, lead.id).dragTo(column(alice, "inquiry").locator('[data-testid="column-cards"]'));

    await expect.poll(() => column(bob, "inquiry").locator(card(bob, lead.id)).count(), { timeout: 5000 }).toBe(1);
    expect(await column(bob, "automated_marketing_qualification").locator(card(bob, lead.id)).count()).toBe(0);
    expect(Number(await bob.locator('[data-testid="board"]').getAttribute("data-seq"))).toBe(bobSeq + 1);
    await expect.poll(() => card(alice, lead.id).getAttribute("data-pending")).not.toBe("true");
    const stored = await server.app.services.leads.get(lead.id);
    expect(stored).toMatchObject({ stage: "inquiry", version: lead.version + 1 });
  });

  it("a move the server rejects returns the card to its place and says why", async () => {
    const page = await openBoard(users.manager.email);
    const lead = leads[1]!;
    // Someone else's change has committed but its event has not reached this page yet.
    await t.database.db.update(leadsTable).set({ version: sql`${leadsTable.version} + 1` }).where(eq(leadsTable.id, lead.id));
    await card(page, lead.id).dragTo(column(page, "inquiry").locator('[data-testid="column-cards"]'));
    await expect.poll(() => page.locator('[data-testid="toast"]').allTextContents()).toContainEqual(
      expect.stringContaining("Someone changed this lead first"),
    );
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(1);
    expect(await column(page, "inquiry").locator(card(page, lead.id)).count()).toBe(0);
    expect(await card(page, lead.id).getAttribute("data-pending")).toBeNull();
    expect(await server.app.services.leads.get(lead.id)).toMatchObject({ stage: "automated_marketing_qualification" });
  });

  it("a viewer cannot drag cards at all", async () => {
    const page = await openBoard(users.viewer.email);
    const lead = leads[1]!;
    expect(await card(page, lead.id).getAttribute("data-draggable")).toBe("false");
    expect(await card(page, lead.id).locator('[data-testid="card-menu-button"]').count()).toBe(0);
    await card(page, lead.id).dragTo(column(page, "inquiry").locator('[data-testid="column-cards"]'));
    expect(await page.locator('[data-testid="drag-ghost"]').count()).toBe(0);
    expect(await column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(1);
  });

  it("a column the lead may not enter is refused before asking the server, with the reason", async () => {
    const page = await openBoard(users.manager.email);
    const lead = leads[2]!;
    await card(page, lead.id).dragTo(column(page, "teleprospecting_qualification").locator('[data-testid="column-cards"]'));
    await expect.poll(() => page.locator('[data-testid="toast"]').allTextContents()).toContainEqual(
      expect.stringContaining("needs teleprospecting accepted"),
    );
    expect(await column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(1);
    expect((await server.app.services.leads.get(lead.id)).version).toBe(lead.version);
  });

  it("loads every asset from the server itself", () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !u.startsWith(server.url) && !u.startsWith("ws://127.0.0.1"))).toEqual([]);
  });

  it("a client that missed events catches up after reconnecting", async () => {
    const page = await openBoard(users.manager.email);
    const lead = leads[3]!;
    await page.context().setOffline(true);
    // setOffline does not cut an open WebSocket in every Chromium: drop the transport from the
    // server side too, as a network failure would (the client then reconnects by itself).
    for (const socket of server.app.io.sockets.sockets.values()) socket.conn.close();
    await server.app.services.leads.move(
      { id: null, name: "Another tab", kind: "system", role: "admin" },
      { leadId: lead.id, toStage: "inquiry", expectedVersion: lead.version },
      new Date(),
    );
    await page.context().setOffline(false);
    await expect.poll(() => column(page, "inquiry").locator(card(page, lead.id)).count(), { timeout: 20_000 }).toBe(1);
  });
});
