/**
 * SDK 0.2's one options object, against the real server: every method's `signal` aborts it, an
 * unknown key fails before anything is sent, and each method sends exactly the body it should.
 */
import { describe, expect, it } from "vitest";
import { createClient, isToolError, launchSandbox, type ToolError } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;

/** One request as the client sent it. */
interface Sent {
  method: string;
  path: string;
  body: unknown;
}

/** A client whose requests are recorded and forwarded to the real server; `onSend` sees each. */
function recording(
  options: { name?: string; toolSessionId?: string; onSend?: (request: Request) => void } = {},
) {
  const sent: Sent[] = [];
  const answers: Response[] = [];
  const settings = {
    baseUrl: server().url,
    token: server().token,
    sandbox: options.name ?? sandbox,
    toolSessionId: options.toolSessionId,
    fetch: async (request: Request) => {
      const text = await request.clone().text();
      sent.push({
        method: request.method,
        path: new URL(request.url).pathname,
        body: text ? JSON.parse(text) : undefined,
      });
      options.onSend?.(request);
      const answer = await fetch(request);
      answers.push(answer);
      return answer;
    },
  };
  return { lumina: createClient(settings), settings, sent, answers };
}

const server = useTestServer({}, async () => {
  sandbox = randomSandboxName("opts");
  await recording().lumina.createSandbox();
  const { lumina } = recording();
  await lumina.write("/home/user/o/a.txt", "alpha\nbeta\n");
});

/** Every method, called with `extra` merged into its options. */
function everyMethod(
  { lumina, settings }: ReturnType<typeof recording>,
  extra: Record<string, unknown>,
): Record<string, () => Promise<unknown>> {
  const o = extra as object;
  return {
    createSandbox: () => lumina.createSandbox(o),
    getSandbox: () => lumina.getSandbox(o),
    listSandboxes: () => lumina.listSandboxes(o),
    restartSandbox: () => lumina.restartSandbox(o),
    destroySandbox: () => lumina.destroySandbox(o),
    read: () => lumina.read("/home/user/o/a.txt", o),
    write: () => lumina.write("/home/user/o/new.txt", "x", o),
    edit: () => lumina.edit("/home/user/o/a.txt", "alpha", "gamma", o),
    glob: () => lumina.glob("**", o),
    grep: () => lumina.grep("beta", o),
    bash: () => lumina.bash("true", o),
    bashOutput: () => lumina.bashOutput("bash_none", o),
    killBash: () => lumina.killBash("bash_none", o),
    streamOutput: async () => {
      for await (const _chunk of lumina.streamOutput("bash_none", o)) break;
    },
    launchSandbox: () => launchSandbox({ ...settings, ...extra }),
  };
}

/** The names of every method, as `everyMethod` lists them. */
const METHODS = [
  "createSandbox",
  "getSandbox",
  "listSandboxes",
  "restartSandbox",
  "destroySandbox",
  "read",
  "write",
  "edit",
  "glob",
  "grep",
  "bash",
  "bashOutput",
  "killBash",
  "streamOutput",
  "launchSandbox",
];

describe("an unknown option", () => {
  it("is checked for every method", () => {
    expect(Object.keys(everyMethod(recording(), {}))).toEqual(METHODS);
  });

  for (const name of METHODS) {
    it(`${name}: throws a TypeError naming it and the method, before any request`, async () => {
      const client = recording();
      const call = everyMethod(client, { ignoreCase: true })[name]!;
      const error = await (async () => call())().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(
        new RegExp(`^${name}: unknown option 'ignoreCase'; it takes: .*signal`),
      );
      expect(client.sent).toEqual([]);
    });
  }

  it("of another method is refused too, listing what the method takes", async () => {
    const { lumina } = recording();
    await expect(lumina.read("/home/user/o/a.txt", { replaceAll: true } as object)).rejects.toThrow(
      "read: unknown option 'replaceAll'; it takes: offset, limit, signal, requestTimeout",
    );
    const { settings } = recording();
    expect(() => createClient({ ...settings, retries: 3 } as never)).toThrow(
      "createClient: unknown option 'retries'",
    );
    expect(() => createClient({ ...settings, hooks: { onRequst: () => {} } } as never)).toThrow(
      "hooks: unknown option 'onRequst'",
    );
  });
});

describe("an already aborted signal", () => {
  for (const name of METHODS) {
    it(`${name}: rejects with its reason and sends nothing`, async () => {
      const client = recording();
      const reason = new Error(`stop ${name}`);
      const call = everyMethod(client, { signal: AbortSignal.abort(reason) })[name]!;
      await expect(call()).rejects.toBe(reason);
      expect(client.sent).toEqual([]);
    });
  }
});

describe("a signal that aborts a slow call", () => {
  it("bash: a running foreground command", async () => {
    const controller = new AbortController();
    const reason = new Error("stop the sleep");
    const { lumina } = recording({ onSend: () => setTimeout(() => controller.abort(reason), 200) });
    const started = Date.now();
    await expect(lumina.bash("sleep 30", { signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("bashOutput: a long poll", async () => {
    const { lumina: starter } = recording();
    const { shellId } = await starter.bash("sleep 300", { runInBackground: true });
    const controller = new AbortController();
    const reason = new Error("stop polling");
    const { lumina } = recording({
      toolSessionId: starter.toolSessionId,
      onSend: () => setTimeout(() => controller.abort(reason), 200),
    });
    const started = Date.now();
    const poll = lumina.bashOutput(shellId, { waitMs: 25_000, signal: controller.signal });
    await expect(poll).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(20_000);
    await starter.killBash(shellId);
  });

  it("streamOutput: a stream of a command that keeps running", async () => {
    const { lumina: starter } = recording();
    const { shellId } = await starter.bash("sleep 300", { runInBackground: true });
    const controller = new AbortController();
    const reason = new Error("stop streaming");
    const { lumina } = recording({
      toolSessionId: starter.toolSessionId,
      onSend: () => setTimeout(() => controller.abort(reason), 200),
    });
    const started = Date.now();
    const watch = (async () => {
      for await (const _chunk of lumina.streamOutput(shellId, { signal: controller.signal })) {
        // A sleeping command prints nothing: no chunk is due before the abort.
      }
    })();
    await expect(watch).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(20_000);
    await starter.killBash(shellId);
  });
});

describe("the request body", () => {
  it("holds each method's own fields in snake_case, and no call option", async () => {
    const own = randomSandboxName("body");
    const { lumina, sent } = recording({ name: own });
    const signal = new AbortController().signal;
    const call = { signal, requestTimeout: 60_000 };
    const root = "/v1/sandboxes";
    const tools = `${root}/${own}/tools`;
    await lumina.createSandbox({ eager: false, ...call });
    await lumina.getSandbox(call);
    await lumina.listSandboxes(call);
    await lumina.write("/home/user/b.txt", "one\ntwo\n", call);
    await lumina.read("/home/user/b.txt", { offset: 2, limit: 1, ...call });
    await lumina.edit("/home/user/b.txt", "one", "uno", { replaceAll: true, ...call });
    await lumina.glob("*.txt", { path: "/home/user", ...call });
    await lumina.grep("uno", {
      path: "/home/user",
      glob: "*.txt",
      outputMode: "content",
      lineNumbers: true,
      after: 1,
      before: 0,
      context: 1,
      fileType: "txt",
      caseInsensitive: true,
      multiline: false,
      ...call,
    });
    const background = await lumina.bash("echo hi", {
      timeout: 5_000,
      description: "say hi",
      runInBackground: true,
      ...call,
    });
    const id = background.shellId;
    await lumina.bashOutput(id, { filter: "hi", cursor: 0, waitMs: 1_000, ...call });
    await lumina.killBash(id, call).catch(() => undefined);
    await lumina.restartSandbox(call);
    await lumina.destroySandbox(call);
    expect(sent).toEqual([
      { method: "POST", path: root, body: { name: own, eager: false } },
      { method: "GET", path: `${root}/${own}`, body: undefined },
      { method: "GET", path: root, body: undefined },
      {
        method: "POST",
        path: `${tools}/write`,
        body: { file_path: "/home/user/b.txt", content: "one\ntwo\n" },
      },
      {
        method: "POST",
        path: `${tools}/read`,
        body: { file_path: "/home/user/b.txt", offset: 2, limit: 1 },
      },
      {
        method: "POST",
        path: `${tools}/edit`,
        body: {
          file_path: "/home/user/b.txt",
          old_string: "one",
          new_string: "uno",
          replace_all: true,
        },
      },
      { method: "POST", path: `${tools}/glob`, body: { pattern: "*.txt", path: "/home/user" } },
      {
        method: "POST",
        path: `${tools}/grep`,
        body: {
          pattern: "uno",
          path: "/home/user",
          glob: "*.txt",
          output_mode: "content",
          line_numbers: true,
          after: 1,
          before: 0,
          context: 1,
          file_type: "txt",
          case_insensitive: true,
          multiline: false,
        },
      },
      {
        method: "POST",
        path: `${tools}/bash`,
        body: {
          command: "echo hi",
          timeout: 5_000,
          description: "say hi",
          run_in_background: true,
        },
      },
      {
        method: "POST",
        path: `${tools}/bash_output`,
        body: { bash_id: id, filter: "hi", cursor: 0, wait_ms: 1_000 },
      },
      { method: "POST", path: `${tools}/kill_bash`, body: { shell_id: id } },
      { method: "POST", path: `${root}/${own}/restart`, body: undefined },
      { method: "DELETE", path: `${root}/${own}`, body: undefined },
    ]);
  });

  it("leaves out the options not given", async () => {
    const { lumina, sent } = recording();
    await lumina.read("/home/user/o/a.txt", {});
    await lumina.grep("beta");
    expect(sent.map((request) => request.body)).toEqual([
      { file_path: "/home/user/o/a.txt" },
      { pattern: "beta" },
    ]);
  });
});

describe("a ToolError", () => {
  it("carries the method, the URL and the server's Lumina-Request-Id", async () => {
    const { lumina, answers } = recording();
    const error = (await lumina
      .read("/home/user/o/missing.txt")
      .catch((thrown: unknown) => thrown)) as ToolError;
    expect(isToolError(error)).toBe(true);
    expect(error.method).toBe("POST");
    expect(error.url).toBe(`${server().url}/v1/sandboxes/${sandbox}/tools/read`);
    const header = answers[0]!.headers.get("lumina-request-id");
    expect(header).toBeTruthy();
    expect(error.requestId).toBe(header);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ requestId: header, method: "POST" });
  });
});
