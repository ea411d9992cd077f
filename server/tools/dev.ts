/** `npm run dev`: the API server in watch mode and the Vite dev server, together. */
import { spawn, type ChildProcess } from "node:child_process";
import { serverNodeFlags } from "./server-command.ts";

const children: ChildProcess[] = [
  spawn(process.execPath, [...serverNodeFlags, "--import", "tsx", "--watch", "server/index.ts"], { stdio: "inherit" }),
  spawn(process.execPath, ["node_modules/vite/bin/vite.js"], { stdio: "inherit" }),
];

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
};
for (const child of children) child.on("exit", (code) => stop(code ?? 0));
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
