/**
 * Tool sessions: an id chosen by the client, bound to (user, sandbox) on first use, expiring
 * after an idle period unless it still has background commands running. On expiry its shell
 * and background commands end and its read records go; the id may then start afresh.
 */
import { randomBytes } from "node:crypto";
import { ServerError } from "../errors.ts";
import type { SandboxRuntime } from "../sandbox/backend.ts";
import type { ToolSessionRecord, ToolSessionStore } from "../store/sessions.ts";
import { createStartedCommandBook, type StartedCommands } from "./started-commands.ts";

/** A tool session id (CONTRACT §3). */
export const sessionIdShape: RegExp = /^[A-Za-z0-9._:-]{1,128}$/;

/** The default idle time after which a session expires: 8 hours. */
export const defaultSessionIdleMs: number = 8 * 60 * 60 * 1000;

/** The default cap on one user's live tool sessions. */
export const defaultMaxSessionsPerUser = 256;

/** The sessions' view of sandboxes: how to reach one that is running. */
export interface RunningSandboxes {
  runningRuntime(sandboxId: string, user: string): Promise<SandboxRuntime | undefined>;
}

/** A tool call's hold on its session. */
export interface ActiveSession {
  /** The internal session key (`ToolContext.sessionKey`). */
  key: string;
  /** The background commands the session started (`ToolContext.started`). */
  started: StartedCommands;
  /** Ends the call's hold; idempotent. */
  leave(): void;
}

/** The tool session registry. */
export interface ToolSessions {
  /** Checks a `Lumina-Tool-Session` header value; throws 400 when missing or malformed. */
  checkId(header: string | undefined): string;
  /**
   * Enters a tool call of (id, user, sandbox): binds a new id, or 409 when bound elsewhere, or
   * 429 when the user already has `maxSessionsPerUser` live sessions.
   * Until `leave` is called the session cannot expire; leaving counts as its last use.
   */
  enter(sessionId: string, user: string, sandboxId: string): Promise<ActiveSession>;
  /** Expires every idle session now (also run on a timer). */
  sweep(): Promise<void>;
  /** Stops the sweep timer. */
  close(): void;
}

/** Creates the tool session registry and starts its expiry sweep. */
export function createToolSessions(options: {
  store: ToolSessionStore;
  sandboxes: RunningSandboxes;
  idleMs: number;
  /** @default defaultMaxSessionsPerUser */
  maxSessionsPerUser?: number;
  log: (line: string) => void;
  /** The time in ms, injectable so tests pass idle periods without sleeping. @default Date.now */
  now?: () => number;
}): ToolSessions {
  const { store, sandboxes, idleMs, log } = options;
  const clock = options.now ?? Date.now;
  const maxSessions = options.maxSessionsPerUser ?? defaultMaxSessionsPerUser;
  const started = createStartedCommandBook(maxSessions);

  // Tool calls in flight per session key: a session in use never expires under its call.
  const inFlight = new Map<string, number>();

  function hold(key: string, user: string): ActiveSession {
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    let held = true;
    return {
      key,
      started: started.forSession(user, key),
      leave() {
        if (!held) return;
        held = false;
        const left = (inFlight.get(key) ?? 1) - 1;
        if (left > 0) inFlight.set(key, left);
        else inFlight.delete(key);
        try {
          store.touch(key, clock());
        } catch {
          // A busy registry only costs this call's touch; the session was touched on entry.
        }
      },
    };
  }

  /** Where a snapshot stands now: in a call or touched since, already ended, or still idle. */
  function stateOf(record: ToolSessionRecord): "used" | "gone" | "idle" {
    if (inFlight.has(record.key)) return "used";
    const current = store.find(record.sessionId);
    if (current?.key !== record.key) return "gone";
    return current.lastUsed > record.lastUsed ? "used" : "idle";
  }

  /** Ends an idle session unless it is in use or runs background commands; true when it ended. */
  async function expire(record: ToolSessionRecord): Promise<boolean> {
    const before = stateOf(record);
    if (before !== "idle") return before === "gone";
    const runtime = await sandboxes.runningRuntime(record.sandboxId, record.user);
    // A session whose background commands still run does not expire.
    if (runtime && (await runtime.call("shell_busy", { sessionKey: record.key })).busy)
      return false;
    // A call may have come and gone while we awaited: `record` is a snapshot, re-read the row.
    const after = stateOf(record);
    if (after !== "idle") return after === "gone";
    if (runtime) await runtime.call("shell_end", { sessionKey: record.key });
    store.remove(record.key);
    started.forget(record.user, record.key);
    return true;
  }

  let sweeping: Promise<void> | undefined;
  async function sweepOnce(): Promise<void> {
    for (const record of store.idleSince(clock() - idleMs)) {
      await expire(record).catch((error: unknown) =>
        log(`session expiry failed: ${(error as Error).message}`),
      );
    }
  }
  const sweep = () => {
    sweeping ??= sweepOnce().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer = setInterval(() => void sweep(), Math.min(60_000, Math.max(50, idleMs / 4)));
  timer.unref();

  return {
    checkId(header) {
      if (header === undefined || header === "") {
        throw new ServerError(
          "missing_session",
          "tool calls need the header 'Lumina-Tool-Session: <id>' (1-128 characters of A-Z a-z 0-9 . _ : -)",
        );
      }
      if (!sessionIdShape.test(header)) {
        throw new ServerError(
          "invalid_request",
          "the Lumina-Tool-Session header must be 1-128 characters of A-Z a-z 0-9 . _ : -",
        );
      }
      return header;
    },
    async enter(sessionId, user, sandboxId) {
      const now = clock();
      const existing = store.find(sessionId);
      if (existing) {
        assertBoundTo(existing, user, sandboxId);
        if (existing.lastUsed >= now - idleMs || !(await expire(existing))) {
          store.touch(existing.key, now);
          return hold(existing.key, user);
        }
      }
      if (store.countForUser(user) >= maxSessions) {
        // Idle sessions past their time may still be waiting for the sweep: expire them first.
        await sweep();
        if (store.countForUser(user) >= maxSessions) throw tooManySessions(maxSessions, idleMs);
      }
      store.insert({
        key: randomBytes(16).toString("hex"),
        sessionId,
        user,
        sandboxId,
        lastUsed: now,
      });
      // Read back: when two first calls race, both get the row that won.
      const bound = store.find(sessionId)!;
      assertBoundTo(bound, user, sandboxId);
      return hold(bound.key, user);
    },
    sweep,
    close: () => clearInterval(timer),
  };
}

function tooManySessions(most: number, idleMs: number): ServerError {
  const hours = Math.round((idleMs / 3_600_000) * 10) / 10;
  return new ServerError(
    "rate_limited",
    `you already have ${most} live tool sessions, the most one user may have; reuse a tool session id (one per agent, not one per call), or wait until idle sessions expire (after ${hours} h without a call)`,
  );
}

function assertBoundTo(record: ToolSessionRecord, user: string, sandboxId: string): void {
  if (record.user !== user || record.sandboxId !== sandboxId) {
    throw new ServerError(
      "session_conflict",
      "this tool session id is bound to another sandbox or user; use a new id",
    );
  }
}
