/** The setup most agent tests share: the real server, and one sandbox with a client for it. */
import { afterAll } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import {
  type AnthropicReplay,
  type ReplayTurn,
  startAnthropicReplay,
} from "../support/anthropic-replay.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

/** The server and sandbox of a test file, set once its `beforeAll` has run. */
export interface SandboxFixture {
  server: TestServer;
  client: LuminaClient;
}

/** Starts the server and creates a sandbox before the file's tests; destroys both after. */
export function useSandbox(): SandboxFixture {
  const fixture = {} as SandboxFixture;
  useTestServer({}, async (server) => {
    fixture.server = server;
    const { url, token } = server;
    fixture.client = createClient({ baseUrl: url, token, sandbox: randomSandboxName() });
    await fixture.client.createSandbox();
  });
  // Registered after the server's hooks, so it runs before the server closes.
  afterAll(() => fixture.client?.destroySandbox());
  return fixture;
}

/** The API key the scripted model accepts. */
export const replayApiKey = "sk-ant-test";

/** A starter of scripted models that the file's `afterAll` closes. */
export function useReplays(): (turns: ReplayTurn[]) => Promise<AnthropicReplay> {
  const started: AnthropicReplay[] = [];
  afterAll(async () => {
    await Promise.all(started.map((replay) => replay.close()));
  });
  return async (turns) => {
    const replay = await startAnthropicReplay(turns, replayApiKey);
    started.push(replay);
    return replay;
  };
}
