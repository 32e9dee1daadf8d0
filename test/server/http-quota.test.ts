/** SECURITY.md, resources: one user cannot create sandboxes without end (each takes its full limits). */
import { expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError } from "./sandbox-helpers.ts";

const server = useTestServer({ maxSandboxesPerUser: 2 });

const lumina = (token: string, sandbox = randomSandboxName()) =>
  createClient({ baseUrl: server().url, token, sandbox });

it("refuses a user's sandbox past the cap with a 409 saying what to do, and not another user's", async () => {
  const first = lumina(server().token);
  await first.createSandbox({ eager: false });
  await lumina(server().token).createSandbox({ eager: false });
  const message = await expectToolError(
    lumina(server().token).createSandbox({ eager: false }),
    409,
    "conflict",
  );
  expect(message).toMatch(/already have 2 sandboxes.*destroy one/);
  // Another user has a cap of its own.
  await lumina(server().addUser("other")).createSandbox({ eager: false });
  // Destroying one makes room again.
  await first.destroySandbox();
  await lumina(server().token).createSandbox({ eager: false });
});
