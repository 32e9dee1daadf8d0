/**
 * The shell engine's lifecycle end to end: long calls kept alive, sandbox restart and destroy,
 * session expiry, and no leaks after many sessions come and go.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

function clientOf(server: TestServer, sandbox: string, toolSessionId?: string): LuminaClient {
  return createClient({ baseUrl: server.url, token: server.token, sandbox, toolSessionId });
}

async function sleepers(lumina: LuminaClient, prefix: string): Promise<number> {
  const { output } = await lumina.bash(`ps -eo args | grep -c '^${prefix}' || true`);
  return Number(output.trim());
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await probe();
  for (let i = 0; i < 100 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await probe();
  }
  return value;
}

/** POSTs with node:http, giving up when headers or body bytes stop arriving for `idleMs`. */
function impatientPost(url: string, token: string, body: unknown, idleMs: number) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "lumina-tool-session": "impatient-client",
      },
    });
    const giveUp = () => req.destroy(new Error(`nothing arrived for ${idleMs} ms`));
    let timer = setTimeout(giveUp, idleMs);
    req.on("response", (response) => {
      let text = "";
      clearTimeout(timer);
      timer = setTimeout(giveUp, idleMs);
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        clearTimeout(timer);
        timer = setTimeout(giveUp, idleMs);
      });
      response.on("end", () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text });
      });
    });
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(JSON.stringify(body));
  });
}

describe("bash lifecycle: long calls, restart, destroy", () => {
  const sandbox = randomSandboxName("life");
  const server = useTestServer({ heartbeatMs: 100 }, (started) =>
    clientOf(started, sandbox).createSandbox(),
  );
  const client = (id?: string) => clientOf(server(), sandbox, id);

  it("keeps a long call alive past a client's short header and idle timeouts", async () => {
    const answer = await impatientPost(
      `${server().url}/v1/sandboxes/${sandbox}/tools/bash`,
      server().token,
      { command: "sleep 2; echo finished", timeout: 30_000 },
      700,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      output: "finished\n",
      exit_code: 0,
      killed: false,
      truncated: false,
      shell_id: "",
    });
  });

  it("ends shells and background commands on restart", async () => {
    const lumina = client();
    await lumina.bash("export BEFORE_RESTART=1; (setsid sleep 7601 &)");
    const id = (await lumina.bash("sleep 7602", { runInBackground: true })).shellId;
    expect(
      await eventually(
        () => sleepers(lumina, "sleep 760"),
        (n) => n === 2,
      ),
    ).toBe(2);
    await lumina.restartSandbox();
    // CONTRACT §3: a sandbox restart kills background commands (status killed, 128 + SIGKILL).
    expect(await lumina.bashOutput(id)).toMatchObject({ status: "killed", exitCode: 137 });
    expect((await lumina.bash('echo "x$BEFORE_RESTART"')).output).toMatch(/^x\n$/);
    expect(await sleepers(lumina, "sleep 760")).toBe(0);
  });

  it("ends shells and background commands on destroy", async () => {
    const lumina = client();
    const id = (await lumina.bash("sleep 7701", { runInBackground: true })).shellId;
    await lumina.bash("(setsid sleep 7702 &)");
    await lumina.destroySandbox();
    await lumina.createSandbox();
    expect(await sleepers(lumina, "sleep 770")).toBe(0);
    const gone = await lumina.bashOutput(id).catch((error: unknown) => error);
    expect(isToolError(gone) && gone.statusCode === 404).toBe(true);
  });
});

describe("bash lifecycle: session expiry and leaks", () => {
  const sandbox = randomSandboxName("expire");
  const server = useTestServer({ sessionIdleMs: 1500 }, (started) =>
    clientOf(started, sandbox).createSandbox(),
  );
  const client = (id?: string) => clientOf(server(), sandbox, id);

  it("ends an idle session's shell and its processes, but not a session with running background commands", async () => {
    const idle = client();
    await idle.bash("export IDLE_STATE=1; sleep 7801 >/dev/null 2>&1 &");
    const busy = client();
    const id = (await busy.bash("sleep 7802", { runInBackground: true })).shellId;
    const checker = client();
    expect(
      await eventually(
        () => sleepers(checker, "sleep 780"),
        (n) => n === 2,
      ),
    ).toBe(2);
    expect(
      await eventually(
        () => sleepers(client(), "sleep 7801"),
        (n) => n === 0,
      ),
    ).toBe(0);
    expect((await idle.bash('echo "x$IDLE_STATE"')).output).toMatch(/(^|\n)x\n$/);
    expect((await busy.bashOutput(id)).status).toBe("running");
    await busy.killBash(id);
  });

  it("leaks no processes or descriptors after 50 sessions come and go", async () => {
    const probe = client(); // One session: its shell is part of every count.
    const processes = async () => (await probe.bash("ps -eo args --no-headers")).output;
    const descriptors = async () =>
      (await probe.bash("ls /proc/$(pgrep -o -f agent.mjs)/fd | wc -l")).output.trim();
    // bwrap, the agent, the probe's shell and ps: once earlier sessions have expired.
    const alone = (list: string) => list.trim().split("\n").length === 4;
    expect(alone(await eventually(processes, alone))).toBe(true);
    const before = await descriptors();
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const lumina = client();
          await lumina.bash("cd /tmp; export X=1; sleep 600 >/dev/null 2>&1 &");
          const id = (await lumina.bash("yes >/dev/null", { runInBackground: true })).shellId;
          await lumina.bashOutput(id);
          await lumina.killBash(id);
          await lumina.bash("true");
        }),
      );
    }
    const list = await eventually(processes, alone);
    expect(list.trim().split("\n")).toHaveLength(4);
    expect(await eventually(descriptors, (value) => value === before)).toBe(before);
  });
});
