/**
 * `npm start` runs this first: builds the client when dist/client is missing or older
 * than any client or shared source, so a fresh clone serves the board with no extra step.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const builtIndex = path.join(root, "dist/client/index.html");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const sources = ["client", "shared", "vite.config.ts", "package-lock.json"].map((p) => path.join(root, p));
const newestSource = Math.max(
  ...sources.filter(existsSync).map((p) => (statSync(p).isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)),
);

if (!existsSync(builtIndex) || statSync(builtIndex).mtimeMs < newestSource) {
  process.stdout.write("Building the client (dist/client)...\n");
  const { build } = await import("vite");
  await build({ configFile: path.join(root, "vite.config.ts"), logLevel: "warn" });
  process.stdout.write("Client built.\n");
}
