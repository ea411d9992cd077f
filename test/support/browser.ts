import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { onTestFailed } from "vitest";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Browser tests need Debian's Chromium. In CI its absence is a failure; on a laptop
 * the tests are skipped with a message saying how to run them.
 */
export function browserAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI) throw new Error(`CI requires Chromium for the browser tests, but ${chromiumPath} does not exist`);
  console.warn(
    `\n  Browser tests SKIPPED: no Chromium at ${chromiumPath}. Install it (apt-get install chromium) or set CHROMIUM_PATH.\n`,
  );
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run"],
  });
}

/** Builds the client once into a temporary directory, as `npm run build` does. */
export async function buildClient(): Promise<string> {
  const { build } = await import("vite");
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const outDir = mkdtempSync(path.join(tmpdir(), "lpb-client-"));
  await build({
    configFile: path.join(root, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  return outDir;
}

export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(url);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
  await page.locator('[data-testid="board"][data-seq]').waitFor();
}

/** Where failed browser tests leave their screenshots (ignored by git). */
export const testResultsDir = fileURLToPath(new URL("../../test-results", import.meta.url));

/** A file name from a test's name: letters, digits and dashes only. */
export function screenshotName(testName: string, index = 0): string {
  const slug = testName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 100) || "test";
  return `${slug}${index > 0 ? `-${index + 1}` : ""}.png`;
}

/**
 * When the running test fails, saves a screenshot of each page to test-results/<test name>.png
 * (pages that are already closed are skipped). Call it inside a test, or in beforeEach.
 */
export function screenshotOnFailure(pages: () => readonly Page[]): void {
  onTestFailed(async ({ task }) => {
    mkdirSync(testResultsDir, { recursive: true });
    const open = pages().filter((p) => !p.isClosed());
    for (const [i, page] of open.entries()) {
      const file = path.join(testResultsDir, screenshotName(task.name, i));
      await page.screenshot({ path: file }).then(
        () => console.warn(`  screenshot of the failed test: ${file}`),
        (err: unknown) => console.warn(`  could not save a screenshot to ${file}: ${String(err)}`),
      );
    }
  });
}
