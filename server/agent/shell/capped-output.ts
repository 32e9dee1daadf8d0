/**
 * Collects a foreground command's output with bounded memory: the first and the last bytes are
 * kept, the middle of an oversized output is dropped, and `result()` says how much went missing.
 */
export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  /** Bytes kept at each end; 4 bytes per character covers any UTF-8 text. */
  private readonly keep: number;

  constructor(private readonly maxChars: number) {
    this.keep = Math.max(1, Math.ceil(maxChars / 2)) * 4;
  }

  /** The number of bytes seen so far. */
  get size(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.keep) {
      const taken = chunk.subarray(0, this.keep - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    // Trim the tail once it holds twice what we keep, so pushes stay cheap.
    if (this.tailBytes > this.keep * 2) {
      const joined = Buffer.concat(this.tail).subarray(this.tailBytes - this.keep);
      this.tail = [joined];
      this.tailBytes = joined.length;
    }
  }

  /** The output as text, cut in the middle with a marker if it exceeds the cap (then `truncated`). */
  result(): { text: string; truncated: boolean } {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    const dropped = this.total - head.length - tail.length;
    if (dropped === 0) {
      const whole = Buffer.concat([head, tail]).toString("utf8");
      if (whole.length <= this.maxChars) return { text: whole, truncated: false };
    }
    const half = Math.floor(this.maxChars / 2);
    const whole = dropped === 0 ? Buffer.concat([head, tail]).toString("utf8") : undefined;
    const headText = whole ?? head.toString("utf8");
    const tailText = whole ?? tail.toString("utf8");
    const keptHead = headText.slice(0, half);
    const keptTail = tailText.slice(tailText.length - (this.maxChars - half));
    // Approximate for invalid UTF-8 (each bad byte decodes to a 3-byte replacement character).
    const droppedBytes = Math.max(
      0,
      this.total - Buffer.byteLength(keptHead, "utf8") - Buffer.byteLength(keptTail, "utf8"),
    );
    const marker = `[… output truncated: ${droppedBytes} bytes omitted from the middle (${this.total} bytes in all, the cap is ${this.maxChars} characters) …]`;
    return { text: `${keptHead}\n${marker}\n${keptTail}`, truncated: true };
  }
}
