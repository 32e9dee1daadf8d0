/**
 * Helpers of the preview tests: the test app (./preview-app.mjs) started in a sandbox, and raw
 * requests to the host-name form of a preview URL, sent to 127.0.0.1 with the URL's Host header.
 */
import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";
import type { LuminaClient } from "../../src/index.ts";

const appSource = readFile(new URL("./preview-app.mjs", import.meta.url), "utf8");

/** A port for a test app: random, so parallel suites on a shared network never collide. */
export const randomPort = (): number => randomInt(20_000, 60_000);

/** Starts the test app on `port` in the client's sandbox; resolves once it listens. */
export async function startApp(client: LuminaClient, port: number): Promise<void> {
  // The home outlives restarts: the app written there before is still there.
  const written = await client.bash("test -f preview-app.mjs");
  if (written.exitCode !== 0) await client.write("/home/user/preview-app.mjs", await appSource);
  await client.bash(`node preview-app.mjs ${port}`, { runInBackground: true });
  // Bounded: 200 looks 50 ms apart for the ready file the app writes once it listens.
  const ready = await client.bash(
    `for i in $(seq 200); do [ -f /tmp/ready-${port} ] && break; sleep 0.05; done; [ -f /tmp/ready-${port} ]`,
  );
  if (ready.exitCode !== 0) throw new Error(`the test app did not listen on port ${port}`);
}

/** Options of a raw host-form request. */
export interface HostFormInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** Sends a request for `url` (a host-name preview URL) to 127.0.0.1 with its Host; the response streams. */
export function openHostForm(url: string, init: HostFormInit = {}): Promise<IncomingMessage> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path: target.pathname + target.search,
        method: init.method ?? "GET",
        headers: { ...init.headers, host: target.host },
      },
      resolve,
    );
    sent.on("error", reject);
    sent.end(init.body);
  });
}

/** A whole host-form answer. */
export interface HostFormAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Sends a host-form request and reads the whole answer. */
export async function hostForm(url: string, init: HostFormInit = {}): Promise<HostFormAnswer> {
  const response = await openHostForm(url, init);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    text: Buffer.concat(chunks).toString("utf8"),
  };
}

/** The host-form URL of `token` for `port` on the server at `serverUrl`. */
export function hostFormUrl(serverUrl: string, port: number, token: string): string {
  return `http://${port}-${token}.localhost:${new URL(serverUrl).port}/`;
}

/** The token of a preview URL (either form). */
export function tokenOf(url: string): string {
  const match = /\/\/\d+-([0-9a-f]+)\.|\/preview\/([0-9a-f]+)\//.exec(url);
  if (!match) throw new Error(`no preview token in ${url}`);
  return (match[1] ?? match[2]) as string;
}
