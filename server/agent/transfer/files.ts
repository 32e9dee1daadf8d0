/**
 * Binary uploads and downloads inside the sandbox (CONTRACT §11), as the sandbox's user, with
 * the same path checks as the file tools. An upload goes to a temp file beside the target,
 * fsynced, then renamed over it: a reader sees the old or the new file, and a failed or aborted
 * upload leaves the old one.
 */
import { open, rename, stat, unlink } from "node:fs/promises";
import type { AgentStream } from "../../shared/agent-protocol.ts";
import type { AgentStamp } from "../../shared/files-protocol.ts";
import {
  type ByteRange,
  type DownloadHead,
  transferChunkBytes,
} from "../../shared/transfer-protocol.ts";
import { AgentError } from "../failure.ts";
import { withPathLock } from "../files/path-lock.ts";
import { checkToolPath, fileError, toLocalPath } from "../files/paths.ts";
import { openRegular } from "../files/read.ts";
import { stampOf } from "../files/stamp.ts";
import { tempPathFor } from "../files/temp-name.ts";
import { resolveTarget } from "../files/write.ts";

/** Writes the received bytes to `path`, replacing it atomically. */
export async function uploadFile(
  params: { path: string },
  stream: AgentStream,
): Promise<{ bytesWritten: number; stamp: AgentStamp }> {
  const shown = checkToolPath(params.path);
  const local = toLocalPath(shown);
  try {
    return await withPathLock(local, async () => {
      const target = await resolveTarget(local);
      const info = await stat(target).catch((error: { code?: string }) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (info?.isDirectory()) {
        throw new AgentError("invalid_request", `${shown} is a directory, not a file`);
      }
      const mode = info ? info.mode & 0o7777 : 0o644;
      const temp = tempPathFor(target);
      const handle = await open(temp, "wx", mode);
      let bytesWritten = 0;
      try {
        try {
          for await (const chunk of stream.received()) {
            for (let at = 0; at < chunk.length; ) {
              at += (await handle.write(chunk, at)).bytesWritten;
            }
            bytesWritten += chunk.length;
          }
          await handle.chmod(mode); // The umask must not narrow the mode of the file we replace.
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, target);
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error;
      }
      return { bytesWritten, stamp: stampOf(await stat(target, { bigint: true })) };
    });
  } catch (error) {
    fileError(error, shown);
  }
}

/** Where a range request lands in a file of `size` bytes (RFC 9110 §14.1.2). */
export function resolveRange(range: ByteRange | null, size: number): DownloadHead {
  if (!range) return { size, start: 0, length: size, satisfiable: true };
  const unsatisfiable = { size, start: 0, length: 0, satisfiable: false };
  if (range.first === null) {
    const suffix = range.last ?? 0;
    if (suffix === 0 || size === 0) return unsatisfiable;
    const start = Math.max(0, size - suffix);
    return { size, start, length: size - start, satisfiable: true };
  }
  if (range.first >= size) return unsatisfiable;
  const end = Math.min(range.last ?? size - 1, size - 1);
  return { size, start: range.first, length: end - range.first + 1, satisfiable: true };
}

/** Sends the bytes of `path` (or its range) after a head with its size. */
export async function downloadFile(
  params: { path: string; range: ByteRange | null },
  stream: AgentStream,
): Promise<{ bytesSent: number }> {
  const shown = checkToolPath(params.path);
  const handle = await openRegular(toLocalPath(shown), shown);
  try {
    const head = resolveRange(params.range, (await handle.stat()).size);
    stream.head(head);
    let sent = 0;
    while (sent < head.length) {
      // A buffer per chunk: the pipe may still hold the last one when `send` resolves.
      const buffer = Buffer.allocUnsafe(Math.min(transferChunkBytes, head.length - sent));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, head.start + sent);
      if (bytesRead === 0) break;
      await stream.send(buffer.subarray(0, bytesRead));
      sent += bytesRead;
    }
    if (sent < head.length) {
      throw new AgentError("conflict", `${shown} shrank while it was sent; download it again`);
    }
    return { bytesSent: sent };
  } catch (error) {
    fileError(error, shown);
  } finally {
    await handle.close();
  }
}
