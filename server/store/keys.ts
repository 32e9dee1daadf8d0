/** API keys of users, stored only as SHA-256 digests. */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** The API key registry. */
export interface KeyStore {
  /** Adds a key digest for `user` (creating the user); adding the same digest again is a no-op. */
  add(user: string, digest: string): void;
  /** The stored digest and its user, if the digest is registered. */
  find(digest: string): { user: string; digest: string } | undefined;
  /** How many keys are registered. */
  count(): number;
}

/** Creates the key store over the registry database. */
export function createKeyStore(db: RegistryDatabase): KeyStore {
  const insertUser = db.prepare("INSERT OR IGNORE INTO users (name, created_at) VALUES (?, ?)");
  const insertKey = db.prepare(
    "INSERT OR IGNORE INTO api_keys (digest, user, created_at) VALUES (?, ?, ?)",
  );
  const selectKey = db.prepare("SELECT digest, user FROM api_keys WHERE digest = ?");
  const countKeys = db.prepare("SELECT COUNT(*) AS n FROM api_keys");
  const addBoth = db.transaction((user: string, digest: string) => {
    const now = new Date().toISOString();
    insertUser.run(user, now);
    insertKey.run(digest, user, now);
  });
  return {
    add: (user, digest) => guarded(() => addBoth(user, digest)),
    find: (digest) =>
      guarded(() => selectKey.get(digest) as { user: string; digest: string } | undefined),
    count: () => guarded(() => (countKeys.get() as { n: number }).n),
  };
}
