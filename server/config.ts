import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { minPasswordLength } from "../shared/schemas/users.ts";

const flag = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

/** One entry of a TRUST_PROXY list: an address, a CIDR range, or one of Express's named ranges. */
function isProxyAddress(entry: string): boolean {
  if (entry === "loopback" || entry === "linklocal" || entry === "uniquelocal") return true;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Express's `trust proxy`: false (default: the socket's address is the client), true (trust
 * every hop), a hop count, or the proxies' addresses and ranges.
 */
const trustProxy = z.string().transform((raw, ctx): TrustProxy => {
  const v = raw.trim().toLowerCase();
  if (v === "false") return false;
  if (v === "true") return true;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops <= 32) return hops;
  }
  const entries = v.split(",").map((e) => e.trim()).filter(Boolean);
  const bad = entries.find((e) => !isProxyAddress(e));
  if (entries.length === 0 || bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `must be true, false, a hop count, or addresses/CIDR ranges separated by commas${bad ? ` ("${bad}" is none of these)` : ""}`,
    });
    return z.NEVER;
  }
  return entries;
});

const count = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .min(minPasswordLength, `must be at least ${minPasswordLength} characters`)
    .max(1024, "must be at most 1024 characters")
    .optional(),
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
  TRUST_PROXY: trustProxy.optional(),
  SESSION_IDLE_MINUTES: count(1, 14 * 24 * 60, 720),
  SOCKET_COMMANDS_PER_SECOND: count(1, 10_000, 50),
  SOCKET_COMMAND_BURST: count(1, 100_000, 200),
  LOGIN_FAILURES_PER_ACCOUNT: count(1, 1000, 5),
  LOGIN_FAILURES_PER_ADDRESS: count(1, 100_000, 20),
  LOGIN_LOCKOUT_MAX_MINUTES: count(1, 24 * 60, 15),
});

/** Express's `trust proxy` setting, as TRUST_PROXY gives it. */
export type TrustProxy = boolean | number | string[];

/** Everything docs/security.md describes that the environment can tune. */
export interface SecurityConfig {
  trustProxy: TrustProxy;
  /** A session unused this long ends (besides the absolute 14-day limit). */
  sessionIdleMinutes: number;
  /** Socket commands per connection: a steady rate and a burst. */
  commandRate: { perSecond: number; burst: number };
  /** Failed sign-ins allowed before the lockout starts, per account and per address; the longest lockout. */
  login: { failuresPerAccount: number; failuresPerAddress: number; maxLockoutMs: number };
}

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
  security: SecurityConfig;
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
    security: {
      trustProxy: e.TRUST_PROXY ?? false,
      sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
      commandRate: { perSecond: e.SOCKET_COMMANDS_PER_SECOND, burst: e.SOCKET_COMMAND_BURST },
      login: {
        failuresPerAccount: e.LOGIN_FAILURES_PER_ACCOUNT,
        failuresPerAddress: e.LOGIN_FAILURES_PER_ADDRESS,
        maxLockoutMs: e.LOGIN_LOCKOUT_MAX_MINUTES * 60_000,
      },
    },
  };
}
