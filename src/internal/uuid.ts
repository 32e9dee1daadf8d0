/**
 * A random UUID v4. `crypto.randomUUID` exists only in secure contexts (not on plain-http pages)
 * and in recent runtimes, so this falls back to `getRandomValues`, then to `Math.random`.
 */
export function randomId(): string {
  // Read off globalThis loosely: Workers' types declare `crypto` elsewhere than the DOM's.
  const webCrypto = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (webCrypto?.randomUUID) return webCrypto.randomUUID();
  // Each x gets 4 random bits; y gets the RFC 4122 variant bits (8, 9, a or b).
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (slot) => {
    const random = webCrypto?.getRandomValues
      ? webCrypto.getRandomValues(new Uint8Array(1))[0]!
      : Math.random() * 256;
    return (slot > "x" ? (random & 3) | 8 : random & 15).toString(16);
  });
}
