/**
 * PDF text per page, extracted on the server (unpdf): the agent only ships the bytes. Parsing
 * runs in a child process (pdf-worker.mjs) with a memory cap, a time limit and a small
 * concurrency limit, so a PDF bomb (a tiny stream inflating to gigabytes) can neither stall the
 * server's event loop nor exhaust its memory. A worker thread would not do: its `resourceLimits`
 * bound the JS heap only, not the ArrayBuffers that pdf.js inflates streams into.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AgentError } from "../agent/failure.ts";

/** The parser's data segment limit (heap, ArrayBuffers, everything), in MiB. */
const memoryLimitMb = 512;
/** How long a parse may take, in ms. */
const timeLimitMs = 20_000;
/** The largest JSON answer the parser may send, in bytes. */
const maxAnswerBytes = 64 * 1024 * 1024;
/** Parses running at once; more wait (each may use `memoryLimitMb`). */
const maxParallel = 2;

const workerPath = fileURLToPath(new URL("./pdf-worker.mjs", import.meta.url));

let running = 0;
const waiting: (() => void)[] = [];
async function slot(): Promise<() => void> {
  if (running >= maxParallel) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

type WorkerAnswer = { pages: string[] } | { error: string } | { tooLarge: string };

/** Runs the parser on `bytes`; undefined when it ran out of memory or time. */
function runWorker(bytes: Buffer): Promise<WorkerAnswer | undefined> {
  return new Promise((resolve) => {
    // `ulimit -d` caps every private writable mapping (Linux ≥ 4.7), ArrayBuffers included.
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        `ulimit -d ${memoryLimitMb * 1024} && exec "$0" "$@"`,
        process.execPath,
        `--max-old-space-size=${memoryLimitMb / 2}`,
        workerPath,
      ],
      { stdio: ["pipe", "pipe", "ignore"], env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), timeLimitMs);
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxAnswerBytes) child.kill("SIGKILL");
      else chunks.push(chunk);
    });
    child.stdin.on("error", () => {}); // The parser may die before reading everything.
    child.stdin.end(bytes);
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0 || size > maxAnswerBytes) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as WorkerAnswer);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** The text of each page of a PDF. Throws `unsupported_file` when it cannot be parsed. */
export async function pdfPages(
  bytes: Buffer,
  path: string,
): Promise<{ page_number: number; text: string }[]> {
  const release = await slot();
  const answer = await runWorker(bytes).finally(release);
  if (!answer || "tooLarge" in answer) {
    throw new AgentError(
      "unsupported_file",
      `${path} is a PDF too large or complex to extract text from (over ${memoryLimitMb} MiB of memory or ${timeLimitMs / 1000} s); extract it with the shell instead (e.g. pdftotext)`,
    );
  }
  if ("error" in answer) {
    throw new AgentError(
      "unsupported_file",
      `${path} looks like a PDF but could not be parsed: ${answer.error}`,
    );
  }
  return answer.pages.map((text, index) => ({ page_number: index + 1, text }));
}
