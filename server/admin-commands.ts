/**
 * The operator's commands of `lumina-server` that edit the registry and exit: `add-key`,
 * `list-keys`, `revoke-key` and `remove-user`. They work beside a running server (the registry
 * is read on every request), so a revoked key or a removed user is refused at once.
 */
import { digestApiKey, generateApiKey, isUserName } from "./auth/api-keys.ts";
import { openRegistry } from "./store/database.ts";
import { createKeyStore, type KeyStore } from "./store/keys.ts";

/** The names of the commands in this file. */
export const adminCommandNames: readonly string[] = [
  "add-key",
  "list-keys",
  "revoke-key",
  "remove-user",
];

/** How a key is named to an operator: the start of its SHA-256 digest (the key is not stored). */
export function keyIdOf(digest: string): string {
  return digest.slice(0, 12);
}

/** What a command printed and its exit code. */
export interface AdminResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ok = (stdout: string): AdminResult => ({ code: 0, stdout, stderr: "" });
const refused = (stderr: string, code = 2): AdminResult => ({ code, stdout: "", stderr });

/** Runs one command (`args` are its positionals after the name) on the registry in `dataDir`. */
export function runAdminCommand(name: string, args: string[], dataDir: string): AdminResult {
  const [user, ...rest] = args;
  const wanted = name === "revoke-key" ? 1 : 0;
  if (!user || !isUserName(user) || rest.length !== wanted) {
    const shape = name === "revoke-key" ? "<user> <key-or-key-id>" : "<user>";
    return refused(`${name} needs ${shape}, a user name being of A-Z a-z 0-9 . _ @ + -`);
  }
  const db = openRegistry(dataDir);
  try {
    const keys = createKeyStore(db);
    if (name === "add-key") return addKey(keys, user);
    if (name === "list-keys") return listKeys(keys, user);
    if (name === "revoke-key") return revokeKey(keys, user, rest[0]!);
    keys.removeUser(user);
    return ok(
      `removed user ${user}: its API keys are revoked, its JWTs are refused, and the server destroys its sandboxes and snapshots (within seconds if it runs, else when it starts)\n`,
    );
  } finally {
    db.close();
  }
}

function addKey(keys: KeyStore, user: string): AdminResult {
  const wasRemoved = keys.isRemoved(user);
  const key = generateApiKey();
  const digest = digestApiKey(key);
  keys.add(user, digest);
  keys.restoreUser(user);
  const note = wasRemoved ? `user ${user} had been removed; this key restores it\n` : "";
  return ok(
    `${note}API key for user ${user} (id ${keyIdOf(digest)}; shown once, store it now): ${key}\n`,
  );
}

function listKeys(keys: KeyStore, user: string): AdminResult {
  const lines = keys.listForUser(user).map((k) => `${keyIdOf(k.digest)}  created ${k.createdAt}`);
  const state = keys.isRemoved(user) ? " (removed)" : "";
  return ok(
    `user ${user}${state}: ${lines.length} API key(s)\n${lines.map((l) => `${l}\n`).join("")}`,
  );
}

function revokeKey(keys: KeyStore, user: string, given: string): AdminResult {
  const text = given.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(text)) {
    return refused(
      "revoke-key needs the key (64 hex characters) or its id (8+ hex characters, from list-keys)",
    );
  }
  const digests = keys.listForUser(user).map((k) => k.digest);
  // A whole key is matched by its digest; anything else is the start of a key id (a digest).
  const matches =
    text.length === 64 && digests.includes(digestApiKey(text))
      ? [digestApiKey(text)]
      : digests.filter((digest) => digest.startsWith(text));
  if (matches.length === 0)
    return refused(
      `user ${user} has no API key matching ${text.slice(0, 12)}; see list-keys ${user}`,
      1,
    );
  if (matches.length > 1)
    return refused(
      `${matches.length} keys of user ${user} start with ${text}; give more of the id`,
    );
  keys.revoke(user, matches[0]!);
  return ok(`revoked API key ${keyIdOf(matches[0]!)} of user ${user}\n`);
}
