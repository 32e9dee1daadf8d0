import { execFile } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  lastToolResults,
  startAnthropicReplay,
  text,
  toolUse,
} from "../support/anthropic-replay.ts";
import { root, runtimes } from "./cli.ts";
import { useSandbox } from "./sandbox.ts";

function lumina(runtime: keyof typeof runtimes, args: string[], env: Record<string, string>) {
  const [command, ...prefix] = runtimes[runtime]!;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      command!,
      [...prefix, "src/cli/main.ts", ...args],
      {
        cwd: root,
        env: {
          PATH: process.env["PATH"] ?? "",
          HOME: process.env["HOME"] ?? "/tmp",
          NO_COLOR: "1",
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

const fixture = useSandbox();

describe.each(Object.keys(runtimes) as (keyof typeof runtimes)[])(
  "lumina agent on %s",
  (runtime) => {
    test("a missing required variable is named in a one-line error, exit code 2", async () => {
      const { server } = fixture;
      const result = await lumina(runtime, ["agent", "do something"], {
        LUMINA_TOKEN: server.token,
        ANTHROPIC_API_KEY: "sk-ant-test",
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        "lumina: LUMINA_NAME is not set: export LUMINA_NAME=… and run again\n",
      );
    });

    test("runs a task in the sandbox through the Messages API and exits 0", async () => {
      const { server, client } = fixture;
      const file_path = `/home/user/${runtime}.txt`;
      const model = await startAnthropicReplay([
        {
          check: (request) => expect(request.model).toBe("claude-test-model"),
          content: [
            text("Writing."),
            toolUse("Write", { file_path, content: `made by ${runtime}\n` }),
          ],
        },
        {
          check: (request) => expect(lastToolResults(request)[0]).not.toHaveProperty("is_error"),
          content: [toolUse("done", { message: `Wrote ${file_path}.` })],
        },
      ]);
      try {
        const result = await lumina(runtime, ["agent", `Write ${file_path}`], {
          LUMINA_URL: server.url,
          LUMINA_TOKEN: server.token,
          LUMINA_NAME: client.sandbox,
          ANTHROPIC_API_KEY: "sk-ant-test",
          ANTHROPIC_BASE_URL: model.url,
          AGENT_MODEL: "claude-test-model",
        });
        expect(model.failures).toEqual([]);
        expect(result.stderr).toBe("");
        expect(result.stdout).toContain(`● Write(file_path="${file_path}"`);
        expect(result.stdout).toContain(`Done: Wrote ${file_path}.`);
        expect(result.code).toBe(0);
        expect(await client.read(file_path)).toMatchObject({
          content: `   1\tmade by ${runtime}\n`,
        });
      } finally {
        await model.close();
      }
    });
  },
);
