import type { FormRow } from "../repositories/marketing.ts";

const attr = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * A plain HTML form any site can paste: it posts URL-encoded fields to the public
 * endpoint. The honeypot input is hidden from people; bots that fill it are ignored.
 */
export function formSnippet(form: Pick<FormRow, "id" | "name" | "honeypotField">, baseUrl: string): string {
  const field = (name: string, label: string, type = "text", required = false) =>
    `  <label>${label}${required ? " *" : ""}<br><input type="${type}" name="${name}"${required ? " required" : ""}></label><br>`;
  return [
    `<!-- ${attr(form.name)}: paste into any page -->`,
    `<form method="post" action="${attr(`${baseUrl}/api/forms/${form.id}/submissions`)}">`,
    field("email", "Email", "email", true),
    field("firstName", "First name"),
    field("lastName", "Last name"),
    field("company", "Company"),
    field("jobTitle", "Job title"),
    field("phone", "Phone", "tel"),
    field("country", "Country"),
    `  <div style="position:absolute;left:-10000px" aria-hidden="true"><input type="text" name="${attr(form.honeypotField)}" tabindex="-1" autocomplete="off"></div>`,
    `  <button type="submit">Send</button>`,
    `</form>`,
  ].join("\n");
}
