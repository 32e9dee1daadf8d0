/**
 * The agent's end of a streamed call (server/shared/transfer-protocol.ts): the body the server
 * sends arrives against the credit granted here as it is consumed, and bytes go back only
 * against the server's credit, so a transfer of any size holds at most a window of chunks.
 */
import type { AgentStream } from "../shared/agent-protocol.ts";
import { transferChunkBytes, transferWindow } from "../shared/transfer-protocol.ts";

/** One call's stream, with the entry points the line reader feeds. */
export interface CallStream extends AgentStream {
  /** A piece of the server's body. */
  chunk(bytes: Buffer): void;
  /** The server's body is complete. */
  end(): void;
  /** The server lets `count` more chunks come. */
  credit(count: number): void;
}

/**
 * Creates the stream of call `id`; `write` sends one line (and raw bytes after it) to the server,
 * `signal` is the call's.
 */
export function createCallStream(
  id: number,
  write: (line: string, bytes?: Buffer) => void,
  signal: AbortSignal,
): CallStream {
  const queue: Buffer[] = [];
  let ended = false;
  let wake: () => void = () => {};
  let credit = 0;
  let creditWake: () => void = () => {};
  let headSent = false;
  const wakeAll = (): void => {
    wake();
    creditWake();
  };
  signal.addEventListener("abort", wakeAll, { once: true });
  const waitFor = (set: (resolve: () => void) => void): Promise<void> =>
    new Promise((resolve) => set(resolve));

  return {
    chunk(bytes) {
      queue.push(bytes);
      wake();
    },
    end() {
      ended = true;
      wake();
    },
    credit(count) {
      credit += count;
      creditWake();
    },
    async *received() {
      write(`${JSON.stringify({ id, credit: transferWindow })}\n`);
      for (;;) {
        if (signal.aborted) throw signal.reason ?? new Error("the transfer was cancelled");
        const next = queue.shift();
        if (next) {
          // The chunk is taken: the server may send one more.
          write(`${JSON.stringify({ id, credit: 1 })}\n`);
          yield next;
        } else if (ended) return;
        else
          await waitFor((resolve) => {
            wake = resolve;
          });
      }
    },
    head(value) {
      if (headSent) return;
      headSent = true;
      write(`${JSON.stringify({ id, head: value })}\n`);
    },
    async send(bytes) {
      if (!headSent) this.head({});
      for (let at = 0; at < bytes.length; at += transferChunkBytes) {
        while (credit < 1) {
          if (signal.aborted) throw signal.reason ?? new Error("the transfer was cancelled");
          await waitFor((resolve) => {
            creditWake = resolve;
          });
        }
        credit--;
        const piece = bytes.subarray(at, at + transferChunkBytes);
        write(`${JSON.stringify({ id, data: piece.length })}\n`, piece);
      }
    },
  };
}
