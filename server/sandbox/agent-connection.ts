import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { AgentError } from "../agent/failure.ts";
import type {
  AgentMethodName,
  AgentParams,
  AgentResponse,
  AgentResult,
} from "../agent/protocol.ts";

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The server's end of an agent's stdio: numbered requests, cancels, and the answers. */
export interface AgentConnection {
  call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
  ): Promise<AgentResult<M>>;
  /** Resolves when the agent's output ends (the process is gone or going). */
  readonly closed: Promise<void>;
}

/** Speaks the agent protocol over a child process's stdin and stdout. */
export function connectAgent(child: ChildProcess): AgentConnection {
  const { stdin, stdout } = child;
  if (!stdin || !stdout) throw new Error("the agent must be spawned with piped stdin and stdout");
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let isClosed = false;

  const lines = createInterface({ input: stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    if (!line) return;
    let response: AgentResponse;
    try {
      response = JSON.parse(line) as AgentResponse;
    } catch {
      return; // Not ours: the agent writes only JSON lines, so this is noise on stdout.
    }
    const waiter = pending.get(response.id);
    if (!waiter) return;
    pending.delete(response.id);
    if ("error" in response)
      waiter.reject(new AgentError(response.error.code, response.error.message));
    else waiter.resolve(response.result);
  });
  const closed = new Promise<void>((resolve) => {
    lines.on("close", () => {
      isClosed = true;
      for (const waiter of pending.values()) {
        waiter.reject(
          new AgentError("unavailable", "the sandbox stopped while the call ran; try again"),
        );
      }
      pending.clear();
      resolve();
    });
  });
  // A write to an agent that just died must not crash the server.
  stdin.on("error", () => {});

  function call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
  ): Promise<AgentResult<M>> {
    if (isClosed) {
      return Promise.reject(new AgentError("unavailable", "the sandbox is not running; try again"));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = nextId++;
    return new Promise<AgentResult<M>>((resolve, reject) => {
      const onAbort = () => {
        pending.delete(id);
        stdin?.write(`${JSON.stringify({ cancel: id })}\n`);
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
      stdin?.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  return { call, closed };
}
