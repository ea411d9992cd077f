import { isIPv6 } from "node:net";
import type { RequestHandler } from "express";
import { sendError } from "./errors.ts";

/**
 * The address a limit counts against. `req.ip` is the client's address as `trust proxy`
 * resolves it (the socket's peer by default; the forwarded client behind a trusted proxy).
 * An IPv6 host usually owns a whole /64, so IPv6 addresses count per /64: otherwise one
 * machine could take a fresh address for each attempt.
 */
export function clientAddressKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * A fixed-window limit per client address across one group of public endpoints (so a
 * bot cannot escape it by rotating form ids). In memory: each server node counts its
 * own traffic, which is what protects that node.
 */
export function rateLimit(options: { perMinute: number; name: string }): RequestHandler {
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = Date.now();
  return (req, res, next) => {
    const now = Date.now();
    if (now - lastSweep > 60_000) {
      for (const [key, w] of windows) if (now - w.start >= 60_000) windows.delete(key);
      lastSweep = now;
    }
    const key = `${options.name}:${clientAddressKey(req.ip)}`;
    let window = windows.get(key);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    if (window.count > options.perMinute) {
      const retryAfterMs = window.start + 60_000 - now;
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
      return sendError(res, {
        code: "RATE_LIMITED",
        message: "Too many submissions from this address; try again in a minute",
        details: { retryAfterMs },
      });
    }
    next();
  };
}
