import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** A text file's lines, numbered as `"   1\timport os\n"`. */
export interface TextFileResult {
  type: "text";
  /** The lines returned, each prefixed with its 1-based number and a tab. */
  content: string;
  /** The number of lines in the whole file. */
  totalLines: number;
  /** The number of lines in `content`. */
  linesReturned: number;
}

/** An image file (png, jpeg, gif or webp). */
export interface ImageFileResult {
  type: "image";
  /** The file's bytes, base64-encoded. */
  image: string;
  /** Its MIME type, such as `"image/png"`. */
  mimeType: string;
  /** Its size in bytes. */
  fileSize: number;
}

/** One page of a PDF file. */
export interface PdfPage {
  /** The 1-based page number. */
  pageNumber: number;
  /** The page's text. */
  text: string;
}

/** A PDF file, as text per page. */
export interface PdfFileResult {
  type: "pdf";
  /** The pages. */
  pages: PdfPage[];
  /** The number of pages in the file. */
  totalPages: number;
}

/** The result of `read`, discriminated by `type`. */
export type ReadResult = TextFileResult | ImageFileResult | PdfFileResult;

/** The result of `write`. */
export interface WriteResult {
  /** `"ok"`. */
  message: string;
  /** The number of UTF-8 bytes written. */
  bytesWritten: number;
  /** The file written. */
  filePath: string;
}

/** The result of `edit`. */
export interface EditResult {
  /** `"ok"`. */
  message: string;
  /** The number of occurrences replaced. */
  replacements: number;
  /** The file edited. */
  filePath: string;
}

const text = v.object({
  type: v.picklist(["text"]),
  content: v.string(),
  total_lines: v.number(),
  lines_returned: v.number(),
});
const image = v.object({
  type: v.picklist(["image"]),
  image: v.string(),
  mime_type: v.string(),
  file_size: v.number(),
});
const pdf = v.object({
  type: v.picklist(["pdf"]),
  pages: v.array(v.object({ page_number: v.number(), text: v.string() })),
  total_pages: v.number(),
});
// The discriminator alone: an answer of no known type fails on it, with the variant's message.
const readType = v.object({ type: v.picklist(["text", "image", "pdf"]) });
const write = v.object({ message: v.string(), bytes_written: v.number(), file_path: v.string() });
const edit = v.object({ message: v.string(), replacements: v.number(), file_path: v.string() });

/** The answer schemas of the file tools, by tool name (the wire's single definition). */
export const fileAnswers: Readonly<Record<"read" | "write" | "edit", v.GenericSchema>> = {
  // Pure: `toReadResult` picks the type's own schema, so a bundler may drop the variant.
  read: /* @__PURE__ */ v.variant("type", [text, image, pdf]),
  write,
  edit,
};

/**
 * Validates and maps the answer of the `read` tool, as `fileAnswers.read` (a `v.variant` on `type`)
 * would: by the schema of its `type`, else failing on `type` itself.
 */
export function toReadResult(body: unknown): ReadResult {
  const type = (body as { type?: unknown } | null | undefined)?.type;
  if (type === "image") return parseAnswer<ImageFileResult, typeof image>(image, body, "read");
  if (type === "pdf") return parseAnswer<PdfFileResult, typeof pdf>(pdf, body, "read");
  if (type !== "text") {
    // Always throws; `{ type }` so that a missing `type` is reported as the wrong value it is.
    const discriminator = typeof body === "object" && body ? { type } : body;
    parseAnswer<{ type: ReadResult["type"] }, typeof readType>(readType, discriminator, "read");
  }
  return parseAnswer<TextFileResult, typeof text>(text, body, "read");
}

/** Validates and maps the answer of the `write` tool. */
export function toWriteResult(body: unknown): WriteResult {
  return parseAnswer<WriteResult, typeof write>(write, body, "write");
}

/** Validates and maps the answer of the `edit` tool. */
export function toEditResult(body: unknown): EditResult {
  return parseAnswer<EditResult, typeof edit>(edit, body, "edit");
}
