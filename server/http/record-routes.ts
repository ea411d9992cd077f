import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import {
  accountInput,
  accountListQuery,
  accountPatch,
  contactInput,
  contactListQuery,
  contactPatch,
  leadListQuery,
  leadPatch,
} from "../../shared/schemas/records.ts";
import type { RecordsService } from "../services/records-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/** Contacts, accounts and lead lists and edits (leads are created and moved in lead-routes). */
export function recordRoutes(records: RecordsService, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/contacts", async (req, res) => {
    requireActor(res);
    res.json(await records.listContacts(parseInput(contactListQuery, req.query)));
  });
  router.post("/contacts", async (req, res) => {
    res.status(201).json(await records.createContact(requireActor(res), parseInput(contactInput, req.body), now()));
  });
  router.get("/contacts/:id", async (req, res) => {
    requireActor(res);
    res.json(await records.getContact(parseInput(id, req.params.id)));
  });
  router.patch("/contacts/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await records.updateContact(actor, parseInput(id, req.params.id), parseInput(contactPatch, req.body), now()));
  });

  router.get("/accounts", async (req, res) => {
    requireActor(res);
    res.json(await records.listAccounts(parseInput(accountListQuery, req.query)));
  });
  router.post("/accounts", async (req, res) => {
    res.status(201).json(await records.createAccount(requireActor(res), parseInput(accountInput, req.body), now()));
  });
  router.get("/accounts/:id", async (req, res) => {
    requireActor(res);
    res.json(await records.getAccount(parseInput(id, req.params.id)));
  });
  router.patch("/accounts/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await records.updateAccount(actor, parseInput(id, req.params.id), parseInput(accountPatch, req.body), now()));
  });

  router.get("/leads", async (req, res) => {
    res.json(await records.listLeads(requireActor(res), parseInput(leadListQuery, req.query)));
  });
  router.patch("/leads/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await records.updateLead(actor, parseInput(id, req.params.id), parseInput(leadPatch, req.body), now()));
  });

  return router;
}
