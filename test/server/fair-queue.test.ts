/** The parser pool's queue: users are served in turn, and each has a cap of its own. */
import { describe, expect, it } from "vitest";
import { createFairQueue } from "../../server/tools/fair-queue.ts";

describe("createFairQueue", { timeout: 5000 }, () => {
  it("serves a newcomer's job before the rest of another user's pile", async () => {
    const queue = createFairQueue({ slots: 2, maxPerUser: 100, what: "jobs" });
    const started: string[] = [];
    const frees: (() => void)[] = [];
    const take = (user: string, job: string) =>
      queue.acquire(user).then((free) => {
        started.push(job);
        frees.push(free);
      });
    const pile = Array.from({ length: 10 }, (_, i) => take("attacker", `a${i}`));
    await Promise.resolve();
    const victim = take("victim", "v");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(started).toEqual(["a0", "a1"]);
    expect(queue.load()).toEqual({ running: 2, waiting: 9 });
    frees.shift()?.();
    await victim;
    // The first slot that frees goes to the victim, not to a2.
    expect(started).toEqual(["a0", "a1", "v"]);
    while (frees.length > 0) {
      frees.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(pile);
    expect(started).toHaveLength(11);
    expect(queue.load()).toEqual({ running: 0, waiting: 0 });
  });

  it("refuses a user's job past the cap with 429, and not another user's", async () => {
    const queue = createFairQueue({ slots: 1, maxPerUser: 3, what: "PDFs being parsed" });
    const first = await queue.acquire("attacker");
    const waiting = [queue.acquire("attacker"), queue.acquire("attacker")];
    await expect(queue.acquire("attacker")).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/too many PDFs being parsed.*at most 3/),
    });
    const victim = queue.acquire("victim");
    first();
    (await waiting[0])?.();
    (await victim)();
    (await waiting[1])?.();
    // Finished jobs give the room back.
    (await queue.acquire("attacker"))();
  });

  it("drops a waiting job whose signal aborts, freeing its place", async () => {
    const queue = createFairQueue({ slots: 1, maxPerUser: 2, what: "jobs" });
    const running = await queue.acquire("user");
    const controller = new AbortController();
    const waiting = queue.acquire("user", controller.signal);
    controller.abort(new Error("hung up"));
    await expect(waiting).rejects.toThrow("hung up");
    expect(queue.load()).toEqual({ running: 1, waiting: 0 });
    const next = queue.acquire("user");
    running();
    (await next)();
    expect(queue.load()).toEqual({ running: 0, waiting: 0 });
  });
});
