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
