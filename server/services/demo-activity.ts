import { dayMs, type BehaviorCondition, type InteractionType } from "../../shared/domain/scoring.ts";
import { campaigns, demoModels, pick, websitePages } from "./demo-data.ts";

/**
 * The demo's interaction history, planned so that a contact's score under the demo's
 * contact model lands where its lead's stage makes it plausible. Pure: the clock and the
 * random source are passed in; the scores themselves are computed by live scoring.
 */

export interface PlannedInteraction {
  type: InteractionType;
  at: Date;
  formId: string | null;
  eventId: string | null;
  campaign: string | null;
  url: string | null;
}

export interface ActivityContext {
  now: number;
  forms: ReadonlyArray<{ id: string; campaign: string | null }>;
  events: ReadonlyArray<{ id: string; startsAt: number; campaign: string | null }>;
}

const contactModel = demoModels.find((m) => m.target === "contact")!;

function ruleFor(type: InteractionType): BehaviorCondition | undefined {
  return contactModel.conditions.find((c): c is BehaviorCondition => c.kind === "behavior" && c.interaction === type);
}

/** What one more occurrence adds under the contact model, given what was already counted. */
export function pointsOf(type: InteractionType, counted: ReadonlySet<InteractionType>): number {
  const rule = ruleFor(type);
  if (!rule) return 0;
  if (rule.frequency === "each") return rule.points;
  return rule.frequency === "once" && !counted.has(type) ? rule.points : 0;
}

/** Whether an occurrence at `at` is inside the contact model's window for its type (with an hour's margin). */
export function countsNow(type: InteractionType, at: number, now: number): boolean {
  const days = ruleFor(type)?.withinDays;
  return days === undefined || at > now - days * dayMs + 3_600_000;
}

const daysAgo = (now: number, days: number) => new Date(now - days * dayMs);

/** A moment inside the type's window, never in the last few minutes (the seed's clock moves on). */
function recent(random: () => number, now: number, type: InteractionType): Date {
  const days = ruleFor(type)?.withinDays ?? 30;
  return daysAgo(now, 0.005 + random() * (days - 0.5));
}

/** A moment just too old to count: history that shows on the timeline but scores nothing today. */
function stale(random: () => number, now: number, type: InteractionType): Date {
  const days = ruleFor(type)?.withinDays ?? 30;
  return daysAgo(now, days + 0.5 + random() * Math.max(1, 29 - days));
}

function interaction(type: InteractionType, at: Date, extra: Partial<PlannedInteraction> = {}): PlannedInteraction {
  return { type, at, formId: null, eventId: null, campaign: null, url: null, ...extra };
}

/**
 * Interactions worth `budget` points under the contact model on top of what `origin` (the
 * lead's own form submission or registration) already earns, plus some that have aged out.
 */
export function contactActivity(random: () => number, budget: number, origin: PlannedInteraction[], context: ActivityContext): PlannedInteraction[] {
  const { now } = context;
  const out: PlannedInteraction[] = [...origin];
  const counted = new Set<InteractionType>();
  let left = budget;
  for (const item of origin) {
    if (!countsNow(item.type, item.at.getTime(), now)) continue;
    left -= pointsOf(item.type, counted);
    counted.add(item.type);
  }
  const past = context.events.filter((e) => e.startsAt < now - dayMs);
  const upcoming = context.events.filter((e) => e.startsAt >= now - 3_600_000);
  const add = (type: InteractionType, item: PlannedInteraction) => {
    left -= pointsOf(type, counted);
    counted.add(type);
    out.push(item);
  };
  for (let guard = 0; left > 0 && guard < 200; guard++) {
    const r = random();
    if (left >= 25 + (counted.has("event_registered") ? 0 : 15) && !counted.has("event_attended") && past.length > 0 && r < 0.06) {
      const event = pick(random, past);
      add("event_registered", interaction("event_registered", new Date(event.startsAt - (2 + random() * 18) * dayMs), { eventId: event.id, campaign: event.campaign }));
      add("event_attended", interaction("event_attended", new Date(event.startsAt + 3_600_000), { eventId: event.id, campaign: event.campaign }));
    } else if (left >= 15 && !counted.has("event_registered") && upcoming.length > 0 && r < 0.12) {
      const event = pick(random, upcoming);
      add("event_registered", interaction("event_registered", daysAgo(now, 0.1 + random() * 20), { eventId: event.id, campaign: event.campaign }));
    } else if (left >= 10 && r < 0.4) {
      const form = origin.find((o) => o.formId) ?? { formId: pick(random, context.forms).id, campaign: null };
      const campaign = context.forms.find((f) => f.id === form.formId)?.campaign ?? null;
      add("form_submitted", interaction("form_submitted", recent(random, now, "form_submitted"), { formId: form.formId, campaign }));
    } else if (left >= 5 && r < 0.75) {
      add("email_clicked", interaction("email_clicked", recent(random, now, "email_clicked"), { campaign: pick(random, campaigns) }));
    } else if (left >= 2 && r < 0.92) {
      add("website_visited", interaction("website_visited", recent(random, now, "website_visited"), { url: pick(random, websitePages) }));
    } else {
      add("email_opened", interaction("email_opened", recent(random, now, "email_opened"), { campaign: pick(random, campaigns) }));
    }
  }
  return [...out, ...agedOut(random, now)];
}

/** Older opens, visits and clicks: outside every window of the demo models. */
function agedOut(random: () => number, now: number): PlannedInteraction[] {
  const out: PlannedInteraction[] = [];
  const opens = Math.floor(random() * 4);
  const visits = Math.floor(random() * 5);
  const clicks = random() < 0.3 ? 1 : 0;
  for (let i = 0; i < opens; i++) out.push(interaction("email_opened", stale(random, now, "email_opened"), { campaign: pick(random, campaigns) }));
  for (let i = 0; i < visits; i++) out.push(interaction("website_visited", stale(random, now, "website_visited"), { url: pick(random, websitePages) }));
  for (let i = 0; i < clicks; i++) out.push(interaction("email_clicked", stale(random, now, "email_clicked"), { campaign: pick(random, campaigns) }));
  return out;
}

/**
 * A colleague with no lead of their own (a newsletter reader, someone in the buying group):
 * their opens, clicks and visits count only for their account. `busy` colleagues belong to
 * the accounts the demo makes hot.
 */
export function colleagueActivity(random: () => number, busy: boolean, now: number): PlannedInteraction[] {
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const out: PlannedInteraction[] = [];
  const counts = busy ? { email_opened: between(3, 8), email_clicked: between(3, 6), website_visited: between(4, 10) } : { email_opened: between(1, 5), email_clicked: between(0, 2), website_visited: between(0, 4) };
  for (const [type, n] of Object.entries(counts) as Array<[InteractionType, number]>) {
    for (let i = 0; i < n; i++) {
      out.push(interaction(type, recent(random, now, type), type === "website_visited" ? { url: pick(random, websitePages) } : { campaign: pick(random, campaigns) }));
    }
  }
  return [...out, ...agedOut(random, now)];
}
