/**
 * Runs the demo agent on a task in a fresh sandbox, printing its tool calls as they happen.
 *
 *   LUMINA_URL=http://localhost:8080 LUMINA_TOKEN=… ANTHROPIC_API_KEY=… \
 *     npx tsx examples/agent.ts "Write fizzbuzz.py and run it"
 */

import { streamAgent } from "../src/agent/index.ts";
import { launchSandbox } from "../src/index.ts";

const task = process.argv.slice(2).join(" ") || "Write fizzbuzz.py for 1..15 and run it";
const apiKey = process.env["ANTHROPIC_API_KEY"];
const token = process.env["LUMINA_TOKEN"];
if (!apiKey || !token) {
  console.error("Set LUMINA_TOKEN and ANTHROPIC_API_KEY");
  process.exit(2);
}

// Disposing the client destroys the sandbox at the end of the block.
await using client = await launchSandbox({
  baseUrl: process.env["LUMINA_URL"] ?? "http://localhost:8080",
  token,
  sandbox: `example-${Date.now().toString(36)}`,
});

for await (const event of streamAgent(task, { client, apiKey, requireDone: true })) {
  if (event.type === "text") console.log(`agent: ${event.text}`);
  if (event.type === "tool_call") console.log(`  ${event.name} ${JSON.stringify(event.input)}`);
  if (event.type === "tool_result" && event.isError) console.log(`  ! ${event.error}`);
  if (event.type === "done") console.log(`\n${event.result.stopReason}: ${event.result.text}`);
}
