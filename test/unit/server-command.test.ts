import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serverArgs, serverNodeFlags } from "../../server/tools/server-command.ts";

describe("how a server node is started", () => {
  it("npm start runs the server with the same node flags as the cluster, the tests and the benches", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(`node ${serverArgs().join(" ")}`);
  });

  it("puts node's own flags before the loader and the entry point", () => {
    expect(serverArgs("--cpu-prof")).toEqual([...serverNodeFlags, "--cpu-prof", "--import", "tsx", "server/index.ts"]);
  });
});
