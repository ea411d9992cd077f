import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        test: {
          name: "server",
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/client/**"],
          // One migrated template per driver, built before any file runs.
          globalSetup: ["test/support/global-setup.ts"],
          pool: "forks",
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Client state classes use Svelte runes: compile them, and resolve browser builds.
        plugins: [svelte()],
        resolve: { conditions: ["browser"] },
        test: { name: "client", include: ["test/unit/client/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
