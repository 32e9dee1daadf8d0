/**
 * CONTRACT §3: a background command ended by a sandbox restart reads as `killed` (137), not as
 * an unknown id, for both bash_output and kill_bash; a never-started id is still a 404.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

describe("background commands across a sandbox restart", () => {
  const server = useTestServer();

  it("answers killed (137) with the last cursor, and kill_bash says so", async () => {
    const lumina = await newSandboxClient(server(), server().token, "restart");
    const { shellId } = await lumina.bash("echo started; sleep 300", { runInBackground: true });
    const first = await lumina.bashOutput(shellId, { filter: "started", waitMs: 20_000 });
    expect(first).toMatchObject({ output: "started\n", status: "running" });
    await lumina.restartSandbox();

    const after = await lumina.bashOutput(shellId);
    expect(after).toEqual({ output: "", status: "killed", exitCode: 137, cursor: first.cursor });
    const killed = await lumina.killBash(shellId);
    expect(killed.status).toBe("killed");
    expect(killed.message).toMatch(/killed when the sandbox restarted/);
    await expectToolError(lumina.bashOutput("bash_0123456789abcdef"), 404, "not_found");
  });
});
