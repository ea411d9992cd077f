import type { Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LeadCard } from "../../shared/board.ts";
import { browserAvailable } from "../support/browser.ts";
import { makeLead } from "../support/builders.ts";
import {
  announcer,
  card,
  centre,
  centreOf,
  column,
  focusedCard,
  ghost,
  handle,
  nestedControls,
  orderIn,
  shownIn,
  startMouseDrag,
} from "../support/board-page.ts";
import { startBoardWorld, type BoardWorld } from "../support/board-world.ts";

/** Records which cards a page animates (FLIP calls Element.animate on the card). */
async function recordAnimations(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { animated: string[] };
    w.animated = [];
    const animate = Element.prototype.animate;
    Element.prototype.animate = function (this: HTMLElement, ...args: Parameters<Element["animate"]>) {
      if (this.dataset.leadId) w.animated.push(this.dataset.leadId);
      return animate.apply(this, args);
    };
  });
}
const animated = (page: Page) => page.evaluate(() => (window as unknown as { animated: string[] }).animated);

describe.runIf(browserAvailable())("moving cards in a browser", () => {
  let w: BoardWorld;

  beforeAll(async () => {
    w = await startBoardWorld();
  }, 120_000);
  beforeEach(() => w.watchFailures());
  afterAll(async () => {
    await w?.close();
  });

  const stored = (leadId: string) => w.server.app.services.leads.get(leadId);
  const moveAsSam = async (lead: LeadCard, toStage: string) => {
    const current = await stored(lead.id);
    await w.server.app.services.leads.move(w.sam.actor, { leadId: lead.id, toStage, expectedVersion: current.version }, new Date());
  };

  it("a mouse drag lands where it was dropped and shows elsewhere, animated and saying who moved it", async () => {
    const a = await w.lead("Drag A", "sales_acceptance");
    const b = await w.lead("Drag B", "sales_acceptance");
    const c = await w.lead("Drag C", "sales_acceptance");
    const ids = [a.id, b.id, c.id];
    const morgan = await w.openBoard(w.morgan);
    const sam = await w.openBoard(w.sam);
    const still = await w.openBoard(w.sam, { reducedMotion: true });
    expect(await orderIn(sam, "sales_acceptance", ids)).toEqual(ids);
    await recordAnimations(sam);
    await recordAnimations(still);

    // Onto the top edge of B: directly above it.
    await card(morgan, c.id).dragTo(card(morgan, b.id), { targetPosition: { x: 40, y: 6 } });

    const expected = [a.id, c.id, b.id];
    await expect.poll(() => orderIn(morgan, "sales_acceptance", ids)).toEqual(expected);
    await expect.poll(() => orderIn(sam, "sales_acceptance", ids), { timeout: 5000 }).toEqual(expected);
    await expect.poll(() => card(sam, c.id).locator('[data-testid="lead-changed"]').textContent()).toContain("moved by Morgan Manager");
    await expect.poll(() => animated(sam)).toContain(c.id);
    await expect.poll(() => orderIn(still, "sales_acceptance", ids)).toEqual(expected);
    expect(await animated(still)).toEqual([]);
    expect(await card(morgan, c.id).locator('[data-testid="lead-changed"]').count()).toBe(0);
    await expect.poll(() => card(morgan, c.id).getAttribute("data-pending")).toBeNull();
    expect(await ghost(morgan).count()).toBe(0);
    expect((await stored(c.id)).rank > (await stored(a.id)).rank).toBe(true);
  });

  it("Escape during a mouse drag cancels it: nothing moves and nothing is sent", async () => {
    const l = await w.lead("Escape drag");
    const page = await w.openBoard(w.morgan);
    await startMouseDrag(page, l.id, await centreOf(page, "automated_marketing_qualification"));
    await expect.poll(() => ghost(page).count()).toBe(1);
    // While dragging, every column says whether the lead may enter it.
    expect(await column(page, "automated_marketing_qualification").locator('[data-testid="column-gate"]').getAttribute("data-allowed")).toBe("true");
    expect(await column(page, "teleprospecting_acceptance").locator('[data-testid="column-gate"]').textContent()).toContain(
      "needs ready for teleprospecting",
    );
    await page.keyboard.press("Escape");
    await page.mouse.up();
    expect(await ghost(page).count()).toBe(0);
    expect(await column(page, "inquiry").locator(card(page, l.id)).count()).toBe(1);
    expect(await page.locator('[data-testid="column-gate"]').count()).toBe(0);
    expect((await stored(l.id)).version).toBe(l.version);
  });

  it("others' changes to the dragged card and its column wait until the drop; the drop uses the live board", async () => {
    const dragged = await w.lead("Frozen drag", "teleprospecting_qualification");
    const neighbour = await w.lead("Frozen neighbour", "teleprospecting_qualification");
    const page = await w.openBoard(w.morgan);
    const seq = Number(await page.locator('[data-testid="board"]').getAttribute("data-seq"));
    await startMouseDrag(page, dragged.id, await centreOf(page, "sales_acceptance"));
    await expect.poll(() => ghost(page).count()).toBe(1);

    await moveAsSam(neighbour, "inquiry");
    await moveAsSam(dragged, "teleprospecting_acceptance");
    await expect.poll(async () => Number(await page.locator('[data-testid="board"]').getAttribute("data-seq"))).toBe(seq + 2);
    // Applied, but not shown yet: both still sit in the dragged card's column, and nowhere else.
    expect(await column(page, "teleprospecting_qualification").locator(card(page, neighbour.id)).count()).toBe(1);
    expect(await card(page, neighbour.id).count()).toBe(1);
    expect(await column(page, "teleprospecting_qualification").locator(card(page, dragged.id)).count()).toBe(1);

    // Dropped on Automated marketing qualification: planned from where the lead is now (version and stage).
    const to = await centreOf(page, "automated_marketing_qualification");
    await page.mouse.move(to.x, to.y, { steps: 3 });
    await page.mouse.up();
    await expect.poll(() => column(page, "inquiry").locator(card(page, neighbour.id)).count()).toBe(1);
    await expect.poll(async () => (await stored(dragged.id)).stage).toBe("automated_marketing_qualification");
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, dragged.id)).count()).toBe(1);
    expect(await page.locator('[data-testid="toast"]').count()).toBe(0);
  });

  it("moves a card with the keyboard, announcing each step, a refused column and the drop", async () => {
    const l = await w.lead("Keyboard lead");
    const page = await w.openBoard(w.morgan);
    await handle(page, l.id).focus();
    await page.keyboard.press("Space");
    await expect.poll(() => announcer(page).textContent()).toMatch(/Picked up Keyboard lead, in Inquiry, position \d+ of \d+/);
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => announcer(page).textContent()).toMatch(/^Automated marketing qualification, position \d+ of \d+/);
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => announcer(page).textContent()).toContain(
      "Teleprospecting acceptance: cannot move here, needs ready for teleprospecting",
    );
    expect(await column(page, "teleprospecting_acceptance").locator('[data-testid="column-gate"]').getAttribute("data-allowed")).toBe("false");
    // A drop there is refused and the card stays picked up.
    await page.keyboard.press("Space");
    await expect.poll(() => announcer(page).textContent()).toContain("Cannot drop Keyboard lead in Teleprospecting acceptance");
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Space");
    const dropped = /^Dropped Keyboard lead in Automated marketing qualification, position (\d+) of (\d+)\.$/;
    await expect.poll(() => announcer(page).textContent()).toMatch(dropped);
    const [, position, count] = dropped.exec((await announcer(page).textContent()) ?? "") ?? [];
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, l.id)).count()).toBe(1);
    const amq = await shownIn(page, "automated_marketing_qualification");
    expect(amq.length).toBe(Number(count));
    expect(amq.indexOf(l.id)).toBe(Number(position) - 1);
    await expect.poll(async () => (await stored(l.id)).stage).toBe("automated_marketing_qualification");
    // Focus follows the card to its new column, and Enter opens the lead when it is not picked up.
    await expect.poll(() => focusedCard(page)).toBe(l.id);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("lead-card-open");
    // Space on the topic button picked up and dropped; it never also "clicked" the button open.
    expect(await page.locator('[data-testid="lead-drawer"]').count()).toBe(0);
    await page.keyboard.press("Enter");
    await page.locator(`[data-testid="lead-drawer"][data-lead-id="${l.id}"]`).waitFor();
  });

  it("Escape puts a keyboard-carried card back", async () => {
    const l = await w.lead("Keyboard escape");
    const page = await w.openBoard(w.morgan);
    await handle(page, l.id).focus();
    await page.keyboard.press("Space");
    await page.keyboard.press("ArrowRight");
    expect(await column(page, "automated_marketing_qualification").getAttribute("class")).toContain("over");
    await page.keyboard.press("Escape");
    await expect.poll(() => announcer(page).textContent()).toMatch(/^Move cancelled\. Keyboard escape is back in Inquiry, position \d+ of \d+\.$/);
    expect(await column(page, "inquiry").locator(card(page, l.id)).count()).toBe(1);
    expect(await page.locator('[data-testid="column-gate"]').count()).toBe(0);
    expect((await stored(l.id)).version).toBe(l.version);
  });

  it("the Move to stage… menu moves a card to the end of a column and says why a stage is unavailable", async () => {
    const l = await w.lead("Menu lead");
    const page = await w.openBoard(w.morgan);
    const button = card(page, l.id).locator('[data-testid="card-menu-button"]');
    const menu = page.locator('[data-testid="card-menu"]');
    await button.click();
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    const refused = menu.locator('[data-testid="card-menu-item"][data-stage="teleprospecting_acceptance"]');
    expect(await refused.getAttribute("aria-disabled")).toBe("true");
    expect(await refused.textContent()).toContain("needs ready for teleprospecting");
    // A real menu item now (inside the old role="button" card it was presentational), so its
    // aria-disabled counts: Playwright sees it disabled, and a forced click still does nothing.
    expect(await refused.isEnabled()).toBe(false);
    await refused.click({ force: true });
    expect(await menu.count()).toBe(1);
    await page.keyboard.press("Escape");
    expect(await menu.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("card-menu-button");

    // By keyboard: the button opens the menu on the first stage that may be chosen.
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-stage"))).toBe("automated_marketing_qualification");
    await page.keyboard.press("Enter");
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, l.id)).count()).toBe(1);
    expect((await shownIn(page, "automated_marketing_qualification")).at(-1)).toBe(l.id);
    await expect.poll(async () => (await stored(l.id)).stage).toBe("automated_marketing_qualification");
    // Choosing did not open the lead.
    expect(await page.locator('[data-testid="lead-drawer"]').count()).toBe(0);
  });

  it("a card is a group named by its topic with its controls side by side, none inside another; the surface still drags and opens", async () => {
    // No contact: unscorable, so the card also shows its "Link contact/account" button (and may only go back to Inquiry).
    const l = await makeLead(w.t.database.db, w.server.app.services.leads, w.morgan.actor, {
      topic: "Grouped card",
      withContact: false,
      stage: "automated_marketing_qualification",
    });
    const page = await w.openBoard(w.morgan);
    const c = card(page, l.id);
    expect(await c.evaluate((e) => e.tagName)).toBe("ARTICLE");
    expect(await c.getAttribute("role")).toBeNull();
    expect(await page.getByRole("article", { name: "Grouped card", exact: true }).count()).toBe(1);
    const open = page.getByRole("button", { name: "Grouped card", exact: true });
    expect(await open.getAttribute("data-testid")).toBe("lead-card-open");
    expect(await open.getAttribute("aria-describedby")).toBe("lead-card-help");
    for (const id of ["card-menu-button", "lead-score", "link-parent"]) expect(await c.locator(`[data-testid="${id}"]`).count()).toBe(1);

    expect(await nestedControls(page)).toEqual([]);
    await c.locator('[data-testid="card-menu-button"]').click();
    await page.locator('[data-testid="card-menu-item"]').first().waitFor();
    expect(await nestedControls(page)).toEqual([]);
    await page.keyboard.press("Escape");

    // A click on the score opens its breakdown, not the lead.
    await c.locator('[data-testid="lead-score"]').click();
    await page.locator(`[data-testid="score-popover"][data-lead-id="${l.id}"]`).waitFor();
    expect(await page.locator('[data-testid="lead-drawer"]').count()).toBe(0);
    await page.keyboard.press("Escape");

    // A click on the surface opens the lead.
    await c.getByText("No contact").click();
    await page.locator(`[data-testid="lead-drawer"][data-lead-id="${l.id}"]`).waitFor();
    await page.locator('[data-testid="lead-drawer"] button[aria-label="Close"]').click();
    await expect.poll(() => page.locator('[data-testid="lead-drawer"]').count()).toBe(0);

    // A press on the topic drags the card like one anywhere else on its surface.
    const from = await open.boundingBox();
    const to = await centreOf(page, "inquiry");
    await page.mouse.move(from!.x + 10, from!.y + from!.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 5 });
    await expect.poll(() => ghost(page).count()).toBe(1);
    await page.mouse.up();
    await expect.poll(() => column(page, "inquiry").locator(card(page, l.id)).count()).toBe(1);
    await expect.poll(async () => (await stored(l.id)).stage).toBe("inquiry");
    // The release was not a click on the card.
    expect(await page.locator('[data-testid="lead-drawer"]').count()).toBe(0);
  });

  it("two people moving the same card at once: one wins, the other's card returns with a message, both converge", async () => {
    const l = await w.lead("Contested lead", "automated_marketing_qualification");
    const morgan = await w.openBoard(w.morgan);
    const sam = await w.openBoard(w.sam);
    await startMouseDrag(morgan, l.id, await centreOf(morgan, "inquiry"));
    // A sales manager's own gate (sales ready): a drag to Teleprospecting acceptance would tick one they may not.
    await startMouseDrag(sam, l.id, await centreOf(sam, "sales_acceptance"));
    await Promise.all([morgan.mouse.up(), sam.mouse.up()]);

    await expect.poll(async () => (await stored(l.id)).version, { timeout: 10_000 }).toBe(l.version + 1);
    const final = (await stored(l.id)).stage;
    const loser = final === "inquiry" ? sam : morgan;
    await expect.poll(() => loser.locator('[data-testid="toast"]').allTextContents(), { timeout: 10_000 }).toContainEqual(
      expect.stringContaining("Someone changed this lead first"),
    );
    for (const page of [morgan, sam]) {
      await expect.poll(() => column(page, final).locator(card(page, l.id)).count(), { timeout: 10_000 }).toBe(1);
      expect(await card(page, l.id).count()).toBe(1);
      await expect.poll(() => card(page, l.id).getAttribute("data-pending")).toBeNull();
    }
  });

  it("touch: a quick swipe scrolls the column; a long press picks the card up and drags it", async () => {
    const many: LeadCard[] = [];
    for (let i = 0; i < 14; i++) many.push(await w.lead(`Touch lead ${i}`, "teleprospecting_qualification"));
    const l = await w.lead("Touch drag");
    const page = await w.openBoard(w.morgan, { touch: true });
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: "touchStart" | "touchMove" | "touchEnd", x = 0, y = 0) =>
      cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x, y }] });

    const first = many[0]!;
    const list = column(page, "teleprospecting_qualification").locator('[data-testid="column-cards"]');
    const start = await centre(page, first.id);
    await touch("touchStart", start.x, start.y);
    for (let i = 1; i <= 8; i++) await touch("touchMove", start.x, start.y - i * 40);
    await touch("touchEnd");
    await expect.poll(() => list.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
    expect(await ghost(page).count()).toBe(0);
    expect(await column(page, "teleprospecting_qualification").locator(card(page, first.id)).count()).toBe(1);
    expect((await stored(first.id)).version).toBe(first.version);

    const from = await centre(page, l.id);
    const to = await centreOf(page, "automated_marketing_qualification");
    await touch("touchStart", from.x, from.y);
    await expect.poll(() => ghost(page).count()).toBe(1);
    for (let i = 1; i <= 10; i++) await touch("touchMove", from.x + ((to.x - from.x) * i) / 10, from.y + ((to.y - from.y) * i) / 10);
    await touch("touchEnd");
    await expect.poll(() => column(page, "automated_marketing_qualification").locator(card(page, l.id)).count()).toBe(1);
    await expect.poll(async () => (await stored(l.id)).stage).toBe("automated_marketing_qualification");
  });
});
