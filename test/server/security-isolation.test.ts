/**
 * SECURITY.md, processes: no server secret is visible inside a sandbox, sandboxed processes run
 * as a dedicated unprivileged host uid (so their files are not root's), and only stdio is
 * inherited.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

const fakeKeys = `admin:${"ab".repeat(32)}`;
const fakeJwtSecret = "jwt-secret-that-must-not-leak-0123456789";
let lumina: LuminaClient;
let saved: { LUMINA_API_KEYS?: string | undefined; LUMINA_JWT_SECRET?: string | undefined };

// Registered before the server's hooks: set before it starts, restored after it closes.
beforeAll(() => {
  const { LUMINA_API_KEYS, LUMINA_JWT_SECRET } = process.env;
  saved = { LUMINA_API_KEYS, LUMINA_JWT_SECRET };
  // Set in the server process's own environment: the sandbox must not inherit any of it.
  Object.assign(process.env, { LUMINA_API_KEYS: fakeKeys, LUMINA_JWT_SECRET: fakeJwtSecret });
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved ?? {})) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
const server = useTestServer({}, async (started) => {
  lumina = await newSandboxClient(started);
});

/** The host pids of a sandbox: its memory cgroup lists every process in it. */
async function sandboxPids(): Promise<number[]> {
  const id = basename(dirname(await hostHomeOf(server(), lumina)));
  const procs = await readFile(`/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`, "utf8");
  return procs.split("\n").filter(Boolean).map(Number);
}

describe("secrets", () => {
  it("no server secret, key or data path shows in /proc/1/environ, /proc/self/environ or env", async () => {
    const { output } = await lumina.bash(
      "tr '\\0' '\\n' < /proc/1/environ; echo ---; tr '\\0' '\\n' < /proc/self/environ; echo ---; env; echo ---; for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done",
    );
    expect(output).toContain("HOME=/home/user");
    // The shell engine's own LUMINA_SESSION / LUMINA_JOB markers are fine; nothing of the server is.
    expect(output).not.toMatch(/LUMINA_(API|JWT|DATA|TOKEN|KEY|SECRET)/);
    for (const needle of [fakeJwtSecret, "ab".repeat(32), server().token, server().dataDir]) {
      expect(output).not.toContain(needle);
    }
  });

  it("no process's command line or environment inside shows the data path or the storage id", async () => {
    const id = basename(dirname(await hostHomeOf(server(), lumina)));
    const { output } = await lumina.bash(
      "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; tr '\\0' '\\n' < $p/environ; done 2>/dev/null; echo ---; tr '\\0' ' ' < /proc/1/cmdline",
    );
    // bwrap reads its options from a pipe: pid 1 (bwrap itself) shows only the command.
    expect(output.split("---\n")[1]).toMatch(
      /^\S*bwrap --args 3 -- \S+ \/opt\/lumina\/agent\.mjs\s*$/,
    );
    for (const needle of [server().dataDir, id, "sandboxes/"]) expect(output).not.toContain(needle);
  });

  it("bwrap's args pipe (fd 3, a socket) reaches neither bwrap's init nor the agent", async () => {
    const { output } = await lumina.bash(
      "for p in /proc/[0-9]*; do case $(tr '\\0' ' ' < $p/cmdline) in *bwrap*|*agent.mjs*) for f in $p/fd/*; do echo \"$f $(readlink $f)\"; done;; esac; done 2>/dev/null",
    );
    const sockets = output.split("\n").filter((line) => line.includes(" socket:"));
    // Inherited, the pipe would hold fd 3 (Node opens its own descriptors at the lowest free number).
    expect(output).toMatch(/^\/proc\/\d+\/fd\/3 /m);
    expect(output).not.toMatch(/^\/proc\/\d+\/fd\/3 socket:/m);
    expect(sockets.filter((line) => line.startsWith("/proc/1/")).length).toBe(2);
  });

  it("mountinfo shows no data path but the home bind's own root (see docs/security.md)", async () => {
    const home = await hostHomeOf(server(), lumina);
    const { output } = await lumina.bash("cat /proc/self/mountinfo");
    const leaking = output.split("\n").filter((line) => line.includes(server().dataDir));
    // The kernel shows a bind mount's source path; only the /home/user mount may carry it.
    for (const line of leaking) expect(line.split(" ").slice(3, 5)).toEqual([home, "/home/user"]);
  });

  it("no sandbox process holds a descriptor of a host file (only stdio, pipes and its own)", async () => {
    const { output } = await lumina.bash(
      "for p in /proc/[0-9]*; do for f in $p/fd/*; do readlink $f; done; done 2>/dev/null | sort -u",
    );
    const targets = output.split("\n").filter(Boolean);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target).toMatch(/^(socket:|pipe:|anon_inode:|\/dev\/|\/proc\/|\/home\/user|\/tmp\/)/);
      expect(target).not.toContain(server().dataDir);
    }
  });
});

describe("users and ownership", () => {
  it("runs every sandbox process as a non-root host uid with no capabilities", async () => {
    const pids = await sandboxPids();
    expect(pids.length).toBeGreaterThan(1);
    for (const pid of pids) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      if (!status) continue; // Exited meanwhile.
      const uids = status
        .match(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m)!
        .slice(1)
        .map(Number);
      expect(uids.every((uid) => uid >= 1000 && uid !== 0)).toBe(true);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
    }
    expect((await lumina.bash("id -u; id -un")).output).toBe("1000\nuser\n");
  });

  it("files a sandbox creates are owned by its dedicated host uid, not root", async () => {
    await lumina.write("/home/user/by-tool.txt", "x");
    await lumina.bash("echo y > /home/user/by-shell.txt");
    const home = await hostHomeOf(server(), lumina);
    const storage = await stat(dirname(home));
    expect(storage.uid).toBeGreaterThan(0);
    expect(storage.mode & 0o777).toBe(0o700);
    for (const name of ["by-tool.txt", "by-shell.txt"]) {
      const info = await stat(join(home, name));
      expect(info.uid).toBe(storage.uid);
      expect(info.uid).not.toBe(0);
    }
  });

  it("system directories are read-only and /etc is the generated one", async () => {
    const { output } = await lumina.bash(
      "touch /usr/x 2>&1; touch /etc/x 2>&1; cat /etc/passwd | cut -d: -f1 | tr '\\n' ' '; test -e /etc/shadow && echo HAS-SHADOW",
    );
    expect(output).toMatch(/Read-only file system/);
    expect(output).toContain("root user nobody");
    expect(output).not.toContain("HAS-SHADOW");
  });

  it("limits apply: processes and file size per sandbox, memory by cgroup", async () => {
    const { output } = await lumina.bash(
      "ulimit -u; ulimit -f; cat /proc/self/cgroup | grep memory",
    );
    const [processes, fileBlocks, cgroup] = output.trim().split("\n");
    expect(Number(processes)).toBeGreaterThan(0);
    expect(fileBlocks).not.toBe("unlimited");
    expect(cgroup).toBeDefined();
    const id = basename(dirname(await hostHomeOf(server(), lumina)));
    const limit = Number(
      await readFile(`/sys/fs/cgroup/memory/lumina/${id}/memory.limit_in_bytes`, "utf8"),
    );
    expect(limit).toBeLessThan(64 * 1024 ** 3);
  });
});
