/**
 * The warm pool's bookkeeping on a fake manager: it fills to its size one preparation at a time,
 * holds off while the host is busy, hands each environment out once, removes what a previous run
 * left (but not an id a sandbox took), and removes its environments on close.
 */
import { describe, expect, it } from "vitest";
import { defaultLimits } from "../../server/options.ts";
import { createWarmPool, type WarmPoolControl } from "../../server/sandboxes/warm-pool.ts";
import type { WarmPoolStore } from "../../server/store/warm-pool.ts";

function fakes(rows: string[] = []) {
  const running = new Set<string>();
  const destroyed: string[] = [];
  let preparing = 0;
  let mostAtOnce = 0;
  const control: WarmPoolControl = {
    create() {},
    async ensureRunning(spec) {
      preparing += 1;
      mostAtOnce = Math.max(mostAtOnce, preparing);
      await new Promise((resolve) => setTimeout(resolve, 5));
      preparing -= 1;
      running.add(spec.id);
      return { call: async () => ({}) } as never;
    },
    status: (id) => (running.has(id) ? "running" : "stopped"),
    async destroy(spec) {
      running.delete(spec.id);
      destroyed.push(spec.id);
    },
  };
  const stored = new Set(rows);
  const store: WarmPoolStore = {
    add: (id) => void stored.add(id),
    remove: (id) => void stored.delete(id),
    all: () => [...stored],
  };
  return { control, store, stored, destroyed, running, mostAtOnce: () => mostAtOnce };
}

const base = {
  limits: defaultLimits,
  log: () => {},
  isTaken: () => false,
  refillDelayMs: 1,
  holdOff: () => undefined,
};

describe("warm pool", () => {
  it("fills to its size one at a time and hands each environment out once", async () => {
    const fake = fakes();
    const pool = createWarmPool({ ...base, size: 3, control: fake.control, store: fake.store });
    await pool.start();
    await pool.filled();
    expect(pool.ready).toBe(3);
    expect(fake.mostAtOnce()).toBe(1);
    const a = pool.take();
    const b = pool.take();
    expect(a).toBeDefined();
    expect(b).not.toBe(a);
    // An environment whose create failed goes back untouched, and out again.
    pool.giveBack(b!);
    expect([pool.take(), pool.take()]).toContain(b);
    pool.adopted(a!);
    expect(fake.stored.has(a!)).toBe(false);
    await pool.filled();
    expect(pool.ready).toBe(3);
    await pool.close();
    expect(pool.ready).toBe(0);
    expect(fake.running.size).toBe(3); // only the three taken ones are left, now sandboxes
  });

  it("prepares nothing while the host is busy", async () => {
    const fake = fakes();
    const pool = createWarmPool({
      ...base,
      size: 2,
      control: fake.control,
      store: fake.store,
      holdOff: () => "busy",
    });
    await pool.start();
    await pool.filled();
    expect(pool.ready).toBe(0);
    expect(pool.take()).toBeUndefined();
    await pool.close();
  });

  it("skips an environment whose agent died and removes it", async () => {
    const fake = fakes();
    const pool = createWarmPool({ ...base, size: 1, control: fake.control, store: fake.store });
    await pool.start();
    await pool.filled();
    const [dead] = fake.running;
    fake.running.delete(dead!);
    expect(pool.take()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.destroyed).toContain(dead);
    await pool.close();
  });

  it("removes a previous run's environments at start, but keeps one a sandbox took", async () => {
    const fake = fakes(["left-over", "taken"]);
    const pool = createWarmPool({
      ...base,
      size: 0,
      control: fake.control,
      store: fake.store,
      isTaken: (id) => id === "taken",
    });
    await pool.start();
    expect(fake.destroyed).toEqual(["left-over"]);
    expect(fake.stored.size).toBe(0);
    await pool.close();
  });
});
