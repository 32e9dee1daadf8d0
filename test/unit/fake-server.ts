/** An in-process stand-in for the server: records each request and answers through `respond`. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
}

export type Responder = (request: RecordedRequest, index: number) => Response | Promise<Response>;

export function fakeServer(respond: Responder): {
  fetch: (request: Request) => Promise<Response>;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const text = await request.text();
    const recorded: RecordedRequest = {
      method: request.method,
      path: new URL(request.url).pathname,
      headers: Object.fromEntries(request.headers),
      body: text ? JSON.parse(text) : undefined,
      signal: request.signal,
    };
    requests.push(recorded);
    return respond(recorded, requests.length - 1);
  };
  return { fetch, requests };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function failure(status: number, code: string, message: string, headers = {}): Response {
  return json({ error: { code, message } }, status, headers);
}

/** A promise that settles only when the request's signal aborts, like a hung server. */
export function hang(request: RecordedRequest): Promise<Response> {
  return new Promise((_, reject) =>
    request.signal.addEventListener("abort", () => reject(request.signal.reason)),
  );
}

export const base = { baseUrl: "http://lumina.test/", token: "t0k", sandbox: "my box" };
