/**
 * Exactly-once calls (CONTRACT §13): one middleware that any route opts into,
 * `app.post(path, services.idempotent, handler)`. A request with an `Idempotency-Key` runs its
 * handler once per (user, key); the answer is recorded (idempotency-records.ts) and every repeat
 * gets it back with `Idempotent-Replayed: true`, waiting (with keep-alive spaces for a streamed
 * JSON answer) while the first still runs. The handler runs detached from the client's
 * connection, so a hang-up neither stops it nor loses its answer. See docs/protocol.md.
 */
import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ServerError } from "../errors.ts";
import type {
  IdempotencyRecordStore,
  KeyedRequest,
  RecordedAnswer,
} from "../store/idempotency-records.ts";
import { pulledBody } from "./answer-body.ts";
import type { AppEnv } from "./app-types.ts";
import {
  errorAnswer,
  readAnswer,
  replayResponse,
  sameRequest,
  streamedReplayText,
} from "./idempotency-answers.ts";

/** How long an outcome is kept: CONTRACT §13 says at least 24 hours. */
export const idempotencyTtlMs = 24 * 60 * 60 * 1000;

/** A key: 1–255 visible ASCII characters (a UUID, a queue's message id, …). */
const keyShape = /^[\x21-\x7e]{1,255}$/;

/** Statuses that mean the call was not taken (rate limits, a busy server): not recorded. */
const notTaken = new Set([429, 502, 503, 504]);

/** What the middleware is built from. */
export interface IdempotencyOptions {
  store: IdempotencyRecordStore;
  /** The largest request body read, in bytes (the routes' own limit). */
  bodyLimit: number;
  /** How often a waiting repeat of a streamed answer sends a keep-alive space, in ms. */
  heartbeatMs: number;
  /** The clock of expiry, in ms since the epoch. @default Date.now */
  now?: () => number;
  log: (line: string) => void;
}

/** The middleware and its upkeep. */
export interface Idempotency {
  /** Put it before a route's handler to make the route exactly-once. */
  readonly middleware: MiddlewareHandler<AppEnv>;
  /** Deletes completed outcomes older than 24 hours now (the timer does it hourly). */
  sweep(): number;
  /**
   * Cancels the user's keyed call still running, as if its client had hung up (a bash is
   * killed); a key not running now is refused for a minute, so a cancel that overtakes its call
   * still stops it. The SDK sends it when its caller aborts a keyed call.
   */
  cancel(user: string, key: string): void;
  /** Stops the sweep timer. */
  close(): void;
}

/** What is known of an answer once its handler returned it. */
interface Head {
  status: number;
  contentType: string | null;
  /** Whether the body streams with keep-alive spaces (a foreground bash). */
  streamed: boolean;
}

/** A call running on this server, that repeats wait for. */
interface Running {
  request: KeyedRequest;
  /** The status, content type and whether the answer streams, once the handler returned it. */
  head: Promise<Head>;
  answer: Promise<RecordedAnswer>;
  /** Aborts the handler's request: what a hang-up did before calls were detached. */
  cancel: AbortController;
}

/** How long a key cancelled before its call arrived stays refused. */
const cancelledForMs = 60_000;
/** The most such refusals kept at once, over all users. */
const maxCancelled = 10_000;

/** Creates the middleware; completes keys left running by a server that died (CONTRACT §3). */
export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  const running = new Map<string, Running>();
  // Keys cancelled before their call arrived, with when they were cancelled.
  const cancelled = new Map<string, number>();
  const lost = store.completeRunning(lostAnswer);
  if (lost > 0) log(`lumina: ${lost} keyed call(s) were running when the server stopped`);
  const sweep = () => store.removeCompletedBefore(now() - idempotencyTtlMs);
  const timer = setInterval(() => {
    try {
      sweep();
    } catch (error) {
      log(`lumina: could not sweep idempotency keys: ${String(error)}`);
    }
  }, 3_600_000);
  timer.unref();

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (!keyShape.test(key)) {
      throw new ServerError(
        "invalid_request",
        "the Idempotency-Key header must be 1-255 visible ASCII characters, such as a UUID",
      );
    }
    const user = c.get("user");
    const raw = c.req.raw;
    const bytes = await readBodyBytes(raw, options.bodyLimit);
    const url = new URL(raw.url);
    const request: KeyedRequest = {
      method: raw.method,
      path: url.pathname + url.search,
      bodyDigest: createHash("sha256").update(bytes).digest("hex"),
    };
    const id = `${user}\n${key}`;
    const live = running.get(id);
    if (live) {
      if (!sameRequest(live.request, request)) throw mismatch();
      c.res = await waitFor(live, options.heartbeatMs);
      return;
    }
    const cancelledAt = cancelled.get(id);
    if (cancelledAt !== undefined && now() - cancelledAt < cancelledForMs) {
      throw new ServerError(
        "conflict",
        "the call sent with this Idempotency-Key was cancelled by its client; send a new call with a new key",
      );
    }
    const session = c.req.header("lumina-tool-session") ?? "";
    // The usual case, a new key, costs one write; a known key is read only then.
    if (!store.start(user, key, request, session, now())) {
      const record = store.find(user, key);
      if (record && record.createdAt >= now() - idempotencyTtlMs) {
        if (!sameRequest(record, request)) throw mismatch();
        c.res = replayResponse(record.answer ?? lostAnswer);
        return;
      }
      // Past its 24 hours but not swept yet: forgotten, so the key starts a new call.
      store.remove(user, key);
      store.start(user, key, request, session, now());
    }
    let setHead!: (head: Head) => void;
    let setAnswer!: (answer: RecordedAnswer) => void;
    const call: Running = {
      request,
      head: new Promise((resolve) => {
        setHead = resolve;
      }),
      answer: new Promise((resolve) => {
        setAnswer = resolve;
      }),
      cancel: new AbortController(),
    };
    running.set(id, call);
    // A request of its own, whose signal only a cancel aborts: a hang-up does not stop the call.
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers: raw.headers,
      signal: call.cancel.signal,
      ...(bytes.byteLength > 0 ? { body: bytes } : {}),
    });
    try {
      await next();
    } finally {
      const response = c.res;
      const taken = c.get("callTaken") === true;
      const head = { status: response.status, contentType: response.headers.get("content-type") };
      // The keep-alive answer asks proxies not to buffer it: that is what marks it as streamed.
      const streamed = !!response.body && response.headers.get("x-accel-buffering") === "no";
      setHead({ ...head, streamed });
      // Off the answer's path: until it is written, repeats find the call in `running`.
      const finish = (outcome: RecordedAnswer) =>
        setImmediate(() => {
          // Cancelled before its answer ended: final, so its repeats are told, not run again.
          let answer = call.cancel.signal.aborted ? cancelledAnswer : outcome;
          // A 502/503 after the sandbox got the call (it stopped meanwhile): maybe applied.
          if (taken && notTaken.has(answer.status)) answer = interruptedAnswer;
          try {
            if (notTaken.has(answer.status)) store.remove(user, key);
            else store.complete(user, key, answer);
          } catch (error) {
            log(`lumina: could not record the answer of a keyed call: ${String(error)}`);
          }
          running.delete(id);
          setAnswer(answer);
        });
      const failed = (error: unknown) => {
        log(`lumina: the answer of a keyed call failed while it was read: ${String(error)}`);
        finish(brokenAnswer);
      };
      if (streamed && response.body) {
        // A streamed answer (keep-alive): one branch for this client, one read to its end for
        // the record, whatever the client does.
        const [mine, recorded] = response.body.tee();
        readAnswer(recorded, head).then(({ answer }) => finish(answer), failed);
        c.res = new Response(mine, response);
      } else {
        const read = await readAnswer(response.body, head, true).catch((error: unknown) => {
          failed(error);
          throw error;
        });
        finish(read.answer);
        c.res = new Response(read.whole, response);
      }
    }
  };
  const cancel = (user: string, key: string) => {
    const id = `${user}\n${key}`;
    const live = running.get(id);
    if (live) return live.cancel.abort(new Error("cancelled by its client"));
    for (const [old, at] of cancelled) if (now() - at >= cancelledForMs) cancelled.delete(old);
    // Not running (yet): unless it already finished, its call must not start later.
    if (store.find(user, key)) return;
    // Bounded: past the cap the oldest refusals go first (a cancel's call comes within moments).
    if (cancelled.size >= maxCancelled) cancelled.delete(cancelled.keys().next().value!);
    cancelled.set(id, now());
  };
  return { middleware, sweep, cancel, close: () => clearInterval(timer) };
}

/** A repeat of a call still running: its answer once there, with keep-alive spaces if streamed. */
async function waitFor(call: Running, heartbeatMs: number): Promise<Response> {
  const head = await call.head;
  if (!head.streamed) return replayResponse(await call.answer);
  let started = false;
  let sent = false;
  const body = pulledBody(async () => {
    // A first byte right away sends the headers, as the first request's keep-alive does.
    if (!started) {
      started = true;
      return " ";
    }
    if (sent) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const beat = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, heartbeatMs, undefined);
    });
    const answer = await Promise.race([call.answer, beat]).finally(() => clearTimeout(timer));
    if (!answer) return " ";
    sent = true;
    return streamedReplayText(answer);
  }, noop);
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": head.contentType ?? "application/json",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      "idempotent-replayed": "true",
    },
  });
}

const noop = () => {};

function mismatch(): ServerError {
  return new ServerError(
    "idempotency_mismatch",
    "this Idempotency-Key was already used for a different request (method, path or body); use a new key for a new call",
  );
}

/** The answer of a key whose call was running when the server stopped: its outcome is unknown. */
const lostAnswer: RecordedAnswer = errorAnswer(
  404,
  "not_found",
  "the call sent with this Idempotency-Key was still running when the server restarted, so its outcome is lost (as a lost shell's); check what it changed, then send a new call with a new key",
);

/** The answer of a keyed call the sandbox had taken when it stopped: its outcome is unknown. */
const interruptedAnswer: RecordedAnswer = errorAnswer(
  409,
  "conflict",
  "the call sent with this Idempotency-Key reached its sandbox, which then stopped, so it may have been applied; check what it changed, then send a new call with a new key",
);

/** The answer of a keyed call that its client cancelled before it ended. */
const cancelledAnswer: RecordedAnswer = errorAnswer(
  409,
  "conflict",
  "the call sent with this Idempotency-Key was cancelled by its client before it ended, so it may have been applied in part, in whole or not at all; check what it changed, then send a new call with a new key",
);

/** What a call whose answer broke off while it was read is recorded with. */
const brokenAnswer: RecordedAnswer = errorAnswer(
  500,
  "internal",
  "the call sent with this Idempotency-Key ran, but its answer broke off; check what it changed, then send a new call with a new key",
);

/** Reads a request body whole, refusing it with 413 past `limit` bytes. */
async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw new ServerError("invalid_request", "the request body ended early; send it again");
    });
    if (done) return new Uint8Array(Buffer.concat(chunks, total));
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
}

function tooLarge(limit: number): ServerError {
  return new ServerError(
    "payload_too_large",
    `the request body is larger than ${limit} bytes; send less`,
  );
}
