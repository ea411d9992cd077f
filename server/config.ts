import path from "node:path";
import { z } from "zod";

const flag = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  SEED_DEMO: flag.optional(),
  SIMULATE: flag.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(",").map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, "each origin must look like https://www.example.com")))
    .optional(),
  PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  SIMULATE_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(8000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SOCKET_ADAPTER: z.enum(["memory", "postgres"]).default("memory"),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  bootstrapAdmin: { email: string; password: string } | undefined;
  seedDemo: boolean;
  /** undefined: decided at start (on when the demo was seeded). */
  simulate: boolean | undefined;
  /** Origins whose pages may post forms and registrations from the browser (besides each form's own). */
  corsOrigins: string[];
  /** Public submissions allowed per client address and minute. */
  publicRateLimitPerMinute: number;
  /** Mean time between simulated submissions. */
  simulateIntervalMs: number;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  /** How Socket.IO nodes share rooms: "memory" (one node) or "postgres" (several nodes, via LISTEN/NOTIFY). */
  socketAdapter: "memory" | "postgres";
}

export class ConfigError extends Error {}

/** Parses the environment once; the message names the first bad variable on one line. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join(".")}: ${issue.message}`);
  }
  const e = parsed.data;
  if (Boolean(e.BOOTSTRAP_ADMIN_EMAIL) !== Boolean(e.BOOTSTRAP_ADMIN_PASSWORD)) {
    throw new ConfigError(
      "Invalid configuration: BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together",
    );
  }
  // Several nodes need a shared PostgreSQL server; an embedded PGlite database belongs to one process.
  if (e.SOCKET_ADAPTER === "postgres" && !e.DATABASE_URL) {
    throw new ConfigError(
      "Invalid configuration: SOCKET_ADAPTER=postgres needs DATABASE_URL (a PostgreSQL server); the embedded database runs one node only",
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    bootstrapAdmin:
      e.BOOTSTRAP_ADMIN_EMAIL && e.BOOTSTRAP_ADMIN_PASSWORD
        ? { email: e.BOOTSTRAP_ADMIN_EMAIL, password: e.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    seedDemo: e.SEED_DEMO ?? !e.DATABASE_URL,
    simulate: e.SIMULATE,
    simulateIntervalMs: e.SIMULATE_INTERVAL_MS,
    corsOrigins: e.CORS_ORIGINS ?? [],
    publicRateLimitPerMinute: e.PUBLIC_RATE_LIMIT_PER_MINUTE,
    logLevel: e.LOG_LEVEL,
    socketAdapter: e.SOCKET_ADAPTER,
  };
}
