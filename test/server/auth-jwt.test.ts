import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { errorCode, rawCall } from "../support/http.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";

const secret = "test-secret-that-is-long-enough-for-hs256!";
const key = new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

const server = useTestServer({ jwtSecret: secret });
const startServer = useTestServers();

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/** Builds a token by hand, so the tests can send what jose would refuse to sign. */
function handMade(
  header: object,
  payload: object,
  signWith: string | null = secret,
  algorithm = "sha256",
): string {
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  if (signWith === null) return `${unsigned}.`;
  return `${unsigned}.${createHmac(algorithm, signWith).update(unsigned).digest("base64url")}`;
}

const status = async (token: string) => {
  const answer = await rawCall(server().url, "/v1/sandboxes", { token });
  return { status: answer.status, code: errorCode(answer) };
};
const refused = { status: 401, code: "unauthorized" };

describe("HS256 JWTs", () => {
  it("accepts a valid token and serves its sub as the user", async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("jwt-user")
      .setExpirationTime("5m")
      .sign(key);
    const created = await rawCall(server().url, "/v1/sandboxes", {
      token,
      body: { name: "jwt-box", eager: false },
    });
    expect(created.status).toBe(201);
    // The sandbox belongs to jwt-user, not to admin.
    const asAdmin = await rawCall(server().url, "/v1/sandboxes/jwt-box", { token: server().token });
    expect(asAdmin.status).toBe(404);
    expect((await rawCall(server().url, "/v1/sandboxes/jwt-box", { token })).status).toBe(200);
  });

  it("accepts a hand-made HS256 token (the control for the refusals below)", async () => {
    expect(
      (await status(handMade({ alg: "HS256", typ: "JWT" }, { sub: "u", exp: now() + 60 }))).status,
    ).toBe(200);
  });

  it.each([
    ["alg none", () => handMade({ alg: "none", typ: "JWT" }, { sub: "u", exp: now() + 60 }, null)],
    ["HS512", () => handMade({ alg: "HS512" }, { sub: "u", exp: now() + 60 }, secret, "sha512")],
    ["HS384", () => handMade({ alg: "HS384" }, { sub: "u", exp: now() + 60 }, secret, "sha384")],
    [
      "a bad signature",
      () => handMade({ alg: "HS256" }, { sub: "u", exp: now() + 60 }, "another-secret"),
    ],
    ["a missing exp", () => handMade({ alg: "HS256" }, { sub: "u" })],
    ["a non-numeric exp", () => handMade({ alg: "HS256" }, { sub: "u", exp: String(now() + 600) })],
    ["an expired token", () => handMade({ alg: "HS256" }, { sub: "u", exp: now() - 600 })],
    [
      "a future nbf",
      () => handMade({ alg: "HS256" }, { sub: "u", exp: now() + 600, nbf: now() + 300 }),
    ],
    ["a missing sub", () => handMade({ alg: "HS256" }, { exp: now() + 60 })],
    ["a non-string sub", () => handMade({ alg: "HS256" }, { sub: 42, exp: now() + 60 })],
    ["a sub with a colon", () => handMade({ alg: "HS256" }, { sub: "a:b", exp: now() + 60 })],
    ["garbage in three parts", () => "abc.def.ghi"],
  ])("refuses %s with 401", async (_label, make) => {
    expect(await status(make())).toEqual(refused);
  });

  it("still accepts API keys next to JWTs", async () => {
    expect((await status(server().token)).status).toBe(200);
  });
});

describe("without a JWT secret", () => {
  it("refuses every JWT", async () => {
    const plain = await startServer();
    const token = handMade({ alg: "HS256" }, { sub: "admin", exp: now() + 60 });
    const answer = await rawCall(plain.url, "/v1/sandboxes", { token });
    expect({ status: answer.status, code: errorCode(answer) }).toEqual(refused);
  });
});
