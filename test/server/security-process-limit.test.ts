/**
 * CONTRACT §8: a sandbox at its process limit answers 503 `unavailable` saying so, never a 500
 * (nor a silent exit code 127). A background command holds every process slot of a sandbox
 * with a small limit; calls that need a new process are then refused, and work again once it is
 * killed.
 */
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient, sameSandboxClient } from "./sandbox-helpers.ts";

let holder: LuminaClient;
let fillerId: string;

const server = useTestServer(
  { limits: { maxProcesses: 32 } },
  async () => {
    holder = await newSandboxClient(server());
    // The agent's thread pool and this session's shell exist before the slots run out.
    await holder.write("/home/user/warm.txt", "warm\n");
    await holder.bash("echo warm");
    // Bounded: 200 sleeps at most, each ended by the kill below or the sandbox's destroy.
    const filler = await holder.bash("for ((i = 0; i < 200; i++)); do sleep 600 & done; wait", {
      runInBackground: true,
    });
    fillerId = filler.shellId;
    // bash says "fork: retry" once a fork fails: from then on the sandbox is full.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const seen = await holder.bashOutput(fillerId, { filter: "fork: retry", waitMs: 5_000 });
      if (seen.output !== "") break;
      if (Date.now() > deadline) throw new Error("the filler never reached the process limit");
    }
  },
  90_000,
);

it("a new session's bash at the process limit is a 503 saying so", async () => {
  const fresh = sameSandboxClient(server(), holder);
  const message = await expectToolError(fresh.bash("echo hi"), 503, "unavailable");
  expect(message).toMatch(/process limit/);
});

it("a background command at the process limit is a 503 saying so", async () => {
  const fresh = sameSandboxClient(server(), holder);
  const message = await expectToolError(
    fresh.bash("echo hi", { runInBackground: true }),
    503,
    "unavailable",
  );
  expect(message).toMatch(/process limit/);
});

it("grep at the process limit is a 503 saying so", async () => {
  const message = await expectToolError(holder.grep("warm"), 503, "unavailable");
  expect(message).toMatch(/process limit/);
});

// Last while full: the probe it interrupts may end the shell and free a slot for a moment.
it("a background command from a running shell that cannot fork is a 503 saying so", async () => {
  const message = await expectToolError(
    holder.bash("echo hi", { runInBackground: true }),
    503,
    "unavailable",
  );
  expect(message).toMatch(/process limit/);
}, 60_000);

it("once the processes are killed, the same calls work again", async () => {
  await holder.killBash(fillerId);
  const fresh = sameSandboxClient(server(), holder);
  expect((await fresh.bash("echo back")).output).toBe("back\n");
  expect((await holder.grep("warm")).files).toEqual(["/home/user/warm.txt"]);
}, 60_000);
