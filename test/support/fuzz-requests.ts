import http from "node:http";
import fc from "fast-check";
import { errorStatus } from "../../shared/errors.ts";
import { allPaths, brief, deleteAt, hostileKey, hostileValue, megabyteString, raw, serialize, setAt, deepArrays, deepObjects, pollution } from "./fuzz-values.ts";
import { fillPath, splitKey, type HttpRequestSpec } from "./route-fixtures.ts";

/**
 * Malformed variants of a valid HTTP request, sent byte for byte (node:http, so nothing
 * normalises a path, refuses a body on GET, or fixes an encoding on the way).
 */
export interface RawRequest {
  method: string;
  /** Path and query string exactly as sent. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
  description: string;
}

function withDescription(request: RawRequest): RawRequest {
  // fast-check prints counterexamples with this, never the megabyte body.
  return Object.assign(request, { [fc.toStringMethod]: () => `${request.method} ${request.target.slice(0, 200)} — ${request.description}` });
}

const queryOf = (spec: HttpRequestSpec) => (spec.query ? new URLSearchParams(spec.query).toString() : "");

/** The valid request itself, as raw parts. */
export function baseRequest(key: string, spec: HttpRequestSpec, auth: Record<string, string>): RawRequest {
  const { method, pattern } = splitKey(key);
  const query = queryOf(spec);
  const headers: Record<string, string> = { ...auth, ...spec.headers };
  let body: Buffer | undefined;
  if (spec.raw) {
    headers["content-type"] = spec.raw.contentType;
    body = Buffer.from(spec.raw.text);
  } else if (spec.body !== undefined) {
    headers["content-type"] = "application/json";
    body = Buffer.from(serialize(spec.body));
  }
  return { method, target: `${fillPath(pattern, spec.params)}${query ? `?${query}` : ""}`, headers, ...(body ? { body } : {}), description: "valid" };
}

const invalidUtf8 = [
  Buffer.from([0xff]),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0x00]),
];

const contentTypes = [
  "text/plain",
  "application/xml",
  "multipart/form-data; boundary=xyz",
  "application/x-www-form-urlencoded",
  "",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "text/csv",
  "application/vnd.api+json",
  "image/png",
];

const wholeBodies = [
  "",
  "null",
  "[]",
  '"text"',
  "1e309",
  "-0",
  "{",
  '{"a":1,"a":2}',
  deepArrays.text,
  deepObjects.text,
  pollution.text,
  JSON.stringify(megabyteString),
];

const badParams = [
  "%ff",
  "%c3%28",
  "%",
  "%zz",
  "%00",
  "..",
  "%2e%2e",
  "%2F",
  "not-a-uuid",
  "00000000-0000-4000-8000-00000000dead",
  "x".repeat(3000),
  "%E2%80%AE",
  "__proto__",
  "constructor",
  "1e309",
  "-0",
  "null",
  "%20",
];

function badQueries(spec: HttpRequestSpec): string[] {
  const keys = [...new Set([...Object.keys(spec.query ?? {}), "limit", "kind"])];
  return [
    "a=1&a=2",
    "a[b]=1",
    "__proto__[admin]=1",
    "constructor[prototype][x]=1",
    "%ff=%fe",
    ...keys.flatMap((k) => [`${k}=1&${k}=2`, `${k}[]=x`, `${k}[a][b]=c`, `${k}=%ff`, `${k}=${"9".repeat(400)}`, `${k}=-1e309`, `${k}=`]),
  ];
}

/** Builds the variants of one route's valid request. */
function mutator(key: string, spec: HttpRequestSpec, auth: Record<string, string>) {
  const base = baseRequest(key, spec, auth);
  const text = base.body ?? Buffer.from("");
  const bodyType = spec.raw?.contentType ?? "application/json";
  const [path, query] = base.target.split("?") as [string, string | undefined];
  const variant = (change: Partial<RawRequest>, description: string) =>
    withDescription({ ...base, headers: { ...base.headers }, ...change, description });
  return {
    json: (body: unknown, description: string) =>
      variant({ body: Buffer.from(serialize(body)), headers: { ...base.headers, "content-type": "application/json" } }, description),
    body: (body: Buffer, description: string) => variant({ body, headers: { ...base.headers, "content-type": bodyType } }, description),
    bytes: (at: number, bytes: Buffer) => {
      const cut = text.length === 0 ? 0 : at % text.length;
      return variant(
        { body: Buffer.concat([text.subarray(0, cut), bytes, text.subarray(cut)]), headers: { ...base.headers, "content-type": bodyType } },
        `bytes ${bytes.toString("hex")} at ${cut}`,
      );
    },
    contentType: (type: string) => {
      const headers = { ...base.headers };
      if (type) headers["content-type"] = type;
      else delete headers["content-type"];
      return variant({ headers, body: text.length > 0 ? text : Buffer.from("{}") }, `content-type "${type}"`);
    },
    query: (q: string) => variant({ target: `${path}?${query ? `${query}&` : ""}${q}` }, `query ${q.slice(0, 80)}`),
    param: (name: string, value: string) => {
      const others = Object.fromEntries(Object.entries(spec.params ?? {}).map(([k, v]) => [k, encodeURIComponent(v)]));
      const target = `${fillPath(splitKey(key).pattern, { ...others, [name]: value }, false)}${query ? `?${query}` : ""}`;
      return variant({ target }, `param :${name} = ${value.slice(0, 40)}`);
    },
  };
}

/** Every kind of malformed variant of one route's valid request. */
export function requestMutations(key: string, spec: HttpRequestSpec, auth: Record<string, string>): fc.Arbitrary<RawRequest> {
  const m = mutator(key, spec, auth);
  const arbitraries: Array<fc.Arbitrary<RawRequest>> = [];
  if (spec.body !== undefined) {
    const paths = allPaths(spec.body);
    const fieldPaths = paths.filter((p) => p.length > 0);
    const objectPaths = paths.filter((p) => {
      const at = valueAt(spec.body, p);
      return at !== null && typeof at === "object" && !Array.isArray(at);
    });
    arbitraries.push(
      fc.tuple(fc.constantFrom(...paths), hostileValue).map(([p, v]) => m.json(setAt(spec.body, p, v), `set ${p.join(".") || "(body)"} = ${brief(v)}`)),
    );
    if (fieldPaths.length > 0) arbitraries.push(fc.constantFrom(...fieldPaths).map((p) => m.json(deleteAt(spec.body, p), `delete ${p.join(".")}`)));
    if (objectPaths.length > 0) {
      arbitraries.push(
        fc.tuple(fc.constantFrom(...objectPaths), hostileKey, hostileValue).map(([p, k, v]) =>
          m.json(setAt(spec.body, [...p, k], v), `extra ${[...p, k].join(".")} = ${brief(v)}`),
        ),
      );
    }
  }
  arbitraries.push(
    fc.constantFrom(...wholeBodies).map((b) => m.body(Buffer.from(b), `body ${brief(raw(b))}`)),
    fc.tuple(fc.nat(), fc.constantFrom(...invalidUtf8)).map(([at, bytes]) => m.bytes(at, bytes)),
    fc.constantFrom(...contentTypes).map((type) => m.contentType(type)),
    fc.constantFrom(...badQueries(spec)).map((q) => m.query(q)),
  );
  const params = Object.keys(spec.params ?? {});
  if (params.length > 0) arbitraries.push(fc.tuple(fc.constantFrom(...params), fc.constantFrom(...badParams)).map(([n, v]) => m.param(n, v)));
  return fc.oneof(...arbitraries);
}

/**
 * One variant of each kind, run on every route before the random ones, so no route goes
 * without a deep body, a polluted one, a megabyte, invalid UTF-8, a NUL in text, a wrong
 * content type, a repeated query parameter and an undecodable path param.
 */
export function fixedVariants(key: string, spec: HttpRequestSpec, auth: Record<string, string>): RawRequest[] {
  const m = mutator(key, spec, auth);
  const firstString = spec.body === undefined ? undefined : allPaths(spec.body).find((p) => typeof valueAt(spec.body, p) === "string");
  const firstParam = Object.keys(spec.params ?? {})[0];
  return [
    m.body(Buffer.from(deepArrays.text), "body 10,000 nested arrays"),
    m.body(Buffer.from(pollution.text), "body with __proto__ keys"),
    m.body(Buffer.from(JSON.stringify({ text: megabyteString })), "body of a megabyte"),
    m.bytes(Math.floor((spec.raw?.text.length ?? 0) / 2) + 9, invalidUtf8[0]!),
    m.contentType("text/plain"),
    m.query("a=1&a=2&a[b]=1&limit=1&limit=2"),
    ...(firstString ? [m.json(setAt(spec.body, firstString, "nul\u0000inside"), `set ${firstString.join(".")} = "nul\\u0000inside"`)] : []),
    ...(firstParam ? [m.param(firstParam, "%ff")] : []),
  ];
}

const valueAt = (root: unknown, path: Array<string | number>) =>
  path.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root);

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends a request byte for byte; a connection the server resets after answering still counts as the answer. */
export function sendRaw(baseUrl: string, request: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.target,
        headers: { ...request.headers, ...(request.body ? { "content-length": String(request.body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          answered = true;
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString() });
        });
        res.on("error", (err) => (answered ? undefined : reject(err)));
      },
    );
    req.on("error", (err) => (answered ? undefined : reject(err)));
    req.end(request.body);
  });
}

/** Why an answer is not in the contract's error shape (null when it is). */
export function errorShapeProblem(answer: RawAnswer): string | null {
  if (!answer.contentType.includes("application/json")) return `content-type ${answer.contentType || "none"}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return "not JSON";
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  if (!error || typeof error.code !== "string" || typeof error.message !== "string") return "no {error:{code,message}}";
  const status = (errorStatus as Record<string, number>)[error.code];
  if (status === undefined) return `unknown code ${error.code}`;
  if (status !== answer.status && !(error.code === "INVALID_INPUT" && answer.status === 422)) return `${error.code} with status ${answer.status}`;
  return null;
}
