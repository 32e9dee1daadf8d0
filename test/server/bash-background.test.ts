/**
 * Background commands end to end: the SDK's `bash` with `runInBackground`, `bashOutput`,
 * `streamOutput` and `killBash` against the real server with bubblewrap sandboxes.
 */
import { describe, expect, it } from "vitest";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;

function client(toolSessionId?: string): LuminaClient {
  return createClient({ baseUrl: server().url, token: server().token, sandbox, toolSessionId });
}

async function start(lumina: LuminaClient, command: string): Promise<string> {
  const result = await lumina.bash(command, { runInBackground: true });
  expect(result).toMatchObject({ output: "", exitCode: 0, killed: false });
  expect(result.shellId).toMatch(/^bash_[0-9a-f]+$/);
  return result.shellId;
}

/** Polls until the command is no longer running; returns everything it printed. */
async function untilEnded(lumina: LuminaClient, shellId: string) {
  let output = "";
  for (;;) {
    const answer = await lumina.bashOutput(shellId, { waitMs: 5000 });
    output += answer.output;
    if (answer.status !== "running") return { ...answer, output };
  }
}

async function processesMatching(lumina: LuminaClient, needle: string): Promise<string> {
  const { output } = await lumina.bash(`ps -eo pid,args | grep -F -- '${needle}' | grep -v grep`);
  return output;
}

/** How many `sleep` processes run with arguments starting `prefix`. */
async function sleepers(lumina: LuminaClient, prefix: string): Promise<number> {
  const { output } = await lumina.bash(`ps -eo args | grep -c '^${prefix}' || true`);
  return Number(output.trim());
}

const server = useTestServer({}, async () => {
  sandbox = randomSandboxName("bg");
  await client().createSandbox();
});

describe("bash in the background", () => {
  it("reports completed, failed and killed with their exit codes", async () => {
    const lumina = client();
    const ok = await start(lumina, "echo fine");
    expect(await untilEnded(lumina, ok)).toMatchObject({
      output: "fine\n",
      status: "completed",
      exitCode: 0,
    });
    const bad = await start(lumina, "echo oops >&2; exit 7");
    expect(await untilEnded(lumina, bad)).toMatchObject({
      output: "oops\n",
      status: "failed",
      exitCode: 7,
    });
    const slow = await start(lumina, "sleep 600");
    expect((await lumina.bashOutput(slow)).status).toBe("running");
    const killed = await lumina.killBash(slow);
    expect(killed).toMatchObject({ shellId: slow, status: "killed" });
    expect(await lumina.bashOutput(slow)).toMatchObject({ status: "killed", exitCode: 137 });
    const again = await lumina.killBash(slow);
    expect(again.status).toBe("killed");
    expect(again.message).toMatch(/already/);
    const finished = await lumina.killBash(ok);
    expect(finished.status).toBe("completed");
    expect(finished.message).toMatch(/already/);
  });

  it("starts from the shell's directory and exported environment", async () => {
    const lumina = client();
    await lumina.bash("cd /tmp && export FROM_SHELL=carried && NOT_EXPORTED=1");
    const id = await start(lumina, 'pwd; echo "$FROM_SHELL" "x$NOT_EXPORTED"');
    expect((await untilEnded(lumina, id)).output).toBe("/tmp\ncarried x\n");
  });

  it("reads incrementally, and a cursor re-reads the same output", async () => {
    const lumina = client();
    const id = await start(lumina, "echo one; sleep 0.5; echo two; sleep 0.5; echo three");
    const first = await lumina.bashOutput(id, { waitMs: 5000 });
    expect(first.output).toBe("one\n");
    expect(first.cursor).toBe(4);
    const rest = await untilEnded(lumina, id);
    expect(rest.output).toBe("two\nthree\n");
    expect(rest.cursor).toBe(14);
    // Same cursor twice: same answer (a retried poll neither loses nor repeats output).
    const retried = await lumina.bashOutput(id, { cursor: 4 });
    expect(retried).toEqual(await lumina.bashOutput(id, { cursor: 4 }));
    expect(retried.output).toBe("two\nthree\n");
    // Nothing new from the session's own position once everything was read.
    expect((await lumina.bashOutput(id)).output).toBe("");
    expect((await lumina.bashOutput(id, { cursor: 0 })).output).toBe("one\ntwo\nthree\n");
  });

  it("long-polls: an answer waits for new output and returns with it", async () => {
    const lumina = client();
    const id = await start(lumina, "sleep 1; echo late; sleep 600");
    const asked = Date.now();
    const answer = await lumina.bashOutput(id, { waitMs: 25_000 });
    expect(answer.output).toBe("late\n");
    expect(answer.status).toBe("running");
    expect(Date.now() - asked).toBeLessThan(20_000);
    // With nothing new, the wait ends at wait_ms with an empty answer.
    const empty = await lumina.bashOutput(id, { waitMs: 300 });
    expect(empty).toMatchObject({ output: "", status: "running", cursor: answer.cursor });
    await lumina.killBash(id);
  });

  it("filters complete lines and holds back a partial last line", async () => {
    const lumina = client();
    const gate = `/tmp/gate-${Date.now()}`;
    const id = await start(
      lumina,
      `printf 'ERROR one\\nfine\\nERROR part'; until [ -e ${gate} ]; do sleep 0.05; done; echo ial; echo 'ERROR two'`,
    );
    // Read (filtered) until the skipped line "fine" counts as read; the partial line never does.
    let seen = "";
    let cursor = 0;
    for (let i = 0; i < 50 && cursor < "ERROR one\nfine\n".length; i++) {
      const answer = await lumina.bashOutput(id, { filter: "ERROR", waitMs: 1000 });
      seen += answer.output;
      cursor = answer.cursor;
    }
    expect(seen).toBe("ERROR one\n");
    expect(cursor).toBe("ERROR one\nfine\n".length);
    const held = await lumina.bashOutput(id, { filter: "ERROR", waitMs: 300 });
    expect(held).toMatchObject({ output: "", status: "running", cursor });
    await lumina.bash(`touch ${gate}`);
    const rest = await untilEndedFiltered(lumina, id, "ERROR");
    expect(rest).toBe("ERROR partial\nERROR two\n");
  });

  it("kills the whole tree, also children that detached with setsid, nohup or a double fork", async () => {
    const lumina = client();
    const id = await start(
      lumina,
      "sleep 7501 & setsid sleep 7502 & (sleep 7503 &) ; nohup sleep 7504 >/dev/null 2>&1 & disown; (setsid sh -c 'sleep 7505' &) ; echo up; wait",
    );
    expect((await lumina.bashOutput(id, { waitMs: 5000 })).output).toBe("up\n");
    // The sleeps start as the command runs: wait until all five are there.
    let count = 0;
    for (let i = 0; i < 50 && count !== 5; i++) {
      count = await sleepers(lumina, "sleep 750");
      if (count !== 5) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(count).toBe(5);
    expect((await lumina.killBash(id)).status).toBe("killed");
    expect(await sleepers(lumina, "sleep 750")).toBe(0);
    expect(await processesMatching(lumina, "sleep 750")).toBe("");
  });

  it("drops the oldest output of a full buffer, with a marker", async () => {
    const lumina = client();
    const id = await start(lumina, "yes | head -c 5000000; echo; echo last");
    const ended = await untilEndedFrom(lumina, id, 0);
    expect(ended.status).toBe("completed");
    expect(ended.output).toMatch(/^\[… \d+ bytes of earlier output were dropped/);
    expect(ended.output.endsWith("y\n\nlast\n")).toBe(true);
    expect(ended.output.length).toBeLessThan(1_100_000);
    expect(ended.cursor).toBe(5_000_000 + "\nlast\n".length);
  });

  it("belongs to its session: another session gets 404", async () => {
    const owner = client();
    const id = await start(owner, "sleep 600");
    const stranger = client();
    for (const call of [() => stranger.bashOutput(id), () => stranger.killBash(id)]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(isToolError(error) && error.statusCode === 404 && error.code === "not_found").toBe(
        true,
      );
    }
    const unknown = await owner
      .bashOutput("bash_0123456789abcdef")
      .catch((caught: unknown) => caught);
    expect(isToolError(unknown) && unknown.statusCode === 404).toBe(true);
    // The same session id through another client is the same session.
    const sameSession = client(owner.toolSessionId);
    expect((await sameSession.killBash(id)).status).toBe("killed");
  });

  it("streams output as it is printed and stops on break and on abort", async () => {
    const lumina = client();
    const id = await start(lumina, "for i in 1 2 3; do echo tick$i; sleep 0.3; done; exit 2");
    const chunks: string[] = [];
    let last: { status: string; exitCode: number | null } | undefined;
    for await (const chunk of lumina.streamOutput(id)) {
      chunks.push(chunk.output);
      last = chunk;
    }
    expect(chunks.join("")).toBe("tick1\ntick2\ntick3\n");
    expect(chunks.filter((chunk) => chunk !== "").length).toBeGreaterThanOrEqual(2);
    expect(last).toMatchObject({ status: "failed", exitCode: 2 });

    const endless = await start(lumina, "while :; do echo beat; sleep 0.2; done");
    for await (const chunk of lumina.streamOutput(endless)) {
      expect(chunk.output).toContain("beat");
      break;
    }
    // break stops watching, not the command.
    expect((await lumina.bashOutput(endless)).status).toBe("running");
    const controller = new AbortController();
    const reason = new Error("stop streaming");
    const watching = (async () => {
      for await (const _chunk of lumina.streamOutput(endless, { signal: controller.signal })) {
        controller.abort(reason);
      }
    })();
    await expect(watching).rejects.toBe(reason);
    await lumina.killBash(endless);
  });
});

async function untilEndedFiltered(lumina: LuminaClient, shellId: string, filter: string) {
  let output = "";
  for (;;) {
    const answer = await lumina.bashOutput(shellId, { filter, waitMs: 5000 });
    output += answer.output;
    if (answer.status !== "running") return output;
  }
}

/** Waits for the end, then reads everything still kept, from the stream's very start. */
async function untilEndedFrom(lumina: LuminaClient, shellId: string, cursor: number) {
  await untilEnded(lumina, shellId);
  return lumina.bashOutput(shellId, { cursor });
}
