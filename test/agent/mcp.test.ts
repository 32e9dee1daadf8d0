import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, test } from "vitest";
import { createClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { luminaCommand, root } from "./cli.ts";

const server = useTestServer();

async function connect(
  env: Record<string, string>,
): Promise<{ mcp: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    ...luminaCommand("mcp"),
    cwd: root,
    env: {
      PATH: process.env["PATH"] ?? "",
      LUMINA_URL: server().url,
      LUMINA_TOKEN: server().token,
      ...env,
    },
    stderr: "pipe",
  });
  const mcp = new Client({ name: "lumina-test", version: "1.0.0" });
  await mcp.connect(transport);
  return { mcp, transport };
}

function textOf(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const [first] = result.content as { type: string; text: string }[];
  return first?.text ?? "";
}

describe("lumina mcp over stdio, driven by the MCP SDK's own client", () => {
  test("without LUMINA_NAME: lists the 8 tools, runs Bash and Read, destroys its sandbox on close", async () => {
    const admin = createClient({ baseUrl: server().url, token: server().token, sandbox: "unused" });
    const { mcp } = await connect({});
    try {
      const { tools } = await mcp.listTools();
      expect(tools.map((tool) => tool.name)).toEqual([
        ...["Read", "Write", "Edit", "Glob", "Grep", "Bash", "BashOutput", "KillBash"],
      ]);
      expect(tools[0]?.inputSchema).toMatchObject({ type: "object", additionalProperties: false });

      const temporary = (await admin.listSandboxes()).map((sandbox) => sandbox.name);
      expect(temporary).toEqual([expect.stringMatching(/^mcp-[0-9a-f]{8}$/)]);

      const bash = await mcp.callTool({
        name: "Bash",
        arguments: {
          command: "printf 'line one\\nline two\\n' > /home/user/mcp.txt && echo written",
        },
      });
      expect(bash.isError).toBeFalsy();
      expect(JSON.parse(textOf(bash))).toEqual({
        output: "written\n",
        exit_code: 0,
        killed: false,
        truncated: false,
        shell_id: "",
      });

      const read = await mcp.callTool({
        name: "Read",
        arguments: { file_path: "/home/user/mcp.txt" },
      });
      expect(JSON.parse(textOf(read))).toMatchObject({
        type: "text",
        content: "   1\tline one\n   2\tline two\n",
      });

      const failed = await mcp.callTool({
        name: "Read",
        arguments: { file_path: "/home/user/missing.txt" },
      });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toMatch(/^Error not_found \(404\): .*missing\.txt/);

      const invalid = await mcp.callTool({
        name: "Bash",
        arguments: { command: "true", timeout: 0 },
      });
      expect(invalid.isError).toBe(true);
      expect(textOf(invalid)).toMatch(/invalid_input.*timeout/);
    } finally {
      await mcp.close();
    }
    expect(await admin.listSandboxes()).toEqual([]);
  });

  test("with LUMINA_NAME: works in that sandbox and keeps it", async () => {
    const sandbox = randomSandboxName("mcp-named");
    const owner = createClient({ baseUrl: server().url, token: server().token, sandbox });
    await owner.createSandbox();
    await owner.write("/home/user/kept.txt", "kept\n");
    const { mcp } = await connect({ LUMINA_NAME: sandbox });
    try {
      const read = await mcp.callTool({
        name: "Read",
        arguments: { file_path: "/home/user/kept.txt" },
      });
      expect(JSON.parse(textOf(read))).toMatchObject({ content: "   1\tkept\n" });
    } finally {
      await mcp.close();
    }
    expect((await owner.getSandbox()).name).toBe(sandbox);
    await owner.destroySandbox();
  });
});
