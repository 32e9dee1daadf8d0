/**
 * A random UUID v4. `crypto.randomUUID` exists only in secure contexts (not on plain-http pages)
 * and in recent runtimes, so this falls back to `getRandomValues`, then to `Math.random`.
 */
export function randomId(): string {
  // Read off globalThis loosely: Workers' types declare `crypto` elsewhere than the DOM's.
  const webCrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof webCrypto?.randomUUID === "function") return webCrypto.randomUUID();
  const random =
    typeof webCrypto?.getRandomValues === "function"
      ? () => webCrypto.getRandomValues(new Uint8Array(1))[0]!
      : () => Math.floor(Math.random() * 256);
  // Each x gets 4 random bits; y gets the RFC 4122 variant bits (8, 9, a or b).
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (slot) =>
    (slot === "x" ? random() & 15 : (random() & 3) | 8).toString(16),
  );
}
