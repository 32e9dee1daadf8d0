import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isMountPoint } from "../../server/sandbox/disk.ts";
import { createClient } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { requireSandboxHost } from "../support/use-server.ts";

requireSandboxHost();

const root = new URL("../../", import.meta.url).pathname;
const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterEach(async () => {
  // A server stopped with SIGTERM unmounts its homes (its warm pool's too); SIGKILL after 15 s.
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  children.clear();
  // A SIGKILLed server leaves its mounts to the next start: none comes, so unmount them here.
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((l) => l.split(" ")[1]);
  for (const dir of dirs)
    for (const mount of mounts.filter((point) => point?.startsWith(`${dir}/`)).reverse())
      spawnSync("umount", ["-l", mount!]);
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lumina-cli-"));
  dirs.push(dir);
  return dir;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `server/main.ts` in its own Node process (no npm wrapper, so signals reach it). */
function runCli(args: string[], env: Record<string, string> = {}): Run {
  const { PATH = "/usr/bin:/bin", HOME = "/root" } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts", ...args], {
    cwd: root,
    env: { PATH, HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Starts the server and waits for its `listening on http://…` line. */
async function startCli(dataDir: string, env: Record<string, string> = {}, extra: string[] = []) {
  const run = runCli(["--port", "0", "--data", dataDir, ...extra], env);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(run.stdout());
      if (match) resolve(match[1]!);
    };
    run.child.stdout?.on("data", check);
    void run.exited.then((code) =>
      reject(new Error(`exited ${code} before listening: ${run.stderr()}`)),
    );
  });
  return { ...run, url };
}

const keyLine = /API key[^:]*: ([0-9a-f]{64})/;

describe("the server command line", () => {
  it("prints a first key once, keeps it across restarts, and stops cleanly on SIGTERM", async () => {
    const data = await tempDir();
    const first = await startCli(data);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const key = keyLine.exec(first.stdout())?.[1];
    expect(key).toBeDefined();
    const lumina = createClient({
      baseUrl: first.url,
      token: key!,
      sandbox: "cli-box",
      retry: false,
    });
    await lumina.createSandbox();
    await lumina.write("/home/user/note.txt", "kept\n");
    // The control for the check below: the running sandbox is visible this way.
    expect((await processesMentioning(data)).length).toBeGreaterThan(0);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // No sandbox process outlives the server (bwrap's arguments name the data directory).
    expect(await processesMentioning(data)).toEqual([]);

    const second = await startCli(data);
    expect(second.stdout()).not.toMatch(keyLine);
    const again = createClient({
      baseUrl: second.url,
      token: key!,
      sandbox: "cli-box",
      retry: false,
    });
    const read = await again.read("/home/user/note.txt");
    expect(read.type === "text" && read.content).toContain("kept");
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
  });

  it("registers LUMINA_API_KEYS keys, which keep working without the variable", async () => {
    const data = await tempDir();
    const key = `${"c0ffee".repeat(10)}beef`;
    const withEnv = await startCli(data, { LUMINA_API_KEYS: `erin:${key}` });
    expect(withEnv.stdout()).not.toMatch(keyLine);
    expect((await rawCall(withEnv.url, "/v1/sandboxes", { token: key })).status).toBe(200);
    withEnv.child.kill("SIGTERM");
    expect(await withEnv.exited).toBe(0);
    const without = await startCli(data);
    expect((await rawCall(without.url, "/v1/sandboxes", { token: key })).status).toBe(200);
    expect((await rawCall(without.url, "/v1/sandboxes", { token: "0".repeat(64) })).status).toBe(
      401,
    );
  });

  it("refuses a malformed LUMINA_API_KEYS without echoing the key", async () => {
    const run = runCli(["--port", "0", "--data", await tempDir()], {
      LUMINA_API_KEYS: "nokeyhere-secretish",
    });
    expect(await run.exited).not.toBe(0);
    expect(run.stderr()).toContain("LUMINA_API_KEYS entry 1");
    expect(run.stderr()).not.toContain("secretish");
  });

  it("mints a key for a new user with add-key, usable by a running server", async () => {
    const data = await tempDir();
    const server = await startCli(data);
    const minted = runCli(["add-key", "frank", "--data", data]);
    expect(await minted.exited).toBe(0);
    const key = keyLine.exec(minted.stdout())?.[1];
    expect(key).toBeDefined();
    expect((await rawCall(server.url, "/v1/sandboxes", { token: key! })).status).toBe(200);
    const bad = runCli(["add-key", "no:colons", "--data", data]);
    expect(await bad.exited).toBe(2);
  });

  it("revokes a key and removes a user with revoke-key and remove-user, beside a running server", async () => {
    const data = await tempDir();
    const server = await startCli(data);
    const minted = runCli(["add-key", "gina", "--data", data]);
    expect(await minted.exited).toBe(0);
    const key = keyLine.exec(minted.stdout())![1]!;
    const id = /\(id ([0-9a-f]{12})/.exec(minted.stdout())![1]!;
    const spare = runCli(["add-key", "gina", "--data", data]);
    expect(await spare.exited).toBe(0);
    const spareKey = keyLine.exec(spare.stdout())![1]!;
    const revoked = runCli(["revoke-key", "gina", id, "--data", data]);
    expect(await revoked.exited).toBe(0);
    expect((await rawCall(server.url, "/v1/sandboxes", { token: key })).status).toBe(401);
    expect((await rawCall(server.url, "/v1/sandboxes", { token: spareKey })).status).toBe(200);
    const removed = runCli(["remove-user", "gina", "--data", data]);
    expect(await removed.exited).toBe(0);
    expect((await rawCall(server.url, "/v1/sandboxes", { token: spareKey })).status).toBe(401);
    const unknown = runCli(["revoke-key", "gina", id, "--data", data]);
    expect(await unknown.exited).toBe(1);
  });

  it("prints the usage and the user rule with --help and exits 0", async () => {
    const run = runCli(["--help"]);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain("usage: lumina-server");
    expect(run.stdout()).toMatch(/remove-user <user>/);
    expect(run.stdout()).toMatch(/JWT is\s+accepted for any user not removed/);
  });

  it("refuses to start without bubblewrap, saying how to install it", async () => {
    const emptyPath = await tempDir();
    const run = runCli(["--port", "0", "--data", await tempDir()], { PATH: emptyPath });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("apt-get install bubblewrap");
    expect(run.stderr()).toContain("--isolation none");
  });

  it("takes --egress internet or none, explained in --help, and refuses anything else", async () => {
    const run = runCli(["--port", "0", "--data", await tempDir(), "--egress", "allowlist"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain("--egress must be 'internet' or 'none'");
    const help = runCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/--egress internet\|none/);
  });

  it("refuses an --isolation no backend is registered for, naming the registered ones", async () => {
    const run = runCli(["--port", "0", "--data", await tempDir(), "--isolation", "pods"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain("--isolation must be 'bubblewrap' or 'none'");
  });

  it("runs with --isolation none and warns on every start", async () => {
    const data = await tempDir();
    for (let start = 0; start < 2; start++) {
      const run = await startCli(data, { PATH: await tempDir() }, ["--isolation", "none"]);
      expect(run.stderr()).toMatch(/WARNING.*isolation none/);
      expect(run.stderr()).toContain("share the host's network");
      expect((await rawCall(run.url, "/v1/health")).status).toBe(200);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
    }
  });

  it("runs sandboxes from the --host-uid-base it is given, refuses a bad one, and explains it in --help", async () => {
    const data = await tempDir();
    const base = 2_120_000_000 + randomInt(100) * 65_536;
    const server = await startCli(data, {}, ["--host-uid-base", String(base)]);
    const key = keyLine.exec(server.stdout())?.[1];
    const lumina = createClient({
      baseUrl: server.url,
      token: key!,
      sandbox: "uid-box",
      retry: false,
    });
    await lumina.createSandbox();
    // The sandbox and any warm environment the pool prepared all run from the block.
    const ids = await readdir(join(data, "sandboxes"));
    expect(ids.length).toBeGreaterThan(0);
    const uids = await Promise.all(
      ids.map(async (id) => (await stat(join(data, "sandboxes", id, "home"))).uid),
    );
    for (const uid of uids) expect(uid - base).toSatisfy((n: number) => n >= 0 && n < 65_536);
    expect(uids).toContain(base);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);

    for (const bad of ["1000", "4294967294", "12e8"]) {
      const run = runCli(["--port", "0", "--data", await tempDir(), `--host-uid-base=${bad}`]);
      expect(await run.exited).toBe(2);
      expect(run.stderr()).toMatch(/--host-uid-base must be a whole number from 65536/);
    }
    const help = runCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/--host-uid-base <uid>/);
  });

  it("turns disk quotas off with --no-disk-quota, and says so", async () => {
    const data = await tempDir();
    const run = await startCli(data, {}, ["--no-disk-quota"]);
    expect(run.stderr()).toMatch(/disk quotas are off by configuration/);
    const key = keyLine.exec(run.stdout())?.[1];
    const lumina = createClient({ baseUrl: run.url, token: key!, sandbox: "plain", retry: false });
    await lumina.createSandbox();
    const [id] = await readdir(join(data, "sandboxes"));
    expect(await isMountPoint(join(data, "sandboxes", id!, "home"))).toBe(false);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });

  it("caps each user's snapshots at --max-snapshots, refuses a bad value, and explains it in --help", async () => {
    const data = await tempDir();
    const run = await startCli(data, {}, ["--isolation", "none", "--max-snapshots", "1"]);
    const key = keyLine.exec(run.stdout())?.[1];
    const lumina = createClient({ baseUrl: run.url, token: key!, sandbox: "snaps", retry: false });
    await lumina.createSandbox({ eager: false });
    await lumina.snapshot();
    const refused = await lumina.snapshot().catch((error: unknown) => error);
    expect(refused).toMatchObject({ statusCode: 409, code: "conflict" });
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);

    const bad = runCli(["--port", "0", "--data", await tempDir(), "--max-snapshots=lots"]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--max-snapshots must be a whole number/);
    const help = runCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/--max-snapshots <n>/);
  });

  it("builds preview URLs on --preview-domain, refuses a name that is not one, and explains it", async () => {
    const run = await startCli(await tempDir(), {}, [
      "--isolation",
      "none",
      "--preview-domain",
      "Preview.Test",
    ]);
    const key = keyLine.exec(run.stdout())?.[1];
    const lumina = createClient({ baseUrl: run.url, token: key!, sandbox: "pv", retry: false });
    await lumina.createSandbox({ eager: false });
    const { url } = await lumina.exposePort(3000);
    expect(url).toMatch(
      new RegExp(`^http://3000-[0-9a-f]{40}\\.preview\\.test:${new URL(run.url).port}/$`),
    );
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    for (const bad of ["a..b", "x_y.test", "x.test/"]) {
      const refused = runCli(["--port", "0", "--data", await tempDir(), `--preview-domain=${bad}`]);
      expect(await refused.exited).toBe(2);
      expect(refused.stderr()).toContain("--preview-domain must be a host name");
    }
    const help = runCli(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/--preview-domain <name>/);
  });

  it("refuses unknown options with a usage line", async () => {
    const run = runCli(["--port", "0", "--bogus"]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain("usage:");
  });
});

/** Pids of processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(text)) found.push(Number(entry));
  }
  return found;
}
