import { describe, expect, it } from "vitest";
import {
  dragRules,
  dropBeforeAt,
  edgeSpeed,
  flipDelta,
  needsLongPress,
  nextId,
  pointerKind,
  pressHeld,
  pressMoved,
} from "../../../client/src/lib/drag-logic.ts";

describe("when a press becomes a drag", () => {
  it.each([
    { kind: "mouse", dx: 0, dy: 0, expected: "wait" },
    { kind: "mouse", dx: 3, dy: 3, expected: "wait" },
    { kind: "mouse", dx: 4, dy: 3, expected: "start" },
    { kind: "mouse", dx: 0, dy: -40, expected: "start" },
    // Touch and pen: moving before the long press is a scroll.
    { kind: "touch", dx: 0, dy: 5, expected: "wait" },
    { kind: "touch", dx: 0, dy: 30, expected: "abandon" },
    { kind: "pen", dx: 9, dy: 0, expected: "abandon" },
    { kind: "pen", dx: 2, dy: 2, expected: "wait" },
  ] as const)("$kind moved ($dx, $dy) → $expected", ({ kind, dx, dy, expected }) => {
    expect(pressMoved(kind, dx, dy)).toBe(expected);
  });

  it.each([
    { dx: 0, dy: 0, expected: "start" },
    { dx: 5, dy: 5, expected: "start" },
    { dx: 0, dy: 20, expected: "abandon" },
  ] as const)("a long press held at ($dx, $dy) → $expected", ({ dx, dy, expected }) => {
    expect(pressHeld(dx, dy)).toBe(expected);
  });

  it("only touch and pen wait for a long press; unknown pointer types act as a mouse", () => {
    expect(pointerKind("touch")).toBe("touch");
    expect(pointerKind("pen")).toBe("pen");
    expect(pointerKind("mouse")).toBe("mouse");
    expect(pointerKind("")).toBe("mouse");
    expect(needsLongPress("mouse")).toBe(false);
    expect(needsLongPress("touch")).toBe(true);
    expect(needsLongPress("pen")).toBe(true);
    expect(dragRules.longPressMs).toBeGreaterThanOrEqual(300);
  });
});

describe("where a drop lands", () => {
  const boxes = [
    { id: "a", top: 0, bottom: 100 },
    { id: "b", top: 108, bottom: 208 },
    { id: "c", top: 216, bottom: 316 },
  ];
  it.each([
    { y: -20, expected: "a" },
    { y: 49, expected: "a" },
    { y: 51, expected: "b" },
    { y: 200, expected: "c" },
    { y: 270, expected: "next" },
  ])("y=$y lands above $expected", ({ y, expected }) => {
    expect(dropBeforeAt(boxes, y, "next")).toBe(expected);
  });

  it("past the last card of a column that ends there: the end (null)", () => {
    expect(dropBeforeAt(boxes, 400, null)).toBeNull();
    expect(dropBeforeAt([], 10, null)).toBeNull();
  });

  it("the card after the last rendered one skips the dragged card", () => {
    const list = [{ id: "a" }, { id: "b" }, { id: "drag" }, { id: "c" }];
    expect(nextId(list, "b", "drag")).toBe("c");
    expect(nextId(list, "c", "drag")).toBeNull();
    expect(nextId(list, null, "a")).toBe("b");
    expect(nextId(list, "gone", "drag")).toBeNull();
  });
});

describe("auto-scroll near edges", () => {
  it.each([
    { pos: 300, expected: 0 },
    { pos: 0, expected: 0 }, // outside: another element is under the pointer
    { pos: 10, expected: -dragRules.maxScrollPx },
    { pos: 600, expected: dragRules.maxScrollPx },
    { pos: 20, sign: -1 },
    { pos: 590, sign: 1 },
    { pos: 700, expected: 0 },
  ])("pointer at $pos in [10, 600]", ({ pos, expected, sign }) => {
    const speed = edgeSpeed(pos, 10, 600);
    if (expected !== undefined) expect(speed).toBe(expected);
    if (sign !== undefined) expect(Math.sign(speed)).toBe(sign);
  });

  it("is faster closer to the edge", () => {
    expect(Math.abs(edgeSpeed(15, 10, 600))).toBeGreaterThan(Math.abs(edgeSpeed(50, 10, 600)));
  });

  it("a small scroller keeps a middle that does not scroll", () => {
    expect(edgeSpeed(50, 0, 100)).toBe(0);
    expect(edgeSpeed(5, 0, 100)).toBeLessThan(0);
  });
});

describe("FLIP offsets", () => {
  it("how far to shift a card back to where it was; none when it did not move", () => {
    expect(flipDelta({ x: 10, y: 300 }, { x: 322, y: 40 })).toEqual({ x: -312, y: 260 });
    expect(flipDelta({ x: 10, y: 10 }, { x: 10.4, y: 9.8 })).toBeNull();
  });
});
