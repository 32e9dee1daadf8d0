/**
 * The backends a server can run sandboxes on, by the `isolation` value that picks them. A new
 * backend (pods on a cluster, say) registers its factory here; nothing else in the server
 * names a backend.
 */
import type { BackendFactory } from "./backend.ts";
import { bubblewrapBackendFactory } from "./bubblewrap.ts";
import { unisolatedBackendFactory } from "./unisolated.ts";

/** The backend a server runs on when its options name none. */
export const defaultBackendKind = "bubblewrap";

/** The registered backend factories, keyed by `isolation` value. */
export const backendFactories: Map<string, BackendFactory> = new Map([
  ["bubblewrap", bubblewrapBackendFactory],
  ["none", unisolatedBackendFactory],
]);

/** Registers (or replaces) the backend that `isolation: kind` picks. */
export function registerBackend(kind: string, factory: BackendFactory): void {
  backendFactories.set(kind, factory);
}

/** The factory for `kind`; throws naming the registered kinds when there is none. */
export function backendFactoryOf(kind: string): BackendFactory {
  const factory = backendFactories.get(kind);
  if (factory) return factory;
  const known = [...backendFactories.keys()].map((name) => `'${name}'`).join(", ");
  throw new Error(`no sandbox backend named '${kind}'; pick one of ${known}`);
}
