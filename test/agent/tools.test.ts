import { toJsonSchema } from "@valibot/to-json-schema";
import { beforeAll, describe, expect, test } from "vitest";
import {
  formatToolFailure,
  type LuminaTools,
  makeTools,
  runTool,
  ToolInputError,
} from "../../src/agent-tools/index.ts";
import { isToolError } from "../../src/index.ts";
import { useSandbox } from "./sandbox.ts";

const names = ["Read", "Write", "Edit", "Glob", "Grep", "Bash", "BashOutput", "KillBash"];
const fixture = useSandbox();
let tools: LuminaTools;
beforeAll(() => {
  tools = makeTools(fixture.client);
});

describe("the tool definitions", () => {
  test("are the eight tools, each named as its key", () => {
    expect(Object.keys(tools)).toEqual(names);
    for (const [key, tool] of Object.entries(tools)) expect(tool.name).toBe(key);
  });

  test("publish the JSON Schema that @valibot/to-json-schema derives from the valibot schema", () => {
    for (const tool of Object.values(tools)) {
      const { $schema, ...converted } = toJsonSchema(tool.inputSchema);
      expect($schema).toBe("http://json-schema.org/draft-07/schema#");
      expect(tool.jsonSchema).toEqual(converted);
      expect(tool.jsonSchema.additionalProperties).toBe(false);
    }
  });

  test("use the Python SDK's snake_case parameter names", () => {
    expect(Object.keys(tools.Edit.jsonSchema.properties)).toEqual([
      "file_path",
      "old_string",
      "new_string",
      "replace_all",
    ]);
    expect(tools.Edit.jsonSchema.required).toEqual(["file_path", "old_string", "new_string"]);
    expect(Object.keys(tools.BashOutput.jsonSchema.properties)).toContain("bash_id");
    expect(Object.keys(tools.KillBash.jsonSchema.properties)).toEqual(["shell_id"]);
    expect(tools.Bash.jsonSchema.properties["timeout"]).toMatchObject({ maximum: 600_000 });
  });

  test("tell the model about absolute paths, reading first, unique matches and background commands", () => {
    expect(tools.Write.description).toMatch(/absolute/);
    expect(tools.Write.description).toMatch(/Read first|read with Read first/);
    expect(tools.Edit.description).toMatch(/replace_all/);
    expect(tools.Bash.description).toMatch(/600000/);
    expect(tools.Bash.description).toMatch(/BashOutput/);
    expect(tools.Bash.description).toMatch(/KillBash/);
  });

  test("are Standard Schemas", async () => {
    const result = await tools.Read.inputSchema["~standard"].validate({ file_path: "/x" });
    expect(result).toMatchObject({ value: { file_path: "/x" } });
    expect(result).not.toHaveProperty("issues");
  });
});

describe("invalid input from a model", () => {
  test("rejects with a ToolInputError naming the field", async () => {
    const error = await tools.Write.execute({
      file_path: "/home/user/a",
      content: 42,
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect(error).toMatchObject({ field: "content", tool: "Write", code: "invalid_input" });
    expect((error as Error).message).toMatch(/^Invalid input for Write: content: /);
  });

  test("names a missing field, an unknown field, and an out-of-range timeout", async () => {
    await expect(tools.Read.execute({} as never)).rejects.toThrow(
      /file_path: required field is missing/,
    );
    await expect(tools.Glob.execute({ pattern: "*", dir: "/" } as never)).rejects.toMatchObject({
      field: "dir",
    });
    await expect(tools.Bash.execute({ command: "true", timeout: 900_000 })).rejects.toMatchObject({
      field: "timeout",
    });
  });

  test("treats null as an absent optional field, as OpenAI models send it", async () => {
    const result = await tools.Bash.execute({ command: "echo ok", timeout: null } as never);
    expect(result.output).toBe("ok\n");
  });
});

describe("executing against the real server", () => {
  test("Write, Read and Edit return the wire's snake_case fields", async () => {
    const file_path = "/home/user/notes/todo.txt";
    expect(await tools.Write.execute({ file_path, content: "one\ntwo\n" })).toEqual({
      message: "ok",
      bytes_written: 8,
      file_path,
    });
    expect(await tools.Read.execute({ file_path })).toEqual({
      type: "text",
      content: "   1\tone\n   2\ttwo\n",
      total_lines: 2,
      lines_returned: 2,
    });
    expect(await tools.Edit.execute({ file_path, old_string: "two", new_string: "2" })).toEqual({
      message: "ok",
      replacements: 1,
      file_path,
    });
  });

  test("Glob and Grep in each output mode", async () => {
    await tools.Write.execute({ file_path: "/home/user/src/a.py", content: "import os\nx = 1\n" });
    const glob = await tools.Glob.execute({ pattern: "**/*.py", path: "/home/user/src" });
    expect(glob).toEqual({
      matches: ["/home/user/src/a.py"],
      count: 1,
      search_path: "/home/user/src",
      truncated: false,
    });
    const path = "/home/user/src";
    expect(await tools.Grep.execute({ pattern: "import", path })).toEqual({
      mode: "files_with_matches",
      files: ["/home/user/src/a.py"],
      count: 1,
    });
    expect(
      await tools.Grep.execute({ pattern: "x", path, output_mode: "content", line_numbers: true }),
    ).toEqual({
      mode: "content",
      matches: [
        {
          file: "/home/user/src/a.py",
          line_number: 2,
          line: "x = 1",
          before_context: [],
          after_context: [],
        },
      ],
      total_matches: 1,
    });
    expect(await tools.Grep.execute({ pattern: "o", path, output_mode: "count" })).toEqual({
      mode: "count",
      counts: [{ file: "/home/user/src/a.py", count: 1 }],
      total: 1,
    });
  });

  test("Bash tells the model when the output cap cut the middle", async () => {
    const small = await tools.Bash.execute({ command: "echo hi" });
    expect(small).toEqual({
      output: "hi\n",
      exit_code: 0,
      killed: false,
      truncated: false,
      shell_id: "",
    });
    const large = await tools.Bash.execute({ command: "seq 1 100000" });
    expect(large).toMatchObject({ exit_code: 0, truncated: true });
    expect(large.output).toMatch(/output truncated: \d+ bytes omitted/);
  });

  test("Grep tells the model when a bound cut the search short, in every mode", async () => {
    const cut = { truncated: true } as const;
    const answers = {
      files_with_matches: { mode: "files_with_matches", files: ["/a"], count: 1, ...cut },
      content: { mode: "content", matches: [], totalMatches: 0, ...cut },
      count: { mode: "count", counts: [], total: 0, ...cut },
    } as const;
    // Only grep is called; the bounds that set `truncated` are pinned in test/server.
    const client = {
      grep: async (_: string, options?: { outputMode?: keyof typeof answers }) =>
        answers[options?.outputMode ?? "files_with_matches"],
    } as unknown as Parameters<typeof makeTools>[0];
    const grep = makeTools(client).Grep;
    await expect(grep.execute({ pattern: "a" })).resolves.toEqual({
      mode: "files_with_matches",
      files: ["/a"],
      count: 1,
      truncated: true,
    });
    await expect(grep.execute({ pattern: "a", output_mode: "content" })).resolves.toEqual({
      mode: "content",
      matches: [],
      total_matches: 0,
      truncated: true,
    });
    await expect(grep.execute({ pattern: "a", output_mode: "count" })).resolves.toEqual({
      mode: "count",
      counts: [],
      total: 0,
      truncated: true,
    });
  });

  test("Bash in the background, BashOutput and KillBash", async () => {
    const started = await tools.Bash.execute({
      command: "echo first; sleep 30",
      run_in_background: true,
    });
    expect(started).toMatchObject({ output: "", exit_code: 0, killed: false, truncated: false });
    expect(started.shell_id).toMatch(/^bash_[0-9a-f]+$/);
    const polled = await tools.BashOutput.execute({ bash_id: started.shell_id, wait_ms: 5000 });
    expect(polled).toEqual({ output: "first\n", status: "running", exit_code: null, cursor: 6 });
    const killed = await tools.KillBash.execute({ shell_id: started.shell_id });
    expect(killed).toMatchObject({ shell_id: started.shell_id, status: "killed" });
  });

  test("a ToolError passes through execute, and runTool turns it into text the model can act on", async () => {
    const file_path = "/home/user/existing.txt";
    await tools.Write.execute({ file_path, content: "v1\n" });
    const error = await tools.Write.execute({ file_path, content: "v2\n" }).catch(
      (e: unknown) => e,
    );
    expect(isToolError(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 409, code: "not_read" });
    const outcome = await runTool(tools, "Write", { file_path, content: "v2\n" });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.text).toMatch(
      /^Error not_read \(409\): .+\nWhat to do: Read the file/,
    );
  });

  test("runTool reports an unknown tool by listing the real ones", async () => {
    const outcome = await runTool(tools, "Delete", {});
    expect(!outcome.ok && outcome.text).toMatch(/no tool named "Delete".*Read, Write/);
    expect(formatToolFailure(new Error("boom"))).toBe(
      "Error Error: boom\nWhat to do: Check the arguments, then retry or try another approach.",
    );
  });
});
