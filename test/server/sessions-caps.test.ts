/**
 * Session bookkeeping is per user: one user's many sessions never push out another user's
 * background ids, and a user past the cap on live tool sessions gets a 429 that says what to do.
 */
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServers } from "../support/use-server.ts";

const startServer = useTestServers();
/** The server the running test started. */
let server: TestServer | undefined;

/** A raw tool call of `user` (its API key) in tool session `session`. */
function tool(token: string, sandbox: string, name: string, body: object, session: string) {
  return rawCall(server!.url, `/v1/sandboxes/${sandbox}/tools/${name}`, { token, body, session });
}

describe("tool session bookkeeping", () => {
  it("keeps a user's background ids however many sessions another user opens", async () => {
    // More sessions than the old server-wide bookkeeping held (500), all of one user.
    const attackerSessions = 520;
    server = await startServer({ isolation: "none", maxSessionsPerUser: 1000 });
    const victimKey = server.addUser("victim");
    const victim = createClient({
      baseUrl: server.url,
      token: victimKey,
      sandbox: randomSandboxName("victim"),
    });
    await victim.createSandbox({ eager: true });
    const { shellId } = await victim.bash("sleep 300", { runInBackground: true });

    const attackerKey = server.addUser("attacker");
    const box = randomSandboxName("attacker");
    await createClient({ baseUrl: server.url, token: attackerKey, sandbox: box }).createSandbox({
      eager: true,
    });
    // A few at a time: within the per-user cap on calls in flight.
    let next = 0;
    const openSessions = async () => {
      while (next < attackerSessions) {
        const session = `attacker-${next++}`;
        const body = { command: "true", run_in_background: true };
        expect((await tool(attackerKey, box, "bash", body, session)).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, openSessions));

    await victim.restartSandbox();
    expect(await victim.bashOutput(shellId)).toMatchObject({ status: "killed", exitCode: 137 });
  }, 240_000);

  it("answers 429 rate_limited to a user past its cap of live sessions, not to others", async () => {
    server = await startServer({ isolation: "none", maxSessionsPerUser: 3 });
    const sandbox = randomSandboxName("cap");
    await createClient({ baseUrl: server.url, token: server.token, sandbox }).createSandbox();
    const glob = (token: string, box: string, session: string) =>
      tool(token, box, "glob", { pattern: "*" }, session);
    for (const session of ["s1", "s2", "s3"]) {
      expect((await glob(server.token, sandbox, session)).status).toBe(200);
    }
    const refused = await glob(server.token, sandbox, "s4");
    expect({ status: refused.status, code: errorCode(refused) }).toEqual({
      status: 429,
      code: "rate_limited",
    });
    expect(refused.text).toMatch(/reuse a tool session id/);
    expect(refused.text).toMatch(/wait/);
    // A session the user already has still works, and so do other users' new sessions.
    expect((await glob(server.token, sandbox, "s2")).status).toBe(200);
    const otherKey = server.addUser("other");
    const otherBox = randomSandboxName("other");
    await createClient({ baseUrl: server.url, token: otherKey, sandbox: otherBox }).createSandbox();
    expect((await glob(otherKey, otherBox, "o1")).status).toBe(200);
  });

  it("lets a user open new sessions again once idle ones expire", async () => {
    let now = Date.now();
    server = await startServer({
      isolation: "none",
      maxSessionsPerUser: 1,
      sessionIdleMs: 1,
      sessionClock: () => now,
    });
    const sandbox = randomSandboxName("expire");
    await createClient({ baseUrl: server.url, token: server.token, sandbox }).createSandbox();
    const glob = (session: string) =>
      tool(server!.token, sandbox, "glob", { pattern: "*" }, session);
    expect((await glob("first")).status).toBe(200);
    // `first` is idle past its 1 ms: the capped call expires it rather than refusing.
    now += 5;
    expect((await glob("second")).status).toBe(200);
  });
});
