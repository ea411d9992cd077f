import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.ts";

describe("loadConfig", () => {
  it("uses the contract's defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: "127.0.0.1", databaseUrl: undefined, seedDemo: true, simulate: undefined });
    expect(c.dataDir.endsWith("/data")).toBe(true);
  });

  it("does not seed a demo on a real server unless asked", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db" }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db", SEED_DEMO: "1" }).seedDemo).toBe(true);
  });

  it.each([
    [{ PORT: "eighty" }, /^Invalid configuration: PORT: /],
    [{ PORT: "70000" }, /^Invalid configuration: PORT: /],
    [{ DATABASE_URL: "mysql://x" }, /^Invalid configuration: DATABASE_URL: must be a postgres/],
    [{ SEED_DEMO: "yes" }, /^Invalid configuration: SEED_DEMO: /],
    [{ BOOTSTRAP_ADMIN_EMAIL: "not-an-email", BOOTSTRAP_ADMIN_PASSWORD: "longenough" }, /BOOTSTRAP_ADMIN_EMAIL/],
    [{ BOOTSTRAP_ADMIN_EMAIL: "a@b.example" }, /must be set together/],
  ])("rejects %j with a one-line message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).not.toContain("\n");
    }
  });
});
