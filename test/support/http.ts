/**
 * Raw HTTP for the protocol tests that the SDK cannot express (malformed bodies, missing
 * headers, odd methods): one call, its status, headers and parsed body.
 */

/** What a raw call answered. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

/** Options of one raw call. */
export interface RawCallOptions {
  method?: string;
  token?: string;
  session?: string;
  /** A value to send as JSON, or a string / bytes sent as they are. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends one request to `baseUrl + path`. */
export async function rawCall(
  baseUrl: string,
  path: string,
  options: RawCallOptions = {},
): Promise<RawAnswer> {
  const headers: { authorization?: string; [name: string]: string | undefined } = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.session !== undefined) headers["lumina-tool-session"] = options.session;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (typeof options.body === "string" || options.body instanceof Uint8Array) {
    body = options.body as string | Uint8Array<ArrayBuffer>;
  } else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers: { ...headers, ...options.headers } as Record<string, string>,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The `{ error: { code } }` of an answer (undefined when it has none). */
export function errorCode(answer: RawAnswer): string | undefined {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Whether a body looks like it carries a stack trace or a host source path. */
export function looksLikeStack(text: string): boolean {
  return /\n\s+at |\.ts:\d+|node_modules|\/work\//.test(text);
}
