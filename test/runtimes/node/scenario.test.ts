/**
 * Node: the built package (`dist/`, as `npm install lumina-sandbox` delivers it) runs the shared
 * scenario against the real reference server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sdk from "../../../dist/index.js";
import { startTestServer, type TestServer } from "../../support/server.ts";
import { runScenario } from "../scenario.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

describe("Node runs the built package", () => {
  it("passes the shared scenario against the real server", async () => {
    const result = await runScenario(sdk, {
      baseUrl: server.url,
      token: server.token,
      runtime: "node",
    });
    expect(result.steps).toContain("destroySandbox");
  });
});
