import { describe, expect, it } from "vitest";
import { render } from "svelte/server";
import PresenceBar from "../../../client/src/components/PresenceBar.svelte";
import SoftLock from "../../../client/src/components/SoftLock.svelte";
import type { PresenceViewer } from "../../../client/src/lib/presence-logic.ts";

const viewer = (i: number, self = false): PresenceViewer => ({
  userId: `u${i}`,
  name: `Person ${i} Last`,
  role: "salesperson",
  connections: 1,
  activities: [],
  self,
});

const count = (html: string, text: string) => html.split(text).length - 1;

describe("PresenceBar", () => {
  it("shows up to six avatars with initials and accessible names, then +N", () => {
    const viewers = Array.from({ length: 8 }, (_, i) => viewer(i, i === 7));
    const { body } = render(PresenceBar, { props: { viewers } });
    expect(body).toContain('data-testid="presence-bar"');
    expect(count(body, 'data-testid="presence-viewer"')).toBe(6);
    expect(body).toContain('data-user-id="u0"');
    expect(body).toContain('title="Person 0 Last, Salesperson"');
    expect(body).toContain(">PL<");
    expect(body).toContain("+2");
    expect(body).toContain("and 2 more: Person 6 Last, Salesperson, Person 7 Last (you), Salesperson");
  });

  it("renders nothing when nobody is there", () => {
    expect(render(PresenceBar, { props: { viewers: [] } }).body).not.toContain("presence-bar");
  });
});

describe("SoftLock", () => {
  it("says who holds the lead, dragging first", () => {
    const { body } = render(SoftLock, {
      props: { holders: [{ userId: "u1", name: "Leo", kind: "open" }, { userId: "u2", name: "Mia", kind: "drag" }] },
    });
    expect(body).toContain('data-testid="soft-lock"');
    expect(body).toContain('data-kind="drag"');
    expect(body).toContain("Mia is dragging, Leo has it open");
  });

  it("renders nothing without holders", () => {
    expect(render(SoftLock, { props: { holders: [] } }).body).not.toContain("soft-lock");
  });
});
