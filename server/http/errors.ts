import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { DomainError, errorStatus, type ErrorBody } from "../../shared/errors.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";

const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/** True when the error (or one it wraps) says the database cannot be reached. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (connectionErrorCodes.has(code) || code.startsWith("08"))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Any thrown value as the contract's error object; internals never leak into the message. */
export function toErrorBody(err: unknown, logger: Logger): ErrorBody {
  if (err instanceof DomainError) return err.toBody();
  if (err instanceof z.ZodError) {
    return { code: "INVALID_INPUT", message: "The input is not valid", details: issuesToDetails(err) };
  }
  if (isDatabaseUnavailable(err)) {
    logger.warn({ err }, "database unavailable");
    return { code: "UNAVAILABLE", message: "The database is not reachable; try again shortly" };
  }
  logger.error({ err }, "unexpected error");
  return { code: "INTERNAL", message: "Something went wrong on our side" };
}

export function sendError(res: Response, body: ErrorBody): void {
  res.status(errorStatus[body.code]).json({ error: body });
}

/** Express's body parser errors carry a `type`; map them before the generic path. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const type = (err as { type?: string }).type;
    if (type === "entity.parse.failed") {
      return sendError(res, { code: "INVALID_INPUT", message: "The body is not valid JSON" });
    }
    if (type === "entity.too.large") {
      return sendError(res, { code: "PAYLOAD_TOO_LARGE", message: "The body is too large" });
    }
    if (type === "charset.unsupported" || type === "encoding.unsupported") {
      return sendError(res, { code: "INVALID_INPUT", message: "Unsupported body encoding" });
    }
    sendError(res, toErrorBody(err, logger));
  };
}
