import { existsSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import path from "node:path";
import express from "express";
import type { Logger } from "pino";
import { Server } from "socket.io";
import { boardRoom } from "../shared/events.ts";
import type { Database } from "./db/client.ts";
import { authRoutes, sessionMiddleware } from "./http/auth-routes.ts";
import { errorHandler, sendError } from "./http/errors.ts";
import { leadRoutes } from "./http/lead-routes.ts";
import { createMetrics } from "./metrics.ts";
import { AuthService } from "./services/auth-service.ts";
import { BoardFanout } from "./services/board-fanout.ts";
import { BoardService } from "./services/board-service.ts";
import { IntakeService } from "./services/intake-service.ts";
import { LeadService } from "./services/lead-service.ts";
import { attachBoardSocket, type BoardServer } from "./socket/board-socket.ts";

export interface AppDeps {
  database: Database;
  logger: Logger;
  /** The clock; tests may pin it. */
  now?: () => Date;
  /** Built client to serve (dist/client); omitted in API-only tests. */
  clientDir?: string;
}

export interface App {
  http: HttpServer;
  io: BoardServer;
  services: {
    auth: AuthService;
    boards: BoardService;
    leads: LeadService;
    intake: IntakeService;
  };
  fanout: BoardFanout;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets in-flight work finish, closes sockets. Does not close the database. */
  close(): Promise<void>;
}

/** Builds express + Socket.IO from injected parts; no side effects until `listen`. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { database, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const metrics = createMetrics();
  const app = express();
  const http = createServer(app);
  const io: BoardServer = new Server(http, { serveClient: false });

  const fanout = new BoardFanout({
    db: database.db,
    logger,
    deliver: (event) => {
      io.to(boardRoom(event.boardId)).emit("board:event", event);
      metrics.boardEventsDelivered.inc();
    },
  });
  await fanout.start();

  const auth = new AuthService(database.db);
  const boards = new BoardService(database.db);
  const leads = new LeadService(database.db, fanout);
  const intake = new IntakeService(database.db, fanout, leads);

  let inFlight = 0;
  let closing = false;

  app.disable("x-powered-by");
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

  app.use("/api", express.json({ limit: "1mb", strict: false }));
  app.use("/api", sessionMiddleware(auth, now));
  app.use("/api", authRoutes(auth, now));
  app.use("/api", leadRoutes(leads, now));
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
  app.use(errorHandler(logger));

  io.on("connection", (socket) => {
    metrics.socketsConnected.inc();
    socket.on("disconnect", () => metrics.socketsConnected.dec());
  });
  attachBoardSocket(io, {
    auth,
    boards,
    leads,
    logger,
    now,
    onCommand: (command, ok) => metrics.socketCommands.inc({ command, outcome: ok ? "ok" : "error" }),
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
    services: { auth, boards, leads, intake },
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
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // Socket.IO's close disconnects every client; in-flight handlers still finish their transaction.
      await io.close();
      const deadline = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      http.closeAllConnections();
      await stopped;
      fanout.close();
    },
  };
}
