/**
 * API keys of users, stored only as SHA-256 digests, and the users an operator removed. A user
 * name is one namespace for API-key users and JWT `sub`s: a removed user is refused whatever
 * credential it presents, until an operator adds a key for it again.
 */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** One registered key, as an operator sees it (never the key itself). */
export interface KeyListing {
  digest: string;
  createdAt: string;
}

/** The API key registry. */
export interface KeyStore {
  /** Adds a key digest for `user` (creating the user); adding the same digest again is a no-op. */
  add(user: string, digest: string): void;
  /** The stored digest and its user, if the digest is registered. */
  find(digest: string): { user: string; digest: string } | undefined;
  /** How many keys are registered. */
  count(): number;
  /** The keys of a user, oldest first. */
  listForUser(user: string): KeyListing[];
  /** Deletes one key of a user; false when the user has no such key. */
  revoke(user: string, digest: string): boolean;
  /** Deletes every key of a user and marks it removed (its JWTs are refused too). */
  removeUser(user: string): void;
  /** Clears a user's removed mark (an operator added a key for it again). */
  restoreUser(user: string): void;
  /** Whether an operator removed the user. */
  isRemoved(user: string): boolean;
  /** Every removed user. */
  removedUsers(): string[];
}

/** Creates the key store over the registry database. */
export function createKeyStore(db: RegistryDatabase): KeyStore {
  const insertUser = db.prepare("INSERT OR IGNORE INTO users (name, created_at) VALUES (?, ?)");
  const insertKey = db.prepare(
    "INSERT OR IGNORE INTO api_keys (digest, user, created_at) VALUES (?, ?, ?)",
  );
  const selectKey = db.prepare("SELECT digest, user FROM api_keys WHERE digest = ?");
  const countKeys = db.prepare("SELECT COUNT(*) AS n FROM api_keys");
  const selectUserKeys = db.prepare(
    "SELECT digest, created_at AS createdAt FROM api_keys WHERE user = ? ORDER BY created_at, digest",
  );
  const deleteKey = db.prepare("DELETE FROM api_keys WHERE user = ? AND digest = ?");
  const deleteUserKeys = db.prepare("DELETE FROM api_keys WHERE user = ?");
  const markRemoved = db.prepare(
    "INSERT OR IGNORE INTO removed_users (name, removed_at) VALUES (?, ?)",
  );
  const unmarkRemoved = db.prepare("DELETE FROM removed_users WHERE name = ?");
  const selectRemoved = db.prepare("SELECT 1 FROM removed_users WHERE name = ?");
  const selectAllRemoved = db.prepare("SELECT name FROM removed_users ORDER BY name");
  const addBoth = db.transaction((user: string, digest: string) => {
    const now = new Date().toISOString();
    insertUser.run(user, now);
    insertKey.run(digest, user, now);
  });
  const removeUser = db.transaction((user: string) => {
    deleteUserKeys.run(user);
    markRemoved.run(user, new Date().toISOString());
  });
  return {
    add: (user, digest) => guarded(() => addBoth(user, digest)),
    find: (digest) =>
      guarded(() => selectKey.get(digest) as { user: string; digest: string } | undefined),
    count: () => guarded(() => (countKeys.get() as { n: number }).n),
    listForUser: (user) => guarded(() => selectUserKeys.all(user) as KeyListing[]),
    revoke: (user, digest) => guarded(() => deleteKey.run(user, digest).changes > 0),
    removeUser: (user) => guarded(() => removeUser(user)),
    restoreUser: (user) => guarded(() => void unmarkRemoved.run(user)),
    isRemoved: (user) => guarded(() => selectRemoved.get(user) !== undefined),
    removedUsers: () =>
      guarded(() => (selectAllRemoved.all() as { name: string }[]).map((row) => row.name)),
  };
}
