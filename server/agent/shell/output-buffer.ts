/**
 * A background command's output: a byte stream addressed by offsets from its very start, of
 * which only the newest `limit` bytes are kept.
 */
export class OutputBuffer {
  private chunks: Buffer[] = [];
  /** Offset of the oldest kept byte. */
  private first = 0;
  /** Offset just past the newest byte. */
  private last = 0;

  constructor(private readonly limit: number) {}

  /** Offset of the oldest byte still kept. */
  get start(): number {
    return this.first;
  }

  /** Offset just past the newest byte: the stream's length so far. */
  get end(): number {
    return this.last;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    // Copy: the stream may reuse the memory of a chunk it handed us.
    this.chunks.push(Buffer.from(chunk));
    this.last += chunk.length;
    let excess = this.last - this.first - this.limit;
    while (excess > 0) {
      const oldest = this.chunks[0]!;
      if (oldest.length <= excess) {
        this.chunks.shift();
        this.first += oldest.length;
        excess -= oldest.length;
      } else {
        this.chunks[0] = oldest.subarray(excess);
        this.first += excess;
        excess = 0;
      }
    }
  }

  /** The kept bytes from `from` (clamped to the oldest kept byte) to the end. */
  from(from: number): Buffer {
    const begin = Math.max(from, this.first);
    let skip = begin - this.first;
    const parts: Buffer[] = [];
    for (const chunk of this.chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      parts.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    return Buffer.concat(parts);
  }
}

/** The length of the longest prefix of `bytes` that ends on a whole UTF-8 character. */
export function wholeCharacterLength(bytes: Buffer): number {
  // Look back at most 3 bytes for the lead byte of an unfinished sequence.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // A continuation byte: keep looking.
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}
