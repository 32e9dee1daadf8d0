/** The setup most agent tests share: the real server, and one sandbox with a client for it. */
import { afterAll, beforeAll } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName, startTestServer, type TestServer } from "../support/server.ts";

/** The server and sandbox of a test file, set once its `beforeAll` has run. */
export interface SandboxFixture {
  server: TestServer;
  client: LuminaClient;
}

/** Starts the server and creates a sandbox before the file's tests; destroys both after. */
export function useSandbox(): SandboxFixture {
  const fixture = {} as SandboxFixture;
  beforeAll(async () => {
    fixture.server = await startTestServer();
    const { url, token } = fixture.server;
    fixture.client = createClient({ baseUrl: url, token, sandbox: randomSandboxName() });
    await fixture.client.createSandbox();
  });
  afterAll(async () => {
    await fixture.client?.destroySandbox();
    await fixture.server?.close();
  });
  return fixture;
}
