/**
 * Which CSV column feeds which record field. Pure: the server runs it on the header row
 * before answering an import, and the client can run it to preview a file's mapping.
 */

export const importKinds = ["contacts", "leads"] as const;
export type ImportKind = (typeof importKinds)[number];

export const importFields = [
  "email",
  "firstName",
  "lastName",
  "company",
  "jobTitle",
  "phone",
  "country",
  "topic",
  "campaign",
] as const;
export type ImportField = (typeof importFields)[number];

/** The mapping value of a column that is read but not imported. */
export const ignoredColumn = "ignore";
export type ColumnTarget = ImportField | typeof ignoredColumn;

/** A contact has no topic or campaign: those columns only mean something for leads. */
export function fieldsFor(kind: ImportKind): readonly ImportField[] {
  return kind === "contacts" ? importFields.filter((f) => f !== "topic" && f !== "campaign") : importFields;
}

/** Columns that identify a record: a file needs at least one of them to be importable. */
export function identityFieldsFor(kind: ImportKind): readonly ImportField[] {
  return kind === "contacts" ? ["email", "firstName", "lastName"] : ["email", "firstName", "lastName", "company"];
}

/**
 * Case, spaces, dashes, underscores, punctuation and accents are ignored, so "E-mail
 * Address", "email_address" and "Email address:" are one header.
 */
export function normalizeHeader(header: string): string {
  return header
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

const synonyms: Record<ImportField, readonly string[]> = {
  email: ["Email", "E-mail", "E-mail Address", "Email Address", "Mail", "Work Email", "Business Email"],
  firstName: ["First Name", "Firstname", "Given Name", "Forename"],
  lastName: ["Last Name", "Surname", "Family Name"],
  company: ["Company", "Company Name", "Account", "Account Name", "Organisation", "Organization", "Organisation Name", "Organization Name"],
  jobTitle: ["Job Title", "Title", "Position", "Role"],
  phone: ["Phone", "Phone Number", "Telephone", "Mobile", "Mobile Phone", "Business Phone", "Work Phone"],
  country: ["Country", "Country/Region"],
  topic: ["Topic", "Subject", "Interest"],
  campaign: ["Campaign", "Source Campaign"],
};

const byNormalizedHeader: ReadonlyMap<string, ImportField> = new Map(
  (Object.entries(synonyms) as Array<[ImportField, readonly string[]]>).flatMap(([field, names]) =>
    names.map((name) => [normalizeHeader(name), field] as const),
  ),
);

/** The field a header is usually meant for, whatever the import kind; undefined when unknown. */
export function detectField(header: string): ImportField | undefined {
  return byNormalizedHeader.get(normalizeHeader(header));
}

export interface ColumnProblem {
  field: string;
  message: string;
}

export interface ColumnMapping {
  /** Per CSV column (by index): the field it feeds, or null when it is ignored. */
  columns: Array<ImportField | null>;
  /** Header → field or "ignore", as stored on the import. Blank headers appear as "(column N)". */
  mapping: Record<string, ColumnTarget>;
  /** Why the header cannot be imported; empty when it can. */
  problems: ColumnProblem[];
}

const headerKey = (header: string) => header.trim().toLowerCase();

/**
 * Maps a header row for an import kind. An explicit map (`{"CSV header": "field" |
 * "ignore"}`) wins over detection for the headers it names; the others are detected.
 * Headers name columns, so a repeated header, a header the map names but the file lacks,
 * a field two columns claim, or no identifying column at all, make the file unimportable.
 */
export function mapColumns(headers: readonly string[], kind: ImportKind, explicit: Record<string, string> = {}): ColumnMapping {
  const problems: ColumnProblem[] = [];
  const allowed = fieldsFor(kind);

  const seen = new Map<string, number>();
  headers.forEach((header, index) => {
    const key = headerKey(header);
    if (key === "") return;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ field: "header", message: `columns ${first + 1} and ${index + 1} are both named "${header.trim()}"` });
    } else {
      seen.set(key, index);
    }
  });

  const chosen = new Map<string, ColumnTarget>();
  for (const [header, target] of Object.entries(explicit)) {
    if (!seen.has(headerKey(header))) {
      problems.push({ field: `map.${header}`, message: `the file has no column "${header}"` });
      continue;
    }
    if (target !== ignoredColumn && !(allowed as readonly string[]).includes(target)) {
      problems.push({
        field: `map.${header}`,
        message: `"${target}" is not a field of a ${kind} import; use one of: ${[...allowed, ignoredColumn].join(", ")}`,
      });
      continue;
    }
    chosen.set(headerKey(header), target as ColumnTarget);
  }

  const columns: Array<ImportField | null> = [];
  // A Map, not an object literal: a header may be called "__proto__".
  const mapping = new Map<string, ColumnTarget>();
  const claimedBy = new Map<ImportField, string>();
  headers.forEach((header, index) => {
    const name = header.trim();
    // A blank header, or a repeat (already reported), feeds nothing.
    if (name === "" || seen.get(headerKey(name)) !== index) {
      columns.push(null);
      if (name === "") mapping.set(`(column ${index + 1})`, ignoredColumn);
      return;
    }
    const detected = detectField(name);
    const target = chosen.get(headerKey(name)) ?? (detected && allowed.includes(detected) ? detected : ignoredColumn);
    if (target !== ignoredColumn) {
      const other = claimedBy.get(target);
      if (other !== undefined) {
        problems.push({
          field: "header",
          message: `columns "${other}" and "${name}" both map to ${target}; choose one with map`,
        });
      }
      claimedBy.set(target, name);
    }
    columns.push(target === ignoredColumn ? null : target);
    mapping.set(name, target);
  });

  const identity = identityFieldsFor(kind);
  if (headers.length > 0 && !identity.some((f) => claimedBy.has(f))) {
    problems.push({
      field: "header",
      message: `no column was recognised as ${identity.join(", ")}; a ${kind} import needs at least one (name the columns, or give map)`,
    });
  }
  return { columns, mapping: Object.fromEntries(mapping), problems };
}
