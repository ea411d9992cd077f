/**
 * One browser world for board tests: the client built once, a server on PGlite, two sales
 * managers, a Chromium, and pages that save a screenshot when their test fails.
 */
import { rmSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { LeadCard } from "../../shared/board.ts";
import { makeLead, makeUser, testPassword } from "./builders.ts";
import { buildClient, launchBrowser, screenshotOnFailure, signIn } from "./browser.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";
import { startTestServer, type TestServer } from "./server.ts";

type Person = Awaited<ReturnType<typeof makeUser>>;

export interface PageOptions {
  touch?: boolean;
  reducedMotion?: boolean;
  /** Runs on the new page before it signs in (e.g. to watch its WebSocket from the start). */
  onPage?: (page: Page) => void;
}

export interface BoardWorld {
  t: TestDatabase;
  server: TestServer;
  morgan: Person;
  sam: Person;
  /** Signs in on a new page (its own browser context) and waits for the board. */
  openBoard(person: Person, options?: PageOptions): Promise<Page>;
  /** A lead with a contact, placed in a stage (bypassing gates), made by Morgan. */
  lead(topic: string, stage?: string): Promise<LeadCard>;
  /** Registers the current test's pages for a screenshot on failure; call in beforeEach. */
  watchFailures(): void;
  close(): Promise<void>;
}

export async function startBoardWorld(): Promise<BoardWorld> {
  const clientDir = await buildClient();
  const t = await openTestDatabase("pglite");
  const server = await startTestServer(t.database, clientDir);
  const auth = server.app.services.auth;
  const morgan = await makeUser(auth, "sales_manager", "Morgan Manager");
  const sam = await makeUser(auth, "sales_manager", "Sam Seller");
  const browser: Browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  let pages: Page[] = [];

  return {
    t,
    server,
    morgan,
    sam,
    async openBoard(person, options = {}) {
      const context = await browser.newContext({
        viewport: { width: 1700, height: 900 },
        hasTouch: options.touch ?? false,
        reducedMotion: options.reducedMotion ? "reduce" : "no-preference",
      });
      contexts.push(context);
      const page = await context.newPage();
      pages.push(page);
      options.onPage?.(page);
      await signIn(page, server.url, person.user.email, testPassword);
      return page;
    },
    lead: (topic, stage = "inquiry") => makeLead(t.database.db, server.app.services.leads, morgan.actor, { topic, stage }),
    watchFailures() {
      pages = [];
      screenshotOnFailure(() => pages);
    },
    async close() {
      for (const c of contexts) await c.close();
      await browser.close();
      await server.close();
      await t.close();
      rmSync(clientDir, { recursive: true, force: true });
    },
  };
}
