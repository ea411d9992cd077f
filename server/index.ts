/**
 * The only file with side effects: config → database → app → listen, and a clean stop.
 */
import { fileURLToPath } from "node:url";
import pino from "pino";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { isClosedConnectionWrite, migrateEmbedded, migrateServer, openPglite, openPostgres, type Database } from "./db/client.ts";
import { demoPassword, demoUsers, isDatabaseEmpty, seedDemo } from "./services/demo-seed.ts";
import { failInterruptedImports, failStaleImports, importHeartbeat } from "./services/import-service.ts";
import { LeaseRunner, repeatWhileHeld } from "./services/leases.ts";
import { DemoSimulator } from "./services/simulator.ts";

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = pino({ level: config.logLevel });

// A known postgres.js defect must not take the board down when a database connection drops;
// anything else uncaught still ends the process (after logging), as Node would.
process.on("uncaughtException", (err) => {
  if (isClosedConnectionWrite(err)) {
    logger.warn({ err }, "postgres.js wrote to a closed connection (porsager/postgres#1154); the query was already rejected");
    return;
  }
  logger.fatal({ err }, "uncaught exception");
  process.exit(1);
});

async function openDatabase(): Promise<Database> {
  if (config.databaseUrl) {
    const database = await openPostgres(config.databaseUrl);
    await database.ping();
    await migrateServer(config.databaseUrl);
    return database;
  }
  const database = await openPglite({ dataDir: config.dataDir });
  await migrateEmbedded(database);
  return database;
}

async function main(): Promise<void> {
  let database: Database;
  try {
    database = await openDatabase();
  } catch (err) {
    const where = config.databaseUrl ? "the PostgreSQL server in DATABASE_URL" : `the embedded database in ${config.dataDir}`;
    logger.fatal({ err }, `cannot open ${where}`);
    process.stderr.write(`Cannot open ${where}: ${(err as Error).message}\n`);
    process.exit(1);
  }

  // Embedded, this is the only node: an import left running was this process's. On PostgreSQL
  // other nodes may be importing; the "import-sweeper" lease fails only imports gone silent.
  if (!config.databaseUrl) {
    const interrupted = await failInterruptedImports(database.db);
    if (interrupted > 0) logger.warn({ interrupted }, "marked imports interrupted by the last stop as failed");
  }

  const clientDir = fileURLToPath(new URL("../dist/client", import.meta.url));
  const app = await createApp({
    database,
    logger,
    clientDir,
    publicIntake: { corsOrigins: config.corsOrigins, perMinute: config.publicRateLimitPerMinute },
    security: config.security,
    ...(config.socketAdapter === "postgres" && config.databaseUrl ? { socketAdapter: { url: config.databaseUrl } } : {}),
  });

  if (config.bootstrapAdmin) {
    const admin = await app.services.auth.bootstrapAdmin(config.bootstrapAdmin);
    if (admin) logger.info({ email: admin.email }, "created the bootstrap admin");
  }

  let seeded = false;
  if (config.seedDemo && (await isDatabaseEmpty(database.db))) {
    const result = await seedDemo(database.db, app, new Date());
    seeded = true;
    logger.info(
      { ...result, logins: demoUsers.map((u) => `${u.email} (${u.role})`), password: demoPassword },
      `loaded the demo organisation; sign in as admin@demo.example with password ${demoPassword}`,
    );
  }

  const simulate = config.simulate ?? (seeded || (config.seedDemo && !config.databaseUrl));
  const simulator = simulate
    ? new DemoSimulator({
        db: database.db,
        forms: app.services.forms,
        events: app.services.events,
        logger,
        now: () => new Date(),
        meanIntervalMs: config.simulateIntervalMs,
        wakeScoring: () => app.scoring.worker.wake(),
      })
    : undefined;

  const { url } = await app.listen(config.port, config.host);
  // Work that must happen once across nodes runs on the node holding its lease.
  const leases = new LeaseRunner(config.databaseUrl ? { kind: "postgres", url: config.databaseUrl } : { kind: "pglite" }, { logger });
  if (simulator) leases.add("demo-simulator", { start: () => simulator.start(), stop: () => simulator.stop() });
  // A rescore whose node died stays "running" in its model row; the holder picks it up.
  leases.add("rescore-resume", repeatWhileHeld(5000, () => app.scoring.rescores.resume(), logger, "resuming rescores"));
  // An import whose node died stops renewing its heartbeat; the holder marks it failed.
  leases.add(
    "import-sweeper",
    repeatWhileHeld(
      importHeartbeat.everyMs,
      async () => {
        const failed = await failStaleImports(database.db);
        if (failed.length > 0) logger.warn({ imports: failed.map((i) => i.id) }, "marked imports of a stopped node as failed");
      },
      logger,
      "failing imports of stopped nodes",
    ),
  );
  logger.info(
    { url, database: database.kind, simulate: Boolean(simulator) },
    `lead pipeline board serving ${url}${config.seedDemo ? ` (demo password: ${demoPassword})` : ""}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing in-flight work");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    try {
      await leases.close();
      await app.close();
      await database.close();
      logger.info("stopped cleanly");
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "error while stopping");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  logger.fatal({ err }, "failed to start");
  process.exit(1);
});
