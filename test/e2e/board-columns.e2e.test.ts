import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import { browserAvailable } from "../support/browser.ts";
import { card, centre, column, ghost } from "../support/board-page.ts";
import { startBoardWorld, type BoardWorld } from "../support/board-world.ts";

describe.runIf(browserAvailable())("the board's columns and cards in a browser", () => {
  let w: BoardWorld;

  beforeAll(async () => {
    w = await startBoardWorld();
  }, 120_000);
  beforeEach(() => w.watchFailures());
  afterAll(async () => {
    await w?.close();
  });

  it("time in stage turns amber, then red, past the stage's limits, with a mark besides the colour", async () => {
    const fresh = await w.lead("Fresh lead");
    const late = await w.lead("Late lead");
    const overdue = await w.lead("Overdue lead");
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    // The default process allows 24 h in Inquiry before amber and 72 h before red.
    await w.t.database.db.update(leadsTable).set({ stageEnteredAt: hoursAgo(30) }).where(eq(leadsTable.id, late.id));
    await w.t.database.db.update(leadsTable).set({ stageEnteredAt: hoursAgo(100) }).where(eq(leadsTable.id, overdue.id));
    const page = await w.openBoard(w.morgan);
    const age = (id: string) => card(page, id).locator('[data-testid="lead-age"]');
    expect(await age(fresh.id).getAttribute("data-age-level")).toBe("ok");
    expect(await age(late.id).getAttribute("data-age-level")).toBe("amber");
    expect(await age(overdue.id).getAttribute("data-age-level")).toBe("red");
    expect(await age(late.id).textContent()).toContain("!");
    expect(await age(late.id).textContent()).toContain("over 24 h in this stage");
    expect(await age(overdue.id).textContent()).toContain("!!");
    expect(await age(overdue.id).getAttribute("title")).toBe("Over 72 h in this stage");
  });

  it("a collapsed column and the header's score figure are kept per process across reloads; counts are live", async () => {
    const l = await w.lead("Counted lead", "sales_acceptance");
    const page = await w.openBoard(w.morgan);
    const sales = column(page, "sales_acceptance");
    const before = Number(await sales.locator('[data-testid="column-count"]').textContent());

    await sales.locator('[data-testid="column-stat-select"]').selectOption("sum");
    expect(await sales.locator('[data-testid="column-stat"]').getAttribute("data-stat")).toBe("sum");
    expect(await column(page, "inquiry").locator('[data-testid="column-stat"]').getAttribute("data-stat")).toBe("average");
    await column(page, "inquiry").locator('[data-testid="column-stat-select"]').selectOption("all:sum");
    for (const stage of ["inquiry", "automated_marketing_qualification", "sales_acceptance"]) {
      expect(await column(page, stage).locator('[data-testid="column-stat"]').getAttribute("data-stat")).toBe("sum");
    }
    await sales.locator('[data-testid="column-collapse"]').click();
    expect(await sales.getAttribute("data-collapsed")).toBe("true");
    expect(await sales.locator('[data-testid="lead-card"]').count()).toBe(0);
    expect(Number(await sales.locator('[data-testid="column-count"]').textContent())).toBe(before);

    // Someone else's move changes the count at once, collapsed or not.
    await w.server.app.services.leads.move(w.sam.actor, { leadId: l.id, toStage: "inquiry", expectedVersion: l.version }, new Date());
    await expect.poll(() => sales.locator('[data-testid="column-count"]').textContent()).toBe(String(before - 1));

    await page.reload();
    await page.locator('[data-testid="board"][data-seq]').waitFor();
    expect(await sales.getAttribute("data-collapsed")).toBe("true");
    expect(await column(page, "inquiry").locator('[data-testid="column-stat"]').getAttribute("data-stat")).toBe("sum");
    await sales.locator('[data-testid="column-expand"]').click();
    expect(await sales.getAttribute("data-collapsed")).toBe("false");
    await expect.poll(() => sales.locator('[data-testid="lead-card"]').count()).toBe(before - 1);
  });

  it("a column forgets the measured heights of cards that leave it", async () => {
    const leaving: LeadCard[] = [];
    for (let i = 0; i < 4; i++) leaving.push(await w.lead(`Leaving lead ${i}`, "sales_acceptance"));
    const page = await w.openBoard(w.morgan);
    const list = column(page, "sales_acceptance").locator('[data-testid="column-cards"]');
    const figures = async () => ({
      measured: Number(await list.getAttribute("data-measured")),
      loaded: Number(await column(page, "sales_acceptance").getAttribute("data-loaded")),
    });
    const before = (await figures()).loaded;
    await expect.poll(async () => (await figures()).measured).toBe(before);

    for (const l of leaving) {
      await w.server.app.services.leads.move(w.sam.actor, { leadId: l.id, toStage: "inquiry", expectedVersion: l.version }, new Date());
    }
    await expect.poll(figures).toEqual({ measured: before - leaving.length, loaded: before - leaving.length });
  });

  it("a board of 10,000 leads joins with first pages, renders only what is in view; scrolling and dragging near the edge show later cards", async () => {
    // Straight into the table: 10,000 leads after the last card of Inquiry.
    const anchor = await w.lead("Before the bulk");
    const ranks = ranksAfter(anchor.rank, 10_000);
    for (let from = 0; from < ranks.length; from += 1000) {
      await w.t.database.db.insert(leadsTable).values(
        ranks.slice(from, from + 1000).map((rank, i) => ({
          topic: `Bulk lead ${from + i}`,
          processId: anchor.processId,
          stageId: anchor.stageId,
          rank,
        })),
      );
    }
    // What the server sends on the page's socket: the join's answer, then the pages.
    const frames: string[] = [];
    const page = await w.openBoard(w.morgan, {
      onPage: (p) => p.on("websocket", (ws) => ws.on("framereceived", ({ payload }) => frames.push(String(payload)))),
    });
    const inquiry = column(page, "inquiry");
    const list = inquiry.locator('[data-testid="column-cards"]');
    const bulk = (n: number | RegExp) => inquiry.locator('[data-testid="lead-card"]', { hasText: typeof n === "number" ? `Bulk lead ${n}` : n });
    const total = Number(await inquiry.locator('[data-testid="column-count"]').textContent());
    // The column shows its whole count as soon as the board is there, from the join's totals.
    expect(total).toBeGreaterThan(10_000);
    // The join carried the first page of each column, not 10,000 cards (that was 6 MB); the rest came in pages.
    const join = frames.map((f) => ackOf(f)).find((d) => d !== null && "columns" in d);
    expect(join).toBeDefined();
    expect(join!.columns.inquiry).toEqual({ total, complete: false });
    expect(join!.leads.length).toBeLessThanOrEqual(50 * Object.keys(join!.columns).length);
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThan(1_000_000);
    expect(await page.locator('[data-testid="lead-card"]').count()).toBeLessThan(300);
    expect(await bulk(9999).count()).toBe(0);

    // Dragging a card to the bottom edge scrolls the column.
    await page.mouse.move(...Object.values(await centre(page, anchor.id)) as [number, number]);
    await page.mouse.down();
    const box = (await list.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 8, { steps: 5 });
    await expect.poll(() => ghost(page).count()).toBe(1);
    await expect.poll(() => list.evaluate((el) => el.scrollTop)).toBeGreaterThan(500);
    await page.keyboard.press("Escape");
    await page.mouse.up();

    // Scrolling down loads (and shows) the column to its end; the count stays the same.
    await expect
      .poll(
        async () => {
          await list.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return bulk(9999).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    expect(await inquiry.getAttribute("data-complete")).toBe("true");
    expect(Number(await inquiry.locator('[data-testid="column-count"]').textContent())).toBe(total);
    expect(frames.some((f) => f.includes('"complete":true') && !f.includes('"columns"'))).toBe(true);
    expect(await page.locator('[data-testid="lead-card"]').count()).toBeLessThan(300);
    await list.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
    await expect.poll(() => bulk(/Bulk lead 4\d{3}\b/).count()).toBeGreaterThan(0);
    expect(await bulk(9999).count()).toBe(0);
  });
});

/** The data of a Socket.IO acknowledgement frame (`43[{"ok":true,"data":…}]`), or null for any other frame. */
function ackOf(frame: string): { columns: Record<string, { total: number; complete: boolean }>; leads: unknown[] } | null {
  const match = /^43\d*(\[.*\])$/s.exec(frame);
  if (!match) return null;
  const [ack] = JSON.parse(match[1]!) as [{ ok: boolean; data?: unknown }];
  return ack?.ok && typeof ack.data === "object" && ack.data !== null ? (ack.data as ReturnType<typeof ackOf>) : null;
}
