import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** The result of `upload`. */
export interface UploadResult {
  /** The file written. */
  filePath: string;
  /** The number of bytes written. */
  bytesWritten: number;
}

/** The result of `uploadArchive`. */
export interface ArchiveResult {
  /** The directory extracted into. */
  dirPath: string;
  /** The number of entries extracted that are not directories. */
  files: number;
  /** The total size of the regular files extracted, in bytes. */
  bytes: number;
}

const upload = v.object({ file_path: v.string(), bytes_written: v.number() });
const archive = v.object({ dir_path: v.string(), files: v.number(), bytes: v.number() });

/** The answer schemas of the upload endpoints (the wire's single definition). */
export const transferAnswers: Readonly<Record<"upload" | "archive", v.GenericSchema>> = {
  upload,
  archive,
};

/** Validates and maps the answer of `PUT …/files`. */
export function toUploadResult(body: unknown): UploadResult {
  return parseAnswer<UploadResult, typeof upload>(upload, body, "upload");
}

/** Validates and maps the answer of `PUT …/archive`. */
export function toArchiveResult(body: unknown): ArchiveResult {
  return parseAnswer<ArchiveResult, typeof archive>(archive, body, "uploadArchive");
}
