import { createServer, type Server } from "node:http";
import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContact, makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure, signIn } from "../support/browser.ts";
import { card, centreOf, startMouseDrag } from "../support/board-page.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

interface Violation {
  directive: string;
  blocked: string;
  source: string;
  sample: string;
}

/** Collects every CSP violation the page reports, from before its first script runs. */
async function watchViolations(page: Page): Promise<() => Promise<Violation[]>> {
  await page.addInitScript(() => {
    const seen: unknown[] = [];
    (window as unknown as { __violations: unknown[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (e) =>
      seen.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, sample: e.sample }),
    );
  });
  return () => page.evaluate(() => (window as unknown as { __violations: Violation[] }).__violations ?? []);
}

/** A page of another site on this machine (another port: same site for cookies, another origin). */
function startPartnerSite(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.setHeader("content-type", "text/html").end("<!doctype html><title>Partner</title>"));
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, origin: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
    }),
  );
}

describe.runIf(browserAvailable())("the Content-Security-Policy in a browser", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  let partner: { server: Server; origin: string };
  let adminEmail: string;
  let leadIds: string[];
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];

  beforeAll(async () => {
    clientDir = await buildClient();
    partner = await startPartnerSite();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir, {
      deps: { publicIntake: { corsOrigins: [partner.origin], perMinute: 1000 } },
    });
    const { auth, leads } = server.app.services;
    const admin = await makeUser(auth, "admin", "Ada Admin");
    adminEmail = admin.user.email;
    leadIds = [];
    for (const topic of ["Acme renewal", "Globex pilot"]) {
      const contact = await makeContact(t.database.db);
      leadIds.push((await leads.create(admin.actor, { topic, contactId: contact.id }, new Date())).id);
    }
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    await new Promise((r) => partner?.server.close(r));
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    return page;
  }

  it("the board, its drawer and menus, the admin pages and a wall display run without a single violation", async () => {
    screenshotOnFailure(() => pages);
    const page = await newPage();
    const violations = await watchViolations(page);
    const shell = await page.request.get(server.url);
    expect(shell.headers()["content-security-policy"]).toContain("script-src 'self'");

    await signIn(page, server.url, adminEmail, testPassword);
    const [first, second] = leadIds as [string, string];
    await card(page, first).waitFor();
    await card(page, first).locator('[data-testid="lead-card-open"]').click();
    await page.locator(`[data-testid="lead-drawer"][data-lead-id="${first}"]`).waitFor();
    await page.locator('[data-testid="lead-drawer"] [data-testid="lead-history"]').waitFor();
    await page.locator('[data-testid="lead-drawer"] button[aria-label="Close"]').click();
    await expect.poll(() => page.locator('[data-testid="lead-drawer"]').count()).toBe(0);
    await card(page, first).locator('[data-testid="card-menu-button"]').click();
    await page.locator('[data-testid="card-menu"]').waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator('[data-testid="card-menu"]').count()).toBe(0);
    // A drag shows the ghost (positioned with style: directives); dropping it moves the lead.
    await startMouseDrag(page, second, await centreOf(page, "automated_marketing_qualification"));
    await page.locator('[data-testid="drag-ghost"]').waitFor();
    await page.mouse.up();

    for (const admin of ["forms", "scoring", "processes", "segments", "imports", "users", "api-keys", "displays", "audit"]) {
      await page.locator(`[data-testid="nav-${admin}"]`).click();
      await page.waitForFunction((p) => location.hash.startsWith(`#/${p}`), admin);
      await page.locator("h1.page-title").first().waitFor();
    }
    await page.locator('[data-testid="nav-board"]').click();
    await page.locator('[data-testid="board"][data-seq]').waitFor();
    expect(await violations()).toEqual([]);

    // A wall display: its own route, no sign-in.
    const cookie = await login(server.url, adminEmail);
    const processes = (await (await fetch(`${server.url}/api/processes`, { headers: { cookie } })).json()) as Array<{ id: string }>;
    const created = await fetch(`${server.url}/api/display-tokens`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "Sales room", screens: [{ processId: processes[0]!.id }] }),
    });
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as { url: string };
    const wall = await newPage();
    const wallViolations = await watchViolations(wall);
    await wall.goto(url.startsWith("http") ? url : `${server.url}${url}`);
    await wall.locator('[data-testid="wall-card"]').first().waitFor();
    expect(await wallViolations()).toEqual([]);
  }, 90_000);

  it("lets another site post to the public intake, but not act or connect with the visitor's cookie", async () => {
    const page = await newPage();
    await signIn(page, server.url, adminEmail, testPassword);
    const admin = await makeUser(server.app.services.auth, "admin");
    const form = await server.app.services.forms.create(admin.actor, { name: "Partner form" }, new Date());

    // Same machine, another port: the same *site*, so SameSite=Lax still sends the cookie. The Origin check is what stops it.
    await page.goto(partner.origin);
    const outcome = await page.evaluate(
      async ({ board, formId }) => {
        const submitted = await fetch(`${board}/api/forms/${formId}/submissions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "visitor@partner.example" }),
        }).then((r) => r.status);
        // A "simple" request (no preflight) that needs no body: signing the visitor out.
        const forged = await fetch(`${board}/api/auth/logout`, { method: "POST", credentials: "include" }).then(
          (r) => `answered ${r.status}`,
          () => "unreadable",
        );
        const socket = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`${board.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
          ws.onmessage = (m) => {
            const text = String(m.data);
            if (text.startsWith("0")) ws.send("40");
            else if (text.startsWith("4")) resolve(text);
          };
          ws.onerror = () => resolve("error");
        });
        return { submitted, forged, socket };
      },
      { board: server.url, formId: form.id },
    );
    expect(outcome.submitted).toBe(201);
    // The answer is a 403 without CORS headers: the page cannot even read it.
    expect(outcome.forged).toBe("unreadable");
    expect(outcome.socket).toMatch(/^44.*FORBIDDEN/);
    expect((await page.request.get(`${server.url}/api/me`)).status()).toBe(200);
  });
});
