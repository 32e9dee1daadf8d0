// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createClient } from "../client.ts";
import { createMcpServer } from "../mcp/index.ts";
import { optionalEnv, randomSuffix, requireEnv } from "./env.ts";

/**
 * `lumina mcp`: serves the Lumina tools over MCP on stdin/stdout. Works in LUMINA_NAME, or in a
 * temporary sandbox `mcp-<random>` destroyed when the client disconnects or on a signal.
 * Nothing but protocol goes to stdout; notes go to stderr.
 */
export async function mcp(): Promise<number> {
  const baseUrl = optionalEnv("LUMINA_URL") ?? "http://localhost:8080";
  const token = requireEnv("LUMINA_TOKEN");
  const named = optionalEnv("LUMINA_NAME");
  const sandbox = named ?? `mcp-${randomSuffix()}`;
  const client = createClient({ baseUrl, token, sandbox });
  if (!named) {
    await client.createSandbox();
    process.stderr.write(`lumina mcp: created the temporary sandbox ${sandbox}\n`);
  }

  let stopping: Promise<void> | undefined;
  const { promise: stopped, resolve } = withResolvers();
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!named) {
        await client.destroySandbox().catch(() => {});
        process.stderr.write(`lumina mcp: destroyed the temporary sandbox ${sandbox}\n`);
      }
      await client.close();
      resolve();
    })();
    return stopping;
  };
  const server = createMcpServer(client);
  server.onclose = () => void stop();
  process.stdin.once("end", () => void stop());
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
  await server.connect(new StdioServerTransport());
  await stopped;
  return 0;
}

// Promise.withResolvers needs Node 22; the CLI supports Node 20.
function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
