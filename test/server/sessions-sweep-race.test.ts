/**
 * The idle sweep works from a snapshot of idle sessions: one used (entered and left) while the
 * sweep awaited another session's sandbox must not be expired from that stale snapshot.
 * Fakes stand in for the registry and the sandbox so the interleaving is exact, not timed.
 */
import { describe, expect, it } from "vitest";
import type { SandboxRuntime } from "../../server/sandbox/backend.ts";
import { createToolSessions } from "../../server/sessions/tool-sessions.ts";
import type { ToolSessionRecord, ToolSessionStore } from "../../server/store/sessions.ts";

function memoryStore(records: ToolSessionRecord[]): ToolSessionStore {
  const rows = new Map(records.map((record) => [record.sessionId, { ...record }]));
  const byKey = (key: string) => [...rows.values()].find((row) => row.key === key);
  return {
    find: (sessionId) => (rows.has(sessionId) ? { ...rows.get(sessionId)! } : undefined),
    insert: (record) => void (rows.has(record.sessionId) || rows.set(record.sessionId, record)),
    touch: (key, at) => {
      const row = byKey(key);
      if (row) row.lastUsed = at;
    },
    countForUser: (user) => [...rows.values()].filter((row) => row.user === user).length,
    // Copies, as the real registry returns: the sweep holds a snapshot, not live rows.
    idleSince: (cutoff) =>
      [...rows.values()].filter((row) => row.lastUsed < cutoff).map((row) => ({ ...row })),
    remove: (key) => void (byKey(key) && rows.delete(byKey(key)!.sessionId)),
    removeForSandbox: () => {},
  };
}

describe("tool session sweep", () => {
  it("does not expire a session used while the sweep was awaiting", async () => {
    const idle = Date.now() - 120_000;
    const record = (name: string): ToolSessionRecord => ({
      key: `key-${name}`,
      sessionId: name,
      user: "u",
      sandboxId: `sandbox-${name}`,
      lastUsed: idle,
    });
    const store = memoryStore([record("a"), record("b")]);
    const busy = new Set(["key-b"]); // b runs a background command when its call enters
    const ended: string[] = [];
    const runtime = {
      call: async (method: string, params: { sessionKey: string }) => {
        if (method === "shell_busy") return { busy: busy.has(params.sessionKey) };
        ended.push(params.sessionKey);
        return {};
      },
    } as unknown as SandboxRuntime;
    let releaseA = () => {};
    let askedA = () => {};
    const aAsked = new Promise<void>((resolve) => {
      askedA = resolve;
    });
    const sessions = createToolSessions({
      store,
      idleMs: 60_000,
      log: () => {},
      sandboxes: {
        runningRuntime: (sandboxId) => {
          if (sandboxId !== "sandbox-a") return Promise.resolve(runtime);
          askedA();
          return new Promise((resolve) => {
            releaseA = () => resolve(runtime);
          });
        },
      },
    });
    try {
      const sweeping = sessions.sweep();
      await aAsked; // The sweep holds its snapshot [a, b] and awaits a's sandbox.
      const call = await sessions.enter("b", "u", "sandbox-b"); // busy: kept, and touched
      call.leave();
      busy.delete("key-b"); // its background command ends
      releaseA();
      await sweeping;
      expect(store.find("a")).toBeUndefined();
      expect(store.find("b")?.key).toBe("key-b");
      expect(ended).toEqual(["key-a"]);
    } finally {
      sessions.close();
    }
  });
});
