/**
 * CONTRACT §11 throughput and memory: a 1 GiB upload and download through the real server (its
 * own process) next to `cat` of the same size on the host, the peak resident memory of the
 * server, the agent and the SDK during it, and the time to upload and extract a tar of npm's
 * own sources (thousands of small files) next to `tar -x` on the host.
 * Run with `npx tsx bench/file-transfer.ts [MiB]` (default 1024).
 */
import { execFileSync, execSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../src/index.ts";
import { randomSandboxName, startTestServer } from "../test/support/server.ts";
import { measureTransfer } from "../test/support/transfer-memory.ts";

const mebibytes = Number(process.argv[2] ?? 1024);
const bytes = mebibytes * 1024 * 1024;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const seconds = (task: () => void): number => {
  const started = performance.now();
  task();
  return (performance.now() - started) / 1000;
};

const work = await mkdtemp(join(tmpdir(), "lumina-bench-files-"));
try {
  // The floor: the same bytes through `cat` on the host, read (to /dev/null) and written (fsynced).
  const source = join(work, "source.bin");
  execSync(`head -c ${bytes} /dev/urandom > ${source}`);
  const catRead = seconds(() => execSync(`cat ${source} > /dev/null`));
  const catWrite = seconds(() =>
    execSync(`cat ${source} > ${join(work, "copy.bin")} && sync ${join(work, "copy.bin")}`),
  );
  await rm(join(work, "copy.bin"));

  const run = await measureTransfer(bytes);
  console.log(`${mebibytes} MiB, MiB/s:`);
  console.log(
    `  upload (SDK → server → agent, fsynced)  ${(mebibytes / run.uploadSeconds).toFixed(0)}`,
  );
  console.log(
    `  download (agent → server → SDK)         ${(mebibytes / run.downloadSeconds).toFixed(0)}`,
  );
  console.log(`  cat file > new file + sync (host)       ${(mebibytes / catWrite).toFixed(0)}`);
  console.log(`  cat file > /dev/null (host)             ${(mebibytes / catRead).toFixed(0)}`);
  console.log("peak RSS during the run / growth during upload / during download:");
  for (const key of ["server", "agent", "sdk"] as const) {
    console.log(
      `  ${key.padEnd(7)} ${mib(run.peak[key])} / +${mib(run.upload[key])} / +${mib(run.download[key])}`,
    );
  }

  // Thousands of small files: a tar of npm's own sources.
  const npmRoot = execSync("npm root -g").toString().trim();
  const archive = join(work, "npm.tar");
  execFileSync("tar", ["-c", "-f", archive, "-C", npmRoot, "npm"]);
  const entries = execFileSync("tar", ["-t", "-f", archive])
    .toString()
    .split("\n")
    .filter(Boolean).length;
  const hostDir = join(work, "extracted");
  execFileSync("mkdir", [hostDir]);
  const hostSeconds = seconds(() => execFileSync("tar", ["-x", "-f", archive, "-C", hostDir]));
  const server = await startTestServer();
  try {
    const lumina = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: randomSandboxName("bench"),
    });
    await lumina.createSandbox({ eager: true });
    const { openAsBlob } = await import("node:fs");
    const started = performance.now();
    const result = await lumina.uploadArchive("/home/user/npm", await openAsBlob(archive));
    const lumaSeconds = (performance.now() - started) / 1000;
    console.log(
      `npm's sources (${entries} entries, ${mib(result.bytes)} in ${result.files} files):`,
    );
    console.log(`  uploadArchive (spool, check, extract, move)  ${lumaSeconds.toFixed(2)} s`);
    console.log(`  tar -x on the host                           ${hostSeconds.toFixed(2)} s`);
    await lumina.destroySandbox();
  } finally {
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
