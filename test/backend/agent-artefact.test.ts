/**
 * The one rule for the agent the local backends run: bundled from `server/agent/` when the
 * server runs from source, the `lumina-agent.js` the build put beside it when it runs built.
 * (test/server/server-bin.test.ts checks that the built server's sandboxes run that file.)
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { agentArtefactOf } from "../../server/sandbox/agent-bundle.ts";

describe("the agent artefact", () => {
  it("is bundled from the agent's sources when the server runs from source", () => {
    const artefact = agentArtefactOf(
      new URL("../../server/sandbox/agent-bundle.ts", import.meta.url).href,
    );
    expect(artefact.kind).toBe("source");
    expect(artefact.kind === "source" && existsSync(artefact.entry)).toBe(true);
    expect(artefact).toMatchObject({ entry: expect.stringMatching(/server\/agent\/main\.ts$/) });
  });

  it("is the prebuilt lumina-agent.js beside the built server, never a build at run time", () => {
    expect(agentArtefactOf("file:///opt/lumina/dist-server/lumina-server.js")).toEqual({
      kind: "prebuilt",
      path: "/opt/lumina/dist-server/lumina-agent.js",
    });
  });
});
