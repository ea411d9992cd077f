import { z } from "zod";

// Before any schema is built: zod otherwise probes `new Function` once, which the strict CSP
// (docs/security.md, script-src 'self' without 'unsafe-eval') reports as a violation.
z.config({ jitless: true });
