/**
 * The SDK's CPU cost per call with ofetch underneath, against the 0.1 transport (plain `fetch`,
 * one `Request` per call) and a bare fetch, all to the same in-process handler in the same run.
 * Run with `npx tsx bench/transport-overhead.ts`.
 */
import { createClient, type Transport } from "../src/index.ts";

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

/** The 0.1 default transport: one `Request` to `fetch`, the body read as text. */
const plainTransport: Transport = async ({ method, url, headers, body, signal }) => {
  const init = { method, headers, body: (body ?? null) as BodyInit | null, signal };
  const response = await handler(new Request(url, init));
  return { status: response.status, headers: response.headers, body: await response.text() };
};

const settings = { baseUrl: "http://lumina.bench", token: "0".repeat(64), sandbox: "bench" };
const overOfetch = createClient({ ...settings, fetch: handler });
const overPlain = createClient({ ...settings, transport: plainTransport });

async function bareRead(): Promise<unknown> {
  const response = await handler(
    new Request("http://lumina.bench/v1/sandboxes/bench/tools/read", {
      method: "POST",
      headers: {
        authorization: `Bearer ${settings.token}`,
        "content-type": "application/json",
        "lumina-tool-session": overOfetch.toolSessionId,
      },
      body: JSON.stringify({ file_path: "/home/user/a.py" }),
    }),
  );
  return response.json();
}

const paths: Record<string, () => Promise<unknown>> = {
  "bare fetch": bareRead,
  "SDK, 0.1 fetch transport": () => overPlain.read("/home/user/a.py"),
  "SDK, ofetch transport": () => overOfetch.read("/home/user/a.py"),
};

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

// Warm every path up, then alternate rounds so that drift on a busy machine hits all alike.
for (const call of Object.values(paths)) await rate(call, 500);
const best: Record<string, number> = {};
for (let round = 0; round < 3; round++) {
  for (const [name, call] of Object.entries(paths)) {
    best[name] = Math.max(best[name] ?? 0, await rate(call, 1000));
  }
}
const bare = 1e6 / best["bare fetch"]!;
for (const [name, calls] of Object.entries(best)) {
  const micros = 1e6 / calls;
  const extra = name === "bare fetch" ? "" : `, ${(micros - bare).toFixed(1)} µs over bare fetch`;
  console.log(
    `${name.padEnd(26)} ${Math.round(calls)} calls/s (${micros.toFixed(1)} µs/call${extra})`,
  );
}
