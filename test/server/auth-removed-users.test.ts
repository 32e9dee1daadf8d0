/**
 * One namespace for API-key users and JWT subs: revoking a key refuses that key at once, and
 * removing a user refuses its keys and its JWTs and destroys its sandboxes and snapshots, on a
 * running server.
 */
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { runAdminCommand } from "../../server/admin-commands.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

const secret = "removed-users-secret-long-enough-for-hs256";

const server = useTestServer({ jwtSecret: secret, isolation: "none" });

const jwtFor = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(secret));
const statusWith = async (token: string) => {
  const answer = await rawCall(server().url, "/v1/sandboxes", { token });
  return { status: answer.status, code: errorCode(answer) };
};
const admin = (name: string, ...args: string[]) => runAdminCommand(name, args, server().dataDir);
const refused = { status: 401, code: "unauthorized" };

/** Polls `check` every 50 ms until it holds or 30 s pass. */
async function eventually(check: () => Promise<boolean> | boolean): Promise<boolean> {
  for (let tries = 0; tries < 600; tries++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe("revoke-key", () => {
  it("refuses the revoked key at once and keeps the user's other keys", async () => {
    const first = server().addUser("rita");
    const second = server().addUser("rita");
    const idsOf = (listing: string) =>
      [...listing.matchAll(/^([0-9a-f]{12}) {2}created/gm)].map((match) => match[1]!);
    const listed = admin("list-keys", "rita");
    expect(listed.stdout).toMatch(/2 API key/);
    const id = idsOf(listed.stdout)[0]!;
    const byWholeKey = admin("revoke-key", "rita", first);
    expect(byWholeKey.code).toBe(0);
    expect(await statusWith(first)).toEqual(refused);
    expect((await statusWith(second)).status).toBe(200);
    // Revoking by id works too; a second time there is nothing left to match.
    const remaining = admin("list-keys", "rita").stdout;
    const secondId = /^([0-9a-f]{12}) {2}created/m.exec(remaining)![1]!;
    expect(admin("revoke-key", "rita", secondId.slice(0, 8)).code).toBe(0);
    expect(await statusWith(second)).toEqual(refused);
    expect(admin("revoke-key", "rita", id).code).toBe(1);
    // Another user's key is not reachable through rita's name.
    const other = server().addUser("otto");
    expect(admin("revoke-key", "rita", other).code).toBe(1);
    expect((await statusWith(other)).status).toBe(200);
  });
});

describe("remove-user", () => {
  it("refuses the user's keys and JWTs and destroys its sandboxes and snapshots; add-key restores it", async () => {
    const key = server().addUser("mallory");
    const jwt = await jwtFor("mallory");
    const name = randomSandboxName("removed");
    const created = await rawCall(server().url, "/v1/sandboxes", {
      token: jwt,
      body: { name, eager: true },
    });
    expect(created.status).toBe(201);
    // The only sandbox of this server so far: its storage is what must go.
    const sandboxesDir = join(server().dataDir, "sandboxes");
    const storage = (await readdir(sandboxesDir)).map((id) => join(sandboxesDir, id));
    expect(storage.length).toBe(1);
    const snapshot = await rawCall(server().url, `/v1/sandboxes/${name}/snapshots`, {
      token: jwt,
      body: {},
    });
    expect(snapshot.status).toBe(201);
    const snapshotsDir = join(server().dataDir, "snapshots");
    expect(await readdir(snapshotsDir)).toHaveLength(1);
    // A JWT-only user beside it is not touched.
    const bystander = await jwtFor("bystander");
    expect((await statusWith(bystander)).status).toBe(200);

    expect(admin("remove-user", "mallory").code).toBe(0);
    expect(await statusWith(key)).toEqual(refused);
    expect(await statusWith(jwt)).toEqual(refused);
    expect((await statusWith(bystander)).status).toBe(200);
    expect(await eventually(() => storage.every((dir) => !existsSync(dir)))).toBe(true);
    expect(await eventually(async () => (await readdir(snapshotsDir)).length === 0)).toBe(true);

    const restored = admin("add-key", "mallory");
    expect(restored.stdout).toMatch(/had been removed/);
    expect((await statusWith(await jwtFor("mallory"))).status).toBe(200);
    const listed = await rawCall(server().url, "/v1/sandboxes", { token: jwt });
    expect(listed.json).toEqual({ sandboxes: [] });
    const snapshots = await rawCall(server().url, "/v1/snapshots", { token: jwt });
    expect(snapshots.json).toEqual({ snapshots: [] });
  });

  it("refuses bad arguments with exit code 2", () => {
    expect(admin("remove-user").code).toBe(2);
    expect(admin("remove-user", "a:b").code).toBe(2);
    expect(admin("revoke-key", "rita").code).toBe(2);
    expect(admin("revoke-key", "rita", "not-hex").code).toBe(2);
  });
});
