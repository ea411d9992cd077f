import type { BoardEvent } from "../../shared/board.ts";
import { DomainError } from "../../shared/errors.ts";
import type { CommittedEventSink } from "../../server/services/event-log.ts";

/** Collects what services publish after commit, in place of the Socket.IO fan-out. */
export class RecordingSink implements CommittedEventSink {
  readonly events: BoardEvent[] = [];
  committed(events: BoardEvent[]) {
    this.events.push(...events);
  }
}

/** The DomainError a promise rejects with; anything else fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a DomainError");
}
