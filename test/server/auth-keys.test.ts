import { beforeAll, describe, expect, it } from "vitest";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { errorCode, looksLikeStack, rawCall } from "../support/http.ts";
import { randomSandboxName, sandboxHostMissing } from "../support/server.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";

const server = useTestServer();
const startServer = useTestServers();

const client = (token: string, sandbox: string, toolSessionId?: string): LuminaClient =>
  createClient({
    baseUrl: server().url,
    token,
    sandbox,
    retry: false,
    ...(toolSessionId ? { toolSessionId } : {}),
  });

async function failure(promise: Promise<unknown>): Promise<{ statusCode: number; code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isToolError(error)) throw new Error(`expected a ToolError, got ${String(error)}`);
  return { statusCode: error.statusCode, code: error.code };
}

describe("API keys", () => {
  it("accepts the first-start admin key", async () => {
    expect(server().token).toMatch(/^[0-9a-f]{64}$/);
    await expect(client(server().token, "x").listSandboxes()).resolves.toEqual(expect.any(Array));
  });

  it.each([
    ["no token", undefined],
    ["an empty bearer", "Bearer "],
    ["another scheme", "Basic YWRtaW46YWRtaW4="],
  ])("answers %s with 401", async (_label, header) => {
    const answer = await rawCall(server().url, "/v1/sandboxes", {
      ...(header ? { headers: { authorization: header } } : {}),
    });
    expect(answer.status).toBe(401);
    expect(errorCode(answer)).toBe("unauthorized");
    expect(looksLikeStack(answer.text)).toBe(false);
  });

  it.each([
    ["a wrong key of the right shape", "0".repeat(64)],
    ["a key one character short", () => server().token.slice(0, 63)],
    ["a key with extra characters", () => `${server().token}00`],
    ["a very long token", "f".repeat(10_000)],
    ["a JWT-looking token while JWTs are off", "a.b.c"],
  ])("answers %s with 401", async (_label, token) => {
    const value = typeof token === "function" ? token() : token;
    expect(await failure(client(value, "x").listSandboxes())).toEqual({
      statusCode: 401,
      code: "unauthorized",
    });
  });

  it("gives each added user a working key of their own", async () => {
    const key = server().addUser("carol");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(server().token);
    await expect(client(key, "x").listSandboxes()).resolves.toEqual([]);
  });

  it("takes keys from the apiKeys option and keeps them after a restart without it", async () => {
    const key = "ab".repeat(32);
    const configured = await startServer({ apiKeys: `dave:${key}` });
    const dave = createClient({
      baseUrl: configured.url,
      token: key,
      sandbox: "d",
      retry: false,
    });
    await dave.createSandbox({ eager: false });
    await configured.restart();
    const again = createClient({
      baseUrl: configured.url,
      token: key,
      sandbox: "d",
      retry: false,
    });
    expect((await again.getSandbox()).name).toBe("d");
  });
});

describe("tenancy", () => {
  let owner: LuminaClient;
  let intruderKey: string;
  let name: string;

  beforeAll(async () => {
    if (sandboxHostMissing) return; // the file's tests skip, saying why
    name = randomSandboxName();
    owner = client(server().token, name);
    await owner.createSandbox({ eager: false });
    intruderKey = server().addUser("mallory");
  });

  it("hides another user's sandbox behind a 404 on every route", async () => {
    const intruder = client(intruderKey, name, "mallory-session");
    const notFound = { statusCode: 404, code: "not_found" };
    expect(await failure(intruder.getSandbox())).toEqual(notFound);
    expect(await failure(intruder.restartSandbox())).toEqual(notFound);
    expect(await failure(intruder.destroySandbox())).toEqual(notFound);
    expect(await failure(intruder.read("/home/user/x"))).toEqual(notFound);
    expect(await failure(intruder.write("/home/user/x", "x"))).toEqual(notFound);
    expect(await failure(intruder.edit("/home/user/x", "a", "b"))).toEqual(notFound);
    expect(await failure(intruder.glob("*"))).toEqual(notFound);
    expect(await failure(intruder.grep("x"))).toEqual(notFound);
    expect(await failure(intruder.bash("touch /home/user/owned"))).toEqual(notFound);
    expect(await failure(intruder.bashOutput("bash_00"))).toEqual(notFound);
    expect(await failure(intruder.killBash("bash_00"))).toEqual(notFound);
    expect(await intruder.listSandboxes()).toEqual([]);
  });

  it("leaves the owner's sandbox untouched by the attempts", async () => {
    const info = await owner.getSandbox();
    // Not started by the intruder's tool calls, not destroyed by its DELETE.
    expect(info.status).toBe("stopped");
    expect((await owner.listSandboxes()).map((sandbox) => sandbox.name)).toContain(name);
  });

  it("lets another user create a sandbox of the same name, separately", async () => {
    const mine = client(intruderKey, name);
    const created = await mine.createSandbox({ eager: false });
    expect(created.name).toBe(name);
    await mine.destroySandbox();
    expect((await owner.getSandbox()).name).toBe(name);
  });
});
