// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";
import { createClient } from "../client.ts";
import { modelEnv, optionalEnv, requireEnv, UsageError } from "./env.ts";
import { runTask } from "./session.ts";
import { colorEnabled, createStyle } from "./style.ts";

/**
 * `lumina agent "<task>"`: runs one task in the sandbox LUMINA_NAME and prints what the agent
 * does. Exit code 0 when the agent finished, 1 when it stopped early (turn limit, refusal).
 */
export async function agent(args: readonly string[]): Promise<number> {
  const task = args.join(" ").trim();
  if (task === "") throw new UsageError('no task given: lumina agent "<task>"');
  const baseUrl = optionalEnv("LUMINA_URL") ?? "http://localhost:8080";
  const token = requireEnv("LUMINA_TOKEN");
  const sandbox = requireEnv("LUMINA_NAME");
  const apiKey = requireEnv("ANTHROPIC_API_KEY");
  const style = createStyle(colorEnabled(process.stdout));
  const client = createClient({ baseUrl, token, sandbox });
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("Interrupted"));
  process.once("SIGINT", interrupt);
  try {
    const result = await runTask(
      task,
      { client, apiKey, requireDone: true, signal: controller.signal, ...modelEnv() },
      process.stdout,
      style,
    );
    if (result.stopReason === "done")
      process.stdout.write(`\n${style.bold("Done:")} ${result.text}\n`);
    else process.stdout.write(`\n${style.yellow(`Stopped: ${result.stopReason}`)}\n`);
    return result.stopReason === "done" || result.stopReason === "end_turn" ? 0 : 1;
  } catch (error) {
    if (controller.signal.aborted) return 130;
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    await client.close();
  }
}
