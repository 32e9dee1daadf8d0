import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const agentEntry = fileURLToPath(new URL("../agent/main.ts", import.meta.url));
/** The agent prebuilt by `npm run build:server`, beside dist-server/lumina-server.js. */
const prebuiltAgent = fileURLToPath(new URL("./lumina-agent.js", import.meta.url));
let bundled: Promise<string> | undefined;

/**
 * Bundles the agent into one dependency-free ES module that the sandbox's Node runs, and
 * returns its path. Built once per server process, outside the data directory (so binding
 * it into a sandbox shows the sandbox nothing of the server's state), in a fresh `mkdtemp`
 * directory owned by the server: a predictable name in `/tmp` could be pre-created by another
 * local user, who could then swap the agent every sandbox runs. Removed when the process exits
 * (a killed server leaves one small directory behind).
 */
export async function agentBundlePath(): Promise<string> {
  const current = bundled ?? buildAgent();
  bundled = current;
  const path = await current;
  if (existsSync(path)) return path;
  // A /tmp cleaner removed it under a long-running server: build a fresh one (once).
  if (bundled === current) bundled = buildAgent();
  return bundled;
}

/** The agent as one module: the prebuilt one in the built server, else bundled from source now. */
async function agentCode(): Promise<Uint8Array> {
  if (existsSync(prebuiltAgent)) return readFileSync(prebuiltAgent);
  // Only the server run from source needs esbuild (a dev dependency) at run time.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [agentEntry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.contents;
}

async function buildAgent(): Promise<string> {
  const code = await agentCode();
  const dir = mkdtempSync(join(tmpdir(), "lumina-agent-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "agent.mjs");
  writeFileSync(path, code, { mode: 0o644 });
  // Readable and traversable by every sandbox uid, writable by the server alone.
  chmodSync(path, 0o644);
  chmodSync(dir, 0o755);
  return path;
}
