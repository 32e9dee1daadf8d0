/**
 * Removes the temp files of writes a killed server cut short. It runs when the agent starts,
 * before any tool call: no write of this agent can be in flight, so every file with write's temp
 * name is a leftover. It runs inside the sandbox as the sandbox's user, so a symlink in the home
 * cannot lead it anywhere the user could not go.
 */
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isTempName } from "./temp-name.ts";

/** The most directory entries one clean-up looks at, so a home of millions of files stays cheap. */
const maxEntries = 1_000_000;

/** Deletes write's temp files anywhere below `home`; resolves to how many it removed. */
export async function removeWriteLeftovers(home: string): Promise<number> {
  const pending = [home];
  let seen = 0;
  let removed = 0;
  for (let dir = pending.pop(); dir !== undefined && seen < maxEntries; dir = pending.pop()) {
    // An unreadable directory (chmod 000 by the user) holds nothing we could have written.
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    seen += entries.length;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // Dirent types come from lstat: a symlink is neither, so it is never followed.
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && isTempName(entry.name)) {
        await unlink(path).then(
          () => removed++,
          () => {},
        );
      }
    }
  }
  return removed;
}
