import { Router, type Request, type Response } from "express";
import { guardedRouter } from "./guard.ts";
import { DomainError } from "../../shared/errors.ts";
import { id } from "../../shared/schemas/common.ts";
import { importQuery } from "../../shared/schemas/imports.ts";
import { formatSize } from "../services/import-csv.ts";
import type { ImportService } from "../services/import-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/**
 * `POST /api/imports?kind=` takes the CSV file as the raw body and answers 202 once the
 * header row is read and accepted; the rows keep streaming in. Nothing here reads the
 * body: the service does, at the pace the database takes the rows.
 */
export function importRoutes(imports: ImportService, now: () => Date): Router {
  const router = guardedRouter();

  router.post("/imports", async (req, res) => {
    try {
      const actor = requireActor(res);
      imports.authorize(actor);
      const query = parseInput(importQuery, req.query);
      checkBody(req, imports.maxBytes);
      // A client hanging up mid-upload must end the import. Node does not always tell the
      // request (not once a response has completed), so watch the connection itself.
      const onHangUp = () => {
        if (!req.readableEnded) req.destroy(new DomainError("INVALID_INPUT", "The upload was interrupted"));
      };
      req.socket.once("close", onHangUp);
      req.once("close", () => req.socket.off("close", onHangUp));
      const { importId } = await imports.start(actor, req, query, now, { cutOff: () => cutOff(req, res) });
      answerWhileReading(req, res, `${req.baseUrl}/imports/${importId}`, { importId });
    } catch (err) {
      refuseBody(req, res);
      throw err;
    }
  });

  router.get("/imports/:id", async (req, res) => {
    const actor = requireActor(res);
    const importId = parseInput(id, req.params.id);
    res.json(await imports.get(actor, importId));
  });

  return router;
}

/**
 * Sends the 202 with its body at once, but ends the (chunked) response only when the
 * upload has been read. HTTP clients stop sending when the response completes first:
 * Node's http client then never signals "drain" again (the upload stalls) and undici's
 * fetch resets the connection. Browsers keep sending either way. The id is also in
 * Location, for clients that act on headers.
 */
function answerWhileReading(req: Request, res: Response, location: string, body: unknown): void {
  res.status(202).location(location).type("json");
  res.write(JSON.stringify(body));
  if (req.readableEnded || req.destroyed) {
    res.end();
    return;
  }
  const end = () => res.end();
  req.once("end", end);
  req.once("close", end);
}

/**
 * Past the size limit: finish the answer, then read and drop for a moment before
 * closing, so the client gets the response rather than a reset mid-upload.
 */
function cutOff(req: Request, res: Response): void {
  res.end();
  req.unpipe();
  req.resume();
  setTimeout(() => req.destroy(), 1_000).unref();
}

function checkBody(req: Request, maxBytes: number): void {
  if (!req.is("text/csv")) {
    throw new DomainError("INVALID_INPUT", "Send the file as text/csv", [
      { field: "content-type", message: `must be text/csv, not ${req.headers["content-type"] ?? "missing"}` },
    ]);
  }
  const charset = /;\s*charset="?([^";]+)/i.exec(req.headers["content-type"] ?? "")?.[1]?.toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8" && charset !== "us-ascii") {
    throw new DomainError("INVALID_INPUT", "Send the file encoded as UTF-8", [{ field: "content-type", message: `charset ${charset} is not supported` }]);
  }
  const encoding = req.headers["content-encoding"];
  if (encoding && encoding !== "identity") {
    throw new DomainError("INVALID_INPUT", "Send the file uncompressed", [{ field: "content-encoding", message: `${encoding} is not supported` }]);
  }
  const length = Number(req.headers["content-length"]);
  if (Number.isFinite(length) && length > maxBytes) {
    throw new DomainError("PAYLOAD_TOO_LARGE", `The file is larger than ${formatSize(maxBytes, "bytes")}`);
  }
}

/**
 * A refused upload may still be arriving. Close the connection after the answer, and
 * meanwhile read and drop what comes, so the client sees the error rather than a stall.
 */
function refuseBody(req: Request, res: Response): void {
  if (req.readableEnded || req.destroyed) return;
  res.setHeader("Connection", "close");
  req.unpipe();
  req.resume();
}
