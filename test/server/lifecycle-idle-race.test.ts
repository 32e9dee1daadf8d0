/**
 * Idle stop against a call that begins while the stop waits for its turn in the sandbox's
 * queue (CONTRACT §12): the stop re-checks idleness when it really happens, so the call keeps
 * its runtime. A fake backend holds the queue busy, so the interleaving is exact, not timed.
 */
import { describe, expect, it } from "vitest";
import type { SandboxBackend, SandboxRuntime, SandboxSpec } from "../../server/sandbox/backend.ts";
import { SandboxManager } from "../../server/sandbox/manager.ts";
import { createIdleTracker } from "../../server/sandboxes/idle.ts";
import type { SandboxActivityRow } from "../../server/store/sandbox-activity.ts";

/** A promise with its resolve outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A runtime whose network change waits for `networkGate`, counting its stops. */
function fakeRuntime(networkGate: Promise<void>): SandboxRuntime & { stops: number } {
  const ended = gate();
  const runtime = {
    stops: 0,
    stopped: ended.promise,
    call: () => Promise.reject(new Error("no agent in this test")),
    connectPort: () => Promise.reject(new Error("no ports in this test")),
    transfer: () => {
      throw new Error("no transfers in this test");
    },
    setNetwork: () => networkGate,
    async stop() {
      runtime.stops += 1;
      ended.open();
    },
  };
  return runtime as unknown as SandboxRuntime & { stops: number };
}

function fakeBackend(runtimes: SandboxRuntime[]): SandboxBackend {
  return {
    kind: "fake",
    create: () => {},
    hasStorage: () => true,
    prepare: async () => {},
    start: async () => runtimes.shift() as SandboxRuntime,
    destroy: async () => {},
  } as unknown as SandboxBackend;
}

describe("idle stop and a call that begins meanwhile", () => {
  it("does not stop a sandbox whose call began while the stop waited in its queue", async () => {
    const networkGate = gate();
    const runtime = fakeRuntime(networkGate.promise);
    const manager = new SandboxManager(fakeBackend([runtime]), { descriptorReserve: 0 });
    const spec: SandboxSpec = {
      id: "sb-race",
      name: "race",
      user: "u",
      limits: {} as SandboxSpec["limits"],
      network: { egress: "none" },
    };
    let clockMs = 1_000_000;
    const stopQueued = gate();
    const rows: SandboxActivityRow[] = [];
    const idle = createIdleTracker({
      store: { put: () => {}, touch: () => {}, all: () => rows, remove: () => {} },
      defaultIdleTimeoutMs: 1000,
      log: () => {},
      now: () => clockMs,
      // As server/sandboxes/service.ts wires it, with a hook once the stop is queued.
      control: {
        isRunning: (id) => manager.status(id) === "running",
        isBusy: async () => false,
        stop(id, stillIdle) {
          const stopping = manager.stop(id, stillIdle);
          stopQueued.open();
          return stopping;
        },
      },
    });
    try {
      await manager.ensureRunning(spec);
      idle.add(spec.id, 1000);
      clockMs += 5000;
      // A network change in progress holds the sandbox's queue: the stop waits behind it.
      const networkChange = manager.updateNetwork(spec);
      const sweeping = idle.sweep();
      await stopQueued.promise;
      // A tool call arrives now: it counts itself in flight, then takes the running runtime.
      const end = idle.begin(spec.id);
      expect(await manager.ensureRunning(spec)).toBe(runtime);
      networkGate.open();
      await networkChange;
      await sweeping;
      expect(runtime.stops).toBe(0);
      expect(manager.status(spec.id)).toBe("running");
      // Once the call ended and the time passed, the sweep stops it.
      end();
      clockMs += 5000;
      await idle.sweep();
      expect(runtime.stops).toBe(1);
      expect(manager.status(spec.id)).toBe("stopped");
    } finally {
      idle.close();
    }
  });
});
