/**
 * SECURITY.md, filesystem: symlinks and `..` inside a sandbox's home cannot reach the host, the
 * server's data, or another sandbox, through any file tool; a symlink swapped in mid-write
 * never produces a write outside the home.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let alice: LuminaClient;
let bob: LuminaClient;
let hostDir: string;
let bobHome: string;
const secret = `host-secret-${randomBytes(8).toString("hex")}`;

// Registered before the server's hooks, so it runs after the server has closed.
afterAll(async () => {
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
});
const server = useTestServer({}, async (started) => {
  alice = await newSandboxClient(started, started.token, "alice");
  bob = await newSandboxClient(started, started.token, "bob");
  hostDir = await mkdtemp(join(tmpdir(), "lumina-host-"));
  await writeFile(join(hostDir, "secret.txt"), `${secret}\n`);
  await bob.write("/home/user/bob-secret.txt", `${secret}\n`);
  bobHome = await hostHomeOf(started, bob);
  const links: [string, string][] = [
    ["to-environ", "/proc/self/environ"],
    ["to-host-file", join(hostDir, "secret.txt")],
    ["to-host-dir", hostDir],
    ["to-data", started.dataDir],
    ["to-bob", bobHome],
    ["to-bob-file", join(bobHome, "bob-secret.txt")],
  ];
  await alice.bash(
    links.map(([name, target]) => `ln -s '${target}' /home/user/${name}`).join(" && "),
  );
});

describe("symlinks out of the home reach nothing outside the sandbox", () => {
  it("read of a link to a host file, the data dir or another sandbox is not found", async () => {
    for (const name of ["to-host-file", "to-bob-file"]) {
      await expectToolError(alice.read(`/home/user/${name}`), 404, "not_found");
    }
    for (const name of ["to-host-dir", "to-data", "to-bob"]) {
      await expectToolError(alice.read(`/home/user/${name}/secret.txt`), 404, "not_found");
    }
  });

  it("/proc/self/environ through a link is the agent's own, holds no secret, and is refused as binary", async () => {
    await expectToolError(alice.read("/home/user/to-environ"), 400, "unsupported_file");
  });

  it("write and edit through such links never touch the host", async () => {
    await expectToolError(alice.write("/home/user/to-host-file", "pwned"), 404, "not_found");
    await alice.write("/home/user/to-host-dir/new.txt", "pwned").catch(() => {});
    await alice.write("/home/user/to-data/new.txt", "pwned").catch(() => {});
    await alice.write("/home/user/to-bob/new.txt", "pwned").catch(() => {});
    await expectToolError(alice.edit("/home/user/to-bob-file", secret, "pwned"), 404, "not_found");
    expect(await readFile(join(hostDir, "secret.txt"), "utf8")).toBe(`${secret}\n`);
    expect(existsSync(join(hostDir, "new.txt"))).toBe(false);
    expect(existsSync(join(server().dataDir, "new.txt"))).toBe(false);
    expect(existsSync(join(bobHome, "new.txt"))).toBe(false);
    expect(await readFile(join(bobHome, "bob-secret.txt"), "utf8")).toBe(`${secret}\n`);
  });

  it("glob and grep through such links find nothing of the host", async () => {
    for (const name of ["to-host-dir", "to-data", "to-bob"]) {
      await expectToolError(alice.glob("**", { path: `/home/user/${name}` }), 404, "not_found");
      await expectToolError(alice.grep(secret, { path: `/home/user/${name}` }), 404, "not_found");
    }
    expect((await alice.glob("**/secret*")).matches).toEqual([]);
    expect((await alice.grep(secret, { path: "/home/user" })).files).toEqual([]);
    expect((await alice.grep(secret, { path: "/tmp" })).files).toEqual([]);
    expect((await alice.grep(secret, { path: "/home" })).files).toEqual([]);
  });

  it("another sandbox's files are unreachable by any absolute path", async () => {
    await expectToolError(alice.read("/home/user/bob-secret.txt"), 404, "not_found");
    await expectToolError(alice.read(join(bobHome, "bob-secret.txt")), 404, "not_found");
    await expectToolError(alice.read(join(hostDir, "secret.txt")), 404, "not_found");
    const registry = (await readdir(server().dataDir))[0]!;
    await expectToolError(alice.read(join(server().dataDir, registry)), 404, "not_found");
    const { output } = await alice.bash(`ls ${server().dataDir} ${bobHome} 2>&1; ls /home`);
    expect(output).not.toContain("bob-secret");
    expect(output.trim().split("\n").at(-1)).toBe("user");
  });

  it("`..` segments are refused by every tool", async () => {
    await expectToolError(alice.read("/home/user/../../etc/passwd"), 400, "invalid_path");
    await expectToolError(alice.write("/home/user/../x", "x"), 400, "invalid_path");
    await expectToolError(alice.edit("/home/user/../x", "a", "b"), 400, "invalid_path");
    await expectToolError(alice.glob("*", { path: "/home/user/.." }), 400, "invalid_path");
    await expectToolError(alice.glob("../*", { path: "/home/user" }), 400, "invalid_request");
    await expectToolError(alice.grep("x", { path: "/home/../home/user" }), 400, "invalid_path");
  });
});

describe("a symlink swapped in between check and use", () => {
  it("never writes outside the home while a directory flips to a link to /", async () => {
    const name = `race-${randomBytes(6).toString("hex")}.txt`;
    await alice.bash("mkdir -p /home/user/race/d");
    const flipper = await alice.bash(
      "cd /home/user/race && while true; do mv d real && ln -s / d && rm d && mv real d; done",
      { runInBackground: true },
    );
    const writes = Array.from({ length: 150 }, () =>
      alice.write(`/home/user/race/d/${name}`, "race\n").catch(() => undefined),
    );
    await Promise.all(writes);
    await alice.killBash(flipper.shellId);
    // Host side: nothing at the host root, in the data dir outside the home, or in the host's /tmp.
    expect(existsSync(join("/", name))).toBe(false);
    expect(existsSync(join(tmpdir(), name))).toBe(false);
    const aliceHome = await hostHomeOf(server(), alice);
    const found: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.name === name) found.push(path);
        if (entry.isDirectory() && !entry.isSymbolicLink()) await walk(path);
      }
    };
    await walk(server().dataDir);
    for (const path of found) expect(path.startsWith(`${aliceHome}/`)).toBe(true);
  });
});
