import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LeadCard } from "../../shared/board.ts";
import type { DisplayTokenInput } from "../../shared/schemas/display-tokens.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { login, restartTestServer, startTestServer, type TestServer } from "../support/server.ts";
import {
  call,
  celebration,
  controlsOn,
  createDisplayToken,
  fontSizeOf,
  revokeDisplayToken,
  wall,
  wallCard,
  wallColumn,
  wallDot,
  wallEnded,
  wallShownIn,
  wallTitle,
  wallTotal,
} from "../support/wall-page.ts";

type Person = Awaited<ReturnType<typeof makeUser>>;

const amq = "automated_marketing_qualification";
const revokedText = "This display was disconnected by an administrator";

describe.runIf(browserAvailable())("the wall display (TV mode) in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  let admin: Person;
  let manager: Person;
  let adminCookie: string;
  let managerCookie: string;
  let processId: string;
  const contexts: BrowserContext[] = [];
  let pages: Page[] = [];
  /** Uncaught errors of the pages, by page. */
  const errors = new Map<Page, string[]>();

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    admin = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    manager = await makeUser(server.app.services.auth, "sales_manager", "Morgan Manager");
    adminCookie = await login(server.url, admin.user.email);
    managerCookie = await login(server.url, manager.user.email);
    processId = (await lead("Finds the default process")).processId;
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    pages = [];
    screenshotOnFailure(() => pages);
  });

  const lead = (topic: string, stage = "inquiry") => makeLead(t.database.db, server.app.services.leads, manager.actor, { topic, stage });
  const token = (input: Partial<DisplayTokenInput> = {}) =>
    createDisplayToken(server.url, adminCookie, { name: "Sales room TV", screens: [{ processId, label: "Sales room" }], ...input });

  async function openWall(secret: string, options: { width?: number; height?: number; reducedMotion?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1920, height: options.height ?? 1080 },
      reducedMotion: options.reducedMotion ? "reduce" : "no-preference",
    });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    const seen: string[] = [];
    errors.set(page, seen);
    page.on("pageerror", (err) => seen.push(err.message));
    // The strict Content-Security-Policy: the wall's styles (burn-in shift, confetti) must satisfy it.
    page.on("console", (msg) => {
      if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
    });
    await page.goto(`${server.url}/wall/${encodeURIComponent(secret)}`);
    return page;
  }

  const move = (card: LeadCard, toStage: string) =>
    call<LeadCard>(server.url, managerCookie, "POST", `/api/leads/${card.id}/move`, { toStage, expectedVersion: card.version });
  const flag = (card: LeadCard, name: "sales_ready" | "sales_accepted") =>
    call<LeadCard>(server.url, managerCookie, "POST", `/api/leads/${card.id}/flags`, { flag: name, value: true, expectedVersion: card.version });
  const total = async (page: Page, stage: string) => Number(((await wallTotal(page, stage).textContent()) ?? "").replace(/,/g, ""));

  it("shows the board read-only: no controls, no cursor, dark, user text as text, type that scales from 1080p to 4K", async () => {
    const xss = `<img src=x onerror="window.__wallXss=1">Fleet renewal`;
    const fresh = await lead(xss);
    const assigned = await call<LeadCard>(server.url, managerCookie, "POST", `/api/leads/${fresh.id}/assign`, { ownerId: manager.user.id, expectedVersion: fresh.version });
    expect(assigned.status).toBe(200);
    const a = assigned.body;
    const b = await lead("Warehouse scanners", amq);
    const { token: secret } = await token();
    const page = await openWall(secret);
    await wallCard(page, a.id).waitFor();
    await expect.poll(() => wallDot(page).getAttribute("data-status")).toBe("online");

    expect(await wallTitle(page).textContent()).toBe("Sales room");
    expect(await wallCard(page, a.id).locator('[data-testid="wall-card-topic"]').textContent()).toBe(xss);
    expect(await wall(page).locator("img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __wallXss?: number }).__wallXss)).toBeUndefined();
    expect(await wallColumn(page, amq).locator(wallCard(page, b.id)).count()).toBe(1);
    // Owner and time in stage on the card; nothing to press anywhere.
    expect(await wallCard(page, a.id).locator('[data-testid="wall-card-owner"]').textContent()).toBe("Morgan Manager");
    expect(await wallCard(page, a.id).locator('[data-testid="wall-card-age"]').textContent()).toMatch(/^\d+[mhd]$/);
    expect(await controlsOn(page)).toEqual([]);
    const look = await page.evaluate(() => {
      const card = document.querySelector('[data-testid="wall-card"]')!;
      return { body: getComputedStyle(document.body).cursor, card: getComputedStyle(card).cursor, bg: getComputedStyle(document.body).backgroundColor };
    });
    expect(look).toEqual({ body: "none", card: "none", bg: "rgb(5, 7, 10)" });

    // The header: clock, last update; the column totals; the headline figures.
    expect(await page.locator('[data-testid="wall-clock"]').textContent()).toMatch(/^\d{2}:\d{2}$/);
    expect(await page.locator('[data-testid="wall-updated"]').textContent()).toMatch(/^Updated \d{2}:\d{2}:\d{2}$/);
    const shown = await wallShownIn(page, "inquiry");
    expect(shown).toContain(a.id);
    expect(await total(page, "inquiry")).toBe(shown.length);
    await expect.poll(() => page.locator('[data-testid="wall-figures"]').getAttribute("data-loaded")).toBe("true");
    const newToday = page.locator('[data-testid="wall-figure"][data-figure="new"] [data-testid="wall-figure-value"]');
    expect(Number(await newToday.textContent())).toBeGreaterThanOrEqual(3);

    // Full screen at 1080p, then at 4K: the type doubles with the screen.
    const box1080 = await wall(page).boundingBox();
    expect(box1080).toMatchObject({ width: 1920, height: 1080 });
    const topic1080 = await fontSizeOf(page, '[data-testid="wall-card-topic"]');
    const clock1080 = await fontSizeOf(page, '[data-testid="wall-clock"]');
    expect(topic1080).toBeGreaterThanOrEqual(18);
    await page.setViewportSize({ width: 3840, height: 2160 });
    await expect.poll(() => fontSizeOf(page, '[data-testid="wall-card-topic"]')).toBeGreaterThan(topic1080 * 1.9);
    const topic4k = await fontSizeOf(page, '[data-testid="wall-card-topic"]');
    expect(topic4k).toBeLessThan(topic1080 * 2.1);
    expect(await fontSizeOf(page, '[data-testid="wall-clock"]')).toBeGreaterThan(clock1080 * 1.9);
    expect(await wall(page).boundingBox()).toMatchObject({ width: 3840, height: 2160 });
    // Nothing spills past the screen: the page does not scroll.
    expect(await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight])).toEqual([3840, 2160]);
    expect(errors.get(page)).toEqual([]);
  });

  it("follows live changes: a move over HTTP lands in its new column and the column totals follow", async () => {
    const card = await lead("Moves while the TV watches");
    const { token: secret } = await token();
    const page = await openWall(secret);
    await wallColumn(page, "inquiry").locator(wallCard(page, card.id)).waitFor();
    const before = { inquiry: await total(page, "inquiry"), amq: await total(page, amq) };

    const res = await move(card, amq);
    expect(res.status).toBe(200);
    await expect.poll(() => wallColumn(page, amq).locator(wallCard(page, card.id)).count()).toBe(1);
    expect(await wallColumn(page, "inquiry").locator(wallCard(page, card.id)).count()).toBe(0);
    await expect.poll(() => total(page, amq)).toBe(before.amq + 1);
    expect(await total(page, "inquiry")).toBe(before.inquiry - 1);
    // A new lead appears too.
    const created = await call<LeadCard>(server.url, managerCookie, "POST", "/api/leads", { topic: "Brand new on the wall" });
    expect(created.status).toBe(201);
    await expect.poll(() => wallCard(page, created.body.id).count()).toBe(1);
    expect(errors.get(page)).toEqual([]);
  });

  it("survives a server restart without reloading: says since when it is offline, keeps the board, catches up", async () => {
    const card = await lead("Moved while the server is away");
    const later = await lead("Moved after the restart");
    const { token: secret } = await token();
    const page = await openWall(secret);
    await wallCard(page, card.id).waitFor();
    await expect.poll(() => wallDot(page).getAttribute("data-status")).toBe("online");
    await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));

    const old = server;
    server = await restartTestServer(old, t.database, clientDir, {
      whileDown: async () => {
        await expect.poll(() => page.locator('[data-testid="wall-offline"]').textContent(), { timeout: 15_000 }).toMatch(/^Offline since \d{2}:\d{2}$/);
        expect(await wallDot(page).getAttribute("data-status")).not.toBe("online");
        // The last board stays on screen.
        expect(await wallColumn(page, "inquiry").locator(wallCard(page, card.id)).count()).toBe(1);
        await old.app.services.leads.move(manager.actor, { leadId: card.id, toStage: amq, expectedVersion: card.version }, new Date());
      },
    });

    await expect.poll(() => wallDot(page).getAttribute("data-status"), { timeout: 60_000 }).toBe("online");
    await expect.poll(() => wallColumn(page, amq).locator(wallCard(page, card.id)).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('[data-testid="wall-offline"]').count()).toBe(0);
    // And it goes on following: a change made after the restart shows up.
    expect((await move(later, amq)).status).toBe(200);
    await expect.poll(() => wallColumn(page, amq).locator(wallCard(page, later.id)).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1);
    expect(errors.get(page)).toEqual([]);
  }, 150_000);

  it("celebrates a lead made sales-ready, then accepted by sales; without confetti for reduced motion", async () => {
    const card = await lead("Celebrated deal", amq);
    const { token: secret } = await token();
    const page = await openWall(secret);
    const calm = await openWall(secret, { reducedMotion: true });
    for (const p of [page, calm]) await wallCard(p, card.id).waitFor();
    expect(await celebration(page).count()).toBe(0);

    const ready = await flag(card, "sales_ready");
    expect(ready.status).toBe(200);
    for (const p of [page, calm]) {
      await expect.poll(() => celebration(p).getAttribute("data-kind")).toBe("sales_ready");
      expect(await celebration(p).getAttribute("data-lead-id")).toBe(card.id);
      expect(await p.locator('[data-testid="wall-celebration-topic"]').textContent()).toBe("Celebrated deal");
      expect(await p.locator('[data-testid="wall-celebration-banner"]').textContent()).toContain("Sales-ready!");
    }
    expect(await page.locator('[data-testid="wall-confetti"] span').count()).toBeGreaterThan(10);
    expect(await calm.locator('[data-testid="wall-confetti"]').count()).toBe(0);

    // Accepted right after: queued behind the first banner, then shown.
    const accepted = await flag(ready.body, "sales_accepted");
    expect(accepted.status).toBe(200);
    await expect.poll(() => celebration(page).getAttribute("data-kind"), { timeout: 20_000 }).toBe("sales_accepted");
    expect(await page.locator('[data-testid="wall-celebration-banner"]').textContent()).toContain("Accepted by sales!");
    // The banner goes after a few seconds.
    await expect.poll(() => celebration(page).count(), { timeout: 20_000 }).toBe(0);
    expect(errors.get(page)).toEqual([]);
    expect(errors.get(calm)).toEqual([]);
  }, 60_000);

  it("rotates between two screens (another board) every N seconds, with a progress indicator", async () => {
    const other = await server.app.services.processes.create(
      admin.actor,
      { name: "Partner channel", stages: [{ key: "new", name: "New" }, { key: "won", name: "Won" }] },
      new Date(),
    );
    const { token: secret } = await token({
      screens: [
        { processId, label: "Pipeline" },
        { processId: other.id, label: "Partners" },
      ],
      rotateSeconds: 10,
    });
    const page = await openWall(secret);
    await expect.poll(() => wallTitle(page).textContent()).toBe("Pipeline");
    await wallColumn(page, "inquiry").waitFor();
    expect(await page.locator('[data-testid="wall-rotation-progress"]').count()).toBe(1);

    await expect.poll(() => wallTitle(page).textContent(), { timeout: 25_000 }).toBe("Partners");
    expect(await wall(page).getAttribute("data-process-id")).toBe(other.id);
    expect(await wall(page).getAttribute("data-screen-index")).toBe("1");
    await wallColumn(page, "won").waitFor();
    expect(await wallColumn(page, "inquiry").count()).toBe(0);

    await expect.poll(() => wallTitle(page).textContent(), { timeout: 25_000 }).toBe("Pipeline");
    expect(await wall(page).getAttribute("data-process-id")).toBe(processId);
    expect(errors.get(page)).toEqual([]);
  }, 90_000);

  it("revoking the token disconnects the wall at once, shows why, and it stops trying", async () => {
    const card = await lead("Seen until revoked");
    const { token: secret, displayToken } = await token();
    const page = await openWall(secret);
    await wallCard(page, card.id).waitFor();
    let sockets = 0;
    page.on("websocket", () => sockets++);

    await revokeDisplayToken(server.url, adminCookie, displayToken.id);
    await expect.poll(() => wallEnded(page).textContent()).toContain(revokedText);
    expect(await wallEnded(page).getAttribute("data-reason")).toBe("revoked");
    expect(await wallCard(page, card.id).count()).toBe(0);
    // No reconnecting: several backoff windows pass without a new connection.
    await page.waitForTimeout(3_000);
    expect(sockets).toBe(0);

    // The same URL opened again (or any unknown token) is refused at the handshake: the same message.
    const again = await openWall(secret);
    await expect.poll(() => wallEnded(again).textContent()).toContain(revokedText);
    const unknown = await openWall("lpd_not-a-token");
    await expect.poll(() => wallEnded(unknown).textContent()).toContain(revokedText);
    expect(await controlsOn(unknown)).toEqual([]);
  });
});
