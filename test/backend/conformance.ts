/**
 * The behaviour every sandbox backend must have, written once against `SandboxBackend` alone:
 * start, call, stop, restart keeps the home, destroy deletes it, a dead agent is detected, a
 * stop reaches every process the sandbox started, limits bind, and a port listening inside is
 * reachable through `connectPort` (previews). A new backend (pods on a
 * cluster, say) passes when `describeBackendConformance("pods", createPodBackend)` is green.
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from "vitest";
import type {
  BackendFactory,
  SandboxBackend,
  SandboxLimits,
  SandboxRuntime,
  SandboxSpec,
} from "../../server/sandbox/backend.ts";
import { openRegistry } from "../../server/store/database.ts";
import { createHostUidTable } from "../../server/store/host-uids.ts";
import { escapee, processesOnHost, run, until } from "./helpers.ts";

/** The limits every conformance sandbox gets: small, so the limit cases can reach them. */
export const conformanceLimits: SandboxLimits = {
  maxProcesses: 64,
  maxFileSize: 1024 ** 2,
  maxMemory: 1024 ** 3,
  tmpSize: 8 * 1024 ** 2,
  diskSize: 0,
};

/** Options of `describeBackendConformance`. */
export interface ConformanceOptions {
  /**
   * How many processes of the backend's sandboxes have exactly this command line, seen from
   * outside them (a pod backend asks its nodes). @default this host's /proc (local backends)
   */
  processesNamed?(commandLine: string): number | Promise<number>;
}

/** A sandbox of the suite: its spec and its running runtime. */
interface Started {
  spec: SandboxSpec;
  runtime: SandboxRuntime;
}

/**
 * Describes the conformance cases for one backend. `makeBackend` gets a fresh data directory
 * and a uid table in its context, as a server would give it.
 */
export function describeBackendConformance(
  name: string,
  makeBackend: BackendFactory,
  options: ConformanceOptions = {},
): void {
  const processesNamed = options.processesNamed ?? processesOnHost;
  describe(`backend conformance: ${name}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `lumina-conformance-${name}-`));
    const registry = openRegistry(dataDir);
    // A block no server hands out (their blocks end below 1_966_347_776).
    const uids = createHostUidTable(registry, 2_000_000_000 + randomInt(1000) * 65_536);
    const backend: SandboxBackend = makeBackend({
      dataDir,
      log: () => {},
      requireLimits: false,
      diskQuota: false,
      diskOvercommit: 1,
      hostUids: uids,
    });
    const live: Started[] = [];
    const skipUnlessContained = (context: TestContext) => {
      if (backend.containsProcesses) return;
      context.skip(
        `backend '${backend.kind}' declares that it does not contain processes: a child that calls setsid leaves the process group, which is all it can kill`,
      );
    };

    /** A new sandbox's spec, claimed as the server claims one (a record, then `create`). */
    async function createSandbox(): Promise<SandboxSpec> {
      const id = `conf-${randomInt(1e9)}`;
      const spec: SandboxSpec = { id, name: id, user: "conformance", limits: conformanceLimits };
      await backend.create(spec);
      return spec;
    }

    async function start(spec: SandboxSpec): Promise<SandboxRuntime> {
      await backend.prepare(spec);
      const runtime = await backend.start(spec);
      live.push({ spec, runtime });
      return runtime;
    }

    beforeAll(async () => {
      await backend.preflight?.();
      await backend.init?.();
    });
    afterEach(async () => {
      for (const { spec, runtime } of live.splice(0)) {
        await runtime.stop();
        await backend.destroy(spec);
      }
    });
    afterAll(async () => {
      await backend.close?.();
      registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("starts a sandbox whose agent answers a call", async () => {
      const spec = await createSandbox();
      expect(await backend.hasStorage(spec)).toBe(true);
      const runtime = await start(spec);
      expect(await run(runtime, "echo conformance")).toMatchObject({
        output: "conformance\n",
        exitCode: 0,
      });
    });

    it("stops: stopped resolves, and calls fail with unavailable", async () => {
      const runtime = await start(await createSandbox());
      await runtime.stop();
      await runtime.stopped;
      await expect(run(runtime, "true")).rejects.toMatchObject({ code: "unavailable" });
    });

    it("keeps the home across a stop and a new start", async () => {
      const spec = await createSandbox();
      const first = await start(spec);
      await run(first, 'echo kept > "$HOME/keep.txt"');
      await first.stop();
      const second = await start(spec);
      expect(await run(second, 'cat "$HOME/keep.txt"')).toMatchObject({ output: "kept\n" });
    });

    it("destroy deletes the home: the same id starts empty", async () => {
      const spec = await createSandbox();
      const first = await start(spec);
      await run(first, 'echo gone > "$HOME/gone.txt"');
      await first.stop();
      live.splice(0);
      await backend.destroy(spec);
      expect(await backend.hasStorage(spec)).toBe(false);
      await backend.create(spec);
      const second = await start(spec);
      expect((await run(second, 'test -e "$HOME/gone.txt"; echo $?')).output).toBe("1\n");
    });

    it("detects an agent that was killed: stopped resolves and calls fail", async () => {
      const runtime = await start(await createSandbox());
      const { pid } = await runtime.call("ping", {});
      // Killed from inside, the one view of the agent's pid every backend shares.
      await run(runtime, `kill -KILL ${pid}`).catch(() => {});
      await runtime.stopped;
      await expect(run(runtime, "true")).rejects.toMatchObject({ code: "unavailable" });
    });

    it("kill_bash reaches a background command's double-forked, setsid, env -i child", async (context) => {
      skipUnlessContained(context);
      const seconds = `4343.${randomInt(1e6)}`;
      const runtime = await start(await createSandbox());
      const { shellId } = await runtime.call("shell_run", {
        sessionKey: "conformance",
        command: `${escapee(seconds)} /bin/sleep 600`,
        timeoutMs: 30_000,
        background: true,
      });
      await until(
        async () => (await processesNamed(`/bin/sleep ${seconds}`)) === 1,
        "the escapee runs",
      );
      await runtime.call("shell_kill", { sessionKey: "conformance", shellId });
      expect(await processesNamed(`/bin/sleep ${seconds}`)).toBe(0);
    });

    it("a stop reaches a background command's double-forked, setsid, env -i child", async (context) => {
      skipUnlessContained(context);
      const seconds = `4343.${randomInt(1e6)}`;
      const runtime = await start(await createSandbox());
      await runtime.call("shell_run", {
        sessionKey: "conformance",
        command: `${escapee(seconds)} /bin/sleep 600`,
        timeoutMs: 30_000,
        background: true,
      });
      await until(
        async () => (await processesNamed(`/bin/sleep ${seconds}`)) === 1,
        "the escapee runs",
      );
      await runtime.stop();
      expect(await processesNamed(`/bin/sleep ${seconds}`)).toBe(0);
    });

    it("connects to a port listening inside, and refuses one nothing listens on", async () => {
      const runtime = await start(await createSandbox());
      const port = randomInt(20_000, 60_000);
      // A one-shot TCP echo on the sandbox's loopback; it says "ready" once it listens.
      const echo = `require("net").createServer((s) => s.pipe(s)).listen(${port}, "127.0.0.1", () => console.log("ready"))`;
      const { shellId } = await runtime.call("shell_run", {
        sessionKey: "conformance",
        command: `/usr/bin/node -e '${echo}'`,
        timeoutMs: 30_000,
        background: true,
      });
      await until(async () => {
        const { output } = await runtime.call("shell_output", {
          sessionKey: "conformance",
          shellId,
          cursor: 0,
        });
        return output.includes("ready");
      }, "the echo server listens");
      const socket = await runtime.connectPort(port);
      const echoed = new Promise<string>((resolve) =>
        socket.once("data", (data) => resolve(String(data))),
      );
      socket.write("through the tunnel");
      expect(await echoed).toBe("through the tunnel");
      socket.destroy();
      await expect(runtime.connectPort(port + 1)).rejects.toMatchObject({ code: "bad_gateway" });
    });

    it("applies the file size, /tmp size and process limits", async (context) => {
      if (!backend.enforcesLimits) {
        context.skip(`backend '${backend.kind}' declares that it applies no limits`);
      }
      const runtime = await start(await createSandbox());
      const big = await run(runtime, `head -c ${2 * 1024 ** 2} /dev/zero > "$HOME/big"; echo $?`);
      expect(big.output).not.toBe("0\n");
      // Ten files each under the file size limit, more than /tmp holds in all.
      const full = await run(
        runtime,
        // Emptied before the command ends: the agent itself needs room in /tmp for the output.
        "fits=0; for i in 1 2 3 4 5 6 7 8 9 10; do head -c 1000000 /dev/zero > /tmp/f$i 2>/dev/null || fits=1; done; rm -f /tmp/f*; echo $fits",
      );
      expect(full.output).toBe("1\n");
      const processes = await run(runtime, "ulimit -u");
      expect(Number(processes.output.trim())).toBeLessThanOrEqual(conformanceLimits.maxProcesses);
    });
  });
}
