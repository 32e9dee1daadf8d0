/**
 * What exactly-once calls cost and whether they hold (CONTRACT §13). First the hot path:
 * `bash("true")` and `write` p50 with an `Idempotency-Key` (the default) and without one
 * (`retry: false`), interleaved in one run. Then a soak: up to 10,000 `bash` calls (or as many
 * as fit in 2 minutes) from 8 sessions, each appending its own number to one log, with 10 % of
 * the connections dropped at a random point (before the request is sent, while it runs, or
 * after its answer's headers); at the end each number's count in the log is the number of times
 * its call was applied: the goal is every one exactly once.
 * Run with `npx tsx bench/exactly-once.ts` (as root with bubblewrap).
 */
import { createClient, type LuminaClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

const soakCalls = 10_000;
const soakMs = 120_000;
const workers = 8;
const dropShare = 0.1;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(times: number, task: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await task(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** A fetch that drops 10 % of connections at a random point of their life. */
function droppingFetch(stats: { dropped: number }) {
  return async (request: Request): Promise<Response> => {
    if (Math.random() >= dropShare) return fetch(request);
    stats.dropped++;
    const cut = new AbortController();
    if (Math.random() < 0.5) {
      // Somewhere between before the request leaves and after the command ran.
      setTimeout(() => cut.abort(new TypeError("connection dropped")), Math.random() * 8);
      return fetch(request, { signal: cut.signal });
    }
    // The request reached the server and its answer began: lose the rest.
    const answer = await fetch(request, { signal: cut.signal });
    cut.abort(new TypeError("connection dropped"));
    await answer.body?.cancel().catch(() => {});
    throw new TypeError("fetch failed: connection dropped");
  };
}

const server = await startTestServer();
try {
  const sandbox = randomSandboxName("once");
  const client = (options: { retry?: false; fetch?: typeof fetch } = {}): LuminaClient =>
    createClient({ baseUrl: server.url, token: server.token, sandbox, ...options });
  await client().createSandbox({ eager: true });
  const keyed = client();
  const plain = client({ retry: false });
  await keyed.bash("mkdir -p /home/user/w /home/user/soak");

  // Interleaved rounds, so that drift of the machine's load falls on both alike.
  const samples = { bashKeyed: [] as number[], bashPlain: [] as number[] };
  const writes = { keyed: [] as number[], plain: [] as number[] };
  await timed(30, () => keyed.bash("true")); // Warm up.
  await timed(30, () => plain.bash("true"));
  for (let round = 0; round < 6; round++) {
    samples.bashKeyed.push(...(await timed(50, () => keyed.bash("true"))));
    samples.bashPlain.push(...(await timed(50, () => plain.bash("true"))));
    writes.keyed.push(
      ...(await timed(50, (i) => keyed.write(`/home/user/w/k-${round}-${i}`, "x"))),
    );
    writes.plain.push(
      ...(await timed(50, (i) => plain.write(`/home/user/w/p-${round}-${i}`, "x"))),
    );
  }
  const row = (what: string, withKey: number[], without: number[]) => {
    const [a, b] = [median(withKey), median(without)];
    console.log(
      `${what.padEnd(12)} p50 with key ${a.toFixed(2)} ms, without ${b.toFixed(2)} ms (+${(a - b).toFixed(2)} ms), ${withKey.length} calls each`,
    );
  };
  row('bash("true")', samples.bashKeyed, samples.bashPlain);
  row("write", writes.keyed, writes.plain);

  const stats = { dropped: 0, resolved: 0, failed: 0 };
  let next = 0;
  const deadline = performance.now() + soakMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const lumina = createClient({
        baseUrl: server.url,
        token: server.token,
        sandbox,
        retry: { limit: 6, baseDelay: 5, maxDelay: 100 },
        fetch: droppingFetch(stats),
      });
      while (next < soakCalls && performance.now() < deadline) {
        const number = next++;
        try {
          await lumina.bash(`echo ${number} >> /home/user/soak/log`);
          stats.resolved++;
        } catch {
          stats.failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Per number, its count in the log; then how many numbers have each count.
  const { output } = await keyed.bash(
    `awk '{ seen[$1]++ } END { for (n in seen) count[seen[n]]++; for (c in count) print c, count[c] }' /home/user/soak/log`,
  );
  const applied = new Map<number, number>();
  for (const line of output.trim().split("\n").filter(Boolean)) {
    const [times, numbers] = line.split(" ").map(Number);
    applied.set(times!, numbers!);
  }
  const once = applied.get(1) ?? 0;
  const more = [...applied].filter(([times]) => times > 1).reduce((sum, [, n]) => sum + n, 0);
  const never = next - [...applied.values()].reduce((sum, n) => sum + n, 0);
  console.log(
    `soak: ${next} calls in ${seconds.toFixed(1)} s from ${workers} sessions, ${stats.dropped} connections dropped; ${stats.resolved} resolved, ${stats.failed} rejected`,
  );
  console.log(`effects applied: 0 times ${never}, once ${once}, twice or more ${more}`);
  if (more > 0 || never > stats.failed) process.exitCode = 1;
} finally {
  await server.close();
}
