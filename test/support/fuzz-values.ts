import fc from "fast-check";

/**
 * Hostile JSON values for the fuzz tests, and a serializer that can write what
 * JSON.stringify cannot: raw fragments (1e309, 10,000 levels of nesting) and own keys
 * named `__proto__`.
 */
export class RawJson {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}
  toString(): string {
    return this.label;
  }
}

export const raw = (text: string, label = text.length > 40 ? `${text.slice(0, 20)}…(${text.length} chars)` : text) => new RawJson(text, label);

export type JsonPath = Array<string | number>;

const depth = 10_000;
export const deepArrays = raw("[".repeat(depth) + "]".repeat(depth), "10,000 nested arrays");
export const deepObjects = raw('{"a":'.repeat(depth) + "1" + "}".repeat(depth), "10,000 nested objects");
export const pollution = raw(
  '{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"x":1}}',
  "__proto__/constructor/prototype object",
);
export const megabyteString = "x".repeat(1024 * 1024);
const bigString = "é".repeat(50_000);

/** Serializes like JSON.stringify, writing RawJson as its text and every own enumerable key (even `__proto__`). */
export function serialize(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`;
  const entries = Object.keys(value).map((k) => `${JSON.stringify(k)}:${serialize((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(",")}}`;
}

/** Sets an own property, even one named `__proto__` (assignment would set the prototype instead). */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every path into a JSON value (the root is []), objects' keys and arrays' items, a few levels deep. */
export function allPaths(value: unknown, prefix: JsonPath = [], maxDepth = 6): JsonPath[] {
  const paths: JsonPath[] = [prefix];
  if (prefix.length >= maxDepth || value === null || typeof value !== "object") return paths;
  const keys = Array.isArray(value) ? value.map((_v, i) => i) : Object.keys(value);
  for (const key of keys) paths.push(...allPaths((value as Record<string | number, unknown>)[key], [...prefix, key], maxDepth));
  return paths;
}

const clone = <T>(value: T): T => structuredClone(value);

/** A copy of `root` with the value at `path` replaced (the root itself when the path is empty). */
export function setAt(root: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = clone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) node[last as number] = value;
  else defineOwn(node as Record<string, unknown>, String(last), value);
  return copy;
}

export function deleteAt(root: unknown, path: JsonPath): unknown {
  if (path.length === 0) return undefined;
  const copy = clone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

/** Values of every wrong kind: types, numbers out of range, strings a database chokes on, nesting, pollution. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 64,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    5e-324,
    "",
    "   ",
    "\u0000",
    "nul\u0000inside",
    "\ud800 lone surrogate",
    "\u202eright-to-left",
    "💥🔥",
    "<script>alert(1)</script>",
    "'; drop table leads; --",
    "../../etc/passwd",
    "00000000-0000-4000-8000-000000000000",
    "2024-02-30T25:61:00Z",
    "not-a-uuid",
    [],
    {},
    [null],
    { "": "" },
    bigString,
    megabyteString,
  ),
  fc.constantFrom<unknown>(
    raw("1e309"),
    raw("-1e309"),
    raw("-0"),
    raw("1e-400"),
    raw("123456789012345678901234567890"),
    raw("0.1e1"),
    deepArrays,
    deepObjects,
    pollution,
  ),
  fc.string({ maxLength: 40, unit: "binary" }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
);

export const hostileKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "extra", "", "$where"),
  fc.string({ maxLength: 20 }),
);

/** Describes a value briefly for a failure message (never a megabyte of it). */
export function brief(value: unknown): string {
  const text = value instanceof RawJson ? value.label : serialize(value);
  return text.length > 120 ? `${text.slice(0, 100)}…(${text.length} chars)` : text;
}
