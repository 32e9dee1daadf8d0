/**
 * The built server (`dist-server/lumina-server.js`, see tsdown.server.config.ts) runs on plain
 * Node with no tsx, and `npm run server` hands SIGTERM to it instead of leaving it behind.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { sandboxHostMissing } from "../support/server.ts";
import { requireSandboxHost } from "../support/use-server.ts";

requireSandboxHost();

const root = new URL("../../", import.meta.url).pathname;
const bin = join(root, "dist-server", "lumina-server.js");
const children = new Set<ChildProcess>();
const dirs: string[] = [];
const { PATH = "/usr/bin:/bin", HOME = "/root" } = process.env;

beforeAll(async () => {
  if (sandboxHostMissing) return; // the tests skip, saying why
  // `npm run build` (so `npm test`) builds it; a lone run of this file builds it if missing.
  if (existsSync(bin)) return;
  await promisify(execFile)(
    process.execPath,
    [join(root, "node_modules/tsdown/dist/run.mjs"), "-c", "tsdown.server.config.ts"],
    { cwd: root, env: { PATH, HOME } },
  );
}, 120_000);

afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lumina-bin-"));
  dirs.push(dir);
  return dir;
}

/** Spawns a command and collects its output; `listening` resolves with the server's URL. */
function run(file: string, args: string[]) {
  const child = spawn(file, args, { cwd: root, env: { PATH, HOME }, stdio: "pipe" });
  children.add(child);
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${err}`)));
  });
  listening.catch(() => {});
  return { child, exited, listening, stdout: () => out, stderr: () => err };
}

/** The pid of a process whose command line is exactly these words, if one runs. */
function pidOf(words: string[]): number | undefined {
  const wanted = `${words.join("\0")}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8") === wanted) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

/** Polls every 50 ms for up to 20 s until the process is gone; true when it is. */
async function goneWithin(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 400; tries++) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe("the built server", () => {
  it("prints its usage with --help and exits 0", async () => {
    const help = run(process.execPath, [bin, "--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain("usage: lumina-server");
  });

  it("runs on plain node: listens, serves a sandbox, and exits 0 on SIGTERM", async () => {
    const server = run(process.execPath, [bin, "--port", "0", "--data", await tempDir()]);
    const url = await server.listening;
    expect((await rawCall(url, "/v1/health")).status).toBe(200);
    const token = /([0-9a-f]{64})/.exec(server.stdout())![1]!;
    const lumina = createClient({ baseUrl: url, token, sandbox: "bin-box", retry: false });
    await lumina.createSandbox();
    expect((await lumina.bash("echo from the built agent")).output).toBe("from the built agent\n");
    // The agent the build put beside the server, not one bundled from source at run time.
    const prebuilt = createHash("sha256")
      .update(readFileSync(join(root, "dist-server", "lumina-agent.js")))
      .digest("hex");
    expect((await lumina.bash("sha256sum < /opt/lumina/agent.mjs")).output).toMatch(
      new RegExp(`^${prebuilt} `),
    );
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("stops when `npm run server` gets SIGTERM, leaving no server process behind", async () => {
    const data = await tempDir();
    // --ignore-scripts: skips the `preserver` build, done once above.
    const npm = run("npm", [
      "run",
      "--ignore-scripts",
      "server",
      "--",
      "--port",
      "0",
      "--data",
      data,
    ]);
    await npm.listening;
    const pid = pidOf(["node", "dist-server/lumina-server.js", "--port", "0", "--data", data]);
    expect(pid).toBeDefined();
    npm.child.kill("SIGTERM");
    const gone = await goneWithin(pid!);
    if (!gone) process.kill(pid!, "SIGKILL");
    expect(gone).toBe(true);
  });
});
