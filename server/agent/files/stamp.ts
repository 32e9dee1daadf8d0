import type { BigIntStats } from "node:fs";
import type { AgentStamp } from "../../shared/files-protocol.ts";

/** The stamp of a file from its (bigint) stat. */
export function stampOf(stats: BigIntStats): AgentStamp {
  return { mtimeNs: String(stats.mtimeNs), size: Number(stats.size), inode: Number(stats.ino) };
}

/** Whether two stamps describe the same version of a file. */
export function sameStamp(a: AgentStamp, b: AgentStamp): boolean {
  return a.mtimeNs === b.mtimeNs && a.size === b.size && a.inode === b.inode;
}
