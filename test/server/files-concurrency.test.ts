/**
 * Concurrent edits and writes of one file: the read-before-write check and the replace are one
 * step in the agent, so no update is lost and a stale check never passes. Every change makes
 * the file a new size, so each version's stamp is distinct even where mtimes are coarse and
 * inode numbers are reused.
 */
import { describe, expect, it } from "vitest";
import { isToolError, type LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { newSandboxClient, sameSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
let sessions: LuminaClient[];

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
  sessions = Array.from({ length: 10 }, () => sameSandboxClient(server(), lumina));
});

/** "ok", or the error code of a 409 (anything else fails the test). */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    if (isToolError(error) && error.statusCode === 409) return error.code;
    throw error;
  }
}

/** Writes ten marker lines with the shell (no read record) and returns them. */
async function reset(path: string, round: number): Promise<string[]> {
  const markers = Array.from({ length: 10 }, (_, i) => `marker-${round}-${i}`);
  await lumina.bash(`printf '%s\\n' ${markers.join(" ")} > ${path}`);
  return markers;
}

// Several rounds each: without the lock, some round loses an update or passes a stale check.
const rounds = 8;

describe("concurrent changes to one file", () => {
  it("one session: exactly the edits that answered ok are on disk, the others are stale_read", async () => {
    const path = "/home/user/one-session.txt";
    for (let round = 0; round < rounds; round++) {
      const markers = await reset(path, round);
      await lumina.read(path);
      // All start from this session's record; an edit starting after one succeeded may carry
      // the refreshed record and succeed too, but every success must be on disk.
      const outcomes = await Promise.all(
        markers.map((marker) => outcome(lumina.edit(path, marker, `done-${marker}`))),
      );
      const lines = (await lumina.bash(`cat ${path}`)).output.trimEnd().split("\n");
      expect(outcomes).toContain("ok");
      for (const [i, marker] of markers.entries()) {
        expect(["ok", "stale_read"]).toContain(outcomes[i]);
        const expected = outcomes[i] === "ok" ? `done-${marker}` : marker;
        expect(lines[i], `round ${round}: ${outcomes.join(",")}`).toBe(expected);
      }
    }
  });

  it("ten sessions from one version: exactly one edit wins", async () => {
    const path = "/home/user/ten-sessions-edit.txt";
    for (let round = 0; round < rounds; round++) {
      const markers = await reset(path, round);
      await Promise.all(sessions.map((session) => session.read(path)));
      const outcomes = await Promise.all(
        sessions.map((session, i) => outcome(session.edit(path, markers[i]!, `done-${i}`))),
      );
      const winner = outcomes.indexOf("ok");
      expect(outcomes.filter((o) => o === "stale_read").length, outcomes.join(",")).toBe(9);
      const lines = (await lumina.bash(`cat ${path}`)).output.trimEnd().split("\n");
      expect(lines).toEqual(markers.map((marker, i) => (i === winner ? `done-${i}` : marker)));
    }
  });

  it("ten sessions from one version: exactly one write wins", async () => {
    const path = "/home/user/ten-sessions-write.txt";
    for (let round = 0; round < rounds; round++) {
      await lumina.bash(`echo start > ${path}`);
      await Promise.all(sessions.map((session) => session.read(path)));
      // Distinct lengths, none that of "start\n": every version has its own size.
      const content = (i: number) => `writer ${i} ${"x".repeat(i)}\n`;
      const outcomes = await Promise.all(
        sessions.map((session, i) => outcome(session.write(path, content(i)))),
      );
      const winner = outcomes.indexOf("ok");
      expect(outcomes.filter((o) => o === "stale_read").length, outcomes.join(",")).toBe(9);
      expect((await lumina.bash(`cat ${path}`)).output).toBe(content(winner));
    }
  });
});
