/**
 * Byte streams between the server and the agent (CONTRACT §11: uploads, downloads, archives), on
 * the same two pipes as every call: a streamed call is an ordinary request (`{ id, method,
 * params }`) whose bytes travel as extra lines carrying its id.
 *
 * - `{ id, data: n }`, then exactly n raw bytes (1 to `transferChunkBytes`) right after the
 *   line's newline. Either side sends them only against credit: the receiver grants `{ id, credit: n }` for n more chunks, at most
 *   `transferWindow` outstanding, so neither side ever holds more than a window per transfer.
 * - `{ id, end: true }` (server → agent): the body the server sends is complete.
 * - `{ id, head }` (agent → server): what the server must know before the first byte of a
 *   download (its size and range), sent once, before any chunk.
 * - The call's answer (`{ id, result }` or `{ id, error }`) ends the bytes the agent sent; a
 *   `{ cancel: id }` aborts both directions.
 */
import type { AgentStamp } from "./files-protocol.ts";

/** The most raw bytes after one `data` line. */
export const transferChunkBytes: number = 256 * 1024;
/** The most chunks a receiver lets be in flight per transfer. */
export const transferWindow = 16;

/** Data, an end, a credit or a head: the lines of a streamed call besides its request and answer. */
export type TransferFrame =
  | { id: number; data: number }
  | { id: number; end: true }
  | { id: number; credit: number }
  | { id: number; head: unknown };

/** A `Range: bytes=…` request: `first-last`, `first-` (`last` null) or `-suffix` (`first` null). */
export interface ByteRange {
  first: number | null;
  last: number | null;
}

/** What a download's head says, before its bytes. */
export interface DownloadHead {
  /** The whole file's size. */
  size: number;
  /** The first byte sent (0 without a range). */
  start: number;
  /** The number of bytes sent. */
  length: number;
  /** False when a range was asked for that the file cannot satisfy (416): nothing is sent. */
  satisfiable: boolean;
}

/** The streamed methods of the agent, by name. */
export type TransferMethods = {
  /** Writes the received bytes to `path` atomically (temp file, fsync, rename). */
  file_upload: {
    params: { path: string };
    result: { bytesWritten: number; stamp: AgentStamp };
  };
  /** Sends the bytes of `path` (or the range of them) after a `DownloadHead`. */
  file_download: {
    params: { path: string; range: ByteRange | null };
    result: { bytesSent: number };
  };
  /** Checks every entry of the received tar, then extracts it into `path` as a whole. */
  archive_upload: {
    params: { path: string; gzip: boolean };
    result: { files: number; bytes: number };
  };
  /** Sends a tar of the directory `path`, built as it is sent, after an empty head. */
  archive_download: {
    params: { path: string; gzip: boolean };
    result: { bytesSent: number };
  };
};
