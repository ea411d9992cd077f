/**
 * Reading a CSV file's header in the browser, to preview and adjust the column mapping
 * before the upload. The server maps again with the same shared rules.
 */
import { detectField, fieldsFor, ignoredColumn, type ImportKind } from "../../../shared/domain/csv-columns.ts";

/** The first record of CSV text, honouring quotes ("a, b" and "" escapes) and a BOM. */
export function parseHeaderLine(text: string): string[] {
  const input = text.replace(/^\uFEFF/, "");
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") break;
    else cell += c;
  }
  cells.push(cell);
  return cells.length === 1 && cells[0] === "" ? [] : cells;
}

/** What each header maps to when nothing is chosen: the detected field if the kind has it. */
export function detectedTarget(header: string, kind: ImportKind): string {
  const field = detectField(header);
  return field && fieldsFor(kind).includes(field) ? field : ignoredColumn;
}

/** Only the choices that differ from detection: the `map` to send (empty when none). */
export function explicitMap(headers: readonly string[], kind: ImportKind, chosen: Record<string, string>): Record<string, string> {
  const map: Record<string, string> = {};
  for (const header of headers) {
    const pick = chosen[header];
    if (header.trim() && pick && pick !== detectedTarget(header, kind)) map[header] = pick;
  }
  return map;
}

/** 0–100 for the progress bar; an unknown total counts as 0 while running. */
export function progressPercent(processed: number, total: number, running: boolean): number {
  if (!running) return 100;
  if (total <= 0) return 0;
  return Math.min(100, Math.round((processed / total) * 100));
}
