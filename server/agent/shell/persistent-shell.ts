/**
 * One long-lived `bash` per tool session. Each command is written to a file and `source`d by
 * the shell (so environment, directory, aliases and functions persist), with stdin from
 * /dev/null and stdout+stderr into the shell's output pipe between a start and an end marker
 * that carry a fresh random nonce (so no output can fake them); the end marker carries `$?`.
 * Around the `source` the shell moves itself into the command's job cgroup and back
 * (job-group.ts), so whatever the command forks can be found and killed. An interrupt (timeout
 * or abort) signals the shell before it kills anything, and the shell's handler then unwinds the
 * whole command line: no statement after the killed one runs, and the state reached is kept.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { CappedOutput } from "./capped-output.ts";
import { CommandFrame, outputFd, quote } from "./command-frame.ts";
import { JobGroup, topProcsFile } from "./job-group.ts";
import { killProcessTree, nowInTicks } from "./process-tree.ts";
import type { Transcript } from "./transcript.ts";

/** What one foreground command produced. */
export interface ShellRunResult {
  output: string;
  exitCode: number;
  killed: boolean;
  /** True when the output cap cut the middle of the output. */
  truncated: boolean;
  /** True when the command ended the shell itself (`exit`, `exec`, a signal). */
  shellEnded: boolean;
}

/** One command in flight: its framing, its collected output, and how to finish it. */
interface ActiveCommand {
  frame: CommandFrame;
  output: CappedOutput;
  /** Whether its output goes to the session's transcript (not for the engine's own commands). */
  transcribed: boolean;
  finish(exitCode: number): void;
  /** Ends the command with an error instead: the shell could not start. */
  fail(error: Error): void;
}

/**
 * While a cancelled command unwinds, this DEBUG trap makes every statement inside the command file
 * (any function or `source` depth) return at once instead of running; the framing line, at depth 0,
 * still runs. `extdebug` gives the trap that power and lets functions inherit it.
 */
const unwindTrap =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template
  "[[ -z ${__lumina_cancelled-} || ${#BASH_SOURCE[@]} -eq 0 ]] || __lumina_return 2";

/**
 * The USR1 handler, the first step of an interrupt: it arms the unwind (saving the user's own
 * DEBUG trap and extdebug setting, which command-frame.ts restores) and returns from the current
 * level. Bash runs it before the next statement, so nothing after the killed one runs.
 */
const cancelHandler =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template
  "[[ -n ${__lumina_busy-} ]] && { if [[ -z ${__lumina_cancelled-} ]]; then __lumina_cancelled=1; " +
  "__lumina_saved_debug=$(trap -p DEBUG); shopt -q extdebug; __lumina_saved_extdebug=$?; " +
  `shopt -s extdebug; trap ${quote(unwindTrap)} DEBUG; fi; return 124; }`;

// Builtins only, so user functions named `printf` or `source` cannot break the framing.
const initScript = [
  `exec 2>&1 ${outputFd}>&1`,
  "shopt -s expand_aliases",
  `trap ${quote(cancelHandler)} USR1`,
  '__lumina_return() { return "$1"; }',
  "",
].join("\n");

let shellCount = 0;

export class PersistentShell {
  private readonly child: ChildProcess;
  private readonly commandFile: string;
  private active: ActiveCommand | undefined;
  /** Job groups of finished commands whose background children (`cmd &`) still run. */
  private readonly lingering = new Set<JobGroup>();
  private ended = false;
  /** Why the shell never started (spawn failed, e.g. at the sandbox's process limit). */
  private spawnError: Error | undefined;
  private readonly exited: Promise<void>;

  /** The marker every process of this session carries in its environment. */
  readonly sessionMarker: string;

  constructor(
    sessionTag: string,
    env: NodeJS.ProcessEnv,
    cwd: string,
    private transcript?: Transcript,
  ) {
    shellCount += 1;
    const dir = join(tmpdir(), `.lumina-shell-${process.pid}-${shellCount}`);
    this.commandFile = join(dir, "command.sh");
    this.sessionMarker = `LUMINA_SESSION=${sessionTag}`;
    this.child = spawn("/bin/bash", ["--noprofile", "--norc"], {
      cwd,
      env: { ...env, LUMINA_SESSION: sessionTag },
      stdio: ["pipe", "pipe", "ignore"],
      // Its own session and process group: its forked subshells are found by group.
      detached: true,
    });
    this.child.stdin?.on("error", () => {});
    this.child.stdout?.on("data", (chunk: Buffer) => this.onData(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.ended = true;
        const status = code ?? 128 + signalNumber(signal);
        // Let the last output drain (orphans may hold the pipe open, so don't wait for EOF).
        const settle = () => {
          const command = this.active;
          if (command) {
            this.record(command, command.frame.heldBack());
            command.finish(status);
          }
          resolve();
        };
        if (this.child.stdout?.readableEnded) settle();
        else {
          const timer = setTimeout(settle, 100);
          this.child.stdout?.once("end", () => {
            clearTimeout(timer);
            settle();
          });
        }
      });
      this.child.on("error", (error) => {
        this.ended = true;
        if (this.child.pid === undefined) {
          this.spawnError = error;
          this.active?.fail(error);
        } else this.active?.finish(127);
        resolve();
      });
    });
    this.child.stdin?.write(initScript);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Gives a shell started without one its session's transcript. */
  attachTranscript(transcript: Transcript): void {
    this.transcript ??= transcript;
  }

  /** True once the shell process has ended (the next command needs a new shell). */
  get isEnded(): boolean {
    return this.ended;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs one command; resolves when it ends, times out, or the signal aborts it. */
  async run(
    command: string,
    options: { timeoutMs: number; maxOutputChars: number; signal: AbortSignal; internal?: boolean },
  ): Promise<ShellRunResult> {
    if (this.ended) throw this.spawnError ?? new Error("the shell has ended");
    this.writeCommandFile(command);
    const transcript = options.internal ? undefined : this.transcript;
    transcript?.command(command);
    const frame = new CommandFrame();
    const job = `${this.sessionMarker.slice("LUMINA_SESSION=".length)}.${frame.nonce.slice(0, 12)}`;
    const startTicks = nowInTicks();
    for (const old of this.lingering) if (old.release()) this.lingering.delete(old);
    const group = JobGroup.claim();
    if (group) this.lingering.add(group); // Until released: stop() kills what is in it.
    const shellPid = this.child.pid ?? 0;
    // `>|`: noclobber must not stop the move; `|| :`: nor errexit a failed one.
    const move = (file: string) => `builtin echo ${shellPid} >| ${quote(file)} || :; `;
    const [enter, leave] = group ? [move(group.procsFile), move(topProcsFile)] : ["", ""];
    const output = new CappedOutput(options.maxOutputChars);
    let killed = false;
    const done = new Promise<number>((resolve, reject) => {
      this.active = {
        frame,
        output,
        transcribed: transcript !== undefined,
        finish: (exitCode) => {
          this.active = undefined;
          resolve(exitCode);
        },
        fail: (error) => {
          this.active = undefined;
          reject(error);
        },
      };
    });
    this.child.stdin?.write(frame.line({ job, commandFile: this.commandFile, enter, leave }));
    let interrupted: Promise<void> | undefined;
    const interrupt = () => {
      interrupted ??= this.interrupt(job, startTicks, done, group);
      killed = true;
    };
    const timer = setTimeout(interrupt, options.timeoutMs);
    options.signal.addEventListener("abort", interrupt, { once: true });
    try {
      const exitCode = await done.catch((error: unknown) => {
        if (group?.release()) this.lingering.delete(group); // Nothing ran in it.
        throw error;
      });
      // The next command must not start while the sweep still looks for this one's processes.
      if (interrupted) {
        await interrupted;
        await group?.kill([shellPid]); // Killed: nothing of it may remain.
        await this.discardNotices();
      }
      // Unless killed, its `cmd &` children run on (as at a terminal) in a lingering group.
      if (group?.release()) this.lingering.delete(group);
      const { text, truncated } = output.result();
      const cleaned = text.replaceAll(`${this.commandFile}: `, "bash: ");
      transcript?.exit(killed ? 124 : exitCode, killed);
      const code = killed ? 124 : exitCode;
      return { output: cleaned, exitCode: code, killed, truncated, shellEnded: this.ended };
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", interrupt);
    }
  }

  /** Lets the shell print its "Killed" notices of dead background jobs now, not into the next answer. */
  private async discardNotices(): Promise<void> {
    if (this.ended) return;
    await this.run(":", {
      timeoutMs: 1000,
      maxOutputChars: 100,
      signal: new AbortController().signal,
      internal: true,
    });
  }

  /** Kills the command's processes and unwinds the shell; the shell itself survives if it can. */
  private async interrupt(
    job: string,
    sinceTicks: number,
    done: Promise<number>,
    group: JobGroup | undefined,
  ): Promise<void> {
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    const shellPid = this.child.pid;
    for (let attempt = 0; attempt < 40 && !finished; attempt++) {
      // Signal the shell first: its handler then runs before any statement after the killed one.
      this.child.kill("SIGUSR1");
      await group?.kill(shellPid ? [shellPid] : []);
      await killProcessTree({
        markers: [`LUMINA_JOB=${job}`],
        ...(shellPid ? { group: { id: shellPid, sinceTicks }, spare: [shellPid] } : {}),
      });
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    // Still stuck (it ignores our signal): give up on this shell's state.
    if (!finished) this.child.kill("SIGKILL");
  }

  private writeCommandFile(command: string): void {
    try {
      writeFileSync(this.commandFile, command);
    } catch {
      // Someone cleaned /tmp: make the directory again.
      mkdirSync(join(this.commandFile, ".."), { recursive: true, mode: 0o700 });
      writeFileSync(this.commandFile, command);
    }
  }

  private onData(chunk: Buffer): void {
    const command = this.active;
    if (!command) return; // Output of an earlier command's leftover background job.
    const exitCode = command.frame.feed(chunk, (bytes) => this.record(command, bytes));
    if (exitCode !== undefined) command.finish(exitCode);
  }

  /** Keeps a command's output for its answer, and shows it live in the transcript. */
  private record(command: ActiveCommand, bytes: Buffer): void {
    command.output.push(bytes);
    if (command.transcribed) this.transcript?.output(bytes);
  }

  /** Ends the shell and every process of its session. */
  async stop(): Promise<void> {
    this.child.stdin?.end();
    await killProcessTree({
      markers: [this.sessionMarker],
      ...(this.child.pid ? { roots: [this.child.pid] } : {}),
    });
    await Promise.all([...this.lingering].map((group) => group.destroy()));
    this.lingering.clear();
    await this.exited;
  }
}

/** The number of a signal by name (0 if unknown): exit codes of signalled processes are 128 + it. */
export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
