/**
 * The background commands each tool session started, remembered by the server (not the agent)
 * so that an id started before a sandbox restart still reads as killed (CONTRACT §3). Kept per
 * server instance and per user: one user's sessions can only ever push out that user's own.
 */

/** Where a background command started and how far its output was read. */
export interface StartedCommand {
  /** The sandbox run it started on (a new number each time the sandbox starts). */
  run: number;
  /** The last cursor answered for it. */
  cursor: number;
}

/** One tool session's background ids, newest kept. */
export interface StartedCommands {
  get(id: string): StartedCommand | undefined;
  remember(id: string, command: StartedCommand): void;
}

/** Every session's background ids, bounded per user. */
export interface StartedCommandBook {
  /** The ids of a user's session (created empty on first use; marks the session recently used). */
  forSession(user: string, sessionKey: string): StartedCommands;
  /** Forgets a session's ids (it expired). */
  forget(user: string, sessionKey: string): void;
}

/** Background ids remembered per session at most (the oldest go first). */
const maxIdsPerSession = 1000;

/**
 * Creates the book. `maxSessionsPerUser` matches the cap on a user's live tool sessions, so a
 * live session is pushed out only by the same user's sessions of deleted sandboxes or expiry.
 */
export function createStartedCommandBook(maxSessionsPerUser: number): StartedCommandBook {
  // Per user, sessions in least-recently-used order (a Map keeps insertion order).
  const byUser = new Map<string, Map<string, Map<string, StartedCommand>>>();
  const touch = (user: string, sessionKey: string, create: boolean) => {
    let sessions = byUser.get(user);
    const ids = sessions?.get(sessionKey);
    if (!ids && !create) return undefined;
    if (!sessions) {
      sessions = new Map();
      byUser.set(user, sessions);
    }
    sessions.delete(sessionKey);
    sessions.set(sessionKey, ids ?? new Map());
    if (sessions.size > maxSessionsPerUser) sessions.delete(sessions.keys().next().value!);
    return sessions.get(sessionKey);
  };
  return {
    forSession(user, sessionKey) {
      // Sessions that never start a background command take no room.
      touch(user, sessionKey, false);
      return {
        get: (id) => byUser.get(user)?.get(sessionKey)?.get(id),
        remember(id, command) {
          const ids = touch(user, sessionKey, true)!;
          ids.delete(id);
          ids.set(id, command);
          if (ids.size > maxIdsPerSession) ids.delete(ids.keys().next().value!);
        },
      };
    },
    forget(user, sessionKey) {
      const sessions = byUser.get(user);
      sessions?.delete(sessionKey);
      if (sessions?.size === 0) byUser.delete(user);
    },
  };
}
