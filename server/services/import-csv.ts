/**
 * Streaming CSV for imports: a byte limit, a framer that cuts the text into records,
 * and a decoder (csv-parse) that turns records into fields.
 *
 * Why frame before csv-parse: csv-parse's streaming parser cannot resynchronise after
 * broken quoting. An unclosed quote swallows the rest of the file, and after an invalid
 * closing quote it drops every later row. The framer checks each record's quoting as it
 * cuts, so a broken record becomes one bad row and the rows after it still import; only
 * well-formed records reach csv-parse. It also bounds a record's size, so an unclosed
 * quote never makes the server hold the whole upload.
 */
import { StringDecoder } from "node:string_decoder";
import { Transform, type TransformCallback } from "node:stream";
import { parse } from "csv-parse/sync";
import { DomainError } from "../../shared/errors.ts";

/** Row 0 is the header; row 1 is the first record after it. Blank lines are not rows. */
export type FramedRecord = { row: number; text: string } | { row: number; error: string };

const State = {
  FieldStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** A quote inside a quoted field: either the closing quote or the first of a doubled one. */
  QuoteInQuoted: 3,
  /** After a closing quote and spaces: only a delimiter or the end of the line may follow. */
  AfterQuoted: 4,
  /** The record is already bad: skip to the end of its line. */
  Bad: 5,
} as const;
type State = (typeof State)[keyof typeof State];

const candidates = [",", ";", "\t"] as const;

/** The delimiter the header uses the most, outside quotes; a comma when there is none. */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const c of headerLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = ",";
  for (const c of candidates) if (counts.get(c)! > counts.get(best)!) best = c;
  return best;
}

/**
 * Cuts CSV text into records, incrementally: `push` text as it arrives, then `end`.
 * A record spans lines only inside a quoted field. When such a record goes wrong (a
 * character after a closing quote, the size limit, the end of the file), its first line
 * most likely opened a quote it never closed: that line is reported, and the lines
 * after it are read again as records of their own.
 */
export class CsvFramer {
  private buf = "";
  private start = 0;
  private pos = 0;
  private state: State = State.FieldStart;
  private firstLineEnd = -1;
  private badReason = "";
  private nextRow = 0;
  private ended = false;
  private delimiterChar: string | undefined;
  private out: FramedRecord[] = [];

  constructor(private readonly maxRecordChars = 65_536) {}

  /** Known once the first line has arrived. */
  get delimiter(): string {
    return this.delimiterChar ?? ",";
  }

  push(text: string): FramedRecord[] {
    if (this.nextRow === 0 && this.buf === "" && text.startsWith("\uFEFF")) text = text.slice(1);
    this.buf += text;
    this.scan();
    return this.take();
  }

  end(): FramedRecord[] {
    this.ended = true;
    this.scan();
    return this.take();
  }

  private take(): FramedRecord[] {
    const records = this.out;
    this.out = [];
    // A bad record's text is never used: drop it as it goes, so a huge broken line costs nothing.
    if (this.state === State.Bad) this.start = this.pos;
    // Keep only the record in progress, so memory follows the record, not the file.
    if (this.start > 0) {
      this.buf = this.buf.slice(this.start);
      this.pos -= this.start;
      if (this.firstLineEnd >= 0) this.firstLineEnd -= this.start;
      this.start = 0;
    }
    return records;
  }

  private scan(): void {
    if (this.delimiterChar === undefined) {
      const eol = this.buf.indexOf("\n");
      if (eol < 0 && !this.ended && this.buf.length <= this.maxRecordChars) return;
      this.delimiterChar = detectDelimiter(this.buf.slice(0, eol < 0 ? this.maxRecordChars : eol));
    }
    const d = this.delimiterChar;
    const buf = this.buf;
    // Each branch either moves `pos` on or changes state; `fail` may move it back to re-read lines.
    while (this.pos < buf.length) {
      if (this.state !== State.Bad && this.pos - this.start >= this.maxRecordChars) {
        this.fail(`the row is longer than ${formatSize(this.maxRecordChars, "characters")}`);
        continue;
      }
      const c = buf[this.pos]!;
      if (c === "\r" && this.state !== State.Quoted) {
        // "\r\n" ends a line like "\n"; wait for the next chunk to know which it is.
        if (this.pos + 1 >= buf.length && !this.ended) return;
        if (buf[this.pos + 1] === "\n") {
          this.pos++;
          continue;
        }
      }
      switch (this.state) {
        case State.FieldStart:
          if (c === '"') this.state = State.Quoted;
          else if (c === "\n") this.endRecord(this.pos);
          else if (c !== d && c !== " " && c !== "\t") this.state = State.Unquoted;
          break;
        case State.Unquoted:
          if (c === d) this.state = State.FieldStart;
          else if (c === "\n") this.endRecord(this.pos);
          else if (c === '"') {
            this.fail("a quote inside a field that does not start with one (quote the whole field and double the quote)");
            continue;
          }
          break;
        case State.Quoted:
          if (c === '"') this.state = State.QuoteInQuoted;
          else if (c === "\n" && this.firstLineEnd < 0) this.firstLineEnd = this.pos;
          break;
        case State.QuoteInQuoted:
        case State.AfterQuoted:
          if (c === '"' && this.state === State.QuoteInQuoted) this.state = State.Quoted;
          else if (c === d) this.state = State.FieldStart;
          else if (c === "\n") this.endRecord(this.pos);
          else if (c === " " || c === "\t") this.state = State.AfterQuoted;
          else {
            this.fail("text after a closing quote (a quote inside a quoted field must be doubled)");
            continue;
          }
          break;
        case State.Bad:
          if (c === "\n") this.endRecord(this.pos);
          break;
      }
      this.pos++;
    }
    if (!this.ended || this.start >= buf.length) return;
    if (this.state === State.Quoted) {
      this.fail("a quote is not closed");
      if ((this.state as State) !== State.Bad) return this.scan();
    }
    this.endRecord(buf.length);
    this.pos = buf.length;
  }

  /**
   * The record in progress is broken. If it already spans lines, blame its first line
   * (an unclosed quote) and read on from the second; else skip to the end of the line.
   * Leaves `pos` on the character to read next.
   */
  private fail(reason: string): void {
    if (this.firstLineEnd >= 0) {
      this.out.push({ row: this.nextRow++, error: "a quote is not closed" });
      this.start = this.firstLineEnd + 1;
      this.pos = this.start;
      this.state = State.FieldStart;
      this.firstLineEnd = -1;
      return;
    }
    this.state = State.Bad;
    this.badReason = reason;
  }

  private endRecord(end: number): void {
    if (this.state === State.Bad) {
      this.out.push({ row: this.nextRow++, error: this.badReason });
    } else {
      let text = this.buf.slice(this.start, end);
      if (text.endsWith("\r")) text = text.slice(0, -1);
      if (text.trim() !== "") this.out.push({ row: this.nextRow++, text });
    }
    this.start = end + 1;
    this.state = State.FieldStart;
    this.firstLineEnd = -1;
  }
}

/** Bytes in, framed records out (object mode), decoded as UTF-8. */
export class CsvFramerStream extends Transform {
  readonly framer: CsvFramer;
  private readonly decoder = new StringDecoder("utf8");

  constructor(maxRecordChars?: number) {
    super({ readableObjectMode: true, readableHighWaterMark: 64 });
    this.framer = new CsvFramer(maxRecordChars);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const record of this.framer.push(this.decoder.write(chunk))) this.push(record);
    done();
  }

  override _flush(done: TransformCallback): void {
    const tail = this.decoder.end();
    if (tail) for (const record of this.framer.push(tail)) this.push(record);
    for (const record of this.framer.end()) this.push(record);
    done();
  }
}

/** Passes bytes through until the limit, then fails with PAYLOAD_TOO_LARGE. */
export class ByteLimit extends Transform {
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new DomainError("PAYLOAD_TOO_LARGE", `The file is larger than ${formatSize(this.maxBytes, "bytes")}`));
      return;
    }
    done(null, chunk);
  }
}

/** "50 MB", "64 KB" or "100 characters": limits as people read them. */
export function formatSize(size: number, unit: "bytes" | "characters"): string {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MB`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KB`;
  return `${size} ${unit}`;
}

export type DecodedRecord = { row: number; fields: string[] } | { row: number; error: string };

const decodeOptions = (delimiter: string) => ({
  delimiter,
  record_delimiter: "\n",
  relax_column_count: true,
  // Spaces around a quoted field ("a", "b") are tolerated by the framer; drop them here.
  trim: true,
  skip_empty_lines: false,
});

/**
 * Decodes framed records with csv-parse, a batch in one call (a call per record costs
 * five times more). The framer only passes well-formed records, so the batch yields one
 * record each; should csv-parse still disagree, each record is decoded on its own.
 */
export function decodeRecords(records: ReadonlyArray<{ row: number; text: string }>, delimiter: string): DecodedRecord[] {
  if (records.length === 0) return [];
  try {
    const rows = parse(records.map((r) => r.text).join("\n"), decodeOptions(delimiter)) as string[][];
    if (rows.length === records.length) return records.map((r, i) => ({ row: r.row, fields: rows[i]! }));
  } catch {
    // Fall through to one record at a time, which finds the culprit.
  }
  return records.map((r) => {
    try {
      const [fields] = parse(r.text, decodeOptions(delimiter)) as string[][];
      return { row: r.row, fields: fields ?? [] };
    } catch (err) {
      return { row: r.row, error: `not valid CSV: ${(err as Error).message}` };
    }
  });
}
