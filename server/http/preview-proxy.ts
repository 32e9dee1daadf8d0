/**
 * The preview proxy (CONTRACT §10): requests for `{port}-{token}.{previewDomain}` (any path) and
 * for `/preview/{token}/…` go to the port inside the sandbox, before the API's routes and auth:
 * the token is the only credential. HTTP and WebSocket proxying is httpxy's (a maintained,
 * dependency-free fork of http-proxy); the connection into the sandbox is the backend's
 * (`SandboxRuntime.connectPort`), handed to httpxy as the one socket of a throwaway agent.
 */
import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "httpxy";
import type { PreviewService } from "../previews/service.ts";
import type { PreviewRecord } from "../previews/store.ts";
import type { SandboxRuntime } from "../sandbox/backend.ts";

/** The proxy's two entry points; each returns false for a request that is not a preview. */
export interface PreviewProxy {
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/** What the proxy needs. */
export interface PreviewProxyOptions {
  previews: PreviewService;
  /** The running runtime of a sandbox, never starting one (a fresh start has nothing listening). */
  runtimeOf(preview: PreviewRecord): Promise<SandboxRuntime | undefined>;
  /** Counts a request for the preview's sandbox in flight (activity, no idle stop); returns its end. */
  begin(preview: PreviewRecord): () => void;
  /** The host-name form's domain (`--preview-domain`). */
  previewDomain: string;
  log: (line: string) => void;
}

/** Which preview a request names: its token, and the port of the host-name form. */
interface PreviewTarget {
  token: string;
  port?: number;
}

const pathForm = /^\/preview\/([0-9a-z]+)(\/.*)?$/i;
const hostLabel = /^(\d{1,5})-([0-9a-z]+)$/;
/** Headers that carry the caller's Lumina or server-origin credentials: never forwarded. */
const credentialHeaders = ["authorization", "cookie"];

/** The preview a request is for, or undefined when it is an API request. */
function targetOf(req: IncomingMessage, domain: string): PreviewTarget | undefined {
  const host = (req.headers.host ?? "").toLowerCase().replace(/:\d+$/, "");
  if (host.endsWith(`.${domain}`)) {
    const label = hostLabel.exec(host.slice(0, -domain.length - 1));
    if (label) return { port: Number(label[1]), token: label[2] as string };
  }
  const path = pathForm.exec(req.url ?? "");
  if (!path) return undefined;
  // The prefix goes: the sandbox's server sees the path it serves.
  req.url = path[2] ?? "/";
  return { token: (path[1] as string).toLowerCase() };
}

function answer(res: ServerResponse | Duplex, status: number, code: string, message: string) {
  const body = JSON.stringify({ error: { code, message } });
  if ("writeHead" in res) {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(body);
    return;
  }
  const reason =
    ({ 404: "Not Found", 503: "Service Unavailable" } as Record<number, string>)[status] ??
    "Bad Gateway";
  res.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** An agent whose one connection is the given socket (already connected into the sandbox). */
function agentOf(socket: Duplex): Agent {
  const agent = new Agent({ keepAlive: false });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => socket;
  return agent;
}

/** Creates the proxy. */
export function createPreviewProxy(options: PreviewProxyOptions): PreviewProxy {
  const { previews, log } = options;
  const domain = options.previewDomain.toLowerCase();
  // No x-forwarded headers, no host rewrite: the sandbox's server sees the preview's own Host.
  const proxy = createProxyServer({ ws: true });
  proxy.on("error", (error, _req, res) => {
    if (res) answer(res, 502, "bad_gateway", `the sandbox's server failed: ${error.message}`);
  });

  /** Resolves the preview and connects into the sandbox; answers the failure itself. */
  async function connect(
    req: IncomingMessage,
    res: ServerResponse | Duplex,
    target: PreviewTarget,
  ): Promise<Duplex | undefined> {
    const preview = previews.find(target.token);
    if (!preview || (target.port !== undefined && target.port !== preview.port)) {
      // The same words for every unknown, closed or expired token: they say nothing of a sandbox.
      answer(res, 404, "not_found", "no preview here: the link is wrong, expired or closed");
      return undefined;
    }
    for (const name of credentialHeaders) delete req.headers[name];
    // A long response, stream or WebSocket is activity of its sandbox until its connection closes.
    res.once("close", options.begin(preview));
    const runtime = await options.runtimeOf(preview);
    if (!runtime) {
      const message = `the sandbox is not running, so nothing listens on port ${preview.port}; start the server in the sandbox again`;
      answer(res, 502, "bad_gateway", message);
      return undefined;
    }
    const aborted = new AbortController();
    const onClose = () => aborted.abort();
    req.socket.once("close", onClose);
    try {
      return await runtime.connectPort(preview.port, aborted.signal);
    } catch (error) {
      const message =
        (error as { code?: unknown }).code === "bad_gateway"
          ? `${(error as Error).message}; start a server on port ${preview.port} in the sandbox (listening on 127.0.0.1 or 0.0.0.0)`
          : `could not reach port ${preview.port} in the sandbox: ${(error as Error).message}`;
      answer(res, 502, "bad_gateway", message);
      return undefined;
    } finally {
      req.socket.off("close", onClose);
    }
  }

  // A failure before the proxy took over (a busy registry, say) still gets an answer.
  const failFor = (res: ServerResponse | Duplex) => (error: unknown) => {
    log(`lumina: preview: ${String(error)}`);
    const busy = (error as { code?: unknown }).code === "unavailable";
    answer(
      res,
      busy ? 503 : 502,
      busy ? "unavailable" : "bad_gateway",
      String((error as Error).message ?? error),
    );
  };
  return {
    handleRequest(req, res) {
      const target = targetOf(req, domain);
      if (!target) return false;
      void connect(req, res, target)
        .then(async (socket) => {
          if (socket)
            await proxy.web(req, res, { target: "http://sandbox", agent: agentOf(socket) });
        })
        .catch(failFor(res));
      return true;
    },
    handleUpgrade(req, socket, head) {
      const target = targetOf(req, domain);
      if (!target) return false;
      socket.on("error", () => {});
      void connect(req, socket, target)
        .then(async (inner) => {
          if (!inner) return;
          await proxy.ws(
            req,
            socket as never,
            { target: "http://sandbox", agent: agentOf(inner) },
            head,
          );
        })
        .catch(failFor(socket));
      return true;
    },
  };
}
