/**
 * The persistent foreground shell, end to end: the SDK's `bash` against the real server with
 * bubblewrap sandboxes.
 */
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;

function client(): LuminaClient {
  return createClient({ baseUrl: server().url, token: server().token, sandbox });
}

/** The sandbox's processes whose command line contains `needle` (besides the search itself). */
async function processesMatching(lumina: LuminaClient, needle: string): Promise<string> {
  const { output } = await lumina.bash(`ps -eo pid,args | grep -F -- '${needle}' | grep -v grep`);
  return output;
}

const server = useTestServer({}, async () => {
  sandbox = randomSandboxName("bash");
  await client().createSandbox();
});

describe("bash: the persistent shell", () => {
  it("keeps environment, directory, aliases and functions between calls", async () => {
    const lumina = client();
    await lumina.bash(
      "export GREETING=hello; cd /tmp; alias greet='echo aliased'; shout() { echo \"$1!\"; }",
    );
    const { output, exitCode } = await lumina.bash("echo $GREETING; pwd; greet; shout hey");
    expect(output).toBe("hello\n/tmp\naliased\nhey!\n");
    expect(exitCode).toBe(0);
  });

  it("returns exact exit codes and stdout with stderr, unchanged", async () => {
    const lumina = client();
    expect(
      await lumina.bash("echo out; echo err >&2; exit_code() { return 42; }; exit_code"),
    ).toEqual({ output: "out\nerr\n", exitCode: 42, killed: false, truncated: false, shellId: "" });
    expect((await lumina.bash("false")).exitCode).toBe(1);
    // `$?` carries over to the next call, as at a prompt; xtrace shows only the user's command.
    expect((await lumina.bash("echo status=$?")).output).toBe("status=1\n");
    expect((await lumina.bash("set -x; echo traced")).output).toBe("++ echo traced\ntraced\n");
    await lumina.bash("set +x");
    expect((await lumina.bash("printf 'no newline'")).output).toBe("no newline");
  });

  it("gives commands end-of-file on stdin", async () => {
    const { output, exitCode } = await client().bash('cat; read line; echo "read=$?"', {
      timeout: 20_000,
    });
    expect(output).toBe("read=1\n");
    expect(exitCode).toBe(0);
  });

  it("runs heredocs, multi-line commands, unicode, long lines and binary output", async () => {
    const lumina = client();
    const heredoc = await lumina.bash(
      "cat <<'EOF'\nline $1\n  ünïcødé ✓ 🚀\nEOF\nfor i in 1 2; do\n  echo \"n=$i\"\ndone",
    );
    expect(heredoc.output).toBe("line $1\n  ünïcødé ✓ 🚀\nn=1\nn=2\n");
    const long = await lumina.bash("head -c 20000 /dev/zero | tr '\\0' x; echo");
    expect(long.output).toBe(`${"x".repeat(20_000)}\n`);
    expect(long.truncated).toBe(false);
    const binary = await lumina.bash("printf 'a\\x00b\\xff\\xfec'; echo; echo after");
    expect(binary.output).toBe("a\u0000b\uFFFD\uFFFDc\nafter\n");
    expect(binary.exitCode).toBe(0);
  });

  it("cuts output beyond the cap with a marker saying how much was dropped", async () => {
    const { output, exitCode, truncated } = await client().bash("seq 1 100000");
    expect(exitCode).toBe(0);
    expect(truncated).toBe(true);
    expect(output.length).toBeLessThan(31_000);
    expect(output.startsWith("1\n2\n3\n")).toBe(true);
    expect(output.endsWith("99999\n100000\n")).toBe(true);
    const dropped = /output truncated: (\d+) bytes omitted/.exec(output);
    expect(dropped).not.toBeNull();
    const total = (await client().bash("seq 1 100000 | wc -c")).output.trim();
    expect(Number(dropped![1])).toBeGreaterThan(Number(total) - 31_000);
  });

  it("kills a timed-out command and everything it started, keeps the shell's state, exit 124", async () => {
    const lumina = client();
    await lumina.bash("export KEPT=yes; cd /home/user");
    const result = await lumina.bash(
      "sleep 7301 & setsid sleep 7302 & (sleep 7303 &); nohup sleep 7304 >/dev/null 2>&1 & disown; echo started; sleep 7305",
      { timeout: 1500 },
    );
    expect(result.exitCode).toBe(124);
    expect(result.killed).toBe(true);
    expect(result.output).toContain("started\n");
    expect(await processesMatching(lumina, "sleep 730")).toBe("");
    expect((await lumina.bash("echo $KEPT; pwd")).output).toBe("yes\n/home/user\n");
  });

  it("interrupts a loop of shell builtins on timeout and keeps the shell", async () => {
    const lumina = client();
    await lumina.bash("export KEPT_TOO=1; spin() { while :; do :; done; }");
    const result = await lumina.bash("spin; echo not-reached", { timeout: 1000 });
    expect(result).toMatchObject({ exitCode: 124, killed: true });
    expect((await lumina.bash("echo $KEPT_TOO")).output).toBe("1\n");
  });

  it("reports a command that ends the shell, then answers from a fresh shell that says so", async () => {
    const lumina = client();
    await lumina.bash("export LOST=1");
    expect(await lumina.bash("echo bye; exit 3")).toMatchObject({ output: "bye\n", exitCode: 3 });
    const next = await lumina.bash('echo "lost=$LOST"');
    expect(next.output).toMatch(/state|reset/i);
    expect(next.output.endsWith("\nlost=\n")).toBe(true);
    expect(next.exitCode).toBe(0);
    const after = await lumina.bash("echo clean");
    expect(after.output).toBe("clean\n");
    expect((await lumina.bash("kill -9 $$")).exitCode).toBe(137);
    expect((await lumina.bash("exec true")).exitCode).toBe(0);
    expect((await lumina.bash("echo works")).output).toMatch(/works\n$/);
  });

  it("runs one session's calls one at a time, in order", async () => {
    const lumina = client();
    await lumina.bash("rm -f /tmp/order");
    const calls = [1, 2, 3, 4, 5].map((n) =>
      lumina.bash(`echo start${n} >> /tmp/order; sleep 0.1; echo end${n} >> /tmp/order`),
    );
    await Promise.all(calls);
    const { output } = await lumina.bash("cat /tmp/order");
    // Never interleaved: each start is followed by its own end (arrival order may vary).
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(10);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i + 1]).toBe(lines[i]!.replace("start", "end"));
    }
    expect(new Set(lines).size).toBe(10);
  });

  it("runs different sessions in parallel", async () => {
    const first = client();
    const second = client();
    // Each waits for the other's file: serialized sessions would deadlock until the timeout.
    const [a, b] = await Promise.all([
      first.bash(
        "touch /tmp/p-a; for i in $(seq 100); do [ -e /tmp/p-b ] && break; sleep 0.1; done; echo a-saw-b",
        { timeout: 30_000 },
      ),
      second.bash(
        "touch /tmp/p-b; for i in $(seq 100); do [ -e /tmp/p-a ] && break; sleep 0.1; done; echo b-saw-a",
        { timeout: 30_000 },
      ),
    ]);
    expect(a).toMatchObject({ output: "a-saw-b\n", exitCode: 0 });
    expect(b).toMatchObject({ output: "b-saw-a\n", exitCode: 0 });
  });

  it("kills the command of an aborted request", async () => {
    const lumina = client();
    const controller = new AbortController();
    const call = lumina.bash("sleep 7401; echo done", {
      timeout: 60_000,
      signal: controller.signal,
    });
    const checker = client(); // Another session: this one's queue is busy with the sleep.
    for (let i = 0; i < 50 && (await processesMatching(checker, "sleep 7401")) === ""; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort(new Error("caller gave up"));
    await expect(call).rejects.toThrow("caller gave up");
    let left = "x";
    for (let i = 0; i < 50 && left !== ""; i++) {
      left = await processesMatching(checker, "sleep 7401");
      if (left) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(left).toBe("");
  });
});
