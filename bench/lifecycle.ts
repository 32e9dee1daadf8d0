/**
 * Lifecycle latencies (CONTRACT §12), in one run: eager createSandbox → first bash result with
 * the warm pool and without it (two servers side by side, calls alternating, so both see the
 * same machine), and idle resume: the first bash after an idle stop, start included. The pool
 * is refilled before each pooled create (what a server that is not creating in a burst sees);
 * its load hold-off is off here, since this shared machine is often busy.
 * Run with `npx tsx bench/lifecycle.ts` (bounded: about 40 creates and 10 resumes).
 */
import { createClient, type LuminaClient } from "../src/index.ts";
import { randomSandboxName, startTestServer, type TestServer } from "../test/support/server.ts";

const rounds = 20;
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const summary = (samples: number[]) =>
  `p50 ${percentile(samples, 50).toFixed(1)} ms, p99 ${percentile(samples, 99).toFixed(1)} ms (n=${samples.length})`;
const clientOf = (server: TestServer): LuminaClient =>
  createClient({ baseUrl: server.url, token: server.token, sandbox: randomSandboxName("bench") });

async function createToFirstBash(server: TestServer): Promise<number> {
  const client = clientOf(server);
  const started = performance.now();
  await client.createSandbox({ eager: true });
  await client.bash("true");
  const took = performance.now() - started;
  await client.destroySandbox();
  return took;
}

let clockMs = Date.now();
const pooled = await startTestServer({ warmPool: 2 });
const cold = await startTestServer({ warmPool: 0, idleClock: () => clockMs });
try {
  // The first sandbox of a server pays one-off costs (bundling the agent): not sampled.
  await createToFirstBash(cold);
  await pooled.warmPoolFilled();
  await createToFirstBash(pooled);
  const withPool: number[] = [];
  const withoutPool: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await pooled.warmPoolFilled();
    withPool.push(await createToFirstBash(pooled));
    withoutPool.push(await createToFirstBash(cold));
  }
  console.log(`eager create → first bash, warm pool of 2: ${summary(withPool)} (goal p50 ≤ 30 ms)`);
  console.log(`eager create → first bash, no warm pool:   ${summary(withoutPool)}`);

  const sleeper = clientOf(cold);
  await sleeper.createSandbox({ eager: true, idleTimeout: 1000 });
  const resume: number[] = [];
  for (let round = 0; round < 10; round++) {
    await sleeper.bash("true");
    clockMs += 2000;
    await cold.sweepIdle();
    const started = performance.now();
    await sleeper.bash("true");
    resume.push(performance.now() - started);
  }
  console.log(`first bash after an idle stop (resume):   ${summary(resume)}`);
  // For scale on a busy machine: a bash on a sandbox that already runs.
  const plain: number[] = [];
  for (let round = 0; round < 20; round++) {
    const started = performance.now();
    await sleeper.bash("true");
    plain.push(performance.now() - started);
  }
  console.log(`bash on a running sandbox (for scale):   ${summary(plain)}`);
  await sleeper.destroySandbox();
} finally {
  await pooled.close();
  await cold.close();
}
