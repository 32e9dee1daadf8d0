import { ownFields } from "../internal/options.ts";
import {
  type EditResult,
  type ReadResult,
  toEditResult,
  toReadResult,
  toWriteResult,
  type WriteResult,
} from "../protocol/files.ts";
import { type CallOptions, type Requester, toolCaller } from "../request.ts";

/** The options of `read`. */
export interface ReadOptions extends CallOptions {
  /**
   * The 1-based line to start at.
   * @default 1
   */
  offset?: number | undefined;
  /**
   * The number of lines to return.
   * @default 2000
   */
  limit?: number | undefined;
}

/** The options of `write`: the call options alone. */
export interface WriteOptions extends CallOptions {}

/** The options of `edit`. */
export interface EditOptions extends CallOptions {
  /**
   * Whether to replace every occurrence; without it, more than one is a 400 `ambiguous_match`.
   * @default false
   */
  replaceAll?: boolean | undefined;
}

/** The file methods of a client. Paths are absolute. */
export interface FileMethods {
  /**
   * Reads a text file (numbered lines), an image (base64) or a PDF (text per page).
   *
   * @example
   * ```ts
   * const file = await lumina.read("/home/user/main.py");
   * if (file.type === "text") console.log(file.content);
   * ```
   */
  read(filePath: string, options?: ReadOptions): Promise<ReadResult>;
  /** Writes a file; an existing one must have been read by this session first (409 `not_read`). */
  write(filePath: string, content: string, options?: WriteOptions): Promise<WriteResult>;
  /** Replaces `oldString` with `newString` in a file this session has read. */
  edit(
    filePath: string,
    oldString: string,
    newString: string,
    options?: EditOptions,
  ): Promise<EditResult>;
}

/** Creates the file methods over `request`. */
export function createFileMethods(request: Requester, sandbox: string): FileMethods {
  const tool = toolCaller(request, sandbox);
  return {
    read: async (filePath, options = {}) => {
      const body = { filePath, ...ownFields("read", options, ["offset", "limit"]) };
      return tool({ name: "read", body, parse: toReadResult, options, idempotent: true });
    },
    write: async (filePath, content, options = {}) => {
      ownFields("write", options);
      return tool({ name: "write", body: { filePath, content }, parse: toWriteResult, options });
    },
    edit: async (filePath, oldString, newString, options = {}) => {
      const body = {
        filePath,
        oldString,
        newString,
        ...ownFields("edit", options, ["replaceAll"]),
      };
      return tool({ name: "edit", body, parse: toEditResult, options });
    },
  };
}
