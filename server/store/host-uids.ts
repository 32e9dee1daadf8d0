/**
 * The host uids of sandboxes, a table the backends that run sandboxes as local users own
 * (bubblewrap, the unisolated backend); a backend without host users (pods) never touches it.
 * It lives in the registry so a uid survives a restart of the server with the files it owns.
 */
import { createHash } from "node:crypto";
import { ServerError } from "../errors.ts";
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** How many host uids one data directory may hand out: one block of 65536. */
export const hostUidBlockSize = 65_536;

/**
 * The first host uid of a data directory: a block of 65536 uids picked by the directory's path,
 * so two servers on one host (tests, a demo beside a real server) do not share sandbox uids and
 * with them their process limits.
 */
export function hostUidBaseOf(dataDir: string): number {
  const block = createHash("sha256").update(dataDir).digest().readUInt32BE(0) % 30_000;
  return 200_000 + block * 65_536;
}

/** The dedicated host uid each sandbox id holds. */
export interface HostUidTable {
  /**
   * Gives the sandbox the lowest free uid of the block (its own if it holds one already);
   * throws `unavailable` when every uid is held.
   */
  claim(sandboxId: string): number;
  /** The uid the sandbox holds, if any. */
  uidOf(sandboxId: string): number | undefined;
  /** Frees the sandbox's uid: only once its processes and storage are gone. */
  release(sandboxId: string): void;
}

/**
 * Creates the uid table over `[hostUidBase, hostUidBase + hostUidCount)`. A sandbox keeps its
 * uid until `release`, which its backend calls only once the sandbox's processes and files are
 * gone, so a reused uid never owns anything of its previous sandbox. Past the range lies
 * another data directory's block: with every uid held, a claim is refused (503).
 */
export function createHostUidTable(
  db: RegistryDatabase,
  hostUidBase: number,
  hostUidCount = hostUidBlockSize,
): HostUidTable {
  const select = db.prepare("SELECT host_uid FROM host_uids WHERE sandbox_id = ?");
  const insert = db.prepare("INSERT INTO host_uids (sandbox_id, host_uid) VALUES (?, ?)");
  const remove = db.prepare("DELETE FROM host_uids WHERE sandbox_id = ?");
  // The lowest uid of the range that no sandbox holds: the base itself or just above a held one.
  const lowestFree = db.prepare(`
    SELECT MIN(candidate) AS uid FROM (
      SELECT @base AS candidate
      UNION ALL
      SELECT host_uid + 1 FROM host_uids WHERE host_uid >= @base AND host_uid < @end
    ) WHERE candidate < @end AND candidate NOT IN (SELECT host_uid FROM host_uids)`);
  const end = hostUidBase + hostUidCount;
  const uidOf = (sandboxId: string) =>
    (select.get(sandboxId) as { host_uid: number } | undefined)?.host_uid;
  const claim = db.transaction((sandboxId: string): number => {
    const held = uidOf(sandboxId);
    if (held !== undefined) return held;
    const free = lowestFree.get({ base: hostUidBase, end }) as { uid: number | null };
    if (free.uid === null) {
      throw new ServerError(
        "unavailable",
        `no sandbox host uid left: all ${hostUidCount} uids of this server's block (from ${hostUidBase}) belong to existing sandboxes; destroy sandboxes no longer needed, or an operator can start the server on a fresh block with --host-uid-base`,
      );
    }
    insert.run(sandboxId, free.uid);
    return free.uid;
  });
  return {
    claim: (sandboxId) => guarded(() => claim.immediate(sandboxId)),
    uidOf: (sandboxId) => guarded(() => uidOf(sandboxId)),
    release: (sandboxId) => guarded(() => void remove.run(sandboxId)),
  };
}
