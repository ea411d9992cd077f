import { describe, expect, it } from "vitest";
import { detectField, mapColumns, normalizeHeader } from "../../shared/domain/csv-columns.ts";
import { CsvFramer, decodeRecords, detectDelimiter, type FramedRecord } from "../../server/services/import-csv.ts";
import { rowValues } from "../../server/services/import-rows.ts";

describe("CSV header detection", () => {
  it.each([
    ["Email", "email"],
    ["E-mail", "email"],
    ["E-mail Address", "email"],
    ["Email Address", "email"],
    ["email_address", "email"],
    ["  EMAIL ADDRESS: ", "email"],
    ["Mail", "email"],
    ["First Name", "firstName"],
    ["first_name", "firstName"],
    ["Firstname", "firstName"],
    ["Given Name", "firstName"],
    ["Forename", "firstName"],
    ["Last Name", "lastName"],
    ["last-name", "lastName"],
    ["Surname", "lastName"],
    ["Family Name", "lastName"],
    ["Company", "company"],
    ["Company Name", "company"],
    ["Account", "company"],
    ["Account Name", "company"],
    ["Organisation", "company"],
    ["Organization", "company"],
    ["Job Title", "jobTitle"],
    ["Title", "jobTitle"],
    ["Position", "jobTitle"],
    ["Role", "jobTitle"],
    ["Phone", "phone"],
    ["Phone Number", "phone"],
    ["Telephone", "phone"],
    ["Mobile", "phone"],
    ["Business Phone", "phone"],
    ["Country", "country"],
    ["Country/Region", "country"],
    ["Topic", "topic"],
    ["Subject", "topic"],
    ["Interest", "topic"],
    ["Campaign", "campaign"],
    ["Source Campaign", "campaign"],
    ["Notes", undefined],
    ["Emails sent", undefined],
    ["", undefined],
  ])("reads %j as %s", (header, field) => {
    expect(detectField(header)).toBe(field);
  });

  it("ignores case, spaces, dashes, underscores, punctuation and accents", () => {
    expect(normalizeHeader(" E-Mail_Address (work)! ")).toBe("emailaddresswork");
    expect(normalizeHeader("Société")).toBe("societe");
  });

  it("maps a header, lists unknown and blank columns as ignored, and drops lead fields from contacts", () => {
    const result = mapColumns(["First Name", "E-mail Address", "Notes", "", "Topic"], "contacts");
    expect(result.problems).toEqual([]);
    expect(result.columns).toEqual(["firstName", "email", null, null, null]);
    expect(result.mapping).toEqual({
      "First Name": "firstName",
      "E-mail Address": "email",
      Notes: "ignore",
      "(column 4)": "ignore",
      Topic: "ignore",
    });
    expect(mapColumns(["Email", "Topic"], "leads").columns).toEqual(["email", "topic"]);
  });

  it("lets an explicit map override detection, rename unknown headers and ignore columns", () => {
    const result = mapColumns(["Courriel", "Title", "Email"], "leads", { courriel: "email", Title: "topic", Email: "ignore" });
    expect(result.problems).toEqual([]);
    expect(result.columns).toEqual(["email", "topic", null]);
    expect(result.mapping).toEqual({ Courriel: "email", Title: "topic", Email: "ignore" });
  });

  it.each([
    ["a duplicate header", ["Email", "email", "Phone"], "contacts", {}, "columns 1 and 2 are both named"],
    ["two columns for one field", ["Email", "E-mail Address"], "contacts", {}, 'both map to email'],
    ["no identifying column (contacts)", ["Company", "Phone"], "contacts", {}, "a contacts import needs at least one"],
    ["no identifying column (leads)", ["Topic", "Phone"], "leads", {}, "a leads import needs at least one"],
    ["a map naming a missing column", ["Email"], "contacts", { Mail: "email" }, 'the file has no column "Mail"'],
    ["a map naming an unknown field", ["Email", "Mail"], "contacts", { Mail: "fax" }, '"fax" is not a field of a contacts import'],
    ["a lead field in a contacts map", ["Email", "Topic"], "contacts", { Topic: "topic" }, '"topic" is not a field of a contacts import'],
  ] as const)("refuses %s", (_name, headers, kind, map, message) => {
    const { problems } = mapColumns(headers, kind, map);
    expect(problems.map((p) => p.message).join(" | ")).toContain(message);
  });

  it("keeps a header named __proto__ as a plain entry", () => {
    const { mapping } = mapColumns(["Email", "__proto__"], "contacts");
    expect(Object.getPrototypeOf(mapping)).toBe(Object.prototype);
    expect(Object.entries(mapping)).toEqual([
      ["Email", "email"],
      ["__proto__", "ignore"],
    ]);
  });

  it("accepts a leads file that only names companies", () => {
    expect(mapColumns(["Company Name", "Topic"], "leads").problems).toEqual([]);
  });
});

const frame = (text: string, maxRecordChars = 200) => {
  const framer = new CsvFramer(maxRecordChars);
  return { records: [...framer.push(text), ...framer.end()], delimiter: framer.delimiter };
};
const summary = (records: FramedRecord[]) => records.map((r) => ("error" in r ? `${r.row}!` : `${r.row}`)).join(" ");
const fields = (text: string) => {
  const { records, delimiter } = frame(text);
  return decodeRecords(
    records.filter((r): r is { row: number; text: string } => "text" in r),
    delimiter,
  ).map((r) => ("fields" in r ? r.fields : r.error));
};

describe("CSV framing", () => {
  it.each([
    ["plain rows", "a,b\n1,2\n3,4\n", "0 1 2"],
    ["CRLF, a final row without newline, blank lines", "a,b\r\n1,2\r\n\r\n\n3,4", "0 1 2"],
    ["a quoted newline", 'a,b\n1,"x\ny"\n3,4\n', "0 1 2"],
    ["a quote inside an unquoted field", 'a,b\n1,x"y\n3,4\n', "0 1! 2"],
    ["text after a closing quote", 'a,b\n1,"x"y\n3,4\n', "0 1! 2"],
    ["an unclosed quote", 'a,b\n1,"x\n3,4\n5,6\n', "0 1! 2 3"],
    ["an unclosed quote a later quoted field seems to close", 'a,b\n1,"x\n3,4\n5,"six"\n7,8\n', "0 1! 2 3 4"],
    ["an unclosed quote on the last line", 'a,b\n1,2\n3,"x', "0 1 2!"],
    ["an unclosed quote running past the size limit", `a,b\n1,"x\n${"3,4\n".repeat(100)}`, `0 1! ${Array.from({ length: 100 }, (_, i) => i + 2).join(" ")}`],
    ["a line past the size limit", `a,b\n1,${"x".repeat(300)}\n3,4\n`, "0 1! 2"],
  ])("frames %s", (_name, text, expected) => {
    expect(summary(frame(text).records)).toBe(expected);
  });

  it("gives the same records however the text is chunked", () => {
    const text = 'Email;Name\r\n"a@x.com";"A ""Q"" B"\r\nb@x.com;x"y\r\n"c\r\nd";e\r\n"open;f\r\ng;h\r\n';
    const whole = frame(text).records;
    const framer = new CsvFramer(200);
    const byChar = [...[...text].flatMap((c) => framer.push(c)), ...framer.end()];
    expect(byChar).toEqual(whole);
    expect(summary(whole)).toBe("0 1 2! 3 4! 5");
  });

  it("decodes quoted fields, doubled quotes, spaces around quotes and a byte-order mark", () => {
    expect(fields('\uFEFFEmail,Company\na@x.com, "Acme, Inc" \n"b@x.com","Say ""hi"""\n')).toEqual([
      ["Email", "Company"],
      ["a@x.com", "Acme, Inc"],
      ["b@x.com", 'Say "hi"'],
    ]);
  });

  it.each([
    ["Email,Name", ","],
    ["Email;Name;Company", ";"],
    ["Email\tName", "\t"],
    ['"Name, full";Email;Phone', ";"],
    ["Email", ","],
  ])("detects the delimiter of %j", (header, delimiter) => {
    expect(detectDelimiter(header)).toBe(delimiter);
  });
});

describe("CSV row values", () => {
  const columns = ["email", "firstName", null, "company"] as const;
  it.each([
    ["a valid row", ["a@x.com", "Ann", "note", ""], "leads", { values: { email: "a@x.com", firstName: "Ann" } }],
    ["a company-only lead", ["", "", "", "Acme"], "leads", { values: { company: "Acme" } }],
    ["an invalid email", ["not-an-email", "Ann", "", ""], "contacts", { error: "email: must be an email address" }],
    ["a contact with only a company", ["", "", "x", "Acme"], "contacts", { error: "a contact needs an email or a name" }],
    ["too many values", ["a@x.com", "Ann", "", "Acme", "extra"], "contacts", { error: "the row has 5 values but the header has 4 columns" }],
    ["a stray trailing delimiter", ["a@x.com", "Ann", "", "", ""], "contacts", { values: { email: "a@x.com", firstName: "Ann" } }],
    ["an empty row", [" ", "", "", ""], "contacts", { blank: true }],
    ["an over-long name", ["", "x".repeat(101), "", ""], "contacts", { error: "firstName: Too big: expected string to have <=100 characters" }],
  ] as const)("handles %s", (_name, rowFields, kind, expected) => {
    expect(rowValues({ row: 7, fields: [...rowFields] }, columns, kind)).toEqual({ row: 7, ...expected });
  });
});
