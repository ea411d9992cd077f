import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLead, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { restartTestServer, startTestServer, type TestServer } from "../support/server.ts";

const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);
const column = (page: Page, stage: string) => page.locator(`[data-testid="column"][data-stage="${stage}"]`);
const banner = (page: Page) => page.locator('[data-testid="connection-banner"]');

/** The seconds the banner's countdown shows ("Reconnecting in 4 s…"), or null when it shows none. */
async function countdown(page: Page): Promise<number | null> {
  const text = (await banner(page).textContent()) ?? "";
  const match = /in (\d+) s/.exec(text);
  return match ? Number(match[1]) : null;
}

describe.runIf(browserAvailable())("the connection state in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  let context: BrowserContext | undefined;
  const pages: Page[] = [];

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  it("while the server is away the board stays with a countdown; after it restarts the page recovers by itself", async () => {
    screenshotOnFailure(() => pages);
    const manager = await makeUser(server.app.services.auth, "sales_manager", "Morgan Manager");
    const lead = await makeLead(t.database.db, server.app.services.leads, manager.actor, {
      topic: "Survives the restart",
      stage: "automated_marketing_qualification",
    });
    const other = await makeLead(t.database.db, server.app.services.leads, manager.actor, { topic: "Stays put" });
    context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    const page = await context.newPage();
    pages.push(page);
    await signIn(page, server.url, manager.user.email, testPassword);
    await expect.poll(() => banner(page).getAttribute("data-status")).toBe("online");
    expect((await banner(page).textContent())?.trim()).toBe("");
    expect(await banner(page).getAttribute("role")).toBe("status");
    expect(await banner(page).getAttribute("aria-live")).toBe("polite");
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));

    const old = server;
    server = await restartTestServer(old, t.database, clientDir, {
      whileDown: async () => {
        await expect.poll(() => banner(page).getAttribute("data-status")).toMatch(/^(reconnecting|offline)$/);
        // A live countdown: it shows whole seconds and counts down.
        let seen = 0;
        await expect.poll(async () => (seen = (await countdown(page)) ?? 0), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
        await expect.poll(() => countdown(page), { timeout: 5_000 }).toBeLessThan(seen);
        expect(await banner(page).locator('[data-testid="retry-now"]').isVisible()).toBe(true);
        // The last good board stays, with the time it was last brought up to date.
        expect(await banner(page).locator('[data-testid="last-updated"]').textContent()).toMatch(/\d{1,2}:\d{2}:\d{2}/);
        expect(await column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(1);
        expect(await card(page, other.id).count()).toBe(1);
        // After several failed attempts it says offline, and keeps trying.
        await expect.poll(() => banner(page).getAttribute("data-status"), { timeout: 30_000 }).toBe("offline");
        expect(await banner(page).textContent()).toMatch(/Offline\s*— showing the board as of \d{1,2}:\d{2}:\d{2}/);
        // Someone moves a lead while this page cannot hear about it.
        await old.app.services.leads.move(manager.actor, { leadId: lead.id, toStage: "inquiry", expectedVersion: lead.version }, new Date());
      },
    });

    // Nobody touches the page: its retries (at most 30 s apart) find the new server.
    await expect.poll(() => banner(page).getAttribute("data-status"), { timeout: 60_000 }).toBe("online");
    await expect.poll(() => column(page, "inquiry").locator(card(page, lead.id)).count(), { timeout: 10_000 }).toBe(1);
    expect(await column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1);
    expect((await banner(page).textContent())?.trim()).toBe("");
  }, 120_000);
});
