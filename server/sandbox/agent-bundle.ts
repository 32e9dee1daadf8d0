/**
 * The agent program the local backends (bubblewrap, unisolated) run in each sandbox. One rule
 * picks it: the agent is built from the same sources as the server that runs it. The built
 * server (`dist-server/`) carries it prebuilt beside itself (`lumina-agent.js`, made by
 * `npm run build:server`); the server run from source (the tests, `tsx server/main.ts`)
 * bundles `server/agent/` with esbuild, once per process, so it never runs a stale build and
 * no test needs a build step. A backend whose sandboxes run elsewhere (a pod) ships the agent
 * in its image instead and never calls this.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the agent comes from: a file the build made, or the sources to bundle now. */
export type AgentArtefact = { kind: "prebuilt"; path: string } | { kind: "source"; entry: string };

/**
 * The agent for the server module at `moduleUrl`: bundled from `server/agent/main.ts` when
 * that module is itself a source file, else the `lumina-agent.js` the build put beside it.
 */
export function agentArtefactOf(moduleUrl: string): AgentArtefact {
  if (moduleUrl.endsWith(".ts")) {
    return { kind: "source", entry: fileURLToPath(new URL("../agent/main.ts", moduleUrl)) };
  }
  return { kind: "prebuilt", path: fileURLToPath(new URL("./lumina-agent.js", moduleUrl)) };
}

let bundled: Promise<string> | undefined;

/**
 * Writes the agent, one dependency-free ES module that the sandbox's Node runs, and returns its
 * path. Written once per server process, outside the data directory (so binding it into a
 * sandbox shows the sandbox nothing of the server's state), in a fresh `mkdtemp` directory
 * owned by the server: a predictable name in `/tmp` could be pre-created by another local
 * user, who could then swap the agent every sandbox runs. Removed when the process exits (a
 * killed server leaves one small directory behind).
 */
export async function agentBundlePath(): Promise<string> {
  const current = bundled ?? writeAgent();
  bundled = current;
  const path = await current;
  if (existsSync(path)) return path;
  // A /tmp cleaner removed it under a long-running server: write a fresh one (once).
  if (bundled === current) bundled = writeAgent();
  return bundled;
}

/** The agent's code, by the rule of `agentArtefactOf`. */
async function agentCode(artefact: AgentArtefact): Promise<Uint8Array> {
  if (artefact.kind === "prebuilt") {
    if (!existsSync(artefact.path)) {
      throw new Error(
        `the built server has no agent at ${artefact.path}; rebuild it with npm run build:server`,
      );
    }
    return readFileSync(artefact.path);
  }
  // Only the server run from source needs esbuild (a dev dependency) at run time.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [artefact.entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.contents;
}

async function writeAgent(): Promise<string> {
  const code = await agentCode(agentArtefactOf(import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "lumina-agent-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "agent.mjs");
  writeFileSync(path, code, { mode: 0o644 });
  // Readable and traversable by every sandbox uid, writable by the server alone.
  chmodSync(path, 0o644);
  chmodSync(dir, 0o755);
  return path;
}
