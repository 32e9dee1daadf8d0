// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";
// biome-ignore lint/correctness/noNodejsModules: node:readline/promises is the line editor all three runtimes share.
import { createInterface } from "node:readline/promises";
import type { AgentMessage } from "../agent/messages-api.ts";
import { createClient } from "../client.ts";
import { modelEnv, optionalEnv, randomSuffix, requireEnv } from "./env.ts";
import { runTask } from "./session.ts";
import { colorEnabled, createStyle } from "./style.ts";

/**
 * `lumina chat`: an interactive agent in a temporary sandbox (`chat-<random>`), destroyed on
 * `exit`, Ctrl-D and Ctrl-C; `LUMINA_SANDBOX_NAME` reuses a sandbox and keeps it.
 */
export async function chat(): Promise<number> {
  const baseUrl =
    optionalEnv("LUMINA_HOST") ?? optionalEnv("LUMINA_URL") ?? "http://localhost:8080";
  const token = requireEnv("LUMINA_TOKEN");
  const apiKey = requireEnv("ANTHROPIC_API_KEY");
  const reused = optionalEnv("LUMINA_SANDBOX_NAME");
  const sandbox = reused ?? `chat-${randomSuffix()}`;
  const style = createStyle(colorEnabled(process.stdout));
  const out = process.stdout;
  const client = createClient({ baseUrl, token, sandbox });

  const controller = new AbortController();
  let creating: Promise<unknown> = Promise.resolve();
  let finished: Promise<void> | undefined;
  const finish = (): Promise<void> => {
    finished ??= (async () => {
      controller.abort(new Error("The chat ended"));
      if (!reused) {
        // A Ctrl-C while the sandbox is being created: let it exist first, then destroy it.
        await creating.catch(() => {});
        await client.destroySandbox().catch(() => {});
        out.write(style.dim(`\nSandbox ${sandbox} destroyed.\n`));
      }
      await client.close();
    })();
    return finished;
  };
  const interrupt = () => void finish().then(() => process.exit(130));
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  creating = reused ? client.getSandbox() : client.createSandbox();
  await creating;

  const line = "═".repeat(50);
  out.write(
    `${style.cyan(`╔${line}╗`)}\n${style.cyan("║")}${style.bold("       Lumina Sandbox — Interactive Chat".padEnd(50))}${style.cyan("║")}\n${style.cyan(`╚${line}╝`)}\n\n`,
  );
  out.write(`  Server:  ${baseUrl}\n  Sandbox: ${sandbox}${reused ? " (kept)" : ""}\n\n`);
  out.write(style.dim("Type a task, or exit to leave.\n\n"));

  const rl = createInterface({ input: process.stdin, output: process.stdout });
  rl.on("SIGINT", interrupt);
  const closed = new Promise<null>((resolve) => rl.once("close", () => resolve(null)));
  let history: AgentMessage[] = [];
  for (;;) {
    const task = await Promise.race([rl.question(`${style.bold(style.green("you >"))} `), closed]);
    if (task === null || ["exit", "quit"].includes(task.trim())) break;
    if (task.trim() === "") continue;
    try {
      const result = await runTask(
        task,
        { client, apiKey, history, signal: controller.signal, ...modelEnv() },
        out,
        style,
      );
      history = result.messages;
      if (result.stopReason === "done")
        out.write(`\n${style.bold(style.blue("agent >"))} ${result.text}\n\n`);
      else out.write("\n");
    } catch (error) {
      if (controller.signal.aborted) break;
      out.write(
        `${style.red(`Error: ${error instanceof Error ? error.message : String(error)}`)}\n\n`,
      );
    }
  }
  rl.close();
  await finish();
  return 0;
}
