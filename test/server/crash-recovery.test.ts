/**
 * SECURITY.md, faults: what a killed server leaves behind is cleaned up on the next start. The
 * crash states are made directly (a half-written temp file in a home, a destroy cut short, a
 * storage directory gone), then the server restarts on the same data directory.
 */
import { chown, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { requireSandboxHost, useTestServers } from "../support/use-server.ts";
import { expectToolError, hostHomeOf } from "./sandbox-helpers.ts";

requireSandboxHost();

const startServer = useTestServers();

/** A client of the sandbox at the server's current address (a restart picks a new port). */
const clientOf = (test: TestServer, sandbox: string): LuminaClient =>
  createClient({ baseUrl: test.url, token: test.token, sandbox });

async function serverWithSandbox(): Promise<{ test: TestServer; lumina: LuminaClient }> {
  const test = await startServer();
  const lumina = clientOf(test, randomSandboxName());
  await lumina.createSandbox({ eager: true });
  return { test, lumina };
}

/** Runs SQL on the registry of a (running or stopped) server. */
function onRegistry(test: TestServer, sql: string): void {
  const db = new Database(join(test.dataDir, "lumina.db"), { timeout: 10_000 });
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

it("a start removes write's half-written temp files from the home, and only those", async () => {
  const { test, lumina } = await serverWithSandbox();
  await lumina.write("/home/user/src/app.ts", "export {};\n");
  const home = await hostHomeOf(test, lumina);
  const owner = (await stat(home)).uid;
  // What a server killed inside write leaves: a partial `.<name>.<12 hex>.lumina-tmp` beside its target.
  const leftovers = [
    join(home, ".notes.md.0123456789ab.lumina-tmp"),
    join(home, "src", ".app.ts.a1b2c3d4e5f6.lumina-tmp"),
  ];
  // The user's own files, even with similar names, and a link with the temp name.
  const kept = [
    join(home, "notes.lumina-tmp"),
    join(home, ".notes.md.lumina-tmp"),
    join(home, ".notes.md.0123456789AB.lumina-tmp"),
    join(home, "src", "app.ts"),
  ];
  for (const path of [...leftovers, ...kept.slice(0, 3)]) {
    await writeFile(path, Buffer.alloc(64 * 1024, 1));
    await chown(path, owner, owner);
  }
  await symlink(join(home, "src"), join(home, ".dir.ffffffffffff.lumina-tmp"));
  await test.restart();

  const glob = await clientOf(test, lumina.sandbox).glob("**/*", { path: "/home/user" });
  const names = glob.matches.map((file) => file.replace("/home/user/", ""));
  expect(names).not.toContain(".notes.md.0123456789ab.lumina-tmp");
  expect(names).not.toContain("src/.app.ts.a1b2c3d4e5f6.lumina-tmp");
  const left = await readdir(home, { recursive: true });
  for (const path of leftovers) expect(left).not.toContain(path.slice(home.length + 1));
  for (const path of kept) expect(left).toContain(path.slice(home.length + 1));
  expect(left).toContain(".dir.ffffffffffff.lumina-tmp");
  const read = await clientOf(test, lumina.sandbox).read("/home/user/src/app.ts");
  expect(read.type === "text" && read.content).toContain("export {}");
});

it("a destroy cut short is finished on the next start; the sandbox answers 404 meanwhile", async () => {
  const { test, lumina } = await serverWithSandbox();
  await lumina.write("/home/user/secret.txt", "old\n");
  const storage = join(await hostHomeOf(test, lumina), "..");
  // The first step of a destroy, then the crash.
  onRegistry(test, `UPDATE sandboxes SET state = 'destroying' WHERE name = '${lumina.sandbox}'`);
  const during = await rawCall(test.url, `/v1/sandboxes/${lumina.sandbox}`, { token: test.token });
  expect(during.status).toBe(404);
  expect(errorCode(during)).toBe("not_found");
  await test.restart();

  expect(await stat(storage).catch(() => undefined)).toBeUndefined();
  const after = await rawCall(test.url, `/v1/sandboxes/${lumina.sandbox}`, { token: test.token });
  expect(after.status).toBe(404);
  // The name is free again, and the new sandbox starts empty.
  const again = clientOf(test, lumina.sandbox);
  await again.createSandbox({ eager: true });
  await expectToolError(again.read("/home/user/secret.txt"), 404, "not_found");
});

it("a sandbox whose storage vanished answers a clear 409 instead of coming back empty", async () => {
  const { test, lumina } = await serverWithSandbox();
  await lumina.write("/home/user/work.txt", "precious\n");
  const storage = join(await hostHomeOf(test, lumina), "..");
  await test.restart();
  // What an old server's destroy left when it died between the files and the record (the
  // restarted server has not started the sandbox yet).
  await rm(storage, { recursive: true, force: true });
  const after = clientOf(test, lumina.sandbox);
  const message = await expectToolError(after.read("/home/user/work.txt"), 409, "conflict");
  expect(message).toMatch(/files of sandbox .* are missing.*destroy it and create it again/);
  expect(await stat(storage).catch(() => undefined)).toBeUndefined();
  // The way out the message names.
  await after.destroySandbox();
  await after.createSandbox({ eager: true });
  await expectToolError(after.read("/home/user/work.txt"), 404, "not_found");
});
