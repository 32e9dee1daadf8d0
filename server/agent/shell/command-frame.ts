/**
 * How one foreground command travels through the persistent shell: the line written to the
 * shell's stdin that runs it between a start and an end marker, and the parser that finds its
 * output and exit status between those markers in the shell's output stream. Each command's
 * markers carry a fresh random nonce, so no output can fake them.
 */
import { randomBytes } from "node:crypto";

/** The shell's fd for command output: a saved copy of the pipe that `exec >file` cannot move. */
export const outputFd = 63;

/** `text` as one single-quoted shell word. */
export function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** How many bytes at the end of `data` could be the first bytes of `marker`. */
function splitMarkerLength(data: Buffer, marker: Buffer): number {
  for (let length = Math.min(data.length, marker.length - 1); length > 0; length--) {
    if (data.subarray(data.length - length).equals(marker.subarray(0, length))) return length;
  }
  return 0;
}

/** Undoes what an interrupt armed (persistent-shell.ts): the user's DEBUG trap and extdebug come back. */
const disarmUnwind =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template
  '[[ -z ${__lumina_cancelled-} ]] || { trap - DEBUG; builtin eval "$__lumina_saved_debug"; ' +
  "(( __lumina_saved_extdebug )) && shopt -u extdebug; __lumina_cancelled=; }; ";

/** One command's framing: its stdin line, and the parser of its share of the shell's output. */
export class CommandFrame {
  readonly nonce: string = randomBytes(16).toString("hex");
  private readonly startMarker = Buffer.from(`__LUMINA_START_${this.nonce}__`);
  private readonly endMarker = Buffer.from(`__LUMINA_END_${this.nonce}__`);
  private started = false;
  private pending: Buffer = Buffer.alloc(0);

  /**
   * The line that runs `commandFile`: `enter` and `leave` are shell snippets run (quietly) just
   * before and after it. xtrace is paused around the framing (its traces land outside the
   * markers), and the line ends by restoring `$?`, so the next command sees this one's status.
   */
  line(options: { job: string; commandFile: string; enter: string; leave: string }): string {
    const { job, enter, leave } = options;
    return (
      `__lumina_busy=1; export LUMINA_JOB=${job}; { __lumina_flags=$-; set +x; ${enter}} 2>/dev/null; ` +
      `builtin printf '__LUMINA_START_%s__' ${this.nonce} >&${outputFd}; [[ $__lumina_flags == *x* ]] && set -x; ` +
      `{ builtin source ${quote(options.commandFile)}; } </dev/null >&${outputFd} 2>&1; ` +
      `{ __lumina_status=$?; __lumina_busy=; set +x; ${leave}${disarmUnwind}} 2>/dev/null; ` +
      `builtin printf '__LUMINA_END_%s__%d\\n' ${this.nonce} "$__lumina_status" >&${outputFd}; ` +
      `[[ $__lumina_flags == *x* ]] && set -x; [[ $- == *e* ]] || __lumina_return "$__lumina_status"\n`
    );
  }

  /**
   * Takes a chunk of the shell's output, hands the command's own bytes to `onOutput` as soon as
   * they cannot be part of a marker, and returns the exit status once the end marker's line is
   * complete.
   */
  feed(chunk: Buffer, onOutput: (bytes: Buffer) => void): number | undefined {
    let pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.started) {
      const at = pending.indexOf(this.startMarker);
      if (at === -1) {
        this.pending = pending.subarray(Math.max(0, pending.length - this.startMarker.length));
        return undefined;
      }
      this.started = true;
      pending = pending.subarray(at + this.startMarker.length);
    }
    const end = pending.indexOf(this.endMarker);
    if (end === -1) {
      // Hold back only what could be the start of a split end marker, so output flows live.
      const safe = pending.length - splitMarkerLength(pending, this.endMarker);
      onOutput(pending.subarray(0, safe));
      this.pending = Buffer.from(pending.subarray(safe));
      return undefined;
    }
    onOutput(pending.subarray(0, end));
    const rest = pending.subarray(end + this.endMarker.length);
    const newline = rest.indexOf(10);
    if (newline === -1) {
      this.pending = Buffer.from(pending.subarray(end));
      return undefined;
    }
    return Number(rest.subarray(0, newline).toString("latin1"));
  }

  /** The output still held back, for a shell that ended in the middle of the command. */
  heldBack(): Buffer {
    return this.started ? this.pending : Buffer.alloc(0);
  }
}
