/**
 * A command started with `run_in_background`: its own session, process group and job cgroup
 * (job-group.ts), its output drained into a bounded buffer, read by byte cursor with optional
 * line filter and long-poll.
 */

import { type ChildProcess, spawn } from "node:child_process";
import type { BackgroundStatus } from "../../shared/shell-protocol.ts";
import { JobGroup } from "./job-group.ts";
import { OutputBuffer, wholeCharacterLength } from "./output-buffer.ts";
import { signalNumber } from "./persistent-shell.ts";
import { killProcessTree } from "./process-tree.ts";

/** One answer of `bash_output`. */
export interface BackgroundRead {
  output: string;
  status: BackgroundStatus;
  exitCode: number | null;
  cursor: number;
}

/** How much output a background command keeps (the oldest is dropped first). */
export const backgroundBufferBytes = 1024 * 1024;

// dash (no startup files, no imported functions) joins the job group, then becomes the same
// bash as without one, so the command cannot fork before it is in the group.
const enterGroup = 'echo $$ > "$1"; exec /bin/bash --noprofile --norc -c "$2"';

export class BackgroundCommand {
  private readonly child: ChildProcess;
  private readonly group: JobGroup | undefined;
  private readonly buffer = new OutputBuffer(backgroundBufferBytes);
  private state: BackgroundStatus = "running";
  private code: number | null = null;
  private killRequested = false;
  private waiters = new Set<() => void>();
  /** Where the owning session's next read without a cursor starts. */
  position = 0;
  readonly ended: Promise<void>;
  /** Settles once the process runs, or rejects with the spawn error (e.g. EAGAIN at the process limit). */
  readonly spawned: Promise<void>;

  constructor(
    readonly id: string,
    command: string,
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ) {
    const script = `exec 2>&1\n${command}`;
    this.group = JobGroup.claim();
    const [file, args]: [string, string[]] = this.group
      ? ["/bin/sh", ["-c", enterGroup, "lumina-job", this.group.procsFile, script]]
      : ["/bin/bash", ["--noprofile", "--norc", "-c", script]];
    this.child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...options.env, LUMINA_JOB: id },
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    });
    this.spawned = new Promise((resolve, reject) => {
      this.child.once("spawn", resolve);
      this.child.once("error", (error) => {
        if (this.child.pid === undefined) reject(error);
      });
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      // Output after the end (from orphans still holding the pipe) is drained and dropped.
      if (this.state !== "running") return;
      this.buffer.append(chunk);
      this.wake();
    });
    this.ended = new Promise((resolve) => {
      const finish = (exitCode: number) => {
        if (this.state !== "running") return;
        this.code = exitCode;
        this.state = this.killRequested ? "killed" : exitCode === 0 ? "completed" : "failed";
        this.wake();
        resolve();
      };
      this.child.on("error", () => {
        if (this.child.pid === undefined) this.group?.release(); // Never started: nothing in it.
        finish(127);
      });
      this.child.on("exit", (code, signal) => {
        const exitCode = code ?? 128 + signalNumber(signal);
        this.group?.release(); // Kept (for kill) while children it left still run.
        // Let the pipe drain; orphans may hold it open, so EOF is not awaited for long.
        const timer = setTimeout(() => finish(exitCode), 100);
        if (this.child.stdout?.readableEnded) finish(exitCode);
        else {
          this.child.stdout?.once("end", () => {
            clearTimeout(timer);
            finish(exitCode);
          });
        }
      });
    });
  }

  get status(): BackgroundStatus {
    return this.state;
  }

  /** The length of the whole output stream so far, in bytes (the largest valid cursor). */
  get outputLength(): number {
    return this.buffer.end;
  }

  /** Kills the command and everything it started; resolves once it has ended. */
  async kill(): Promise<void> {
    if (this.state === "running") this.killRequested = true;
    // Even after the main process ended, detached children may remain: they go too.
    await this.group?.destroy();
    await killProcessTree({
      markers: [`LUMINA_JOB=${this.id}`],
      ...(this.child.pid && this.state === "running" ? { roots: [this.child.pid] } : {}),
    });
    await this.ended;
  }

  /** Reads output from `cursor` (or the session's position), waiting up to `waitMs` for some. */
  async read(
    options: { cursor?: number | undefined; filter?: string | undefined; waitMs: number },
    signal: AbortSignal,
  ): Promise<BackgroundRead> {
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      const answer = this.readNow(options.cursor ?? this.position, options.filter);
      const remaining = deadline - Date.now();
      if (answer.output !== "" || answer.status !== "running" || remaining <= 0 || signal.aborted) {
        this.position = answer.cursor;
        return answer;
      }
      await this.changed(remaining, signal);
    }
  }

  private readNow(from: number, filter: string | undefined): BackgroundRead {
    const running = this.state === "running";
    const dropped = from < this.buffer.start ? this.buffer.start - from : 0;
    const begin = from + dropped;
    let bytes = this.buffer.from(begin);
    // While running, hold back a split character (and, filtering, a partial line).
    if (running) bytes = bytes.subarray(0, wholeCharacterLength(bytes));
    if (running && filter !== undefined) bytes = bytes.subarray(0, bytes.lastIndexOf(10) + 1);
    let text = bytes.toString("utf8");
    if (filter !== undefined) {
      text = (text.match(/[^\n]*(?:\n|$)/g) ?? []).filter((line) => line.includes(filter)).join("");
    }
    const marker =
      dropped > 0
        ? `[… ${dropped} bytes of earlier output were dropped: only the newest ${backgroundBufferBytes} bytes are kept …]\n`
        : "";
    return {
      output: marker + text,
      status: this.state,
      exitCode: running ? null : this.code,
      cursor: begin + bytes.length,
    };
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  private changed(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }
}
