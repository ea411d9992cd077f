import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../server/services/actor.ts";
import { makeLead, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { modelInput } from "../support/scoring.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);
const tracker: Actor = { id: null, name: "E2E tracker", kind: "api", role: "admin", scopes: ["ingest"] };

describe.runIf(browserAvailable())("lead scoring in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  let marketer: Awaited<ReturnType<typeof makeUser>>;
  let manager: Awaited<ReturnType<typeof makeUser>>;
  let salesperson: Awaited<ReturnType<typeof makeUser>>;

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    marketer = await makeUser(server.app.services.auth, "marketer", "Mia Marketer");
    manager = await makeUser(server.app.services.auth, "sales_manager", "Morgan Manager");
    salesperson = await makeUser(server.app.services.auth, "salesperson", "Sam Sales");
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

  const ingest = (contactId: string, type: string, times = 1) =>
    server.app.services.interactions.ingest(tracker, Array.from({ length: times }, () => ({ type, contactId })), new Date());

  it("a marketer builds a model with errors shown at the inputs and a live preview, then publishes it", async () => {
    await makeLead(t.database.db, server.app.services.leads, marketer.actor, { topic: "Preview lead" });
    const page = await newPage();
    await signIn(page, server.url, marketer.user.email, testPassword);
    await page.locator('[data-testid="nav-scoring"]').click();
    await page.locator('[data-testid="scoring-page"]').waitFor();
    await page.locator('[data-testid="new-model"]').click();

    const editor = page.locator('[data-testid="model-editor"]');
    await editor.locator('[data-testid="model-name"]').fill("Form interest");
    await editor.locator('[data-testid="model-threshold"]').fill("0");
    await expect.poll(() => editor.locator('[data-testid="field-error"][data-field="threshold"]').textContent()).toContain("at least 1");
    await editor.locator('[data-testid="model-threshold"]').fill("30");
    expect(await editor.locator('[data-testid="field-error"]').count()).toBe(0);

    const row = editor.locator('[data-testid="condition-row"]').first();
    await row.locator('[data-testid="condition-interaction"]').selectOption("form_submitted");
    await row.locator('[data-testid="condition-points"]').fill("10");
    await editor.locator('[data-testid="add-grade"]').click();
    await editor.locator('[data-testid="add-grade"]').click();
    expect(await editor.locator('[data-testid="grade-row"]').count()).toBe(2);
    // A gap between the grades is refused next to the row.
    await editor.locator('[data-testid="grade-row"]').nth(1).locator('[data-testid="grade-min"]').fill("40");
    await expect.poll(() => editor.locator('[data-testid="field-error"][data-field="grades.1"]').textContent()).toContain("no grade");
    await editor.locator('[data-testid="grade-row"]').nth(1).locator('[data-testid="grade-min"]').fill("25");

    const preview = page.locator('[data-testid="model-preview"]');
    await expect.poll(() => preview.locator('[data-testid="preview-scored"]').textContent(), { timeout: 10_000 }).toMatch(/^\d+$/);
    expect(Number(await preview.locator('[data-testid="preview-scored"]').textContent())).toBeGreaterThan(0);
    expect(await preview.locator('[data-testid="preview-cross"]').textContent()).toBe("0");

    await editor.locator('[data-testid="model-publish"]').click();
    await expect.poll(() => editor.getAttribute("data-status"), { timeout: 10_000 }).toBe("live");
    await editor.locator('[data-testid="rescore-progress"]').waitFor();
    await expect.poll(() => editor.locator('[data-testid="rescore-progress"]').getAttribute("data-status"), { timeout: 15_000 }).toBe("done");
    const listed = page.locator('[data-testid="model-row"]', { hasText: "Form interest" });
    expect(await listed.getAttribute("data-status")).toBe("live");
    await expect.poll(() => page.locator('[data-testid="model-insights"] [data-testid="insights-scored"]').textContent(), { timeout: 10_000 }).toMatch(/^\d+$/);
  });

  it("scores change live on the card, explain themselves, and the sales roles are told when the lead becomes sales-ready", async () => {
    const { model } = await server.app.services.scoringModels.create(
      marketer.actor,
      modelInput([{ kind: "behavior", interaction: "event_attended", points: 15, frequency: "each" }], { name: "Event model", threshold: 30 }),
      new Date(),
    );
    const lead = await makeLead(t.database.db, server.app.services.leads, marketer.actor, { topic: "Conference follow-up" });
    const page = await newPage();
    await signIn(page, server.url, manager.user.email, testPassword);
    // A salesperson sees sales-ready leads only: this one reaches their board as it crosses.
    const sales = await newPage();
    await signIn(sales, server.url, salesperson.user.email, testPassword);

    // The board can show one model's scores; the choice is kept in the URL.
    await page.locator('[data-testid="score-model-select"]').selectOption(model.id);
    expect(new URL(page.url()).searchParams.get("model")).toBe(model.id);

    await ingest(lead.contactId!, "event_attended");
    const score = card(page, lead.id).locator('[data-testid="lead-score"]');
    await expect.poll(() => score.getAttribute("data-score"), { timeout: 10_000 }).toBe("15");

    await score.focus();
    const popover = page.locator('[data-testid="score-popover"]');
    await expect.poll(() => popover.textContent(), { timeout: 10_000 }).toContain("attended an event, just now");
    expect(await popover.textContent()).toContain("+15");
    await page.keyboard.press("Escape");
    expect(await popover.count()).toBe(0);

    await ingest(lead.contactId!, "event_attended");
    await expect.poll(() => score.getAttribute("data-score"), { timeout: 10_000 }).toBe("30");
    expect(await score.getAttribute("data-trend")).toBe("up");
    const toast = page.locator('[data-testid="toast"]', { hasText: "Conference follow-up is sales-ready: Event model 30 ≥ 30" });
    await toast.waitFor({ timeout: 10_000 });
    await sales.locator('[data-testid="toast"]', { hasText: "Conference follow-up is sales-ready" }).waitFor({ timeout: 10_000 });
    expect(await card(sales, lead.id).count()).toBe(1);
    await toast.locator('[data-testid="toast-action"]').click();
    await page.locator(`[data-testid="lead-drawer"][data-lead-id="${lead.id}"] [data-testid="lead-score-model"][data-model-id="${model.id}"]`).waitFor();
  }, 60_000);

  it("an unscorable card links its parents in one click", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, marketer.actor, { topic: "Orphan interest", withContact: false });
    const page = await newPage();
    await signIn(page, server.url, marketer.user.email, testPassword);
    await card(page, lead.id).locator('[data-testid="link-parent"]').click();
    const drawer = page.locator(`[data-testid="lead-drawer"][data-lead-id="${lead.id}"]`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("link-contact");
    expect(await drawer.locator('[data-testid="lead-parents"]').isVisible()).toBe(true);
  });
});
