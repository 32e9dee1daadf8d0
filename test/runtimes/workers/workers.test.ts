/**
 * workerd (through miniflare): the built package, bundled into a Worker, runs the shared scenario
 * twice against the real reference server: with the global `fetch` to the server's loopback URL,
 * and through a service binding passed as the client's `fetch` option. Also runs the Worker of
 * examples/worker/ with the bindings its wrangler.toml declares.
 */
import { readFile } from "node:fs/promises";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxHostMissing, startTestServer, type TestServer } from "../../support/server.ts";
import { requireSandboxHost } from "../../support/use-server.ts";
import { bundleWorker } from "./bundle.ts";

let server: TestServer;
let worker: Miniflare;
let example: Miniflare;
requireSandboxHost();

beforeAll(async () => {
  if (sandboxHostMissing) return;
  server = await startTestServer();
  const { host } = new URL(server.url);
  // workerd itself forwards the binding's requests to the server: no Node code in the path.
  const forwardToServer = { external: { address: host, http: {} } };
  worker = new Miniflare({
    modules: true,
    script: await bundleWorker("test/runtimes/workers/worker/index.ts"),
    compatibilityDate: "2025-09-01",
    bindings: { LUMINA_URL: server.url, LUMINA_TOKEN: server.token },
    serviceBindings: { LUMINA: forwardToServer },
  });
  const wrangler = await readFile(
    new URL("../../../examples/worker/wrangler.toml", import.meta.url),
    "utf8",
  );
  const [, luminaUrl] = /^LUMINA_URL = "(.*)"$/m.exec(wrangler) ?? [];
  if (!luminaUrl || !/binding = "LUMINA"/.test(wrangler))
    throw new Error("examples/worker/wrangler.toml lost its LUMINA binding or LUMINA_URL var");
  example = new Miniflare({
    modules: true,
    script: await bundleWorker("examples/worker/src/index.ts"),
    compatibilityDate: "2025-09-01",
    bindings: { LUMINA_URL: luminaUrl, LUMINA_TOKEN: server.token },
    serviceBindings: { LUMINA: forwardToServer },
  });
});
afterAll(async () => {
  await example?.dispose();
  await worker?.dispose();
  await server?.close();
});

/** Runs the scenario in the Worker and returns its steps, or fails with the Worker's error. */
async function runInWorker(mode: "outbound" | "binding"): Promise<string[]> {
  const response = await worker.dispatchFetch(`http://worker.test/${mode}`);
  const result = (await response.json()) as { ok: boolean; steps?: string[]; error?: string };
  if (!result.ok) throw new Error(`the Worker's scenario failed (${mode}): ${result.error}`);
  expect(response.status).toBe(200);
  return result.steps ?? [];
}

describe("workerd runs the built package", () => {
  it("passes the shared scenario with outbound fetch to the server's loopback URL", async () => {
    expect(await runInWorker("outbound")).toContain("destroySandbox");
  });

  it("passes the shared scenario through a service binding given as the fetch option", async () => {
    expect(await runInWorker("binding")).toContain("destroySandbox");
  });

  it("runs examples/worker through its LUMINA service binding", async () => {
    const response = await example.dispatchFetch("http://example.test/");
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ output: "hello from Python 3\n", exitCode: 0 });
    expect(response.status).toBe(200);
  });
});
