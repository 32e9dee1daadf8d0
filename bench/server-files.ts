/**
 * File-tool latency through the SDK over loopback, against the real server and a bubblewrap
 * sandbox: read of a 4 KiB file, write, edit, and grep over a tree of ~10,000 files next to
 * `rg` run directly on the same host tree. Run: `npx tsx bench/server-files.ts`.
 * Targets (issue 3): read p50 ≤ 2 ms; grep ≤ 1.2× raw rg.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";

// Every core, like the raw rg it is compared with: the default limit leaves one core to the
// server, which on a small machine halves ripgrep's parallelism rather than measuring the tool.
const cores = availableParallelism();
const server = await startTestServer({ limits: { maxCpus: cores } });
console.log(
  `sandbox CPU limit for this run: ${cores} cores (the default is ${Math.max(1, cores - 1)})`,
);
const lumina = createClient({
  baseUrl: server.url,
  token: server.token,
  sandbox: randomSandboxName("bench"),
});
await lumina.createSandbox({ eager: true });

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(runs: number, run: (i: number) => unknown): Promise<number[]> {
  // Warm up to a steady state (the JIT, the agent's caches), as a long-running server is: up to
  // 300 runs or one second, whichever ends first.
  const warmUntil = performance.now() + 1_000;
  for (let i = 0; i < 300 && performance.now() < warmUntil; i++) await run(i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

const rows: [string, number[]][] = [];
const fourKiB = `${"x".repeat(63)}\n`.repeat(64);
await lumina.write("/home/user/bench/4k.txt", fourKiB);
rows.push(["read 4 KiB", await measure(2000, () => lumina.read("/home/user/bench/4k.txt"))]);
await lumina.read("/home/user/bench/4k.txt");
rows.push([
  "write 4 KiB",
  await measure(300, (i) => lumina.write("/home/user/bench/4k.txt", `${i}\n${fourKiB}`)),
]);
await lumina.write("/home/user/bench/edit.txt", "alpha\nbeta\n");
await lumina.read("/home/user/bench/edit.txt");
rows.push([
  "edit",
  await measure(300, (i) =>
    lumina.edit("/home/user/bench/edit.txt", i % 2 ? "gamma" : "alpha", i % 2 ? "alpha" : "gamma"),
  ),
]);

// A tree of ~10,000 real source files: copies of installed packages, put in the sandbox's home.
const marker = `.bench-${Date.now()}`;
await lumina.write(`/home/user/${marker}`, "");
const sandboxes = join(server.dataDir, "sandboxes");
const home = readdirSync(sandboxes)
  .map((id) => join(sandboxes, id, "home"))
  .find((dir) => statSync(join(dir, marker), { throwIfNoEntry: false }));
if (!home) throw new Error("sandbox home not found");
const tree = join(home, "tree");
let files = 0;
for (const pkg of readdirSync("node_modules")) {
  if (files >= 10_000 || pkg.startsWith(".")) continue;
  const source = join("node_modules", pkg);
  const count = Number(execFileSync("sh", ["-c", `find '${source}' -type f | wc -l`]).toString());
  if (count > 3000 || files + count > 10_500) continue;
  cpSync(source, join(tree, pkg), { recursive: true, dereference: false });
  files += count;
}
const owner = statSync(home);
execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, tree]);

const pattern = "function\\s+\\w+Error";
const rgArgs = [
  "--no-config",
  "--hidden",
  "--no-messages",
  "--glob=!.git",
  "--files-with-matches",
  "--null",
  `--regexp=${pattern}`,
  "--",
  "./",
];
rows.push(["rg direct (host)", await measure(30, () => spawnSync("rg", rgArgs, { cwd: tree }))]);
rows.push([
  "grep files_with_matches",
  await measure(30, () => lumina.grep(pattern, { path: "/home/user/tree" })),
]);
rows.push([
  "grep content",
  await measure(30, () =>
    lumina.grep(pattern, { path: "/home/user/tree", outputMode: "content", lineNumbers: true }),
  ),
]);

console.log(
  `tree: ${files} files; ${(await lumina.grep(pattern, { path: "/home/user/tree" })).count} with matches`,
);
console.log("operation                 p50 ms   p99 ms");
for (const [name, samples] of rows) {
  console.log(
    `${name.padEnd(24)} ${percentile(samples, 50).toFixed(2).padStart(7)} ${percentile(samples, 99).toFixed(2).padStart(8)}`,
  );
}
const rg = percentile(rows.find(([name]) => name.startsWith("rg"))![1], 50);
const grep = percentile(rows.find(([name]) => name === "grep files_with_matches")![1], 50);
console.log(`grep / rg (p50): ${(grep / rg).toFixed(2)}×`);
await lumina.destroySandbox();
await server.close();
