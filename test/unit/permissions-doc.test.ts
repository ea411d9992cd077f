import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { actions } from "../../shared/domain/permissions.ts";
import { routeAccess } from "../../server/http/guard.ts";
import { commandAccess } from "../../server/socket/commands.ts";
import { beginMarker, docPath, endMarker, renderGenerated, renderPage } from "../../server/tools/permissions-doc.ts";

describe("docs/permissions.md", () => {
  const committed = readFileSync(docPath, "utf8");

  it("is what `npm run docs:permissions` prints from the code (run it after changing the matrix or a table)", () => {
    expect(committed).toBe(renderPage(committed));
  });

  it("names every action, route and command", () => {
    const generated = renderGenerated();
    for (const action of actions) expect(generated).toContain(`| \`${action}\` |`);
    for (const key of Object.keys(routeAccess)) {
      const [method, path] = key.split(" ");
      expect(generated).toContain(`| ${method} | \`${path}\` |`);
    }
    for (const name of Object.keys(commandAccess)) expect(generated).toContain(`| \`${name}\` |`);
  });

  it("keeps the hand-written rules around the generated part", () => {
    const page = renderPage(`# Intro\n\n${beginMarker}\nold tables\n${endMarker}\n\n## Rules beyond the matrix\nkept\n`);
    expect(page).toBe(`# Intro\n\n${renderGenerated()}\n\n## Rules beyond the matrix\nkept\n`);
    expect(() => renderPage("# No markers\n")).toThrow(/markers/);
  });
});
