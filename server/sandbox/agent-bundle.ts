import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const agentEntry = fileURLToPath(new URL("../agent/main.ts", import.meta.url));
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

async function buildAgent(): Promise<string> {
  const result = await build({
    entryPoints: [agentEntry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
  });
  const dir = mkdtempSync(join(tmpdir(), "lumina-agent-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "agent.mjs");
  writeFileSync(path, result.outputFiles[0]!.contents, { mode: 0o644 });
  // Readable and traversable by every sandbox uid, writable by the server alone.
  chmodSync(path, 0o644);
  chmodSync(dir, 0o755);
  return path;
}
