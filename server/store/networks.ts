/**
 * Each sandbox's egress policy (CONTRACT §9), in a table of its own keyed by sandbox id. A
 * sandbox without a row (made before this table existed) has the server's default policy.
 */
import type { NetworkPolicy } from "../network/policy.ts";
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** The sandbox network policies of the registry. */
export interface NetworkPolicyStore {
  /** The sandbox's stored policy, if any. */
  get(sandboxId: string): NetworkPolicy | undefined;
  /** Stores (or replaces) the sandbox's policy. */
  set(sandboxId: string, policy: NetworkPolicy): void;
  /** Forgets the sandbox's policy (its destroy finished). */
  remove(sandboxId: string): void;
}

/** Creates the policy table if needed and returns the store over it. */
export function createNetworkPolicyStore(db: RegistryDatabase): NetworkPolicyStore {
  db.exec(
    "CREATE TABLE IF NOT EXISTS sandbox_networks (sandbox_id TEXT PRIMARY KEY, policy TEXT NOT NULL)",
  );
  const select = db.prepare("SELECT policy FROM sandbox_networks WHERE sandbox_id = ?");
  const upsert = db.prepare(
    "INSERT INTO sandbox_networks (sandbox_id, policy) VALUES (?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET policy = excluded.policy",
  );
  const del = db.prepare("DELETE FROM sandbox_networks WHERE sandbox_id = ?");
  return {
    get: (id) =>
      guarded(() => {
        const row = select.get(id) as { policy: string } | undefined;
        return row && (JSON.parse(row.policy) as NetworkPolicy);
      }),
    set: (id, policy) => guarded(() => void upsert.run(id, JSON.stringify(policy))),
    remove: (id) => guarded(() => void del.run(id)),
  };
}
