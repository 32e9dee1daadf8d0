/** The longest delay `setTimeout` accepts: larger values fire at once. */
const MAX_TIMER = 2_147_483_647;

/** One request's abort state: the parents' aborts and its own timeout in one signal. */
export interface LinkedSignal {
  /** The signal passed to the transport. */
  readonly signal: AbortSignal;
  /** Rejects with the signal's reason when it aborts; never resolves. */
  readonly aborted: Promise<never>;
  /** Stops the timer and detaches from the parents. */
  dispose(): void;
}

/**
 * Links a signal to `parents` and to a timer: the first to fire aborts it, with that parent's own
 * reason (so a user abort surfaces as exactly `signal.reason`) or with `onTimeout()`.
 */
export function linkSignal(
  parents: readonly (AbortSignal | undefined)[],
  timeout: number,
  onTimeout: () => unknown,
): LinkedSignal {
  const controller = new AbortController();
  const { signal } = controller;
  const detachers: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const forward = (): void => controller.abort(parent.reason);
    parent.addEventListener("abort", forward, { once: true });
    detachers.push(() => parent.removeEventListener("abort", forward));
  }
  const timer = signal.aborted
    ? undefined
    : setTimeout(() => controller.abort(onTimeout()), Math.min(timeout, MAX_TIMER));
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  // The race may be won by the response: keep this rejection from being reported as unhandled.
  aborted.catch(() => {});
  return {
    signal,
    aborted,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      for (const detach of detachers) detach();
    },
  };
}
