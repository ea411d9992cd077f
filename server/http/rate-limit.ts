import type { RequestHandler } from "express";
import { sendError } from "./errors.ts";

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
    const key = `${options.name}:${req.ip}`;
    let window = windows.get(key);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    if (window.count > options.perMinute) {
      res.setHeader("Retry-After", String(Math.ceil((window.start + 60_000 - now) / 1000)));
      return sendError(res, { code: "RATE_LIMITED", message: "Too many submissions from this address; try again in a minute" });
    }
    next();
  };
}
