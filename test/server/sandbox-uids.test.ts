/**
 * SECURITY.md, resources: host uids are shared by every tenant, so one user must not use them up.
 * A destroyed sandbox's uid is handed out again once its files and processes are gone, and
 * creates are rate-limited per user.
 */
import { randomInt } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { errorCode, rawCall } from "../support/http.ts";
import { requireSandboxHost, useTestServers } from "../support/use-server.ts";

requireSandboxHost();

const startServer = useTestServers();

const create = (url: string, token: string, name: string, eager = false) =>
  rawCall(url, "/v1/sandboxes", { token, body: { name, eager } });
const destroy = (url: string, token: string, name: string) =>
  rawCall(url, `/v1/sandboxes/${name}`, { token, method: "DELETE" });

/** The host uids that own the started sandboxes' homes (a lazy one has none yet). */
async function homeOwners(dataDir: string): Promise<number[]> {
  const root = join(dataDir, "sandboxes");
  const owners: number[] = [];
  for (const id of await readdir(root)) {
    const home = await stat(join(root, id, "home")).catch(() => undefined);
    if (home) owners.push(home.uid);
  }
  return owners.sort((a, b) => a - b);
}

describe("host uids", () => {
  it("300 create/destroy cycles keep working in a range of 8 uids", async () => {
    const base = 2_140_000_000 + randomInt(1000) * 8;
    const test = await startServer({
      hostUidBase: base,
      hostUidCount: 8,
      createRate: { burst: 1000, perSecond: 1000 },
    });
    for (let cycle = 0; cycle < 300; cycle++) {
      const name = `cycle-${cycle}`;
      const created = await create(test.url, test.token, name);
      expect(created.status, `create ${cycle}: ${created.text}`).toBe(201);
      expect((await destroy(test.url, test.token, name)).status).toBe(204);
    }
    // Started sandboxes too: the range fills up, and a destroy frees its uid for the next one.
    for (let index = 0; index < 8; index++) {
      const made = await create(test.url, test.token, `full-${index}`, index < 2);
      expect(made.status, made.text).toBe(201);
    }
    const refused = await create(test.url, test.token, "one-too-many");
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe("unavailable");
    expect(await homeOwners(test.dataDir)).toEqual([base, base + 1]);
    expect((await destroy(test.url, test.token, "full-0")).status).toBe(204);
    expect(await homeOwners(test.dataDir)).toEqual([base + 1]);
    // The lowest free uid: the one full-0 gave back.
    expect((await create(test.url, test.token, "reuses-a-uid", true)).status).toBe(201);
    expect(await homeOwners(test.dataDir)).toEqual([base, base + 1]);
  });
});

describe("the create rate limit", () => {
  it("answers a burst past the limit with 429 rate_limited and Retry-After, per user", async () => {
    const test = await startServer({ createRate: { burst: 3, perSecond: 0.1 } });
    for (let index = 0; index < 3; index++) {
      expect((await create(test.url, test.token, `burst-${index}`)).status).toBe(201);
    }
    const limited = await create(test.url, test.token, "burst-3");
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.text).toMatch(/at most 3 at once.*retry in \d+ s/);
    // Nothing was created by the refused call.
    expect((await rawCall(test.url, "/v1/sandboxes/burst-3", { token: test.token })).status).toBe(
      404,
    );
    // Another user has a bucket of its own.
    expect((await create(test.url, test.addUser("other"), "own-bucket")).status).toBe(201);
  });
});
