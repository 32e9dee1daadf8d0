/** read, write and edit: wire-shaped bodies in, wire-shaped answers out. Owned by the file tools. */

import { ServerError } from "../errors.ts";
import type { ToolBody } from "./bodies.ts";
import type { ToolContext } from "./context.ts";
import { pdfPages } from "./pdf.ts";
import { checkToolPath } from "./tool-path.ts";

/** The validated body of `read` (its request schema's output). */
export type ReadBody = ToolBody<"read">;
/** The validated body of `write` (its request schema's output). */
export type WriteBody = ToolBody<"write">;
/** The validated body of `edit` (its request schema's output). */
export type EditBody = ToolBody<"edit">;

export type ReadAnswer =
  | { type: "text"; content: string; total_lines: number; lines_returned: number }
  | { type: "image"; image: string; mime_type: string; file_size: number }
  | { type: "pdf"; pages: { page_number: number; text: string }[]; total_pages: number };

/** Reads a file (text with line numbers, image as base64, PDF as text per page) and records the read. */
export async function readFile(ctx: ToolContext, body: ReadBody): Promise<ReadAnswer> {
  const path = checkToolPath(body.file_path);
  const params: { path: string; offset?: number; limit?: number } = { path };
  if (body.offset !== undefined) params.offset = body.offset;
  if (body.limit !== undefined) params.limit = body.limit;
  const result = await ctx.runtime.call("file_read", params, ctx.signal);
  let answer: ReadAnswer;
  if (result.kind === "text") {
    answer = {
      type: "text",
      content: result.content,
      total_lines: result.totalLines,
      lines_returned: result.linesReturned,
    };
  } else if (result.kind === "image") {
    answer = {
      type: "image",
      image: result.base64,
      mime_type: result.mimeType,
      file_size: result.size,
    };
  } else {
    const pages = await pdfPages(Buffer.from(result.base64, "base64"), path, ctx.user, ctx.signal);
    answer = { type: "pdf", pages, total_pages: pages.length };
  }
  // Recorded only once the answer is certain: a PDF that fails to parse is not "read".
  ctx.reads.set(ctx.sessionKey, path, result.stamp);
  return answer;
}

/** Writes a file atomically, enforcing read-before-write. */
export async function writeFile(
  ctx: ToolContext,
  body: WriteBody,
): Promise<{ message: "ok"; bytes_written: number; file_path: string }> {
  const path = checkToolPath(body.file_path);
  const record = ctx.reads.get(ctx.sessionKey, path);
  const result = await ctx.runtime.call(
    "file_write",
    { path, content: body.content, expect: record ?? null },
    ctx.signal,
  );
  // A brand-new file gets no record (the contract's rule); a file the session had read does.
  if (record || !result.created) ctx.reads.set(ctx.sessionKey, path, result.stamp);
  return { message: "ok", bytes_written: result.bytesWritten, file_path: path };
}

/** Replaces an exact string in a file atomically, enforcing read-before-write. */
export async function editFile(
  ctx: ToolContext,
  body: EditBody,
): Promise<{ message: "ok"; replacements: number; file_path: string }> {
  const path = checkToolPath(body.file_path);
  if (body.old_string === body.new_string) {
    throw new ServerError("no_change", "old_string and new_string are the same; nothing to change");
  }
  if (body.old_string === "") {
    throw new ServerError(
      "invalid_request",
      "old_string must not be empty; to create a file use write",
    );
  }
  const record = ctx.reads.get(ctx.sessionKey, path);
  const result = await ctx.runtime.call(
    "file_edit",
    {
      path,
      oldString: body.old_string,
      newString: body.new_string,
      replaceAll: body.replace_all ?? false,
      expect: record ?? null,
    },
    ctx.signal,
  );
  ctx.reads.set(ctx.sessionKey, path, result.stamp);
  return { message: "ok", replacements: result.replacements, file_path: path };
}
