/**
 * The client's CPU cost per call: `read` through the SDK against a bare fetch of the same
 * in-process handler, in the same run. Run with `npx tsx bench/client-overhead.ts`.
 */
import { createClient } from "../src/index.ts";

const answer = JSON.stringify({
  type: "text",
  content: Array.from({ length: 20 }, (_, i) => `${String(i + 1).padStart(4)}\tline ${i}\n`).join(
    "",
  ),
  total_lines: 20,
  lines_returned: 20,
});

/** The stand-in server: reads the body, answers a fixed text file. */
async function handler(request: Request): Promise<Response> {
  await request.text();
  return new Response(answer, { headers: { "content-type": "application/json" } });
}

const client = createClient({
  baseUrl: "http://lumina.bench",
  token: "0".repeat(64),
  sandbox: "bench",
  fetch: handler,
});

async function bareRead(): Promise<unknown> {
  const response = await handler(
    new Request("http://lumina.bench/v1/sandboxes/bench/tools/read", {
      method: "POST",
      headers: {
        authorization: `Bearer ${"0".repeat(64)}`,
        "content-type": "application/json",
        "lumina-tool-session": client.toolSessionId,
      },
      body: JSON.stringify({ file_path: "/home/user/a.py" }),
    }),
  );
  return response.json();
}

const sdkRead = (): Promise<unknown> => client.read("/home/user/a.py");

/** Calls per second of `call`, run back to back for `ms` milliseconds. */
async function rate(call: () => Promise<unknown>, ms: number): Promise<number> {
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    await call();
    calls++;
  }
  return (calls * 1000) / (performance.now() - started);
}

// Warm both paths up, then alternate rounds so that drift on a busy machine hits both alike.
await rate(bareRead, 500);
await rate(sdkRead, 500);
const bare: number[] = [];
const sdk: number[] = [];
for (let round = 0; round < 3; round++) {
  bare.push(await rate(bareRead, 1000));
  sdk.push(await rate(sdkRead, 1000));
}
const best = (rates: number[]) => Math.round(Math.max(...rates));
const bareBest = best(bare);
const sdkBest = best(sdk);
console.log(`bare fetch:  ${bareBest} calls/s (${(1e6 / bareBest).toFixed(1)} µs/call)`);
console.log(`SDK read():  ${sdkBest} calls/s (${(1e6 / sdkBest).toFixed(1)} µs/call)`);
console.log(`SDK overhead: ${(1e6 / sdkBest - 1e6 / bareBest).toFixed(1)} µs/call`);
