import * as v from "valibot";
import { toToolJsonSchema } from "../agent-tools/json-schema.ts";
import type { CallableTool } from "../agent-tools/run.ts";
import { parseToolInput } from "../agent-tools/tools.ts";

const doneInput = v.strictObject({
  message: v.pipe(v.string(), v.description("A short summary of what you did, for the user.")),
});

/** The `done` tool and the message it was called with, once it has been. */
export interface DoneTool {
  tool: CallableTool;
  message: string | undefined;
}

/** Creates the `done` tool a model calls to end its run with a summary. */
export function createDoneTool(): DoneTool {
  const state: DoneTool = {
    message: undefined,
    tool: {
      name: "done",
      description:
        "Call this when the task is complete, with a short summary for the user. The run ends after this turn's tool calls.",
      jsonSchema: toToolJsonSchema(doneInput),
      execute: async (input: unknown) => {
        state.message = parseToolInput("done", doneInput, input).message;
        return "Task marked as done.";
      },
    },
  };
  return state;
}
