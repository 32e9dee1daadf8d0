/**
 * Backends are chosen by a registry of factories: a backend registered under a new `isolation`
 * value serves a whole server without any change to the server, and an unknown value is refused
 * naming the registered ones.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  backendFactories,
  backendFactoryOf,
  registerBackend,
} from "../../server/sandbox/backends.ts";
import { unisolatedBackendFactory } from "../../server/sandbox/unisolated.ts";
import { createClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServers } from "../support/use-server.ts";

const kind = "registry-test";
const startServer = useTestServers();
afterAll(() => {
  backendFactories.delete(kind);
});

describe("the backend registry", () => {
  it("serves a server from a registered factory, named by isolation", async () => {
    const built: string[] = [];
    registerBackend(kind, (context) => {
      built.push(context.dataDir);
      return { ...unisolatedBackendFactory(context), kind };
    });
    const server = await startServer({ isolation: kind });
    expect(built).toEqual([server.dataDir]);
    const lumina = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: randomSandboxName(),
    });
    expect(await lumina.createSandbox()).toMatchObject({ lease: { backend: kind } });
    expect((await lumina.bash("echo registered")).output).toBe("registered\n");
  });

  it("refuses an isolation value no factory is registered for, naming the known ones", () => {
    expect(() => backendFactoryOf("no-such-backend")).toThrow(/'bubblewrap', 'none'/);
  });
});
