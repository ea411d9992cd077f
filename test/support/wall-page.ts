/** Wall displays in browser tests: display tokens over HTTP, and reading the wall page. */
import type { Page } from "playwright-core";
import type { DisplayTokenCreated, DisplayTokenInput } from "../../shared/schemas/display-tokens.ts";

export const wall = (page: Page) => page.locator('[data-testid="wall"]');
export const wallCard = (page: Page, leadId: string) => page.locator(`[data-testid="wall-card"][data-lead-id="${leadId}"]`);
export const wallColumn = (page: Page, stage: string) => page.locator(`[data-testid="wall-column"][data-stage="${stage}"]`);
export const wallTotal = (page: Page, stage: string) => wallColumn(page, stage).locator('[data-testid="wall-column-total"]');
export const wallTitle = (page: Page) => page.locator('[data-testid="wall-title"]');
export const wallDot = (page: Page) => page.locator('[data-testid="wall-dot"]');
export const wallEnded = (page: Page) => page.locator('[data-testid="wall-ended"]');
export const celebration = (page: Page) => page.locator('[data-testid="wall-celebration"]');

/** `POST /api/display-tokens` as the admin whose session cookie is given; fails the test on anything but 201. */
export async function createDisplayToken(url: string, cookie: string, input: DisplayTokenInput): Promise<DisplayTokenCreated> {
  const res = await fetch(`${url}/api/display-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(input),
  });
  if (res.status !== 201) throw new Error(`creating a display token failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as DisplayTokenCreated;
}

export async function revokeDisplayToken(url: string, cookie: string, id: string): Promise<void> {
  const res = await fetch(`${url}/api/display-tokens/${id}`, { method: "DELETE", headers: { cookie } });
  if (res.status !== 200) throw new Error(`revoking a display token failed: ${res.status} ${await res.text()}`);
}

/** A JSON request with a session cookie; answers the status and the parsed body. */
export async function call<T>(url: string, cookie: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The lead ids a wall column shows, top to bottom. */
export function wallShownIn(page: Page, stage: string): Promise<string[]> {
  return wallColumn(page, stage)
    .locator('[data-testid="wall-card"]')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.leadId ?? ""));
}

/** Every control or focusable element on the page, as "tag[testid]" (a wall must have none). */
export function controlsOn(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const selector = "button, a, input, select, textarea, [role=button], [role=link], [role=menu], [contenteditable], [tabindex], [draggable=true]";
    return [...document.querySelectorAll(selector)].map((e) => `${e.tagName.toLowerCase()}[${e.getAttribute("data-testid") ?? ""}]`);
  });
}

/** The computed font size of the first element matching `selector`, in px. */
export function fontSizeOf(page: Page, selector: string): Promise<number> {
  return page.locator(selector).first().evaluate((e) => Number.parseFloat(getComputedStyle(e).fontSize));
}
