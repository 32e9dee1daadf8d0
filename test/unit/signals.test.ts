import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createClient, type TransportResponse } from "../../src/index.ts";
import { base, fakeServer, hang } from "./fake-server.ts";

const sandboxWire = { sandbox: { name: "b", status: "running", created_at: "now" } };
const busy = JSON.stringify({ error: { code: "unavailable", message: "busy" } });

/** Counts the abort listeners on `signal` as they come and go, and the most at one time. */
function countListeners(signal: AbortSignal) {
  const counts = { live: 0, most: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    counts.live++;
    counts.most = Math.max(counts.most, counts.live);
    add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    counts.live--;
    remove(...args);
  }) as typeof remove;
  return counts;
}

describe("abort listeners", () => {
  it("10,000 calls, 100 at a time, hold at most one listener on each signal and leave none", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      // A transport, not fetch, keeps 10,000 calls quick. Every third answer is a 503 (retried),
      // every seventh a dropped connection.
      let sent = 0;
      const transport = async (): Promise<TransportResponse> => {
        const index = sent++;
        if (index % 7 === 5) throw new TypeError("fetch failed");
        const headers = new Headers({ "retry-after": "0" });
        if (index % 3 === 1) return { status: 503, headers, body: busy };
        return { status: 200, headers, body: JSON.stringify(sandboxWire) };
      };
      const client = createClient({ ...base, retry: { baseDelay: 0 }, transport });
      const controller = new AbortController();
      const counts = countListeners(controller.signal);
      for (let batch = 0; batch < 100; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, () =>
            client.getSandbox({ signal: controller.signal }).catch(() => undefined),
          ),
        );
      }
      expect(sent).toBeGreaterThanOrEqual(10_000);
      expect(counts.most).toBe(1);
      expect(counts.live).toBe(0);
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
      // Let a pending warning (emitted on the next tick) arrive before looking.
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual(
        [],
      );
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("one abort of a shared signal still rejects every call in flight with its reason", async () => {
    const server = fakeServer(hang);
    const client = createClient({ ...base, fetch: server.fetch });
    const controller = new AbortController();
    const calls = Array.from({ length: 20 }, () =>
      client.getSandbox({ signal: controller.signal }).catch((error: unknown) => error),
    );
    await expect.poll(() => server.requests.length).toBe(20);
    controller.abort("enough");
    expect(await Promise.all(calls)).toEqual(Array(20).fill("enough"));
    expect(server.requests.every((request) => request.signal.aborted)).toBe(true);
  });

  it("close() aborts every call in flight", async () => {
    const server = fakeServer(hang);
    const client = createClient({ ...base, fetch: server.fetch });
    const calls = Array.from({ length: 20 }, () =>
      client.getSandbox().catch((error: unknown) => (error as Error).message),
    );
    await expect.poll(() => server.requests.length).toBe(20);
    await client.close();
    expect(await Promise.all(calls)).toEqual(Array(20).fill("The client is closed"));
  });
});
