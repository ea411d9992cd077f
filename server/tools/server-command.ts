/**
 * How a server node is started, the same everywhere (`npm start`, `npm run start:cluster`,
 * `npm run dev`, and the tests and benchmarks that run it as a process).
 *
 * `--max-semi-space-size=4` (MB; Node's default is 16): short-lived garbage such as an
 * import's parsed rows and statements is collected in a young generation a quarter the size,
 * so the process's peak memory stays lower (a 100,000-lead import peaked at 277 MB instead of
 * 319 MB, for about 8% more CPU; docs/performance.md).
 */
export const serverNodeFlags = ["--max-semi-space-size=4"] as const;

/** The arguments after `node` that run the server entry point. */
export const serverArgs = (...extra: string[]): string[] => [...serverNodeFlags, ...extra, "--import", "tsx", "server/index.ts"];
