/**
 * Dragging cards with pointer events, the same way for mouse, touch and pen. Native HTML5
 * drag and drop is not used: it has no long press for touch, and it loses `dragend` when
 * a virtualised column removes the dragged card from the DOM.
 *
 * A mouse press becomes a drag after a few pixels; a touch or pen press after a long
 * press held still (moving first is a scroll, which the browser keeps). While dragging,
 * a ghost follows the pointer, the drop place is hit-tested under it, scrollers near
 * their edges scroll, and Escape cancels. Listeners live on the window for the gesture
 * only, so they survive the card element being re-rendered.
 */
import {
  clickAfterDragMs,
  dragRules,
  dropBeforeAt,
  edgeSpeed,
  needsLongPress,
  nextId,
  pointerKind,
  pressHeld,
  pressMoved,
  type CardBox,
  type PointerKind,
} from "./drag-logic.ts";
import { cardControls } from "./card-context.ts";

/** Where a drop lands: above `beforeId`, or at the end of the column (null). */
export interface DropTarget {
  stage: string;
  beforeId: string | null;
}

/** The floating copy of the card: the pointer position and where the card was grabbed. */
export interface Ghost {
  x: number;
  y: number;
  offsetX: number;
  offsetY: number;
  width: number;
}

export interface DragHost {
  canDrag(leadId: string): boolean;
  /** The cards a column shows, in order (to find the card after the last rendered one). */
  columnCards(stageKey: string): readonly { id: string }[];
  /** The board's horizontal scroller. */
  boardScroller(): HTMLElement | null;
  started(leadId: string): void;
  dropped(leadId: string, target: DropTarget | null): void;
  cancelled(leadId: string): void;
}

interface Press {
  pointerId: number;
  leadId: string;
  kind: PointerKind;
  x0: number;
  y0: number;
  x: number;
  y: number;
  rect: DOMRect;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Columns carry `data-drop-stage`; their scrolling card list `data-scroller`. */
const columnSelector = "[data-drop-stage]";
const cardSelector = '[data-testid="lead-card"][data-lead-id]';

export class DragController {
  /** The card being dragged (null when none). */
  leadId = $state<string | null>(null);
  kind = $state<PointerKind>("mouse");
  over = $state.raw<DropTarget | null>(null);
  ghost = $state.raw<Ghost | null>(null);
  /** A touch or pen press on this card is being held: it is about to lift. */
  pressing = $state<string | null>(null);

  readonly #host: DragHost;
  #press: Press | null = null;
  #frame = 0;
  #endedAt = -Infinity;

  constructor(host: DragHost) {
    this.#host = host;
  }

  /** A pointer went down on a card. Its controls (buttons, menus) never start a drag; its handle does. */
  press(event: PointerEvent, leadId: string, card: HTMLElement): void {
    if (this.leadId !== null || this.#press !== null || !event.isPrimary) return;
    const kind = pointerKind(event.pointerType);
    if (kind === "mouse" && event.button !== 0) return;
    const control = event.target instanceof Element ? event.target.closest(cardControls) : null;
    if (control && !control.hasAttribute("data-card-handle")) return;
    if (!this.#host.canDrag(leadId)) return;
    const press: Press = {
      pointerId: event.pointerId,
      leadId,
      kind,
      x0: event.clientX,
      y0: event.clientY,
      x: event.clientX,
      y: event.clientY,
      rect: card.getBoundingClientRect(),
      timer: undefined,
    };
    if (needsLongPress(kind)) {
      press.timer = setTimeout(() => this.#held(), dragRules.longPressMs);
      this.pressing = leadId;
    }
    this.#press = press;
    this.#listen(true);
  }

  /** True right after a drag ended: the click the release produces is not an "open". */
  justEnded(): boolean {
    return performance.now() - this.#endedAt < clickAfterDragMs;
  }

  /** Ends any gesture without dropping (the board is going away). */
  destroy(): void {
    const id = this.leadId;
    this.#finish();
    if (id !== null) this.#host.cancelled(id);
  }

  /** A touch move during a drag must not scroll the page (the board's non-passive touchmove listener calls this). */
  readonly guardTouchMove = (event: TouchEvent): void => {
    // Only once the drag has started: before the long press ends, a move is a scroll.
    if (this.leadId !== null && event.cancelable) event.preventDefault();
  };

  readonly #onMove = (event: PointerEvent): void => {
    const press = this.#press;
    if (!press || event.pointerId !== press.pointerId) return;
    press.x = event.clientX;
    press.y = event.clientY;
    if (this.leadId === null) {
      const decision = pressMoved(press.kind, press.x - press.x0, press.y - press.y0);
      if (decision === "abandon") return this.#finish(false);
      if (decision === "wait") return;
      this.#begin();
      return;
    }
    event.preventDefault();
    this.#follow();
  };

  readonly #onUp = (event: PointerEvent): void => {
    const press = this.#press;
    if (!press || event.pointerId !== press.pointerId) return;
    const id = this.leadId;
    if (id === null) return this.#finish(false);
    press.x = event.clientX;
    press.y = event.clientY;
    this.#hitTest();
    const target = this.over;
    this.#finish();
    this.#host.dropped(id, target);
  };

  readonly #onCancel = (event: PointerEvent): void => {
    if (!this.#press || event.pointerId !== this.#press.pointerId) return;
    this.#cancel();
  };

  readonly #onKey = (event: KeyboardEvent): void => {
    if (event.key !== "Escape") return;
    if (this.leadId === null) return this.#finish(false);
    event.preventDefault();
    event.stopPropagation();
    this.#cancel();
  };

  /** A long press opens the context menu on some devices: not while pressing or dragging. */
  readonly #onContextMenu = (event: Event): void => {
    if (this.#press && this.#press.kind !== "mouse") event.preventDefault();
  };

  readonly #onBlur = (): void => this.#cancel();

  #cancel(): void {
    const id = this.leadId;
    this.#finish(id !== null);
    if (id !== null) this.#host.cancelled(id);
  }

  #held(): void {
    const press = this.#press;
    if (!press || this.leadId !== null) return;
    if (pressHeld(press.x - press.x0, press.y - press.y0) === "abandon") return this.#finish(false);
    this.#begin();
  }

  #begin(): void {
    const press = this.#press;
    if (!press) return;
    clearTimeout(press.timer);
    this.pressing = null;
    this.kind = press.kind;
    this.leadId = press.leadId;
    this.ghost = {
      x: press.x,
      y: press.y,
      offsetX: press.x0 - press.rect.left,
      offsetY: press.y0 - press.rect.top,
      width: press.rect.width,
    };
    window.getSelection()?.removeAllRanges();
    this.#host.started(press.leadId);
    this.#hitTest();
    this.#frame = requestAnimationFrame(this.#scrollFrame);
  }

  #follow(): void {
    const press = this.#press;
    const ghost = this.ghost;
    if (!press || !ghost) return;
    this.ghost = { ...ghost, x: press.x, y: press.y };
    this.#hitTest();
  }

  /** The column under the pointer and the card the drop would land above. */
  #hitTest(): void {
    const press = this.#press;
    const leadId = this.leadId;
    if (!press || leadId === null) return;
    const column = document.elementFromPoint(press.x, press.y)?.closest<HTMLElement>(columnSelector) ?? null;
    const stage = column?.dataset.dropStage;
    if (!column || !stage) return this.#setOver(null);
    if (column.dataset.collapsed === "true") return this.#setOver({ stage, beforeId: null });
    const boxes: CardBox[] = [];
    for (const el of column.querySelectorAll<HTMLElement>(cardSelector)) {
      const id = el.dataset.leadId;
      if (!id || id === leadId) continue;
      const r = el.getBoundingClientRect();
      boxes.push({ id, top: r.top, bottom: r.bottom });
    }
    const last = boxes.at(-1)?.id ?? null;
    const after = last === null ? null : nextId(this.#host.columnCards(stage), last, leadId);
    this.#setOver({ stage, beforeId: dropBeforeAt(boxes, press.y, after) });
  }

  #setOver(next: DropTarget | null): void {
    const cur = this.over;
    if (cur === next || (cur && next && cur.stage === next.stage && cur.beforeId === next.beforeId)) return;
    this.over = next;
  }

  /** Near a scroller's edge, scroll it; then the drop place under the pointer may have changed. */
  readonly #scrollFrame = (): void => {
    const press = this.#press;
    if (!press || this.leadId === null) return;
    let scrolled = false;
    const column = document.elementFromPoint(press.x, press.y)?.closest<HTMLElement>(columnSelector);
    const list = column?.querySelector<HTMLElement>("[data-scroller]");
    if (list) {
      const r = list.getBoundingClientRect();
      const dy = edgeSpeed(press.y, r.top, r.bottom);
      if (dy !== 0 && canScroll(list.scrollTop, list.scrollHeight - list.clientHeight, dy)) {
        list.scrollTop += dy;
        scrolled = true;
      }
    }
    const board = this.#host.boardScroller();
    if (board) {
      const r = board.getBoundingClientRect();
      const dx = edgeSpeed(press.x, r.left, r.right);
      if (dx !== 0 && canScroll(board.scrollLeft, board.scrollWidth - board.clientWidth, dx)) {
        board.scrollLeft += dx;
        scrolled = true;
      }
    }
    if (scrolled) this.#hitTest();
    this.#frame = requestAnimationFrame(this.#scrollFrame);
  };

  #listen(on: boolean): void {
    const method = on ? "addEventListener" : "removeEventListener";
    window[method]("pointermove", this.#onMove as EventListener, { passive: false });
    window[method]("pointerup", this.#onUp as EventListener);
    window[method]("pointercancel", this.#onCancel as EventListener);
    window[method]("keydown", this.#onKey as EventListener, { capture: true });
    window[method]("contextmenu", this.#onContextMenu);
    window[method]("blur", this.#onBlur);
  }

  /** Ends the gesture; `dragged` records when, so the release's click is ignored. */
  #finish(dragged = true): void {
    if (this.#press) clearTimeout(this.#press.timer);
    if (this.#press || this.leadId !== null) this.#listen(false);
    if (this.leadId !== null && dragged) this.#endedAt = performance.now();
    cancelAnimationFrame(this.#frame);
    this.#press = null;
    this.pressing = null;
    this.leadId = null;
    this.over = null;
    this.ghost = null;
  }
}

function canScroll(position: number, max: number, delta: number): boolean {
  return delta < 0 ? position > 0 : position < max - 0.5;
}
