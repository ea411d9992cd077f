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

/**
 * Values the database refuses (SQLSTATE class 22) although they passed the schemas: a NUL
 * character in text, a number or date out of PostgreSQL's range. The caller's input, so
 * INVALID_INPUT rather than INTERNAL; other data exceptions stay INTERNAL (they are bugs).
 */
const refusedValues: Record<string, string> = {
  "22021": "Text may not contain NUL characters or invalid UTF-8", // character_not_in_repertoire
  "22P05": "Text may not contain NUL characters", // untranslatable_character
  "22001": "A value is too long", // string_data_right_truncation
  "22003": "A number is out of range", // numeric_value_out_of_range
  "22007": "A date is not valid", // invalid_datetime_format
  "22008": "A date is out of range", // datetime_field_overflow
};

function refusedValue(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && refusedValues[code]) return refusedValues[code];
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
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
  const refused = refusedValue(err);
  if (refused) {
    logger.warn({ err }, "the database refused a value that passed the schema");
    return { code: "INVALID_INPUT", message: refused };
  }
  logger.error({ err }, "unexpected error");
  return { code: "INTERNAL", message: "Something went wrong on our side" };
}

export function sendError(res: Response, body: ErrorBody): void {
  res.status(errorStatus[body.code]).json({ error: body });
}

/** What body-parser's errors (they carry a `type`) mean for the caller. */
const bodyErrors: Record<string, ErrorBody> = {
  "entity.parse.failed": { code: "INVALID_INPUT", message: "The body is not valid JSON (an object or an array)" },
  "entity.too.large": { code: "PAYLOAD_TOO_LARGE", message: "The body is too large" },
  "parameters.too.many": { code: "PAYLOAD_TOO_LARGE", message: "The form has too many fields" },
  "charset.unsupported": { code: "INVALID_INPUT", message: "Unsupported body encoding" },
  "encoding.unsupported": { code: "INVALID_INPUT", message: "Unsupported body encoding" },
  "request.aborted": { code: "INVALID_INPUT", message: "The body was not sent completely" },
  "request.size.invalid": { code: "INVALID_INPUT", message: "The body's size does not match its Content-Length" },
  "entity.verify.failed": { code: "INVALID_INPUT", message: "The body was refused" },
};

/** Client errors thrown by Express and its parts (http-errors: a 4xx `status`, `expose`), by status. */
const clientErrorCodes: Partial<Record<number, ErrorBody["code"]>> = {
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  429: "RATE_LIMITED",
};

function clientError(err: unknown): ErrorBody | undefined {
  const type = (err as { type?: unknown }).type;
  if (typeof type === "string" && bodyErrors[type]) return bodyErrors[type];
  const status = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  if (typeof status !== "number" || status < 400 || status > 499) return undefined;
  // e.g. a path with broken %-encoding ("Failed to decode param"): the caller's mistake, not ours.
  const message = (err as { expose?: unknown; message?: unknown }).expose === true && typeof (err as Error).message === "string"
    ? (err as Error).message.slice(0, 200)
    : "The request is not valid";
  return { code: clientErrorCodes[status] ?? "INVALID_INPUT", message };
}

/** The last handler: every error leaves as the contract's JSON, never Express's HTML page. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    // Too late for an error body: let Express end the connection.
    if (res.headersSent) return next(err);
    if (err instanceof DomainError) return sendError(res, err.toBody());
    sendError(res, clientError(err) ?? toErrorBody(err, logger));
  };
}
