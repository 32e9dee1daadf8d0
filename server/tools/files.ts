/** read, write and edit: wire-shaped bodies in, wire-shaped answers out. Owned by the file tools. */
import type { ToolContext } from "./context.ts";

export interface ReadBody {
  file_path: string;
  offset?: number;
  limit?: number;
}
export interface WriteBody {
  file_path: string;
  content: string;
}
export interface EditBody {
  file_path: string;
  old_string: string;
  new_string: string;
  replace_all?: boolean;
}

export type ReadAnswer =
  | { type: "text"; content: string; total_lines: number; lines_returned: number }
  | { type: "image"; image: string; mime_type: string; file_size: number }
  | { type: "pdf"; pages: { page_number: number; text: string }[]; total_pages: number };

/** Reads a file (text with line numbers, image as base64, PDF as text per page) and records the read. */
export async function readFile(_ctx: ToolContext, _body: ReadBody): Promise<ReadAnswer> {
  throw new Error("readFile: not implemented yet");
}

/** Writes a file atomically, enforcing read-before-write. */
export async function writeFile(
  _ctx: ToolContext,
  _body: WriteBody,
): Promise<{ message: "ok"; bytes_written: number; file_path: string }> {
  throw new Error("writeFile: not implemented yet");
}

/** Replaces an exact string in a file atomically, enforcing read-before-write. */
export async function editFile(
  _ctx: ToolContext,
  _body: EditBody,
): Promise<{ message: "ok"; replacements: number; file_path: string }> {
  throw new Error("editFile: not implemented yet");
}
