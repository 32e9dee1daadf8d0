import { describe, expect, it } from "vitest";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

/** Creates the sandbox `name` on `started` as its admin. */
const createSandboxOn = (started: TestServer, name: string) =>
  createClient({ baseUrl: started.url, token: started.token, sandbox: name }).createSandbox();

async function failure(promise: Promise<unknown>): Promise<{ statusCode: number; code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isToolError(error)) throw new Error(`expected a ToolError, got ${String(error)}`);
  return { statusCode: error.statusCode, code: error.code };
}

const conflict = { statusCode: 409, code: "session_conflict" };

describe("the session header", () => {
  const name = randomSandboxName();
  const server = useTestServer({}, (started) => createSandboxOn(started, name));

  const glob = (session?: string) =>
    rawCall(server().url, `/v1/sandboxes/${name}/tools/glob`, {
      token: server().token,
      body: { pattern: "*" },
      ...(session === undefined ? {} : { session }),
    });

  it("is required on tool calls: 400 missing_session", async () => {
    const answer = await glob();
    expect({ status: answer.status, code: errorCode(answer) }).toEqual({
      status: 400,
      code: "missing_session",
    });
    expect(answer.text).toContain("Lumina-Tool-Session");
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["a space", "a b"],
    ["a slash", "a/b"],
    ["non-ASCII", "sessión"],
    ["a quote", 'a"b'],
  ])("refuses an id with %s: 400", async (_label, id) => {
    const answer = await rawCall(server().url, `/v1/sandboxes/${name}/tools/glob`, {
      token: server().token,
      body: { pattern: "*" },
      headers: { "lumina-tool-session": encodeURI(id) === id ? id : encodeURIComponent(id) },
    });
    // Non-ASCII cannot travel raw in a header; its percent-encoding has a '%', also refused.
    expect({ status: answer.status, code: errorCode(answer) }).toEqual({
      status: 400,
      code: "invalid_request",
    });
  });

  it("accepts ids of 1 to 128 allowed characters", async () => {
    for (const id of ["a", "A-z_0.9:x", "b".repeat(128)]) {
      expect((await glob(id)).status).toBe(200);
    }
  });

  it("binds an id to (user, sandbox): 409 for another user or another sandbox", async () => {
    const id = `bound-${randomSandboxName()}`;
    const owner = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: name,
      toolSessionId: id,
    });
    await owner.glob("*");
    const stranger = server().addUser(`u${Date.now()}`);
    const strangerName = randomSandboxName();
    const strangerClient = createClient({
      baseUrl: server().url,
      token: stranger,
      sandbox: strangerName,
      toolSessionId: id,
    });
    await strangerClient.createSandbox({ eager: false });
    expect(await failure(strangerClient.glob("*"))).toEqual(conflict);
    const otherSandbox = randomSandboxName();
    const sameUser = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: otherSandbox,
      toolSessionId: id,
    });
    await sameUser.createSandbox({ eager: false });
    expect(await failure(sameUser.glob("*"))).toEqual(conflict);
    // The refused calls did not start anything.
    expect((await sameUser.getSandbox()).status).toBe("stopped");
    // The owner keeps using it.
    await expect(owner.glob("*")).resolves.toMatchObject({ count: expect.any(Number) });
  });

  it("keeps read records across a server restart", async () => {
    const id = `reads-${randomSandboxName()}`;
    const session = () =>
      createClient({
        baseUrl: server().url,
        token: server().token,
        sandbox: name,
        toolSessionId: id,
      });
    await session().write("/home/user/tracked.txt", "one\n");
    await session().read("/home/user/tracked.txt");
    await server().restart();
    await expect(session().edit("/home/user/tracked.txt", "one", "two")).resolves.toMatchObject({
      replacements: 1,
    });
    // A session that never read the file is still refused.
    const fresh = createClient({ baseUrl: server().url, token: server().token, sandbox: name });
    expect(await failure(fresh.write("/home/user/tracked.txt", "x"))).toEqual({
      statusCode: 409,
      code: "not_read",
    });
  });
});

describe("idle expiry", () => {
  // Short idle time: the sweep runs every quarter of it.
  const idleMs = 1500;
  // Expiry's clock runs ahead of real time by `skew`: idle periods pass without sleeping.
  let skew = 0;
  const pastIdle = async () => {
    skew += idleMs * 3;
    await server().sweepSessions();
  };
  const name = randomSandboxName();
  const otherName = randomSandboxName();
  const server = useTestServer(
    { sessionIdleMs: idleMs, sessionClock: () => Date.now() + skew },
    async (started) => {
      await createSandboxOn(started, name);
      await createSandboxOn(started, otherName);
    },
  );
  const session = (id: string, sandbox = name): LuminaClient =>
    createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox,
      toolSessionId: id,
      retry: false,
    });

  it("ends an idle session: its shell state and read records go, and the id starts afresh", async () => {
    const id = `idle-${randomSandboxName()}`;
    await session(id).bash("export MARK=set-before");
    await session(id).write("/home/user/expiry.txt", "a\n");
    await session(id).read("/home/user/expiry.txt");
    await pastIdle();
    expect((await session(id).bash('echo "[$MARK]"')).output).toBe("[]\n");
    expect(await failure(session(id).write("/home/user/expiry.txt", "b\n"))).toEqual({
      statusCode: 409,
      code: "not_read",
    });
  });

  it("lets an expired id bind to another sandbox", async () => {
    const id = `move-${randomSandboxName()}`;
    await session(id).glob("*");
    expect(await failure(session(id, otherName).glob("*"))).toEqual(conflict);
    await pastIdle();
    await expect(session(id, otherName).glob("*")).resolves.toMatchObject({
      count: expect.any(Number),
    });
  });

  it("does not expire a session under a foreground call longer than the idle time", async () => {
    const id = `long-${randomSandboxName()}`;
    await session(id).bash("export MARK=kept");
    // Three idle periods pass inside one call; idle time counts from the call's end.
    expect((await session(id).bash(`sleep ${(idleMs * 3) / 1000}; echo "[$MARK]"`)).output).toBe(
      "[kept]\n",
    );
    expect((await session(id).bash('echo "[$MARK]"')).output).toBe("[kept]\n");
  });

  it("does not expire a session whose background command still runs", async () => {
    const id = `busy-${randomSandboxName()}`;
    const started = await session(id).bash("sleep 60", { runInBackground: true });
    await pastIdle();
    expect(await failure(session(id, otherName).glob("*"))).toEqual(conflict);
    expect((await session(id).bashOutput(started.shellId)).status).toBe("running");
    await session(id).killBash(started.shellId);
  });
});
