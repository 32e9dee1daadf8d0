import { streamAgent } from "../agent/loop.ts";
import type { AgentMessage } from "../agent/messages-api.ts";
import type { AgentOptions, AgentResult } from "../agent/options.ts";
import { renderEvent } from "./render.ts";
import { createSpinner, type Style } from "./style.ts";

/** Where the CLI prints: a stream with `write` and maybe `isTTY`. */
export interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Runs one task with the agent, printing its events as they come and a spinner while the model
 * thinks. Resolves to the run's result.
 */
export async function runTask(
  task: string,
  options: AgentOptions & { history?: readonly AgentMessage[] },
  out: Output,
  style: Style,
): Promise<AgentResult> {
  const spinner = createSpinner(out, style);
  try {
    for await (const event of streamAgent(task, options)) {
      spinner.stop();
      if (event.type === "turn") {
        spinner.start("thinking…");
      } else if (event.type === "done") {
        return event.result;
      } else {
        const line = renderEvent(event, style);
        if (line) out.write(`${line}\n`);
      }
    }
  } finally {
    spinner.stop();
  }
  throw new Error("The agent stopped without a result");
}
