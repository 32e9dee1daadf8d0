/**
 * Node: the built package (`dist/`, as `npm install lumina-sandbox` delivers it) runs the shared
 * scenario against the real reference server.
 */
import { describe, expect, it } from "vitest";
import * as sdk from "../../../dist/index.js";
import { useTestServer } from "../../support/use-server.ts";
import { runScenario } from "../scenario.ts";

const server = useTestServer();

describe("Node runs the built package", () => {
  it("passes the shared scenario against the real server", async () => {
    const result = await runScenario(sdk, {
      baseUrl: server().url,
      token: server().token,
      runtime: "node",
    });
    expect(result.steps).toContain("destroySandbox");
  });
});
