/** API keys: 64 hex characters, stored only as SHA-256 digests and looked up by digest. */
import { createHash, randomBytes } from "node:crypto";
import type { KeyStore } from "../store/keys.ts";

const apiKeyShape = /^[0-9a-f]{64}$/i;
/** User names: short, printable, and never containing the `:` of `user:key` pairs. */
const userNameShape = /^[A-Za-z0-9._@+-]{1,128}$/;

/** A fresh API key: 32 random bytes as 64 lowercase hex characters. */
export function generateApiKey(): string {
  return randomBytes(32).toString("hex");
}

/** The SHA-256 digest (hex) under which a key is stored. */
export function digestApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Whether `key` has the shape of an API key (64 hex characters). */
export function isApiKeyShape(key: string): boolean {
  return apiKeyShape.test(key);
}

/** Whether `name` is acceptable as a user name. */
export function isUserName(name: string): boolean {
  return userNameShape.test(name);
}

/**
 * Parses `LUMINA_API_KEYS` (`user:key,user:key`). Throws an error naming the bad entry (never
 * echoing a key) so a typo stops the server instead of silently locking a user out.
 */
export function parseApiKeyList(text: string): { user: string; key: string }[] {
  const pairs: { user: string; key: string }[] = [];
  for (const [index, raw] of text.split(",").entries()) {
    const entry = raw.trim();
    if (!entry) continue;
    const colon = entry.lastIndexOf(":");
    const user = entry.slice(0, colon).trim();
    const key = entry.slice(colon + 1).trim();
    if (colon < 0 || !isUserName(user) || !isApiKeyShape(key)) {
      throw new Error(
        `LUMINA_API_KEYS entry ${index + 1} is not "user:key" with a user of [A-Za-z0-9._@+-] and a key of 64 hex characters`,
      );
    }
    pairs.push({ user, key: key.toLowerCase() });
  }
  return pairs;
}

/**
 * The user a presented API key belongs to. The registry is searched by the key's SHA-256
 * digest; no constant-time comparison is needed: an index lookup's timing could at most hint at
 * a digest's prefix, which does not help anyone find a key (SHA-256 cannot be inverted).
 */
export function userForApiKey(keys: KeyStore, token: string): string | undefined {
  return keys.find(digestApiKey(token.toLowerCase()))?.user;
}
