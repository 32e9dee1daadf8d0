/**
 * What a sandbox's own network costs: the time the namespace setup (netns, nft rules,
 * slirp4netns) adds to a sandbox start, and the time to open a TLS connection to the npm
 * registry (read from `npm config get registry`; nothing else is contacted) from the host,
 * through slirp4netns (`internet`) and through the allowlist proxy (`allowlist`). Bounded: a
 * few samples each. Run with `npx tsx bench/network-cost.ts` (root, bubblewrap, slirp4netns).
 */
import { execFileSync } from "node:child_process";
import { connect } from "node:tls";
import { openSandboxNetwork } from "../server/network/namespace.ts";
import { createClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

const samples = 10;
const registry = new URL(execFileSync("npm", ["config", "get", "registry"]).toString().trim());
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const format = (values: number[]) =>
  `p50 ${median(values).toFixed(1)} ms (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;

/** One TLS handshake to the registry from this process, in ms. */
function handshake(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: registry.hostname,
        port: 443,
        servername: registry.hostname,
        timeout: 10_000,
        rejectUnauthorized: false,
      },
      () => {
        resolve(performance.now() - started);
        socket.destroy();
      },
    );
    socket.on("error", reject).on("timeout", () => socket.destroy(new Error("timed out")));
  });
}

// The same handshakes, run by node inside a sandbox; prints one JSON array of ms.
const insideScript = `const tls = require("node:tls"); const host = process.argv[2]; const times = [];
const one = () => new Promise((ok, fail) => { const t = performance.now(); const s = tls.connect({ host, port: 443, servername: host, timeout: 10000, rejectUnauthorized: false }, () => { times.push(performance.now() - t); s.destroy(); ok(); }); s.on("error", fail).on("timeout", () => s.destroy(new Error("timed out"))); });
(async () => { for (let i = 0; i < ${samples}; i++) await one(); console.log(JSON.stringify(times)); })().catch((e) => { console.log(JSON.stringify({ error: String(e) })); });`;

const setup: number[] = [];
const teardown: number[] = [];
for (let i = 0; i < samples; i++) {
  let started = performance.now();
  const network = await openSandboxNetwork(`lumina-bench-${process.pid}-${i}`, {
    egress: "internet",
  });
  setup.push(performance.now() - started);
  started = performance.now();
  await network.close();
  teardown.push(performance.now() - started);
}

const server = await startTestServer();
try {
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const client = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: randomSandboxName("bench"),
    });
    const started = performance.now();
    await client.createSandbox({ eager: true });
    starts.push(performance.now() - started);
    await client.destroySandbox();
  }
  console.log(
    `namespace setup (netns + nft + slirp4netns up): ${format(setup)}; teardown ${format(teardown)}`,
  );
  console.log(`eager createSandbox, namespace included:        ${format(starts)}`);
  console.log(
    `  -> without the namespace a start would take about ${(median(starts) - median(setup)).toFixed(1)} ms`,
  );

  const host: number[] = [];
  for (let i = 0; i < samples; i++) host.push(await handshake());
  const inside = async (
    network: Parameters<ReturnType<typeof createClient>["updateNetwork"]>[0],
  ) => {
    const client = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: randomSandboxName("bench"),
    });
    await client.createSandbox({ network });
    await client.write("/home/user/handshakes.cjs", insideScript);
    const { output } = await client.bash(`node /home/user/handshakes.cjs '${registry.hostname}'`, {
      timeout: 120_000,
    });
    await client.destroySandbox();
    const parsed = JSON.parse(output.trim()) as number[] | { error: string };
    if (!Array.isArray(parsed)) throw new Error(parsed.error);
    return parsed;
  };
  console.log(`TLS connect to the registry from the host:       ${format(host)}`);
  console.log(
    `  from a sandbox, internet (slirp4netns):       ${format(await inside({ egress: "internet" }))}`,
  );
  console.log(
    `  from a sandbox, allowlist (slirp + SNI proxy): ${format(await inside({ egress: "allowlist", allow: [registry.hostname] }))}`,
  );
} finally {
  await server.close();
}
