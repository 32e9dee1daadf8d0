/**
 * write and edit inside the sandbox: atomic replace (temp file in the same directory + rename,
 * the old mode kept) with the read-before-write check done right before the rename, and one
 * change per file at a time (path-lock.ts) so the check and the rename act as one step.
 */
import { lstat, mkdir, open, realpath, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentStamp, ExpectedStamp } from "../../shared/files-protocol.ts";
import { AgentError } from "../failure.ts";
import { withPathLock } from "./path-lock.ts";
import { checkToolPath, fileError, toLocalPath, toSandboxPath } from "./paths.ts";
import { openRegular } from "./read.ts";
import { sameStamp, stampOf } from "./stamp.ts";
import { tempPathFor } from "./temp-name.ts";

/** The largest file edit will load or produce. */
const maxEditBytes = 64 * 1024 * 1024;

async function currentStamp(target: string): Promise<AgentStamp | undefined> {
  try {
    return stampOf(await stat(target, { bigint: true }));
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Fails with `not_read` / `stale_read` unless the file on disk is what the session read. */
function checkExpectation(
  shown: string,
  onDisk: AgentStamp | undefined,
  expect: ExpectedStamp,
): void {
  if (!onDisk) return;
  if (!expect) {
    throw new AgentError("not_read", `${shown} exists: read it first, then write or edit it`);
  }
  if (!sameStamp(onDisk, expect)) {
    throw new AgentError(
      "stale_read",
      `${shown} changed on disk since this session read it: read it again, then retry`,
    );
  }
}

/** The path to replace (parents created): a symlink is written through to its target, as the shell would. */
export async function resolveTarget(local: string): Promise<string> {
  try {
    const info = await lstat(local);
    if (!info.isSymbolicLink()) return local;
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    await mkdir(dirname(local), { recursive: true });
    return local;
  }
  try {
    return await realpath(local);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    throw new AgentError(
      "not_found",
      `${toSandboxPath(local)} is a symbolic link whose target does not exist`,
    );
  }
}

async function replaceAtomically(
  target: string,
  shown: string,
  data: Buffer,
  expect: ExpectedStamp,
): Promise<{ created: boolean; stamp: AgentStamp }> {
  const info = await stat(target, { bigint: true }).catch((error: { code?: string }) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info?.isDirectory())
    throw new AgentError("invalid_request", `${shown} is a directory, not a file`);
  const before = info && stampOf(info);
  checkExpectation(shown, before, expect);
  const mode = info ? Number(info.mode) & 0o7777 : 0o644;
  const temp = tempPathFor(target);
  const handle = await open(temp, "wx", mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(mode); // The umask must not narrow the mode of the file we replace.
    } finally {
      await handle.close();
    }
    // Checked again at the last moment: someone may have changed the file while we wrote.
    const onDisk = await currentStamp(target);
    checkExpectation(shown, onDisk, expect);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  return { created: !before, stamp: stampOf(await stat(target, { bigint: true })) };
}

/** Writes a whole file. */
export async function writeTool(params: {
  path: string;
  content: string;
  expect: ExpectedStamp;
}): Promise<{ bytesWritten: number; created: boolean; stamp: AgentStamp }> {
  const shown = checkToolPath(params.path);
  const data = Buffer.from(params.content, "utf8");
  const local = toLocalPath(shown);
  try {
    return await withPathLock(local, async () => {
      const target = await resolveTarget(local);
      const result = await replaceAtomically(target, shown, data, params.expect);
      return { bytesWritten: data.length, ...result };
    });
  } catch (error) {
    fileError(error, shown);
  }
}

/** Replaces an exact string in a file. */
export async function editTool(params: {
  path: string;
  oldString: string;
  newString: string;
  replaceAll: boolean;
  expect: ExpectedStamp;
}): Promise<{ replacements: number; stamp: AgentStamp }> {
  const shown = checkToolPath(params.path);
  const local = toLocalPath(shown);
  // The read, the check and the replace under one lock: no other change lands in between.
  return withPathLock(local, async () => {
    const handle = await openRegular(local, shown);
    let text: string;
    let stamp: AgentStamp;
    try {
      stamp = stampOf(await handle.stat({ bigint: true }));
      checkExpectation(shown, stamp, params.expect);
      if (stamp.size > maxEditBytes) {
        throw new AgentError(
          "payload_too_large",
          `${shown} is larger than ${maxEditBytes} bytes; edit it with the shell`,
        );
      }
      const bytes = await handle.readFile();
      if (bytes.subarray(0, 65536).includes(0)) {
        throw new AgentError(
          "unsupported_file",
          `${shown} is a binary file; edit works on text only`,
        );
      }
      text = bytes.toString("utf8");
    } finally {
      await handle.close();
    }
    const count = text.split(params.oldString).length - 1;
    if (count === 0) {
      throw new AgentError(
        "no_match",
        `old_string was not found in ${shown}; read the file and copy the text exactly`,
      );
    }
    if (count > 1 && !params.replaceAll) {
      throw new AgentError(
        "ambiguous_match",
        `found ${count} occurrences of old_string in ${shown}; add surrounding context to make it unique, or set replace_all`,
      );
    }
    // Checked before building it: a big result would otherwise hit V8's string limit (a 500).
    const replacements = params.replaceAll ? count : 1;
    const growth = Buffer.byteLength(params.newString) - Buffer.byteLength(params.oldString);
    const resultBytes = Buffer.byteLength(text) + replacements * growth;
    if (resultBytes > maxEditBytes) {
      throw new AgentError(
        "payload_too_large",
        `the edit would make ${shown} ${resultBytes} bytes, over edit's limit of ${maxEditBytes} bytes; make this change with bash instead (e.g. sed)`,
      );
    }
    const updated = params.replaceAll
      ? text.split(params.oldString).join(params.newString)
      : text.replace(params.oldString, () => params.newString);
    try {
      const target = await resolveTarget(local);
      const result = await replaceAtomically(target, shown, Buffer.from(updated, "utf8"), stamp);
      return { replacements, stamp: result.stamp };
    } catch (error) {
      fileError(error, shown);
    }
  });
}
