import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { makeContact, makeUser, testPassword } from "../support/builders.ts";
import { card, handle } from "../support/board-page.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const testid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

/** The ids of the cards the board shows, sorted. */
function shownCards(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="board"] [data-testid="lead-card"]:visible')
    .evaluateAll((els) => els.map((el) => el.getAttribute("data-lead-id") ?? "").sort());
}

const ids = (...cards: LeadCard[]) => cards.map((c) => c.id).sort();

// Two classic payloads: one runs on load of a broken image, one is a script element.
const imgPayload = "<img src=x onerror=window.__xss=1>";
const scriptPayload = "<script>window.__xss=1</script>";
const xssTopic = `Deal ${imgPayload} ${scriptPayload}`;
const xssContact = { firstName: imgPayload, lastName: scriptPayload };
const xssContactName = `${imgPayload} ${scriptPayload}`;

/** Whether anything the payloads would create exists or ran: an injected element, or the flag. */
function injected(page: Page): Promise<{ flag: unknown; images: number; scripts: number }> {
  return page.evaluate(() => ({
    flag: (window as unknown as { __xss?: unknown }).__xss,
    images: document.querySelectorAll('img[src="x"], img[onerror]').length,
    scripts: [...document.querySelectorAll("script")].filter((s) => (s.textContent ?? "").includes("__xss")).length,
  }));
}

describe.runIf(browserAvailable())("a salesperson's board, and text from users shown as text", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  let admin: Awaited<ReturnType<typeof makeUser>>;
  let sam: Awaited<ReturnType<typeof makeUser>>;
  let readyFree: LeadCard, readyOthers: LeadCard, samsOwn: LeadCard, neither: LeadCard, othersOwn: LeadCard, xss: LeadCard;

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    const { auth, leads } = server.app.services;
    admin = await makeUser(auth, "admin", "Ada Admin");
    sam = await makeUser(auth, "salesperson", "Sam Sales");
    const olga = await makeUser(auth, "salesperson", "Olga Other");
    const create = async (topic: string, ownerId: string | null, salesReady: boolean, contact = {}) => {
      const person = await makeContact(t.database.db, contact);
      const lead = await leads.create(admin.actor, { topic, ownerId, contactId: person.id }, new Date());
      // The sales-ready mark comes from scoring or the gate; set it directly here.
      if (salesReady) await t.database.db.update(leadsTable).set({ salesReady: true }).where(eq(leadsTable.id, lead.id));
      return lead;
    };
    readyFree = await create("Ready, nobody's", null, true);
    readyOthers = await create("Ready, Olga's", olga.user.id, true);
    samsOwn = await create("Sam's own, not ready", sam.user.id, false);
    neither = await create("Not ready, nobody's", null, false);
    othersOwn = await create("Olga's own, not ready", olga.user.id, false);
    xss = await create(xssTopic, sam.user.id, true, xssContact);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  async function openBoard(email: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    await signIn(page, server.url, email, testPassword);
    return page;
  }

  it("shows a salesperson the sales-ready leads and their own, never the others, and no admin pages", async () => {
    screenshotOnFailure(() => pages);
    const page = await openBoard(sam.user.email);

    await expect.poll(() => testid(page, "board").getAttribute("data-view")).toBe("sales_ready");
    await expect.poll(() => shownCards(page)).toEqual(ids(readyFree, readyOthers, xss));
    const views = await testid(page, "view-picker").locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(views).toEqual(["sales_ready", "my_leads"]);

    await testid(page, "view-picker").selectOption("my_leads");
    await expect.poll(() => testid(page, "board").getAttribute("data-view")).toBe("my_leads");
    await expect.poll(() => shownCards(page)).toEqual(ids(samsOwn, xss));
    for (const hidden of [neither, othersOwn]) expect(await card(page, hidden.id).count()).toBe(0);

    // The nav offers the board and the leads only; an admin page's address shows the board.
    const nav = await testid(page, "nav").locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("data-testid")));
    expect(nav).toEqual(["nav-board", "nav-leads"]);
    await page.goto(`${server.url}/#/users`);
    await page.locator('[data-testid="board"][data-seq]').waitFor();
    expect(await page.locator('[data-testid="page"]').count()).toBe(0);
    expect(await testid(page, "users-table").count()).toBe(0);
  });

  it("renders markup in a topic and a contact's name as literal text on the card, in the drawer and in the feed", async () => {
    screenshotOnFailure(() => pages);
    const page = await openBoard(sam.user.email);

    const shown = card(page, xss.id);
    await shown.waitFor();
    expect(await handle(page, xss.id).textContent()).toBe(xssTopic);
    expect(await shown.locator(".who").textContent()).toBe(xssContactName);

    await handle(page, xss.id).click();
    const drawer = page.locator(`[data-testid="lead-drawer"][data-lead-id="${xss.id}"]`);
    await expect.poll(() => drawer.locator('[data-testid="drawer-topic"]').textContent()).toBe(xssTopic);
    await expect.poll(() => drawer.locator('[data-testid="lead-contact"]').textContent()).toBe(xssContactName);
    await drawer.locator('button[aria-label="Close"]').click();

    // A move made elsewhere while the feed is open names the lead by its topic.
    await testid(page, "activity-toggle").click();
    const { leads } = server.app.services;
    const current = await leads.get(xss.id);
    await leads.move(admin.actor, { leadId: xss.id, toStage: "automated_marketing_qualification", expectedVersion: current.version }, new Date());
    const item = testid(page, "activity-feed").locator(`[data-testid="activity-item"][data-lead-id="${xss.id}"]`);
    await expect.poll(() => item.first().textContent()).toContain(`Ada Admin moved ${xssTopic} to`);

    // Nothing was injected, nothing ran (a broken <img> fires onerror at once; the check also holds after it).
    expect(await injected(page)).toEqual({ flag: undefined, images: 0, scripts: 0 });
    await page.reload();
    await card(page, xss.id).waitFor();
    expect(await injected(page)).toEqual({ flag: undefined, images: 0, scripts: 0 });
  });
});
