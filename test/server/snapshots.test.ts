/**
 * Snapshots and forks (CONTRACT §12) end to end on the real server, with disk-image homes and
 * with plain-directory homes (`--no-disk-quota`): a snapshot is the home at one instant, restores
 * and forks start from it and then go their own way, and it belongs to its user alone.
 */
import { describe, expect, it } from "vitest";
import type { CgroupDriver } from "../../server/sandbox/cgroup.ts";
import { detectCgroupDriver } from "../../server/sandbox/cgroup-probe.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { until } from "../support/processes.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError } from "./sandbox-helpers.ts";

const lineBody = "x".repeat(80);
// Each line is one write() of the `echo` builtin; a snapshot must never hold half of one. Eight
// files in lockstep, among files that take a while to copy: a copy that is not of one instant
// finds them lines apart.
const logs = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `log${n}.txt`);
// Made in turns, so their inodes (the order cp copies in) interleave.
const padding = `for n in 1 2 3 4 5 6 7 8; do : > log$n.txt; head -c 8M /dev/urandom > pad$n.bin; done`;
const writer = `i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); for f in ${logs.join(" ")}; do echo "line $i ${lineBody}" >> $f; done; done`;

/** Every regular file of the home with its content digest, mode and owner (as seen inside). */
async function homeListing(lumina: LuminaClient): Promise<string> {
  const { output, exitCode } = await lumina.bash(
    "cd ~ && find . -path ./.lumina -prune -o -print0 | sort -z | xargs -0 stat -c '%n %a %u %s' && find . -type f -print0 | sort -z | xargs -0 sha256sum",
  );
  expect(exitCode).toBe(0);
  return output;
}

/** How many lines `file` has, checked inside (the bash output cap would cut a long `cat`). */
async function checkedLines(lumina: LuminaClient, file: string): Promise<number> {
  // Every line complete and in order from 1, no gap, and the file ends with its newline.
  const { output, exitCode } = await lumina.bash(
    `cd ~ && [ "$(tail -c 1 ${file} | od -An -tx1 | tr -d ' ')" = 0a ] || { echo "last line of ${file} cut"; exit 1; }
awk '$0 != "line " NR " ${lineBody}" { print "line " NR " is: " substr($0, 1, 120); bad = 1; exit } END { if (!bad) print NR }' ${file}`,
  );
  expect({ exitCode, output }).toMatchObject({
    exitCode: 0,
    output: expect.stringMatching(/^\d+\n$/),
  });
  return Number(output);
}

/** Snapshots a sandbox while a writer appends to eight files; checks the restored copy is of one instant. */
async function expectConsistentSnapshot(client: () => LuminaClient): Promise<void> {
  const source = client();
  await source.createSandbox();
  await source.bash(padding);
  const { shellId } = await source.bash(writer, { runInBackground: true });
  const lineCount = async () => Number((await source.bash("wc -l < ~/log8.txt")).output);
  await until(async () => (await lineCount()) > 1000, "the writer wrote 1000 lines");
  const snapshot = await source.snapshot({ label: "mid-write" });
  expect(snapshot).toMatchObject({ sandbox: source.sandbox, label: "mid-write" });
  expect(snapshot.sizeBytes).toBeGreaterThan(0);
  // Its processes were thawed: the writer is still running and still writing.
  const before = await lineCount();
  await until(async () => (await lineCount()) > before + 500, "the writer goes on");
  await source.killBash(shellId);

  const restored = client();
  await restored.createSandbox({ fromSnapshot: snapshot.id });
  const counts: number[] = [];
  for (const file of logs) counts.push(await checkedLines(restored, file));
  expect(counts[0]).toBeGreaterThan(1000);
  // One instant: the writer was somewhere in one round of its appends, at most a line apart.
  expect(Math.max(...counts) - Math.min(...counts), String(counts)).toBeLessThanOrEqual(1);
}

function clients(server: () => TestServer) {
  return (sandbox = randomSandboxName("snap"), token = server().token): LuminaClient =>
    createClient({ baseUrl: server().url, token, sandbox, retry: false });
}

describe.each([
  { homes: "disk-image homes", diskQuota: true },
  { homes: "plain-directory homes (--no-disk-quota)", diskQuota: false },
])("snapshots with $homes", ({ diskQuota }) => {
  // Small disks: each restore is admitted against the data disk like a new sandbox of that size.
  const server = useTestServer({
    diskQuota,
    maxSnapshotsPerUser: 3,
    limits: { diskSize: 256 * 1024 ** 2 },
  });
  const client = clients(server);

  it("holds a prefix of complete lines of a file appended to while it is taken; the writer goes on", () =>
    expectConsistentSnapshot(client));

  it("restores and forks into identical homes that then diverge independently", async () => {
    const source = client();
    await source.createSandbox();
    await source.bash(
      "mkdir -p ~/project/src && echo one > ~/project/a.txt && head -c 300000 /dev/urandom > ~/project/src/blob.bin && chmod 640 ~/project/a.txt && ln -s a.txt ~/project/link",
    );
    const snapshot = await source.snapshot();
    const restored = client();
    await restored.createSandbox({ fromSnapshot: snapshot.id });
    const fork = client();
    const forked = await source.forkSandbox(fork.sandbox);
    expect(forked).toMatchObject({ name: fork.sandbox, status: "running" });

    const listing = await homeListing(source);
    expect(listing).toContain("./project/src/blob.bin");
    expect(await homeListing(restored)).toBe(listing);
    expect(await homeListing(fork)).toBe(listing);

    // Each changes its own copy (the files are its own: writable, not the source's uid's).
    await source.bash("echo source >> ~/project/a.txt");
    await restored.bash("echo restored >> ~/project/a.txt && rm ~/project/src/blob.bin");
    await fork.bash("echo fork >> ~/project/a.txt && touch ~/project/new.txt");
    expect((await source.bash("cat ~/project/a.txt")).output).toBe("one\nsource\n");
    expect((await restored.bash("cat ~/project/a.txt")).output).toBe("one\nrestored\n");
    expect((await fork.bash("cat ~/project/a.txt")).output).toBe("one\nfork\n");
    expect((await source.bash("ls ~/project")).output).toBe("a.txt\nlink\nsrc\n");
    expect((await restored.bash("ls ~/project/src")).output).toBe("");
    expect((await fork.bash("ls ~/project")).output).toBe("a.txt\nlink\nnew.txt\nsrc\n");
    // The snapshot itself is unchanged by all of that.
    const again = client();
    await again.createSandbox({ fromSnapshot: snapshot.id, eager: false });
    expect((await again.bash("cat ~/project/a.txt")).output).toBe("one\n");
  });

  it("is another user's to neither see, restore nor delete (404)", async () => {
    const owner = client(randomSandboxName("snap"), server().addUser(`owner-${Date.now()}`));
    await owner.createSandbox();
    await owner.write("/home/user/secret.txt", "mine");
    const snapshot = await owner.snapshot();
    const stranger = client(randomSandboxName("snap"), server().addUser(`other-${Date.now()}`));
    expect(await stranger.listSnapshots()).toEqual([]);
    await expectToolError(stranger.getSnapshot(snapshot.id), 404, "not_found");
    await expectToolError(stranger.deleteSnapshot(snapshot.id), 404, "not_found");
    await expectToolError(stranger.createSandbox({ fromSnapshot: snapshot.id }), 404, "not_found");
    await expectToolError(stranger.getSandbox(), 404, "not_found");
    // Nor can it snapshot or fork the owner's sandbox.
    const intruder = client(owner.sandbox, server().addUser(`intruder-${Date.now()}`));
    await expectToolError(intruder.snapshot(), 404, "not_found");
    await expectToolError(intruder.forkSandbox(randomSandboxName("snap")), 404, "not_found");
    expect(await owner.getSnapshot(snapshot.id)).toEqual(snapshot);
  });

  it("survives the destroy of its sandbox and a restart of the server", async () => {
    const source = client();
    await source.createSandbox();
    await source.write("/home/user/kept.txt", "kept across a restart");
    const snapshot = await source.snapshot({ label: "before destroy" });
    await source.destroySandbox();
    await server().restart();
    const after = client(source.sandbox);
    expect(await after.getSnapshot(snapshot.id)).toEqual(snapshot);
    expect((await after.listSnapshots()).map((listed) => listed.id)).toContain(snapshot.id);
    await after.createSandbox({ fromSnapshot: snapshot.id });
    expect((await after.bash("cat ~/kept.txt")).output).toBe("kept across a restart");
  });

  it("refuses a snapshot past the per-user cap with a 409 that says what to do; forks do not count", async () => {
    const lumina = client(randomSandboxName("snap"), server().addUser(`capped-${Date.now()}`));
    await lumina.createSandbox();
    const taken = [await lumina.snapshot(), await lumina.snapshot(), await lumina.snapshot()];
    const message = await expectToolError(lumina.snapshot(), 409, "conflict");
    expect(message).toMatch(/3 snapshots.*delete one/);
    await lumina.forkSandbox(randomSandboxName("snap"), { eager: false });
    await lumina.deleteSnapshot(taken[0]!.id);
    await expectToolError(lumina.getSnapshot(taken[0]!.id), 404, "not_found");
    await lumina.snapshot();
    expect(await lumina.listSnapshots()).toHaveLength(3);
  });
});

/** This host's cgroup driver, with its groups' freezer taken away (a host without one). */
function withoutFreezer(): CgroupDriver {
  const host = detectCgroupDriver();
  return {
    version: host.version,
    missingLimits: () => host.missingLimits(),
    async create(id, limits, hostUid) {
      const { freeze: _, ...groups } = await host.create(id, limits, hostUid);
      return groups;
    },
  };
}

describe("snapshots on a host without a cgroup freezer", () => {
  const images = useTestServer({
    cgroups: withoutFreezer(),
    limits: { diskSize: 256 * 1024 ** 2 },
  });
  const plain = useTestServer({ cgroups: withoutFreezer(), diskQuota: false });

  it("freeze a disk-image home with fsfreeze instead: still one instant", () =>
    expectConsistentSnapshot(clients(images)));

  it("refuse a running plain-directory home with 503, which root could not copy safely", async () => {
    const lumina = clients(plain)();
    await lumina.createSandbox();
    const message = await expectToolError(lumina.snapshot(), 503, "unavailable");
    expect(message).toMatch(/no cgroup freezer/);
    expect(await lumina.listSnapshots()).toEqual([]);
  });
});

describe("snapshots beside a warm pool", () => {
  const server = useTestServer({ warmPool: 1, limits: { diskSize: 256 * 1024 ** 2 } });

  it("restore and fork into their own home, never a prepared environment's fresh one", async () => {
    const client = clients(server);
    const source = client();
    await source.createSandbox();
    await source.write("/home/user/state.txt", "prepared");
    const snapshot = await source.snapshot();
    await server().warmPoolFilled();
    const restored = client();
    await restored.createSandbox({ fromSnapshot: snapshot.id });
    expect((await restored.bash("cat ~/state.txt")).output).toBe("prepared");
    await server().warmPoolFilled();
    const fork = client();
    await source.forkSandbox(fork.sandbox);
    expect((await fork.bash("cat ~/state.txt")).output).toBe("prepared");
  });
});

describe("snapshot admission", () => {
  // With this ratio the data disk "holds" a few bytes, so nothing more fits.
  const server = useTestServer({ diskQuota: false, diskOvercommit: 1e-12 });

  it("refuses a snapshot the data disk cannot hold with 507 disk_full", async () => {
    const lumina = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: randomSandboxName("snap"),
      retry: false,
    });
    await lumina.createSandbox();
    await lumina.write("/home/user/file.txt", "some bytes");
    const message = await expectToolError(lumina.snapshot(), 507, "disk_full");
    expect(message).toMatch(/snapshot/);
    expect(await lumina.listSnapshots()).toEqual([]);
  });
});
