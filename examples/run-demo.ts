/**
 * `npm run demo`: starts the reference server embedded (temporary data directory, a fresh key,
 * a free port), runs examples/quickstart.ts against it, and cleans up. With LUMINA_URL and
 * LUMINA_TOKEN set, it runs the tour against that server instead.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLuminaServer } from "../server/index.ts";

const quickstart = new URL("./quickstart.ts", import.meta.url).pathname;

async function runQuickstart(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", quickstart], { env, stdio: "inherit" });
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
const server = await createLuminaServer({
  dataDir,
  port: 0,
  isolation: isolated ? "bubblewrap" : "none",
  log: () => {},
});
const token = server.adminKey ?? server.addUserKey("demo");
console.log(`embedded Lumina server listening on ${server.url} (data in ${dataDir})`);
let code = 1;
try {
  code = await runQuickstart({ ...process.env, LUMINA_URL: server.url, LUMINA_TOKEN: token });
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
