import fc from "fast-check";
import { allPaths, brief, deepArrays, deepObjects, deleteAt, hostileKey, hostileValue, megabyteString, pollution, raw, serialize, setAt } from "./fuzz-values.ts";
import type { TestSocket } from "./server.ts";

/**
 * Socket commands written as raw Socket.IO frames (`2<ack id>["event",<payload text>]`), so
 * a payload can hold what socket.io-client would never encode: 1e309, 10,000 levels of
 * nesting, own `__proto__` keys. The acknowledgement is read from the engine's messages.
 */
let nextAckId = 1_000_000;

export function rawCommand(socket: TestSocket, event: string, payloadText: string | undefined, timeoutMs = 10_000): Promise<unknown> {
  const id = nextAckId++;
  const engine = socket.io.engine;
  const prefix = `3${id}[`;
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      if (typeof data !== "string" || !data.startsWith(prefix)) return;
      engine.off("message", onMessage);
      clearTimeout(timer);
      resolve((JSON.parse(data.slice(prefix.length - 1)) as unknown[])[0]);
    };
    const timer = setTimeout(() => {
      engine.off("message", onMessage);
      reject(new Error(`no acknowledgement of ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    engine.on("message", onMessage);
    engine.write(`2${id}[${JSON.stringify(event)}${payloadText === undefined ? "" : `,${payloadText}`}]`);
  });
}

export interface PayloadVariant {
  /** The payload's JSON text; undefined: the frame carries no payload at all. */
  text: string | undefined;
  description: string;
}

const variant = (text: string | undefined, description: string): PayloadVariant =>
  Object.assign({ text, description }, { [fc.toStringMethod]: () => description });

/** Anything but a megabyte: a frame over Socket.IO's 1 MB buffer closes the connection by design (tested apart). */
const fitsFrame = hostileValue.filter((v) => v !== megabyteString);

export function payloadMutations(payload: unknown): fc.Arbitrary<PayloadVariant> {
  const paths = allPaths(payload);
  const fieldPaths = paths.filter((p) => p.length > 0);
  const objectPaths = paths.filter((p) => {
    const at = p.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], payload);
    return at !== null && typeof at === "object" && !Array.isArray(at);
  });
  const arbitraries: Array<fc.Arbitrary<PayloadVariant>> = [
    fc.tuple(fc.constantFrom(...paths), fitsFrame).map(([p, v]) => variant(serialize(setAt(payload, p, v)), `set ${p.join(".") || "(payload)"} = ${brief(v)}`)),
    fc.constantFrom(undefined, "null", "[]", '"text"', "1e309", "-0", deepArrays.text, deepObjects.text, pollution.text).map((text) =>
      variant(text, `payload ${text === undefined ? "absent" : brief(raw(text))}`),
    ),
  ];
  if (fieldPaths.length > 0) arbitraries.push(fc.constantFrom(...fieldPaths).map((p) => variant(serialize(deleteAt(payload, p)), `delete ${p.join(".")}`)));
  if (objectPaths.length > 0) {
    arbitraries.push(
      fc.tuple(fc.constantFrom(...objectPaths), hostileKey, fitsFrame).map(([p, k, v]) =>
        variant(serialize(setAt(payload, [...p, k], v)), `extra ${[...p, k].join(".")} = ${brief(v)}`),
      ),
    );
  }
  return fc.oneof(...arbitraries);
}

/** One payload of each dangerous kind, run for every command before the random ones. */
export function fixedPayloads(payload: unknown): PayloadVariant[] {
  const firstString = allPaths(payload).find((p) => typeof p.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], payload) === "string");
  return [
    variant(undefined, "payload absent"),
    variant(deepArrays.text, "payload 10,000 nested arrays"),
    variant(pollution.text, "payload with __proto__ keys"),
    variant(serialize(setAt(payload, ["__proto__"], { role: "admin" })), "extra __proto__ = {role: admin}"),
    ...(firstString ? [variant(serialize(setAt(payload, firstString, "nul\u0000inside")), `set ${firstString.join(".")} = "nul\\u0000inside"`)] : []),
  ];
}
