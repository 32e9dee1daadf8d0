/**
 * The agent: the one long-lived process the server starts inside a sandbox. It reads requests
 * from stdin, runs them as the sandbox's user inside the sandbox's view of the filesystem, and
 * writes responses to stdout. It is bundled into a single file and has no dependencies.
 */
import type {
  AgentCancel,
  AgentFailure,
  AgentRequest,
  AgentResponse,
} from "../shared/agent-protocol.ts";
import type { TransferFrame } from "../shared/transfer-protocol.ts";
import { AgentError, isProcessLimitError, processLimitError } from "./failure.ts";
import { fileHandlers } from "./files/handlers.ts";
import { removeWriteLeftovers } from "./files/leftovers.ts";
import { toLocalPath } from "./files/paths.ts";
import { portHandlers } from "./ports/handlers.ts";
import { shellHandlers } from "./shell/handlers.ts";
import { transferHandlers } from "./transfer/handlers.ts";
import { type CallStream, createCallStream } from "./transfer-stream.ts";

type AnyHandler = (params: never, signal: AbortSignal, stream: CallStream) => Promise<unknown>;

const handlers: Record<string, AnyHandler> = {
  ...fileHandlers,
  ...shellHandlers,
  ...portHandlers,
  ...transferHandlers,
  ping: async () => ({ pid: process.pid, uid: process.getuid?.() ?? -1 }),
};

// A write past the sandbox's file-size limit must fail with EFBIG, not kill the agent.
process.on("SIGXFSZ", () => {});

const inFlight = new Map<number, AbortController>();
const streams = new Map<number, CallStream>();

// Every tool waits for it, so none sees a half-written temp file; the start's ping does not.
const leftoversRemoved = removeWriteLeftovers(toLocalPath("/home/user")).catch(() => 0);

function writeLine(line: string, bytes?: Buffer): void {
  process.stdout.write(line);
  if (bytes) process.stdout.write(bytes);
}

function send(response: AgentResponse): void {
  writeLine(`${JSON.stringify(response)}\n`);
}

function toFailure(error: unknown): AgentFailure {
  if (error instanceof AgentError) return { code: error.code, message: error.message };
  if (isProcessLimitError(error)) {
    const { message } = processLimitError(`a process (${(error as { path?: string }).path})`);
    return { code: "unavailable", message };
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // Unexpected errors keep their text for the log but never leak a stack to the client.
  return {
    code: "internal",
    message: `agent: ${typeof nodeCode === "string" ? `${nodeCode}: ` : ""}${message}`,
  };
}

async function dispatch(request: AgentRequest): Promise<void> {
  const handler = handlers[request.method];
  if (!handler) {
    send({
      id: request.id,
      error: { code: "internal", message: `unknown agent method ${request.method}` },
    });
    return;
  }
  const controller = new AbortController();
  inFlight.set(request.id, controller);
  const stream = createCallStream(request.id, writeLine, controller.signal);
  streams.set(request.id, stream);
  try {
    if (request.method !== "ping") await leftoversRemoved;
    const result = await handler(request.params as never, controller.signal, stream);
    send({ id: request.id, result });
  } catch (error) {
    send({ id: request.id, error: toFailure(error) });
  } finally {
    inFlight.delete(request.id);
    streams.delete(request.id);
  }
}

function onLine(line: string): void {
  if (!line) return;
  const message = JSON.parse(line) as AgentRequest | AgentCancel | TransferFrame;
  if ("cancel" in message) {
    inFlight.get(message.cancel)?.abort();
    return;
  }
  if (!("method" in message)) {
    const stream = streams.get(message.id);
    if ("data" in message) raw = { left: message.data, parts: [], stream };
    else if ("end" in message) stream?.end();
    else if ("credit" in message) stream?.credit(message.credit);
    return;
  }
  void dispatch(message);
}

// Lines, and after a `{ id, data: n }` line exactly n raw bytes of a transfer's body.
let raw: { left: number; parts: Buffer[]; stream: CallStream | undefined } | undefined;
let partial: Buffer[] = [];
process.stdin.on("data", (chunk: Buffer) => {
  let start = 0;
  while (start < chunk.length) {
    if (raw) {
      const piece = chunk.subarray(start, start + raw.left);
      raw.parts.push(piece);
      raw.left -= piece.length;
      start += piece.length;
      if (raw.left > 0) return;
      const { parts, stream } = raw;
      raw = undefined;
      stream?.chunk(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
      continue;
    }
    const end = chunk.indexOf(10, start);
    if (end === -1) {
      partial.push(chunk.subarray(start));
      return;
    }
    const line = Buffer.concat([...partial, chunk.subarray(start, end)]);
    partial = [];
    start = end + 1;
    onLine(line.toString("utf8"));
  }
});
// The server closing our stdin means it is gone: nothing inside may outlive it.
process.stdin.on("end", () => process.exit(0));
