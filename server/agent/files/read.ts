/**
 * The read tool inside the sandbox: text as numbered lines (streamed, so a ranged read of a
 * huge file never holds it whole), images and PDFs as raw bytes for the server to shape.
 */
import { constants } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import type { AgentReadResult } from "../../shared/files-protocol.ts";
import { AgentError } from "../failure.ts";
import { checkToolPath, fileError, toLocalPath } from "./paths.ts";
import { stampOf } from "./stamp.ts";

const defaultLimit = 2000;
const maxLineChars = 2000;
const chunkSize = 64 * 1024;
/** Images and PDFs travel whole, base64 in one JSON line: keep them reasonable. */
export const maxMediaBytes = 20 * 1024 * 1024;
const lineMarker = " … [line truncated: longer than 2000 characters]";

type Media = { kind: "image"; mimeType: string } | { kind: "pdf" };

function sniff(head: Buffer): Media | undefined {
  const starts = (bytes: number[], at = 0) => bytes.every((byte, i) => head[at + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: "image", mimeType: "image/png" };
  if (starts([0xff, 0xd8, 0xff])) return { kind: "image", mimeType: "image/jpeg" };
  const ascii = head.subarray(0, 12).toString("latin1");
  if (ascii.startsWith("GIF87a") || ascii.startsWith("GIF89a"))
    return { kind: "image", mimeType: "image/gif" };
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP")
    return { kind: "image", mimeType: "image/webp" };
  if (ascii.startsWith("%PDF-")) return { kind: "pdf" };
  return undefined;
}

/** Opens a regular file without ever blocking on a FIFO or device; refuses anything else. */
export async function openRegular(local: string, shown: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    const info = await stat(local);
    if (info.isDirectory()) {
      throw new AgentError(
        "invalid_request",
        `${shown} is a directory; use glob to list files in it`,
      );
    }
    if (!info.isFile()) {
      throw new AgentError(
        "invalid_request",
        `${shown} is not a regular file (a FIFO, socket or device)`,
      );
    }
    handle = await open(local, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    fileError(error, shown);
  }
  // Checked again on the open descriptor: the path may have been swapped since the stat.
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new AgentError("invalid_request", `${shown} is not a regular file`);
  }
  return handle;
}

/** Reads a file for the read tool. */
export async function readTool(params: {
  path: string;
  offset?: number;
  limit?: number;
}): Promise<AgentReadResult> {
  const shown = checkToolPath(params.path);
  const handle = await openRegular(toLocalPath(shown), shown);
  try {
    const stamp = stampOf(await handle.stat({ bigint: true }));
    const head = Buffer.alloc(chunkSize);
    const { bytesRead } = await handle.read(head, 0, chunkSize, 0);
    const first = head.subarray(0, bytesRead);
    const media = sniff(first);
    if (media) {
      if (stamp.size > maxMediaBytes) {
        throw new AgentError(
          "payload_too_large",
          `${shown} is ${stamp.size} bytes; images and PDFs can be read up to ${maxMediaBytes} bytes`,
        );
      }
      const base64 = (await handle.readFile()).toString("base64");
      return media.kind === "image"
        ? { kind: "image", base64, mimeType: media.mimeType, size: stamp.size, stamp }
        : { kind: "pdf", base64, size: stamp.size, stamp };
    }
    if (first.includes(0)) {
      throw new AgentError(
        "unsupported_file",
        `${shown} is a binary file; read handles text, images (png, jpeg, gif, webp) and PDFs`,
      );
    }
    return { kind: "text", ...(await readLines(handle, first, params)), stamp };
  } catch (error) {
    fileError(error, shown); // A read can fail after the open (EIO on /proc/<pid>/mem).
  } finally {
    await handle.close();
  }
}

async function readLines(
  handle: FileHandle,
  first: Buffer,
  params: { offset?: number; limit?: number },
): Promise<{ content: string; totalLines: number; linesReturned: number }> {
  const startLine = Math.max(1, Math.floor(params.offset ?? 1));
  const endLine = startLine + Math.max(0, Math.floor(params.limit ?? defaultLimit)) - 1;
  const out: string[] = [];
  let lineNo = 1; // The line the next byte belongs to.
  let pieces: Buffer[] = [];
  let pieceBytes = 0;
  let lastByte = -1;
  let position = first.length;
  let chunk: Buffer = first;
  const emit = () => {
    let text = Buffer.concat(pieces).toString("utf8");
    if (text.length > maxLineChars) text = text.slice(0, maxLineChars) + lineMarker;
    out.push(`${String(lineNo).padStart(4)}\t${text}\n`);
    pieces = [];
    pieceBytes = 0;
  };
  const buffer = Buffer.alloc(chunkSize);
  while (chunk.length > 0) {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(10, from);
      const end = newline === -1 ? chunk.length : newline;
      if (lineNo >= startLine && lineNo <= endLine && pieceBytes <= maxLineChars * 4) {
        // Bytes past 4 per character of the cut cannot show up in the answer: not kept.
        const piece = chunk.subarray(from, Math.min(end, from + maxLineChars * 4 + 4 - pieceBytes));
        pieces.push(Buffer.from(piece));
        pieceBytes += piece.length;
      }
      if (newline === -1) break;
      if (lineNo >= startLine && lineNo <= endLine) emit();
      lineNo++;
      from = newline + 1;
    }
    lastByte = chunk[chunk.length - 1]!;
    const { bytesRead } = await handle.read(buffer, 0, chunkSize, position);
    position += bytesRead;
    chunk = buffer.subarray(0, bytesRead);
  }
  // A last line without a newline still counts; a trailing newline adds none.
  const totalLines = lastByte === -1 ? 0 : lastByte === 10 ? lineNo - 1 : lineNo;
  if (lastByte !== -1 && lastByte !== 10 && lineNo >= startLine && lineNo <= endLine) emit();
  return { content: out.join(""), totalLines, linesReturned: out.length };
}
