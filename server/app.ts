import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import path from "node:path";
import express from "express";
import type { Logger } from "pino";
import { Gauge } from "prom-client";
import { Server } from "socket.io";
import { apiKeyRoom, displayRoom, sessionRoom, userRoom, type SessionEndReason } from "../shared/events.ts";
import type { Database } from "./db/client.ts";
import { authRoutes, sessionMiddleware } from "./http/auth-routes.ts";
import { apiKeyRoutes, bearerMiddleware } from "./http/api-key-routes.ts";
import { displayTokenRoutes } from "./http/display-token-routes.ts";
import { DisplayTokenService } from "./services/display-token-service.ts";
import { WallFiguresService } from "./services/wall-figures.ts";
import { userRoutes } from "./http/user-routes.ts";
import { auditRoutes } from "./http/audit-routes.ts";
import { UserService } from "./services/user-service.ts";
import { AuditService } from "./services/audit-service.ts";
import { errorHandler, sendError } from "./http/errors.ts";
import {
  jsonBody,
  sameOriginMutations,
  securityHeaders,
  socketOriginCheck,
  socketSessionActivity,
  type SecurityOptions,
  type TrustFn,
} from "./http/security.ts";
import { leadRoutes } from "./http/lead-routes.ts";
import { importRoutes } from "./http/import-routes.ts";
import { ImportService, toImportView } from "./services/import-service.ts";
import { marketingRoutes } from "./http/marketing-routes.ts";
import { publicIntakeRoutes } from "./http/public-intake-routes.ts";
import { recordRoutes } from "./http/record-routes.ts";
import { segmentRoutes } from "./http/segment-routes.ts";
import { lifecycleRoutes } from "./http/lifecycle-routes.ts";
import { processRoutes } from "./http/process-routes.ts";
import { savedViewRoutes } from "./http/saved-view-routes.ts";
import { SavedViewService } from "./services/saved-view-service.ts";
import { createMetrics, registerSyncGauges } from "./metrics.ts";
import { queueDepth } from "./repositories/scoring.ts";
import { AuthService, startSessionSweeper } from "./services/auth-service.ts";
import { ApiKeyService } from "./services/api-key-service.ts";
import { InteractionService } from "./services/interaction-service.ts";
import { RescoreJobs } from "./services/rescore-jobs.ts";
import { ScoreWorker } from "./services/score-worker.ts";
import { ScoringModelService } from "./services/scoring-model-service.ts";
import { scoringRoutes } from "./http/scoring-routes.ts";
import { BoardFanout } from "./services/board-fanout.ts";
import { BoardFollower, type BoardFollowerOptions } from "./services/board-follower.ts";
import { BoardService } from "./services/board-service.ts";
import { EventService } from "./services/event-service.ts";
import { FormService } from "./services/form-service.ts";
import { IntakeService } from "./services/intake-service.ts";
import { LinkedinService } from "./services/linkedin-service.ts";
import { RecordsService } from "./services/records-service.ts";
import { SegmentService } from "./services/segment-service.ts";
import { StrategyService } from "./services/strategy-service.ts";
import { LeadService } from "./services/lead-service.ts";
import { LifecycleService } from "./services/lifecycle-service.ts";
import { ProcessService } from "./services/process-service.ts";
import { attachBoardSocket, type BoardServer } from "./socket/board-socket.ts";
import { SyncLimiter } from "./socket/sync-limiter.ts";
import { ViewFanout } from "./socket/view-rooms.ts";
import { attachPostgresAdapter, type PostgresAdapterConfig } from "./socket/adapter.ts";
import { attachPresence } from "./socket/presence-socket.ts";
import { loadHeldLeads } from "./services/presence-leads.ts";

export interface AppDeps {
  database: Database;
  logger: Logger;
  /** The clock; tests may pin it. */
  now?: () => Date;
  /** Built client to serve (dist/client); omitted in API-only tests. */
  clientDir?: string;
  /** Public form and registration endpoints: extra CORS origins and the per-address limit. */
  publicIntake?: { corsOrigins: string[]; perMinute: number };
  /** Live scoring: tests may stop the worker and drain the queue themselves. */
  scoring?: { autoStart?: boolean; coalesceMs?: number; pollMs?: number };
  /** Share Socket.IO rooms with other nodes through this PostgreSQL server; omitted: one node. */
  socketAdapter?: PostgresAdapterConfig;
  /** With `socketAdapter`: how this node follows the board event log (poll period; tests drop notifications). */
  boardFollower?: BoardFollowerOptions;
  /** Board joins/resyncs one node runs at once; the rest queue (never refused). Default 8. */
  sync?: { maxConcurrent?: number };
  /** Trust proxy, session idle time, socket command rate, sign-in lockouts (docs/security.md). */
  security?: SecurityOptions;
}

export interface App {
  http: HttpServer;
  io: BoardServer;
  services: {
    auth: AuthService;
    boards: BoardService;
    leads: LeadService;
    intake: IntakeService;
    forms: FormService;
    events: EventService;
    linkedin: LinkedinService;
    records: RecordsService;
    strategies: StrategyService;
    lifecycle: LifecycleService;
    processes: ProcessService;
    segments: SegmentService;
    imports: ImportService;
    apiKeys: ApiKeyService;
    users: UserService;
    audit: AuditService;
    scoringModels: ScoringModelService;
    interactions: InteractionService;
  };
  scoring: { worker: ScoreWorker; rescores: RescoreJobs };
  fanout: BoardFanout;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight work finish, closes sockets. Does not close the database. */
  close(): Promise<void>;
}

/** The built client's version: its index.html names every hashed asset, so its hash changes with each build. */
function clientBuildVersion(clientDir: string): string | undefined {
  const index = path.join(clientDir, "index.html");
  if (!existsSync(index)) return undefined;
  return createHash("sha256").update(readFileSync(index)).digest("base64url").slice(0, 16);
}

/** Builds express + Socket.IO from injected parts; no side effects until `listen`. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { database, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const metrics = createMetrics();
  const app = express();
  const http = createServer(app);
  // CSV uploads are read at the import's pace and may take longer than Node's 5-minute default.
  http.requestTimeout = 0;
  const io: BoardServer = new Server(http, { serveClient: false });
  const socketAdapter = deps.socketAdapter ? await attachPostgresAdapter(io, deps.socketAdapter, logger) : undefined;

  // Several nodes: each follows the event log and sends board events to its own sockets only (docs/deploy.md).
  const followsLog = deps.socketAdapter !== undefined;
  const views = new ViewFanout(io, database.db, (err) => logger.error({ err }, "could not deliver a board event"), followsLog);
  const fanout = new BoardFanout({
    db: database.db,
    logger,
    followsLog,
    deliver: (event) => {
      views.deliver(event);
      metrics.boardEventsDelivered.inc();
    },
  });
  await fanout.start();
  const follower = deps.socketAdapter
    ? new BoardFollower({ url: deps.socketAdapter.url, db: database.db, fanout, logger }, deps.boardFollower)
    : undefined;
  await follower?.start();

  const auth = new AuthService(database.db, { idleMinutes: deps.security?.sessionIdleMinutes });
  /** Ends one session's open sockets, on every node (through the adapter), telling them why. */
  /**
   * Ends every socket in a room on purpose, telling them why first. Through the adapter this
   * reaches the room's sockets on every node: logout, deactivation, revocation act at once.
   */
  const endSockets = (room: string, reason: SessionEndReason) => {
    io.in(room).emit("session:ended", { reason });
    io.in(room).disconnectSockets(true);
  };
  const endSession = (sessionId: string, reason: SessionEndReason) => endSockets(sessionRoom(sessionId), reason);
  const sessionSweeper = startSessionSweeper({ auth, now, logger, onEnded: (id) => endSession(id, "expired") });
  const apiKeys = new ApiKeyService(database.db, (keyId) => endSockets(apiKeyRoom(keyId), "key_revoked"));
  const displayTokens = new DisplayTokenService(database.db, {
    endSockets: (tokenId) => endSockets(displayRoom(tokenId), "display_revoked"),
  });
  const wallFigures = new WallFiguresService(database.db, { displaySeen: (tokenId, at) => displayTokens.seen(tokenId, at) });
  const users = new UserService({ db: database.db, endSockets });
  const audit = new AuditService(database.db);
  const worker = new ScoreWorker(database.db, fanout, {
    logger,
    now,
    ...(deps.scoring?.coalesceMs !== undefined ? { coalesceMs: deps.scoring.coalesceMs } : {}),
    ...(deps.scoring?.pollMs !== undefined ? { pollMs: deps.scoring.pollMs } : {}),
    onRound: (round, ms) => {
      if (round.scored.length > 0) metrics.scoringRounds.observe(ms / 1000);
      metrics.leadsScored.inc(round.scored.length);
    },
  });
  new Gauge({
    name: "scoring_queue_due",
    help: "Leads waiting to be scored now (the live scoring backlog)",
    registers: [metrics.registry],
    async collect() {
      this.set(await queueDepth(database.db, now()));
    },
  });
  const rescores = new RescoreJobs(database.db, fanout, { logger, now });
  const scoringModels = new ScoringModelService(database.db, rescores);
  const interactions = new InteractionService(database.db, () => worker.wake());
  if (deps.scoring?.autoStart !== false) {
    worker.start();
    await rescores.resume();
  }
  const boards = new BoardService(database.db);
  const leads = new LeadService(database.db, fanout);
  const intake = new IntakeService(database.db, fanout, leads);
  const forms = new FormService(database.db, intake);
  const events = new EventService(database.db, intake);
  const linkedin = new LinkedinService(database.db, fanout, intake);
  const records = new RecordsService(database.db, fanout, leads);
  const strategies = new StrategyService(database.db);
  const lifecycle = new LifecycleService(database.db, fanout);
  const processes = new ProcessService(database.db, fanout);
  const segments = new SegmentService(database.db);
  const imports = new ImportService(database.db, fanout, intake, leads, {
    logger,
    onProgress: (row) => {
      if (row.createdBy) io.to(userRoom(row.createdBy)).emit("import:progress", toImportView(row));
    },
  });

  let inFlight = 0;
  let closing = false;

  app.disable("x-powered-by");
  // Behind a TLS-terminating proxy: req.secure (Secure cookies) and req.ip (rate limits) come from its headers.
  app.set("trust proxy", deps.security?.trustProxy ?? false);
  app.use(securityHeaders());
  app.use((req, res, next) => {
    const end = metrics.httpRequests.startTimer({ method: req.method });
    inFlight++;
    res.on("close", () => {
      inFlight--;
      end({ route: req.route?.path ?? (req.path.startsWith("/api") ? "api" : "static"), status: res.statusCode });
    });
    next();
  });

  app.get("/healthz", async (_req, res) => {
    try {
      await database.ping();
      res.json({ status: "ok", database: database.kind });
    } catch (err) {
      logger.warn({ err }, "health check: database does not answer");
      sendError(res, { code: "UNAVAILABLE", message: "The database does not answer" });
    }
  });

  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Public endpoints (no session): landing-page forms and event registrations.
  app.use("/api", jsonBody("1mb"));
  app.use("/api", publicIntakeRoutes(forms, events, deps.publicIntake ?? { corsOrigins: [], perMinute: 60 }, now));
  // Everything below the public intake: mutations only from this server's own pages (or with an API key).
  app.use("/api", sameOriginMutations(logger));
  app.use("/api", sessionMiddleware(auth, now));
  app.use("/api", bearerMiddleware(apiKeys, now));
  app.use("/api", authRoutes(auth, now, { endSession, loginLimits: deps.security?.login }));
  app.use("/api", leadRoutes(leads, now));
  app.use("/api", importRoutes(imports, now));
  app.use("/api", recordRoutes(records, now));
  app.use("/api", lifecycleRoutes(lifecycle, now));
  app.use("/api", processRoutes(processes, now));
  app.use("/api", marketingRoutes({ forms, events, linkedin, records, strategies }, now));
  app.use("/api", segmentRoutes(segments));
  app.use("/api", apiKeyRoutes(apiKeys, now));
  app.use("/api", displayTokenRoutes(displayTokens, now));
  app.use("/api", userRoutes(users, now));
  app.use("/api", auditRoutes(audit));
  app.use("/api", scoringRoutes(scoringModels, interactions, now));
  app.use("/api", savedViewRoutes(new SavedViewService(database.db), now));
  app.use("/api", (_req, res) => sendError(res, { code: "NOT_FOUND", message: "No such endpoint" }));

  if (deps.clientDir && existsSync(path.join(deps.clientDir, "index.html"))) {
    const clientDir = deps.clientDir;
    app.use(express.static(clientDir, { index: false, maxAge: "1h" }));
    // Client-side routes (/, /login, /wall/...) all load the app shell.
    app.use((req, res, next) => {
      if (req.method !== "GET" && req.method !== "HEAD") return next();
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(path.join(clientDir, "index.html"));
    });
  }
  app.use((_req, res) => sendError(res, { code: "NOT_FOUND", message: "No such page" }));
  app.use(errorHandler(logger));

  // Before the board's handshake middleware: a cookie handshake from another site never gets identified.
  io.use(socketOriginCheck(() => app.get("trust proxy fn") as TrustFn, logger));
  io.on(
    "connection",
    socketSessionActivity({ touch: (id) => auth.touch(id, now()), onExpired: (id) => endSession(id, "expired"), logger }),
  );
  io.on("connection", (socket) => {
    metrics.socketsConnected.inc();
    socket.on("disconnect", () => metrics.socketsConnected.dec());
  });
  const presence = attachPresence(io, {
    logger,
    crossNode: socketAdapter !== undefined,
    commandRate: deps.security?.commandRate,
    heldLeads: (boardId, leadIds) => loadHeldLeads(database.db, boardId, leadIds),
  });
  const clientVersion = deps.clientDir ? clientBuildVersion(deps.clientDir) : undefined;
  const syncLimiter = new SyncLimiter(deps.sync?.maxConcurrent);
  registerSyncGauges(metrics.registry, () => syncLimiter.stats);
  attachBoardSocket(io, {
    syncLimiter,
    authenticate: {
      apiKey: (token) => apiKeys.authenticate(token, now()),
      display: (token) => displayTokens.authenticate(token, now()),
    },
    figures: (actor, input) => wallFigures.figures(actor, input, now()),
    clientVersion,
    auth,
    boards,
    leads,
    logger,
    now,
    onCommand: (command, ok) => metrics.socketCommands.inc({ command, outcome: ok ? "ok" : "error" }),
    rate: deps.security?.commandRate,
    track: async (work) => {
      inFlight++;
      try {
        return await work;
      } finally {
        inFlight--;
      }
    },
  });

  return {
    http,
    io,
    services: {
      auth,
      boards,
      leads,
      intake,
      forms,
      events,
      linkedin,
      records,
      strategies,
      lifecycle,
      processes,
      segments,
      imports,
      apiKeys,
      users,
      audit,
      scoringModels,
      interactions,
    },
    scoring: { worker, rescores },
    fanout,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        http.once("error", reject);
        http.listen(port, host, () => {
          const address = http.address();
          const actual = typeof address === "object" && address ? address.port : port;
          resolve({ port: actual, url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}` });
        });
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      // Running imports stop after their current batch (and are marked failed), so uploads end.
      await imports.stop();
      await rescores.stop();
      await worker.stop();
      await follower?.close();
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // Socket.IO's close disconnects every client; in-flight handlers still finish their transaction.
      await io.close();
      presence.close();
      sessionSweeper.close();
      await socketAdapter?.close();
      const deadline = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      http.closeAllConnections();
      await stopped;
      fanout.close();
    },
  };
}
