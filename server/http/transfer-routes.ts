/**
 * Binary files and directory archives (CONTRACT §11): raw bytes in and out, streamed between the
 * client and the agent at constant memory (server/sandbox/agent-transfer.ts). Bodies here are
 * bounded by the sandbox's disk, not by the JSON body limit. These are not tool calls: no
 * session, no read record; a replaced file gets a new inode, so other sessions' records go stale.
 */
import type { Context, Hono } from "hono";
import { ServerError } from "../errors.ts";
import type { AgentTransfer } from "../sandbox/agent-transfer.ts";
import type { SandboxRuntime } from "../sandbox/backend.ts";
import type { ByteRange, DownloadHead } from "../shared/transfer-protocol.ts";
import { checkToolPath } from "../tools/tool-path.ts";
import type { AppEnv, AppServices } from "./app-types.ts";
import { errorResponse, toWireError } from "./errors.ts";
import { createConcurrencyLimit } from "./limits.ts";

/** Parses one `Range: bytes=…` (RFC 9110 §14.2); anything else (several ranges) is ignored. */
export function parseRange(header: string | undefined): ByteRange | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
  if (!match || (match[1] === "" && match[2] === "")) return null;
  const first = match[1] === "" ? null : Number(match[1]);
  const last = match[2] === "" ? null : Number(match[2]);
  if (!Number.isSafeInteger(first ?? 0) || !Number.isSafeInteger(last ?? 0)) return null;
  if (first !== null && last !== null && last < first) return null;
  return { first, last };
}

/** The archive format of the `format` query: `tar` (the default) or `tar.gz`. */
function gzipOf(format: string | undefined): boolean {
  if (format === undefined || format === "tar") return false;
  if (format === "tar.gz") return true;
  throw new ServerError(
    "invalid_request",
    `format must be "tar" or "tar.gz", not ${JSON.stringify(format.slice(0, 40))}`,
  );
}

/** Checks a head from the agent (which is untrusted) against the HTTP answer it shapes. */
function checkHead(value: unknown): DownloadHead {
  const head = value as Partial<DownloadHead> | null;
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (
    !head ||
    !whole(head.size) ||
    !whole(head.start) ||
    !whole(head.length) ||
    head.start + head.length > head.size ||
    typeof head.satisfiable !== "boolean"
  ) {
    throw new ServerError("unavailable", "the sandbox answered the download oddly; try again");
  }
  return head as DownloadHead;
}

/**
 * The agent's bytes as a response body, cut to `expected` bytes when that is known (a misbehaving
 * agent cannot make the answer longer than its `Content-Length`); `done` runs at the end or cancel.
 */
function responseBody(
  bytes: ReadableStream<Uint8Array>,
  expected: number | undefined,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = bytes.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: ended, value } = await reader.read();
          if (ended) {
            done();
            if (expected !== undefined && sent !== expected) {
              controller.error(new Error("the sandbox sent fewer bytes than the file has"));
            } else controller.close();
            return;
          }
          sent += value.length;
          if (expected !== undefined && sent > expected)
            throw new Error("the sandbox sent too many bytes");
          controller.enqueue(value);
        } catch (error) {
          done();
          reader.cancel(error).catch(() => {});
          controller.error(error);
        }
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The answer to an upload once its call ended; an error that came before the whole body was
 * read closes the connection, so the client does not send its next request into the rest.
 */
async function uploadAnswer<R>(
  transfer: AgentTransfer<R>,
  services: AppServices,
  answer: (result: R) => Response,
): Promise<Response> {
  try {
    return answer(await transfer.result);
  } catch (error) {
    if (transfer.bodySent()) throw error;
    return errorResponse(toWireError(error, services.log), { connection: "close" });
  }
}

/** Adds `PUT/GET /v1/sandboxes/:name/files` and `…/archive`. */
export function addTransferRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { sandboxes } = services;
  const slots = createConcurrencyLimit(services.maxRequestsPerUser, "file transfers");

  /**
   * The running sandbox of the request and a per-user slot, given back by `release`; until then
   * the transfer is activity of the sandbox (a long upload keeps it from the idle stop).
   */
  async function begin(
    c: Context<AppEnv>,
  ): Promise<{ runtime: SandboxRuntime; release: () => void }> {
    const user = c.get("user");
    const record = sandboxes.find(user, c.req.param("name") ?? "");
    const giveSlot = slots.acquire(user);
    const endActivity = sandboxes.begin(record);
    const release = () => {
      endActivity();
      giveSlot();
    };
    try {
      return { runtime: await sandboxes.ensureRunning(record), release };
    } catch (error) {
      release();
      throw error;
    }
  }
  const pathOf = (c: Context<AppEnv>) => checkToolPath(c.req.query("path"), "path");
  const emptyBody = () =>
    new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });

  app.put("/v1/sandboxes/:name/files", async (c) => {
    const path = pathOf(c);
    const { runtime, release } = await begin(c);
    try {
      const transfer = runtime.transfer(
        "file_upload",
        { path },
        {
          signal: c.req.raw.signal,
          body: c.req.raw.body ?? emptyBody(),
        },
      );
      return await uploadAnswer(transfer, services, (result) =>
        c.json({ file_path: path, bytes_written: result.bytesWritten }),
      );
    } finally {
      release();
    }
  });

  app.get("/v1/sandboxes/:name/files", async (c) => {
    const path = pathOf(c);
    const range = parseRange(c.req.header("range"));
    const { runtime, release } = await begin(c);
    try {
      const transfer = runtime.transfer(
        "file_download",
        { path, range },
        { signal: c.req.raw.signal },
      );
      const head = checkHead(await transfer.head);
      const headers: Record<string, string> = {
        "content-type": "application/octet-stream",
        "accept-ranges": "bytes",
      };
      if (!head.satisfiable) {
        transfer.bytes.cancel().catch(() => {});
        release();
        return errorResponse(
          {
            status: 416,
            code: "range_not_satisfiable",
            message: `the range ${c.req.header("range")} is outside the file, which has ${head.size} bytes`,
          },
          { "content-range": `bytes */${head.size}` },
        );
      }
      headers["content-length"] = String(head.length);
      if (range)
        headers["content-range"] =
          `bytes ${head.start}-${head.start + head.length - 1}/${head.size}`;
      if (head.length === 0) {
        // No body to stream, so nothing else would let go of the transfer and its slot.
        transfer.bytes.cancel().catch(() => {});
        release();
        return new Response(null, { status: range ? 206 : 200, headers });
      }
      const body = responseBody(transfer.bytes, head.length, release);
      return new Response(body, { status: range ? 206 : 200, headers });
    } catch (error) {
      release();
      throw error;
    }
  });

  app.put("/v1/sandboxes/:name/archive", async (c) => {
    const path = pathOf(c);
    const gzip = gzipOf(c.req.query("format"));
    const { runtime, release } = await begin(c);
    try {
      const transfer = runtime.transfer(
        "archive_upload",
        { path, gzip },
        {
          signal: c.req.raw.signal,
          body: c.req.raw.body ?? emptyBody(),
        },
      );
      return await uploadAnswer(transfer, services, (result) =>
        c.json({ dir_path: path, files: result.files, bytes: result.bytes }),
      );
    } finally {
      release();
    }
  });

  app.get("/v1/sandboxes/:name/archive", async (c) => {
    const path = pathOf(c);
    const gzip = gzipOf(c.req.query("format"));
    const { runtime, release } = await begin(c);
    try {
      const transfer = runtime.transfer(
        "archive_download",
        { path, gzip },
        { signal: c.req.raw.signal },
      );
      await transfer.head;
      return new Response(responseBody(transfer.bytes, undefined, release), {
        headers: { "content-type": gzip ? "application/gzip" : "application/x-tar" },
      });
    } catch (error) {
      release();
      throw error;
    }
  });
}
