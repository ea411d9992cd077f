import { appendFileSync } from "node:fs";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface BenchRow {
  what: string;
  figure: string;
  baseline: string;
  ratio: string;
  goal: string;
  pass: boolean | null;
}

export function printTable(rows: BenchRow[]): void {
  const headers: Array<keyof BenchRow> = ["what", "figure", "baseline", "ratio", "goal", "pass"];
  const cells = rows.map((r) => headers.map((h) => (h === "pass" ? (r.pass === null ? "—" : r.pass ? "yes" : "NO") : String(r[h]))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const c of cells) console.log(line(c));
}

/**
 * Prints a bench's rows as a table and hands them to `npm run bench`: when BENCH_OUT names a
 * file, the rows (and any details) are appended to it as one JSON line.
 */
export function report(bench: string, rows: BenchRow[], details: Record<string, unknown> = {}): void {
  printTable(rows);
  const out = process.env.BENCH_OUT;
  if (out) appendFileSync(out, `${JSON.stringify({ bench, at: new Date().toISOString(), rows, details })}\n`);
  else console.log(JSON.stringify({ bench, rows, details }));
}

/** "12.3 ms"-style cells and the ratio of two numbers, 2 decimals. */
export const ms = (value: number): string => `${value.toFixed(1)} ms`;
export const ratio = (figure: number, baseline: number): string => (baseline > 0 ? (figure / baseline).toFixed(2) : "—");
