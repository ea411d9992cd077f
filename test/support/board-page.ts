/** Reading and driving the board in a browser page: locators and positions of cards and columns. */
import type { Page } from "playwright-core";

export const card = (page: Page, leadId: string) => page.locator(`[data-testid="lead-card"][data-lead-id="${leadId}"]`);
/** The card's keyboard handle (its topic button): Enter opens the lead, Space picks the card up. */
export const handle = (page: Page, leadId: string) => card(page, leadId).locator('[data-testid="lead-card-open"]');
export const column = (page: Page, stage: string) => page.locator(`[data-testid="column"][data-stage="${stage}"]`);
export const announcer = (page: Page) => page.locator('[data-testid="announcer"]');
export const ghost = (page: Page) => page.locator('[data-testid="drag-ghost"]');

/** The lead ids a column renders, top to bottom. */
export function shownIn(page: Page, stage: string): Promise<string[]> {
  return column(page, stage)
    .locator('[data-testid="lead-card"]')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.leadId ?? ""));
}

/** The order of `ids` in a column as the page shows it (other cards left out). */
export async function orderIn(page: Page, stage: string, ids: readonly string[]): Promise<string[]> {
  return (await shownIn(page, stage)).filter((id) => ids.includes(id));
}

/** The middle of a card, scrolled into view first. */
export async function centre(page: Page, leadId: string): Promise<{ x: number; y: number }> {
  await card(page, leadId).scrollIntoViewIfNeeded();
  const box = await card(page, leadId).boundingBox();
  if (!box) throw new Error(`card ${leadId} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A point inside a column's card list, near its top (a drop there lands among its first cards or at the end). */
export async function centreOf(page: Page, stage: string): Promise<{ x: number; y: number }> {
  const box = await column(page, stage).locator('[data-testid="column-cards"]').boundingBox();
  if (!box) throw new Error(`column ${stage} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + Math.min(box.height / 2, 200) };
}

/** Presses the mouse on a card and moves it to `to` without releasing: a drag in progress. */
export async function startMouseDrag(page: Page, leadId: string, to: { x: number; y: number }): Promise<void> {
  const from = await centre(page, leadId);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 5 });
}

/** The lead id of the card holding the focus, if any. */
export function focusedCard(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.activeElement?.closest<HTMLElement>('[data-testid="lead-card"]')?.dataset.leadId);
}

/**
 * Controls inside another control on the board (ARIA makes a button's content presentational,
 * so screen readers may hide them): each as "outer > inner", for a readable failure.
 */
export function nestedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = "button, [role=button], a[href], [role=menuitem], [role=menu], select, input, textarea, [tabindex]:not([tabindex='-1'])";
    const outers = "button, [role=button], a[href], [role=menuitem]";
    const name = (e: Element) => `${e.tagName.toLowerCase()}[${e.getAttribute("data-testid") ?? e.getAttribute("role") ?? ""}]`;
    const out: string[] = [];
    for (const inner of document.querySelectorAll('[data-testid="board"] :is(' + controls + ")")) {
      const outer = inner.parentElement?.closest(outers);
      if (outer) out.push(`${name(outer)} > ${name(inner)}`);
    }
    return out;
  });
}
