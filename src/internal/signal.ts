/** The longest delay `setTimeout` accepts: larger values fire at once. */
const MAX_TIMER = 2_147_483_647;

/** The callbacks waiting on one signal, and the one listener that runs them. */
interface Waiters {
  readonly callbacks: Set<() => void>;
  readonly fire: () => void;
}

const waitersOf = new WeakMap<AbortSignal, Waiters>();

/**
 * Runs `callback` once when `signal` aborts (it must not be aborted yet); returns the function that
 * stops waiting. All the waits on one signal share one listener: a client's close signal or a
 * caller's signal serves every call in flight, and Node warns past 10 listeners on one signal.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let waiters = waitersOf.get(signal);
  if (!waiters) {
    const callbacks = new Set<() => void>();
    const fire = (): void => {
      waitersOf.delete(signal);
      for (const run of callbacks) run();
    };
    waiters = { callbacks, fire };
    waitersOf.set(signal, waiters);
    signal.addEventListener("abort", fire, { once: true });
  }
  const { callbacks, fire } = waiters;
  // A function of its own, so that the same callback may wait twice.
  const run = (): void => callback();
  callbacks.add(run);
  return () => {
    // After the abort the set is no longer in the map, and the listener is gone.
    if (callbacks.delete(run) && !callbacks.size) {
      waitersOf.delete(signal);
      signal.removeEventListener("abort", fire);
    }
  };
}

/** One request's abort state: the parents' aborts and its own timeout in one signal. */
export interface LinkedSignal {
  /** The signal passed to the transport. */
  readonly signal: AbortSignal;
  /** Rejects with the signal's reason when it aborts; never resolves. */
  readonly aborted: Promise<never>;
  /** Stops the timer and, unless `detach` is false, detaches from the parents. */
  dispose(detach?: boolean): void;
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
  let reject!: (reason: unknown) => void;
  const aborted = new Promise<never>((_, settle) => {
    reject = settle;
  });
  // The race may be won by the response: keep this rejection from being reported as unhandled.
  aborted.catch(() => {});
  // Only this link aborts its controller, so it settles `aborted` itself rather than listen.
  const abort = (reason: unknown): void => {
    controller.abort(reason);
    reject(signal.reason);
  };
  const detachers: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      abort(parent.reason);
      break;
    }
    detachers.push(onAbort(parent, () => abort(parent.reason)));
  }
  const timer = setTimeout(() => abort(onTimeout()), Math.min(timeout, MAX_TIMER));
  return {
    signal,
    aborted,
    dispose(detach = true) {
      clearTimeout(timer);
      if (detach) for (const detacher of detachers) detacher();
    },
  };
}
