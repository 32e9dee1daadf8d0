/**
 * A live transcript of one tool session's shell, kept in the sandbox's `/tmp` so a person can
 * watch the session as it runs: `tail -F /tmp/lumina-sessions/<tool session id>.log` from any
 * session of the sandbox (or a background command followed with `streamOutput`). Best effort
 * and bounded: it never fails a command, and rotates to `.log.1` past a size limit.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the transcripts of a sandbox's sessions live. */
export const transcriptDirectory: string = join(tmpdir(), "lumina-sessions");

/** The size at which a transcript starts afresh (the previous one kept as `.1`). */
const rotateAtBytes = 1024 * 1024;

export class Transcript {
  private fd: number | undefined;
  private size = 0;
  private readonly path: string;

  /** `name` is the tool session id (the server allows only `[A-Za-z0-9._:-]`, so it is a safe file name). */
  constructor(name: string) {
    this.path = join(transcriptDirectory, `${name}.log`);
  }

  /** Notes the start of a command, each of its lines prefixed like a terminal's prompt. */
  command(text: string): void {
    this.append(`$ ${text.replace(/\n(?=.)/g, "\n> ")}${text.endsWith("\n") ? "" : "\n"}`);
  }

  /** Appends output as it arrives. */
  output(bytes: Uint8Array): void {
    if (bytes.length > 0) this.append(bytes);
  }

  /** Notes how a command ended. */
  exit(exitCode: number, killed: boolean): void {
    this.append(`[exit ${exitCode}${killed ? ", killed at its timeout" : ""}]\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(data: string | Uint8Array): void {
    try {
      if (this.fd !== undefined && this.size > rotateAtBytes) {
        this.close();
        renameSync(this.path, `${this.path}.1`);
      }
      if (this.fd === undefined) {
        mkdirSync(transcriptDirectory, { recursive: true, mode: 0o700 });
        this.fd = openSync(this.path, "a", 0o600);
        this.size = fstatSync(this.fd).size;
      }
      this.size += writeSync(this.fd, typeof data === "string" ? Buffer.from(data) : data);
    } catch {
      // A full or cleaned /tmp must not fail the command: the transcript is for watching only.
      this.close();
    }
  }
}
