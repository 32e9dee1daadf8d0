/**
 * PDF text per page, extracted on the server (unpdf): the agent only ships the bytes. Parsing
 * runs in a child process (pdf-worker.mjs) with a memory cap, a time limit and a small
 * concurrency limit, so a PDF bomb (a tiny stream inflating to gigabytes) can neither stall the
 * server's event loop nor exhaust its memory. A worker thread would not do: its `resourceLimits`
 * bound the JS heap only, not the ArrayBuffers that pdf.js inflates streams into.
 *
 * The parsers are shared by every user, so they are served in turn per user (fair-queue.ts),
 * and they run as unprivileged uids of their own: a hostile PDF that broke pdf.js would find
 * itself without root, outside the data directory (0700, root's), with the PDF on its stdin.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ServerError } from "../errors.ts";
import { createFairQueue } from "./fair-queue.ts";

/** Parses running at once; more wait (each may use `memoryLimitMb`). */
const maxParallel = 2;

/**
 * The host uids (gid the same) the parsers run as when the server runs as root, one per parser
 * running at once so that parsers cannot reach each other's PDFs: no sandbox's (their uid blocks
 * start at 200000), no name in /etc/passwd, so they share nothing with any other process.
 */
export const pdfParserUids: readonly number[] = Array.from(
  { length: maxParallel },
  (_, index) => 199_999 - index,
);
const freeUids = [...pdfParserUids];

/** The parser's data segment limit (heap, ArrayBuffers, everything), in MiB. */
const memoryLimitMb = 512;
/** How long a parse may take, in ms. */
const timeLimitMs = 20_000;
/** The largest JSON answer the parser may send, in bytes. */
const maxAnswerBytes = 64 * 1024 * 1024;
/** PDFs one user may have parsing or waiting at once; past it, 429. */
const maxPerUser = 8;

const workerPath = fileURLToPath(new URL("./pdf-worker.mjs", import.meta.url));

/** The parsers of this process: one host's CPUs and memory, so one queue for every server. */
const parsers = createFairQueue({ slots: maxParallel, maxPerUser, what: "PDFs being parsed" });

/** PDF parses running and waiting in this process. */
export function pdfParserLoad(): { running: number; waiting: number } {
  return parsers.load();
}

/** Whether the server runs as root: one that is not cannot, and need not, switch uids. */
const isRoot = process.getuid?.() === 0;

type WorkerAnswer = { pages: string[] } | { error: string } | { tooLarge: string };

/** Runs the parser on `bytes`; undefined when it ran out of memory or time. */
function runWorker(bytes: Buffer, signal?: AbortSignal): Promise<WorkerAnswer | undefined> {
  return new Promise((resolve) => {
    // The fair queue runs at most `maxParallel` parsers, so a uid is always free here.
    const uid = freeUids.pop() ?? (pdfParserUids[0] as number);
    const identity = isRoot ? { uid, gid: uid } : {};
    let uidGiven = false;
    const giveUid = () => {
      if (uidGiven) return;
      uidGiven = true;
      freeUids.push(uid);
    };
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
      {
        stdio: ["pipe", "pipe", "ignore"],
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        // Not the server's working directory, which may be the data directory.
        cwd: "/",
        ...identity,
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), timeLimitMs);
    // A client that hung up no longer needs its parse: free the slot for the others.
    const onAbort = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", onAbort, { once: true });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxAnswerBytes) child.kill("SIGKILL");
      else chunks.push(chunk);
    });
    child.stdin.on("error", () => {}); // The parser may die before reading everything.
    child.stdin.end(bytes);
    child.on("error", () => {
      giveUid();
      resolve(undefined);
    });
    child.on("close", (code) => {
      giveUid();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (code !== 0 || size > maxAnswerBytes) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as WorkerAnswer);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/**
 * The text of each page of a PDF, parsed in `user`'s turn. Throws `unsupported_file` when it
 * cannot be parsed, `rate_limited` when the user has too many PDFs parsing or waiting.
 */
export async function pdfPages(
  bytes: Buffer,
  path: string,
  user: string,
  signal?: AbortSignal,
): Promise<{ page_number: number; text: string }[]> {
  const release = await parsers.acquire(user, signal);
  const answer = await runWorker(bytes, signal).finally(release);
  signal?.throwIfAborted();
  if (!answer || "tooLarge" in answer) {
    throw new ServerError(
      "unsupported_file",
      `${path} is a PDF too large or complex to extract text from (over ${memoryLimitMb} MiB of memory or ${timeLimitMs / 1000} s); extract it with the shell instead (e.g. pdftotext)`,
    );
  }
  if ("error" in answer) {
    throw new ServerError(
      "unsupported_file",
      `${path} looks like a PDF but could not be parsed: ${answer.error}`,
    );
  }
  return answer.pages.map((text, index) => ({ page_number: index + 1, text }));
}
