import { onAbort } from "./signal.ts";

/**
 * Waits `ms` milliseconds, or rejects with the signal's reason as soon as it aborts.
 * Every wait in the client (retry backoff, poll intervals) goes through here so that it stays abortable.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const detach = signal
      ? onAbort(signal, () => {
          clearTimeout(timer);
          reject(signal.reason);
        })
      : undefined;
    const timer = setTimeout(() => {
      detach?.();
      resolve();
    }, ms);
  });
}
