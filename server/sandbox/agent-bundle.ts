import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const agentEntry = fileURLToPath(new URL("../agent/main.ts", import.meta.url));
let bundled: Promise<string> | undefined;

/**
 * Bundles the agent into one dependency-free ES module that the sandbox's Node runs, and
 * returns its path. Built once per server process, outside the data directory (so binding
 * it into a sandbox shows the sandbox nothing of the server's state).
 */
export function agentBundlePath(): Promise<string> {
  bundled ??= buildAgent();
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
  const code = result.outputFiles[0]!.contents;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const path = join(tmpdir(), `lumina-agent-${hash}`, "agent.mjs");
  if (
    existsSync(path) &&
    createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16) === hash
  ) {
    return path;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  chmodSync(dirname(path), 0o755);
  // Write then rename, so a concurrent server never runs a half-written agent.
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, code, { mode: 0o644 });
  renameSync(partial, path);
  return path;
}
