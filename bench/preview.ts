/**
 * Preview URLs (CONTRACT §10) on bubblewrap: the round trip of a small GET through a preview
 * (host → Lumina server → tunnel → agent → the app in the sandbox) next to the same GET made
 * inside the sandbox (the floor), p50 and p99 over 300 each, and the throughput of a 100 MiB
 * download through the preview next to the same download inside. Bounded: a few seconds.
 * Run with `npx tsx bench/preview.ts`.
 */
import { Agent, get } from "node:http";
import { createClient } from "../src/index.ts";
import { randomPort, startApp } from "../test/server/preview-helpers.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

const requests = 300;
const downloadBytes = 100 * 1024 * 1024;

/** The same client inside the sandbox: keep-alive GETs, then one download; prints JSON. */
const insideClient = `
import http from "node:http";
const [port, count, bytes] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true });
const fetchOnce = (path) => new Promise((resolve, reject) => {
  http.get({ host: "127.0.0.1", port, path, agent }, (res) => { res.resume(); res.on("end", resolve); }).on("error", reject);
});
const samples = [];
for (let i = 0; i < count + 30; i++) {
  const started = performance.now();
  await fetchOnce("/small");
  if (i >= 30) samples.push(performance.now() - started);
}
const started = performance.now();
await fetchOnce("/download?bytes=" + bytes);
console.log(JSON.stringify({ samples: samples.map((ms) => Math.round(ms * 1000) / 1000), downloadMs: performance.now() - started }));
agent.destroy();
`;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One GET of `url` through a keep-alive agent (as a browser keeps its connection to the server). */
function fetchOnce(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    get(url, { agent }, (response) => {
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on("end", () => resolve(bytes));
    }).on("error", reject);
  });
}

const format = (ms: number) => `${ms.toFixed(2)} ms`;
const rate = (bytes: number, ms: number) =>
  `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`;
const server = await startTestServer({ diskQuota: false });
try {
  const lumina = createClient({
    baseUrl: server.url,
    token: server.token,
    sandbox: randomSandboxName("bench"),
  });
  await lumina.createSandbox();
  const port = randomPort();
  await startApp(lumina, port);
  const { pathUrl } = await lumina.exposePort(port);

  await lumina.write("/home/user/bench-client.mjs", insideClient);
  const measured = await lumina.bash(`node bench-client.mjs ${port} ${requests} ${downloadBytes}`);
  if (measured.exitCode !== 0) throw new Error(`the client inside failed: ${measured.output}`);
  const inside = JSON.parse(measured.output) as { samples: number[]; downloadMs: number };

  const agent = new Agent({ keepAlive: true });
  for (let i = 0; i < 30; i++) await fetchOnce(`${pathUrl}small`, agent); // Warm up.
  const preview: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await fetchOnce(`${pathUrl}small`, agent);
    preview.push(performance.now() - started);
  }
  const downloads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const bytes = await fetchOnce(`${pathUrl}download?bytes=${downloadBytes}`, agent);
    if (bytes !== downloadBytes) throw new Error(`the download brought ${bytes} bytes`);
    downloads.push(performance.now() - started);
  }
  agent.destroy();

  console.log(
    `GET through the preview: p50 ${format(percentile(preview, 50))}, p99 ${format(percentile(preview, 99))} (${requests} requests)`,
  );
  console.log(
    `the same GET inside the sandbox: p50 ${format(percentile(inside.samples, 50))}, p99 ${format(percentile(inside.samples, 99))}`,
  );
  const best = Math.min(...downloads);
  console.log(
    `100 MiB download through the preview: ${rate(downloadBytes, best)} (best of 3; median ${rate(downloadBytes, percentile(downloads, 50))}); inside the sandbox: ${rate(downloadBytes, inside.downloadMs)}`,
  );
  await lumina.destroySandbox();
} finally {
  await server.close();
}
