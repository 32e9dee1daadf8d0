/**
 * Directory archives inside the sandbox (CONTRACT §11), as its user, with GNU tar from the
 * read-only `/usr`. An upload is spooled to a staging directory inside the target, listed and
 * checked entry by entry (archive-check.ts), extracted into that staging directory and only then
 * moved into place, so a refused archive leaves nothing behind. A download streams `tar -c`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { AgentStream } from "../../shared/agent-protocol.ts";
import { AgentError } from "../failure.ts";
import { checkToolPath, fileError, toLocalPath } from "../files/paths.ts";
import { createArchiveCheck, parseListing } from "./archive-check.ts";
import { runTar } from "./tar-process.ts";

/** The directory at `local`, which must exist; else `not_found` or `invalid_request`. */
async function existingDirectory(local: string, shown: string): Promise<boolean> {
  const info = await stat(local).catch((error: { code?: string }) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info && !info.isDirectory()) {
    throw new AgentError("invalid_request", `${shown} exists and is not a directory`);
  }
  return info !== undefined;
}

/** Writes the received bytes to a new file at `path`; resolves to their count. */
async function spool(path: string, stream: AgentStream): Promise<number> {
  const handle = await open(path, "wx", 0o600);
  let bytes = 0;
  try {
    for await (const chunk of stream.received()) {
      for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten;
      bytes += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return bytes;
}

/** Moves everything below `from` into `to`, merging into directories that exist there. */
async function moveInto(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory() && (await stat(target).catch(() => undefined))?.isDirectory()) {
      await moveInto(source, target);
    } else await rename(source, target);
  }
}

/** Checks, extracts and moves into place the tar the server sends. */
export async function uploadArchive(
  params: { path: string; gzip: boolean },
  signal: AbortSignal,
  stream: AgentStream,
): Promise<{ files: number; bytes: number }> {
  const shown = checkToolPath(params.path, "path");
  const local = toLocalPath(shown);
  let created: string | undefined;
  let staging: string | undefined;
  try {
    if (!(await existingDirectory(local, shown))) {
      created = await mkdir(local, { recursive: true });
    }
    staging = join(local, `.lumina-archive.${randomBytes(6).toString("hex")}.lumina-tmp`);
    const tree = join(staging, "tree");
    const upload = join(staging, "upload");
    await mkdir(tree, { recursive: true, mode: 0o700 });
    await spool(upload, stream);
    const zip = params.gzip ? ["-z"] : [];
    const listing = runTar(
      // Names as stored (`-P`): the extraction strips a leading `/`, the listing must not hide it.
      [
        "-t",
        "-v",
        "-P",
        ...zip,
        "--quoting-style=c",
        "--numeric-owner",
        "--full-time",
        "-f",
        upload,
      ],
      "read the archive",
      signal,
    );
    const check = createArchiveCheck(local);
    let files = 0;
    let bytes = 0;
    try {
      for await (const line of createInterface({ input: listing.output, crlfDelay: Infinity })) {
        const entry = parseListing(line);
        await check.check(entry);
        if (entry.type !== "d") files++;
        if (entry.type === "-") bytes += entry.size;
      }
    } catch (error) {
      listing.output.destroy();
      throw error;
    }
    await listing.done;
    const extract = runTar(
      [
        "-x",
        ...zip,
        "-f",
        upload,
        "-C",
        tree,
        "--no-same-owner",
        "--no-same-permissions",
        "--delay-directory-restore",
        "--warning=no-timestamp",
      ],
      "extract the archive",
      signal,
    );
    extract.output.resume();
    await extract.done;
    await moveInto(tree, local);
    return { files, bytes };
  } catch (error) {
    if (created) await rm(created, { recursive: true, force: true }).catch(() => {});
    return fileError(error, shown);
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => {});
  }
}

/** Streams a tar of the directory at `path` (gzip-compressed if asked). */
export async function downloadArchive(
  params: { path: string; gzip: boolean },
  signal: AbortSignal,
  stream: AgentStream,
): Promise<{ bytesSent: number }> {
  const shown = checkToolPath(params.path, "path");
  const local = toLocalPath(shown);
  try {
    if (!(await existingDirectory(local, shown))) {
      throw new AgentError("not_found", `directory not found: ${shown}`);
    }
    const zip = params.gzip ? ["-z"] : [];
    const run = runTar(
      ["-c", ...zip, "-f", "-", "-C", local, "--", "."],
      "archive the directory",
      signal,
    );
    stream.head({});
    let bytesSent = 0;
    for await (const chunk of run.output as AsyncIterable<Buffer>) {
      await stream.send(chunk);
      bytesSent += chunk.length;
    }
    await run.done;
    return { bytesSent };
  } catch (error) {
    fileError(error, shown);
  }
}
