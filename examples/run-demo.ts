/**
 * `npm run demo`: starts the built reference server, `node dist-server/lumina-server.js`
 * (temporary data directory, a fresh key, a free port), runs examples/quickstart.ts against it,
 * and stops it with SIGTERM. With LUMINA_URL and LUMINA_TOKEN set, it runs the tour against that
 * server instead.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const quickstart = new URL("./quickstart.ts", import.meta.url).pathname;

const children = new Set<ChildProcess>();
// Killed from outside (Ctrl-C, a test's timeout): stop the server and the tour with us.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    for (const child of children) child.kill("SIGTERM");
    process.exitCode = 1;
  });

async function runQuickstart(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", quickstart], { env, stdio: "inherit" });
  children.add(child);
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
}

if (process.env["LUMINA_URL"] && process.env["LUMINA_TOKEN"]) {
  process.exit(await runQuickstart(process.env));
}

const isolated = existsSync("/usr/bin/bwrap");
if (!isolated)
  console.error("bubblewrap is missing (apt-get install bubblewrap): running unisolated");
const dataDir = await mkdtemp(join(tmpdir(), "lumina-demo-"));
const serverBin = new URL("../dist-server/lumina-server.js", import.meta.url).pathname;
const args = [serverBin, "--port", "0", "--data", dataDir];
const server = spawn(process.execPath, isolated ? args : [...args, "--isolation", "none"], {
  stdio: ["ignore", "pipe", "pipe"],
});
children.add(server);
let serverOutput = "";
let serverErrors = "";
server.stderr.on("data", (chunk) => {
  serverErrors += chunk;
});
const stopped = new Promise<void>((resolve) => server.on("exit", () => resolve()));
// The first start prints the admin key, then the address: wait for both.
const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
  server.stdout.on("data", (chunk) => {
    serverOutput += chunk;
    const url = /listening on (http:\/\/\S+)/.exec(serverOutput)?.[1];
    const token = /: ([0-9a-f]{64})\n/.exec(serverOutput)?.[1];
    if (url && token) resolve({ url, token });
  });
  void stopped.then(() => reject(new Error(`the server did not start:\n${serverErrors}`)));
});
console.log(`Lumina server (${serverBin}) listening on ${url} (data in ${dataDir})`);
let code = 1;
try {
  code = await runQuickstart({ ...process.env, LUMINA_URL: url, LUMINA_TOKEN: token });
} finally {
  server.kill("SIGTERM");
  await stopped;
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
