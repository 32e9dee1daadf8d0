/**
 * `streamOutput` latency through the whole stack: from a line printed in the sandbox (the line
 * carries its wall-clock time) to its chunk in the iterator; and HTTP requests per chunk.
 * Run with `npx tsx bench/bash-stream.ts`.
 */
import { createClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

const server = await startTestServer();
let requests = 0;
try {
  const lumina = createClient({
    baseUrl: server.url,
    token: server.token,
    sandbox: randomSandboxName("stream"),
    fetch: (request: Request) => {
      requests++;
      return globalThis.fetch(request);
    },
  });
  await lumina.createSandbox();
  // 100 lines, one every 50 ms; each says when it was printed (ms since the epoch, via date).
  const { shellId } = await lumina.bash("for i in $(seq 100); do date +%s%3N; sleep 0.05; done", {
    runInBackground: true,
  });
  requests = 0;
  const latencies: number[] = [];
  let chunks = 0;
  for await (const chunk of lumina.streamOutput(shellId)) {
    const received = Date.now();
    if (chunk.output === "") continue;
    chunks++;
    for (const line of chunk.output.split("\n").filter(Boolean)) {
      latencies.push(received - Number(line));
    }
  }
  latencies.sort((a, b) => a - b);
  const p = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  console.log(`streamOutput: ${latencies.length} lines in ${chunks} chunks`);
  console.log(
    `line printed → chunk in the iterator: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (target p50 ≤ 50 ms)`,
  );
  console.log(`requests per chunk: ${(requests / chunks).toFixed(2)} (target ≤ 1.5)`);
  await lumina.destroySandbox();
} finally {
  await server.close();
}
