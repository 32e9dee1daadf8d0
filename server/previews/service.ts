/**
 * Exposed ports as users see them (CONTRACT §10): expose, list and close, the two URL forms of a
 * preview, and the lookup of a token for the proxy. Every expiry is checked against `now`.
 */
import { ServerError } from "../errors.ts";
import type { SandboxRecord } from "../store/sandboxes.ts";
import type { PreviewRecord, PreviewStore } from "./store.ts";

/** The longest preview lifetime, and the default one, in ms. */
export const maxPreviewTtlMs = 86_400_000;
export const defaultPreviewTtlMs = 3_600_000;

/** A port on the wire. */
export interface PortView {
  port: number;
  url: string;
  path_url: string;
  expires_at: string;
}

/** Where the server is reached: fixed once it listens. */
export interface PreviewOrigin {
  /** The host-name form's domain (`--preview-domain`). */
  domain: string;
  /** The port the server listens on. */
  port: number;
}

/** The preview lifecycle, for the routes and the proxy. */
export interface PreviewService {
  /** Exposes a port of the sandbox; `serverUrl` is the origin the caller used (for `path_url`). */
  expose(record: SandboxRecord, port: number, ttlMs: number, serverUrl: string): PortView;
  list(record: SandboxRecord, serverUrl: string): PortView[];
  /** Closes a port: 404 when it is not exposed. */
  close(record: SandboxRecord, port: number): void;
  /** The live preview of a token, if any. */
  find(token: string): PreviewRecord | undefined;
  /** Revokes every preview of a sandbox (its restart or destroy). */
  revokeSandbox(sandboxId: string): void;
}

/** Creates the preview service; `origin` is read when a URL is made (the port is known late). */
export function createPreviewService(options: {
  store: PreviewStore;
  origin: () => PreviewOrigin;
  /** The clock of expiry, in ms. @default Date.now */
  now?: () => number;
}): PreviewService {
  const { store, origin } = options;
  const now = options.now ?? Date.now;
  const viewOf = (preview: PreviewRecord, serverUrl: string): PortView => {
    const { domain, port } = origin();
    return {
      port: preview.port,
      url: `http://${preview.port}-${preview.token}.${domain}:${port}/`,
      path_url: `${serverUrl.replace(/\/+$/, "")}/preview/${preview.token}/`,
      expires_at: new Date(preview.expiresAt).toISOString(),
    };
  };
  return {
    expose(record, port, ttlMs, serverUrl) {
      const at = now();
      return viewOf(store.expose(record.id, port, at + ttlMs, at), serverUrl);
    },
    list: (record, serverUrl) =>
      store.list(record.id, now()).map((preview) => viewOf(preview, serverUrl)),
    close(record, port) {
      if (store.close(record.id, port)) return;
      throw new ServerError(
        "not_found",
        `port ${port} of sandbox '${record.name}' is not exposed; see listPorts for the ones that are`,
      );
    },
    find: (token) => store.find(token, now()),
    revokeSandbox: (sandboxId) => store.revokeSandbox(sandboxId),
  };
}
