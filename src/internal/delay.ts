import { linkSignal } from "./signal.ts";

/** The reason the delay's own signal aborts with when the time is up. */
const elapsed = Symbol("elapsed");

/**
 * Waits `ms` milliseconds, or rejects with the reason of the first of `signals` to abort.
 * Every wait in the client (retry backoff, poll intervals) goes through here so that it stays abortable.
 */
export async function delay(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  const link = linkSignal(signals, ms, () => elapsed);
  try {
    await link.aborted;
  } catch (reason) {
    if (reason !== elapsed) throw reason;
  } finally {
    link.dispose();
  }
}
