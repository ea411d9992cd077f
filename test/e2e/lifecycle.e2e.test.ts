import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContact, makeLead, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const column = (page: Page, stage: string) => page.locator(`[data-testid="column"][data-stage="${stage}"]`);
const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);

describe.runIf(browserAvailable())("lead lifecycle in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  let marketer: Awaited<ReturnType<typeof makeUser>>;

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    marketer = await makeUser(server.app.services.auth, "marketer", "Mia Marketer");
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    return context.newPage();
  }

  it("a form made on the Forms page, pasted into another page and submitted, shows its lead on the board", async () => {
    const page = await newPage();
    await signIn(page, server.url, marketer.user.email, testPassword);

    await page.locator('[data-testid="nav-forms"]').click();
    const create = page.locator('[data-testid="form-create"]');
    await create.locator('input[name="name"]').fill("Browser test landing page");
    await create.locator('input[name="campaign"]').fill("E2E campaign");
    await create.locator('button[type="submit"]').click();
    const snippetBox = page.locator('[data-testid="form-snippet"]');
    await snippetBox.waitFor();
    const snippetHtml = (await snippetBox.textContent()) ?? "";
    expect(snippetHtml).toContain(`${server.url}/api/forms/`);
    expect(snippetHtml).toContain("<form");

    // Someone else's site: a plain page in another browser, holding only the pasted snippet.
    const site = await newPage();
    await site.setContent(`<!doctype html><html><body><h1>Our product</h1>${snippetHtml}</body></html>`);
    await site.locator('input[name="email"]').fill("grace.hopper@navy.example");
    await site.locator('input[name="firstName"]').fill("Grace");
    await site.locator('input[name="lastName"]').fill("Hopper");
    await site.locator('input[name="company"]').fill("US Navy");
    await Promise.all([site.waitForURL(/\/api\/forms\/.+\/submissions$/), site.locator('button[type="submit"]').click()]);
    expect(await site.locator("h1").textContent()).toContain("Thank you");

    await page.locator('[data-testid="nav-board"]').click();
    const newCard = column(page, "inquiry").locator('[data-testid="lead-card"]', { hasText: "Grace Hopper" });
    await expect.poll(() => newCard.count(), { timeout: 10_000 }).toBe(1);
  });

  it("ticking the gate in the drawer moves the card on and records the change", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, marketer.actor, {
      topic: "Drawer gate lead",
      stage: "automated_marketing_qualification",
    });
    const page = await newPage();
    await signIn(page, server.url, marketer.user.email, testPassword);
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(1);

    await card(page, lead.id).click();
    const drawer = page.locator(`[data-testid="lead-drawer"][data-lead-id="${lead.id}"]`);
    await drawer.locator('[data-testid="lead-history"]').waitFor();
    expect(await drawer.locator('[data-testid="drawer-topic"]').textContent()).toContain("Drawer gate lead");
    const gate = drawer.locator('[data-testid="flag-ready_for_teleprospecting"]');
    expect(await gate.isChecked()).toBe(false);
    await gate.check();

    await expect.poll(() => column(page, "teleprospecting_acceptance").locator(card(page, lead.id)).count(), { timeout: 10_000 }).toBe(1);
    expect(await column(page, "automated_marketing_qualification").locator(card(page, lead.id)).count()).toBe(0);
    await expect.poll(() => drawer.locator('[data-testid="drawer-stage"]').getAttribute("data-stage")).toBe("teleprospecting_acceptance");
    await expect.poll(() => gate.isChecked()).toBe(true);
    const history = drawer.locator('[data-testid="lead-history"]');
    const moved = history.locator('[data-testid="history-entry"][data-kind="stage"]', { hasText: "Teleprospecting acceptance" });
    await expect.poll(() => moved.count()).toBe(1);
    expect(await moved.textContent()).toContain("Automated marketing qualification");
    expect(await moved.textContent()).toContain("Mia Marketer");
    await expect.poll(() => history.locator('[data-kind="flag"]', { hasText: "Ready for teleprospecting" }).count()).toBe(1);

    const stored = await server.app.services.leads.get(lead.id);
    expect(stored).toMatchObject({ stage: "teleprospecting_acceptance", readyForTeleprospecting: true });
  });

  it("a move refused for a missing parent offers to fill it in, and linking a contact makes the lead scorable", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, marketer.actor, { topic: "Orphan lead", withContact: false });
    await makeContact(t.database.db, { firstName: "Linus", lastName: "Linkable", email: "linus.linkable@test.example" });
    const page = await newPage();
    await signIn(page, server.url, marketer.user.email, testPassword);
    expect(await card(page, lead.id).textContent()).toContain("unscorable");

    await card(page, lead.id).dragTo(column(page, "automated_marketing_qualification").locator('[data-testid="column-cards"]'));
    const toast = page.locator('[data-testid="toast"]', { hasText: "needs a parent contact or account" });
    await toast.locator('[data-testid="toast-action"]').click();

    const drawer = page.locator(`[data-testid="lead-drawer"][data-lead-id="${lead.id}"]`);
    await drawer.locator('[data-testid="link-contact"]').click();
    await drawer.locator('[data-testid="contact-picker"] input').fill("Linkable");
    await drawer.locator('[data-testid="contact-picker"] [role="option"]', { hasText: "Linus Linkable" }).click();

    await expect.poll(() => drawer.locator('[data-testid="lead-contact"]').textContent()).toBe("Linus Linkable");
    await expect.poll(() => card(page, lead.id).textContent()).toContain("Linus Linkable");
    expect(await card(page, lead.id).textContent()).not.toContain("unscorable");
    expect(await server.app.services.leads.get(lead.id)).toMatchObject({ scorable: true, stage: "inquiry" });
  });
});
