/**
 * The shell engine's speed through the whole stack (SDK → HTTP → server → agent → bash, with
 * bubblewrap): `bash("true")` round trips next to spawning `true` from Node (the floor), calls
 * per second with 16 sessions in parallel, and eager createSandbox → first bash result.
 * Run with `npx tsx bench/bash-roundtrip.ts`.
 */
import { spawn } from "node:child_process";
import { createClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(times: number, task: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await task();
    samples.push(performance.now() - started);
  }
  return samples;
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/true", { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", () => resolve());
  });
}

const format = (ms: number) => `${ms.toFixed(2)} ms`;
const server = await startTestServer();
try {
  const sandbox = randomSandboxName("bench");
  const client = (toolSessionId?: string) =>
    createClient({ baseUrl: server.url, token: server.token, sandbox, toolSessionId });

  const creator = client();
  const createStarted = performance.now();
  await creator.createSandbox({ eager: true });
  await creator.bash("true");
  const coldCreateToFirst = performance.now() - createStarted;
  // The first sandbox of a server pays one-off costs (bundling the agent, cgroup roots): sample more.
  const createToFirst: number[] = [];
  for (let i = 0; i < 10; i++) {
    const other = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: randomSandboxName("bench"),
    });
    const started = performance.now();
    await other.createSandbox({ eager: true });
    await other.bash("true");
    createToFirst.push(performance.now() - started);
    await other.destroySandbox();
  }

  const lumina = client();
  await timed(50, () => lumina.bash("true")); // Warm up.
  await timed(50, spawnTrue);
  const bash = await timed(500, () => lumina.bash("true"));
  const floor = await timed(500, spawnTrue);

  const sessions = Array.from({ length: 16 }, () => client());
  await Promise.all(sessions.map((session) => session.bash("true")));
  let calls = 0;
  const until = performance.now() + 5000;
  await Promise.all(
    sessions.map(async (session) => {
      while (performance.now() < until) {
        await session.bash("true");
        calls++;
      }
    }),
  );

  const ratio = percentile(bash, 50) / percentile(floor, 50);
  console.log(
    `bash("true") through the SDK: p50 ${format(percentile(bash, 50))}, p99 ${format(percentile(bash, 99))}`,
  );
  console.log(
    `spawn true from Node (floor): p50 ${format(percentile(floor, 50))}, p99 ${format(percentile(floor, 99))}`,
  );
  console.log(`p50 ratio to the floor: ${ratio.toFixed(2)}× (target ≤ 3×, p50 ≤ 5 ms)`);
  console.log(`16 sessions in parallel: ${(calls / 5).toFixed(0)} calls/s`);
  console.log(
    `eager createSandbox → first bash result: p50 ${format(percentile(createToFirst, 50))}, max ${format(Math.max(...createToFirst))} over 10 (target ≤ 150 ms); the server's first sandbox: ${format(coldCreateToFirst)}`,
  );
  await creator.destroySandbox();
} finally {
  await server.close();
}
