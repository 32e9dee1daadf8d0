import { describe, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { fakeCommand } from "./fake-command.ts";
import { base, fakeServer } from "./fake-server.ts";

/** A small seeded generator (mulberry32), so that a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One run: a command of 20 steps started through the client, whose `bash_output` answers are each
 * lost with probability `dropRate` after the server read them. The consumer follows it with
 * `streamOutput` and, should the stream fail, starts a new one, as a user would. Returns how many
 * bytes of the output never reached the consumer, and how many reached it twice.
 */
async function faultRun(seed: number, dropRate: number) {
  const next = random(seed);
  const steps = Array.from(
    { length: 20 },
    (_, i) => `${i}:${"x".repeat(1 + Math.floor(next() * 40))}\n`,
  );
  const model = fakeCommand(steps, { drop: () => next() < dropRate });
  const server = fakeServer(model.respond);
  const client = createClient({
    ...base,
    retry: { baseDelay: 1, maxDelay: 20 },
    fetch: server.fetch,
  });
  const { shellId } = await client.bash("./build", { runInBackground: true });
  const seen = new Array<number>(model.whole.length).fill(0);
  let ended = false;
  for (let attempt = 0; !ended && attempt < 50; attempt++) {
    try {
      for await (const chunk of client.streamOutput(shellId)) {
        for (let at = chunk.cursor - chunk.output.length; at < chunk.cursor; at++) seen[at]!++;
        ended = chunk.status !== "running";
      }
    } catch {
      // A failed stream: follow again, as a consumer would.
    }
  }
  return {
    lost: seen.filter((count) => count === 0).length,
    repeated: seen.filter((count) => count > 1).length,
    dropped: model.state.dropped,
  };
}

describe("streamOutput fault run", () => {
  it("64 runs with randomly lost answers lose no output", async () => {
    const totals = { lost: 0, repeated: 0, dropped: 0, runsWithLoss: 0 };
    for (let seed = 1; seed <= 64; seed++) {
      const run = await faultRun(seed, 0.1);
      totals.lost += run.lost;
      totals.repeated += run.repeated;
      totals.dropped += run.dropped;
      if (run.lost > 0) totals.runsWithLoss++;
    }
    console.info(`streamOutput fault run: ${JSON.stringify(totals)}`);
    expect(totals.dropped).toBeGreaterThan(64);
    expect(totals).toMatchObject({ lost: 0, runsWithLoss: 0, repeated: 0 });
  });
});
