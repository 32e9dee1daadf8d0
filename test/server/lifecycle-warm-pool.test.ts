/**
 * The warm pool (CONTRACT §12) on the real server: an eager create takes a prepared environment,
 * and a pooled environment carries no file, process or environment variable of an earlier
 * sandbox, also when it runs as a host uid an earlier sandbox held (three uids in all force it).
 */
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLuminaServer } from "../../server/index.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf } from "./sandbox-helpers.ts";

const server = useTestServer({ warmPool: 2, hostUidCount: 3 });

const storageIds = () => readdirSync(join(server().dataDir, "sandboxes")).sort();
const uidOf = (home: string) => statSync(join(home, "..")).uid;

async function pooledSandbox(): Promise<{ client: LuminaClient; home: string }> {
  await server().warmPoolFilled();
  const prepared = storageIds();
  expect(prepared).toHaveLength(2);
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("warm"),
  });
  await client.createSandbox({ eager: true });
  const home = await hostHomeOf(server(), client);
  // Its storage is one of the environments prepared before the create.
  expect(prepared).toContain(home.split("/").at(-2));
  return { client, home };
}

describe("warm pool", () => {
  it("hands out fresh environments: nothing of an earlier sandbox, even on its uid", async () => {
    const first = await pooledSandbox();
    await first.client.write("/home/user/secret.txt", "first's\n");
    await first.client.bash(
      "echo first > /tmp/secret; echo first > /dev/shm/secret; export LEAKED=first; (setsid sleep 777 >/dev/null 2>&1 &)",
    );
    await first.client.bash("sleep 778", { runInBackground: true });
    const firstUid = uidOf(first.home);
    await first.client.destroySandbox();
    const uids: number[] = [];
    for (let round = 0; round < 3; round++) {
      const { client, home } = await pooledSandbox();
      uids.push(uidOf(home));
      try {
        const look = await client.bash(
          "ls -A /home/user; ls -A /tmp /dev/shm | grep -c secret; printenv LEAKED || echo env=none; pgrep -c -f 'sleep 77' || true; id -u",
        );
        expect(look.output).toBe("0\nenv=none\n0\n1000\n");
      } finally {
        await client.destroySandbox();
      }
    }
    // The earlier sandbox's uid came back through the pool.
    expect(uids).toContain(firstUid);
  });

  it("the first call runs in the shell prepared for it, with its session's transcript", async () => {
    const { client } = await pooledSandbox();
    try {
      expect((await client.bash("export SEEN=1; echo first")).output).toBe("first\n");
      expect((await client.bash("echo $SEEN; echo $LUMINA_SESSION | wc -c")).output).toMatch(
        /^1\n\d+\n$/,
      );
      const log = await client.bash(`cat /tmp/lumina-sessions/${client.toolSessionId}.log`);
      expect(log.output).toContain("$ export SEEN=1; echo first\nfirst\n");
    } finally {
      await client.destroySandbox();
    }
  });

  it("removes its environments when the server stops, and a restart finds none left", async () => {
    await server().warmPoolFilled();
    const before = storageIds();
    expect(before).toHaveLength(2);
    await server().restart();
    await server().warmPoolFilled();
    const after = storageIds();
    expect(after).toHaveLength(2);
    for (const id of before) expect(after).not.toContain(id);
    // On its own, a close leaves no environment behind.
    const dataDir = await mkdtemp(join(tmpdir(), "lumina-test-"));
    try {
      const own = await createLuminaServer({
        dataDir,
        port: 0,
        log: () => {},
        warmPool: 1,
        warmPoolLoadLimit: Number.POSITIVE_INFINITY,
      });
      await own.warmPoolFilled();
      expect(readdirSync(join(dataDir, "sandboxes"))).toHaveLength(1);
      await own.close();
      expect(readdirSync(join(dataDir, "sandboxes"))).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("a create with resources of its own does not take a prepared environment", async () => {
    await server().warmPoolFilled();
    const prepared = storageIds();
    const client = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: randomSandboxName("warm"),
    });
    await client.createSandbox({ resources: { memoryMb: 256 } });
    expect(prepared).not.toContain((await hostHomeOf(server(), client)).split("/").at(-2));
    await client.destroySandbox();
  });
});
