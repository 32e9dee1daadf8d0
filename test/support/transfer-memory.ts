/**
 * Moves 1 GiB (or `bytes`) up and down through the real server in a process of its own, while
 * sampling the resident memory of the three processes on the way: the server, the sandbox's
 * agent and this one (the SDK). Shared by the memory test and bench/file-transfer.ts.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type LuminaClient } from "../../src/index.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The peak growth of each process's RSS over its level before the transfer, in bytes. */
export interface RssGrowth {
  server: number;
  agent: number;
  sdk: number;
}

/** What one run measured. */
export interface TransferRun {
  bytes: number;
  uploadSeconds: number;
  downloadSeconds: number;
  /** Growth during the upload and during the download. */
  upload: RssGrowth;
  download: RssGrowth;
  /** The peak RSS of each process during the whole run. */
  peak: RssGrowth;
}

/** The resident set of `pid` in bytes (0 once it is gone). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** The pid of the agent below `serverPid` (a process running the agent bundle). */
async function agentPid(serverPid: number): Promise<number> {
  const parentOf = new Map<number, number>();
  const agents: number[] = [];
  for (const name of await readdir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("/opt/lumina/agent.mjs") && !cmdline.includes("bwrap")) agents.push(pid);
  }
  const below = (pid: number): boolean => {
    for (let at = parentOf.get(pid); at && at > 1; at = parentOf.get(at))
      if (at === serverPid) return true;
    return false;
  };
  const found = agents.find(below);
  if (!found) throw new Error("the sandbox's agent process was not found below the server");
  return found;
}

/** Samples the peak RSS of each pid while `work` runs. */
async function sampled(
  pids: { server: number; agent: number },
  work: () => Promise<void>,
): Promise<{ before: RssGrowth; peak: RssGrowth }> {
  const now = async (): Promise<RssGrowth> => ({
    server: await rssOf(pids.server),
    agent: await rssOf(pids.agent),
    sdk: process.memoryUsage.rss(),
  });
  const before = await now();
  const peak = { ...before };
  let running = true;
  const sampler = (async () => {
    while (running) {
      const sample = await now();
      for (const key of ["server", "agent", "sdk"] as const)
        peak[key] = Math.max(peak[key], sample[key]);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return { before, peak };
}

const growth = (run: { before: RssGrowth; peak: RssGrowth }): RssGrowth => ({
  server: run.peak.server - run.before.server,
  agent: run.peak.agent - run.before.agent,
  sdk: run.peak.sdk - run.before.sdk,
});

/** Starts the server process, runs the upload and the download, and stops it again. */
export async function measureTransfer(bytes = 1024 ** 3): Promise<TransferRun> {
  const dataDir = await mkdtemp(join(tmpdir(), "lumina-transfer-"));
  const options = { dataDir, isolation: "bubblewrap", requestTimeoutMs: 3_600_000 };
  const child = spawn(process.execPath, ["--import", "tsx", "test/support/server-process.ts"], {
    cwd: root,
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: process.env["HOME"] ?? "/root",
      LUMINA_TEST_SERVER_OPTIONS: JSON.stringify(options),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let lumina: LuminaClient | undefined;
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
      });
      child.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
    });
    const { url, token, pid } = JSON.parse(first) as { url: string; token: string; pid: number };
    lumina = createClient({
      baseUrl: url,
      token,
      sandbox: `mem-${randomBytes(4).toString("hex")}`,
    });
    await lumina.createSandbox({ eager: true });
    // A small round trip first, so that code paths are warm before the baseline.
    await lumina.upload("/home/user/warm.bin", randomBytes(4 * 1024 * 1024));
    await lumina.download("/home/user/warm.bin");
    const pids = { server: pid, agent: await agentPid(pid) };
    const block = randomBytes(1024 * 1024);
    const client = lumina;
    let started = performance.now();
    const upload = await sampled(pids, async () => {
      let left = bytes;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (left <= 0) return controller.close();
          const piece = block.subarray(0, Math.min(left, block.length));
          left -= piece.length;
          controller.enqueue(piece);
        },
      });
      const { bytesWritten } = await client.upload("/home/user/big.bin", body);
      if (bytesWritten !== bytes) throw new Error(`uploaded ${bytesWritten} bytes, not ${bytes}`);
    });
    const uploadSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const download = await sampled(pids, async () => {
      let received = 0;
      for await (const chunk of await client.downloadStream("/home/user/big.bin"))
        received += chunk.length;
      if (received !== bytes) throw new Error(`downloaded ${received} bytes, not ${bytes}`);
    });
    const downloadSeconds = (performance.now() - started) / 1000;
    const peak = {
      server: Math.max(upload.peak.server, download.peak.server),
      agent: Math.max(upload.peak.agent, download.peak.agent),
      sdk: Math.max(upload.peak.sdk, download.peak.sdk),
    };
    await client.destroySandbox();
    return {
      bytes,
      uploadSeconds,
      downloadSeconds,
      upload: growth(upload),
      download: growth(download),
      peak,
    };
  } finally {
    await lumina?.close();
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((done) => child.once("exit", done));
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}
