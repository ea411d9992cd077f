import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUser, testPassword } from "../support/builders.ts";
import { browserAvailable, buildClient, launchBrowser, screenshotOnFailure, signIn } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const testid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);
const userRow = (page: Page, email: string) => page.locator(`[data-testid="user-row"][data-email="${email}"]`);
/** Cross-tab effects (a socket ended by the server) arrive within seconds, not at once. */
const soon = { timeout: 10_000 };

describe.runIf(browserAvailable())("administration in a browser: users, invitations, API keys, wall displays, audit", () => {
  let t: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let clientDir: string;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  /** What each confirm() asked, accepted. */
  const confirms: string[] = [];
  let admin: Awaited<ReturnType<typeof makeUser>>;
  let mia: Awaited<ReturnType<typeof makeUser>>;
  let adminPage: Page;

  beforeAll(async () => {
    clientDir = await buildClient();
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, clientDir);
    admin = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    mia = await makeUser(server.app.services.auth, "marketer", "Mia Marketer");
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
    const page = await context.newPage();
    pages.push(page);
    return page;
  }

  /** The admin's page on one of the admin pages; confirm() dialogs are accepted and recorded. */
  async function adminOn(hash: "users" | "api-keys" | "displays" | "audit"): Promise<Page> {
    if (!adminPage) {
      adminPage = await newPage();
      adminPage.on("dialog", (dialog) => {
        confirms.push(dialog.message());
        void dialog.accept();
      });
      await signIn(adminPage, server.url, admin.user.email, testPassword);
    }
    await adminPage.locator(`[data-testid="nav-${hash}"]`).click();
    await adminPage.locator(`[data-testid="page"][data-page="${hash}"]`).waitFor();
    return adminPage;
  }

  it("an invited user sets a password on the invitation page and lands on the board; the link works once", async () => {
    screenshotOnFailure(() => pages);
    const page = await adminOn("users");
    await testid(page, "user-email").fill("nora.new@test.example");
    await testid(page, "user-name").fill("Nora New");
    await testid(page, "user-role").selectOption("telemarketer");
    await testid(page, "user-create-submit").click();

    const link = await testid(page, "invite-link-value").inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/invite/[^/]+$`));
    expect(await testid(page, "invite-link").textContent()).toContain("shown only once");
    await expect.poll(() => userRow(page, "nora.new@test.example").getAttribute("data-status")).toBe("invited");
    await testid(page, "invite-link-done").click();
    expect(await testid(page, "invite-link").count()).toBe(0);

    const nora = await newPage();
    await nora.goto(link);
    await testid(nora, "invite-password").fill("short");
    await testid(nora, "invite-repeat").fill("short");
    await testid(nora, "invite-submit").click();
    await expect.poll(() => testid(nora, "invite-error").textContent()).toContain("at least 10 characters");
    await testid(nora, "invite-password").fill("a long new password");
    await testid(nora, "invite-repeat").fill("a long new passwort");
    await testid(nora, "invite-submit").click();
    await expect.poll(() => testid(nora, "invite-error").textContent()).toContain("not the same");
    await testid(nora, "invite-repeat").fill("a long new password");
    await testid(nora, "invite-submit").click();
    await nora.locator('[data-testid="board"][data-seq]').waitFor();
    expect(await nora.locator(".topbar .user").textContent()).toBe("Nora New");

    // The admin's list shows her as active now.
    await adminOn("audit");
    await adminOn("users");
    await expect.poll(() => userRow(page, "nora.new@test.example").getAttribute("data-status")).toBe("active");

    // The same link again: clearly dead, and nothing changes.
    const again = await newPage();
    await again.goto(link);
    await testid(again, "invite-password").fill("another long password");
    await testid(again, "invite-repeat").fill("another long password");
    await testid(again, "invite-submit").click();
    expect(await testid(again, "invite-dead").textContent()).toContain("expired or has already been used");
  });

  it("refuses a duplicate email, a bad email and the last admin's demotion with readable messages", async () => {
    screenshotOnFailure(() => pages);
    const page = await adminOn("users");
    await testid(page, "user-email").fill(mia.user.email);
    await testid(page, "user-name").fill("Mia Again");
    await testid(page, "user-create-submit").click();
    await expect.poll(() => testid(page, "user-create-error").textContent()).toContain("already exists");

    await testid(page, "user-email").fill("not an email");
    await testid(page, "user-create-submit").click();
    await expect.poll(() => page.locator('[data-testid="field-error"][data-field="email"]').textContent()).toContain("email");

    await testid(page, "user-mode-password").check();
    await testid(page, "user-email").fill("pat.password@test.example");
    await testid(page, "user-password").fill("tooshort");
    await testid(page, "user-create-submit").click();
    await expect.poll(() => testid(page, "user-create-error").textContent()).toContain("at least 10 characters");
    expect(await userRow(page, "pat.password@test.example").count()).toBe(0);

    // The only admin cannot demote themselves: refused, and the dropdown shows the role kept.
    const own = userRow(page, admin.user.email);
    await own.locator('[data-testid="user-row-role"]').selectOption("viewer");
    await expect.poll(() => testid(page, "users-error").textContent()).toMatch(/admin/i);
    expect(await own.locator('[data-testid="user-row-role"]').inputValue()).toBe("admin");
    expect(await own.getAttribute("data-role")).toBe("admin");
  });

  it("a role change reloads the other user's open board with the new role; deactivation signs them out at once", async () => {
    screenshotOnFailure(() => pages);
    const miaPage = await newPage();
    await signIn(miaPage, server.url, mia.user.email, testPassword);
    expect(await testid(miaPage, "nav-forms").count()).toBe(1);

    const page = await adminOn("users");
    const row = userRow(page, mia.user.email);
    await row.locator('[data-testid="user-row-role"]').selectOption("viewer");
    await expect.poll(() => row.getAttribute("data-role")).toBe("viewer");
    expect(confirms.at(-1)).toContain("from Marketer to Viewer");

    await expect.poll(() => testid(miaPage, "role-changed").textContent(), soon).toContain("Viewer");
    await expect.poll(() => testid(miaPage, "nav-forms").count(), soon).toBe(0);
    await miaPage.locator('[data-testid="board"][data-seq]').waitFor();

    await row.locator('[data-testid="user-deactivate"]').click();
    expect(confirms.at(-1)).toContain("ends their sessions at once");
    await expect.poll(() => row.getAttribute("data-status")).toBe("deactivated");
    await expect.poll(() => testid(miaPage, "session-ended").getAttribute("data-reason"), soon).toBe("deactivated");
    expect(await testid(miaPage, "session-ended").textContent()).toContain("deactivated");
    expect(await miaPage.locator('input[name="password"]').count()).toBe(1);
    expect(await testid(miaPage, "board").count()).toBe(0);

    // Signing in again is refused while deactivated.
    await miaPage.locator('input[name="email"]').fill(mia.user.email);
    await miaPage.locator('input[name="password"]').fill(testPassword);
    await miaPage.locator('button[type="submit"]').click();
    await testid(miaPage, "login-error").waitFor();
    expect(await testid(miaPage, "board").count()).toBe(0);
  });

  it("logging out in one tab signs out the other tabs of that browser, saying why", async () => {
    screenshotOnFailure(() => pages);
    const tom = await makeUser(server.app.services.auth, "telemarketer", "Tom Tele");
    const first = await newPage();
    await signIn(first, server.url, tom.user.email, testPassword);
    // A second tab of the same browser shares the session cookie.
    const second = await first.context().newPage();
    pages.push(second);
    await second.goto(server.url);
    await second.locator('[data-testid="board"][data-seq]').waitFor();

    await second.locator(".topbar .logout").click();
    await second.locator('input[name="password"]').waitFor();
    await expect.poll(() => testid(first, "session-ended").getAttribute("data-reason"), soon).toBe("signed_out");
    expect(await first.locator('input[name="password"]').count()).toBe(1);
    // The tab that logged out knows why: no message there.
    expect(await testid(second, "session-ended").count()).toBe(0);
  });

  it("an API key is shown once, works, and is only a prefix in the list afterwards", async () => {
    screenshotOnFailure(() => pages);
    const page = await adminOn("api-keys");
    await testid(page, "api-key-name").fill("CRM sync");
    await testid(page, "api-key-scope-read").check();
    await testid(page, "api-key-submit").click();

    const key = await testid(page, "api-key-secret-value").inputValue();
    expect(key).toMatch(/^lpk_.{20,}$/);
    expect(await testid(page, "api-key-secret").textContent()).toContain("shown only once");
    const res = await fetch(`${server.url}/api/processes`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);

    const row = page.locator('[data-testid="api-key-row"]', { hasText: "CRM sync" });
    await expect.poll(() => row.textContent()).toContain(`${key.slice(0, 12)}…`);
    expect(await row.textContent()).not.toContain(key);
    expect(await row.textContent()).toContain("read");

    await testid(page, "api-key-secret-done").click();
    await page.reload();
    await row.waitFor();
    expect(await page.locator("body").textContent()).not.toContain(key);
    expect(await page.locator("input").evaluateAll((els, k) => els.some((e) => (e as HTMLInputElement).value === k), key)).toBe(false);

    await row.locator('[data-testid="api-key-revoke"]').click();
    expect(confirms.at(-1)).toContain("Revoke the API key “CRM sync”");
    await expect.poll(() => row.getAttribute("data-revoked")).toBe("true");
    const refused = await fetch(`${server.url}/api/processes`, { headers: { authorization: `Bearer ${key}` } });
    expect(refused.status).toBe(401);
  });

  it("a wall display is created with two screens and its URL is shown once, with Copy and Open", async () => {
    screenshotOnFailure(() => pages);
    const page = await adminOn("displays");
    await testid(page, "display-name").fill("Sales room, north wall");
    await expect.poll(() => testid(page, "display-screen").count()).toBe(1);
    const views = await page
      .locator('[data-testid="display-screen-source"] option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(views).not.toContain("view:my_leads");
    await testid(page, "display-add-screen").click();
    const second = page.locator('[data-testid="display-screen"][data-index="1"]');
    await second.locator('[data-testid="display-screen-source"]').selectOption("view:sales_ready");
    await second.locator('[data-testid="display-screen-label"]').fill("Ready for sales");
    await testid(page, "display-rotate").fill("30");
    await testid(page, "display-submit").click();

    const url = await testid(page, "display-url-value").inputValue();
    expect(url).toMatch(new RegExp(`^${server.url}/wall/[^/]+$`));
    expect(await testid(page, "display-url-open").getAttribute("href")).toBe(url);
    expect(await testid(page, "display-url").textContent()).toContain("shown only once");

    const row = page.locator('[data-testid="display-row"]', { hasText: "Sales room, north wall" });
    // The first screen is labelled with its board's name by default.
    await expect.poll(() => row.locator("li").allTextContents()).toEqual([
      expect.stringMatching(/\(All leads\)$/),
      "Ready for sales (Sales-ready)",
    ]);
    expect(await row.textContent()).toContain("every 30 s");
    const token = url.split("/wall/")[1]!;
    expect(await row.textContent()).not.toContain(token);

    // Once dismissed, the URL is gone for good: the list after a reload names the display only.
    await testid(page, "display-url-done").click();
    await page.reload();
    await row.waitFor();
    expect(await testid(page, "display-url").count()).toBe(0);
    expect(await page.locator("body").textContent()).not.toContain(token);
  });

  it("the audit log lists those actions, newest first, and filters by action", async () => {
    screenshotOnFailure(() => pages);
    const page = await adminOn("audit");
    const entries = page.locator('[data-testid="audit-entry"]');
    const actions = () => entries.evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    await expect.poll(actions).toEqual(
      expect.arrayContaining([
        "user.invited",
        "user.invite_accepted",
        "user.role_changed",
        "user.deactivated",
        "api_key.created",
        "api_key.revoked",
        "display_token.created",
      ]),
    );
    const listed = await actions();
    expect(listed.indexOf("display_token.created")).toBeLessThan(listed.indexOf("api_key.created"));
    expect(listed.indexOf("user.deactivated")).toBeLessThan(listed.indexOf("user.role_changed"));

    const roleChange = entries.filter({ has: page.locator('[data-testid="audit-sentence"]', { hasText: "Mia Marketer" }) }).filter({
      hasText: "Role changed",
    });
    await expect.poll(() => roleChange.first().textContent()).toContain("Ada Admin changed the role of Mia Marketer");
    expect(await roleChange.first().textContent()).toContain("from marketer to viewer");

    await testid(page, "audit-filter").selectOption("api_key.created");
    await expect.poll(actions).toEqual(["api_key.created"]);
    expect(await entries.first().textContent()).toContain("Ada Admin created the API key CRM sync");
  });
});
