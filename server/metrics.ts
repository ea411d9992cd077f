import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { SyncLimiterStats } from "./socket/sync-limiter.ts";

/** One registry per app instance, so tests can build many apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    socketCommands: new Counter({
      name: "socket_commands_total",
      help: "Socket.IO commands by name and outcome",
      labelNames: ["command", "outcome"],
      registers: [registry],
    }),
    boardEventsDelivered: new Counter({
      name: "board_events_delivered_total",
      help: "Board events delivered to Socket.IO rooms",
      registers: [registry],
    }),
    scoringRounds: new Histogram({
      name: "scoring_round_duration_seconds",
      help: "Time to evaluate one batch of queued leads and write their scores",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    leadsScored: new Counter({
      name: "leads_scored_total",
      help: "Lead evaluations by the live score worker",
      registers: [registry],
    }),
    socketsConnected: new Gauge({
      name: "socket_connections",
      help: "Open Socket.IO connections",
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges of the board-sync admission limit (joins and resyncs), read when scraped. */
export function registerSyncGauges(registry: Registry, stats: () => SyncLimiterStats): void {
  new Gauge({
    name: "board_syncs_running",
    help: "Board joins and resyncs running now (at most the admission limit)",
    registers: [registry],
    collect() {
      this.set(stats().running);
    },
  });
  new Gauge({
    name: "board_syncs_queued",
    help: "Board joins and resyncs waiting for a slot (e.g. everyone reconnecting after a restart)",
    registers: [registry],
    collect() {
      this.set(stats().queued);
    },
  });
}
