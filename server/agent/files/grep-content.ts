/**
 * Builds grep content matches from ripgrep's `--json` stream: each match gets its own before
 * and after context (repeated when matches overlap), its line number only if asked for.
 */
import type { AgentGrepMatch, AgentGrepParams } from "../../shared/files-protocol.ts";

/** The most matches one answer carries; `totalMatches` still counts them all. */
const maxMatches = 10_000;
/** The most characters of lines and context one answer carries (context repeats per match). */
const maxAnswerChars = 16 * 1024 * 1024;
const maxLineChars = 2000;
const lineMarker = " … [line truncated: longer than 2000 characters]";

interface RgText {
  text?: string;
  bytes?: string;
}
interface RgLine {
  type: "begin" | "match" | "context" | "end" | "summary";
  data: { path?: RgText; lines?: RgText; line_number?: number | null };
}

function textOf(value: RgText | undefined): string {
  if (!value) return "";
  return value.text ?? Buffer.from(value.bytes ?? "", "base64").toString("utf8");
}

function cutLine(line: string): string {
  return line.length > maxLineChars ? line.slice(0, maxLineChars) + lineMarker : line;
}

/** Turns ripgrep's JSON output into wire-shaped matches, files in path order. */
export function collectContentMatches(
  stdout: Buffer,
  params: AgentGrepParams,
  truncated: boolean,
  absolute: (path: string) => string,
): { matches: AgentGrepMatch[]; totalMatches: number; cut: boolean } {
  const byFile = new Map<string, AgentGrepMatch[]>();
  let lines = new Map<number, string>();
  let pending: { first: number; last: number; text: string }[] = [];
  let total = 0;
  let size = 0;
  let full = false;
  const flush = (file: string) => {
    const out = byFile.get(file) ?? [];
    for (const match of pending) {
      if (full) break;
      const before: string[] = [];
      for (let n = Math.max(1, match.first - params.before); n < match.first; n++) {
        const line = lines.get(n);
        if (line !== undefined) before.push(cutLine(line));
      }
      const after: string[] = [];
      for (let n = match.last + 1; n <= match.last + params.after; n++) {
        const line = lines.get(n);
        if (line !== undefined) after.push(cutLine(line));
      }
      size += match.text.length;
      for (const line of before) size += line.length;
      for (const line of after) size += line.length;
      if (size > maxAnswerChars) {
        full = true;
        break;
      }
      out.push({
        file,
        line_number: params.lineNumbers ? match.first : null,
        line: match.text,
        before_context: before,
        after_context: after,
      });
    }
    byFile.set(file, out);
    pending = [];
    lines = new Map();
  };
  const text = stdout.toString("utf8");
  let file = "";
  let from = 0;
  while (from < text.length) {
    let end = text.indexOf("\n", from);
    if (end === -1) {
      if (truncated) break; // A partial JSON line from a cut search.
      end = text.length;
    }
    const raw = text.slice(from, end);
    from = end + 1;
    if (!raw) continue;
    const event = JSON.parse(raw) as RgLine;
    if (event.type === "begin") {
      file = absolute(textOf(event.data.path));
    } else if (event.type === "match" || event.type === "context") {
      const first = event.data.line_number ?? 0;
      const body = textOf(event.data.lines).replace(/\r?\n$/, "");
      const split = body.split("\n");
      for (const [i, line] of split.entries()) lines.set(first + i, line.replace(/\r$/, ""));
      if (event.type === "match") {
        total++;
        if (total <= maxMatches) {
          pending.push({
            first,
            last: first + split.length - 1,
            text: split.map(cutLine).join("\n"),
          });
        }
      }
    } else if (event.type === "end") {
      flush(file);
    }
  }
  if (pending.length > 0) flush(file);
  const files = [...byFile.keys()].sort();
  const matches = files.flatMap((name) => byFile.get(name)!);
  return { matches, totalMatches: total, cut: full || total > maxMatches };
}
