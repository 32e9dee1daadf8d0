/**
 * The private protocol between the server and the agent that runs inside each sandbox.
 *
 * Framing: one JSON object per line on the agent's stdin (requests, cancels) and stdout
 * (responses). The agent is the only process the server starts in a sandbox; every file
 * tool and every shell runs through it, so tools see exactly what the shell sees.
 */
import type { FileMethods } from "./files-protocol.ts";
import type { PortMethods } from "./port-protocol.ts";
import type { ShellMethods } from "./shell-protocol.ts";
import type { TransferMethods } from "./transfer-protocol.ts";

/** Every method the agent answers, by name: `{ params, result }`. */
export interface AgentMethods extends FileMethods, ShellMethods, PortMethods, TransferMethods {
  ping: { params: Record<string, never>; result: { pid: number; uid: number } };
}

/** The name of an agent method. */
export type AgentMethodName = keyof AgentMethods;
/** The parameters of an agent method. */
export type AgentParams<M extends AgentMethodName> = AgentMethods[M]["params"];
/** The result of an agent method. */
export type AgentResult<M extends AgentMethodName> = AgentMethods[M]["result"];

/** A request line from the server. */
export interface AgentRequest {
  id: number;
  method: string;
  params: unknown;
}

/** A cancel line from the server: abort the signal of request `cancel`. */
export interface AgentCancel {
  cancel: number;
}

/**
 * A failure the agent reports. `code` is a wire error code of CONTRACT §3 (`not_found`,
 * `invalid_request`, `not_read`, …); the HTTP layer maps it to a status.
 */
export interface AgentFailure {
  code: string;
  message: string;
}

/** A response line from the agent. */
export type AgentResponse = { id: number; result: unknown } | { id: number; error: AgentFailure };

/**
 * One call's byte stream on the agent's side (see transfer-protocol.ts): the body the server
 * sends it, and the bytes it sends back after a head.
 */
export interface AgentStream {
  /** The bytes the server sends for this call, piece by piece; credit is granted as they are taken. */
  received(): AsyncIterable<Buffer>;
  /** Sends what the server needs before the bytes (a size, a range); at most once, before `send`. */
  head(value: unknown): void;
  /** Sends bytes, waiting for the server's credit: resolves once they are on their way. */
  send(bytes: Buffer): Promise<void>;
}

/** An agent-side handler: gets the params, an abort signal (aborted on cancel) and its stream. */
export type AgentHandler<M extends AgentMethodName> = (
  params: AgentParams<M>,
  signal: AbortSignal,
  stream: AgentStream,
) => Promise<AgentResult<M>>;

/** A table of agent-side handlers, one per method. */
export type AgentHandlers<Names extends AgentMethodName> = { [M in Names]: AgentHandler<M> };
