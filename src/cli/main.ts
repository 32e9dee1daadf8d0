#!/usr/bin/env node
// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";
import { agent } from "./agent.ts";
import { chat } from "./chat.ts";
import { UsageError } from "./env.ts";

const USAGE = `Usage: lumina <command>

  lumina chat            chat with an agent in a temporary sandbox
  lumina agent "<task>"  run one task in the sandbox LUMINA_NAME
  lumina mcp             serve the sandbox tools over MCP (stdio)

Environment: LUMINA_URL (or LUMINA_HOST for chat), LUMINA_TOKEN, LUMINA_NAME,
LUMINA_SANDBOX_NAME, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, AGENT_MODEL.
`;

/** Runs the `lumina` command line and resolves to its exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "chat":
        return await chat();
      case "agent":
        return await agent(rest);
      case "mcp": {
        // Loaded on demand: @modelcontextprotocol/sdk is an optional peer that chat and agent do not need.
        const { mcp } = await import("./mcp.ts").catch((error: unknown) => {
          throw String(error).includes("@modelcontextprotocol/sdk")
            ? new Error(
                "lumina mcp needs @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk zod",
              )
            : error;
        });
        return await mcp();
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"; try lumina --help`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lumina: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
