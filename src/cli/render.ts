import type { AgentEvent } from "../agent/options.ts";
import type { Style } from "./style.ts";

const MAX_VALUE = 60;
const MAX_LINES = 4;

/** Formats an agent event as terminal lines (without the trailing newline), or `""` for none. */
export function renderEvent(event: AgentEvent, style: Style): string {
  // The done tool's message is printed as the agent's answer; its call would only repeat it.
  if ((event.type === "tool_call" || event.type === "tool_result") && event.name === "done")
    return "";
  switch (event.type) {
    case "text":
      return `\n${style.bold(style.blue("agent >"))} ${event.text.trim()}\n`;
    case "tool_call":
      return `  ${style.cyan("●")} ${style.bold(style.cyan(event.name))}${style.dim(`(${formatArgs(event.input)})`)}`;
    case "tool_result":
      return event.isError
        ? indent(`${style.red("✗")} ${style.red(clip(event.error ?? ""))}`)
        : indent(`${style.green("→")} ${clip(summarize(event.name, event.output))}`);
    default:
      return "";
  }
}

function formatArgs(input: unknown): string {
  if (typeof input !== "object" || input === null) return JSON.stringify(input) ?? "";
  return Object.entries(input)
    .map(([key, value]) => {
      const json = JSON.stringify(value) ?? "";
      return `${key}=${json.length > MAX_VALUE ? `${json.slice(0, MAX_VALUE - 1)}…"` : json}`;
    })
    .join(", ");
}

/** The fields of the tools' results that the summaries show. */
interface ResultFields {
  type?: string;
  output?: string;
  exit_code?: number | null;
  killed?: boolean;
  shell_id?: string;
  status?: string;
  lines_returned?: number;
  total_lines?: number;
  bytes_written?: number;
  file_path?: string;
  replacements?: number;
  count?: number;
}

function summarize(name: string, output: unknown): string {
  const o = (output ?? {}) as ResultFields;
  switch (name) {
    case "Bash":
      if (o.shell_id) return `started in the background as ${o.shell_id}`;
      return `exit ${o.exit_code}${o.killed ? " (killed)" : ""}${o.output ? `\n${o.output}` : ""}`;
    case "BashOutput":
      return `${o.status}${o.output ? `\n${o.output}` : ""}`;
    case "Read":
      return o.type === "text" ? `${o.lines_returned} of ${o.total_lines} lines` : `${o.type} file`;
    case "Write":
      return `${o.bytes_written} bytes written to ${o.file_path}`;
    case "Edit":
      return `${o.replacements} replacement(s) in ${o.file_path}`;
    case "Glob":
      return `${o.count} file(s)`;
    default:
      return typeof output === "string" ? output : (JSON.stringify(output) ?? "");
  }
}

function clip(text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const kept = lines
    .slice(0, MAX_LINES)
    .map((line) => (line.length > 160 ? `${line.slice(0, 159)}…` : line));
  if (lines.length > MAX_LINES) kept.push(`… (${lines.length - MAX_LINES} more lines)`);
  return kept.join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}
