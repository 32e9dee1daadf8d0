/**
 * `Lumina-Request-Id` (CONTRACT §8): every answer carries a fresh id, and every log line written
 * while that request is handled names it, so an operator can find a user's failure by its id.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** The answer header that carries the request's id. */
export const requestIdHeader = "Lumina-Request-Id";

const current = new AsyncLocalStorage<string>();

/** Runs `handle` as request `id`: log lines written meanwhile (see `tagLogLines`) name it. */
export function runAsRequest<T>(id: string, handle: () => T): T {
  return current.run(id, handle);
}

/** A new request id. */
export function newRequestId(): string {
  return randomUUID();
}

/** Wraps a log function so that lines written while handling a request start with its id. */
export function tagLogLines(log: (line: string) => void): (line: string) => void {
  return (line) => {
    const id = current.getStore();
    log(id ? `[request ${id}] ${line}` : line);
  };
}
