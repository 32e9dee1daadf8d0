/**
 * Snapshots and forks (CONTRACT §12) through the whole stack, with bubblewrap: the time of
 * `snapshot()`, of `forkSandbox()` → the fork's first bash result, and of `createSandbox({
 * fromSnapshot })` → first bash, for homes holding 10 MiB and 1 GiB of incompressible data, with
 * disk-image homes and with plain-directory homes (`--no-disk-quota`). Bounded: a few samples
 * each, every sandbox and snapshot deleted after. Run with `npx tsx bench/snapshots.ts`.
 */
import { createClient, type LuminaClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

const sizes = [
  { label: "10 MiB", mib: 10, samples: 5 },
  { label: "1 GiB", mib: 1024, samples: 2 },
];

async function timed(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return performance.now() - started;
}

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[samples.length >> 1]!;
const format = (samples: number[]) =>
  `median ${median(samples).toFixed(0)} ms (of ${samples.map((ms) => ms.toFixed(0)).join(", ")})`;

for (const diskQuota of [true, false]) {
  const server = await startTestServer({
    diskQuota,
    limits: { diskSize: 2 * 1024 ** 3, maxFileSize: 2 * 1024 ** 3 },
  });
  const client = (sandbox = randomSandboxName("bench")): LuminaClient =>
    createClient({ baseUrl: server.url, token: server.token, sandbox });
  console.log(
    diskQuota
      ? "disk-image homes (ext4 image, sparse copy)"
      : "plain-directory homes (--no-disk-quota)",
  );
  try {
    for (const { label, mib, samples } of sizes) {
      const source = client();
      await source.createSandbox();
      await source.bash(`head -c ${mib}M /dev/urandom > ~/data.bin`, { timeout: 600_000 });
      const snapshotTimes: number[] = [];
      const forkTimes: number[] = [];
      const restoreTimes: number[] = [];
      let size = 0;
      for (let i = 0; i < samples; i++) {
        let id = "";
        snapshotTimes.push(
          await timed(async () => {
            const taken = await source.snapshot();
            id = taken.id;
            size = taken.sizeBytes;
          }),
        );
        const fork = client();
        forkTimes.push(
          await timed(async () => {
            await source.forkSandbox(fork.sandbox);
            await fork.bash("true");
          }),
        );
        const restored = client();
        restoreTimes.push(
          await timed(async () => {
            await restored.createSandbox({ fromSnapshot: id });
            await restored.bash("true");
          }),
        );
        await fork.destroySandbox();
        await restored.destroySandbox();
        await source.deleteSnapshot(id);
      }
      await source.destroySandbox();
      console.log(`  home of ${label} (snapshot ${(size / 1024 ** 2).toFixed(0)} MiB on disk):`);
      console.log(`    snapshot()                          ${format(snapshotTimes)}`);
      console.log(`    forkSandbox() → first bash          ${format(forkTimes)}`);
      console.log(`    createSandbox({ fromSnapshot }) → first bash ${format(restoreTimes)}`);
    }
  } finally {
    await server.close();
  }
}
