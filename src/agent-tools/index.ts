/**
 * Model-ready Lumina tools: `makeTools(client)` gives the eight sandbox tools (Read, Write, Edit,
 * Glob, Grep, Bash, BashOutput, KillBash) with descriptions written for a model, valibot and
 * JSON Schemas of their snake_case input, and an `execute` that resolves to plain JSON.
 * The adapters for the Vercel AI SDK, Anthropic and OpenAI live in their own subpaths.
 *
 * @module
 */
export type {
  ClientGrepOptions,
  ClientGrepResult,
  ClientReadResult,
  LuminaToolsClient,
  ToolCallOptions,
} from "./client.ts";
export {
  describeToolFailure,
  formatToolFailure,
  isToolInputError,
  type ToolFailure,
  ToolInputError,
} from "./errors.ts";
export { type JsonSchemaProperty, type ToolJsonSchema, toToolJsonSchema } from "./json-schema.ts";
export type {
  BashOutput,
  BashOutputOutput,
  EditOutput,
  GlobOutput,
  GrepOutput,
  KillBashOutput,
  ReadOutput,
  WriteOutput,
} from "./outputs.ts";
export {
  type CallableTool,
  type ObjectJsonSchema,
  outputText,
  runTool,
  type ToolOutcome,
} from "./run.ts";
export {
  type BashInput,
  type BashOutputInput,
  bashInput,
  bashOutputInput,
  type EditInput,
  editInput,
  type GlobInput,
  type GrepInput,
  globInput,
  grepInput,
  type KillBashInput,
  killBashInput,
  type ReadInput,
  readInput,
  type WriteInput,
  writeInput,
} from "./schemas.ts";
export {
  type LuminaTool,
  type LuminaTools,
  makeTools,
  parseToolInput,
  type ToolExecuteOptions,
} from "./tools.ts";
