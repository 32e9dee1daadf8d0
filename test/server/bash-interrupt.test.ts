/**
 * A timed-out or aborted foreground command runs nothing more of its command line, whatever
 * shape that line has, and the shell keeps the state the command had reached.
 */
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;

function client(toolSessionId?: string): LuminaClient {
  return createClient({ baseUrl: server().url, token: server().token, sandbox, toolSessionId });
}

const server = useTestServer({}, async () => {
  sandbox = randomSandboxName("intr");
  await client().createSandbox();
});

/** Command lines whose statements after the long `sleep` each leave a file in the current directory. */
const shapes: Record<string, string> = {
  list: "sleep 30; touch after; echo later",
  "and-or chain": "sleep 30 && touch and-ok || touch or-failed; touch after",
  loop: "for i in 1 2 3; do sleep 30; touch loop-$i; done; touch after",
  "while loop of builtins": "while :; do :; done; touch after",
  function: "f() { sleep 30; touch in-function; }; f; touch after",
  "nested functions": "g() { sleep 30; touch in-g; }; f() { g; touch in-f; }; f; touch after",
  subshell: "( sleep 30; touch in-subshell ); touch after",
  "here-doc": "sh <<EOF\nsleep 30\ntouch in-heredoc\nEOF\ntouch after",
  "brace group": "{ sleep 30; touch in-group; }; touch after",
  "multi-line": "sleep 30\ntouch after\necho later",
};

describe("bash: an interrupted command line stops where it was", () => {
  for (const [shape, line] of Object.entries(shapes)) {
    it(`runs no later statement of a timed-out ${shape}`, async () => {
      const lumina = client();
      const dir = `/home/user/intr-${shape.replaceAll(" ", "-")}`;
      await lumina.bash(`mkdir -p ${dir} && cd ${dir}`);
      const result = await lumina.bash(line, { timeout: 1000 });
      expect(result).toMatchObject({ exitCode: 124, killed: true });
      expect(result.output).not.toContain("later");
      // The session's next command runs after whatever the killed one would still have run.
      expect((await lumina.bash(`ls -A ${dir}`)).output).toBe("");
      expect((await lumina.bash("echo next")).output).toBe("next\n");
    });
  }

  it("runs no later statement of an aborted command", async () => {
    const id = `abort-${Date.now()}`;
    const lumina = client(id);
    await lumina.bash("mkdir -p /home/user/intr-abort && cd /home/user/intr-abort");
    const controller = new AbortController();
    const call = lumina.bash("touch started; sleep 30; touch after; echo later", {
      signal: controller.signal,
    });
    const checker = client(); // Another session: this one's queue is busy with the sleep.
    for (let i = 0; i < 100; i++) {
      const { output } = await checker.bash("ls /home/user/intr-abort");
      if (output.includes("started")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort(new Error("caller gave up"));
    await expect(call).rejects.toThrow("caller gave up");
    // Same session: queued behind the aborted command, so it sees everything that command did.
    expect((await client(id).bash("ls -A")).output).toBe("started\n");
  });

  it("keeps the state the command had reached: directory, variables, functions", async () => {
    const lumina = client();
    const result = await lumina.bash(
      "cd /tmp; export REACHED=yes; helper() { echo helped; }; sleep 30; cd /; export REACHED=no",
      { timeout: 1000 },
    );
    expect(result.killed).toBe(true);
    expect((await lumina.bash("pwd; echo $REACHED; helper")).output).toBe("/tmp\nyes\nhelped\n");
  });

  it("leaves no trap or shell option of its own behind", async () => {
    const lumina = client();
    await lumina.bash("set -u");
    const result = await lumina.bash("sleep 30; echo later", { timeout: 1000 });
    expect(result.killed).toBe(true);
    const after = await lumina.bash(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template
      "trap -p DEBUG; shopt extdebug; [[ $- == *u* ]] && echo nounset; trap 'n=$((${n:-0}+1))' DEBUG; :; echo $n",
    );
    expect(after.output).toBe("extdebug       \toff\nnounset\n2\n");
  });
});
