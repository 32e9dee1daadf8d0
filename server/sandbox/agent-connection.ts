import type { Readable, Writable } from "node:stream";
import { ServerError } from "../errors.ts";
import type {
  AgentFailure,
  AgentMethodName,
  AgentParams,
  AgentResult,
} from "../shared/agent-protocol.ts";
import { type TransferFrame, transferChunkBytes } from "../shared/transfer-protocol.ts";
import { type AgentTransfer, startTransfer, type TransferEnds } from "./agent-transfer.ts";

/**
 * The longest answer line accepted: the largest legitimate one is a 20 MiB image as base64 in
 * JSON (about 27 MiB), so this leaves room while bounding what a sandbox can make us buffer.
 */
export const maxAgentLineBytes: number = 64 * 1024 ** 2;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Answer = { id: number; result: unknown } | { id: number; error: AgentFailure };

/** The options of a streamed call. */
export interface TransferOptions {
  signal?: AbortSignal | undefined;
  /** The bytes to send the agent (an upload). */
  body?: ReadableStream<Uint8Array> | undefined;
}

/** The server's end of an agent's two streams: numbered requests, cancels, and the answers. */
export interface AgentConnection {
  call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
  ): Promise<AgentResult<M>>;
  /** Calls a streamed method (server/shared/transfer-protocol.ts). */
  transfer<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    options?: TransferOptions,
  ): AgentTransfer<AgentResult<M>>;
  /** Resolves when the agent's output ends or breaks the protocol (stop the sandbox then). */
  readonly closed: Promise<void>;
  /** Whether `closed` has happened: no call can succeed any more. */
  readonly isClosed: boolean;
}

/** Options of `connectAgent`. */
export interface ConnectOptions {
  /** Where a protocol violation is reported. @default console.error */
  log?: (line: string) => void;
  /** Names the agent in log lines (a pid, a pod). @default "agent" */
  label?: string;
}

/** Whether `size` is a whole number of bytes one data frame may carry. */
function isChunkSize(size: unknown): size is number {
  return (
    Number.isSafeInteger(size) && (size as number) > 0 && (size as number) <= transferChunkBytes
  );
}

/** Checks one answer line's shape; returns the answer or transfer frame, or why it is neither. */
function parseAnswer(text: string): Answer | TransferFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "a line that is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "a line that is not a JSON object";
  }
  const answer = value as { id?: unknown; result?: unknown; error?: unknown };
  if (!Number.isSafeInteger(answer.id)) return "an answer without an integer id";
  for (const key of ["data", "credit", "head"]) {
    if (Object.hasOwn(answer, key)) return answer as TransferFrame;
  }
  const hasResult = Object.hasOwn(answer, "result");
  const hasError = Object.hasOwn(answer, "error");
  if (hasResult === hasError) return "an answer with neither or both of result and error";
  if (hasResult) return { id: answer.id as number, result: answer.result };
  const error = answer.error as { code?: unknown; message?: unknown } | null;
  if (typeof error !== "object" || error === null) return "an error answer without an object";
  if (typeof error.code !== "string" || typeof error.message !== "string") {
    return "an error answer without a string code and message";
  }
  return { id: answer.id as number, error: { code: error.code, message: error.message } };
}

/**
 * Speaks the agent protocol over two streams: `input` carries requests to the agent, `output`
 * its answers (a child's stdin and stdout, or a socket or exec stream's two halves). The agent
 * shares its uid with user commands, which can take over its output: every line is untrusted,
 * and any line that breaks the protocol closes the connection (the runtime then stops the
 * sandbox). Ending the agent is the runtime's job, never the connection's.
 */
export function connectAgent(
  input: Writable,
  output: Readable,
  options: ConnectOptions = {},
): AgentConnection {
  const label = options.label ?? "agent";
  const log = options.log ?? ((line: string) => console.error(line));
  const pending = new Map<number, Pending>();
  // Cancelled calls the agent will still answer once; such an answer is expected, not forged.
  const cancelled = new Set<number>();
  const transfers = new Map<number, TransferEnds>();
  const drainWaiters = new Set<() => void>();
  const wakeWriters = (): void => {
    for (const wake of drainWaiters) wake();
    drainWaiters.clear();
  };
  let nextId = 1;
  let isClosed = false;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });

  function close(error: ServerError): void {
    if (isClosed) return;
    isClosed = true;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    cancelled.clear();
    transfers.clear();
    wakeWriters();
    markClosed();
  }

  function violate(reason: string): void {
    if (isClosed) return;
    log(`${label} broke the protocol (${reason}); stopping its sandbox`);
    close(
      new ServerError(
        "unavailable",
        "the sandbox broke the agent protocol and was stopped; try again",
        true,
      ),
    );
    output.destroy(); // Read nothing more from it.
  }

  function onLine(line: Buffer): void {
    if (line.length === 0) return;
    const answer = parseAnswer(line.toString("utf8"));
    if (typeof answer === "string") {
      violate(answer);
      return;
    }
    if (!("result" in answer) && !("error" in answer)) {
      const ends = transfers.get(answer.id);
      const broken = ends ? ends.frame(answer) : cancelled.has(answer.id) ? undefined : "no";
      if (broken) {
        violate(`${broken === "no" ? "a frame of no transfer" : broken} (call ${answer.id})`);
      } else if ("data" in answer) {
        // The raw bytes follow the line; those of a cancelled call are read and dropped.
        const take = ends ? (bytes: Buffer) => ends.data(bytes) : () => {};
        if (!ends && !isChunkSize(answer.data)) violate("a data frame of a bad size");
        else raw = { left: answer.data, parts: [], take };
      }
      return;
    }
    const waiter = pending.get(answer.id);
    if (!waiter) {
      if (!cancelled.delete(answer.id))
        violate(`an answer to call ${answer.id}, which is not waiting`);
      return;
    }
    pending.delete(answer.id);
    // The one place an agent's failure becomes the server's: its wire code and message carry over.
    if ("error" in answer) waiter.reject(new ServerError(answer.error.code, answer.error.message));
    else waiter.resolve(answer.result);
  }

  // A line splitter with a cap: readline would buffer an endless line without bound.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  // The bytes still due after a `{ id, data }` line, and where they go.
  let raw: { left: number; parts: Buffer[]; take: (bytes: Buffer) => void } | undefined;
  output.on("data", (chunk: Buffer) => {
    try {
      let start = 0;
      while (!isClosed && start < chunk.length) {
        if (raw) {
          const piece = chunk.subarray(start, start + raw.left);
          raw.parts.push(piece);
          raw.left -= piece.length;
          start += piece.length;
          if (raw.left > 0) return;
          const { parts, take } = raw;
          raw = undefined;
          take(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
          continue;
        }
        const end = chunk.indexOf(10, start);
        const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
        if (partialBytes + piece.length > maxAgentLineBytes) {
          partial = [];
          violate(`a line longer than ${maxAgentLineBytes} bytes`);
          return;
        }
        if (end === -1) {
          if (piece.length > 0) partial.push(piece);
          partialBytes += piece.length;
          return;
        }
        const line = partial.length > 0 ? Buffer.concat([...partial, piece]) : piece;
        partial = [];
        partialBytes = 0;
        onLine(line);
        start = end + 1;
      }
    } catch (error) {
      // Never let a sandbox's output throw out of an event handler: that would end the server.
      violate(`a line the server could not handle: ${(error as Error).message}`);
    }
  });
  output.on("error", () => {});
  output.on("close", () =>
    close(
      new ServerError("unavailable", "the sandbox stopped while the call ran; try again", true),
    ),
  );
  // A write to an agent that just died must not crash the server.
  input.on("error", () => {});
  input.on("drain", wakeWriters);

  function call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
    id: number = nextId++,
  ): Promise<AgentResult<M>> {
    if (isClosed) {
      return Promise.reject(
        new ServerError("unavailable", "the sandbox is not running; try again"),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<AgentResult<M>>((resolve, reject) => {
      const onAbort = () => {
        if (!pending.delete(id)) return;
        cancelled.add(id);
        input.write(`${JSON.stringify({ cancel: id })}\n`);
        reject(signal?.reason);
      };
      pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value as AgentResult<M>);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      input.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  // Resolves once the agent's stdin takes more, so a streamed body never piles up in memory.
  const write = (line: string, bytes?: Buffer): Promise<void> => {
    let more = input.write(line);
    if (bytes) more = input.write(bytes);
    return more || isClosed
      ? Promise.resolve()
      : new Promise((resolve) => drainWaiters.add(resolve));
  };

  function transfer<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    options: TransferOptions = {},
  ): AgentTransfer<AgentResult<M>> {
    const id = nextId++;
    const controller = new AbortController();
    const { signal } = options;
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener("abort", forward, { once: true });
    const answer = call(method, params, controller.signal, id).finally(() => {
      transfers.delete(id);
      signal?.removeEventListener("abort", forward);
    });
    const started = startTransfer({ id, write, controller }, answer, options.body);
    if (!isClosed) transfers.set(id, started.ends);
    return started.transfer;
  }

  return {
    call: (method, params, signal) => call(method, params, signal),
    transfer,
    closed,
    get isClosed() {
      return isClosed;
    },
  };
}
