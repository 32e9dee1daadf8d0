/**
 * The server's end of one streamed agent call (server/shared/transfer-protocol.ts): it sends the
 * body against the agent's credit and hands the agent's bytes on as a `ReadableStream` that
 * grants credit only as its reader takes them, so a transfer holds at most a window of chunks.
 */
import { ServerError } from "../errors.ts";
import {
  type TransferFrame,
  transferChunkBytes,
  transferWindow,
} from "../shared/transfer-protocol.ts";

/** A streamed call as the server sees it. */
export interface AgentTransfer<Result> {
  /** The agent's head; rejects with the call's failure when that comes first. */
  readonly head: Promise<unknown>;
  /** The bytes the agent sends after its head; errors when the call fails. */
  readonly bytes: ReadableStream<Uint8Array>;
  /** The call's answer, once every byte both ways has gone. */
  readonly result: Promise<Result>;
  /** Whether the whole body was sent (false when the answer came first, as on a full disk). */
  readonly bodySent: () => boolean;
}

/**
 * What the connection feeds one transfer: `frame` returns why a frame breaks the protocol; after
 * a `data` frame it passes, `data` gets the bytes that followed it.
 */
export interface TransferEnds {
  frame(frame: TransferFrame): string | undefined;
  data(bytes: Buffer): void;
}

/** The connection's side of a transfer: how to write a line, and the call's own abort. */
export interface TransferLink {
  readonly id: number;
  /** Writes one line (and the raw bytes that follow it) to the agent; resolves once the pipe takes more. */
  write(line: string, bytes?: Buffer): Promise<void>;
  /** Aborts the call (the connection then sends the cancel). */
  readonly controller: AbortController;
}

/** Sets up one transfer around its call's answer; `body` is what the server sends, if any. */
export function startTransfer<Result>(
  link: TransferLink,
  answer: Promise<Result>,
  body: ReadableStream<Uint8Array> | undefined,
): { ends: TransferEnds; transfer: AgentTransfer<Result> } {
  const { id, controller } = link;
  let credit = 0;
  let creditArrived: () => void = () => {};
  let granted = 0;
  let headSeen = false;
  let settled = false;
  let bodySent = body === undefined;
  let resolveHead: (value: unknown) => void = () => {};
  let rejectHead: (error: unknown) => void = () => {};
  const head = new Promise<unknown>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  head.catch(() => {});
  let bytesController: ReadableStreamDefaultController<Uint8Array> | undefined;
  const bytes = new ReadableStream<Uint8Array>(
    {
      start: (streamController) => {
        bytesController = streamController;
      },
      // Tops the agent's credit up to what the queue has room for: a slow reader stops it.
      pull: (streamController) => {
        const room = (streamController.desiredSize ?? 0) - granted;
        if (room <= 0 || controller.signal.aborted) return;
        granted += room;
        void link.write(`${JSON.stringify({ id, credit: room })}\n`);
      },
      cancel: (reason) => controller.abort(reason ?? new Error("the download was cancelled")),
    },
    { highWaterMark: transferWindow },
  );

  // The stream may be cancelled already (a reader that stopped early): then there is nothing to end.
  const settle = (): void => {
    settled = true;
    creditArrived(); // A body still being sent stops: nobody takes it any more.
  };
  answer.then(
    () => {
      settle();
      resolveHead(undefined);
      try {
        bytesController?.close();
      } catch {}
    },
    (error: unknown) => {
      settle();
      rejectHead(error);
      bytesController?.error(error);
    },
  );

  const ends: TransferEnds = {
    frame(frame) {
      if ("credit" in frame) {
        if (!Number.isSafeInteger(frame.credit) || frame.credit < 1) return "a bad credit";
        credit = Math.min(credit + frame.credit, transferWindow);
        creditArrived();
        return undefined;
      }
      if ("head" in frame) {
        if (headSeen) return "a second head";
        headSeen = true;
        resolveHead(frame.head);
        return undefined;
      }
      if ("data" in frame) {
        const size = frame.data;
        if (!Number.isSafeInteger(size) || size < 1 || size > transferChunkBytes) {
          return "a data frame of a bad size";
        }
        if (granted < 1) return "data the server gave no credit for";
        granted--;
        headSeen = true;
        return undefined;
      }
      return "an end from the agent";
    },
    data(bytes) {
      bytesController?.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    },
  };

  const takeCredit = async (): Promise<void> => {
    while (credit < 1) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (settled) throw new Error("the call has ended");
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          controller.signal.removeEventListener("abort", wake);
          resolve();
        };
        creditArrived = wake;
        controller.signal.addEventListener("abort", wake, { once: true });
      });
    }
    credit--;
  };

  if (body) {
    void (async () => {
      const reader = body.getReader();
      try {
        // Request bodies come in pieces of 16 to 64 KiB: they go on in full chunks, fewer frames.
        let held: Buffer[] = [];
        let heldBytes = 0;
        const sendHeld = async (): Promise<void> => {
          const all = held.length === 1 ? (held[0] as Buffer) : Buffer.concat(held);
          held = [];
          heldBytes = 0;
          for (let at = 0; at < all.length; at += transferChunkBytes) {
            await takeCredit();
            const piece = all.subarray(at, at + transferChunkBytes);
            await link.write(`${JSON.stringify({ id, data: piece.length })}\n`, piece);
          }
        };
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          held.push(Buffer.from(value.buffer, value.byteOffset, value.length));
          heldBytes += value.length;
          if (heldBytes >= transferChunkBytes) await sendHeld();
        }
        if (heldBytes > 0) await sendHeld();
        await link.write(`${JSON.stringify({ id, end: true })}\n`);
        bodySent = true;
      } catch (error) {
        reader.cancel().catch(() => {});
        if (settled) return;
        // The client hung up or its body broke: the agent must drop what it has (cancel).
        controller.abort(
          controller.signal.aborted
            ? controller.signal.reason
            : new ServerError("invalid_request", `the request body broke off: ${String(error)}`),
        );
      }
    })();
  }
  return { ends, transfer: { head, bytes, result: answer, bodySent: () => bodySent } };
}
