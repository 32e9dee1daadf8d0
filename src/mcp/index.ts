/**
 * An MCP server over the Lumina tools, for Claude Desktop, Claude Code, Cursor and any other MCP
 * client. Needs the optional peer dependency `@modelcontextprotocol/sdk`. From a terminal, the
 * `lumina mcp` command serves it over stdio.
 *
 * @module
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { LuminaToolsClient } from "../agent-tools/client.ts";
import { type CallableTool, outputText, runTool } from "../agent-tools/run.ts";
import { makeTools } from "../agent-tools/tools.ts";

/** The options of `createMcpServer`. */
export interface McpServerOptions {
  /**
   * The name the server reports to MCP clients.
   * @default "lumina-sandbox"
   */
  name?: string;
  /**
   * The version the server reports to MCP clients.
   * @default "0.1.0"
   */
  version?: string;
  /** Extra tools to offer besides the eight Lumina tools (same shape as theirs). */
  tools?: Readonly<Record<string, CallableTool>>;
}

/**
 * Creates an MCP server that offers the eight Lumina tools (Read, Write, Edit, Glob, Grep, Bash,
 * BashOutput, KillBash) over a client's sandbox. Connect it to any MCP transport. A failed call
 * answers with `isError: true` and a text naming the error code and what to do.
 *
 * @param client The client whose sandbox the tools act on.
 * @returns The server, not yet connected.
 *
 * @example
 * ```ts
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * const server = createMcpServer(createClient({ baseUrl, token, sandbox: "dev" }));
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createMcpServer(client: LuminaToolsClient, options: McpServerOptions = {}): Server {
  const tools: Record<string, CallableTool> = { ...makeTools(client), ...options.tools };
  const server = new Server(
    { name: options.name ?? "lumina-sandbox", version: options.version ?? "0.1.0" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.values(tools).map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: tool.jsonSchema,
    })),
  }));
  // Typed by hand: Deno (JSR) cannot infer them through the SDK's zod generics.
  server.setRequestHandler(
    CallToolRequestSchema,
    async (request: CallToolRequest, extra: { signal: AbortSignal }) => {
      const { name, arguments: input = {} } = request.params;
      const outcome = await runTool(tools, name, input, { signal: extra.signal });
      if (!outcome.ok) return { content: [{ type: "text", text: outcome.text }], isError: true };
      return toCallToolResult(outcome.output);
    },
  );
  return server;
}

function toCallToolResult(output: unknown): CallToolResult {
  const image = output as { type?: unknown; image?: unknown; mime_type?: unknown };
  if (image?.type === "image" && typeof image.image === "string") {
    const { image: data, ...meta } = output as { image: string; mime_type: string };
    return {
      content: [
        { type: "text", text: JSON.stringify(meta) },
        { type: "image", data, mimeType: meta.mime_type },
      ],
    };
  }
  return { content: [{ type: "text", text: outputText(output) }] };
}
