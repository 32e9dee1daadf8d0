/**
 * JSON text in pieces, for answers that may be tens of MiB (a 20 MiB image is 27 MiB of base64):
 * writing them piece by piece, as fast as the client reads, means the server never holds a
 * second full copy of the answer as one string or one socket buffer.
 */

/** The size of the pieces `jsonChunks` yields, in characters. */
export const jsonChunkChars = 64 * 1024;

/** Whether JSON.stringify leaves this object member out (and writes `null` in an array). */
function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

function* jsonPieces(value: unknown, sliceChars: number): Generator<string, void, undefined> {
  if (value !== null && typeof value === "object") {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      yield* jsonPieces(toJSON.call(value), sliceChars);
      return;
    }
    if (Array.isArray(value)) {
      yield "[";
      for (let index = 0; index < value.length; index++) {
        if (index > 0) yield ",";
        const item: unknown = value[index];
        yield* jsonPieces(isOmitted(item) ? null : item, sliceChars);
      }
      yield "]";
      return;
    }
    let separator = "{";
    for (const [key, item] of Object.entries(value)) {
      if (isOmitted(item)) continue;
      yield `${separator}${JSON.stringify(key)}:`;
      separator = ",";
      yield* jsonPieces(item, sliceChars);
    }
    yield separator === "{" ? "{}" : "}";
    return;
  }
  if (typeof value === "string" && value.length > sliceChars) {
    yield '"';
    for (let start = 0; start < value.length; ) {
      let end = Math.min(start + sliceChars, value.length);
      // A surrogate pair split in two would be escaped as two lone halves.
      const last = value.charCodeAt(end - 1);
      if (end < value.length && last >= 0xd800 && last <= 0xdbff) end--;
      yield JSON.stringify(value.slice(start, end)).slice(1, -1);
      start = end;
    }
    yield '"';
    return;
  }
  yield JSON.stringify(value) ?? "null";
}

/** Yields the JSON text of `value` (what JSON.stringify gives) in pieces of about `chunkChars`. */
export function* jsonChunks(
  value: unknown,
  chunkChars: number = jsonChunkChars,
): Generator<string, void, undefined> {
  let pending = "";
  for (const piece of jsonPieces(value, chunkChars)) {
    pending += piece;
    if (pending.length >= chunkChars) {
      yield pending;
      pending = "";
    }
  }
  if (pending !== "") yield pending;
}

/** About how many bytes of strings `value` holds: what an answer keeps in memory until sent. */
export function heldBytesOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (value === null || typeof value !== "object") return 8;
  let total = 8;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    total += heldBytesOf(item);
  }
  return total;
}
