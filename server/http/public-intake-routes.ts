import { createHash } from "node:crypto";
import express, { Router, type Request, type Response } from "express";
import { guardedRouter } from "./guard.ts";
import { DomainError } from "../../shared/errors.ts";
import { id } from "../../shared/schemas/common.ts";
import type { EventService } from "../services/event-service.ts";
import type { FormService, SubmissionAnswer } from "../services/form-service.ts";
import { parseInput } from "./parse.ts";
import { rateLimit } from "./rate-limit.ts";

export interface PublicIntakeOptions {
  /** Origins allowed to post from the browser to every form and event (besides each form's own list). */
  corsOrigins: string[];
  perMinute: number;
}

function idempotencyKey(req: Request): string | undefined {
  const key = req.get("Idempotency-Key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw new DomainError("INVALID_INPUT", "Idempotency-Key must be 1-200 visible ASCII characters", [
      { field: "Idempotency-Key", message: "invalid header" },
    ]);
  }
  return key;
}

/** Plain HTML forms post URL-encoded bodies; scripts post JSON. Anything else is refused. */
function submissionBody(req: Request): Record<string, unknown> {
  if (!req.is(["application/json", "application/x-www-form-urlencoded"])) {
    throw new DomainError("INVALID_INPUT", "Send the fields as JSON or as a URL-encoded form");
  }
  const body: unknown = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new DomainError("INVALID_INPUT", "The body must be an object of fields");
  }
  return body as Record<string, unknown>;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The thank-you page's only style, allowed by its hash: the page's CSP allows nothing else. */
const thankYouStyle = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}";
const thankYouPolicy = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(thankYouStyle).digest("base64")}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** A browser that posted a plain form gets a page, not JSON; scripts get the contract's JSON. */
function answer(req: Request, res: Response, result: SubmissionAnswer): void {
  res.status(result.status);
  if (req.is("application/x-www-form-urlencoded") && req.accepts(["json", "html"]) === "html") {
    res
      .type("html")
      .setHeader("Content-Security-Policy", thankYouPolicy)
      .send(
        `<!doctype html><html lang="en"><meta charset="utf-8"><title>Thank you</title><style>${thankYouStyle}</style>` +
          `<body><h1>Thank you</h1><p>${escapeHtml("We received your details and will be in touch.")}</p></body></html>`,
      );
    return;
  }
  res.json(result.body);
}

export function publicIntakeRoutes(forms: FormService, events: EventService, options: PublicIntakeOptions, now: () => Date): Router {
  const router = guardedRouter();
  const limit = rateLimit({ perMinute: options.perMinute, name: "public-intake" });
  const urlencoded = express.urlencoded({ extended: false, limit: "64kb", parameterLimit: 100 });

  /** CORS for browsers posting from another site: the form's own origins or the global list. */
  const cors = (allowed: (req: Request) => Promise<string[]>) =>
    async (req: Request, res: Response, next: () => void) => {
      const origin = req.get("Origin");
      if (origin && (options.corsOrigins.includes(origin) || (await allowed(req).catch((): string[] => [])).includes(origin))) {
        res.setHeader("Access-Control-Allow-Origin", origin);
        res.setHeader("Vary", "Origin");
        res.setHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key");
        res.setHeader("Access-Control-Max-Age", "600");
      }
      if (req.method === "OPTIONS") {
        res.status(204).end();
        return;
      }
      next();
    };
  const formOrigins = async (req: Request) => (await forms.get(parseInput(id, req.params.formId))).allowedOrigins;
  const noOrigins = async (): Promise<string[]> => [];

  router.options("/forms/:formId/submissions", cors(formOrigins));
  router.post("/forms/:formId/submissions", cors(formOrigins), limit, urlencoded, async (req, res) => {
    const formId = parseInput(id, req.params.formId);
    const result = await forms.submit(formId, submissionBody(req), { idempotencyKey: idempotencyKey(req) }, now());
    answer(req, res, result);
  });

  router.options("/events/:eventId/registrations", cors(noOrigins));
  router.post("/events/:eventId/registrations", cors(noOrigins), limit, urlencoded, async (req, res) => {
    const eventId = parseInput(id, req.params.eventId);
    const result = await events.register(eventId, submissionBody(req), { idempotencyKey: idempotencyKey(req) }, now());
    answer(req, res, result);
  });

  return router;
}
