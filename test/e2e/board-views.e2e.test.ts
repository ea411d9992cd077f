import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { eq } from "drizzle-orm";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { makeContact, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

const screenshotDir = path.resolve("test-results/screenshots");
const bogusModel = "99999999-9999-4999-8999-999999999999";

const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);
const testid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

/** The ids of the cards the board shows, sorted. */
async function shownCards(page: Page): Promise<string[]> {
  const ids = await page.locator('[data-testid="board"] [data-testid="lead-card"]:visible').evaluateAll((els) =>
    els.map((el) => el.getAttribute("data-lead-id") ?? ""),
  );
  return ids.sort();
}

const ids = (...cards: LeadCard[]) => cards.map((c) => c.id).sort();
const search = (page: Page) => new URL(page.url()).searchParams;

describe.runIf(browserAvailable())("filters, saved views and the activity feed in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  let manager: Awaited<ReturnType<typeof makeUser>>;
  let marketer: Awaited<ReturnType<typeof makeUser>>;
  let acme: LeadCard, globex: LeadCard, initech: LeadCard, umbrella: LeadCard, stark: LeadCard;
  let all: LeadCard[];
  let formId: string;

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    const { auth, leads, forms } = server.app.services;
    const admin = await makeUser(auth, "admin", "Ada Admin");
    manager = await makeUser(auth, "sales_manager", "Morgan Manager");
    marketer = await makeUser(auth, "marketer", "Mia Marketer");
    formId = (await forms.create(admin.actor, { name: "Contact us", campaign: "Spring" }, new Date())).id;
    const create = async (topic: string, campaign: string | null, ownerId: string | null) => {
      const contact = await makeContact(t.database.db);
      return leads.create(admin.actor, { topic, campaign, ownerId, contactId: contact.id }, new Date());
    };
    acme = await create("Acme renewal", "Spring", marketer.user.id);
    globex = await create("Globex expansion", "Spring", manager.user.id);
    initech = await create("Initech pilot", "Autumn", null);
    umbrella = await create("Umbrella trial", null, manager.user.id);
    stark = await create("Stark upgrade", "Autumn", marketer.user.id);
    // A form and the sales-ready mark come from intake and scoring; set them directly here.
    await t.database.db.update(leadsTable).set({ formId, salesReady: true }).where(eq(leadsTable.id, acme.id));
    await t.database.db.update(leadsTable).set({ salesReady: true }).where(eq(leadsTable.id, umbrella.id));
    all = [acme, globex, initech, umbrella, stark];
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  /** A signed-in page at `query` (a shared link); its screenshot is saved if the test fails. */
  async function openBoard(ctx: TestContext, email: string, query = ""): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    ctx.onTestFailed(async () => {
      mkdirSync(screenshotDir, { recursive: true });
      const name = `${ctx.task.name.replace(/[^\w-]+/g, "_").slice(0, 80)}-${contexts.indexOf(context)}.png`;
      await page.screenshot({ path: path.join(screenshotDir, name), fullPage: true }).catch(() => undefined);
    });
    await signIn(page, `${server.url}/${query}`, email, testPassword);
    await expect.poll(() => testid(page, "filter-count").textContent()).toMatch(/^Showing \d+ of \d+ leads?$/);
    return page;
  }

  it("filters picked in the bar go into the URL, and the board shows only the matching cards with their count", async (ctx) => {
    const page = await openBoard(ctx, manager.user.email);
    await expect.poll(() => shownCards(page)).toEqual(ids(...all));
    expect(await testid(page, "filter-count").textContent()).toBe("Showing 5 of 5 leads");

    await testid(page, "filter-owner").selectOption("me");
    await expect.poll(() => shownCards(page)).toEqual(ids(globex, umbrella));
    expect(search(page).get("owner")).toBe("me");
    expect(await testid(page, "filter-count").textContent()).toBe("Showing 2 of 5 leads");

    await testid(page, "filter-ready").selectOption("1");
    await expect.poll(() => shownCards(page)).toEqual(ids(umbrella));
    expect(search(page).get("ready")).toBe("1");

    // Another owner, picked by name from the cards on the board.
    await testid(page, "filter-owner").selectOption({ label: "Mia Marketer" });
    await expect.poll(() => shownCards(page)).toEqual(ids(acme));
    expect(search(page).get("owner")).toBe(marketer.user.id);

    await testid(page, "filter-ready").selectOption("");
    await testid(page, "filter-owner").selectOption("none");
    await expect.poll(() => shownCards(page)).toEqual(ids(initech));

    await testid(page, "filter-owner").selectOption("");
    await testid(page, "filter-campaign").selectOption("Autumn");
    await expect.poll(() => shownCards(page)).toEqual(ids(initech, stark));
    expect(search(page).get("campaign")).toBe("Autumn");

    await testid(page, "filter-campaign").selectOption("");
    await testid(page, "filter-form").selectOption({ label: "Contact us" });
    await expect.poll(() => shownCards(page)).toEqual(ids(acme));
    expect(search(page).get("form")).toBe(formId);
    expect(search(page).has("campaign")).toBe(false);
    expect(await testid(page, "filter-count").textContent()).toBe("Showing 1 of 5 leads");

    // The view picker is part of the link too.
    await testid(page, "view-picker").selectOption("sales_ready");
    await expect.poll(() => page.locator('[data-testid="board"]').getAttribute("data-view")).toBe("sales_ready");
    expect(search(page).get("view")).toBe("sales_ready");
    expect(search(page).get("form")).toBe(formId);
  });

  it("a link with filters opens the same filtered board, with the controls set, keeping other parameters", async (ctx) => {
    const link = `?model=${bogusModel}&owner=me&ready=1&q=umbrella&view=all&grade=,&colour=red`;
    const page = await openBoard(ctx, manager.user.email, link);
    await expect.poll(() => shownCards(page)).toEqual(ids(umbrella));
    expect(await testid(page, "filter-owner").inputValue()).toBe("me");
    expect(await testid(page, "filter-ready").inputValue()).toBe("1");
    expect(await testid(page, "filter-text").inputValue()).toBe("umbrella");
    expect(await testid(page, "view-picker").inputValue()).toBe("all");
    expect(await testid(page, "filter-count").textContent()).toBe("Showing 1 of 5 leads");

    await testid(page, "filter-clear").click();
    await expect.poll(() => shownCards(page)).toEqual(ids(...all));
    const params = search(page);
    for (const key of ["owner", "ready", "q", "grade", "campaign", "form"]) expect(params.has(key)).toBe(false);
    // What the filters do not own stays: the model, the board and anything else.
    expect(params.get("model")).toBe(bogusModel);
    expect(params.get("view")).toBe("all");
    expect(params.get("colour")).toBe("red");
    expect(await testid(page, "filter-owner").inputValue()).toBe("");
    expect(await testid(page, "filter-clear").isDisabled()).toBe(true);
  });

  it("a link naming a board this role may not open shows the default board, and bad values are ignored", async (ctx) => {
    const salesperson = await makeUser(server.app.services.auth, "salesperson", "Sam Sales");
    const page = await openBoard(ctx, salesperson.user.email, "?view=all&owner=bob&ready=maybe");
    // Salespeople may not open "All leads": the link's view is ignored, not an error page.
    await expect.poll(() => page.locator('[data-testid="board"]').getAttribute("data-view")).toBe("sales_ready");
    expect(await testid(page, "filter-owner").inputValue()).toBe("");
    expect(await testid(page, "filter-ready").inputValue()).toBe("");
    expect(await testid(page, "filter-clear").isDisabled()).toBe(true);

    // A process that does not exist (deleted since the link was shared): the default board, and the link is fixed.
    const gone = await openBoard(ctx, manager.user.email, `?process=${bogusModel}&owner=me`);
    await expect.poll(() => gone.locator('[data-testid="toast"]').allTextContents()).toContainEqual(
      expect.stringContaining("cannot be opened"),
    );
    await expect.poll(() => shownCards(gone)).toEqual(ids(globex, umbrella));
    await expect.poll(() => search(gone).has("process")).toBe(false);
    expect(search(gone).get("owner")).toBe("me");
  });

  it("the search box filters as you type, and Escape clears it", async (ctx) => {
    const page = await openBoard(ctx, manager.user.email);
    const box = testid(page, "filter-text");
    await box.fill("ACME ren");
    await expect.poll(() => shownCards(page)).toEqual(ids(acme));
    await expect.poll(() => search(page).get("q")).toBe("ACME ren");
    // The owner's name and the campaign are searched too.
    await box.fill("mia autumn");
    await expect.poll(() => shownCards(page)).toEqual(ids(stark));
    await box.press("Escape");
    await expect.poll(() => shownCards(page)).toEqual(ids(...all));
    expect(await box.inputValue()).toBe("");
    expect(search(page).has("q")).toBe(false);
  });

  it("saves a view, refuses a duplicate name inline, and applies the view after a reload", async (ctx) => {
    const page = await openBoard(ctx, manager.user.email, "?campaign=Spring&ready=1");
    await expect.poll(() => shownCards(page)).toEqual(ids(acme));

    await testid(page, "saved-views-toggle").click();
    await testid(page, "saved-view-new").click();
    await testid(page, "saved-view-name").fill("Spring, ready");
    await testid(page, "saved-view-shared").check();
    await testid(page, "saved-view-save").click();
    const saved = page.locator('[data-testid="saved-view"][data-name="Spring, ready"]');
    await saved.waitFor();
    expect(await saved.locator('[data-testid="saved-view-shared-badge"]').count()).toBe(1);

    await testid(page, "saved-view-new").click();
    await testid(page, "saved-view-name").fill("Spring, ready");
    await testid(page, "saved-view-save").click();
    await expect.poll(() => testid(page, "saved-view-error").getAttribute("data-code")).toBe("CONFLICT");
    expect(await testid(page, "saved-view-error").textContent()).toContain("already");
    await testid(page, "saved-view-name").press("Escape");

    // A fresh load without the filters, then the saved view brings them back.
    await page.goto(`${server.url}/`);
    await expect.poll(() => shownCards(page)).toEqual(ids(...all));
    await testid(page, "saved-views-toggle").click();
    await saved.locator('[data-testid="saved-view-apply"]').click();
    await expect.poll(() => shownCards(page)).toEqual(ids(acme));
    expect(search(page).get("campaign")).toBe("Spring");
    expect(search(page).get("ready")).toBe("1");
    expect(await testid(page, "filter-campaign").inputValue()).toBe("Spring");

    // Someone else sees the shared view with its owner, and cannot delete it.
    const other = await openBoard(ctx, marketer.user.email);
    await testid(other, "saved-views-toggle").click();
    const theirs = other.locator('[data-testid="saved-view"][data-name="Spring, ready"]');
    await expect.poll(() => theirs.textContent()).toContain("by Morgan Manager");
    expect(await theirs.locator('[data-testid="saved-view-delete"]').count()).toBe(0);

    // Its owner deletes it.
    await testid(page, "saved-views-toggle").click();
    await saved.locator('[data-testid="saved-view-delete"]').click();
    await expect.poll(() => saved.count()).toBe(0);
    const cookie = await login(server.url, manager.user.email);
    const res = await fetch(`${server.url}/api/saved-views`, { headers: { cookie } });
    expect(await res.json()).toEqual([]);
  });

  it("the activity feed shows a move made elsewhere with who made it, and opens the lead", async (ctx) => {
    // A move made before the page opens comes from the history...
    const before = await server.app.services.leads.get(initech.id);
    await server.app.services.leads.move(
      marketer.actor,
      { leadId: initech.id, toStage: "automated_marketing_qualification", expectedVersion: before.version },
      new Date(),
    );
    const page = await openBoard(ctx, manager.user.email);
    await testid(page, "activity-toggle").click();
    const feed = testid(page, "activity-feed");
    const item = (leadId: string) => feed.locator(`[data-testid="activity-item"][data-lead-id="${leadId}"]`);
    await expect.poll(() => item(initech.id).first().textContent()).toContain(
      "Mia Marketer moved Initech pilot to Automated marketing qualification",
    );

    // ...and one made elsewhere while it is open arrives live, newest first.
    const current = await server.app.services.leads.get(stark.id);
    await server.app.services.leads.move(
      marketer.actor,
      { leadId: stark.id, toStage: "automated_marketing_qualification", expectedVersion: current.version },
      new Date(),
    );
    await expect.poll(() => feed.locator('[data-testid="activity-item"]').first().getAttribute("data-lead-id")).toBe(stark.id);
    expect(await item(stark.id).first().textContent()).toMatch(/Mia Marketer moved Stark upgrade to Automated marketing qualification\s*just now/);

    await item(stark.id).first().locator("button").click();
    await expect.poll(() => page.locator('[data-testid="lead-drawer"]').getAttribute("data-lead-id")).toBe(stark.id);
    expect(await card(page, stark.id).count()).toBe(1);
  });
});
