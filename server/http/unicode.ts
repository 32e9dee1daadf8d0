/**
 * Unicode checks of request bodies: the raw bytes must be UTF-8 and every string must be
 * well-formed (no lone surrogate from a `\ud800` escape), since a tool writes strings as UTF-8 and
 * would otherwise replace what it cannot encode with U+FFFD without a word.
 */
import { isUtf8 } from "node:buffer";

/** The offset of the first byte that starts no valid UTF-8 sequence, or -1 when all are valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/** The length of the valid UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates), or 0. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  const continuation = (at: number, min = 0x80, max = 0xbf) => {
    const byte = bytes[i + at];
    return byte !== undefined && byte >= min && byte <= max;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const [min, max] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return continuation(1, min, max) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const [min, max] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return continuation(1, min, max) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

/** Where a parsed JSON value holds a string with a lone surrogate: the field's path and index. */
export interface LoneSurrogate {
  /** The field, such as `content` or `allow[2]` (`""` for the top level). */
  field: string;
  /** The index of the lone surrogate in the string, in UTF-16 code units. */
  offset: number;
  /** The surrogate as an escape, such as `\ud800`. */
  escape: string;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (UTF-16 units). */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first string (key or value) of a parsed JSON value with a lone surrogate, if any. */
export function findLoneSurrogate(value: unknown, field = ""): LoneSurrogate | undefined {
  if (typeof value === "string") {
    const match = loneSurrogate.exec(value);
    if (!match) return undefined;
    const unit = value.charCodeAt(match.index).toString(16).padStart(4, "0");
    return { field, offset: match.index, escape: `\\u${unit}` };
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findLoneSurrogate(item, `${field}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const name = field ? `${field}.${key}` : key;
    const found = findLoneSurrogate(key, `${name} (the key)`) ?? findLoneSurrogate(item, name);
    if (found) return found;
  }
  return undefined;
}
